//! A Kademlia-like overlay over the users' devices: 64-bit node IDs, the XOR metric, k-buckets,
//! and the iterative α-parallel lookup (Maymounkov & Mazières, IPTPS 2002; k = 20 and α = 3 from
//! libp2p and the XLattice spec, DEFAULTS.md §8).
//!
//! The overlay owns the node IDs and answers "whom does node x know near target t" and "how many
//! rounds does x need to find t". It does not use petgraph: a converged Kademlia routing table is
//! fully described by the sorted ID table, so the overlay is a few flat vectors. Bucket `j` of node
//! `x` holds up to `k` of the nodes whose ID shares its first `j` bits with `x`'s and differs at bit
//! `j`; those candidates are one contiguous range of the sorted IDs, and a bucket's entries are a
//! stratified sample of that range (`k` evenly spaced positions from an offset hashed from `x` and
//! `j`), fixed for the run. Buckets are materialised on demand, never stored, so a million-node
//! overlay costs under 30 bytes per node instead of the ~300 routing entries per node a stored table
//! would need. Modelled as converged and live: every bucket is as full as the network allows
//! (Kademlia refreshes buckets hourly and evicts dead entries — XLattice tRefresh = 3600 s), so
//! lookups never time out on stale entries (ASSUMPTION; real networks lose RPCs to churn).
//!
//! IDs are 64 bits rather than Kademlia's 160: only the first ~log2(n) bits ever separate nodes,
//! so the lookup is unchanged for any n a scenario can hold.
//!
//! Lookup: the querier starts from the `k` entries of its own table closest to the target, then
//! in each round sends FIND_NODE to the `α` closest nodes it has not yet queried, waits for all of
//! them (strict rounds: the round lasts as long as its slowest reply, a slight over-estimate of
//! Kademlia's asynchronous lookup), merges their replies into a shortlist of the `k` closest, and
//! stops as soon as a reply contains the target. A round is a "hop".

use rand::RngExt;

use crate::rng::{SimRng, splitmix64};
use crate::time::SimDuration;

/// A node's position in the overlay: the same number as the user it belongs to.
pub type OverlayNode = u32;

/// The overlay: node IDs and the sorted ID table the routing tables are read from.
#[derive(Clone, Debug)]
pub struct Overlay {
    ids: Vec<u64>,
    sorted: Vec<u64>,
    order: Vec<OverlayNode>,
    k: usize,
    salt: u64,
    /// `index[p]`: first sorted position whose ID's top `index_bits` bits are at least `p`, so a
    /// search starts in a range of a few entries instead of the whole table.
    index: Vec<u32>,
    index_bits: u32,
}

/// The outcome of one iterative lookup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    /// Whether the target's contact was found.
    pub found: bool,
    /// Sequential rounds of queries (the lookup's hop count); 0 if the querier already knew it.
    pub rounds: u32,
    /// FIND_NODE requests sent (each one request and one reply on the wire).
    pub rpcs: u32,
    /// Time from the first request to the reply that named the target.
    pub latency: SimDuration,
}

/// Reusable buffers for lookups, so a lookup allocates nothing once warmed up.
#[derive(Clone, Debug, Default)]
pub struct LookupScratch {
    shortlist: Vec<(u64, OverlayNode, bool)>,
    reply: Vec<OverlayNode>,
    picks: Vec<OverlayNode>,
    /// `seen[node] == stamp`: the node was already put on this lookup's shortlist.
    seen: Vec<u32>,
    stamp: u32,
}

