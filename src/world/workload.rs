//! What people send: Poisson sends while online, to a contact or a room, with sizes drawn from a
//! distribution.
//!
//! A user sends only while online, at `rate_per_hour` per online hour: a Poisson process on the
//! user's online time. Each send goes to one of the user's rooms with probability `room_share`
//! (if the user has any), otherwise to a uniformly chosen contact.

use crate::dist::Dist;

/// The parameters of every user's sending.
#[derive(Clone, Debug)]
pub struct WorkloadParams {
    /// Sends per online hour per user.
    pub rate_per_hour: f64,
    /// Message size in bytes.
    pub size: Dist,
    /// Share of sends that go to a room the sender belongs to.
    pub room_share: f64,
}

impl WorkloadParams {
    /// Mean gap between two sends of an online user, in seconds (infinite when the rate is 0).
    pub fn mean_gap_secs(&self) -> f64 {
        if self.rate_per_hour > 0.0 { 3600.0 / self.rate_per_hour } else { f64::INFINITY }
    }
}
