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
//! window, plus at most a quarter window of entries that left it (they are dropped when an exit
//! scans their class, and by a sweep of every class each quarter window).

use std::collections::VecDeque;

use crate::engine::observation::NodeId;
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
    /// A bit per size class whose queue may hold entries (clear: it is empty), so that a scan of
    /// every class visits only those.
    occupied: Vec<u64>,
    times: VecDeque<u64>,
    /// When every class was last swept of entries that left the window.
    swept_at: u64,
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
    cands: Candidates,
    masses: Vec<f64>,
    /// Size classes of recently seen sizes, by size modulo its length: polls, acknowledgements
    /// and cover traffic come in a few fixed sizes, so most lookups skip the logarithm.
    class_memo: Vec<(u32, u32)>,
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
            occupied: vec![0; classes.div_ceil(64)],
            times: VecDeque::new(),
            swept_at: 0,
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
            cands: Candidates::new(),
            masses: Vec::new(),
            class_memo: vec![(u32::MAX, size_class(u32::MAX) as u32); 256],
            classes: Vec::new(),
        }
    }

    /// [`size_class`] of `bytes`, through the memo.
    #[inline]
    fn class_of(&mut self, bytes: u32) -> usize {
        let m = &mut self.class_memo[bytes as usize % 256];
        if m.0 != bytes {
            *m = (bytes, size_class(bytes) as u32);
        }
        m.1 as usize
    }

    /// Records an entry: device `addr` sent `bytes` at `time` (`serial` is the truth, used only to
    /// calibrate on later exits).
    pub fn entry(&mut self, time: SimTime, addr: NodeId, bytes: u32, serial: u64) {
        let c = if self.sizes { self.class_of(bytes) } else { 0 };
        let t = time.0;
        // Entries that left the window are dropped when an exit scans their class, and by a sweep
        // of every class each quarter window (so memory stays about one window of entries), not
        // here: the oldest entry of a class is rarely in cache.
        if t >= self.swept_at.saturating_add(self.window_us / 4) {
            self.sweep(t);
        }
        self.by_class[c].push_back(Entry { time: t, serial, addr });
        self.occupied[c / 64] |= 1 << (c % 64);
        self.times.push_back(t);
    }

    /// Drops the entries that left the window before `t`, in every class.
    fn sweep(&mut self, t: u64) {
        let window = self.window_us;
        for (w, bits) in self.occupied.iter_mut().enumerate() {
            let mut b = *bits;
            while b != 0 {
                let c = w * 64 + b.trailing_zeros() as usize;
                b &= b - 1;
                let q = &mut self.by_class[c];
                while q.front().is_some_and(|e| e.time + window < t) {
                    q.pop_front();
                }
                if q.is_empty() {
                    *bits &= !(1 << (c % 64));
                }
            }
        }
        while self.times.front().is_some_and(|&x| x + window < t) {
            self.times.pop_front();
        }
        self.swept_at = t;
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
        let exit_class = if self.sizes { self.class_of(bytes) as i32 } else { 0 };
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
        self.cands.start();
        let mut truth: Option<(u64, i32)> = None;
        let mut truth_weighted = false;
        let mut total = 0.0;
        let mut classes = std::mem::take(&mut self.classes);
        classes.clear();
        if !self.sizes {
            classes.push(0);
        } else if explore {
            // Every class, in order; those known to be empty would add nothing.
            for (w, &bits) in self.occupied.iter().enumerate() {
                let mut b = bits;
                while b != 0 {
                    classes.push((w * 64) as i32 + b.trailing_zeros() as i32);
                    b &= b - 1;
                }
            }
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
                self.occupied[c as usize / 64] &= !(1 << (c % 64));
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
            let (older, newer) = q.as_slices();
            if explore && size_lr == 0.0 {
                // A size change never seen: no entry here gets weight, but every one counts for
                // the background, and the true entry may be here (the model keeps learning).
                let mut n = 0u64;
                for e in newer.iter().rev().chain(older.iter().rev()) {
                    if e.time > t {
                        continue;
                    }
                    n += 1;
                    if e.serial == serial {
                        let dt = t - e.time;
                        if truth.is_none_or(|(best, _)| dt < best) {
                            truth = Some((dt, d));
                        }
                    }
                }
                self.background[di] += n;
                self.background_total += n;
                continue;
            }
            'scan: for part in [newer, older] {
                for e in part.iter().rev() {
                    if e.time > t {
                        continue;
                    }
                    let dt = t - e.time;
                    if dt < lo {
                        continue;
                    }
                    if dt > hi {
                        break 'scan;
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
                    self.cands.add(e.addr, lr);
                    total += lr;
                }
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
            for (&u, &mass) in self.cands.users.iter().zip(&self.cands.mass) {
                let p = q * mass / denominator;
                self.masses.push(p);
                if top.is_none_or(|(best_u, best)| p + spread > best || (p + spread == best && u < best_u)) {
                    top = Some((u, p + spread));
                }
            }
            Outcome {
                entropy: entropy_bits(&self.masses, residual, self.users as u64),
                top,
                candidates: self.cands.users.len(),
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
        let mut supported = [false; DELAY_BINS];
        for (b, s) in supported.iter_mut().enumerate() {
            *s = b <= kmax && near(b);
        }
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
        &self.cands.users
    }
}

/// The distinct candidate senders of one exit with their summed likelihood ratios, in the order
/// first met. Users are found through a small open-addressing table stamped with the exit's
/// number, so it is never cleared and stays in cache (a per-user array would cost a cache miss
/// per candidate).
struct Candidates {
    /// (exit number, user, position in `users`); number 0 marks a free entry.
    table: Vec<(u32, u32, u32)>,
    epoch: u32,
    users: Vec<UserId>,
    mass: Vec<f64>,
}

impl Candidates {
    fn new() -> Candidates {
        Candidates { table: vec![(0, 0, 0); 64], epoch: 0, users: Vec::new(), mass: Vec::new() }
    }

    /// Starts a new exit.
    fn start(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.table.iter_mut().for_each(|e| e.0 = 0);
            self.epoch = 1;
        }
        self.users.clear();
        self.mass.clear();
    }

    #[inline]
    fn home(u: UserId, mask: usize) -> usize {
        ((u as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
    }

    /// Adds `lr` to user `u`'s mass.
    #[inline]
    fn add(&mut self, u: UserId, lr: f64) {
        let mask = self.table.len() - 1;
        let mut i = Self::home(u, mask);
        loop {
            let e = &mut self.table[i];
            if e.0 != self.epoch {
                *e = (self.epoch, u, self.users.len() as u32);
                self.users.push(u);
                self.mass.push(lr);
                if self.users.len() * 2 > self.table.len() {
                    self.grow();
                }
                return;
            }
            if e.1 == u {
                self.mass[e.2 as usize] += lr;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the table (at most half full), re-entering this exit's candidates.
    fn grow(&mut self) {
        let n = self.table.len() * 2;
        self.table.clear();
        self.table.resize(n, (0, 0, 0));
        for (k, &u) in self.users.iter().enumerate() {
            let mut i = Self::home(u, n - 1);
            while self.table[i].0 == self.epoch {
                i = (i + 1) & (n - 1);
            }
            self.table[i] = (self.epoch, u, k as u32);
        }
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
    fn candidates_sum_per_user_in_the_order_first_met_across_growth_and_exits() {
        let mut c = Candidates::new();
        for round in 0..3u32 {
            c.start();
            // 100 users (the table grows from 64 entries), each met three times.
            for k in 0..300u32 {
                c.add((k % 100) * 7919 + round, 1.0 + (k / 100) as f64);
            }
            assert_eq!(c.users.len(), 100);
            assert!(c.users.iter().enumerate().all(|(i, &u)| u == i as u32 * 7919 + round));
            assert!(c.mass.iter().all(|&m| m == 6.0), "{:?}", &c.mass[..3]);
        }
        c.start();
        assert!(c.users.is_empty() && c.mass.is_empty());
        c.add(5, 0.5);
        c.add(5, 0.25);
        assert_eq!((c.users.as_slice(), c.mass.as_slice()), (&[5][..], &[0.75][..]));
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
