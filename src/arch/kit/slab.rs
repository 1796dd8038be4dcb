//! A slab: values in reused slots, with a free list and a generation per slot.
//!
//! Memory is bounded by what is live, not by what has passed: a removed slot is reused by the
//! next insert. Each slot's generation changes on removal, so a [`Handle`] kept in a scheduled
//! event is recognised as stale once its value is gone, even if the slot was reused since. Code
//! that only needs the slot index (intrusive lists, whose links are rewritten on reuse) uses
//! [`Slab::insert`] and [`Slab::remove`] with plain indices and ignores generations.

/// A slot and the slot's generation when its value was inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle {
    /// Index in the slab.
    pub slot: u32,
    /// Generation of the slot when the value was inserted.
    pub generation: u32,
}

/// Values of type `T` in reusable slots.
#[derive(Clone, Debug)]
pub struct Slab<T> {
    values: Vec<T>,
    generations: Vec<u32>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { values: Vec::new(), generations: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slab<T> {
    /// Stores `value` in a free slot (or a new one) and returns the slot.
    #[inline]
    pub fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.values[slot as usize] = value;
                slot
            }
            None => {
                self.values.push(value);
                self.generations.push(0);
                self.values.len() as u32 - 1
            }
        }
    }

    /// Stores `value` and returns a generation-checked handle to it.
    #[inline]
    pub fn insert_handle(&mut self, value: T) -> Handle {
        let slot = self.insert(value);
        Handle { slot, generation: self.generations[slot as usize] }
    }

    /// Frees `slot` for reuse; handles to it become stale. The value stays readable until the
    /// slot is reused, which lets a caller free a node before following its links.
    #[inline]
    pub fn remove(&mut self, slot: u32) {
        let g = &mut self.generations[slot as usize];
        *g = g.wrapping_add(1);
        self.free.push(slot);
    }

    /// The value in `slot` (live or freed and not yet reused).
    #[inline]
    pub fn get(&self, slot: u32) -> &T {
        &self.values[slot as usize]
    }

    /// The value in `slot`, mutably.
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut T {
        &mut self.values[slot as usize]
    }

    /// The value behind `h`, or `None` when it was removed since `h` was made.
    #[inline]
    pub fn lookup(&self, h: Handle) -> Option<&T> {
        (self.generations.get(h.slot as usize) == Some(&h.generation)).then(|| &self.values[h.slot as usize])
    }

    /// Values live now.
    pub fn len(&self) -> usize {
        self.values.len() - self.free.len()
    }

    /// Whether no value is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slots allocated so far (the memory high-water mark).
    pub fn capacity(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused_and_old_handles_go_stale() {
        let mut s = Slab::default();
        let a = s.insert_handle("a");
        let b = s.insert_handle("b");
        assert_eq!((a.slot, b.slot), (0, 1));
        s.remove(a.slot);
        assert_eq!(s.lookup(a), None, "a removed value must not be found through its handle");
        let c = s.insert_handle("c");
        assert_eq!(c.slot, 0, "the freed slot is reused");
        assert_ne!(c.generation, a.generation);
        assert_eq!(s.lookup(a), None, "a handle to the slot's previous value stays stale");
        assert_eq!(s.lookup(c), Some(&"c"));
        assert_eq!(s.lookup(b), Some(&"b"));
        assert_eq!((s.len(), s.capacity()), (2, 2));
    }

    #[test]
    fn capacity_is_the_most_values_live_at_once() {
        let mut s = Slab::default();
        for round in 0..100u32 {
            let slots: Vec<u32> = (0..5).map(|i| s.insert(round * 5 + i)).collect();
            for slot in slots {
                s.remove(slot);
            }
        }
        assert_eq!(s.capacity(), 5);
        assert!(s.is_empty());
    }
}
