//! The social graph: who may message whom, and the rooms (groups) people share.
//!
//! This is the one module that knows petgraph. Generators build an undirected petgraph graph,
//! which is then frozen into [`Contacts`], a compressed adjacency list in two flat vectors, so
//! the hot path (picking a recipient) is two array reads and the graph's memory is 4 bytes per
//! directed edge.

use petgraph::graph::{NodeIndex, UnGraph};
use rand::RngExt;

use crate::rng::SimRng;

/// How the social graph is generated.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum SocialModel {
    /// Watts-Strogatz: a ring where each user knows `degree` neighbours, each edge rewired to a
    /// random user with probability `rewire`. High clustering, short paths.
    SmallWorld { degree: u32, rewire: f64 },
    /// Barabási-Albert: each new user links to `links` existing users chosen in proportion to
    /// their degree. A few hubs, many users with few contacts.
    PreferentialAttachment { links: u32 },
    /// Everyone may message everyone; no edges are stored.
    Complete,
}

/// Who may message whom: a compressed adjacency list, or "everyone".
#[derive(Clone, Debug)]
pub struct Contacts {
    users: u32,
    /// `offsets[u]..offsets[u + 1]` indexes `targets` for user `u`; empty for [`SocialModel::Complete`].
    offsets: Vec<u64>,
    targets: Vec<u32>,
    complete: bool,
}

impl Contacts {
    /// Builds the graph for `users` people with the given model.
    pub fn generate(users: u32, model: &SocialModel, rng: &mut SimRng) -> Contacts {
        match *model {
            SocialModel::Complete => Contacts { users, offsets: Vec::new(), targets: Vec::new(), complete: true },
            SocialModel::SmallWorld { degree, rewire } => Self::freeze(small_world(users, degree, rewire, rng)),
            SocialModel::PreferentialAttachment { links } => Self::freeze(preferential_attachment(users, links, rng)),
        }
    }

    fn freeze(graph: UnGraph<(), ()>) -> Contacts {
        let users = graph.node_count() as u32;
        let mut degree = vec![0u64; users as usize + 1];
        for e in graph.raw_edges() {
            degree[e.source().index()] += 1;
            degree[e.target().index()] += 1;
        }
        let mut offsets = Vec::with_capacity(users as usize + 1);
        let mut acc = 0u64;
        for d in &degree[..users as usize] {
            offsets.push(acc);
            acc += d;
        }
        offsets.push(acc);
        let mut fill: Vec<u64> = offsets[..users as usize].to_vec();
        let mut targets = vec![0u32; acc as usize];
        for e in graph.raw_edges() {
            let (a, b) = (e.source().index(), e.target().index());
            targets[fill[a] as usize] = b as u32;
            fill[a] += 1;
            targets[fill[b] as usize] = a as u32;
            fill[b] += 1;
        }
        // Sorted neighbour lists make lookups and outputs independent of edge insertion order.
        for u in 0..users as usize {
            targets[offsets[u] as usize..offsets[u + 1] as usize].sort_unstable();
        }
        Contacts { users, offsets, targets, complete: false }
    }

    /// Number of users.
    pub fn users(&self) -> u32 {
        self.users
    }

    /// Whether everyone may message everyone.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// How many contacts `user` has.
    pub fn degree(&self, user: u32) -> u32 {
        if self.complete {
            self.users.saturating_sub(1)
        } else {
            (self.offsets[user as usize + 1] - self.offsets[user as usize]) as u32
        }
    }

    /// The contacts of `user` (empty for the complete graph, which stores none).
    pub fn of(&self, user: u32) -> &[u32] {
        if self.complete {
            &[]
        } else {
            &self.targets[self.offsets[user as usize] as usize..self.offsets[user as usize + 1] as usize]
        }
    }

    /// Whether `a` and `b` are contacts.
    pub fn are_contacts(&self, a: u32, b: u32) -> bool {
        if self.complete { a != b } else { self.of(a).binary_search(&b).is_ok() }
    }

    /// Starts loading `user`'s contact list from memory, so that a [`Self::random_contact`] a
    /// little later does not stall on it (the list is one or two cache lines of a large, randomly
    /// read array; the processor overlaps the load with the work in between). Changes no result.
    #[inline]
    pub fn prefetch(&self, user: u32) {
        if let Some(&start) = self.offsets.get(user as usize) {
            std::hint::black_box(self.targets.get(start as usize).copied());
        }
    }

