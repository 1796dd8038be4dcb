//! Anonymity of one message as the entropy of the adversary's distribution over candidate senders,
//! and the distribution of that entropy over many messages.
//!
//! For one message, a correlating adversary ends with probabilities `p_u` over the users who may
//! have sent it. Its entropy `H = -Σ p_u log2 p_u` (bits) is the anonymity the sender has left;
//! `2^H` is the effective anonymity set (as many equally likely senders), and `H / log2 N` the
//! normalised degree of anonymity over the `N` users who could have sent anything (Serjantov &
//! Danezis, "Towards an Information Theoretic Metric for Anonymity", PET 2002; Díaz, Seys,
//! Claessens & Preneel, "Towards Measuring Anonymity", PET 2002). With `k` indistinguishable
//! candidates `H = log2 k` exactly; with one, 0. This module owns that arithmetic and a
//! fixed-size histogram of `H`, so a run of ten million messages keeps a few kilobytes, not one
//! value per message.

use serde::Serialize;

/// Entropy in bits of a distribution given as candidate masses plus a residual mass spread evenly
/// over all `n` users (candidates included): each candidate `c` has probability
/// `masses[c] + residual / n`, every other user `residual / n`. `masses` must be distinct users'
/// masses that, with `residual`, sum to 1.
pub fn entropy_bits(masses: &[f64], residual: f64, n: u64) -> f64 {
    let k = masses.len() as u64;
    let spread = if n > 0 { residual / n as f64 } else { 0.0 };
    let mut h = 0.0;
    for &m in masses {
        h -= plogp(m + spread);
    }
    if spread > 0.0 && n > k {
        h -= (n - k) as f64 * plogp(spread);
    }
    h.max(0.0)
}

/// `p log2 p`, with `0 log 0 = 0`.
#[inline]
fn plogp(p: f64) -> f64 {
    if p > 0.0 { p * p.log2() } else { 0.0 }
}

/// Bins per bit of the entropy histogram.
const BINS_PER_BIT: f64 = 64.0;
/// Highest entropy the histogram resolves, bits (2^32 users).
const MAX_BITS: f64 = 32.0;

/// The distribution of per-message anonymity over a run: a histogram of `H` in 1/64-bit bins plus
/// the exact sum for the mean entropy (the mean anonymity set `2^H` is read off the bins, within
/// half a percent).
#[derive(Clone, Debug)]
pub struct EntropyHistogram {
    bins: Vec<u64>,
    count: u64,
    certain: u64,
    sum_h: f64,
    max_h: f64,
}

impl EntropyHistogram {
    /// An empty histogram for a population whose largest possible entropy is `max_h` bits
    /// (`log2 N`).
    pub fn new(max_h: f64) -> EntropyHistogram {
        let n = (MAX_BITS * BINS_PER_BIT) as usize + 1;
        EntropyHistogram { bins: vec![0; n], count: 0, certain: 0, sum_h: 0.0, max_h }
    }

    /// Records one message's entropy and the probability of its most likely sender.
    pub fn record(&mut self, h: f64, top: f64) {
        let h = h.clamp(0.0, MAX_BITS);
        let b = ((h * BINS_PER_BIT).round() as usize).min(self.bins.len() - 1);
        self.bins[b] += 1;
        self.count += 1;
        if top >= CERTAIN {
            self.certain += 1;
        }
        self.sum_h += h;
    }

    /// The entropy at quantile `q` (to 1/64 bit), `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, &c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(b as f64 / BINS_PER_BIT);
            }
        }
        None
    }

    /// The summary that outputs show.
    pub fn summary(&self) -> AnonymitySummary {
        let n = self.count as f64;
        let mean = (self.count > 0).then(|| self.sum_h / n);
        AnonymitySummary {
            messages: self.count,
            max_entropy_bits: self.max_h,
            mean_entropy_bits: mean,
            p10_entropy_bits: self.quantile(0.10),
            median_entropy_bits: self.quantile(0.5),
            p90_entropy_bits: self.quantile(0.90),
            mean_anonymity_set: (self.count > 0).then(|| {
                let sets: f64 =
                    self.bins.iter().enumerate().map(|(b, &c)| c as f64 * (b as f64 / BINS_PER_BIT).exp2()).sum();
                sets / n
            }),
            mean_degree: mean.and_then(|m| (self.max_h > 0.0).then(|| m / self.max_h)),
            median_degree: self.quantile(0.5).and_then(|m| (self.max_h > 0.0).then(|| (m / self.max_h).min(1.0))),
            linked_with_certainty: (self.count > 0).then(|| self.certain as f64 / n),
        }
    }
}

