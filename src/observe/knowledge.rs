//! What one adversary knows about each message in flight: the fragments of it that it holds.
//!
//! An adversary rarely sees a message whole. Each time it sees a hop it learns something (a
//! device address, an identity a node can read, a room) and files it in a *fragment*: the part of
//! the message's journey it can tell is one message. Two observations join one fragment only when
//! the adversary really knows they are the same message: a node it runs received the message and
//! then forwarded it (it did the forwarding), or both hops carry a tag it can read (a message id
//! in a routing header, a stored message's hash). Everything else stays apart — a global observer
//! holds one fragment per device-end hop — and only timing correlation can join those (see
//! [`crate::observe::correlate`]). A fragment anchored at a node is found again when that node
//! forwards.
//!
//! State lives only while the message is in flight: [`Knowledge::retire`] hands the fragments over
//! for scoring and frees them. Fragments and anchors are pooled in flat vectors with free lists,
//! so the steady state allocates nothing.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::observe::NodeId;
use crate::world::UserId;

/// "No value" in the compact u32 fields.
pub const NONE: u32 = u32::MAX;

/// A fast hasher for integer keys (serial numbers, packed pairs): MurmurHash3's 64-bit finaliser,
/// so that every key bit reaches the low bits the table indexes by (packed pairs differ only in
/// their high half when they share a recipient).
#[derive(Clone, Copy, Default)]
pub struct IntHasher(u64);

#[inline]
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

impl Hasher for IntHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = fmix64(self.0 ^ b as u64);
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = fmix64(self.0 ^ x);
    }

    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
}

/// A hash map keyed by integers.
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;
/// A hash set of integers.
pub type IntSet<K> = HashSet<K, BuildHasherDefault<IntHasher>>;

/// What an adversary sees of one hop of a real message.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen {
    /// Source address.
    pub from: NodeId,
    /// Destination address.
    pub to: NodeId,
    /// The adversary runs the source node.
    pub from_held: bool,
    /// The adversary runs the destination node.
    pub to_held: bool,
    /// The source is a user's device and the adversary uses addresses.
    pub src_device: Option<UserId>,
    /// The destination is a user's device and the adversary uses addresses.
    pub dst_device: Option<UserId>,
    /// The sender identity it reads.
    pub sender: Option<UserId>,
    /// The recipient identity it reads.
    pub recipient: Option<UserId>,
    /// The room it reads.
    pub room: Option<u32>,
    /// It can read a tag that recognises the message at other hops.
    pub tag: bool,
}

impl Seen {
    /// Whether this hop can tell the adversary anything or be joined to something later.
    fn informative(&self) -> bool {
        self.from_held
            || self.to_held
            || self.tag
            || self.src_device.is_some()
            || self.dst_device.is_some()
            || self.sender.is_some()
            || self.recipient.is_some()
            || self.room.is_some()
    }
}

/// One fragment as handed out for scoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragInfo {
    /// Sender identity read.
    pub sender_id: Option<UserId>,
    /// Device address the message left from.
    pub sender_addr: Option<UserId>,
    /// Sender claimed by timing correlation.
    pub sender_corr: Option<UserId>,
    /// Recipient identity read.
    pub recipient_id: Option<UserId>,
    /// A device address the message went to.
    pub recipient_addr: Option<UserId>,
    /// Room read.
    pub room: Option<u32>,
}

#[derive(Clone, Copy)]
struct Frag {
    next: u32,
    anchors: u32,
    sender_id: u32,
    sender_addr: u32,
    sender_corr: u32,
    recipient_id: u32,
    recipient_addr: u32,
    room: u32,
    tagged: bool,
}

impl Frag {
    const EMPTY: Frag = Frag {
        next: NONE,
        anchors: NONE,
        sender_id: NONE,
        sender_addr: NONE,
        sender_corr: NONE,
        recipient_id: NONE,
        recipient_addr: NONE,
        room: NONE,
        tagged: false,
    };

    fn info(&self) -> FragInfo {
        let o = |x: u32| (x != NONE).then_some(x);
        FragInfo {
            sender_id: o(self.sender_id),
            sender_addr: o(self.sender_addr),
            sender_corr: o(self.sender_corr),
            recipient_id: o(self.recipient_id),
            recipient_addr: o(self.recipient_addr),
            room: o(self.room),
        }
    }
}

#[derive(Clone, Copy)]
struct Anchor {
    node: NodeId,
    next: u32,
}

/// The per-message record: its fragments and whether its recipient side was already seen.
#[derive(Clone, Copy, Debug)]
struct MsgRecord {
    head: u32,
    exit_seen: bool,
}

