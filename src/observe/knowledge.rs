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
//! so the steady state allocates nothing. The per-message records of every adversary of a run sit
//! side by side in one [`MsgTable`], at a slot that the [`MsgIndex`] gives each message in flight:
//! a hop looks its message up once, whatever the number of adversaries that see it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::engine::observation::NodeId;
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
    #[inline]
    pub fn informative(&self) -> bool {
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

/// A fragment: what the adversary tied together of one message. Its first anchor (where it last
/// arrived at one of the adversary's nodes) is kept inline, so that a node forwarding the message
/// finds it without a second lookup; further anchors are listed in the anchor pool.
#[derive(Clone, Copy)]
struct Frag {
    next: u32,
    /// The first anchor's node ([`NONE`]: no anchor) and arrival number.
    node: NodeId,
    seq: u32,
    /// Further anchors (a list in the pool).
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
        node: NONE,
        seq: 0,
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
/// the destination side. Sixteen bytes, so that four adversaries' records of a message share one
/// cache line: the flags live in the top bits of the first fragment's index.
#[derive(Clone, Copy, Debug)]
pub struct MsgRecord {
    /// First fragment (low bits, [`HEAD_NONE`] for none) and the flags [`HELD`], [`EXIT_SEEN`],
    /// [`LOOSE_PAIR`].
    bits: u32,
    loose_src: u32,
    loose_dst: u32,
    loose_corr: u32,
}

/// The adversary holds this record (it saw an informative hop of the message).
const HELD: u32 = 1 << 31;
/// A hop revealing the recipient side was seen.
const EXIT_SEEN: u32 = 1 << 30;
/// One hop seen from outside went device to device.
const LOOSE_PAIR: u32 = 1 << 29;
/// "No fragment" in the low bits; fragment indices stay below it (checked where they are made).
const HEAD_NONE: u32 = LOOSE_PAIR - 1;

impl MsgRecord {
    const EMPTY: MsgRecord = MsgRecord { bits: HEAD_NONE, loose_src: NONE, loose_dst: NONE, loose_corr: NONE };

    #[inline]
    fn has(&self, flag: u32) -> bool {
        self.bits & flag != 0
    }

    #[inline]
    fn set(&mut self, flag: u32, on: bool) {
        if on {
            self.bits |= flag;
        } else {
            self.bits &= !flag;
        }
    }

    /// The first fragment, or [`NONE`].
    #[inline]
    fn head(&self) -> u32 {
        let h = self.bits & HEAD_NONE;
        if h == HEAD_NONE { NONE } else { h }
    }

    #[inline]
    fn set_head(&mut self, f: u32) {
        self.bits = (self.bits & !HEAD_NONE) | if f == NONE { HEAD_NONE } else { f };
    }
}

/// The fragment "number" of a hop kept inline as a loose fact.
pub const LOOSE: u32 = u32::MAX - 1;

/// Serials per page of the [`MsgIndex`] (a power of two).
const PAGE: u64 = 512;

/// One page of the index: the slots of `PAGE` consecutive serials, and how many are in use.
struct Page {
    slots: [u32; PAGE as usize],
    live: u32,
}

/// Pages of the most recent serials the [`MsgIndex`] keeps; messages older than those that are
/// still in flight are parked in a hash map.
const RECENT_PAGES: u64 = 64;

/// Dense slot numbers for the messages in flight, by serial, shared by every adversary of a run:
/// each hop's serial is looked up once, and the [`MsgTable`] keeps every adversary's record of the
/// message at its slot. Slots are reused once their message retires, so the table stays as long
/// as the most messages in flight at once.
///
/// Serials are numbered in creation order, and most hops concern recent messages, so recent
/// serials are paged: pages of `PAGE` serials, the newest `RECENT_PAGES` of them (32,768 serials,
/// 128 KiB), where a lookup is two array accesses. A message still in flight when its page falls
/// out of that window (a copy stored for hours for an offline recipient) is parked in a hash map
/// that holds only such messages, so that a few old messages do not keep whole pages alive.
pub struct MsgIndex {
    /// The last serial looked up and its slot (a message's hops and its retirement often come
    /// one after another: a room message fanned out, a delivery then its retirement).
    last: (u64, u32),
    first_page: u64,
    pages: std::collections::VecDeque<Option<Box<Page>>>,
    old: IntMap<u64, u32>,
    /// Empty pages for reuse; boxed, so that a page moves between the window and here without
    /// copying its 2 KiB.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Page>>,
    free: Vec<u32>,
    next_slot: u32,
    live: usize,
}

impl Default for MsgIndex {
    fn default() -> Self {
        MsgIndex {
            last: (u64::MAX, NONE),
            first_page: 0,
            pages: Default::default(),
            old: IntMap::default(),
            spare: Vec::new(),
            free: Vec::new(),
            next_slot: 0,
            live: 0,
        }
    }
}

impl MsgIndex {
    /// The slot of `serial`, if it has one.
    #[inline]
    pub fn get(&self, serial: u64) -> Option<u32> {
        if self.last.0 == serial {
            return Some(self.last.1);
        }
        let Some(p) = (serial / PAGE).checked_sub(self.first_page) else {
            return self.old.get(&serial).copied();
        };
        let page = self.pages.get(p as usize)?.as_ref()?;
        let slot = page.slots[(serial % PAGE) as usize];
        (slot != NONE).then_some(slot)
    }

    /// A free slot.
    #[inline]
    fn take_slot(&mut self) -> u32 {
        self.live += 1;
        self.free.pop().unwrap_or_else(|| {
            self.next_slot += 1;
            self.next_slot - 1
        })
    }

    /// The slot of `serial`, given one if it has none.
    #[inline]
    pub fn get_or_insert(&mut self, serial: u64) -> u32 {
        if self.last.0 == serial {
            return self.last.1;
        }
        let slot = self.lookup_or_insert(serial);
        self.last = (serial, slot);
        slot
    }

    fn lookup_or_insert(&mut self, serial: u64) -> u32 {
        let p = serial / PAGE;
        if self.pages.is_empty() && p >= self.first_page {
            self.first_page = p;
        }
        if p < self.first_page {
            // An old message first seen late (it waited at its sender), or seen again.
            if let Some(&slot) = self.old.get(&serial) {
                return slot;
            }
            let slot = self.take_slot();
            self.old.insert(serial, slot);
            return slot;
        }
        if p >= self.first_page + RECENT_PAGES {
            self.advance(p + 1 - RECENT_PAGES);
            if self.pages.is_empty() {
                self.first_page = p;
            }
        }
        let i = (p - self.first_page) as usize;
        while self.pages.len() <= i {
            self.pages.push_back(None);
        }
        if self.pages[i].is_none() {
            // A spare page is empty: it was recycled when its last slot was freed or parked.
            let page = self.spare.pop().unwrap_or_else(|| Box::new(Page { slots: [NONE; PAGE as usize], live: 0 }));
            self.pages[i] = Some(page);
        }
        let cell = (serial % PAGE) as usize;
        let current = self.pages[i].as_ref().expect("just made").slots[cell];
        if current != NONE {
            return current;
        }
        let slot = self.take_slot();
        let page = self.pages[i].as_mut().expect("just made");
        page.slots[cell] = slot;
        page.live += 1;
        slot
    }

    /// Moves the window of pages to start at page `first`, parking the messages of the pages that
    /// fall out of it.
    fn advance(&mut self, first: u64) {
        while self.first_page < first {
            let Some(front) = self.pages.pop_front() else {
                self.first_page = first;
                break;
            };
            if let Some(mut page) = front {
                let base = self.first_page * PAGE;
                for (k, cell) in page.slots.iter_mut().enumerate() {
                    if *cell != NONE {
                        self.old.insert(base + k as u64, *cell);
                        *cell = NONE;
                    }
                }
                page.live = 0;
                self.spare.push(page);
            }
            self.first_page += 1;
        }
    }

    /// Frees the slot of `serial` and returns it (`None` if it had none).
    pub fn remove(&mut self, serial: u64) -> Option<u32> {
        if self.last.0 == serial {
            self.last = (u64::MAX, NONE);
        }
        let Some(p) = (serial / PAGE).checked_sub(self.first_page) else {
            let slot = self.old.remove(&serial)?;
            self.live -= 1;
            self.free.push(slot);
            return Some(slot);
        };
        let p = p as usize;
        let page = self.pages.get_mut(p)?.as_mut()?;
        let cell = &mut page.slots[(serial % PAGE) as usize];
        if *cell == NONE {
            return None;
        }
        let slot = std::mem::replace(cell, NONE);
        page.live -= 1;
        self.live -= 1;
        self.free.push(slot);
        if page.live == 0 {
            self.spare.push(self.pages[p].take().expect("page present"));
            while self.pages.front().is_some_and(Option::is_none) {
                self.pages.pop_front();
                self.first_page += 1;
            }
            while self.pages.back().is_some_and(Option::is_none) {
                self.pages.pop_back();
            }
        }
        Some(slot)
    }

    /// Messages with a slot now.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no message has a slot.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

/// Four records: one cache line.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Line([MsgRecord; 4]);

/// The records every adversary of a run keeps of the messages in flight: one [`MsgRecord`] per
/// adversary per message, side by side at the slot [`MsgIndex`] gives the message (whole cache
/// lines per slot), so the adversaries that see a hop, and all of them when the message retires,
/// read one line (up to four adversaries) rather than one table each. Only adversaries that can
/// see anything in the architecture get a column.
pub struct MsgTable {
    index: MsgIndex,
    columns: usize,
    lines_per_slot: usize,
    recs: Vec<Line>,
}

/// Where a message's records start in a [`MsgTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(usize);

impl MsgTable {
    /// An empty table with `columns` records per message.
    pub fn new(columns: usize) -> MsgTable {
        let lines_per_slot = columns.div_ceil(4).max(1);
        MsgTable { index: MsgIndex::default(), columns, lines_per_slot, recs: Vec::new() }
    }

    /// The slot of message `serial`, given one if it has none.
    #[inline]
    pub fn slot(&mut self, serial: u64) -> Slot {
        let at = self.index.get_or_insert(serial) as usize * self.lines_per_slot;
        if at >= self.recs.len() {
            self.recs.resize(at + self.lines_per_slot, Line([MsgRecord::EMPTY; 4]));
        }
        Slot(at)
    }

    /// The slot of message `serial`, if it has one.
    #[inline]
    pub fn find(&self, serial: u64) -> Option<Slot> {
        Some(Slot(self.index.get(serial)? as usize * self.lines_per_slot))
    }

    /// Column `column`'s record of the message in `slot`.
    #[inline]
    pub fn record(&mut self, slot: Slot, column: usize) -> &mut MsgRecord {
        debug_assert!(column < self.columns);
        &mut self.recs[slot.0 + column / 4].0[column % 4]
    }

    /// Frees the slot of message `serial` (every column must have retired its record).
    pub fn release(&mut self, serial: u64) {
        if let Some(slot) = self.index.remove(serial) {
            let at = slot as usize * self.lines_per_slot;
            debug_assert!(self.recs[at..at + self.lines_per_slot].iter().all(|l| l.0.iter().all(|r| !r.has(HELD))));
        }
    }

    /// Messages with a slot now.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no message has a slot.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// A message whose slot is looked up only when an adversary first files something about it.
pub struct LazyRecords<'a> {
    table: &'a mut MsgTable,
    serial: u64,
    slot: Option<Slot>,
}

impl<'a> LazyRecords<'a> {
    /// Message `serial` in `table`, not looked up yet.
    #[inline]
    pub fn new(table: &'a mut MsgTable, serial: u64) -> LazyRecords<'a> {
        LazyRecords { table, serial, slot: None }
    }

    /// Column `column`'s record of the message.
    #[inline]
    pub fn record(&mut self, column: usize) -> &mut MsgRecord {
        let slot = match self.slot {
            Some(s) => s,
            None => *self.slot.insert(self.table.slot(self.serial)),
        };
        self.table.record(slot, column)
    }
}

/// Everything one adversary knows about the messages in flight.
#[derive(Default)]
pub struct Knowledge {
    live: usize,
    frags: Vec<Frag>,
    free_frags: Vec<u32>,
    anchors: Vec<Anchor>,
    free_anchors: Vec<u32>,
    anchor_seq: u32,
    peak: usize,
}

impl Knowledge {
    /// Files one hop of the message whose record (this adversary's, in the [`MsgTable`]) is
    /// `rec`; returns the fragment it joined (or started), or `None` when the hop tells nothing
    /// and can join nothing (a relay-to-relay link seen from outside: callers check
    /// [`Seen::informative`] first, so as not to look the message up). With `exit`, the hop
    /// reveals the recipient side: the answer says whether it is the first such hop of the
    /// message (timing correlation runs once per message).
    pub fn absorb(&mut self, rec: &mut MsgRecord, seen: &Seen, exit: bool) -> Option<Absorbed> {
        if !seen.informative() {
            return None;
        }
        if !seen.from_held && !seen.to_held && !seen.tag {
            let first_exit = self.absorb_outside(rec, seen.src_device, seen.dst_device, exit);
            return Some(Absorbed { frag: LOOSE, first_exit });
        }
        let first_exit = self.hold(rec, exit);
        let Knowledge { frags, free_frags, anchors, free_anchors, anchor_seq, .. } = self;
        // What a held source sends continues its latest arrival of the message.
        let mut target = NONE;
        let mut head = rec.head();
        if seen.from_held {
            let mut best = 0u32;
            let mut f = head;
            while f != NONE {
                let fr = &frags[f as usize];
                if fr.node == seen.from && (target == NONE || fr.seq >= best) {
                    (target, best) = (f, fr.seq);
                }
                let mut a = fr.anchors;
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
            let mut f = head;
            while f != NONE {
                let next = frags[f as usize].next;
                if frags[f as usize].tagged && f != target {
                    if target == NONE {
                        target = f;
                        prev = f;
                    } else {
                        merge(frags, anchors, free_anchors, target, f);
                        if prev == NONE {
                            head = next;
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
                    assert!(frags.len() < HEAD_NONE as usize, "at most 2^29 fragments in flight per adversary");
                    frags.push(Frag::EMPTY);
                    frags.len() as u32 - 1
                }
            };
            frags[target as usize].next = head;
            head = target;
        }
        rec.set_head(head);
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
        Some(Absorbed { frag: target, first_exit })
    }

    /// What fragment `frag` holds (nothing readable for a loose fact).
    pub fn info(&self, frag: u32) -> FragInfo {
        if frag == LOOSE { FragInfo::default() } else { self.frags[frag as usize].info() }
    }

    /// Marks the message of `rec` as held (counting it if new); with `exit`, as having shown its
    /// recipient side. Returns whether this is the first such hop.
    #[inline]
    fn hold(&mut self, rec: &mut MsgRecord, exit: bool) -> bool {
        if !rec.has(HELD) {
            *rec = MsgRecord { bits: HEAD_NONE | HELD, ..MsgRecord::EMPTY };
            self.live += 1;
            self.peak = self.peak.max(self.live);
        }
        let first_exit = exit && !rec.has(EXIT_SEEN);
        if exit {
            rec.set(EXIT_SEEN, true);
        }
        first_exit
    }

    /// Files a hop seen from outside (on a tapped link, neither end a node it runs, no tag): the
    /// device addresses at its ends (at least one), never joined to anything. The same as
    /// [`Knowledge::absorb`] of such a hop, whose fragment is [`LOOSE`]; returns whether it is the
    /// first hop of the message to show the recipient side (with `exit`).
    #[inline]
    pub fn absorb_outside(
        &mut self,
        rec: &mut MsgRecord,
        src: Option<UserId>,
        dst: Option<UserId>,
        exit: bool,
    ) -> bool {
        debug_assert!(src.is_some() || dst.is_some());
        let first_exit = self.hold(rec, exit);
        match (src, dst) {
            (Some(a), Some(b)) if !rec.has(LOOSE_PAIR) => {
                (rec.loose_src, rec.loose_dst) = (a, b);
                rec.set(LOOSE_PAIR, true);
            }
            (Some(a), None) if rec.loose_src == NONE => rec.loose_src = a,
            (None, Some(b)) if rec.loose_dst == NONE => rec.loose_dst = b,
            _ => {}
        }
        first_exit
    }

    /// The room fragment `frag` holds, if any (none for a loose fact).
    #[inline]
    pub fn room(&self, frag: u32) -> Option<u32> {
        if frag == LOOSE { None } else { Some(self.frags[frag as usize].room).filter(|&r| r != NONE) }
    }

    /// Files the sender that timing correlation claims for fragment `frag` of the message whose
    /// record is `rec` (a fragment [`Knowledge::absorb`] returned for it).
    pub fn set_correlated_sender(&mut self, rec: &mut MsgRecord, frag: u32, sender: UserId) {
        let slot = if frag == LOOSE { &mut rec.loose_corr } else { &mut self.frags[frag as usize].sender_corr };
        if *slot == NONE {
            *slot = sender;
        }
    }

    /// Removes the message whose record is `rec`, writing its fragments into `out`; returns
    /// whether the adversary had seen it at all.
    pub fn retire(&mut self, rec: &mut MsgRecord, out: &mut Vec<FragInfo>) -> bool {
        out.clear();
        if !rec.has(HELD) {
            return false;
        }
        rec.set(HELD, false);
        self.live -= 1;
        let rec = *rec;
        let o = |x: u32| (x != NONE).then_some(x);
        if rec.has(LOOSE_PAIR) {
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
        let mut f = rec.head();
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
        self.live
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
    let fr = &mut frags[frag as usize];
    if fr.node == node || fr.node == NONE {
        (fr.node, fr.seq) = (node, seq);
        return;
    }
    let head = fr.anchors;
    let mut a = head;
    while a != NONE {
        if anchors[a as usize].node == node {
            anchors[a as usize].seq = seq;
            return;
        }
        a = anchors[a as usize].next;
    }
    frags[frag as usize].anchors = pooled(anchors, free, Anchor { node, seq, next: head });
}

/// Puts `an` in the anchor pool; returns its index.
fn pooled(anchors: &mut Vec<Anchor>, free: &mut Vec<u32>, an: Anchor) -> u32 {
    match free.pop() {
        Some(s) => {
            anchors[s as usize] = an;
            s
        }
        None => {
            anchors.push(an);
            anchors.len() as u32 - 1
        }
    }
}

/// Folds fragment `src` into `dst` (fields `dst` lacks, its anchors, its tag).
fn merge(frags: &mut [Frag], anchors: &mut Vec<Anchor>, free: &mut Vec<u32>, dst: u32, src: u32) {
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
    // Src's first anchor becomes dst's first if it has none, else joins its list; then src's
    // list is spliced in front of dst's. Duplicates are harmless.
    if s.node != NONE {
        let d = &mut frags[dst as usize];
        if d.node == NONE {
            (d.node, d.seq) = (s.node, s.seq);
        } else {
            d.anchors = pooled(anchors, free, Anchor { node: s.node, seq: s.seq, next: d.anchors });
        }
    }
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

    /// One adversary's knowledge with its records, addressed by serial.
    struct K {
        k: Knowledge,
        t: MsgTable,
    }

    impl K {
        fn new() -> K {
            K { k: Knowledge::default(), t: MsgTable::new(1) }
        }

        fn absorb(&mut self, serial: u64, seen: &Seen, exit: bool) -> Option<Absorbed> {
            let rec = &mut LazyRecords::new(&mut self.t, serial);
            self.k.absorb(rec.record(0), seen, exit)
        }

        fn set_correlated_sender(&mut self, serial: u64, frag: u32, sender: UserId) {
            let slot = self.t.slot(serial);
            self.k.set_correlated_sender(self.t.record(slot, 0), frag, sender);
        }

        fn retire(&mut self, serial: u64, out: &mut Vec<FragInfo>) -> bool {
            let seen = self.t.find(serial).is_some_and(|s| self.k.retire(self.t.record(s, 0), out));
            self.t.release(serial);
            seen
        }

        fn in_flight(&self) -> usize {
            self.k.in_flight()
        }
    }

    #[test]
    fn a_node_joins_what_it_receives_with_what_it_forwards() {
        let mut k = K::new();
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
        let mut k = K::new();
        k.absorb(1, &Seen { to_held: true, tag: true, sender: Some(5), ..hop(5, 20) }, false);
        k.absorb(1, &Seen { to_held: true, tag: true, recipient: Some(6), ..hop(30, 21) }, false);
        let mut out = Vec::new();
        k.retire(1, &mut out);
        assert_eq!(out, vec![FragInfo { sender_id: Some(5), recipient_id: Some(6), ..FragInfo::default() }]);
        let frags_before = k.k.frags.len();
        k.absorb(2, &Seen { to_held: true, ..hop(5, 20) }, false);
        assert_eq!(k.k.frags.len(), frags_before, "a freed fragment is reused");
        // A hop that tells nothing is not filed.
        assert_eq!(k.absorb(3, &hop(40, 41), false), None);
        assert!(!k.retire(3, &mut out));
    }

    #[test]
    fn hops_seen_from_outside_stay_apart_unless_one_hop_has_both_ends() {
        let mut k = K::new();
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
    fn the_index_keeps_old_messages_reuses_slots_and_recycles_empty_pages() {
        let mut ix = MsgIndex::default();
        let a = ix.get_or_insert(5);
        let b = ix.get_or_insert(6);
        assert_ne!(a, b);
        // A message far newer, and one first seen late (older than every page so far).
        let c = ix.get_or_insert(5 + 3 * PAGE);
        let d = ix.get_or_insert(3 * PAGE + 1);
        let e = ix.get_or_insert(1);
        assert_eq!(ix.get_or_insert(5), a, "5 kept its slot");
        assert_eq!((ix.get(6), ix.get(7), ix.get(10 * PAGE)), (Some(b), None, None));
        assert_eq!(ix.len(), 5);
        assert_eq!(ix.remove(6), Some(b));
        assert_eq!(ix.remove(6), None);
        // A freed slot is the next one given.
        assert_eq!(ix.get_or_insert(2 * PAGE), b);
        for serial in [5, 1, 2 * PAGE, 5 + 3 * PAGE, 3 * PAGE + 1] {
            assert!(ix.remove(serial).is_some(), "{serial}");
        }
        assert!(ix.is_empty() && ix.pages.is_empty(), "empty pages are dropped");
        assert_eq!(ix.spare.len(), 3, "and kept for reuse");
        let mut slots = [a, b, c, d, e];
        slots.sort_unstable();
        assert_eq!(slots, [0, 1, 2, 3, 4]);
        assert_eq!(ix.get_or_insert(u64::MAX / 2), d, "the last slot freed is the first reused");
        assert_eq!(ix.spare.len(), 2);
    }

    #[test]
    fn messages_older_than_the_recent_pages_are_parked_and_still_found() {
        let mut ix = MsgIndex::default();
        let a = ix.get_or_insert(3);
        let b = ix.get_or_insert(PAGE + 7);
        // A message RECENT_PAGES pages newer parks 3 (its page falls out of the window), not b.
        let c = ix.get_or_insert(RECENT_PAGES * PAGE + 1);
        assert_eq!((ix.old.len(), ix.first_page), (1, 1));
        assert_eq!((ix.get(3), ix.get(PAGE + 7), ix.get(RECENT_PAGES * PAGE + 1)), (Some(a), Some(b), Some(c)));
        assert_eq!(ix.get_or_insert(3), a, "a parked message keeps its slot");
        // A message first seen after its page left the window goes straight to the map.
        let d = ix.get_or_insert(4);
        assert_eq!((ix.old.len(), ix.len()), (2, 4));
        // A far newer message parks the rest.
        let e = ix.get_or_insert(10 * RECENT_PAGES * PAGE);
        assert_eq!((ix.old.len(), ix.pages.len(), ix.first_page), (4, 1, 10 * RECENT_PAGES));
        for (serial, slot) in
            [(3, a), (4, d), (PAGE + 7, b), (RECENT_PAGES * PAGE + 1, c), (10 * RECENT_PAGES * PAGE, e)]
        {
            assert_eq!(ix.get(serial), Some(slot));
            assert_eq!(ix.remove(serial), Some(slot));
            assert_eq!(ix.get(serial), None);
        }
        assert!(ix.is_empty() && ix.old.is_empty() && ix.pages.is_empty());
    }

    #[test]
    fn each_adversary_holds_its_own_record_of_a_message_and_slots_are_reused() {
        let mut t = MsgTable::new(6);
        let (mut a, mut b) = (Knowledge::default(), Knowledge::default());
        let seen = Seen { to_held: true, src_device: Some(1), ..hop(1, 10) };
        {
            let mut m = LazyRecords::new(&mut t, 40);
            assert!(a.absorb(m.record(0), &seen, true).is_some_and(|x| x.first_exit));
            assert!(b.absorb(m.record(5), &seen, false).is_some());
        }
        assert_eq!((t.len(), a.in_flight(), b.in_flight()), (1, 1, 1));
        let s = t.find(40).expect("has a slot");
        let flags = |t: &mut MsgTable, i: usize| {
            let r = t.record(s, i);
            (r.has(HELD), r.has(EXIT_SEEN), r.head() != NONE)
        };
        assert_eq!(flags(&mut t, 0), (true, true, true));
        assert_eq!(flags(&mut t, 1), (false, false, false), "column 1 saw nothing");
        assert_eq!(flags(&mut t, 5), (true, false, true));
        let mut out = Vec::new();
        assert!(a.retire(t.record(s, 0), &mut out) && !b.retire(t.record(s, 1), &mut out));
        assert!(b.retire(t.record(s, 5), &mut out));
        t.release(40);
        assert!(t.is_empty() && t.find(40).is_none());
        assert_eq!((a.in_flight(), b.in_flight(), a.peak_in_flight()), (0, 0, 1));
        // The next message reuses the slot (two lines of four records): no column holds it, and
        // what the last message left there is forgotten when a column files the new one.
        let s2 = t.slot(41);
        assert_eq!((s2, t.recs.len()), (s, 2));
        assert!((0..6).all(|i| !flags(&mut t, i).0));
        let exit = Seen { to_held: true, dst_device: Some(2), ..hop(10, 2) };
        assert!(a.absorb(t.record(s2, 0), &exit, true).is_some_and(|x| x.first_exit));
    }

    #[test]
    fn a_record_packs_its_flags_beside_the_first_fragment() {
        assert_eq!(std::mem::size_of::<MsgRecord>(), 16);
        assert_eq!(std::mem::size_of::<Line>(), 64);
        let mut r = MsgRecord::EMPTY;
        assert_eq!(r.head(), NONE);
        r.set(HELD, true);
        r.set_head(HEAD_NONE - 1);
        r.set(LOOSE_PAIR, true);
        assert_eq!((r.head(), r.has(HELD), r.has(EXIT_SEEN), r.has(LOOSE_PAIR)), (HEAD_NONE - 1, true, false, true));
        r.set_head(NONE);
        r.set(HELD, false);
        assert_eq!((r.head(), r.has(HELD), r.has(LOOSE_PAIR)), (NONE, false, true));
    }

    #[test]
    fn a_second_arrival_at_a_node_is_another_fragment_unless_a_tag_joins_them() {
        let mut k = K::new();
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
