//! Per-key FIFO lists, all linked through one node slab.
//!
//! Every model keeps queues per user, per server pair or per destination (copies stored for a
//! recipient, messages a client holds, events waiting for a destination). One flat slab of nodes
//! and a head and tail per key keep them allocation-free in the steady state: a node freed by one
//! list is reused by the next push to any list.
//!
//! Draining while pushing: [`KeyedLists::detach`] empties a key's list and returns its nodes as a
//! [`Chain`]; [`KeyedLists::pop`] hands them out in FIFO order, freeing each. Code that drains a
//! list may push to the same key meanwhile (a client re-holding what it could not send): the
//! pushes form a new list and never meet the chain being drained.

use super::NONE;
use super::slab::Slab;

#[derive(Clone, Copy, Debug)]
struct Node<T> {
    value: T,
    next: u32,
}

/// The nodes of a detached list, handed out front to back by [`KeyedLists::pop`].
#[derive(Clone, Copy, Debug)]
#[must_use = "a detached chain's nodes are freed only as they are popped"]
pub struct Chain {
    head: u32,
}

impl Chain {
    /// Whether every node was popped.
    pub fn is_empty(&self) -> bool {
        self.head == NONE
    }
}

/// FIFO lists of `T`, one per key `0..keys`.
#[derive(Clone, Debug)]
pub struct KeyedLists<T> {
    nodes: Slab<Node<T>>,
    head: Vec<u32>,
    tail: Vec<u32>,
}

impl<T> Default for KeyedLists<T> {
    fn default() -> Self {
        KeyedLists { nodes: Slab::default(), head: Vec::new(), tail: Vec::new() }
    }
}

impl<T: Copy> KeyedLists<T> {
    /// Empty lists for keys `0..keys`.
    pub fn new(keys: usize) -> Self {
        KeyedLists { nodes: Slab::default(), head: vec![NONE; keys], tail: vec![NONE; keys] }
    }

    /// Number of keys.
    pub fn keys(&self) -> usize {
        self.head.len()
    }

    /// Adds an empty list and returns its key (for keys created as the run goes).
    pub fn add_key(&mut self) -> u32 {
        self.head.push(NONE);
        self.tail.push(NONE);
        self.head.len() as u32 - 1
    }

    /// Appends `value` to `key`'s list.
    #[inline]
    pub fn push(&mut self, key: u32, value: T) {
        let slot = self.nodes.insert(Node { value, next: NONE });
        let k = key as usize;
        if self.head[k] == NONE {
            self.head[k] = slot;
        } else {
            self.nodes.get_mut(self.tail[k]).next = slot;
        }
        self.tail[k] = slot;
    }

    /// Whether `key`'s list is empty.
    #[inline]
    pub fn is_empty(&self, key: u32) -> bool {
        self.head[key as usize] == NONE
    }

    /// Empties `key`'s list and returns its nodes for [`KeyedLists::pop`].
    #[inline]
    pub fn detach(&mut self, key: u32) -> Chain {
        let k = key as usize;
        self.tail[k] = NONE;
        Chain { head: std::mem::replace(&mut self.head[k], NONE) }
    }

    /// The next value of a detached chain, front to back; its node is freed.
    #[inline]
    pub fn pop(&mut self, chain: &mut Chain) -> Option<T> {
        if chain.head == NONE {
            return None;
        }
        let node = *self.nodes.get(chain.head);
        self.nodes.remove(chain.head);
        chain.head = node.next;
        Some(node.value)
    }

    /// The values of `key`'s list, front to back, without removing them.
    pub fn iter(&self, key: u32) -> impl Iterator<Item = &T> + '_ {
        let mut slot = self.head[key as usize];
        std::iter::from_fn(move || {
            if slot == NONE {
                return None;
            }
            let node = self.nodes.get(slot);
            slot = node.next;
            Some(&node.value)
        })
    }

    /// Values stored in all lists together.
    pub fn total(&self) -> usize {
        self.nodes.len()
    }

    /// Whether every list is empty.
    pub fn is_all_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Most values ever stored at once (the node slab's size).
    pub fn capacity(&self) -> usize {
        self.nodes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(l: &mut KeyedLists<u32>, key: u32) -> Vec<u32> {
        let mut chain = l.detach(key);
        std::iter::from_fn(|| l.pop(&mut chain)).collect()
    }

    #[test]
    fn each_key_keeps_its_own_fifo_order() {
        let mut l = KeyedLists::new(3);
        for v in 0..30u32 {
            l.push(v % 3, v);
        }
        assert_eq!(l.iter(1).copied().collect::<Vec<_>>(), (0..10).map(|i| 3 * i + 1).collect::<Vec<_>>());
        assert_eq!(drain(&mut l, 2), (0..10).map(|i| 3 * i + 2).collect::<Vec<_>>());
        assert!(l.is_empty(2));
        assert_eq!(l.total(), 20);
        assert_eq!(drain(&mut l, 0), (0..10).map(|i| 3 * i).collect::<Vec<_>>());
        assert_eq!(drain(&mut l, 1).len(), 10);
        assert!(l.is_all_empty());
    }

    #[test]
    fn pushing_to_a_key_while_draining_it_starts_a_new_list() {
        let mut l = KeyedLists::new(1);
        for v in 1..=4u32 {
            l.push(0, v);
        }
        let mut chain = l.detach(0);
        let mut seen = Vec::new();
        while let Some(v) = l.pop(&mut chain) {
            seen.push(v);
            if v % 2 == 0 {
                l.push(0, v * 10); // kept for later, like a client re-holding a message
            }
        }
        assert_eq!(seen, [1, 2, 3, 4]);
        assert_eq!(l.iter(0).copied().collect::<Vec<_>>(), [20, 40]);
    }

    #[test]
    fn nodes_are_reused_so_memory_follows_what_is_stored() {
        let mut l = KeyedLists::new(100);
        for round in 0..50u32 {
            for k in 0..100 {
                l.push(k, round);
            }
            for k in 0..100 {
                let _ = drain(&mut l, k);
            }
        }
        assert_eq!(l.capacity(), 100);
    }

    #[test]
    fn keys_added_later_start_empty() {
        let mut l: KeyedLists<u32> = KeyedLists::default();
        let k = l.add_key();
        assert!(l.is_empty(k));
        l.push(k, 7);
        assert_eq!(drain(&mut l, k), [7]);
        assert_eq!(l.keys(), 1);
    }
}
