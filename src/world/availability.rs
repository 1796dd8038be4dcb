//! Who is online when: an alternating renewal process per user, plus always-online devices.
//!
//! Each user alternates online and offline periods drawn from their own distributions
//! (exponential, Weibull or log-normal). Measured P2P session lengths are heavy-tailed, Weibull
//! with shape below 1 (Stutzbach & Rejaie, IMC 2006), so the default online period is Weibull.
//! A share of users are always online (desktops, servers at home). The process only describes
//! the periods; the engine draws them lazily from each user's own stream, so memory does not grow
//! with the run's length.

use rand::RngExt;

use crate::dist::Dist;
use crate::time::SimDuration;

/// The parameters of every user's online/offline process.
#[derive(Clone, Debug)]
pub struct AvailabilityParams {
    /// Length of an online period, in seconds.
    pub online: Dist,
    /// Length of an offline period, in seconds.
    pub offline: Dist,
    /// Share of users who never go offline.
    pub always_online: f64,
}

impl AvailabilityParams {
    /// Long-run share of time a (not always-online) user is online: E[on] / (E[on] + E[off]).
    pub fn online_fraction(&self) -> f64 {
        let (on, off) = (self.online.mean(), self.offline.mean());
        if on + off > 0.0 { on / (on + off) } else { 1.0 }
    }

    /// The state at time zero and how long it lasts. The state is drawn with its long-run
    /// probability; the first period is a full fresh draw (the run's warm-up absorbs the
    /// difference from the equilibrium residual period of non-exponential laws).
    pub fn initial<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> (bool, SimDuration) {
        let online = rng.random_bool(self.online_fraction().clamp(0.0, 1.0));
        (online, self.period(online, rng))
    }

    /// The length of the next period in the given state, at least one microsecond so that a
    /// user never toggles twice at the same instant.
    #[inline]
    pub fn period<R: rand::Rng + ?Sized>(&self, online: bool, rng: &mut R) -> SimDuration {
        let d = if online { &self.online } else { &self.offline };
        SimDuration(d.sample_duration(rng).0.max(1))
    }
}
