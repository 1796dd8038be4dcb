//! The service-node population of the onion architecture: where each node sits, its bandwidth,
//! when it is up, how a client picks a path through the population, and how nodes form the
//! storage swarms that hold messages for recipients.
//!
//! Every service node is one machine with two roles, as in Session/Oxen: it relays onion layers
//! and it stores messages as a member of one swarm. It therefore has two network addresses (a
//! [`NodeKind::Relay`] one and a [`NodeKind::Storage`] one, in two consecutive blocks) that share
//! one region and one up/down state. This module owns that state; the delivery model in the
//! parent module decides what travels where.
//!
//! Churn is lazy: each node alternates exponential up and down periods drawn from its own random
//! stream, and its state is advanced only when someone asks at the current simulated time (the
//! next toggle time is stored per node), so a run schedules no event per node toggle and the
//! timeline of a node does not depend on who asked when.

use rand::RngExt;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};

use crate::dist::Dist;
pub use crate::engine::Churn;
use crate::engine::SimRng;
use crate::engine::observation::NodeId;
use crate::rng::splitmix64;
use crate::time::{SimDuration, SimTime};

/// How clients weight service nodes when they pick a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every node equally likely (Session picks random nodes from its pool).
    Uniform,
    /// Proportional to bandwidth (Tor's path selection weights by measured bandwidth).
    Bandwidth,
}

/// The service nodes and their swarms.
pub struct Relays {
    /// Address of node 0's relay role; node `i` relays at `relay_base + i`.
    relay_base: NodeId,
    /// Address of node 0's storage role; node `i` stores at `storage_base + i`.
    storage_base: NodeId,
    /// Cumulative bandwidth, for weighted picks by binary search.
    cumulative: Vec<f64>,
    bandwidth: Vec<f64>,
    selection: Selection,
    churn: Option<(Exp<f64>, Exp<f64>)>,
    up: Vec<bool>,
    next_toggle: Vec<SimTime>,
    churn_rng: Vec<SimRng>,
    swarm_offsets: Vec<u32>,
    swarm_members: Vec<u32>,
    swarm_salt: u64,
}

