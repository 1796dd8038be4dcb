//! Timing and size correlation: which of the messages that entered the network recently is the
//! one now leaving it, and who sent it.
//!
//! An *entry* is a hop the adversary sees leaving a user's device (real messages, polls and cover
//! traffic alike: it cannot tell them apart). An *exit* is the first hop of a message at which it
//! learns the recipient side (a node it runs reads the recipient, or it sees the message arrive at
//! a device). For each exit, every entry of the last `window` is a candidate, weighted by the
//! likelihood ratio of being the true entry against background traffic:
//!
//! `LR = f(Δt) / λ × g(size class difference) / h(size class difference)`
//!
//! where `f` is the delay density between a message's entry and its exit, `λ` the rate of entries,
//! `g` the distribution of the size change between entry and exit of the same message and `h` the
//! same for unrelated pairs. With `q` the probability that the true entry is among the candidates
//! at all (the adversary may not watch every entry, or the delay may exceed the window), the
//! posterior of candidate `i` is `q LR_i / (q ΣLR + 1 - q)`, and the rest is spread evenly over all
//! users; per user the candidates' posteriors add up.
//!
//! The adversary is calibrated (Kerckhoffs: it knows the system): `f`, `g`, `h` and `q` are learned
//! online from the true entries of earlier messages, as if from test messages of its own (the
//! traffic-analysis literature gives the adversary the delay distribution; Danezis, "The Traffic
//! Analysis of Continuous-Time Mixes", PET 2004). A message's own truth updates the model only after
//! its distribution is computed. Sizes are compared in classes of 1/32 octave (about 2%); entries
//! are kept per size class, so once `g` is learned only the classes it allows are scanned: the work
//! per exit is the matching entries of one window, never all pairs. Memory is the entries of one
//! window.

use std::collections::VecDeque;

use crate::observe::NodeId;
use crate::observe::entropy::entropy_bits;
use crate::time::{SimDuration, SimTime};
use crate::world::UserId;

/// Size classes per octave.
const CLASSES_PER_OCTAVE: f64 = 32.0;
/// Number of size classes (sizes up to 4 GiB).
const SIZE_CLASSES: usize = 32 * 32 + 1;
/// Delay bins per octave above one millisecond (the bin arithmetic in [`delay_bin`] assumes 4).
const DELAY_BINS_PER_OCTAVE: f64 = 4.0;
/// Exits between two refreshes of the delay density table (the histogram barely moves in between).
const REFRESH_EVERY: u64 = 256;
/// Number of delay bins (bin 0 is below 1 ms; the last ends beyond 100 days).
const DELAY_BINS: usize = 140;
/// Exits whose truth the model has learned from before it trusts itself.
const MIN_CALIBRATION: u64 = 32;
/// Every this many exits, every size class is scanned to keep learning `g` (the outcome is the
/// same: classes `g` has never seen have zero likelihood).
const EXPLORE_EVERY: u64 = 256;
/// Additive smoothing of the delay histogram (a Jeffreys prior per bin).
const DELAY_PRIOR: f64 = 0.5;
/// Bins around a measured delay that share the prior (two bins: half an octave either way).
const DELAY_REACH: usize = 2;

/// The size class of a hop of `bytes`.
#[inline]
pub fn size_class(bytes: u32) -> usize {
    (((bytes as f64 + 1.0).log2() * CLASSES_PER_OCTAVE) as usize).min(SIZE_CLASSES - 1)
}

/// The delay bin of `us` microseconds: 0 below 1 ms, then four bins per octave. Computed from the
/// float's exponent and the top of its mantissa (quarter-octave edges at 2^(1/4), 2^(1/2),
/// 2^(3/4)), not with a logarithm: this runs once per candidate.
#[inline]
fn delay_bin(us: u64) -> usize {
    if us < 1000 {
        return 0;
    }
    let x = us as f64 / 1000.0;
    let bits = x.to_bits();
    let octave = ((bits >> 52) & 0x7FF) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    let quarter = (m >= QUARTER_EDGES[0]) as i64 + (m >= QUARTER_EDGES[1]) as i64 + (m >= QUARTER_EDGES[2]) as i64;
    ((1 + 4 * octave + quarter) as usize).min(DELAY_BINS - 1)
}

/// 2^(1/4), 2^(1/2), 2^(3/4).
const QUARTER_EDGES: [f64; 3] = [1.189_207_115_002_721, std::f64::consts::SQRT_2, 1.681_792_830_507_429];

