//! Who an adversary is and what it watches: its specification (resolved from the scenario's
//! `[[adversary]]` tables) and, once an architecture has built its nodes, the concrete set of
//! nodes it holds and links it taps.
//!
//! An adversary is a set of observation points plus what it does with them. Points are nodes it
//! runs (the provider's servers, home servers, relays, a contact's phone) — it reads whatever those
//! nodes can read of each hop and knows what they forward — or links it taps (an ISP's region, every
//! link for a global passive observer), where it sees only addresses, timing and sizes (every link
//! is encrypted in all four apps). Which relays or servers it holds is drawn from the
//! `Purpose::Adversary` stream of the adversary's position, so two architectures with the same node
//! population give it the same nodes. The analysis of what it saw lives in the sibling modules.

use rand::RngExt;

use crate::engine::SimRng;
use crate::engine::observation::{NodeId, NodeKind, NodeKinds};
use crate::time::SimDuration;
use crate::world::{RegionId, UserId, World};

/// What the adversary does with what it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Collects what it sees, linking hops only where it knows they are the same message (it
    /// forwarded it, or the message carries a tag it can read).
    Passive,
    /// Also links observations by timing and size, and runs a statistical disclosure attack over
    /// repeated messages.
    Correlating,
}

/// How nodes are drawn from a population.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choose {
    /// Every node equally likely.
    Uniform,
    /// In proportion to the node's weight (bandwidth for relays, users hosted for home servers),
    /// as TorPS models an adversary that runs a share of Tor's bandwidth.
    Weighted,
}

/// Which nodes of a population the adversary holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodePick {
    /// The `k`-th largest by weight (1 = the largest); ties go to the lower address.
    Rank(u32),
    /// A share of the population: of its nodes (uniform) or of its total weight (weighted).
    Share(f64, Choose),
    /// A number of nodes.
    Count(u32, Choose),
}

/// Where the adversary observes.
#[derive(Clone, Debug, PartialEq)]
pub enum Vantage {
    /// Every provider server (the operator of a centralized service).
    Operator,
    /// Home servers of a federation.
    HomeServers(NodePick),
    /// Relay-like nodes: of each listed kind, the picked ones. When two kinds have the same number
    /// of nodes (an onion service node's relay and storage roles), the same positions are picked in
    /// both, so a compromised machine is compromised in every role.
    Relays(NodePick, Vec<NodeKind>),
    /// Every link with an end in the region (an ISP or a national network).
    Isp(RegionId),
    /// A user's device (a contact, a P2P peer); `None`: the user with the most contacts.
    Contact(Option<UserId>),
    /// Every link (a global passive observer).
    Global,
}

/// An adversary as the scenario declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct AdversarySpec {
    /// Label in outputs.
    pub name: String,
    /// Where it observes.
    pub vantage: Vantage,
    /// Passive or correlating.
    pub mode: Mode,
    /// Whether it uses network addresses (a device's IP address identifies its user). Off: an
    /// operator that keeps no connection logs, or users who reach it through Tor or a VPN.
    pub addresses: bool,
    /// Correlating: longest delay between a message entering the network and leaving it that the
    /// timing match considers.
    pub window: SimDuration,
    /// Correlating: smallest probability of the top candidate for the adversary to claim a link.
    pub confidence: f64,
    /// Correlating: whether sizes on the wire are compared (off: the adversary assumes padding).
    pub sizes: bool,
    /// Correlating: recipients targeted by the statistical disclosure attack (0: none).
    pub disclosure_targets: u32,
}

/// A bitset over addresses.
#[derive(Clone, Debug, Default)]
pub struct NodeSet {
    bits: Vec<u64>,
    len: u32,
}

impl NodeSet {
    /// An empty set over `n` addresses.
    pub fn new(n: u32) -> NodeSet {
        NodeSet { bits: vec![0; (n as usize).div_ceil(64)], len: 0 }
    }

    /// Adds `node`.
    pub fn insert(&mut self, node: NodeId) {
        let (w, b) = ((node / 64) as usize, node % 64);
        if self.bits[w] & (1 << b) == 0 {
            self.bits[w] |= 1 << b;
            self.len += 1;
        }
    }