    /// A uniformly random contact of `user`, or `None` if the user has none.
    #[inline]
    pub fn random_contact<R: rand::Rng + ?Sized>(&self, user: u32, rng: &mut R) -> Option<u32> {
        if self.complete {
            if self.users < 2 {
                return None;
            }
            let r = rng.random_range(0..self.users - 1);
            return Some(if r >= user { r + 1 } else { r });
        }
        let list = self.of(user);
        (!list.is_empty()).then(|| list[rng.random_range(0..list.len())])
    }

    /// Number of undirected contact edges.
    pub fn edge_count(&self) -> u64 {
        if self.complete {
            self.users as u64 * (self.users as u64).saturating_sub(1) / 2
        } else {
            self.targets.len() as u64 / 2
        }
    }
}

fn small_world(users: u32, degree: u32, rewire: f64, rng: &mut SimRng) -> UnGraph<(), ()> {
    let n = users as usize;
    let half = (degree / 2) as usize;
    let mut graph = UnGraph::<(), ()>::with_capacity(n, n * half);
    for _ in 0..n {
        graph.add_node(());
    }
    if n < 2 {
        return graph;
    }
    // Edges are kept in a set while rewiring so that no duplicate or self edge appears. The set
    // is iterated once and sorted, so its hash (a fast, non-cryptographic one) changes no result.
    let mut edges = rustc_hash::FxHashSet::with_capacity_and_hasher(n * half, Default::default());
    let key = |a: usize, b: usize| if a < b { (a as u32, b as u32) } else { (b as u32, a as u32) };
    for i in 0..n {
        for j in 1..=half.min(n - 1) {
            edges.insert(key(i, (i + j) % n));
        }
    }
    let mut ordered: Vec<(u32, u32)> = edges.iter().copied().collect();
    ordered.sort_unstable();
    for edge in ordered.iter_mut() {
        if rng.random_bool(rewire.clamp(0.0, 1.0)) {
            let a = edge.0 as usize;
            for _ in 0..16 {
                let b = rng.random_range(0..n);
                if b != a && !edges.contains(&key(a, b)) {
                    edges.remove(&key(edge.0 as usize, edge.1 as usize));
                    edges.insert(key(a, b));
                    *edge = key(a, b);
                    break;
                }
            }
        }
    }
    for (a, b) in ordered {
        graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), ());
    }
    graph
}