/// Lower edge of delay bin `b`, microseconds.
fn delay_edge(b: usize) -> f64 {
    if b == 0 { 0.0 } else { 1000.0 * ((b - 1) as f64 / DELAY_BINS_PER_OCTAVE).exp2() }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    time: u64,
    serial: u64,
    addr: NodeId,
}

/// The result of correlating one exit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Entropy of the candidate-sender distribution, bits.
    pub entropy: f64,
    /// The most likely sender and its probability.
    pub top: Option<(UserId, f64)>,
    /// Distinct candidate senders with a likelihood above zero.
    pub candidates: usize,
}

/// One adversary's timing-and-size correlator.
pub struct Correlator {
    window_us: u64,
    sizes: bool,
    users: u32,
    by_class: Vec<VecDeque<Entry>>,
    times: VecDeque<u64>,
    delay: Vec<u64>,
    delay_total: u64,
    density: Vec<f64>,
    density_at: u64,
    support: (u64, u64),
    change: Vec<u64>,
    change_total: u64,
    change_support: Vec<i32>,
    background: Vec<u64>,
    background_total: u64,
    exits: u64,
    present: u64,
    mass: Vec<f64>,
    stamp: Vec<u32>,
    epoch: u32,
    touched: Vec<UserId>,
    masses: Vec<f64>,
    classes: Vec<i32>,
}

impl Correlator {
    /// A correlator over `users` possible senders that matches within `window`, comparing sizes
    /// if `sizes`.
    pub fn new(users: u32, window: SimDuration, sizes: bool) -> Correlator {
        let classes = if sizes { SIZE_CLASSES } else { 1 };
        Correlator {
            window_us: window.0.max(1),
            sizes,
            users,
            by_class: (0..classes).map(|_| VecDeque::new()).collect(),
            times: VecDeque::new(),
            delay: vec![0; DELAY_BINS],
            delay_total: 0,
            density: vec![0.0; DELAY_BINS],
            density_at: u64::MAX,
            support: (0, u64::MAX),
            change: vec![0; 2 * SIZE_CLASSES + 1],
            change_total: 0,
            change_support: Vec::new(),
            background: vec![0; 2 * SIZE_CLASSES + 1],
            background_total: 0,
            exits: 0,
            present: 0,
            mass: vec![0.0; users as usize],
            stamp: vec![0; users as usize],
            epoch: 0,
            touched: Vec::new(),
            masses: Vec::new(),
            classes: Vec::new(),
        }
    }

    /// Records an entry: device `addr` sent `bytes` at `time` (`serial` is the truth, used only to
    /// calibrate on later exits).
    pub fn entry(&mut self, time: SimTime, addr: NodeId, bytes: u32, serial: u64) {
        let c = if self.sizes { size_class(bytes) } else { 0 };
        let t = time.0;
        let q = &mut self.by_class[c];
        while q.front().is_some_and(|e| e.time + self.window_us < t) {
            q.pop_front();
        }
        q.push_back(Entry { time: t, serial, addr });
        while self.times.front().is_some_and(|&x| x + self.window_us < t) {
            self.times.pop_front();
        }
        self.times.push_back(t);
    }

    /// Entries currently in the window (memory in use).
    pub fn buffered(&self) -> usize {
        self.times.len()
    }

