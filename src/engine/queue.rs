//! The pending-event queue: a hierarchical timing wheel over 64-bit times, first-in-first-out on
//! equal times.
//!
//! Simulated time never runs backward, which makes a monotone queue valid, and a monotone queue is
//! far faster than a binary heap at a million pending events (a heap's random reads cost a cache
//! miss per level). The key is split into eight 8-bit digits. An entry sits at the level of the
//! highest digit in which it differs from the last popped key, in the slot named by its own digit
//! there; so its place is a function of (key, last popped) alone. When level 0 runs dry, the lowest
//! occupied slot of the lowest occupied level is emptied: the smallest key in it becomes the new
//! "last", and its entries move to lower levels, in their order. An entry moves at most once per
//! level (at most 3 times for the spread of times a simulation schedules, against up to 64 times in
//! a binary radix heap).
//!
//! Ties pop in the order they were pushed: two entries with the same key always share a slot,
//! slots only grow at their back, moves keep a slot's order, and level-0 slots are read from their
//! front. Slots keep their capacity, so a warmed-up queue allocates nothing per event.

const DIGIT_BITS: u32 = 8;
const SLOTS: usize = 1 << DIGIT_BITS;
const LEVELS: usize = 64 / DIGIT_BITS as usize;

/// Occupancy of one level's slots.
#[derive(Clone, Copy, Default)]
struct Bitmap([u64; SLOTS / 64]);

impl Bitmap {
    #[inline]
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    #[inline]
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    #[inline]
    fn first(&self) -> Option<usize> {
        self.0.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }
}

/// A monotone priority queue of `(time, item)` pairs, popping the earliest, FIFO on ties.
pub struct EventQueue<T> {
    /// The key popped last; every pending key is at least this.
    last: u64,
    /// Pending entries.
    len: usize,
    /// `slots[level * SLOTS + digit]`.
    slots: Vec<Vec<(u64, T)>>,
    /// Read positions of the level-0 slots, which are consumed from the front.
    heads: Vec<usize>,
    /// Occupied slots per level.
    occupied: [Bitmap; LEVELS],
    /// Bit `l` set when level `l` has an occupied slot.
    levels: u8,
}

impl<T: Copy> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> EventQueue<T> {
    /// An empty queue positioned at time zero.
    pub fn new() -> Self {
        EventQueue {
            last: 0,
            len: 0,
            slots: (0..LEVELS * SLOTS).map(|_| Vec::new()).collect(),
            heads: vec![0; SLOTS],
            occupied: [Bitmap::default(); LEVELS],
            levels: 0,
        }
    }

    /// Number of pending entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key popped last (the queue's notion of "now").
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Level and slot of `key` relative to the last popped key.
    #[inline]
    fn place(&self, key: u64) -> (usize, usize) {
        let diff = key ^ self.last;
        let level = if diff == 0 { 0 } else { ((63 - diff.leading_zeros()) / DIGIT_BITS) as usize };
        (level, ((key >> (level as u32 * DIGIT_BITS)) as usize) & (SLOTS - 1))
    }

    #[inline]
    fn put(&mut self, key: u64, item: T) {
        let (level, slot) = self.place(key);
        self.slots[level * SLOTS + slot].push((key, item));
        self.occupied[level].set(slot);
        self.levels |= 1 << level;
    }

    /// Adds an entry. Panics if `key` is earlier than the last popped key: that would be an event
    /// scheduled in the past, a bug in the model that scheduled it.
    #[inline]
    pub fn push(&mut self, key: u64, item: T) {
        assert!(key >= self.last, "event scheduled in the past: {key} < {}", self.last);
        self.put(key, item);
        self.len += 1;
    }

