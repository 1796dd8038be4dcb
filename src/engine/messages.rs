//! The table of messages in flight: a slab of small records, reused once a message is settled.
//!
//! Memory is bounded by what is in flight, not by what has passed: a slot is freed as soon as
//! every copy of its message is delivered or lost, and reused by a later send. A slot's
//! generation changes on reuse, so a model's late event about a settled message is recognised as
//! stale (see [`MsgId`]).

use crate::time::SimTime;
use crate::world::UserId;

/// A message's handle: its slot and the slot's generation when the message was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MsgId {
    /// Index in the table.
    pub slot: u32,
    /// Generation of the slot when this message was created.
    pub generation: u32,
}

/// Where a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// One recipient.
    User(UserId),
    /// Every member of a room except the sender.
    Room(u32),
}

/// One message in flight.
#[derive(Clone, Copy, Debug)]
pub struct Message {
    /// Who sent it.
    pub sender: UserId,
    /// Where it goes.
    pub dest: Dest,
    /// Payload size in bytes.
    pub size: u32,
    /// When it was sent.
    pub created: SimTime,
    /// A number unique in the run, in creation order (ground truth for adversary scoring).
    pub serial: u64,
    /// Copies not yet delivered or lost.
    pub pending: u32,
    /// Whether it was sent after the warm-up and so enters the statistics.
    pub counted: bool,
    /// For one-recipient messages: whether the recipient was online at send.
    pub online_at_send: bool,
}

/// All messages in flight, indexed by slot.
#[derive(Default)]
pub struct MessageTable {
    slots: Vec<Message>,
    generations: Vec<u32>,
    free: Vec<u32>,
    live: usize,
    next_serial: u64,
    peak_live: usize,
}

impl MessageTable {
    /// Stores a new message and returns its handle.
    pub fn insert(&mut self, mut msg: Message) -> MsgId {
        msg.serial = self.next_serial;
        self.next_serial += 1;
        self.live += 1;
        self.peak_live = self.peak_live.max(self.live);
        if let Some(slot) = self.free.pop() {
            self.slots[slot as usize] = msg;
            MsgId { slot, generation: self.generations[slot as usize] }
        } else {
            self.slots.push(msg);
            self.generations.push(0);
            MsgId { slot: self.slots.len() as u32 - 1, generation: 0 }
        }
    }

    /// Whether `id` still names a message in flight (not settled and reused).
    #[inline]
    pub fn is_live(&self, id: MsgId) -> bool {
        self.generations.get(id.slot as usize) == Some(&id.generation) && self.slots[id.slot as usize].pending > 0
    }

    /// The message behind a live handle.
    #[inline]
    pub fn get(&self, id: MsgId) -> &Message {
        debug_assert_eq!(self.generations[id.slot as usize], id.generation, "stale message handle");
        &self.slots[id.slot as usize]
    }

    /// Marks one copy settled; frees the slot when it was the last. Returns the message as it was.
    pub(crate) fn settle_copy(&mut self, id: MsgId) -> Message {
        let m = &mut self.slots[id.slot as usize];
        debug_assert!(m.pending > 0, "copy settled twice");
        m.pending -= 1;
        let copy = *m;
        if m.pending == 0 {
            self.generations[id.slot as usize] = self.generations[id.slot as usize].wrapping_add(1);
            self.free.push(id.slot);
            self.live -= 1;
        }
        copy
    }

    /// Messages in flight now.
    pub fn live(&self) -> usize {
        self.live
    }

    /// The most messages ever in flight at once (the table's memory high-water mark).
    pub fn peak_live(&self) -> usize {
        self.peak_live
    }

    /// Every message in flight, for the end-of-run census.
    pub fn iter_live(&self) -> impl Iterator<Item = &Message> {
        self.slots.iter().filter(|m| m.pending > 0)
    }

    /// Slots allocated so far; models size per-message side tables with it.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}