    /// Correlates the exit of message `serial`, `bytes` on the wire at `time`: the distribution
    /// over senders and its entropy. The candidates stay readable with [`Correlator::candidates`]
    /// until the next call.
    pub fn exit(&mut self, time: SimTime, bytes: u32, serial: u64) -> Outcome {
        let t = time.0;
        let exit_class = if self.sizes { size_class(bytes) as i32 } else { 0 };
        while self.times.front().is_some_and(|&x| x + self.window_us < t) {
            self.times.pop_front();
        }
        let inv_lambda = self.window_us as f64 / (self.times.len().max(1) as f64);
        let calibrated = self.delay_total >= MIN_CALIBRATION;
        let sizes_calibrated = self.sizes && self.change_total >= MIN_CALIBRATION;
        let explore = !sizes_calibrated || self.exits.is_multiple_of(EXPLORE_EVERY);
        if calibrated && (self.density_at == u64::MAX || self.exits >= self.density_at + REFRESH_EVERY) {
            self.refresh_density();
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.iter_mut().for_each(|s| *s = u32::MAX);
            self.epoch = 1;
        }
        self.touched.clear();
        let mut truth: Option<(u64, i32)> = None;
        let mut truth_weighted = false;
        let mut total = 0.0;
        let mut classes = std::mem::take(&mut self.classes);
        classes.clear();
        if !self.sizes {
            classes.push(0);
        } else if explore {
            classes.extend(0..SIZE_CLASSES as i32);
        } else {
            let all = 0..SIZE_CLASSES as i32;
            classes.extend(self.change_support.iter().map(|&d| exit_class - d).filter(|c| all.contains(c)));
        }
        for &c in &classes {
            let q = &mut self.by_class[c as usize];
            while q.front().is_some_and(|e| e.time + self.window_us < t) {
                q.pop_front();
            }
            if q.is_empty() {
                continue;
            }
            let d = exit_class - c;
            let di = (d + SIZE_CLASSES as i32) as usize;
            let size_lr = if sizes_calibrated {
                let g = self.change[di] as f64 / self.change_total as f64;
                let h =
                    (self.background[di] as f64 + 1.0) / (self.background_total as f64 + self.background.len() as f64);
                g / h
            } else {
                1.0
            };
            // Newest first: entries too recent for any plausible delay are skipped, and the scan
            // stops at the oldest plausible one (unless exploring, which learns from everything).
            let (lo, hi) = if calibrated && !explore { self.support } else { (0, u64::MAX) };
            for e in q.iter().rev() {
                if e.time > t {
                    continue;
                }
                let dt = t - e.time;
                if dt < lo {
                    continue;
                }
                if dt > hi {
                    break;
                }
                let is_truth = e.serial == serial;
                if is_truth && truth.is_none_or(|(best, _)| dt < best) {
                    truth = Some((dt, d));
                }
                if self.sizes && explore {
                    // Only exits that scan every class see an unbiased sample of unrelated pairs.
                    self.background[di] += 1;
                    self.background_total += 1;
                }
                if size_lr == 0.0 {
                    continue;
                }
                let f = if calibrated { self.density[delay_bin(dt)] } else { 1.0 / self.window_us as f64 };
                if f == 0.0 {
                    continue;
                }
                let lr = f * inv_lambda * size_lr;
                if lr <= 0.0 || e.addr >= self.users {
                    continue;
                }
                truth_weighted |= is_truth;
                let a = e.addr as usize;
                if self.stamp[a] != self.epoch {
                    self.stamp[a] = self.epoch;
                    self.mass[a] = 0.0;
                    self.touched.push(e.addr);
                }
                self.mass[a] += lr;
                total += lr;
            }
        }
        self.classes = classes;
        let q = if self.exits >= MIN_CALIBRATION { self.present as f64 / self.exits as f64 } else { 1.0 };
        let denominator = q * total + (1.0 - q);
        let outcome = if denominator <= 0.0 || total <= 0.0 && q >= 1.0 {
            Outcome { entropy: (self.users.max(1) as f64).log2(), top: None, candidates: 0 }
        } else {
            let residual = (1.0 - q) / denominator;
            let spread = residual / self.users.max(1) as f64;
            self.masses.clear();
            let mut top: Option<(UserId, f64)> = None;
            for &u in &self.touched {
                let p = q * self.mass[u as usize] / denominator;
                self.masses.push(p);
                if top.is_none_or(|(best_u, best)| p + spread > best || (p + spread == best && u < best_u)) {
                    top = Some((u, p + spread));
                }
            }
            Outcome {
                entropy: entropy_bits(&self.masses, residual, self.users as u64),
                top,
                candidates: self.touched.len(),
            }
        };
        // Learn from this message's truth only now that its distribution is computed.
        self.exits += 1;
        // `q` counts the exits whose true entry got weight; the model learns from every true entry
        // found, so an exploring scan can widen what it finds plausible.
        self.present += truth_weighted as u64;
        if let Some((dt, d)) = truth {
            self.delay[delay_bin(dt)] += 1;
            self.delay_total += 1;
            if self.sizes {
                let di = (d + SIZE_CLASSES as i32) as usize;
                if self.change[di] == 0 {
                    self.change_support.push(d);
                    self.change_support.sort_unstable();
                }
                self.change[di] += 1;
                self.change_total += 1;
            }
        }
        outcome
    }