impl Relays {
    /// A population of `count` nodes whose relay and storage addresses start at the given bases.
    /// Bandwidths, initial states, churn streams, swarms and the hash salt are drawn from `rng`
    /// (the architecture's infrastructure stream).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        relay_base: NodeId,
        storage_base: NodeId,
        count: usize,
        bandwidth: &Dist,
        selection: Selection,
        churn: Option<Churn>,
        swarm_size: u32,
        rng: &mut SimRng,
    ) -> Relays {
        let bandwidth: Vec<f64> = (0..count).map(|_| bandwidth.sample(rng).max(f64::MIN_POSITIVE)).collect();
        let cumulative = bandwidth
            .iter()
            .scan(0.0, |acc, b| {
                *acc += b;
                Some(*acc)
            })
            .collect();
        let samplers = churn.map(|c| {
            (
                Exp::new(1.0 / c.mean_up.as_secs_f64().max(1e-6)).expect("positive mean"),
                Exp::new(1.0 / c.mean_down.as_secs_f64().max(1e-6)).expect("positive mean"),
            )
        });
        let mut up = vec![true; count];
        let mut next_toggle = vec![SimTime::NEVER; count];
        let mut churn_rng = Vec::new();
        if let (Some(c), Some((up_exp, down_exp))) = (churn, &samplers) {
            // Start each node in its stationary state; exponential periods are memoryless, so the
            // residual period is a fresh draw.
            for i in 0..count {
                let mut r = SimRng::seed_from_u64(rng.random());
                let is_up = r.random_bool(c.availability().clamp(0.0, 1.0));
                let first = if is_up { up_exp.sample(&mut r) } else { down_exp.sample(&mut r) };
                up[i] = is_up;
                next_toggle[i] = SimTime::ZERO + SimDuration::from_secs_f64(first).max(SimDuration(1));
                churn_rng.push(r);
            }
        }
        // Swarms: shuffle the nodes and cut them into floor(n / size) groups of near-equal size.
        let mut order: Vec<u32> = (0..count as u32).collect();
        for i in (1..order.len()).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let swarms = (count / swarm_size.max(1) as usize).max(1);
        let swarm_offsets = (0..=swarms).map(|j| (j * count / swarms) as u32).collect();
        Relays {
            relay_base,
            storage_base,
            cumulative,
            bandwidth,
            selection,
            churn: samplers,
            up,
            next_toggle,
            churn_rng,
            swarm_offsets,
            swarm_members: order,
            swarm_salt: rng.random(),
        }
    }

    /// A population with no nodes, before the model's `init` builds the real one.
    pub fn empty() -> Relays {
        let mut rng = SimRng::seed_from_u64(0);
        Relays::new(0, 0, 0, &Dist::Constant(1.0), Selection::Uniform, None, 1, &mut rng)
    }

    /// Number of service nodes.
    pub fn len(&self) -> usize {
        self.bandwidth.len()
    }

    /// Whether there are no nodes (never true for a resolved scenario).
    pub fn is_empty(&self) -> bool {
        self.bandwidth.is_empty()
    }

    /// The relay address of node `i`.
    #[inline]
    pub fn relay_node(&self, i: u32) -> NodeId {
        self.relay_base + i
    }

    /// The storage address of node `i`.
    #[inline]
    pub fn storage_node(&self, i: u32) -> NodeId {
        self.storage_base + i
    }

    /// Whether node `i` is up at `now`. Queries for one node must come in non-decreasing time
    /// order, which holds when they are made at the engine's current time.
    #[inline]
    pub fn is_up(&mut self, i: u32, now: SimTime) -> bool {
        let i = i as usize;
        if let Some((up_exp, down_exp)) = &self.churn {
            while self.next_toggle[i] <= now {
                let now_up = !self.up[i];
                self.up[i] = now_up;
                let d = if now_up {
                    up_exp.sample(&mut self.churn_rng[i])
                } else {
                    down_exp.sample(&mut self.churn_rng[i])
                };
                self.next_toggle[i] += SimDuration::from_secs_f64(d).max(SimDuration(1));
            }
        }
        self.up[i]
    }

    /// One node drawn by the selection rule, never one of `exclude` (nodes already on the path).
    /// `exclude` must leave at least one node.
    pub fn pick(&self, rng: &mut SimRng, exclude: &[u32]) -> u32 {
        let n = self.len() as u32;
        debug_assert!((exclude.len() as u32) < n, "nothing left to pick");
        // Rejection is fast while paths are short against the population; the exact fallback
        // below covers skewed weights or tiny populations.
        for _ in 0..64 {
            let i = self.draw(rng);
            if !exclude.contains(&i) {
                return i;
            }
        }
        let weight = |i: u32| match self.selection {
            Selection::Uniform => 1.0,
            Selection::Bandwidth => self.bandwidth[i as usize],
        };
        let total: f64 = (0..n).filter(|i| !exclude.contains(i)).map(weight).sum();
        let mut x = rng.random::<f64>() * total;
        let mut last = 0;
        for i in (0..n).filter(|i| !exclude.contains(i)) {
            last = i;
            x -= weight(i);
            if x < 0.0 {
                return i;
            }
        }
        last
    }

    fn draw(&self, rng: &mut SimRng) -> u32 {
        match self.selection {
            Selection::Uniform => rng.random_range(0..self.len() as u32),
            Selection::Bandwidth => {
                let total = *self.cumulative.last().expect("at least one node");
                let x = rng.random::<f64>() * total;
                self.cumulative.partition_point(|&c| c <= x).min(self.len() - 1) as u32
            }
        }
    }

    /// Number of swarms.
    pub fn swarms(&self) -> u32 {
        (self.swarm_offsets.len() - 1) as u32
    }

    /// The swarm responsible for a key (a user's or a room's identity): a salted hash, so that
    /// keys spread uniformly over swarms as public keys do over Oxen's swarm-id space.
    #[inline]
    pub fn swarm_of(&self, key: u64) -> u32 {
        (splitmix64(self.swarm_salt ^ key) % self.swarms() as u64) as u32
    }

    /// The members (node indices) of swarm `s`.
    #[inline]
    pub fn members(&self, s: u32) -> &[u32] {
        &self.swarm_members[self.swarm_offsets[s as usize] as usize..self.swarm_offsets[s as usize + 1] as usize]
    }

    /// Bandwidth of node `i`, in bytes per second.
    pub fn bandwidth(&self, i: u32) -> f64 {
        self.bandwidth[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn population(count: usize, selection: Selection, churn: Option<Churn>) -> Relays {
        let bw = Dist::lognormal_median(1e6, 1.5).unwrap();
        Relays::new(
            100,
            100 + count as u32,
            count,
            &bw,
            selection,
            churn,
            7,
            &mut stream(3, Purpose::Infrastructure, 0),
        )
    }

    #[test]
    fn swarms_partition_every_node_once_with_sizes_near_the_target() {
        let r = population(2000, Selection::Uniform, None);
        assert_eq!(r.swarms(), 285);
        let mut seen = vec![0u32; 2000];
        for s in 0..r.swarms() {
            let m = r.members(s);
            assert!((7..=8).contains(&m.len()), "swarm {s} has {} members", m.len());
            for &i in m {
                seen[i as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
        // A small population still gets one swarm holding everyone.
        let small = population(4, Selection::Uniform, None);
        assert_eq!((small.swarms(), small.members(0).len()), (1, 4));
    }

    #[test]
    fn picks_never_repeat_an_excluded_node_even_when_one_is_left() {
        let r = population(5, Selection::Bandwidth, None);
        let mut rng = stream(9, Purpose::Model, 0);
        for _ in 0..200 {
            assert_eq!(r.pick(&mut rng, &[0, 1, 2, 3]), 4);
        }
    }

    #[test]
    fn bandwidth_weighting_follows_the_weights() {
        // Share of picks of the largest node against its share of total bandwidth, within five
        // binomial standard errors.
        let r = population(200, Selection::Bandwidth, None);
        let total: f64 = (0..200).map(|i| r.bandwidth(i)).sum();
        let top = (0..200).max_by(|&a, &b| r.bandwidth(a).total_cmp(&r.bandwidth(b))).unwrap();
        let p = r.bandwidth(top) / total;
        let n = 100_000;
        let mut rng = stream(5, Purpose::Model, 0);
        let hits = (0..n).filter(|_| r.pick(&mut rng, &[]) == top).count() as f64;
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((hits / n as f64 - p).abs() < 5.0 * se, "top node picked {} vs weight share {p}", hits / n as f64);
        assert!(p > 5.0 / 200.0, "a lognormal(sigma 1.5) population should have a node far above the mean");
    }

    #[test]
    fn lazy_churn_matches_the_long_run_availability() {
        // Sample every node's state on a coarse time grid; the share up estimates the stationary
        // availability u / (u + d). Samples one period apart are nearly independent, so the
        // binomial standard error (inflated by 2 for the remaining correlation) bounds the error.
        let churn = Churn { mean_up: SimDuration::from_secs(3000), mean_down: SimDuration::from_secs(1000) };
        let mut r = population(500, Selection::Uniform, Some(churn));
        let (mut up, mut n) = (0u64, 0u64);
        for step in 0..200u64 {
            let t = SimTime::ZERO + SimDuration::from_secs(step * 4000);
            for i in 0..500 {
                up += r.is_up(i, t) as u64;
                n += 1;
            }
        }
        let p = churn.availability();
        let got = up as f64 / n as f64;
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((got - p).abs() < 2.0 * 5.0 * se, "up share {got} vs {p}");
    }

    #[test]
    fn churn_timeline_does_not_depend_on_how_often_it_is_queried() {
        let churn = Churn { mean_up: SimDuration::from_secs(60), mean_down: SimDuration::from_secs(30) };
        let mut often = population(20, Selection::Uniform, Some(churn));
        let mut rarely = population(20, Selection::Uniform, Some(churn));
        for s in 0..10_000u64 {
            let t = SimTime::ZERO + SimDuration::from_secs(s);
            for i in 0..20 {
                let a = often.is_up(i, t);
                if s % 97 == 0 {
                    assert_eq!(a, rarely.is_up(i, t), "node {i} at {s}s");
                }
            }
        }
    }
}