/// A message counts as "linked with certainty" when its most likely sender has at least this
/// probability. A calibrated adversary that may miss entries always keeps a little mass for "someone
/// I did not see", so exact certainty (`H = 0`) is reached only when it sees every entry.
pub const CERTAIN: f64 = 0.99;

/// The distribution of per-message anonymity against one correlating adversary.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AnonymitySummary {
    /// Messages whose recipient side the adversary saw, for which it computed a distribution.
    pub messages: u64,
    /// `log2 N` for the `N` users: the entropy of knowing nothing, bits.
    pub max_entropy_bits: f64,
    /// Mean entropy of the candidate-sender distribution, bits.
    pub mean_entropy_bits: Option<f64>,
    /// 10th percentile of the entropy, bits.
    pub p10_entropy_bits: Option<f64>,
    /// Median entropy, bits.
    pub median_entropy_bits: Option<f64>,
    /// 90th percentile of the entropy, bits.
    pub p90_entropy_bits: Option<f64>,
    /// Mean effective anonymity set, `2^H` (equally likely senders).
    pub mean_anonymity_set: Option<f64>,
    /// Mean normalised degree of anonymity, `H / log2 N` (0: identified, 1: no information).
    pub mean_degree: Option<f64>,
    /// Median normalised degree of anonymity.
    pub median_degree: Option<f64>,
    /// Share of those messages whose most likely sender has probability at least 0.99.
    pub linked_with_certainty: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_indistinguishable_candidates_give_log2_k_bits_exactly() {
        for k in [1usize, 2, 3, 4, 7, 8, 1000] {
            let masses = vec![1.0 / k as f64; k];
            let h = entropy_bits(&masses, 0.0, 1_000_000);
            assert!((h - (k as f64).log2()).abs() < 1e-9, "k = {k}: {h}");
        }
        assert_eq!(entropy_bits(&[1.0], 0.0, 50), 0.0);
    }

    #[test]
    fn knowing_nothing_is_log2_n_and_a_residual_spreads_over_everyone() {
        let h = entropy_bits(&[], 1.0, 1024);
        assert!((h - 10.0).abs() < 1e-9);
        // Half the mass on one candidate, half spread over 4 users (the candidate included):
        // probabilities 5/8, 1/8, 1/8, 1/8.
        let h = entropy_bits(&[0.5], 0.5, 4);
        let want = -(0.625f64 * 0.625f64.log2() + 3.0 * 0.125 * 0.125f64.log2());
        assert!((h - want).abs() < 1e-12, "{h} vs {want}");
    }

    #[test]
    fn the_histogram_summarises_means_quantiles_and_certainty() {
        let mut hist = EntropyHistogram::new(10.0);
        for (h, top) in [(0.0, 1.0), (0.0, 1.0), (1.0, 0.5), (2.0, 0.25), (3.0, 0.125)] {
            hist.record(h, top);
        }
        let s = hist.summary();
        assert_eq!(s.messages, 5);
        assert!((s.mean_entropy_bits.unwrap() - 1.2).abs() < 1e-12);
        assert_eq!(s.median_entropy_bits, Some(1.0));
        assert_eq!(s.linked_with_certainty, Some(0.4));
        assert!((s.mean_anonymity_set.unwrap() - (1.0 + 1.0 + 2.0 + 4.0 + 8.0) / 5.0).abs() < 1e-12);
        assert!((s.mean_degree.unwrap() - 0.12).abs() < 1e-12);
        assert_eq!(EntropyHistogram::new(3.0).summary().mean_entropy_bits, None);
    }
}