    /// Whether `node` is in the set.
    #[inline]
    pub fn contains(&self, node: NodeId) -> bool {
        self.bits.get((node / 64) as usize).is_some_and(|w| w & (1 << (node % 64)) != 0)
    }

    /// Number of addresses in the set.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Which links an adversary taps.
#[derive(Clone, Debug)]
pub enum Links {
    /// None: it observes only at its nodes.
    None,
    /// Links with an end among these addresses (the region's devices and nodes).
    Touching(NodeSet),
    /// Every link.
    All,
}

/// The concrete observation points of one adversary in one architecture.
#[derive(Clone, Debug)]
pub struct View {
    /// Nodes it runs.
    pub nodes: NodeSet,
    /// Links it taps.
    pub links: Links,
    /// Whether the architecture has anything for this vantage (an operator of a federation has no
    /// provider server to run): outputs show its figures as undefined, not as zero.
    pub applicable: bool,
}

impl View {
    /// Whether the adversary runs `node`.
    #[inline]
    pub fn holds(&self, node: NodeId) -> bool {
        self.nodes.contains(node)
    }

    /// Whether the adversary taps the link `from -> to`.
    #[inline]
    pub fn taps(&self, from: NodeId, to: NodeId) -> bool {
        match &self.links {
            Links::None => false,
            Links::All => true,
            Links::Touching(set) => set.contains(from) || set.contains(to),
        }
    }

    /// Where `vantage` observes in an architecture whose nodes are `kinds`, drawing picks from
    /// `rng` (the adversary's own stream).
    pub fn resolve(vantage: &Vantage, kinds: &NodeKinds<'_>, world: &World, rng: &mut SimRng) -> View {
        let total = kinds.nodes();
        let mut nodes = NodeSet::new(total);
        let of_kind = |k: NodeKind| -> Vec<NodeId> { (kinds.users..total).filter(|&n| kinds.of(n) == k).collect() };
        let mut links = Links::None;
        let applicable = match vantage {
            Vantage::Operator => {
                for n in of_kind(NodeKind::ProviderServer) {
                    nodes.insert(n);
                }
                !nodes.is_empty()
            }
            Vantage::HomeServers(pick) => {
                let servers = of_kind(NodeKind::HomeServer);
                for i in pick_positions(&servers, kinds, *pick, rng) {
                    nodes.insert(servers[i]);
                }
                !nodes.is_empty()
            }
            Vantage::Relays(pick, node_kinds) => {
                let mut previous: Option<(usize, Vec<usize>)> = None;
                for &k in node_kinds {
                    let pop = of_kind(k);
                    if pop.is_empty() {
                        continue;
                    }
                    let positions = match &previous {
                        Some((n, pos)) if *n == pop.len() => pos.clone(),
                        _ => pick_positions(&pop, kinds, *pick, rng),
                    };
                    for &i in &positions {
                        nodes.insert(pop[i]);
                    }
                    previous = Some((pop.len(), positions));
                }
                !nodes.is_empty()
            }
            Vantage::Isp(region) => {
                let mut set = NodeSet::new(total);
                for n in 0..total {
                    if kinds.region(n) == *region {
                        set.insert(n);
                    }
                }
                links = Links::Touching(set);
                true
            }
            Vantage::Contact(user) => {
                let u = user.unwrap_or_else(|| most_contacts(world));
                if u < kinds.users {
                    nodes.insert(u);
                }
                true
            }
            Vantage::Global => {
                links = Links::All;
                true
            }
        };
        View { nodes, links, applicable }
    }
}

/// The user with the most contacts (the lowest id among equals).
pub fn most_contacts(world: &World) -> UserId {
    (0..world.users()).max_by_key(|&u| (world.contacts.degree(u), std::cmp::Reverse(u))).unwrap_or(0)
}

/// Positions (indices into `pop`) of the nodes a pick holds.
fn pick_positions(pop: &[NodeId], kinds: &NodeKinds<'_>, pick: NodePick, rng: &mut SimRng) -> Vec<usize> {
    let n = pop.len();
    if n == 0 {
        return Vec::new();
    }
    let weight = |i: usize| kinds.weight(pop[i]).max(0.0);
    match pick {
        NodePick::Rank(k) => {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)).then(pop[a].cmp(&pop[b])));
            order.get(k.saturating_sub(1) as usize).map(|&i| vec![i]).unwrap_or_default()
        }
        NodePick::Count(c, choose) => {
            let order = draw_order(n, choose, &weight, rng);
            let mut picked: Vec<usize> = order.into_iter().take(c as usize).collect();
            picked.sort_unstable();
            picked
        }
        NodePick::Share(share, Choose::Uniform) => {
            let count = if share > 0.0 { ((share * n as f64).round() as usize).clamp(1, n) } else { 0 };
            let order = draw_order(n, Choose::Uniform, &weight, rng);
            let mut picked: Vec<usize> = order.into_iter().take(count).collect();
            picked.sort_unstable();
            picked
        }
        NodePick::Share(share, Choose::Weighted) => {
            // Draw by weight until the adversary holds `share` of the population's weight.
            let total: f64 = (0..n).map(weight).sum();
            let target = share * total;
            let mut held = 0.0;
            let mut picked = Vec::new();
            for i in draw_order(n, Choose::Weighted, &weight, rng) {
                if held >= target - 1e-12 * total || share <= 0.0 {
                    break;
                }
                held += weight(i);
                picked.push(i);
            }
            picked.sort_unstable();
            picked
        }
    }
}

