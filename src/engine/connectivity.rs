//! The connectivity and fault service: when each infrastructure node is up, and when each user can
//! reach the internet.
//!
//! Two timelines, kept in one place so that no model rebuilds them:
//!
//! - **Node faults.** A model registers, in `init`, the fault timeline of a node it added
//!   (`Ctx::add_node_faults`): scheduled outages `[start, end)` and an optional exponential
//!   up/down [`Churn`] (MTBF/MTTR). The timeline is drawn at once up to the end of the run
//!   (a node fails rarely, so it is a few intervals), merged into a union, and its transitions are
//!   queued as engine events; when one fires the engine updates the node's state and calls
//!   `DeliveryModel::on_node_change`. The model keeps its own *reaction* (what happens to what
//!   the node holds), not the bookkeeping.
//! - **Users' internet.** The world's regional internet outages (`world.internet_outages`) are
//!   the same for every architecture. Their transitions are queued before any other event, downs
//!   before ups, so that at an instant shared with any other event the state already is what
//!   `start <= now < end` says, and at an instant where one outage ends and another begins the
//!   region stays dark (a union). Only users whose connectivity actually changes are reported,
//!   through `DeliveryModel::on_connectivity`.
//!
//! Queries (`Ctx::node_up`, `Ctx::connected`, `Ctx::internet_up`) are one or two loads: a count
//! of the outages covering each node and region now, kept in flat vectors.
//!
//! Pairing: [`Churn`] draws come from a stream keyed by (run seed, architecture position, node),
//! so adding a node leaves every other node's timeline alone; a model that wants the same
//! timeline under several architecture entries (federated) passes a stream of its own.

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use super::SimRng;
use crate::time::{SimDuration, SimTime};
use crate::world::{RegionId, UserId, World};

/// Mean up and down periods of an exponential up/down churn (MTBF and MTTR).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Churn {
    /// Mean length of an up period (MTBF).
    pub mean_up: SimDuration,
    /// Mean length of a down period (MTTR).
    pub mean_down: SimDuration,
}

impl Churn {
    /// Long-run share of time a node is up: MTBF / (MTBF + MTTR).
    pub fn availability(&self) -> f64 {
        let (u, d) = (self.mean_up.as_secs_f64(), self.mean_down.as_secs_f64());
        u / (u + d)
    }

    /// Appends the down periods of one node's churn over `[0, end]`, drawn from `rng`: the node
    /// starts in the stationary state (down with probability MTTR / (MTBF + MTTR)) with a fresh
    /// period, which is exact because exponential periods are memoryless; periods last at least
    /// 1 µs. The last period may reach past `end`.
    pub fn down_periods(&self, rng: &mut SimRng, end: SimTime, out: &mut Vec<(SimTime, SimTime)>) {
        let (up_s, down_s) = (self.mean_up.as_secs_f64(), self.mean_down.as_secs_f64());
        let up = Exp::new(1.0 / up_s.max(1e-6)).expect("positive mean up time");
        let down = Exp::new(1.0 / down_s.max(1e-6)).expect("positive mean down time");
        let p_down = down_s / (up_s + down_s);
        let mut t = SimTime::ZERO;
        let mut is_down = rng.random_bool(p_down.clamp(0.0, 1.0));
        while t <= end {
            let len =
                SimDuration::from_secs_f64(if is_down { down.sample(rng) } else { up.sample(rng) }).max(SimDuration(1));
            if is_down {
                out.push((t, t + len));
            }
            t += len;
            is_down = !is_down;
        }
    }
}

/// Sorts intervals `[start, end)` and merges the overlapping or touching ones, dropping empty
/// ones: the union, as disjoint intervals with gaps between them.
pub fn union(intervals: &mut Vec<(SimTime, SimTime)>) {
    intervals.retain(|&(s, e)| e > s);
    intervals.sort_by_key(|&(s, _)| s);
    let mut out = 0;
    for i in 0..intervals.len() {
        let (s, e) = intervals[i];
        if out > 0 && s <= intervals[out - 1].1 {
            intervals[out - 1].1 = intervals[out - 1].1.max(e);
        } else {
            intervals[out] = (s, e);
            out += 1;
        }
    }
    intervals.truncate(out);
}

/// "Every region" in an internet transition.
pub(super) const ALL_REGIONS: u32 = u32::MAX;