/// Everything one adversary knows about the messages in flight.
#[derive(Default)]
pub struct Knowledge {
    msgs: IntMap<u64, MsgRecord>,
    frags: Vec<Frag>,
    free_frags: Vec<u32>,
    anchors: Vec<Anchor>,
    free_anchors: Vec<u32>,
    peak: usize,
}

impl Knowledge {
    /// Files one hop of message `serial`; returns the fragment it joined (or started), or `None`
    /// when the hop tells nothing and can join nothing (a relay-to-relay link seen from outside).
    /// With `exit`, the hop reveals the recipient side: the answer says whether it is the first
    /// such hop of the message (timing correlation runs once per message).
    pub fn absorb(&mut self, serial: u64, seen: &Seen, exit: bool) -> Option<Absorbed> {
        if !seen.informative() {
            return None;
        }
        let Knowledge { msgs, frags, free_frags, anchors, free_anchors, peak } = self;
        let rec = msgs.entry(serial).or_insert(MsgRecord { head: NONE, exit_seen: false });
        let first_exit = exit && !rec.exit_seen;
        rec.exit_seen |= exit;
        let mut target = NONE;
        let mut prev = NONE;
        let mut f = rec.head;
        while f != NONE {
            let fr = frags[f as usize];
            let next = fr.next;
            let joins = (seen.tag && fr.tagged)
                || (seen.from_held && anchored(anchors, fr.anchors, seen.from))
                || (seen.to_held && anchored(anchors, fr.anchors, seen.to));
            if joins {
                if target == NONE {
                    target = f;
                    prev = f;
                } else {
                    merge(frags, anchors, target, f);
                    frags[prev as usize].next = next;
                    free_frags.push(f);
                }
            } else {
                prev = f;
            }
            f = next;
        }
        if target == NONE {
            target = match free_frags.pop() {
                Some(x) => {
                    frags[x as usize] = Frag::EMPTY;
                    x
                }
                None => {
                    frags.push(Frag::EMPTY);
                    frags.len() as u32 - 1
                }
            };
            frags[target as usize].next = rec.head;
            rec.head = target;
        }
        if seen.from_held {
            anchor(frags, anchors, free_anchors, target, seen.from);
        }
        if seen.to_held {
            anchor(frags, anchors, free_anchors, target, seen.to);
        }
        let fr = &mut frags[target as usize];
        fr.tagged |= seen.tag;
        let fill = |slot: &mut u32, v: Option<u32>| {
            if *slot == NONE
                && let Some(v) = v
            {
                *slot = v;
            }
        };
        fill(&mut fr.sender_id, seen.sender);
        fill(&mut fr.sender_addr, seen.src_device);
        fill(&mut fr.recipient_id, seen.recipient);
        fill(&mut fr.recipient_addr, seen.dst_device);
        fill(&mut fr.room, seen.room);
        let len = msgs.len();
        *peak = (*peak).max(len);
        Some(Absorbed { frag: target, first_exit })
    }

    /// What fragment `frag` holds.
    pub fn info(&self, frag: u32) -> FragInfo {
        self.frags[frag as usize].info()
    }

    /// Files the sender that timing correlation claims for fragment `frag`.
    pub fn set_correlated_sender(&mut self, frag: u32, sender: UserId) {
        let f = &mut self.frags[frag as usize];
        if f.sender_corr == NONE {
            f.sender_corr = sender;
        }
    }

    /// Removes message `serial`, writing its fragments into `out`; returns whether the adversary
    /// had seen it at all.
    pub fn retire(&mut self, serial: u64, out: &mut Vec<FragInfo>) -> bool {
        out.clear();
        let Some(rec) = self.msgs.remove(&serial) else { return false };
        let mut f = rec.head;
        while f != NONE {
            let fr = self.frags[f as usize];
            out.push(fr.info());
            let mut a = fr.anchors;
            while a != NONE {
                let next = self.anchors[a as usize].next;
                self.free_anchors.push(a);
                a = next;
            }
            self.free_frags.push(f);
            f = fr.next;
        }
        true
    }

    /// Messages held now.
    pub fn in_flight(&self) -> usize {
        self.msgs.len()
    }

    /// Most messages held at once (the memory high-water mark).
    pub fn peak_in_flight(&self) -> usize {
        self.peak
    }

}

/// Where a hop was filed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Absorbed {
    /// The fragment it joined or started.
    pub frag: u32,
    /// It is the first hop of the message that reveals the recipient side.
    pub first_exit: bool,
}

/// Whether the anchor list starting at `a` holds `node`.
fn anchored(anchors: &[Anchor], mut a: u32, node: NodeId) -> bool {
    while a != NONE {
        let an = anchors[a as usize];
        if an.node == node {
            return true;
        }
        a = an.next;
    }
    false
}

