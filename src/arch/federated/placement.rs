//! Where users live and how rooms spread over servers: the Zipf placement (with `locality`),
//! each room's servers and member ranges, blocking between servers, and the figures of that
//! static structure. Everything here is drawn from world-seeded streams (see the parent module),
//! so several federated entries on one world put the same people on the same servers.

use rand::{RngExt, SeedableRng};

use super::{Federated, TAG_PLACEMENT};
use crate::engine::SimRng;
use crate::rng::splitmix64;
use crate::world::{UserId, World};

/// The servers of one room and the range of its members on each, in `room_members`.
#[derive(Clone, Copy)]
pub(super) struct RoomServer {
    pub(super) server: u32,
    pub(super) start: u32,
    pub(super) end: u32,
}

impl Federated {
    /// Whether servers `a` and `b` refuse each other's events.
    pub fn blocked(&self, a: u32, b: u32) -> bool {
        if a == b {
            return false;
        }
        if self.isolated[a as usize] || self.isolated[b as usize] {
            return true;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        if self.p.block_share > 0.0
            && unit(splitmix64(self.block_salt ^ ((lo as u64) << 32 | hi as u64))) < self.p.block_share
        {
            return true;
        }
        !self.p.blocked_pairs.is_empty() && self.p.blocked_pairs.binary_search(&(lo, hi)).is_ok()
    }

    pub(super) fn place_users(&mut self, world: &World, salt: u64) {
        let n = world.users() as usize;
        let s = self.p.servers.max(1) as usize;
        let mut cdf = Vec::with_capacity(s);
        let mut acc = 0.0;
        for k in 0..s {
            acc += ((k + 1) as f64).powf(-self.p.zipf_exponent);
            cdf.push(acc);
        }
        let mut rng = SimRng::seed_from_u64(splitmix64(salt ^ TAG_PLACEMENT));
        let mut home = vec![0u32; n];
        for u in 0..n {
            // Three draws per user whatever the parameters, so placements stay aligned.
            let x: f64 = rng.random();
            let coin: f64 = rng.random();
            let pick: u64 = rng.random();
            let zipf = cdf.partition_point(|&c| c <= x * acc).min(s - 1) as u32;
            home[u] = if self.p.locality > 0.0 && coin < self.p.locality {
                let earlier = if world.contacts.is_complete() {
                    u
                } else {
                    world.contacts.of(u as u32).partition_point(|&v| (v as usize) < u)
                };
                if earlier == 0 {
                    zipf
                } else if world.contacts.is_complete() {
                    home[(pick % earlier as u64) as usize]
                } else {
                    home[world.contacts.of(u as u32)[(pick % earlier as u64) as usize] as usize]
                }
            } else {
                zipf
            };
        }
        let mut off = vec![0u32; s + 1];
        for &h in &home {
            off[h as usize + 1] += 1;
        }
        for i in 0..s {
            off[i + 1] += off[i];
        }
        let mut fill: Vec<u32> = off[..s].to_vec();
        let mut users = vec![0 as UserId; n];
        for (u, &h) in home.iter().enumerate() {
            users[fill[h as usize] as usize] = u as UserId;
            fill[h as usize] += 1;
        }
        self.home = home;
        self.server_user_off = off;
        self.server_users = users;
    }

    pub(super) fn users_of(&self, s: u32) -> std::ops::Range<usize> {
        self.server_user_off[s as usize] as usize..self.server_user_off[s as usize + 1] as usize
    }

    pub(super) fn build_rooms(&mut self, world: &World) {
        let rooms = world.rooms.len();
        self.room_off = Vec::with_capacity(rooms + 1);
        self.room_off.push(0);
        let mut members: Vec<UserId> = Vec::new();
        for r in 0..rooms as u32 {
            members.clear();
            members.extend_from_slice(world.rooms.members(r));
            members.sort_by_key(|&u| (self.home[u as usize], u));
            let base = self.room_members.len() as u32;
            let mut i = 0;
            while i < members.len() {
                let server = self.home[members[i] as usize];
                let start = i;
                while i < members.len() && self.home[members[i] as usize] == server {
                    i += 1;
                }
                self.room_servers.push(RoomServer { server, start: base + start as u32, end: base + i as u32 });
            }
            self.room_members.extend_from_slice(&members);
            self.room_off.push(self.room_servers.len() as u32);
        }
    }

    /// Figures of the static structure: server sizes, cross-server and blocked contact pairs.
    pub(super) fn structure_figures(&mut self, world: &World) {
        let n = world.users() as f64;
        let counts: Vec<u64> = (0..self.servers.len() as u32).map(|s| self.users_of(s).len() as u64).collect();
        let largest = counts.iter().copied().max().unwrap_or(0);
        let mut nonempty: Vec<u32> = (0..counts.len() as u32).filter(|&s| counts[s as usize] > 0).collect();
        nonempty.sort_unstable();
        let (mut total, mut cross, mut blocked) = (0f64, 0f64, 0f64);
        if world.contacts.is_complete() {
            total = n * (n - 1.0) / 2.0;
            let same: f64 = counts.iter().map(|&c| c as f64 * (c as f64 - 1.0) / 2.0).sum();
            cross = total - same;
            for (i, &a) in nonempty.iter().enumerate() {
                for &b in &nonempty[i + 1..] {
                    if self.blocked(a, b) {
                        blocked += counts[a as usize] as f64 * counts[b as usize] as f64;
                    }
                }
            }
        } else {
            for u in 0..world.users() {
                let hu = self.home[u as usize];
                for &v in world.contacts.of(u) {
                    if v <= u {
                        continue;
                    }
                    total += 1.0;
                    let hv = self.home[v as usize];
                    if hu != hv {
                        cross += 1.0;
                        if self.blocked(hu, hv) {
                            blocked += 1.0;
                        }
                    }
                }
            }
        }
        let mut blocked_server_pairs = 0u64;
        for (i, &a) in nonempty.iter().enumerate() {
            for &b in &nonempty[i + 1..] {
                blocked_server_pairs += self.blocked(a, b) as u64;
            }
        }
        self.figures.push(("servers", self.servers.len() as f64));
        self.figures.push(("servers_with_users", nonempty.len() as f64));
        self.figures.push(("largest_server_share", largest as f64 / n.max(1.0)));
        self.figures.push(("blocked_server_pairs", blocked_server_pairs as f64));
        self.figures.push(("defederated_servers", self.isolated.iter().filter(|&&x| x).count() as f64));
        if total > 0.0 {
            self.figures.push(("cross_server_contact_share", cross / total));
            self.figures.push(("blocked_pair_share", blocked / total));
        }
    }
}

/// A 64-bit hash to a uniform number in [0, 1).
#[inline]
pub(super) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A fingerprint of the world (who lives where, how many contacts, who is always online): the
/// same world always gives the same value, another seed almost surely another.
pub(super) fn world_salt(world: &World) -> u64 {
    let mut h = splitmix64(world.users() as u64 ^ 0x6665_6465_7261_7465);
    for u in 0..world.users() {
        let word = (world.user_region[u as usize] as u64) << 40
            | (world.always_online[u as usize] as u64) << 39
            | world.contacts.degree(u) as u64;
        h = splitmix64(h ^ word);
    }
    h ^ world.contacts.edge_count() ^ (world.rooms.len() as u64) << 48
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_hash_is_uniform_enough() {
        let n = 100_000u64;
        let below: u64 = (0..n).filter(|&i| unit(splitmix64(i)) < 0.3).count() as u64;
        // Binomial(1e5, 0.3): sd ≈ 145; 5 sd.
        assert!((below as f64 - 30_000.0).abs() < 725.0, "{below}");
    }
}
