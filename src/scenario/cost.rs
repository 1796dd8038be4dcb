//! What a run will cost before it starts: messages, copies, engine events and peak memory,
//! estimated from the world's rates and each architecture's per-message cost, so that a size
//! beyond the machine is refused at once instead of aborting or running for days (issue 9).
//!
//! The estimate is a sum of event sources, each tied to the keys that drive it: sends and their
//! recipient copies (`world.users`, `world.workload.rate`, `duration`, rooms), availability
//! toggles (`world.availability`), and each architecture's own sources (client retries during
//! outages, mixnet cover and pulls). The per-unit constants were calibrated on the built-in
//! scenarios and on larger runs (`--release`, events from results.json, peak RSS from
//! `/usr/bin/time -v`); docs/scenarios.md gives the measurements. The estimate is meant to be
//! within a factor of about two of a run, which is enough to tell an hour from a year.

use crate::arch::ArchSpec;
use crate::arch::p2p::Transport;
use crate::scenario::Scenario;
use crate::world::SocialModel;

/// Most engine events a run (or a sweep, summed over its runs) may cost without `--allow-large`:
/// about an hour of this project's reference machine (2 cores, about 3 M events/s for a whole
/// run with exposure analysis, measured on `default` with 20,000 users).
pub const EVENT_BUDGET: f64 = 1.0e10;

/// Memory assumed when the machine's cannot be read (no `/proc/meminfo`, off Linux): 8 GiB.
pub const FALLBACK_MEMORY_BYTES: f64 = 8.0 * 1024.0 * 1024.0 * 1024.0;

/// Resident memory of the program before it generates a world (binary, allocator, buffers).
const BASE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
/// Memory per user: region, availability state, per-user streams and pending events.
const USER_BYTES: f64 = 400.0;
/// Memory per contact link (both directions' entries).
const CONTACT_BYTES: f64 = 16.0;
/// Memory per room membership (member list and the member's room list).
const MEMBERSHIP_BYTES: f64 = 8.0;
/// Memory per room (offsets, federated room state).
const ROOM_BYTES: f64 = 16.0;
/// Memory per infrastructure node (servers, relays, mixes): engine tables and model state.
const NODE_BYTES: f64 = 256.0;
/// Memory per message sent: its record and the recorder's and observers' share of it.
const MESSAGE_BYTES: f64 = 32.0;
/// Memory per mixnet packet simulated (cover included): what observers keep of it.
const PACKET_BYTES: f64 = 8.0;
/// Cost of a room message's copies beyond the first, relative to the first (measured on
/// `federation` and `room-metadata`).
const EXTRA_COPY_SHARE: f64 = 0.25;
/// Engine events per availability toggle (the toggle and the model's reaction to it).
const EVENTS_PER_TOGGLE: f64 = 1.5;

/// A source of cost and the keys that drive it.
#[derive(Clone, Debug, PartialEq)]
pub struct Driver {
    /// The keys, as written in scenario files (`world.workload.rate`).
    pub keys: String,
    /// Its share of the estimate: events, or bytes for memory.
    pub amount: f64,
}

/// What one architecture's run is estimated to cost.
#[derive(Clone, Debug)]
pub struct ArchCost {
    /// The architecture's label.
    pub name: String,
    /// Engine events.
    pub events: f64,
    /// Memory of its own: messages, nodes.
    pub memory: f64,
    /// Where the events come from, largest first.
    pub drivers: Vec<Driver>,
}

/// What a run of a scenario is estimated to cost.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// Messages sent (every architecture sends the same ones).
    pub messages: f64,
    /// Recipient copies of those messages.
    pub copies: f64,
    /// Engine events, summed over the architectures.
    pub events: f64,
    /// Peak resident memory, bytes.
    pub memory: f64,
    /// Where the memory goes, largest first.
    pub memory_drivers: Vec<Driver>,
    /// Per architecture, in scenario order.
    pub archs: Vec<ArchCost>,
}

impl Estimate {
    /// One line for the terminal: "about 1.2 M messages, 4 M events, 60 MB".
    pub fn summary(&self) -> String {
        format!("about {} messages, {} events, {}", count(self.messages), count(self.events), bytes(self.memory))
    }

    /// The keys behind the events, largest first, summed over the architectures.
    pub fn event_drivers(&self) -> Vec<Driver> {
        let mut all: Vec<Driver> = Vec::new();
        for d in self.archs.iter().flat_map(|a| &a.drivers) {
            match all.iter_mut().find(|x| x.keys == d.keys) {
                Some(x) => x.amount += d.amount,
                None => all.push(d.clone()),
            }
        }
        sort_drivers(&mut all);
        all
    }
}

