//! Briar's contact-polling back-off as arithmetic: when a device polls, computed, never ticked.
//!
//! Briar's Tor plugin (and its LAN and Bluetooth plugins, with the same constants) polls its
//! unconnected contacts at an interval of `min × base^n`, capped at `max`, where `n` grows by one
//! per poll round and resets to 0 when a connection opens, incoming or outgoing
//! (bramble-core `TorPluginFactory` MIN/MAX_POLLING_INTERVAL = 1 min / 10 min, BACKOFF_BASE = 1.2;
//! `BackoffImpl`; `TorPlugin.poll`/`connect`/`acceptContactConnections`; DEFAULTS.md §3). After a
//! reset the poller reschedules the next round `min` later (`PollerImpl.reschedule` on
//! ConnectionOpenedEvent); each round then schedules the next at the interval read *before* it
//! increments `n`. So the rounds after a reset at time `a` fall at `a + t_k` with gaps
//! `I(0), I(0), I(1), I(2), …, max, max, …` where `I(j) = min(min·base^j, max)`.
//!
//! A [`PollSchedule`] holds those offsets once (the part before the cap is a short table, 14
//! entries for Briar's constants; after the cap it is linear) and answers, in O(log 14), how many
//! rounds fall in an interval, when the next one is, and when the last one was. The model keeps
//! one anchor (the last reset) per online device and counts the rounds between resets with
//! `Ctx::wake_many`, so polling costs no event.

use crate::time::SimDuration;

/// The offsets of poll rounds after a back-off reset.
#[derive(Clone, Debug)]
pub struct PollSchedule {
    /// Offsets (µs) of the rounds before the interval reaches its cap, increasing.
    table: Vec<u64>,
    /// The gap (µs) between rounds after the table.
    tail: u64,
}

impl PollSchedule {
    /// The schedule for intervals `min × base^n` capped at `max`. `base <= 1` or `min >= max`
    /// give a fixed interval of `min(min, max)`.
    pub fn new(min: SimDuration, max: SimDuration, base: f64) -> PollSchedule {
        let (min_us, max_us) = (min.0.max(1), max.0.max(1));
        let interval = |j: usize| -> u64 {
            let v = min_us as f64 * base.max(1.0).powi(j as i32);
            if v >= max_us as f64 { max_us } else { (v.round() as u64).max(1) }
        };
        let mut table = Vec::new();
        let mut t = 0u64;
        loop {
            // The first gap after a reset is I(0); round k (1-based) is followed by I(k - 1).
            let gap = if table.is_empty() { interval(0) } else { interval(table.len() - 1) };
            let fixed = base <= 1.0 && !table.is_empty();
            if gap >= max_us || fixed || table.len() >= 256 {
                return PollSchedule { table, tail: gap.min(max_us) };
            }
            t += gap;
            table.push(t);
        }
    }

    /// Number of rounds at offsets in `(0, d]` after a reset.
    pub fn count_within(&self, d: SimDuration) -> u64 {
        let d = d.0;
        match self.table.last() {
            Some(&last) if d < last => self.table.partition_point(|&t| t <= d) as u64,
            Some(&last) => self.table.len() as u64 + (d - last) / self.tail,
            None => d / self.tail,
        }
    }

    /// Offset of the first round at or after offset `d` (always above zero).
    pub fn next_at_or_after(&self, d: SimDuration) -> SimDuration {
        let d = d.0;
        let base = match self.table.last() {
            Some(&last) if d <= last => return SimDuration(self.table[self.table.partition_point(|&t| t < d)]),
            Some(&last) => last,
            None => 0,
        };
        let steps = (d - base).div_ceil(self.tail).max(1);
        SimDuration(base + steps * self.tail)
    }

    /// Offset of the last round at or before offset `d`, or `None` if no round has happened yet.
    pub fn last_at_or_before(&self, d: SimDuration) -> Option<SimDuration> {
        let n = self.count_within(d);
        (n > 0).then(|| self.offset_of(n))
    }

    /// Offset of round `k` (1-based).
    fn offset_of(&self, k: u64) -> SimDuration {
        let len = self.table.len() as u64;
        if k <= len {
            SimDuration(self.table[k as usize - 1])
        } else {
            let base = self.table.last().copied().unwrap_or(0);
            SimDuration(base + (k - len) * self.tail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn briar() -> PollSchedule {
        PollSchedule::new(SimDuration::from_secs(60), SimDuration::from_secs(600), 1.2)
    }

    #[test]
    fn briar_gaps_are_one_one_then_grow_by_a_fifth_to_the_ten_minute_cap() {
        let s = briar();
        let offsets: Vec<f64> = (1..=18).map(|k| s.offset_of(k).as_secs_f64()).collect();
        let gaps: Vec<f64> = std::iter::once(offsets[0]).chain(offsets.windows(2).map(|w| w[1] - w[0])).collect();
        assert_eq!(gaps[0], 60.0);
        assert_eq!(gaps[1], 60.0);
        assert!((gaps[2] - 72.0).abs() < 1e-6);
        assert!((gaps[3] - 86.4).abs() < 1e-6);
        // 1.2^12 = 8.9 < 10 but 1.2^13 = 10.7: the gap after round 14 is the cap.
        assert!(gaps[13] < 600.0 && gaps[13] > 530.0, "{gaps:?}");
        for g in &gaps[14..] {
            assert_eq!(*g, 600.0);
        }
        // The rounds before the cap take 1 + (1.2^13 - 1) / 0.2 = 49.5 minutes.
        assert!((offsets[13] - 60.0 * (1.0 + (1.2f64.powi(13) - 1.0) / 0.2)).abs() < 1e-3);
    }

    #[test]
    fn count_next_and_last_agree_with_the_offsets() {
        let s = briar();
        for k in 1..40u64 {
            let t = s.offset_of(k);
            assert_eq!(s.count_within(t), k);
            assert_eq!(s.count_within(SimDuration(t.0 - 1)), k - 1);
            assert_eq!(s.next_at_or_after(t), t);
            assert_eq!(s.next_at_or_after(SimDuration(t.0 - 1)), t);
            assert_eq!(s.next_at_or_after(SimDuration(t.0 + 1)), s.offset_of(k + 1));
            assert_eq!(s.last_at_or_before(t), Some(t));
            assert_eq!(s.last_at_or_before(SimDuration(t.0 + 1)), Some(t));
        }
        assert_eq!(s.last_at_or_before(SimDuration::from_secs(59)), None);
        assert_eq!(s.next_at_or_after(SimDuration::ZERO), SimDuration::from_secs(60));
        // One hour after a reset: 14 rounds in the first 49.5 minutes, then one more at 59.5.
        assert_eq!(s.count_within(SimDuration::from_secs(3600)), 15);
    }

    #[test]
    fn a_base_of_one_polls_at_a_fixed_interval() {
        let s = PollSchedule::new(SimDuration::from_secs(30), SimDuration::from_secs(600), 1.0);
        assert_eq!(s.count_within(SimDuration::from_secs(3600)), 120);
        assert_eq!(s.next_at_or_after(SimDuration::from_secs(31)), SimDuration::from_secs(60));
    }
}