/// The state of every node's and region's timeline now.
#[derive(Default)]
pub(super) struct Connectivity {
    /// Outages covering each region now; its users are connected when zero.
    region_down: Vec<u32>,
    /// Users of each region: `region_users[region_off[r]..region_off[r + 1]]` (built only when
    /// the world has internet outages).
    region_off: Vec<u32>,
    region_users: Vec<UserId>,
    /// Per infrastructure node (by index among infrastructure nodes): outages covering it now.
    node_down: Vec<u32>,
    /// When each node last came up (zero if it never went down).
    node_up_since: Vec<SimTime>,
    /// When each node last went down (meaningful while down).
    node_down_since: Vec<SimTime>,
    /// Time each node spent down in finished outages.
    node_downtime: Vec<SimDuration>,
    /// Outages each node had (a union of overlapping ones counts once).
    node_outages: Vec<u32>,
}

impl Connectivity {
    /// The service for `world`: every region connected; the outages starting at zero already
    /// apply. Returns the service and the internet transitions to queue, downs first:
    /// `(time, region or ALL_REGIONS, up)`.
    pub(super) fn new(world: &World) -> (Connectivity, Vec<(SimTime, u32, bool)>) {
        let regions = world.params.regions.len();
        let mut c = Connectivity { region_down: vec![0; regions], ..Connectivity::default() };
        let outages = &world.params.internet_outages;
        let mut transitions = Vec::new();
        if outages.is_empty() {
            return (c, transitions);
        }
        let mut off = vec![0u32; regions + 1];
        for &r in &world.user_region {
            off[r as usize + 1] += 1;
        }
        for i in 0..regions {
            off[i + 1] += off[i];
        }
        let mut fill = off.clone();
        c.region_users = vec![0; world.user_region.len()];
        for (u, &r) in world.user_region.iter().enumerate() {
            c.region_users[fill[r as usize] as usize] = u as UserId;
            fill[r as usize] += 1;
        }
        c.region_off = off;
        for o in outages.iter().filter(|o| o.end > o.start) {
            let region = o.region.map_or(ALL_REGIONS, |r| r as u32);
            if o.start == SimTime::ZERO {
                // Before anything happens: no one is told, every query already sees it.
                c.apply_internet(region, false, |_| {});
            } else {
                transitions.push((o.start, region, false));
            }
        }
        for o in outages.iter().filter(|o| o.end > o.start) {
            transitions.push((o.end, o.region.map_or(ALL_REGIONS, |r| r as u32), true));
        }
        (c, transitions)
    }

    /// Whether `region` has internet now.
    #[inline]
    pub(super) fn region_up(&self, region: RegionId) -> bool {
        self.region_down.get(region as usize).is_none_or(|&d| d == 0)
    }

    /// One internet transition: calls `changed(r)` for each region whose state flips.
    pub(super) fn apply_internet(&mut self, region: u32, up: bool, mut changed: impl FnMut(RegionId)) {
        let range =
            if region == ALL_REGIONS { 0..self.region_down.len() } else { region as usize..region as usize + 1 };
        for r in range {
            let d = &mut self.region_down[r];
            let before = *d == 0;
            if up {
                *d = d.saturating_sub(1);
            } else {
                *d += 1;
            }
            if (*d == 0) != before {
                changed(r as RegionId);
            }
        }
    }

    /// The users of `region` (empty unless the world has internet outages).
    pub(super) fn users_of(&self, region: RegionId) -> &[UserId] {
        if self.region_off.is_empty() {
            return &[];
        }
        let (a, b) = (self.region_off[region as usize], self.region_off[region as usize + 1]);
        &self.region_users[a as usize..b as usize]
    }

    /// Makes room for infrastructure node `index` (every node starts up).
    pub(super) fn add_node(&mut self, index: usize) {
        if self.node_down.len() <= index {
            self.node_down.resize(index + 1, 0);
            self.node_up_since.resize(index + 1, SimTime::ZERO);
            self.node_down_since.resize(index + 1, SimTime::ZERO);
            self.node_downtime.resize(index + 1, SimDuration::ZERO);
            self.node_outages.resize(index + 1, 0);
        }
    }