/// A count for people: 950, 12 k, 1.2 M, 3.4 G, 5e+15.
pub fn count(x: f64) -> String {
    let x = x.max(0.0);
    if x >= 1e15 || !x.is_finite() {
        format!("{x:.1e}")
    } else if x >= 1e12 {
        format!("{} T", sig(x / 1e12))
    } else if x >= 1e9 {
        format!("{} G", sig(x / 1e9))
    } else if x >= 1e6 {
        format!("{} M", sig(x / 1e6))
    } else if x >= 1e3 {
        format!("{} k", sig(x / 1e3))
    } else {
        format!("{x:.0}")
    }
}

/// Bytes for people: 60 MB, 1.2 GB, 3e+15 B (decimal units).
pub fn bytes(x: f64) -> String {
    let x = x.max(0.0);
    if x >= 1e15 || !x.is_finite() {
        format!("{x:.1e} B")
    } else if x >= 1e12 {
        format!("{} TB", sig(x / 1e12))
    } else if x >= 1e9 {
        format!("{} GB", sig(x / 1e9))
    } else {
        format!("{} MB", sig((x / 1e6).max(1.0)))
    }
}

/// Two significant digits below 10, whole numbers above.
fn sig(x: f64) -> String {
    if x < 10.0 { format!("{x:.1}") } else { format!("{x:.0}") }
}

fn sort_drivers(d: &mut [Driver]) {
    d.sort_by(|a, b| b.amount.total_cmp(&a.amount));
}