fn preferential_attachment(users: u32, links: u32, rng: &mut SimRng) -> UnGraph<(), ()> {
    let n = users as usize;
    let m = (links as usize).max(1);
    let mut graph = UnGraph::<(), ()>::with_capacity(n, n * m);
    for _ in 0..n {
        graph.add_node(());
    }
    // `ends` lists every edge endpoint, so a uniform pick from it is a pick by degree.
    let mut ends: Vec<u32> = Vec::with_capacity(2 * n * m);
    let seed = (m + 1).min(n);
    for a in 0..seed {
        for b in a + 1..seed {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
            ends.push(a as u32);
            ends.push(b as u32);
        }
    }
    let mut chosen: Vec<u32> = Vec::with_capacity(m);
    for v in seed..n {
        chosen.clear();
        while chosen.len() < m.min(v) {
            let t = ends[rng.random_range(0..ends.len())];
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        for &t in &chosen {
            graph.add_edge(NodeIndex::new(v), NodeIndex::new(t as usize), ());
            ends.push(v as u32);
            ends.push(t);
        }
    }
    graph
}

/// Groups of users who message each other as a room, stored as flat member lists.
#[derive(Clone, Debug, Default)]
pub struct Rooms {
    offsets: Vec<u32>,
    members: Vec<u32>,
    /// `user_offsets[u]..user_offsets[u + 1]` indexes `user_rooms` for user `u`.
    user_offsets: Vec<u32>,
    user_rooms: Vec<u32>,
}

impl Rooms {
    /// `count` rooms of `size` members each: a random founder plus contacts of the founder where it
    /// has enough, random users otherwise (rooms gather people who know each other).
    pub fn generate(count: u32, size: u32, contacts: &Contacts, rng: &mut SimRng) -> Rooms {
        let users = contacts.users();
        let size = size.min(users);
        let mut offsets = vec![0u32];
        let mut members = Vec::with_capacity((count * size) as usize);
        let mut room: Vec<u32> = Vec::with_capacity(size as usize);
        for _ in 0..count {
            room.clear();
            if size == 0 {
                offsets.push(members.len() as u32);
                continue;
            }
            let founder = rng.random_range(0..users);
            room.push(founder);
            let mut tries = 0;
            while (room.len() as u32) < size && tries < 64 * size {
                tries += 1;
                let pick = match contacts.random_contact(founder, rng) {
                    Some(c) if tries < 8 * size => c,
                    _ => rng.random_range(0..users),
                };
                if !room.contains(&pick) {
                    room.push(pick);
                }
            }
            room.sort_unstable();
            members.extend_from_slice(&room);
            offsets.push(members.len() as u32);
        }
        let mut per_user = vec![0u32; users as usize + 1];
        for &m in &members {
            per_user[m as usize] += 1;
        }
        let mut user_offsets = Vec::with_capacity(users as usize + 1);
        let mut acc = 0;
        for &c in &per_user[..users as usize] {
            user_offsets.push(acc);
            acc += c;
        }
        user_offsets.push(acc);
        let mut fill = user_offsets.clone();
        let mut user_rooms = vec![0u32; acc as usize];
        for r in 0..count as usize {
            for &m in &members[offsets[r] as usize..offsets[r + 1] as usize] {
                user_rooms[fill[m as usize] as usize] = r as u32;
                fill[m as usize] += 1;
            }
        }
        Rooms { offsets, members, user_offsets, user_rooms }
    }

    /// Number of rooms.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there are no rooms.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members of room `room`, sorted.
    pub fn members(&self, room: u32) -> &[u32] {
        &self.members[self.offsets[room as usize] as usize..self.offsets[room as usize + 1] as usize]
    }

    /// The rooms `user` belongs to.
    pub fn of(&self, user: u32) -> &[u32] {
        if self.user_offsets.is_empty() {
            return &[];
        }
        &self.user_rooms[self.user_offsets[user as usize] as usize..self.user_offsets[user as usize + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn small_world_without_rewiring_is_a_ring_lattice() {
        let mut rng = stream(1, Purpose::Social, 0);
        let c = Contacts::generate(100, &SocialModel::SmallWorld { degree: 4, rewire: 0.0 }, &mut rng);
        assert_eq!(c.edge_count(), 200);
        assert_eq!(c.of(0), &[1, 2, 98, 99]);
        assert!((0..100).all(|u| c.degree(u) == 4));
    }

    #[test]
    fn small_world_rewiring_keeps_edge_count_and_no_self_loops() {
        let mut rng = stream(1, Purpose::Social, 0);
        let c = Contacts::generate(1000, &SocialModel::SmallWorld { degree: 10, rewire: 0.3 }, &mut rng);
        assert_eq!(c.edge_count(), 5000);
        assert!((0..1000).all(|u| !c.of(u).contains(&u)));
        assert!((0..1000).all(|u| c.of(u).windows(2).all(|w| w[0] < w[1])), "duplicate edge");
    }

    #[test]
    fn preferential_attachment_makes_hubs() {
        let mut rng = stream(1, Purpose::Social, 0);
        let c = Contacts::generate(5000, &SocialModel::PreferentialAttachment { links: 3 }, &mut rng);
        let max = (0..5000).map(|u| c.degree(u)).max().unwrap();
        let mean = 2.0 * c.edge_count() as f64 / 5000.0;
        assert!((mean - 6.0).abs() < 0.1, "mean degree {mean}");
        // Scale-free graphs have hubs far above the mean; a random graph of this mean would not.
        assert!(max as f64 > 10.0 * mean, "max degree {max}");
    }

    #[test]
    fn complete_graph_picks_anyone_but_self() {
        let mut rng = stream(1, Purpose::Social, 0);
        let c = Contacts::generate(3, &SocialModel::Complete, &mut rng);
        for _ in 0..100 {
            assert_ne!(c.random_contact(1, &mut rng), Some(1));
        }
        assert_eq!(c.degree(0), 2);
    }

    #[test]
    fn rooms_index_both_ways() {
        let mut rng = stream(1, Purpose::Social, 0);
        let c = Contacts::generate(200, &SocialModel::SmallWorld { degree: 6, rewire: 0.1 }, &mut rng);
        let rooms = Rooms::generate(20, 5, &c, &mut rng);
        assert_eq!(rooms.len(), 20);
        for r in 0..20 {
            assert_eq!(rooms.members(r).len(), 5);
            for &m in rooms.members(r) {
                assert!(rooms.of(m).contains(&r));
            }
        }
    }
}