    /// A node transition at `now`; returns whether the node's state flipped.
    pub(super) fn apply_node(&mut self, index: usize, up: bool, now: SimTime) -> bool {
        let d = &mut self.node_down[index];
        if up {
            *d = d.saturating_sub(1);
            if *d == 0 {
                self.node_downtime[index] += now.since(self.node_down_since[index]);
                self.node_up_since[index] = now;
                return true;
            }
        } else {
            *d += 1;
            if *d == 1 {
                self.node_down_since[index] = now;
                self.node_outages[index] += 1;
                return true;
            }
        }
        false
    }

    /// Whether infrastructure node `index` is up now.
    #[inline]
    pub(super) fn node_up(&self, index: usize) -> bool {
        self.node_down.get(index).is_none_or(|&d| d == 0)
    }

    /// When infrastructure node `index` last came up.
    pub(super) fn node_up_since(&self, index: usize) -> SimTime {
        self.node_up_since.get(index).copied().unwrap_or(SimTime::ZERO)
    }

    /// Outages node `index` had so far, and its time down up to `now`.
    pub(super) fn node_faults(&self, index: usize, now: SimTime) -> (u32, SimDuration) {
        let Some(&outages) = self.node_outages.get(index) else { return (0, SimDuration::ZERO) };
        let mut down = self.node_downtime[index];
        if self.node_down[index] > 0 {
            down += now.since(self.node_down_since[index]);
        }
        (outages, down)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn t(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

    #[test]
    fn union_merges_overlapping_and_touching_and_drops_empty() {
        let mut v = vec![(t(50), t(60)), (t(10), t(20)), (t(15), t(30)), (t(30), t(35)), (t(40), t(40))];
        union(&mut v);
        assert_eq!(v, vec![(t(10), t(35)), (t(50), t(60))]);
        let mut nested = vec![(t(0), t(100)), (t(10), t(20))];
        union(&mut nested);
        assert_eq!(nested, vec![(t(0), t(100))]);
    }

    #[test]
    fn down_periods_are_disjoint_ordered_and_cover_the_run() {
        let churn = Churn { mean_up: SimDuration::from_secs(600), mean_down: SimDuration::from_secs(60) };
        let mut rng = stream(3, Purpose::Churn, 0);
        let mut v = Vec::new();
        let end = t(86_400);
        churn.down_periods(&mut rng, end, &mut v);
        assert!(!v.is_empty());
        for w in v.windows(2) {
            assert!(w[0].1 < w[1].0, "periods touch or overlap: {w:?}");
        }
        assert!(v.iter().all(|&(s, e)| e > s && s <= end));
        let before = v.clone();
        union(&mut v);
        assert_eq!(v, before, "a churn timeline is already its own union");
    }

    #[test]
    fn node_counts_flip_only_at_the_union_edges() {
        let mut c = Connectivity::default();
        c.add_node(0);
        assert!(c.node_up(0));
        assert!(c.apply_node(0, false, t(10)));
        assert!(!c.apply_node(0, false, t(12)), "a second covering outage changes nothing");
        assert!(!c.apply_node(0, true, t(15)), "still covered by the other one");
        assert!(!c.node_up(0));
        assert!(c.apply_node(0, true, t(20)));
        assert!(c.node_up(0));
        assert_eq!(c.node_up_since(0), t(20));
        assert_eq!(c.node_faults(0, t(30)), (1, SimDuration::from_secs(10)));
        assert!(c.apply_node(0, false, t(40)));
        assert_eq!(c.node_faults(0, t(45)), (2, SimDuration::from_secs(15)));
    }

    #[test]
    fn a_region_stays_dark_while_any_outage_covers_it() {
        let mut c = Connectivity { region_down: vec![0; 3], ..Connectivity::default() };
        let mut flips = Vec::new();
        c.apply_internet(1, false, |r| flips.push((r, false)));
        c.apply_internet(ALL_REGIONS, false, |r| flips.push((r, false)));
        assert_eq!(flips, vec![(1, false), (0, false), (2, false)]);
        flips.clear();
        c.apply_internet(1, true, |r| flips.push((r, true)));
        assert!(flips.is_empty() && !c.region_up(1), "the world-wide outage still covers region 1");
        c.apply_internet(ALL_REGIONS, true, |r| flips.push((r, true)));
        assert_eq!(flips, vec![(0, true), (1, true), (2, true)]);
        assert!((0..3).all(|r| c.region_up(r)));
    }
}