/// Estimates what running `s` costs (every architecture; `cores` of them at once).
pub fn estimate(s: &Scenario, cores: usize) -> Estimate {
    let w = &s.world;
    let users = w.users as f64;
    let duration = s.window.sends_end.0 as f64 / 1e6;
    let run_end = s.window.run_end.0 as f64 / 1e6;
    let av = &w.availability;
    let online_share = av.always_online + (1.0 - av.always_online) * av.online_fraction();
    // Users send while online, for the whole sending period (the warm-up's sends cost too).
    let messages = users * online_share * w.workload.rate_per_hour / 3600.0 * duration;
    let room_share = if w.room_count > 0 { w.workload.room_share } else { 0.0 };
    let copies = messages * ((1.0 - room_share) + room_share * (w.room_size as f64 - 1.0).max(1.0));
    let cycle = av.online.mean() + av.offline.mean();
    let toggles = if cycle > 0.0 { users * (1.0 - av.always_online) * 2.0 * run_end / cycle } else { 0.0 };
    let online_user_secs = users * online_share * duration;

    let send_keys = "world.users, world.workload.rate, duration";
    let archs: Vec<ArchCost> = s
        .archs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let at = |key: &str| format!("arch[{i}].{key}");
            let mut drivers = Vec::new();
            let mut packets = 0.0;
            let (per_copy, nodes) = per_copy_and_nodes(&a.spec);
            // A room message's extra copies ride along the first: a quarter of its cost each.
            let weighted = messages + (copies - messages) * EXTRA_COPY_SHARE;
            drivers.push(Driver { keys: send_keys.into(), amount: weighted * per_copy });
            drivers.push(Driver {
                keys: "world.availability.online, world.availability.offline".into(),
                amount: toggles * EVENTS_PER_TOGGLE,
            });
            match &a.spec {
                ArchSpec::Centralized(p) => {
                    // Every user with something to send or fetch retries every `client_retry`
                    // while the provider (or the user's internet) is down.
                    let retry = p.client_retry.as_secs_f64().max(1e-6);
                    let down: f64 = p.outages.iter().map(|(a, b)| b.since(*a).as_secs_f64()).sum();
                    let cut = internet_cut_user_secs(s);
                    drivers.push(Driver {
                        keys: format!("{}, {}", at("client_retry"), at("outages")),
                        amount: users * down / retry,
                    });
                    drivers.push(Driver {
                        keys: format!("{}, world.internet_outages", at("client_retry")),
                        amount: cut / retry,
                    });
                }
                ArchSpec::Federated(p) => {
                    // Clients retry with doubling delays: about log2(outage / client_retry) tries.
                    let retry = p.client_retry.as_secs_f64().max(1e-6);
                    let down: f64 = p.outages.iter().map(|o| o.end.since(o.start).as_secs_f64()).sum::<f64>()
                        + internet_cut_user_secs(s) / users.max(1.0);
                    let tries = (down / retry + 1.0).log2().min(p.client_retries as f64);
                    drivers.push(Driver {
                        keys: format!("{}, {}", at("client_retry"), at("outages")),
                        amount: users * tries,
                    });
                }
                ArchSpec::Mixnet(p) => {
                    // Each client packet (real, drop, loop) crosses the layers and a provider;
                    // only the observed share of cover is simulated packet by packet.
                    let share = p.cover_observations.share();
                    let hops = p.layers as f64 + 4.0;
                    let client = share * (p.payload_rate + p.drop_rate + p.loop_rate) * online_user_secs;
                    drivers.push(Driver {
                        keys: format!(
                            "{}, {}, {}, {}",
                            at("loop_rate"),
                            at("drop_rate"),
                            at("payload_rate"),
                            at("cover_observations")
                        ),
                        amount: client * hops,
                    });
                    packets = client;
                    let mixes = p.layers as f64 * p.mixes_per_layer as f64;
                    drivers.push(Driver {
                        keys: at("mix_loop_rate"),
                        amount: share * p.mix_loop_rate * mixes * duration * hops,
                    });
                    if p.cover_observations.pulls_simulated() {
                        drivers.push(Driver {
                            keys: at("pull_interval"),
                            amount: 2.5 * online_user_secs / p.pull_interval.as_secs_f64().max(1e-6),
                        });
                    }
                }
                ArchSpec::Onion(_) | ArchSpec::P2p(_) => {}
            }
            drivers.retain(|d| d.amount > 0.0);
            sort_drivers(&mut drivers);
            let events = drivers.iter().map(|d| d.amount).sum();
            let memory = nodes * NODE_BYTES + messages * MESSAGE_BYTES + packets * PACKET_BYTES;
            ArchCost { name: a.name.clone(), events, memory, drivers }
        })
        .collect();

    let degree = match w.social {
        SocialModel::SmallWorld { degree, .. } => degree as f64,
        SocialModel::PreferentialAttachment { links } => 2.0 * links as f64,
        SocialModel::Complete => 0.0,
    };
    let mut memory_drivers = vec![
        Driver { keys: "world.users".into(), amount: users * (USER_BYTES + degree * CONTACT_BYTES) },
        Driver {
            keys: "world.rooms.count, world.rooms.size".into(),
            amount: w.room_count as f64 * (w.room_size as f64 * MEMBERSHIP_BYTES + ROOM_BYTES),
        },
    ];
    // Architectures run `cores` at a time: at worst the largest ones at once.
    let mut by_memory: Vec<usize> = (0..archs.len()).collect();
    by_memory.sort_by(|&x, &y| archs[y].memory.total_cmp(&archs[x].memory));
    for &i in by_memory.iter().take(cores.max(1)) {
        let spec = &s.archs[i].spec;
        memory_drivers.push(Driver {
            keys: format!("arch[{i}].{}", node_key(spec)),
            amount: per_copy_and_nodes(spec).1 * NODE_BYTES,
        });
        memory_drivers.push(Driver { keys: send_keys.into(), amount: messages * MESSAGE_BYTES });
        let packets = archs[i].memory - per_copy_and_nodes(spec).1 * NODE_BYTES - messages * MESSAGE_BYTES;
        if packets > 0.0 {
            memory_drivers.push(Driver { keys: format!("arch[{i}].loop_rate, arch[{i}].drop_rate"), amount: packets });
        }
    }
    let mut merged: Vec<Driver> = Vec::new();
    for d in memory_drivers {
        match merged.iter_mut().find(|x| x.keys == d.keys) {
            Some(x) => x.amount += d.amount,
            None => merged.push(d),
        }
    }
    merged.retain(|d| d.amount > 0.0);
    sort_drivers(&mut merged);
    let memory = BASE_BYTES + merged.iter().map(|d| d.amount).sum::<f64>();
    let events = archs.iter().map(|a| a.events).sum();
    Estimate { messages, copies, events, memory, memory_drivers: merged, archs }
}

/// User-seconds cut off by the scenario's internet outages (during the run).
fn internet_cut_user_secs(s: &Scenario) -> f64 {
    let w = &s.world;
    let total: f64 = w.region_weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    w.internet_outages
        .iter()
        .map(|o| {
            let share = o.region.map_or(1.0, |r| w.region_weights.get(r as usize).copied().unwrap_or(0.0) / total);
            let end = o.end.min(s.window.run_end);
            let len = if end > o.start { end.since(o.start).as_secs_f64() } else { 0.0 };
            w.users as f64 * share * len
        })
        .sum()
}

/// Events per recipient copy, and infrastructure nodes, of an architecture. The per-copy
/// figures are those measured on the built-in scenarios (events over copies, availability
/// toggles taken out); see docs/scenarios.md.
fn per_copy_and_nodes(spec: &ArchSpec) -> (f64, f64) {
    match spec {
        ArchSpec::Centralized(_) => (3.0, infra_nodes(spec) as f64),
        ArchSpec::Federated(p) => (5.0, p.servers as f64),
        ArchSpec::Onion(p) => (11.0, p.relays as f64),
        ArchSpec::P2p(p) => {
            let transport = if p.transport == Transport::Onion { 8.0 } else { 3.0 };
            let relays = if p.transport == Transport::Onion { p.onion_relays as f64 } else { 0.0 };
            (transport + 7.0 * p.mailbox, relays)
        }
        ArchSpec::Mixnet(p) => (12.5, p.layers as f64 * p.mixes_per_layer as f64 + p.providers as f64),
    }
}