impl Overlay {
    /// Builds an overlay of `n` nodes with bucket size `k`; node IDs are distinct uniform draws.
    pub fn build(n: u32, k: u32, rng: &mut SimRng) -> Overlay {
        let mut ids: Vec<u64> = (0..n).map(|_| rng.random::<u64>()).collect();
        // Duplicate IDs (probability ~n²/2^65) are redrawn so the metric separates every node.
        loop {
            let mut pairs: Vec<(u64, OverlayNode)> = ids.iter().copied().zip(0..n).collect();
            pairs.sort_unstable();
            let dup = pairs.windows(2).find(|w| w[0].0 == w[1].0).map(|w| w[1].1);
            match dup {
                Some(node) => ids[node as usize] = rng.random::<u64>(),
                None => {
                    let (sorted, order): (Vec<u64>, Vec<OverlayNode>) = pairs.into_iter().unzip();
                    let index_bits = (n.max(2) as f64).log2().ceil().clamp(1.0, 24.0) as u32;
                    let mut index = Vec::with_capacity((1usize << index_bits) + 1);
                    let mut pos = 0usize;
                    for p in 0..=(1u64 << index_bits) {
                        while pos < sorted.len() && (sorted[pos] >> (64 - index_bits)) < p {
                            pos += 1;
                        }
                        index.push(pos as u32);
                    }
                    return Overlay { ids, sorted, order, k: k.max(1) as usize, salt: rng.random(), index, index_bits };
                }
            }
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the overlay has no nodes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ID of `node`.
    #[inline]
    pub fn id(&self, node: OverlayNode) -> u64 {
        self.ids[node as usize]
    }

    /// Appends the entries of bucket `j` (0 = the far half of the ID space) of `node` to `out`.
    pub fn bucket(&self, node: OverlayNode, j: u32, out: &mut Vec<OverlayNode>) {
        debug_assert!(j < 64);
        let x = self.ids[node as usize];
        let bit = 1u64 << (63 - j);
        let keep = if j == 0 { 0 } else { !0u64 << (64 - j) };
        let lo_id = (x & keep) | (!x & bit);
        let hi_id = lo_id | (bit - 1);
        let lo = self.lower_bound(lo_id);
        let hi = self.upper_bound(hi_id);
        self.sample(node, j, lo, hi, out);
    }

    /// First sorted position with an ID at least `v`.
    fn lower_bound(&self, v: u64) -> usize {
        let p = (v >> (64 - self.index_bits)) as usize;
        let (a, b) = (self.index[p] as usize, self.index[p + 1] as usize);
        a + self.sorted[a..b].partition_point(|&x| x < v)
    }

    /// First sorted position with an ID above `v`.
    fn upper_bound(&self, v: u64) -> usize {
        let p = (v >> (64 - self.index_bits)) as usize;
        let (a, b) = (self.index[p] as usize, self.index[p + 1] as usize);
        a + self.sorted[a..b].partition_point(|&x| x <= v)
    }

    /// Appends bucket `j` of `node`, whose candidates are sorted positions `lo..hi`: all of them
    /// if at most `k`, else a stratified sample (k evenly spaced positions from an offset hashed
    /// from the node and the bucket, so the bucket is the same every time it is read).
    fn sample(&self, node: OverlayNode, j: u32, lo: usize, hi: usize, out: &mut Vec<OverlayNode>) {
        let len = hi - lo;
        if len <= self.k {
            out.extend_from_slice(&self.order[lo..hi]);
            return;
        }
        let offset = (splitmix64(self.salt ^ ((node as u64) << 8) ^ j as u64) % len as u64) as usize;
        for i in 0..self.k {
            let p = (offset + i * len / self.k) % len;
            out.push(self.order[lo + p]);
        }
    }

    /// Appends to `out` the (up to) `k` nodes of `node`'s routing table closest to `target` by
    /// XOR distance, in no particular order: its FIND_NODE reply.
    pub fn closest_known(&self, node: OverlayNode, target: u64, out: &mut Vec<OverlayNode>) {
        let start = out.len();
        let x = self.ids[node as usize];
        let c = (x ^ target).leading_zeros();
        if c >= 64 {
            // Asked about itself: it knows itself.
            out.push(node);
            return;
        }
        // Bucket c holds the nodes closer to the target than `node` is; deeper buckets come next
        // (they share bit c with `node`, so they are farther than bucket c but nearer than
        // shallower buckets). Walk down `node`'s own prefix range, splitting it bit by bit, so
        // each deeper bucket costs a search within a shrinking range.
        let keep = if c == 0 { 0 } else { !0u64 << (64 - c) };
        let mut lo = self.lower_bound(x & keep);
        let mut hi = self.upper_bound((x & keep) | !keep);
        for j in c..64 {
            if hi - lo <= 1 || (j > c && out.len() - start >= self.k) {
                break;
            }
            let bit = 1u64 << (63 - j);
            let mid = lo + self.sorted[lo..hi].partition_point(|&v| v & bit == 0);
            let (other, same) = if x & bit == 0 { ((mid, hi), (lo, mid)) } else { ((lo, mid), (mid, hi)) };
            self.sample(node, j, other.0, other.1, out);
            (lo, hi) = same;
        }
        if out.len() - start > self.k {
            out[start..].sort_unstable_by_key(|&n| self.ids[n as usize] ^ target);
            out.truncate(start + self.k);
        }
    }

    /// Runs an iterative lookup from `from` for the node `target`, with `alpha` queries per
    /// round. `rpc(querier, queried)` returns the round-trip time of one request and records its
    /// cost; it is called once per request, in order.
    pub fn lookup(
        &self,
        from: OverlayNode,
        target: OverlayNode,
        alpha: u32,
        scratch: &mut LookupScratch,
        mut rpc: impl FnMut(OverlayNode, OverlayNode) -> SimDuration,
    ) -> Lookup {
        let t = self.ids[target as usize];
        let LookupScratch { shortlist, reply, picks, seen, stamp } = scratch;
        if seen.len() < self.ids.len() {
            seen.resize(self.ids.len(), 0);
        }
        *stamp = stamp.wrapping_add(1);
        if *stamp == 0 {
            seen.fill(0);
            *stamp = 1;
        }
        let stamp = *stamp;
        shortlist.clear();
        reply.clear();
        self.closest_known(from, t, reply);
        let mut out = Lookup::default();
        if reply.contains(&target) || from == target {
            out.found = true;
            return out;
        }
        seen[from as usize] = stamp;
        for &n in reply.iter() {
            seen[n as usize] = stamp;
            shortlist.push((self.ids[n as usize] ^ t, n, false));
        }
        shortlist.sort_unstable();
        loop {
            picks.clear();
            for e in shortlist.iter_mut() {
                if picks.len() == alpha.max(1) as usize {
                    break;
                }
                if !e.2 && e.1 != from {
                    e.2 = true;
                    picks.push(e.1);
                }
            }
            if picks.is_empty() {
                return out;
            }
            out.rounds += 1;
            let mut slowest = SimDuration::ZERO;
            for &p in picks.iter() {
                out.rpcs += 1;
                slowest = slowest.max(rpc(from, p));
                reply.clear();
                self.closest_known(p, t, reply);
                for &n in reply.iter() {
                    if n == target {
                        out.found = true;
                    }
                    if seen[n as usize] != stamp {
                        seen[n as usize] = stamp;
                        shortlist.push((self.ids[n as usize] ^ t, n, false));
                    }
                }
            }
            out.latency += slowest;
            if out.found {
                return out;
            }
            shortlist.sort_unstable();
            shortlist.truncate(self.k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn buckets_hold_only_nodes_with_the_right_prefix() {
        let o = Overlay::build(5000, 20, &mut stream(3, Purpose::Infrastructure, 0));
        let mut out = Vec::new();
        for node in [0u32, 17, 4999] {
            for j in 0..20 {
                out.clear();
                o.bucket(node, j, &mut out);
                assert!(out.len() <= 20);
                for &m in &out {
                    let cpl = (o.id(node) ^ o.id(m)).leading_zeros();
                    assert_eq!(cpl, j, "bucket {j} of {node} holds {m} with common prefix {cpl}");
                }
                let mut dedup = out.clone();
                dedup.sort_unstable();
                dedup.dedup();
                assert_eq!(dedup.len(), out.len(), "bucket entries are distinct");
            }
        }
    }

    #[test]
    fn a_reply_is_the_k_closest_of_the_buckets_from_the_targets_one_down() {
        let o = Overlay::build(20_000, 20, &mut stream(5, Purpose::Infrastructure, 0));
        let mut rng = stream(5, Purpose::Model, 0);
        let (mut got, mut want) = (Vec::new(), Vec::new());
        for _ in 0..300 {
            let node = rng.random_range(0..20_000);
            let target: u64 = if rng.random_bool(0.5) { o.id(rng.random_range(0..20_000)) } else { rng.random() };
            got.clear();
            o.closest_known(node, target, &mut got);
            got.sort_unstable_by_key(|&n| o.id(n) ^ target);
            want.clear();
            let c = (o.id(node) ^ target).leading_zeros();
            if c == 64 {
                want.push(node);
            } else {
                o.bucket(node, c, &mut want);
                let mut j = c + 1;
                while want.len() < 20 && j < 64 {
                    o.bucket(node, j, &mut want);
                    j += 1;
                }
                want.sort_unstable_by_key(|&n| o.id(n) ^ target);
                want.truncate(20);
            }
            assert_eq!(got, want);
        }
    }

    #[test]
    fn every_lookup_finds_its_target_and_small_overlays_need_few_rounds() {
        let o = Overlay::build(30, 20, &mut stream(4, Purpose::Infrastructure, 0));
        let mut s = LookupScratch::default();
        for from in 0..30 {
            for to in 0..30 {
                let l = o.lookup(from, to, 3, &mut s, |_, _| SimDuration::from_millis(10));
                assert!(l.found);
                // 30 nodes with k = 20: the own table already names nearly everyone.
                assert!(l.rounds <= 1, "{from}->{to}: {} rounds", l.rounds);
                assert_eq!(l.latency, SimDuration::from_millis(10).saturating_mul(l.rounds as u64));
            }
        }
    }
}
