//! Cover traffic and pulls counted by arithmetic instead of one event per packet.
//!
//! Every client online sends loop and drop cover as Poisson streams, fills each empty payload slot
//! with a drop, and pulls its provider on a fixed grid; every mix sends loops of its own. At scale
//! that is far more packets than real messages, and their cost does not depend on when each one
//! left. So the model only accumulates the exposure of each stream (user-seconds online,
//! user-seconds online with an empty send queue, mix-seconds) and, at the end, draws each stream's
//! count once from a Poisson distribution with mean rate × exposure. A sum of independent Poisson
//! counts is Poisson with the summed mean, so one draw per stream at the end has exactly the
//! distribution of counting every user's packets one by one. When a share of the cover is
//! simulated hop by hop (so observers see it), only the remaining share is drawn here (thinning a
//! Poisson process leaves two independent Poisson processes). This module owns the sums and the
//! draws; the model decides what is exposure.

use rand_distr::{Distribution, Poisson};

use crate::engine::SimRng;

/// The cover streams, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// A payload slot with no real packet queued: a drop message takes its place.
    PayloadDrop,
    /// The drop stream (λ_D).
    Drop,
    /// The client loop stream (λ_L).
    Loop,
    /// The mix loop stream (λ_M).
    MixLoop,
}

impl Stream {
    /// Every stream.
    pub const ALL: [Stream; 4] = [Stream::PayloadDrop, Stream::Drop, Stream::Loop, Stream::MixLoop];
}

pub use crate::arch::kit::window::in_window;

/// One Poisson draw with mean `mean` (0 for a mean of 0).
pub fn poisson(mean: f64, rng: &mut SimRng) -> u64 {
    if mean > 0.0 && mean.is_finite() { Poisson::new(mean).map_or(0, |p| p.sample(rng) as u64) } else { 0 }
}

/// What was counted during the run, all within the measurement window.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// User-microseconds online.
    pub online_us: u128,
    /// User-microseconds online with an empty send queue (payload slots are drops then).
    pub idle_us: u128,
    /// Pulls made (on each online client's grid).
    pub pulls: u64,
    /// Real packets handed out by those pulls (the rest of each padded answer is dummies).
    pub pulled_real: u64,
    /// Cover packets simulated hop by hop, by stream.
    pub observed: [u64; 4],
}

impl Ledger {
    /// Counts one cover packet of `s` simulated hop by hop.
    pub fn observed(&mut self, s: Stream) {
        self.observed[s as usize] += 1;
    }

    /// Total cover packets of every stream: those simulated plus a draw for the share that was
    /// not, at the given rates (per second) and unobserved share.
    pub fn totals(&self, rates: [f64; 4], mixes: u64, window_us: u64, unobserved: f64, rng: &mut SimRng) -> [u64; 4] {
        let secs = |us: u128| us as f64 / 1e6;
        let exposure =
            [secs(self.idle_us), secs(self.online_us), secs(self.online_us), mixes as f64 * window_us as f64 / 1e6];
        let mut out = self.observed;
        for s in Stream::ALL {
            let i = s as usize;
            out[i] += poisson(rates[i] * exposure[i] * unobserved, rng);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn poisson_draws_have_the_right_mean() {
        let mut rng = stream(7, Purpose::Model, 0);
        assert_eq!(poisson(0.0, &mut rng), 0);
        let n = 2000;
        let mean = 50.0;
        let total: u64 = (0..n).map(|_| poisson(mean, &mut rng)).sum();
        let got = total as f64 / n as f64;
        // Standard error sqrt(50/2000) ≈ 0.16; five of them.
        assert!((got - mean).abs() < 0.8, "mean {got}");
    }

    #[test]
    fn totals_add_observed_packets_to_the_draw_for_the_rest() {
        let mut rng = stream(3, Purpose::Model, 0);
        let l = Ledger { online_us: 1_000_000_000, idle_us: 0, observed: [0, 0, 7, 0], ..Ledger::default() };
        // Nothing unobserved: exactly what was simulated.
        assert_eq!(l.totals([0.5, 0.5, 0.5, 0.5], 3, 1_000_000, 0.0, &mut rng), [0, 0, 7, 0]);
        // No idle time: no payload drops whatever the rate.
        let t = l.totals([0.5, 0.0, 0.0, 0.0], 0, 0, 1.0, &mut rng);
        assert_eq!(t, [0, 0, 7, 0]);
    }
}
