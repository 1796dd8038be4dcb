//! The pending-event queue: a monotone radix heap with first-in-first-out order on equal times.
//!
//! Simulated time never runs backward, so a monotone priority queue is valid and far faster than
//! a binary heap at a million pending events: bucket `i` holds the entries whose key differs from
//! the last popped key first at bit `i - 1`, so an entry moves down at most 64 times over its
//! life and most operations touch one cache line. Ties are frequent at microsecond resolution and
//! must pop in the order they were pushed; that holds here because the bucket of a key is a
//! function of (key, last popped) alone, buckets are append-only vectors, a redistribution keeps
//! the order within a bucket, and bucket 0 (keys equal to the last popped) is read from its front.
//! Buckets keep their capacity, so a warmed-up queue allocates nothing per event.

/// A monotone priority queue of `(time, item)` pairs, popping the earliest, FIFO on ties.
pub struct EventQueue<T> {
    /// The key popped last; every pending key is at least this.
    last: u64,
    /// Pending entries, for `len()`.
    len: usize,
    /// `buckets[0]` holds keys equal to `last`; `buckets[i]` keys whose highest bit differing
    /// from `last` is bit `i - 1`.
    buckets: Vec<Vec<(u64, T)>>,
    /// Read position in `buckets[0]`, which is consumed from its front for FIFO order.
    head: usize,
    /// Bit `i` set when `buckets[i]` (i >= 1) is non-empty.
    occupied: u128,
}

impl<T: Copy> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> EventQueue<T> {
    /// An empty queue positioned at time zero.
    pub fn new() -> Self {
        EventQueue { last: 0, len: 0, buckets: (0..65).map(|_| Vec::new()).collect(), head: 0, occupied: 0 }
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

    #[inline]
    fn bucket_of(&self, key: u64) -> usize {
        (64 - (key ^ self.last).leading_zeros()) as usize
    }

    /// Adds an entry. Panics if `key` is earlier than the last popped key: that would be an event
    /// scheduled in the past, a bug in the model that scheduled it.
    #[inline]
    pub fn push(&mut self, key: u64, item: T) {
        assert!(key >= self.last, "event scheduled in the past: {key} < {}", self.last);
        let b = self.bucket_of(key);
        self.buckets[b].push((key, item));
        self.occupied |= 1u128 << b;
        self.len += 1;
    }

    /// Removes and returns the earliest entry (the first pushed among equal keys).
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, T)> {
        if self.head == self.buckets[0].len() {
            self.refill()?;
        }
        let entry = self.buckets[0][self.head];
        self.head += 1;
        self.len -= 1;
        Some(entry)
    }

    /// Moves the lowest non-empty bucket down so that bucket 0 holds the next earliest key.
    #[cold]
    fn refill(&mut self) -> Option<()> {
        self.buckets[0].clear();
        self.head = 0;
        self.occupied &= !1;
        if self.occupied == 0 {
            return None;
        }
        let b = self.occupied.trailing_zeros() as usize;
        let mut moving = std::mem::take(&mut self.buckets[b]);
        self.occupied &= !(1u128 << b);
        let min = moving.iter().map(|e| e.0).min().expect("occupied bucket is non-empty");
        debug_assert!(min >= self.last, "time ran backward");
        self.last = min;
        for &(key, item) in &moving {
            let nb = self.bucket_of(key);
            debug_assert!(nb < b);
            self.buckets[nb].push((key, item));
            self.occupied |= 1u128 << nb;
        }
        moving.clear();
        self.buckets[b] = moving;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn pops_in_time_order_with_fifo_ties() {
        let mut q = EventQueue::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut reference: Vec<(u64, u32)> = Vec::new();
        let mut seq = 0u32;
        let mut now = 0u64;
        // Hold model: pop one, push up to two later ones (coarse times make ties frequent).
        for _ in 0..1000 {
            q.push(0, seq);
            reference.push((0, seq));
            seq += 1;
        }
        let mut popped = Vec::new();
        while let Some((t, s)) = q.pop() {
            assert!(t >= now, "time ran backward");
            now = t;
            popped.push((t, s));
            if seq < 50_000 {
                for _ in 0..rng.random_range(0..3u32) {
                    let at = now + rng.random_range(0..50u64);
                    q.push(at, seq);
                    reference.push((at, seq));
                    seq += 1;
                }
            }
        }
        // A stable sort by time is exactly "time order, FIFO on ties".
        reference.sort_by_key(|e| e.0);
        assert_eq!(popped, reference);
        assert!(q.is_empty());
    }

    #[test]
    fn equal_keys_pushed_across_refills_stay_fifo() {
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
    #[should_panic(expected = "in the past")]
    fn pushing_into_the_past_panics() {
        let mut q = EventQueue::new();
        q.push(10, ());
        q.pop();
        q.push(9, ());
    }
}
