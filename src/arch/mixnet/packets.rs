//! Packets in flight, the recipient copies they carry, and the FIFO lists they wait in.
//!
//! A mix network moves fixed-size packets, not messages: a message copy larger than one packet's
//! payload is split into fragments, each its own packet on its own path, and the copy is
//! delivered when its last fragment reaches the recipient. Cover packets (drops, loops, mix
//! loops) use the same records when they are simulated hop by hop. Both pools are flat vectors
//! with free lists, so a run allocates only when it has more packets in flight than ever before;
//! a packet's generation changes when it is freed, so a stale event can tell. The lists (a
//! client's send queue, a provider's store for one user) are threaded through the packets.

use crate::engine::MsgId;
use crate::engine::observation::NodeId;
use crate::time::SimTime;
use crate::world::UserId;

/// "No packet" in links and heads: the kit's sentinel.
pub use crate::arch::kit::NONE;

/// What a packet is, as far as the model is concerned (on the wire they all look alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A fragment of a real message copy.
    Real,
    /// Cover that a provider discards: a drop message, or a payload slot with nothing queued.
    Drop,
    /// A client's loop: through the mixes back to its own provider, and to the client.
    Loop,
    /// A mix's own loop through the other layers back to itself.
    MixLoop,
}

/// One packet in flight or waiting.
#[derive(Clone, Copy, Debug)]
pub struct Packet {
    /// Changes each time the slot is freed.
    pub generation: u32,
    /// What it is.
    pub kind: Kind,
    /// The copy it carries a fragment of (`NONE` for cover).
    pub copy: u32,
    /// The client that sent it, or the mix index of a mix loop.
    pub owner: u32,
    /// Index of the provider where it leaves the mixes.
    pub exit: u32,
    /// The node it is at (or just left).
    pub node: NodeId,
    /// When it was queued at the client, then when it was stored at the provider.
    pub since: SimTime,
    /// When the provider handed it to a pull.
    pub answered: SimTime,
    /// Next packet in the list it waits in.
    pub next: u32,
}

impl Packet {
    /// A packet of `kind` from `owner`, leaving the mixes at provider `exit`, made at `now`.
    pub fn new(kind: Kind, copy: u32, owner: u32, exit: u32, node: NodeId, now: SimTime) -> Packet {
        Packet { generation: 0, kind, copy, owner, exit, node, since: now, answered: now, next: NONE }
    }
}

/// The packets, in a flat vector with a free list.
#[derive(Default)]
pub struct Pool {
    packets: Vec<Packet>,
    free: Vec<u32>,
    live: usize,
    peak: usize,
}

impl Pool {
    /// Stores `p` and returns its index; its generation is the slot's current one.
    pub fn alloc(&mut self, mut p: Packet) -> u32 {
        self.live += 1;
        self.peak = self.peak.max(self.live);
        match self.free.pop() {
            Some(i) => {
                p.generation = self.packets[i as usize].generation;
                self.packets[i as usize] = p;
                i
            }
            None => {
                self.packets.push(p);
                self.packets.len() as u32 - 1
            }
        }
    }

    /// Frees slot `i`; events still naming its old generation are stale.
    pub fn free(&mut self, i: u32) {
        let p = &mut self.packets[i as usize];
        p.generation = p.generation.wrapping_add(1);
        self.live -= 1;
        self.free.push(i);
    }

    /// The packet at `i`.
    #[inline]
    pub fn get(&self, i: u32) -> &Packet {
        &self.packets[i as usize]
    }

    /// The packet at `i`, to change.
    #[inline]
    pub fn get_mut(&mut self, i: u32) -> &mut Packet {
        &mut self.packets[i as usize]
    }

    /// Whether slot `i` still holds the packet of `generation`.
    #[inline]
    pub fn is_current(&self, i: u32, generation: u32) -> bool {
        self.packets.get(i as usize).is_some_and(|p| p.generation == generation)
    }

    /// Most packets alive at once.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

/// One FIFO list per user, threaded through [`Packet::next`].
#[derive(Default)]
pub struct Lists {
    head: Vec<u32>,
    tail: Vec<u32>,
    len: Vec<u32>,
}

impl Lists {
    /// `n` empty lists.
    pub fn new(n: usize) -> Lists {
        Lists { head: vec![NONE; n], tail: vec![NONE; n], len: vec![0; n] }
    }

