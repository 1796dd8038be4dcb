//! Seeded random-number streams, one per purpose.
//!
//! Every stochastic model draws from its own stream, derived from (run seed, purpose, index) by a
//! SplitMix64 mix, so changing one model (say, the workload) never reshuffles another's draws
//! (say, who is online when). That is what makes a comparison between architectures paired: the
//! world streams are the same whichever architecture runs on them.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator used everywhere: small, fast, explicitly seeded, and stable across versions.
pub type SimRng = Xoshiro256PlusPlus;

/// What a stream is for; each purpose gets independent draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Placing users in regions.
    Population,
    /// Building the social graph and rooms.
    Social,
    /// One user's online/offline timeline (index = user).
    Availability,
    /// One user's sends (index = user).
    Workload,
    /// Infrastructure built by an architecture (index = architecture position).
    Infrastructure,
    /// An architecture's own run-time draws: jitter, service times, path choices (index =
    /// architecture position).
    Model,
    /// Adversaries' choices, such as which relays they hold (index = adversary position).
    Adversary,
    /// Sweep replicates (index = point and replicate).
    Replicate,
    /// An infrastructure node's up/down churn (index = architecture position and node).
    Churn,
}

impl Purpose {
    fn tag(self) -> u64 {
        match self {
            Purpose::Population => 1,
            Purpose::Social => 2,
            Purpose::Availability => 3,
            Purpose::Workload => 4,
            Purpose::Infrastructure => 5,
            Purpose::Model => 6,
            Purpose::Adversary => 7,
            Purpose::Replicate => 8,
            Purpose::Churn => 9,
        }
    }
}

/// One round of SplitMix64: a bijective 64-bit mix with good avalanche.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of the per-user world streams: one 8-byte state per user and purpose, so a
/// million users' timelines stay small enough to sit in cache (SplitMix64 passes BigCrush; the
/// streams of different users are seeded far apart by [`derive_seed`]).
pub type UserRng = rand_xoshiro::SplitMix64;

/// The small generator for stream (seed, purpose, index).
pub fn user_stream(seed: u64, purpose: Purpose, index: u64) -> UserRng {
    UserRng::seed_from_u64(derive_seed(seed, purpose, index))
}

/// A seed for the stream (seed, purpose, index).
pub fn derive_seed(seed: u64, purpose: Purpose, index: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(seed) ^ purpose.tag()) ^ index)
}

/// The generator for stream (seed, purpose, index).
pub fn stream(seed: u64, purpose: Purpose, index: u64) -> SimRng {
    SimRng::seed_from_u64(derive_seed(seed, purpose, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(1, Purpose::Workload, 3).random();
        let b: u64 = stream(1, Purpose::Workload, 3).random();
        let c: u64 = stream(1, Purpose::Workload, 4).random();
        let d: u64 = stream(1, Purpose::Availability, 3).random();
        let e: u64 = stream(2, Purpose::Workload, 3).random();
        assert_eq!(a, b);
        assert!(a != c && a != d && a != e);
    }
}
