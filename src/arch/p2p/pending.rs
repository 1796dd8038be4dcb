//! The copies senders' clients hold until they can reach the recipient, indexed both ways.
//!
//! A held copy must be found from its sender (when the sender comes online) and from its
//! recipient (when the recipient comes online), and removed in O(1) when it leaves. So each copy
//! sits in two intrusive doubly linked lists, one per sender and one per recipient, in a slab of
//! flat records with a free list: no allocation per event once the slab has grown.

use crate::arch::kit::NONE;
use crate::engine::MsgId;
use crate::world::UserId;

/// One held copy: a message and the recipient it is for.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    /// The message.
    pub msg: MsgId,
    /// Who holds it.
    pub sender: UserId,
    /// Whom it is for.
    pub recipient: UserId,
    prev_s: u32,
    next_s: u32,
    prev_r: u32,
    next_r: u32,
}

/// Held copies, listed per sender and per recipient.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    slab: Vec<Held>,
    free: Vec<u32>,
    head_s: Vec<u32>,
    head_r: Vec<u32>,
    len: usize,
}

impl Pending {
    /// Empty lists for `users` users.
    pub fn new(users: usize) -> Pending {
        Pending { slab: Vec::new(), free: Vec::new(), head_s: vec![NONE; users], head_r: vec![NONE; users], len: 0 }
    }

    /// Number of copies held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no copy is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Holds a copy; returns its handle.
    pub fn insert(&mut self, msg: MsgId, sender: UserId, recipient: UserId) -> u32 {
        let (hs, hr) = (self.head_s[sender as usize], self.head_r[recipient as usize]);
        let h = Held { msg, sender, recipient, prev_s: NONE, next_s: hs, prev_r: NONE, next_r: hr };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = h;
                i
            }
            None => {
                self.slab.push(h);
                self.slab.len() as u32 - 1
            }
        };
        if hs != NONE {
            self.slab[hs as usize].prev_s = idx;
        }
        if hr != NONE {
            self.slab[hr as usize].prev_r = idx;
        }
        self.head_s[sender as usize] = idx;
        self.head_r[recipient as usize] = idx;
        self.len += 1;
        idx
    }

    /// The copy behind a handle.
    #[inline]
    pub fn get(&self, idx: u32) -> &Held {
        &self.slab[idx as usize]
    }

    /// Stops holding a copy; returns it.
    pub fn remove(&mut self, idx: u32) -> Held {
        let h = self.slab[idx as usize];
        if h.prev_s != NONE {
            self.slab[h.prev_s as usize].next_s = h.next_s;
        } else {
            self.head_s[h.sender as usize] = h.next_s;
        }
        if h.next_s != NONE {
            self.slab[h.next_s as usize].prev_s = h.prev_s;
        }
        if h.prev_r != NONE {
            self.slab[h.prev_r as usize].next_r = h.next_r;
        } else {
            self.head_r[h.recipient as usize] = h.next_r;
        }
        if h.next_r != NONE {
            self.slab[h.next_r as usize].prev_r = h.prev_r;
        }
        self.free.push(idx);
        self.len -= 1;
        h
    }

    /// Appends the handles of every copy `sender` holds to `out`.
    pub fn of_sender(&self, sender: UserId, out: &mut Vec<u32>) {
        let mut i = self.head_s[sender as usize];
        while i != NONE {
            out.push(i);
            i = self.slab[i as usize].next_s;
        }
    }

    /// Appends the handles of every copy held for `recipient` to `out`.
    pub fn of_recipient(&self, recipient: UserId, out: &mut Vec<u32>) {
        let mut i = self.head_r[recipient as usize];
        while i != NONE {
            out.push(i);
            i = self.slab[i as usize].next_r;
        }
    }

    /// Appends every live handle to `out`.
    pub fn all(&self, out: &mut Vec<u32>) {
        for s in 0..self.head_s.len() as UserId {
            self.of_sender(s, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(slot: u32) -> MsgId {
        MsgId { slot, generation: 0 }
    }

    #[test]
    fn copies_are_found_from_both_ends_and_removed_from_both() {
        let mut p = Pending::new(4);
        let a = p.insert(id(0), 0, 1);
        let b = p.insert(id(1), 0, 2);
        let c = p.insert(id(2), 3, 1);
        let mut out = Vec::new();
        p.of_sender(0, &mut out);
        assert_eq!(out, vec![b, a]);
        out.clear();
        p.of_recipient(1, &mut out);
        assert_eq!(out, vec![c, a]);
        p.remove(a);
        out.clear();
        p.of_sender(0, &mut out);
        assert_eq!(out, vec![b]);
        out.clear();
        p.of_recipient(1, &mut out);
        assert_eq!(out, vec![c]);
        // The freed slot is reused.
        let d = p.insert(id(3), 2, 3);
        assert_eq!(d, a);
        assert_eq!(p.len(), 3);
        out.clear();
        p.all(&mut out);
        out.sort_unstable();
        assert_eq!(out, vec![a, b, c]);
    }
}
