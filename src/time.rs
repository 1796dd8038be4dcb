//! Simulated time: integer microseconds since the start of a run.
//!
//! Floating-point seconds never enter the event queue: every duration a model draws is rounded to
//! whole microseconds here, once, so that runs are exact and reproducible across machines.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Microseconds per second, the one conversion factor of simulated time.
pub const MICROS_PER_SEC: u64 = 1_000_000;

/// An instant of simulated time, in microseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimTime(pub u64);

/// A non-negative span of simulated time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time later than any run can reach; used as "never".
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Microseconds since the start.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds since the start, for reports only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// The span from `earlier` to `self`; zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The largest representable span; used as "unbounded".
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of whole microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us)
    }

    /// A span of whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000)
    }

    /// A span of whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * MICROS_PER_SEC)
    }

    /// A span from fractional seconds, rounded to the nearest microsecond; negative or NaN
    /// inputs give zero and huge ones saturate, so a sampled duration can never wrap around.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            return SimDuration::ZERO;
        }
        let us = (s * MICROS_PER_SEC as f64).round();
        if us >= u64::MAX as f64 { SimDuration::MAX } else { SimDuration(us as u64) }
    }

    /// Microseconds in this span.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds in this span, for reports and distributions.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// Milliseconds in this span, the unit of latency reports.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }

    /// This span multiplied by a factor, saturating instead of overflowing.
    pub fn saturating_mul(self, factor: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(factor))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(d.0))
    }
}

impl fmt::Display for SimDuration {
    /// Formats in the largest unit that keeps the value readable, e.g. `250ms`, `1.5h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0 as f64;
        let (value, unit) = if self.0 < 1_000 {
            (us, "us")
        } else if self.0 < 1_000_000 {
            (us / 1e3, "ms")
        } else if self.0 < 60_000_000 {
            (us / 1e6, "s")
        } else if self.0 < 3_600_000_000 {
            (us / 6e7, "min")
        } else if self.0 < 86_400_000_000 {
            (us / 3.6e9, "h")
        } else {
            (us / 8.64e10, "d")
        };
        if value.fract() == 0.0 { write!(f, "{value}{unit}") } else { write!(f, "{value:.3}{unit}") }
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

/// When statistics are recorded: messages created in `[warmup_end, sends_end)`, device activity
/// in `[warmup_end, run_end)`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// End of the warm-up.
    pub warmup_end: SimTime,
    /// No sends from here on (start of the cool-down).
    pub sends_end: SimTime,
    /// End of the run.
    pub run_end: SimTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_seconds_round_to_micros() {
        assert_eq!(SimDuration::from_secs_f64(1.5), SimDuration(1_500_000));
        assert_eq!(SimDuration::from_secs_f64(0.000_000_4), SimDuration(0));
        assert_eq!(SimDuration::from_secs_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e300), SimDuration::MAX);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime::NEVER + SimDuration(5), SimTime::NEVER);
        assert_eq!(SimTime(3).since(SimTime(5)), SimDuration::ZERO);
    }

    #[test]
    fn display_picks_readable_unit() {
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_secs(5400).to_string(), "1.500h");
    }
}
