//! Client polling as arithmetic: when a recipient's periodic poll picks up a stored message, and
//! how many polls a device made while it was online, without one event per poll.
//!
//! A client polls a swarm on a grid that starts when it comes online (the first poll is right
//! then, as a Session client polls on start-up) and repeats every `interval` while it stays
//! online. A message stored at `t` is fetched by the first poll of that grid that leaves at or
//! after `t` (the onion model also checks that the swarm member the poll asks holds the message
//! when the request arrives). The interval of a group's swarm depends on how recently the group
//! was active (Session's `SWARM_POLLING_TIMEOUT`: active, medium and inactive). This module only
//! does the arithmetic; the model decides which grid applies.

use crate::time::{SimDuration, SimTime};

/// The first grid point `anchor + k·interval` (k ≥ 0) at or after `t`.
pub fn next_poll(anchor: SimTime, interval: SimDuration, t: SimTime) -> SimTime {
    if t <= anchor {
        return anchor;
    }
    let step = interval.0.max(1);
    let k = t.since(anchor).0.div_ceil(step);
    SimTime(anchor.0.saturating_add(k.saturating_mul(step)))
}

/// Number of grid points `anchor + k·interval` in `[from, to)`.
pub fn polls_between(anchor: SimTime, interval: SimDuration, from: SimTime, to: SimTime) -> u64 {
    let first = next_poll(anchor, interval, from);
    if first >= to { 0 } else { (to.since(first).0 - 1) / interval.0.max(1) + 1 }
}

/// Poll intervals of a group's swarm by recent activity (Session desktop's
/// `SWARM_POLLING_TIMEOUT`, with the thresholds of `swarmPolling.ts`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupPolling {
    /// Interval while the group had a message within `active_within`.
    pub active: SimDuration,
    /// Interval while the last message is older than `active_within` but within `medium_within`.
    pub medium: SimDuration,
    /// Interval once the last message is older than `medium_within`.
    pub inactive: SimDuration,
    /// Age of the last message under which a group counts as active.
    pub active_within: SimDuration,
    /// Age of the last message under which a group counts as medium.
    pub medium_within: SimDuration,
}

impl GroupPolling {
    /// The interval for a group whose last message was at `last` (`None`: never), seen at `now`.
    pub fn interval(&self, last: Option<SimTime>, now: SimTime) -> SimDuration {
        match last.map(|l| now.since(l)) {
            Some(age) if age < self.active_within => self.active,
            Some(age) if age < self.medium_within => self.medium,
            _ => self.inactive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(us: u64) -> SimTime {
        SimTime(us)
    }

    #[test]
    fn next_poll_is_the_first_grid_point_at_or_after() {
        let i = SimDuration(5);
        assert_eq!(next_poll(t(10), i, t(3)), t(10));
        assert_eq!(next_poll(t(10), i, t(10)), t(10));
        assert_eq!(next_poll(t(10), i, t(11)), t(15));
        assert_eq!(next_poll(t(10), i, t(15)), t(15));
        assert_eq!(next_poll(t(10), i, t(16)), t(20));
        // A one-microsecond grid polls at every instant, so nothing waits.
        assert_eq!(next_poll(t(0), SimDuration(1), t(12_345)), t(12_345));
    }

    #[test]
    fn polls_between_counts_grid_points_in_a_half_open_window() {
        let i = SimDuration(5);
        // Grid 10, 15, 20, 25, ...
        assert_eq!(polls_between(t(10), i, t(0), t(10)), 0);
        assert_eq!(polls_between(t(10), i, t(0), t(11)), 1);
        assert_eq!(polls_between(t(10), i, t(10), t(25)), 3);
        assert_eq!(polls_between(t(10), i, t(10), t(26)), 4);
        assert_eq!(polls_between(t(10), i, t(11), t(26)), 3);
        assert_eq!(polls_between(t(10), i, t(30), t(30)), 0);
        // Brute force on a small range.
        for from in 0..40 {
            for to in from..60 {
                let brute = (0..20).map(|k| 10 + 5 * k).filter(|&p| p >= from && p < to).count() as u64;
                assert_eq!(polls_between(t(10), i, t(from), t(to)), brute, "[{from}, {to})");
            }
        }
    }

    #[test]
    fn group_interval_follows_activity() {
        let g = GroupPolling {
            active: SimDuration(5),
            medium: SimDuration(60),
            inactive: SimDuration(120),
            active_within: SimDuration(100),
            medium_within: SimDuration(1000),
        };
        assert_eq!(g.interval(None, t(5000)), SimDuration(120));
        assert_eq!(g.interval(Some(t(4950)), t(5000)), SimDuration(5));
        assert_eq!(g.interval(Some(t(4500)), t(5000)), SimDuration(60));
        assert_eq!(g.interval(Some(t(3000)), t(5000)), SimDuration(120));
    }
}
