//! Which part of an interval the figures count: the measurement window and the sending period.
//!
//! The run has a warm-up (not counted), a sending period (`warmup_end..sends_end`, where the
//! offered load is steady) and a cool-down (`sends_end..run_end`, no new sends). Busy times and
//! other time-weighted figures clip their intervals with these functions, defined once.

use crate::engine::Ctx;
use crate::time::SimTime;
use crate::time::Window;

/// Microseconds of `[from, to)` inside `[lo, hi)`.
#[inline]
pub fn overlap(from: SimTime, to: SimTime, lo: SimTime, hi: SimTime) -> u64 {
    let (a, b) = (from.max(lo), to.min(hi));
    if b > a { b.since(a).0 } else { 0 }
}

/// Microseconds of `[from, to)` inside the measurement window (after the warm-up, to the run's end).
#[inline]
pub fn in_window(from: SimTime, to: SimTime, w: &Window) -> u64 {
    overlap(from, to, w.warmup_end, w.run_end)
}

/// Microseconds of `[from, to)` inside the sending period (after the warm-up, before the cool-down).
#[inline]
pub fn in_sending_period(from: SimTime, to: SimTime, w: &Window) -> u64 {
    overlap(from, to, w.warmup_end, w.sends_end)
}

/// Whether what happens at `now` is counted (the warm-up is over).
#[inline]
pub fn counted(now: SimTime, w: &Window) -> bool {
    now >= w.warmup_end
}

/// Whether what a model does now is counted (the warm-up is over).
#[inline]
pub fn counting(ctx: &Ctx<'_>) -> bool {
    counted(ctx.now(), &ctx.window())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> Window {
        Window { warmup_end: SimTime(100), sends_end: SimTime(500), run_end: SimTime(800) }
    }

    #[test]
    fn intervals_are_clipped_to_each_period() {
        let w = w();
        assert_eq!(in_window(SimTime(0), SimTime(50), &w), 0, "all in the warm-up");
        assert_eq!(in_window(SimTime(50), SimTime(150), &w), 50);
        assert_eq!(in_window(SimTime(450), SimTime(900), &w), 350);
        assert_eq!(in_window(SimTime(0), SimTime(900), &w), 700, "clipped at both ends");
        assert_eq!(in_sending_period(SimTime(450), SimTime(900), &w), 50);
        assert_eq!(in_sending_period(SimTime(0), SimTime(900), &w), 400);
        assert_eq!(in_sending_period(SimTime(600), SimTime(700), &w), 0, "all in the cool-down");
        assert_eq!(overlap(SimTime(300), SimTime(200), SimTime(0), SimTime(900)), 0, "an empty interval");
    }

    #[test]
    fn counting_starts_at_the_end_of_the_warm_up() {
        let w = w();
        assert!(!counted(SimTime(99), &w));
        assert!(counted(SimTime(100), &w));
    }
}