    /// Removes and returns the earliest entry (the first pushed among equal keys).
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, T)> {
        if self.levels & 1 == 0
            && let Some(lone) = self.cascade()?
        {
            return Some(lone);
        }
        let slot = self.occupied[0].first().expect("level 0 is occupied");
        let entries = &mut self.slots[slot];
        let entry = entries[self.heads[slot]];
        self.heads[slot] += 1;
        if self.heads[slot] == entries.len() {
            entries.clear();
            self.heads[slot] = 0;
            self.occupied[0].clear(slot);
            if self.occupied[0].first().is_none() {
                self.levels &= !1;
            }
        }
        debug_assert!(entry.0 >= self.last, "time ran backward");
        self.last = entry.0;
        self.len -= 1;
        Some(entry)
    }

    /// Empties the lowest occupied slot above level 0 into lower levels, so that level 0 holds the
    /// next earliest keys. A slot holding a single entry holds the earliest key of all, so that
    /// entry is popped at once (`Some(Some(entry))`) rather than moved down level by level: when
    /// events are sparse in time (a few hundred a second) that is most pops.
    fn cascade(&mut self) -> Option<Option<(u64, T)>> {
        while self.levels & 1 == 0 {
            if self.levels == 0 {
                return None;
            }
            let level = self.levels.trailing_zeros() as usize;
            let slot = self.occupied[level].first().expect("level is occupied");
            self.occupied[level].clear(slot);
            if self.occupied[level].first().is_none() {
                self.levels &= !(1 << level);
            }
            let entries = &mut self.slots[level * SLOTS + slot];
            if let [lone] = entries[..] {
                entries.clear();
                debug_assert!(lone.0 >= self.last, "time ran backward");
                self.last = lone.0;
                self.len -= 1;
                return Some(Some(lone));
            }
            let mut moving = std::mem::take(entries);
            self.last = moving.iter().map(|e| e.0).min().expect("occupied slot is non-empty");
            for &(key, item) in &moving {
                self.put(key, item);
            }
            moving.clear();
            self.slots[level * SLOTS + slot] = moving;
        }
        Some(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Hold model against a stable sort: "time order, FIFO on ties" is exactly a stable sort by
    /// time of everything pushed.
    fn hold_matches_stable_sort(max_step: u64, seed: u64) {
        let mut q = EventQueue::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut reference: Vec<(u64, u32)> = Vec::new();
        let mut seq = 0u32;
        let mut now = 0u64;
        for _ in 0..1000 {
            let at = rng.random_range(0..max_step);
            q.push(at, seq);
            reference.push((at, seq));
            seq += 1;
        }
        let mut popped = Vec::new();
        while let Some((t, s)) = q.pop() {
            assert!(t >= now, "time ran backward");
            now = t;
            popped.push((t, s));
            if seq < 50_000 {
                for _ in 0..rng.random_range(0..3u32) {
                    let at = now + rng.random_range(0..max_step);
                    q.push(at, seq);
                    reference.push((at, seq));
                    seq += 1;
                }
            }
        }
        reference.sort_by_key(|e| e.0);
        assert_eq!(popped, reference);
        assert!(q.is_empty());
    }

    #[test]
    fn pops_in_time_order_with_fifo_ties() {
        // Coarse times make ties frequent; wide ones exercise every level.
        hold_matches_stable_sort(50, 7);
        hold_matches_stable_sort(100_000, 8);
        hold_matches_stable_sort(1 << 40, 9);
    }

    #[test]
    fn equal_keys_pushed_across_cascades_stay_fifo() {
        let mut q = EventQueue::new();
        q.push(1000, 0);
        q.push(5, 1);
        assert_eq!(q.pop(), Some((5, 1)));
        q.push(1000, 2); // lands beside entry 0, after it
        q.push(999, 3);
        assert_eq!(q.pop(), Some((999, 3)));
        q.push(1000, 4);
        assert_eq!(q.pop(), Some((1000, 0)));
        q.push(1000, 5);
        assert_eq!(q.pop(), Some((1000, 2)));
        assert_eq!(q.pop(), Some((1000, 4)));
        assert_eq!(q.pop(), Some((1000, 5)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn extreme_keys_are_ordered() {
        let mut q = EventQueue::new();
        q.push(u64::MAX, 0);
        q.push(0, 1);
        q.push(1 << 63, 2);
        assert_eq!(q.pop(), Some((0, 1)));
        assert_eq!(q.pop(), Some((1 << 63, 2)));
        assert_eq!(q.pop(), Some((u64::MAX, 0)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn pushing_into_the_past_panics() {
        let mut q = EventQueue::new();
        q.push(10, ());
        q.pop();
        q.push(9, ());
    }
}