/// A random order of `0..n`: uniform, or weighted sampling without replacement (Efraimidis and
/// Spirakis' keys `u^(1/w)`, largest first).
fn draw_order(n: usize, choose: Choose, weight: &dyn Fn(usize) -> f64, rng: &mut SimRng) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            let key = match choose {
                Choose::Uniform => u,
                Choose::Weighted => {
                    let w = weight(i);
                    if w > 0.0 { u.ln() / w } else { f64::NEG_INFINITY }
                }
            };
            (key, i)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn kinds<'a>(
        infra: &'a [NodeKind],
        weights: &'a [f64],
        regions: &'a [RegionId],
        users: &'a [RegionId],
    ) -> NodeKinds<'a> {
        NodeKinds { users: users.len() as u32, infra, weights, user_regions: users, infra_regions: regions }
    }

    #[test]
    fn rank_picks_by_weight_and_shares_by_count_or_weight() {
        let infra = [NodeKind::HomeServer; 5];
        let weights = [10.0, 50.0, 20.0, 15.0, 5.0];
        let regions = [0u8; 5];
        let users = [0u8; 3];
        let k = kinds(&infra, &weights, &regions, &users);
        let pop: Vec<NodeId> = (3..8).collect();
        let mut rng = stream(1, Purpose::Adversary, 0);
        assert_eq!(pick_positions(&pop, &k, NodePick::Rank(1), &mut rng), vec![1]);
        assert_eq!(pick_positions(&pop, &k, NodePick::Rank(2), &mut rng), vec![2]);
        assert!(pick_positions(&pop, &k, NodePick::Rank(6), &mut rng).is_empty());
        assert_eq!(pick_positions(&pop, &k, NodePick::Share(0.4, Choose::Uniform), &mut rng).len(), 2);
        assert_eq!(pick_positions(&pop, &k, NodePick::Share(1.0, Choose::Weighted), &mut rng), vec![0, 1, 2, 3, 4]);
        let held = pick_positions(&pop, &k, NodePick::Share(0.3, Choose::Weighted), &mut rng);
        let w: f64 = held.iter().map(|&i| weights[i]).sum();
        assert!(w >= 30.0, "holds {w} of 100");
    }

    #[test]
    fn weighted_draws_favour_heavy_nodes() {
        let weights: Vec<f64> = (0..100).map(|i| if i < 10 { 10.0 } else { 1.0 }).collect();
        let mut heavy = 0;
        let mut rng = stream(3, Purpose::Adversary, 0);
        for _ in 0..200 {
            let first = draw_order(100, Choose::Weighted, &|i| weights[i], &mut rng)[0];
            heavy += (first < 10) as u32;
        }
        // 10 nodes hold 100 of 190 weight: the first draw is heavy with probability 0.53.
        assert!((80..=135).contains(&heavy), "{heavy}");
    }
}