/// Anchors fragment `frag` at `node` (once).
fn anchor(frags: &mut [Frag], anchors: &mut Vec<Anchor>, free: &mut Vec<u32>, frag: u32, node: NodeId) {
    let head = frags[frag as usize].anchors;
    if anchored(anchors, head, node) {
        return;
    }
    let an = Anchor { node, next: head };
    let slot = match free.pop() {
        Some(s) => {
            anchors[s as usize] = an;
            s
        }
        None => {
            anchors.push(an);
            anchors.len() as u32 - 1
        }
    };
    frags[frag as usize].anchors = slot;
}

/// Folds fragment `src` into `dst` (fields `dst` lacks, its anchors, its tag).
fn merge(frags: &mut [Frag], anchors: &mut [Anchor], dst: u32, src: u32) {
    let s = frags[src as usize];
    let d = &mut frags[dst as usize];
    let take = |slot: &mut u32, v: u32| {
        if *slot == NONE {
            *slot = v;
        }
    };
    take(&mut d.sender_id, s.sender_id);
    take(&mut d.sender_addr, s.sender_addr);
    take(&mut d.sender_corr, s.sender_corr);
    take(&mut d.recipient_id, s.recipient_id);
    take(&mut d.recipient_addr, s.recipient_addr);
    take(&mut d.room, s.room);
    d.tagged |= s.tagged;
    // Splice src's anchors in front of dst's; duplicates are harmless.
    let mut a = s.anchors;
    if a != NONE {
        while anchors[a as usize].next != NONE {
            a = anchors[a as usize].next;
        }
        anchors[a as usize].next = frags[dst as usize].anchors;
        frags[dst as usize].anchors = s.anchors;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(from: NodeId, to: NodeId) -> Seen {
        Seen { from, to, ..Seen::default() }
    }

    #[test]
    fn a_node_joins_what_it_receives_with_what_it_forwards() {
        let mut k = Knowledge::default();
        // Device 1 -> held relay 10 -> held relay 11 -> honest 12 -> held 13 -> device 2.
        k.absorb(7, &Seen { to_held: true, src_device: Some(1), ..hop(1, 10) }, false);
        k.absorb(7, &Seen { from_held: true, to_held: true, ..hop(10, 11) }, false);
        k.absorb(7, &Seen { from_held: true, ..hop(11, 12) }, false);
        k.absorb(7, &Seen { to_held: true, ..hop(12, 13) }, false);
        k.absorb(7, &Seen { from_held: true, dst_device: Some(2), ..hop(13, 2) }, false);
        let mut out = Vec::new();
        assert!(k.retire(7, &mut out));
        assert_eq!(out.len(), 2, "the honest node splits the path: {out:?}");
        let with_sender = out.iter().find(|f| f.sender_addr == Some(1)).unwrap();
        assert_eq!(with_sender.recipient_addr, None);
        assert!(out.iter().any(|f| f.recipient_addr == Some(2) && f.sender_addr.is_none()));
        assert_eq!(k.in_flight(), 0);
    }

    #[test]
    fn tags_join_fragments_at_unconnected_nodes_and_pools_are_reused() {
        let mut k = Knowledge::default();
        k.absorb(1, &Seen { to_held: true, tag: true, sender: Some(5), ..hop(5, 20) }, false);
        k.absorb(1, &Seen { to_held: true, tag: true, recipient: Some(6), ..hop(30, 21) }, false);
        let mut out = Vec::new();
        k.retire(1, &mut out);
        assert_eq!(out, vec![FragInfo { sender_id: Some(5), recipient_id: Some(6), ..FragInfo::default() }]);
        let frags_before = k.frags.len();
        k.absorb(2, &Seen { to_held: true, ..hop(5, 20) }, false);
        assert_eq!(k.frags.len(), frags_before, "a freed fragment is reused");
        // A hop that tells nothing is not filed.
        assert_eq!(k.absorb(3, &hop(40, 41), false), None);
        assert!(!k.retire(3, &mut out));
    }

    #[test]
    fn a_third_observation_merges_two_fragments() {
        let mut k = Knowledge::default();
        k.absorb(9, &Seen { to_held: true, src_device: Some(1), ..hop(1, 10) }, false);
        k.absorb(9, &Seen { to_held: true, recipient: Some(2), ..hop(12, 11) }, false);
        // Held 10 forwards to held 11: the two fragments are one message after all.
        k.absorb(9, &Seen { from_held: true, to_held: true, ..hop(10, 11) }, false);
        let mut out = Vec::new();
        k.retire(9, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].sender_addr, out[0].recipient_id), (Some(1), Some(2)));
    }
}
