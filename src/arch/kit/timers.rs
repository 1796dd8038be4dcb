//! Re-armable timers, one per key, whose superseded events are recognised as stale.
//!
//! A model that schedules "retry this user" or "retry this destination" events must know, when
//! one fires, whether it is still the current one: the timer may have been cancelled (a request
//! from the destination reset its back-off) and perhaps armed again since. Each key carries a
//! generation that [`Timers::arm`] puts into the event and [`Timers::cancel`] advances, so
//! [`Timers::fire`] accepts exactly the event of the timer armed now.

/// One timer per key.
#[derive(Clone, Debug, Default)]
pub struct Timers {
    generation: Vec<u32>,
    armed: Vec<bool>,
}

impl Timers {
    /// Disarmed timers for keys `0..keys`.
    pub fn new(keys: usize) -> Self {
        Timers { generation: vec![0; keys], armed: vec![false; keys] }
    }

    /// Adds a disarmed timer and returns its key.
    pub fn add_key(&mut self) -> u32 {
        self.generation.push(0);
        self.armed.push(false);
        self.generation.len() as u32 - 1
    }

    /// Arms `key`'s timer; the returned generation goes into the scheduled event.
    #[inline]
    pub fn arm(&mut self, key: u32) -> u32 {
        self.armed[key as usize] = true;
        self.generation[key as usize]
    }

    /// Whether `key`'s timer is armed (its event is scheduled and current).
    #[inline]
    pub fn is_armed(&self, key: u32) -> bool {
        self.armed[key as usize]
    }

    /// An event of `key`'s timer fired: true (and the timer disarmed) when it is the event of
    /// the timer armed now, false for a cancelled or superseded one.
    #[inline]
    pub fn fire(&mut self, key: u32, generation: u32) -> bool {
        let k = key as usize;
        if self.generation[k] != generation || !self.armed[k] {
            return false;
        }
        self.armed[k] = false;
        true
    }

    /// Disarms `key`'s timer; the event already scheduled for it will be ignored.
    #[inline]
    pub fn cancel(&mut self, key: u32) {
        let k = key as usize;
        self.generation[k] = self.generation[k].wrapping_add(1);
        self.armed[k] = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_event_of_the_timer_armed_now_fires() {
        let mut t = Timers::new(2);
        let first = t.arm(0);
        assert!(t.is_armed(0) && !t.is_armed(1));
        t.cancel(0);
        let second = t.arm(0);
        assert!(!t.fire(0, first), "a cancelled timer's event is stale even after re-arming");
        assert!(t.fire(0, second));
        assert!(!t.fire(0, second), "an event fires once");
        assert!(!t.is_armed(0));
    }

    #[test]
    fn an_uncancelled_timer_rearmed_after_firing_keeps_firing() {
        let mut t = Timers::new(1);
        for _ in 0..3 {
            let g = t.arm(0);
            assert!(t.fire(0, g));
        }
        let k = t.add_key();
        assert_eq!(k, 1);
        assert!(!t.is_armed(k));
    }
}