    /// Whether list `l` is empty.
    #[inline]
    pub fn is_empty(&self, l: u32) -> bool {
        self.head[l as usize] == NONE
    }

    /// The first packet of list `l` (`NONE` if empty).
    #[inline]
    pub fn front(&self, l: u32) -> u32 {
        self.head[l as usize]
    }

    /// Appends packet `i` to list `l`.
    pub fn push_back(&mut self, pool: &mut Pool, l: u32, i: u32) {
        let l = l as usize;
        pool.get_mut(i).next = NONE;
        if self.head[l] == NONE {
            self.head[l] = i;
        } else {
            pool.get_mut(self.tail[l]).next = i;
        }
        self.tail[l] = i;
        self.len[l] += 1;
    }

    /// Puts packet `i` back at the front of list `l`.
    pub fn push_front(&mut self, pool: &mut Pool, l: u32, i: u32) {
        let l = l as usize;
        pool.get_mut(i).next = self.head[l];
        if self.head[l] == NONE {
            self.tail[l] = i;
        }
        self.head[l] = i;
        self.len[l] += 1;
    }

    /// Removes and returns the first packet of list `l`.
    pub fn pop_front(&mut self, pool: &Pool, l: u32) -> Option<u32> {
        let l = l as usize;
        let i = self.head[l];
        if i == NONE {
            return None;
        }
        self.head[l] = pool.get(i).next;
        if self.head[l] == NONE {
            self.tail[l] = NONE;
        }
        self.len[l] -= 1;
        Some(i)
    }

    /// Total packets in every list.
    pub fn total(&self) -> u64 {
        self.len.iter().map(|&n| n as u64).sum()
    }
}

/// One recipient copy of a message, split into fragments.
#[derive(Clone, Copy, Debug)]
pub struct RecipientCopy {
    /// The message.
    pub msg: MsgId,
    /// Whom this copy is for.
    pub recipient: UserId,
    /// Fragments not yet delivered or discarded.
    pub left: u32,
    /// Whether the copy was lost (its other fragments are discarded as they turn up).
    pub lost: bool,
}

/// The copies, in a flat vector with a free list.
#[derive(Default)]
pub struct Copies {
    copies: Vec<RecipientCopy>,
    free: Vec<u32>,
}

impl Copies {
    /// Stores `c` and returns its index.
    pub fn alloc(&mut self, c: RecipientCopy) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.copies[i as usize] = c;
                i
            }
            None => {
                self.copies.push(c);
                self.copies.len() as u32 - 1
            }
        }
    }

    /// Frees copy `i` once no fragment refers to it.
    pub fn free(&mut self, i: u32) {
        debug_assert_eq!(self.copies[i as usize].left, 0, "a copy freed while fragments refer to it");
        self.free.push(i);
    }

    /// The copy at `i`.
    #[inline]
    pub fn get(&self, i: u32) -> &RecipientCopy {
        &self.copies[i as usize]
    }

    /// The copy at `i`, to change.
    #[inline]
    pub fn get_mut(&mut self, i: u32) -> &mut RecipientCopy {
        &mut self.copies[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(owner: u32) -> Packet {
        Packet::new(Kind::Drop, NONE, owner, 0, 0, SimTime::ZERO)
    }

    #[test]
    fn lists_are_fifo_and_push_front_jumps_the_queue() {
        let mut pool = Pool::default();
        let mut lists = Lists::new(2);
        let ids: Vec<u32> = (0..4).map(|i| pool.alloc(packet(i))).collect();
        for &i in &ids[..3] {
            lists.push_back(&mut pool, 1, i);
        }
        lists.push_front(&mut pool, 1, ids[3]);
        assert!(lists.is_empty(0));
        assert_eq!(lists.total(), 4);
        let order: Vec<u32> = std::iter::from_fn(|| lists.pop_front(&pool, 1)).collect();
        assert_eq!(order, vec![ids[3], ids[0], ids[1], ids[2]]);
        assert!(lists.is_empty(1));
        assert_eq!(lists.total(), 0);
    }

    #[test]
    fn freed_slots_are_reused_with_a_new_generation() {
        let mut pool = Pool::default();
        let a = pool.alloc(packet(0));
        let g = pool.get(a).generation;
        pool.free(a);
        assert!(!pool.is_current(a, g));
        let b = pool.alloc(packet(1));
        assert_eq!(a, b);
        assert!(pool.is_current(b, g.wrapping_add(1)));
        assert_eq!(pool.peak(), 1);
    }
}