/// The key that sets an architecture's number of infrastructure nodes.
pub fn node_key(spec: &ArchSpec) -> &'static str {
    match spec {
        ArchSpec::Centralized(_) | ArchSpec::Federated(_) => "servers",
        ArchSpec::Onion(_) => "relays",
        ArchSpec::P2p(_) => "onion_relays",
        ArchSpec::Mixnet(_) => "mixes_per_layer",
    }
}

/// Infrastructure nodes an architecture adds to the users (node ids are 32-bit).
pub fn infra_nodes(spec: &ArchSpec) -> u64 {
    match spec {
        ArchSpec::Centralized(p) => p.deployments.max(1) as u64 * (p.servers as u64 + 1),
        ArchSpec::Federated(p) => p.servers as u64,
        ArchSpec::Onion(p) => p.relays as u64,
        ArchSpec::P2p(p) => p.onion_relays as u64,
        ArchSpec::Mixnet(p) => p.layers as u64 * p.mixes_per_layer as u64 + p.providers as u64,
    }
}

/// The memory this machine can give a run: MemAvailable (else MemTotal) from /proc/meminfo,
/// or [`FALLBACK_MEMORY_BYTES`] where that cannot be read.
pub fn machine_memory() -> f64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return FALLBACK_MEMORY_BYTES;
    };
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb * 1024.0)
    };
    field("MemAvailable:").or_else(|| field("MemTotal:")).unwrap_or(FALLBACK_MEMORY_BYTES)
}

/// Why a run (or sweep) is refused: which limit the estimate passes and the keys behind it.
/// `None` when it fits: events within [`EVENT_BUDGET`] and memory within `memory_limit`.
pub fn refusal(e: &Estimate, runs: f64, memory_limit: f64) -> Option<(String, Vec<Driver>)> {
    let events = e.events * runs;
    if events > EVENT_BUDGET {
        let what = if runs > 1.0 {
            format!(
                "{} runs of {} events each, {} events in all, beyond the budget of {} events (about an hour on 2 cores)",
                count(runs),
                count(e.events),
                count(events),
                count(EVENT_BUDGET)
            )
        } else {
            format!(
                "{} events, beyond the budget of {} events (about an hour on 2 cores)",
                count(events),
                count(EVENT_BUDGET)
            )
        };
        return Some((what, e.event_drivers()));
    }
    if e.memory > memory_limit {
        let what = format!("{} of memory, beyond the {} this machine has free", bytes(e.memory), bytes(memory_limit));
        return Some((what, e.memory_drivers.clone()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(always_online: f64) -> Scenario {
        let text = format!(
            "name = \"t\"\nduration = \"1h\"\nwarmup = \"10min\"\n[world]\nusers = 100\nworkload.rate = \"60/h\"\n\
             availability.always_online = {always_online}\n\
             availability.online = {{ dist = \"exponential\", mean = \"20min\" }}\n\
             availability.offline = {{ dist = \"exponential\", mean = \"20min\" }}\n\
             [[arch]]\nkind = \"centralized\"\n"
        );
        let source = crate::scenario::Source { file: "t.toml".into(), text, dir: None };
        crate::scenario::parse(&source, &[]).unwrap()
    }

    #[test]
    fn messages_are_users_times_rate_times_duration_while_online() {
        // 100 users always online sending 60/h for an hour: 6,000 messages, no toggles.
        let e = estimate(&scenario(1.0), 1);
        assert!((e.messages - 6000.0).abs() < 1e-6, "{}", e.messages);
        assert!(e.archs[0].drivers.iter().all(|d| !d.keys.contains("availability")));
        // Half of them online half the time (equal mean periods): three quarters of the messages.
        let e = estimate(&scenario(0.5), 1);
        assert!((e.messages - 4500.0).abs() < 1e-6, "{}", e.messages);
    }

    #[test]
    fn counts_and_bytes_read_like_people_write_them() {
        assert_eq!(count(950.0), "950");
        assert_eq!(count(1.23e6), "1.2 M");
        assert_eq!(count(4.0e6), "4.0 M");
        assert_eq!(count(25.0e9), "25 G");
        assert_eq!(bytes(60.0e6), "60 MB");
        assert_eq!(bytes(1.2e9), "1.2 GB");
    }
}
