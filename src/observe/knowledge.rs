//! What one adversary knows about each message in flight: the fragments of it that it holds.
//!
//! An adversary rarely sees a message whole. Each time it sees a hop it learns something (a
//! device address, an identity a node can read, a room) and files it in a *fragment*: the part of
//! the message's journey it can tell is one message. Two observations join one fragment only when
//! the adversary really knows they are the same message: a node it runs received the message and
//! then forwarded it (it did the forwarding), or both hops carry a tag it can read (a message id
//! in a routing header, a stored message's hash). Everything else stays apart — a global observer
//! holds one fragment per device-end hop — and only timing correlation can join those (see
//! [`crate::observe::correlate`]). Each arrival at a node the adversary runs anchors the arrival's
//! fragment there, and what the node sends next continues its most recent arrival of that message:
//! a relay that carries a message out to the swarm and, later, the recipient's fetch of it carries
//! two differently encrypted blobs and cannot tell they are one message, so a second arrival starts
//! a fragment of its own unless a tag says otherwise.
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
    /// Order of creation: the latest arrival at a node is the one its next send continues.
    seq: u32,
    next: u32,
}

/// The per-message record: its fragments, whether its recipient side was already seen, and the
/// facts of hops seen only from outside (on a tapped link, with no node of the adversary's at
/// either end and no tag): those can never be joined to anything but by timing, so they are kept
/// inline rather than as fragments — the first source device seen, the first destination device
/// seen, whether one such hop went device to device (a pair), and a sender claimed by timing for
/// the destination side.
#[derive(Clone, Copy, Debug)]
struct MsgRecord {
    head: u32,
    loose_src: u32,
    loose_dst: u32,
    loose_corr: u32,
    exit_seen: bool,
    loose_pair: bool,
}

impl MsgRecord {
    const EMPTY: MsgRecord = MsgRecord {
        head: NONE,
        loose_src: NONE,
        loose_dst: NONE,
        loose_corr: NONE,
        exit_seen: false,
        loose_pair: false,
    };
}

/// The fragment "number" of a hop kept inline as a loose fact.
pub const LOOSE: u32 = u32::MAX - 1;

/// Slots of the ring of recent message records (a power of two).
const RING: u64 = 1 << 13;

/// Message records by serial: recent serials in a ring indexed by serial (messages are numbered in
/// creation order, and most hops concern recent ones), older ones still in flight — a copy stored
/// for days for an offline recipient — in a hash map. Lookups of recent messages are one array
/// access.
struct Records {
    base: u64,
    ring: Vec<(u32, MsgRecord)>,
    overflow: IntMap<u64, MsgRecord>,
    live: usize,
}

/// A free ring slot (a tag no serial of a window can have: tags are serials modulo 2^32, and a
/// window spans far fewer).
const EMPTY_SLOT: (u32, MsgRecord) = (u32::MAX, MsgRecord::EMPTY);

impl Default for Records {
    fn default() -> Self {
        Records { base: 0, ring: vec![EMPTY_SLOT; RING as usize], overflow: IntMap::default(), live: 0 }
    }
}

impl Records {
    /// The record of `serial`, created empty if absent.
    #[inline]
    fn get_or_insert(&mut self, serial: u64) -> &mut MsgRecord {
        if serial < self.base {
            let live = &mut self.live;
            return self.overflow.entry(serial).or_insert_with(|| {
                *live += 1;
                MsgRecord::EMPTY
            });
        }
        if serial >= self.base + RING {
            self.advance(serial + 1 - RING);
        }
        let slot = &mut self.ring[(serial & (RING - 1)) as usize];
        if slot.0 != serial as u32 {
            debug_assert_eq!(slot.0, u32::MAX, "a ring slot holds one serial of the window");
            *slot = (serial as u32, MsgRecord::EMPTY);
            self.live += 1;
        }
        &mut slot.1
    }

    /// Moves the window's start to `base`, parking records that fall out of it in the map.
    fn advance(&mut self, base: u64) {
        // Only serials of the old window [base, base + RING) can be in the ring.
        for serial in self.base..base.min(self.base + RING) {
            let slot = &mut self.ring[(serial & (RING - 1)) as usize];
            if slot.0 == serial as u32 {
                self.overflow.insert(serial, slot.1);
                *slot = EMPTY_SLOT;
            }
        }
        self.base = base;
    }

