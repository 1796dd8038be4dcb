//! The world: people, where they are, whom they know, when they are online and what they send.
//!
//! A [`World`] is generated once per seed and shared, read-only, by every architecture of a run,
//! so that architectures are compared on the same users, contacts and rooms (common random
//! numbers). The time-varying parts (availability timelines and sends) are replayed by the engine
//! from per-user streams, identically for every architecture. This module owns the static
//! structures and the parameters of the processes; it knows nothing of delivery.

pub mod availability;
pub mod overlay;
pub mod regions;
pub mod social;
pub mod workload;

use rand::RngExt;

use crate::rng::{Purpose, stream};
use crate::time::SimTime;
pub use availability::AvailabilityParams;
pub use regions::{LinkDelays, RegionId, Regions};
pub use social::{Contacts, Rooms, SocialModel};
pub use workload::WorkloadParams;

/// A user's index, 0-based and dense.
pub type UserId = u32;

/// An interval during which a region's users lose their internet connection.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct InternetOutage {
    /// The region cut off; `None` for every region.
    pub region: Option<RegionId>,
    /// When the outage starts.
    pub start: SimTime,
    /// When connectivity returns.
    pub end: SimTime,
}

/// Everything needed to generate a world.
#[derive(Clone, Debug)]
pub struct WorldParams {
    /// Number of users.
    pub users: u32,
    /// Regions and their latency matrix.
    pub regions: Regions,
    /// Share of users per region, in matrix order (sums to 1).
    pub region_weights: Vec<f64>,
    /// Access delay and jitter added to every hop.
    pub delays: LinkDelays,
    /// How the social graph is generated.
    pub social: SocialModel,
    /// Number of rooms.
    pub room_count: u32,
    /// Members per room.
    pub room_size: u32,
    /// The online/offline process.
    pub availability: AvailabilityParams,
    /// The sending process.
    pub workload: WorkloadParams,
    /// Regional internet outages.
    pub internet_outages: Vec<InternetOutage>,
}

/// A generated world, shared read-only by every architecture of a run.
#[derive(Clone, Debug)]
pub struct World {
    /// The parameters it was generated from.
    pub params: WorldParams,
    /// Each user's region.
    pub user_region: Vec<RegionId>,
    /// Whether each user is always online.
    pub always_online: Vec<bool>,
    /// Who may message whom.
    pub contacts: Contacts,
    /// Rooms and their members.
    pub rooms: Rooms,
}

impl World {
    /// Generates the world for `seed`. Each part draws from its own stream, so changing the social
    /// model does not move anyone to another region.
    pub fn generate(params: WorldParams, seed: u64) -> World {
        let n = params.users as usize;
        let mut pop = stream(seed, Purpose::Population, 0);
        let cumulative: Vec<f64> = params
            .region_weights
            .iter()
            .scan(0.0, |acc, w| {
                *acc += w;
                Some(*acc)
            })
            .collect();
        let total = cumulative.last().copied().unwrap_or(1.0);
        let mut user_region = Vec::with_capacity(n);
        let mut always_online = Vec::with_capacity(n);
        for _ in 0..n {
            let x = pop.random::<f64>() * total;
            let r = cumulative.iter().position(|&c| x < c).unwrap_or(cumulative.len() - 1);
            user_region.push(r as RegionId);
            always_online.push(pop.random_bool(params.availability.always_online.clamp(0.0, 1.0)));
        }
        let mut social = stream(seed, Purpose::Social, 0);
        let contacts = Contacts::generate(params.users, &params.social, &mut social);
        let rooms = Rooms::generate(params.room_count, params.room_size, &contacts, &mut social);
        World { params, user_region, always_online, contacts, rooms }
    }

    /// Number of users.
    pub fn users(&self) -> u32 {
        self.params.users
    }

    /// Whether `region` has internet at `t` (no outage covers it).
    pub fn internet_up(&self, region: RegionId, t: SimTime) -> bool {
        !self.params.internet_outages.iter().any(|o| o.region.is_none_or(|r| r == region) && o.start <= t && t < o.end)
    }
}