    /// Recomputes the delay density per bin (per microsecond) from the histogram. The prior goes
    /// only to bins within [`DELAY_REACH`] bins of a delay seen: a calibrated adversary gives no
    /// weight to delays far from any it has measured. Also sets the range of delays with weight.
    fn refresh_density(&mut self) {
        let kmax = delay_bin(self.window_us);
        let near = |b: usize| {
            let lo = b.saturating_sub(DELAY_REACH);
            let hi = (b + DELAY_REACH).min(DELAY_BINS - 1);
            self.delay[lo..=hi].iter().any(|&c| c > 0)
        };
        let supported: Vec<bool> = (0..DELAY_BINS).map(|b| b <= kmax && near(b)).collect();
        let norm = self.delay_total as f64 + DELAY_PRIOR * supported.iter().filter(|&&x| x).count() as f64;
        for (b, d) in self.density.iter_mut().enumerate() {
            let width = (delay_edge(b + 1) - delay_edge(b)).max(1.0);
            *d = if supported[b] { (self.delay[b] as f64 + DELAY_PRIOR) / (norm * width) } else { 0.0 };
        }
        let lo = supported.iter().position(|&x| x).unwrap_or(0);
        let hi = supported.iter().rposition(|&x| x).unwrap_or(DELAY_BINS - 1);
        self.support = (delay_edge(lo) as u64, delay_edge(hi + 1).ceil() as u64);
        self.density_at = self.exits;
    }

    /// The candidate senders of the last exit.
    pub fn candidates(&self) -> &[UserId] {
        &self.touched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime(ms * 1000)
    }

    #[test]
    fn delay_bins_are_quarter_octaves_above_a_millisecond() {
        for us in [0u64, 999, 1000, 1188, 1190, 1414, 1415, 2000, 5_000_000, u64::MAX / 2] {
            let want = if us < 1000 {
                0
            } else {
                (1 + ((us as f64 / 1000.0).log2() * 4.0 + 1e-12) as usize).min(DELAY_BINS - 1)
            };
            assert_eq!(delay_bin(us), want, "{us} us");
        }
        for b in 1..40 {
            let edge = delay_edge(b);
            assert_eq!(delay_bin(edge.ceil() as u64), b, "lower edge of bin {b}");
        }
    }

    #[test]
    fn k_identical_entries_give_log2_k_bits_and_one_gives_zero() {
        for k in [1u32, 2, 4, 5, 16] {
            let mut c = Correlator::new(1000, SimDuration::from_secs(10), true);
            for u in 0..k {
                c.entry(at(100), u, 500, u as u64);
            }
            let o = c.exit(at(300), 500, 0);
            assert_eq!(o.candidates, k as usize);
            assert!((o.entropy - (k as f64).log2()).abs() < 1e-9, "k = {k}: {}", o.entropy);
            assert_eq!(c.candidates().len(), k as usize);
        }
    }

    #[test]
    fn entries_outside_the_window_are_no_candidates() {
        let mut c = Correlator::new(100, SimDuration::from_secs(1), false);
        c.entry(at(0), 1, 10, 1);
        c.entry(at(1500), 2, 10, 2);
        let o = c.exit(at(2000), 10, 2);
        assert_eq!(o.candidates, 1);
        assert_eq!(o.top, Some((2, 1.0)));
        assert_eq!(o.entropy, 0.0);
        assert_eq!(c.buffered(), 1);
    }

    #[test]
    fn a_calibrated_model_prefers_the_usual_delay_and_the_same_size() {
        let mut c = Correlator::new(1000, SimDuration::from_secs(60), true);
        // Calibrate: each message takes 200 ms and keeps its size; one decoy per message.
        for i in 0..200u64 {
            let t0 = i * 10_000;
            c.entry(at(t0), (i % 50) as u32, 1000 + i as u32, i);
            c.entry(at(t0 + 5_000), 999, 40, u64::MAX);
            c.exit(at(t0 + 200), 1000 + i as u32, i);
        }
        // Now: two same-size candidates, one 200 ms before the exit, one 5 s before.
        c.entry(at(3_000_000), 7, 777, 1_000_000);
        c.entry(at(3_004_800), 8, 777, 1_000_001);
        let o = c.exit(at(3_005_000), 777, 1_000_001);
        let (top, p) = o.top.unwrap();
        assert_eq!(top, 8);
        assert!(p > 0.9, "{p}");
        assert!(o.entropy < 1.0);
    }
}