    /// Removes and returns the record of `serial`.
    #[inline]
    fn remove(&mut self, serial: u64) -> Option<MsgRecord> {
        let rec = if serial < self.base {
            self.overflow.remove(&serial)
        } else if serial < self.base + RING {
            let slot = &mut self.ring[(serial & (RING - 1)) as usize];
            (slot.0 == serial as u32).then(|| std::mem::replace(slot, EMPTY_SLOT).1)
        } else {
            None
        };
        self.live -= rec.is_some() as usize;
        rec
    }

    fn len(&self) -> usize {
        self.live
    }
}

/// Everything one adversary knows about the messages in flight.
#[derive(Default)]
pub struct Knowledge {
    msgs: Records,
    frags: Vec<Frag>,
    free_frags: Vec<u32>,
    anchors: Vec<Anchor>,
    free_anchors: Vec<u32>,
    anchor_seq: u32,
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
        let Knowledge { msgs, frags, free_frags, anchors, free_anchors, anchor_seq, peak } = self;
        let rec = msgs.get_or_insert(serial);
        let first_exit = exit && !rec.exit_seen;
        rec.exit_seen |= exit;
        if !seen.from_held && !seen.to_held && !seen.tag {
            // Seen from outside: only addresses (nothing readable without a node), never joined.
            match (seen.src_device, seen.dst_device) {
                (Some(a), Some(b)) if !rec.loose_pair => {
                    (rec.loose_src, rec.loose_dst, rec.loose_pair) = (a, b, true);
                }
                (Some(a), None) if rec.loose_src == NONE => rec.loose_src = a,
                (None, Some(b)) if rec.loose_dst == NONE => rec.loose_dst = b,
                _ => {}
            }
            *peak = (*peak).max(msgs.len());
            return Some(Absorbed { frag: LOOSE, first_exit });
        }
        // What a held source sends continues its latest arrival of the message.
        let mut target = NONE;
        if seen.from_held {
            let mut best = 0u32;
            let mut f = rec.head;
            while f != NONE {
                let mut a = frags[f as usize].anchors;
                while a != NONE {
                    let an = anchors[a as usize];
                    if an.node == seen.from && (target == NONE || an.seq >= best) {
                        (target, best) = (f, an.seq);
                    }
                    a = an.next;
                }
                f = frags[f as usize].next;
            }
        }
        let continues = target != NONE;
        // A tag it can read joins every fragment that carried the same tag.
        if seen.tag {
            let mut prev = NONE;
            let mut f = rec.head;
            while f != NONE {
                let next = frags[f as usize].next;
                if frags[f as usize].tagged && f != target {
                    if target == NONE {
                        target = f;
                        prev = f;
                    } else {
                        merge(frags, anchors, target, f);
                        if prev == NONE {
                            rec.head = next;
                        } else {
                            frags[prev as usize].next = next;
                        }
                        free_frags.push(f);
                    }
                } else {
                    prev = f;
                }
                f = next;
            }
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
        if seen.from_held && !continues {
            // The node originates it (its own message) or sends what it never got in view.
            *anchor_seq = anchor_seq.wrapping_add(1);
            anchor(frags, anchors, free_anchors, target, seen.from, *anchor_seq);
        }
        if seen.to_held {
            *anchor_seq = anchor_seq.wrapping_add(1);
            anchor(frags, anchors, free_anchors, target, seen.to, *anchor_seq);
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

    /// What fragment `frag` holds (nothing readable for a loose fact).
    pub fn info(&self, frag: u32) -> FragInfo {
        if frag == LOOSE { FragInfo::default() } else { self.frags[frag as usize].info() }
    }

    /// Files the sender that timing correlation claims for fragment `frag` of message `serial`.
    pub fn set_correlated_sender(&mut self, serial: u64, frag: u32, sender: UserId) {
        let slot = if frag == LOOSE {
            &mut self.msgs.get_or_insert(serial).loose_corr
        } else {
            &mut self.frags[frag as usize].sender_corr
        };
        if *slot == NONE {
            *slot = sender;
        }
    }

    /// Removes message `serial`, writing its fragments into `out`; returns whether the adversary
    /// had seen it at all.
    pub fn retire(&mut self, serial: u64, out: &mut Vec<FragInfo>) -> bool {
        out.clear();
        let Some(rec) = self.msgs.remove(serial) else { return false };
        let o = |x: u32| (x != NONE).then_some(x);
        if rec.loose_pair {
            out.push(FragInfo {
                sender_addr: o(rec.loose_src),
                recipient_addr: o(rec.loose_dst),
                sender_corr: o(rec.loose_corr),
                ..FragInfo::default()
            });
        } else {
            if rec.loose_src != NONE {
                out.push(FragInfo { sender_addr: o(rec.loose_src), ..FragInfo::default() });
            }
            if rec.loose_dst != NONE || rec.loose_corr != NONE {
                out.push(FragInfo {
                    recipient_addr: o(rec.loose_dst),
                    sender_corr: o(rec.loose_corr),
                    ..FragInfo::default()
                });
            }
        }
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

/// Anchors fragment `frag` at `node` as its arrival number `seq` there (refreshing an anchor it
/// already has at that node).
fn anchor(frags: &mut [Frag], anchors: &mut Vec<Anchor>, free: &mut Vec<u32>, frag: u32, node: NodeId, seq: u32) {
    let head = frags[frag as usize].anchors;
    let mut a = head;
    while a != NONE {
        if anchors[a as usize].node == node {
            anchors[a as usize].seq = seq;
            return;
        }
        a = anchors[a as usize].next;
    }
    let an = Anchor { node, seq, next: head };
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
    fn hops_seen_from_outside_stay_apart_unless_one_hop_has_both_ends() {
        let mut k = Knowledge::default();
        let outside = |from, to, src, dst| Seen { src_device: src, dst_device: dst, ..hop(from, to) };
        let first = k.absorb(1, &outside(3, 50, Some(3), None), false).unwrap();
        assert_eq!(first, Absorbed { frag: LOOSE, first_exit: false });
        let exit = k.absorb(1, &outside(51, 4, None, Some(4)), true).unwrap();
        assert!(exit.first_exit);
        assert!(!k.absorb(1, &outside(51, 4, None, Some(4)), true).unwrap().first_exit, "one exit per message");
        k.set_correlated_sender(1, exit.frag, 3);
        let mut out = Vec::new();
        k.retire(1, &mut out);
        assert_eq!(
            out,
            vec![
                FragInfo { sender_addr: Some(3), ..FragInfo::default() },
                FragInfo { recipient_addr: Some(4), sender_corr: Some(3), ..FragInfo::default() },
            ]
        );
        // A direct device-to-device link shows both ends on one hop.
        k.absorb(2, &outside(3, 4, Some(3), Some(4)), false);
        k.retire(2, &mut out);
        assert_eq!(out, vec![FragInfo { sender_addr: Some(3), recipient_addr: Some(4), ..FragInfo::default() }]);
    }

    #[test]
    fn records_of_old_messages_survive_the_ring_moving_on() {
        let mut r = Records::default();
        r.get_or_insert(5).exit_seen = true;
        r.get_or_insert(6);
        // A message far newer pushes 5 and 6 out of the ring, into the map.
        r.get_or_insert(5 + 3 * RING);
        assert_eq!(r.len(), 3);
        assert!(r.get_or_insert(5).exit_seen, "5 kept its record");
        assert_eq!(r.len(), 3);
        assert!(r.remove(5).is_some() && r.remove(6).is_some() && r.remove(5 + 3 * RING).is_some());
        assert!(r.remove(7).is_none());
        assert_eq!((r.len(), r.overflow.len()), (0, 0));
    }

    #[test]
    fn a_second_arrival_at_a_node_is_another_fragment_unless_a_tag_joins_them() {
        let mut k = Knowledge::default();
        // Relay 10 carries the message out (sender side), and later carries the recipient's fetch
        // of it (recipient side): two differently wrapped blobs.
        k.absorb(9, &Seen { to_held: true, src_device: Some(1), ..hop(1, 10) }, false);
        k.absorb(9, &Seen { from_held: true, ..hop(10, 11) }, false);
        k.absorb(9, &Seen { to_held: true, ..hop(12, 10) }, false);
        k.absorb(9, &Seen { from_held: true, dst_device: Some(2), ..hop(10, 2) }, false);
        let mut out = Vec::new();
        k.retire(9, &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out.iter().all(|f| f.sender_addr.is_none() || f.recipient_addr.is_none()));
        // Held 10 forwards the tagged message to held 30: a tag read at 30 joins what held 11
        // read under the same tag.
        k.absorb(8, &Seen { to_held: true, src_device: Some(1), ..hop(1, 10) }, false);
        k.absorb(8, &Seen { to_held: true, tag: true, recipient: Some(2), ..hop(12, 11) }, false);
        k.absorb(8, &Seen { from_held: true, to_held: true, tag: true, ..hop(10, 30) }, false);
        k.retire(8, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].sender_addr, out[0].recipient_id), (Some(1), Some(2)));
    }
}
