//! The `kind = "onion"` table (Session/Tor-like onion routing with storage swarms; see
//! docs/arch/onion.md for every key's unit, range and source).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::arch::ArchSpec;
use crate::arch::onion::{Churn, GroupPolling, MAX_FAN_OUT, MAX_PATH, OnionParams, PathBuild, Placement, Selection};
use crate::scenario::arch::ArchConfig;
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::resolve::{Env, at_least, dist, positive_duration};
use crate::scenario::schema::{DistFamily, RawDist};
use crate::scenario::units::{Duration, Size};
use crate::time::SimDuration;

/// Most service nodes a scenario may ask for (each costs a few hundred bytes of state).
pub const MAX_RELAYS: u32 = 10_000_000;

/// Where service nodes are placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawPlacement {
    /// In proportion to where users live.
    Users,
    /// Equally over every region.
    Uniform,
    /// By `relay_weights`.
    Weights,
}

/// How path nodes are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawSelection {
    /// Every node equally likely (Session).
    Uniform,
    /// In proportion to bandwidth (Tor).
    Bandwidth,
}

/// What a new path costs before use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawPathBuild {
    /// Nothing.
    None,
    /// One direct round trip to test a new guard (Session).
    GuardTest,
    /// One round trip through the partial circuit per hop (Tor).
    Telescoping,
}

/// An onion-routed network with storage swarms (Session-like; Tor-like with other keys).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnionConfig {
    /// Number of service nodes (relays that are also swarm members). Default 2000 (Session docs:
    /// about 2,000 service nodes, DEFAULTS.md §4).
    #[serde(default = "default_relays")]
    pub relays: u32,
    /// Where nodes run: "users" (in proportion to users per region), "uniform", or "weights"
    /// (then `relay_weights`). Default "users" (assumption: node locations are not published).
    #[serde(default = "default_placement")]
    pub relay_placement: RawPlacement,
    /// Share of nodes per region name, with `relay_placement = "weights"` (normalised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_weights: Option<BTreeMap<String, f64>>,
    /// Node bandwidth in bytes per second, used as the path-selection weight. Default log-normal,
    /// median 1MB, sigma 1.5 (assumption: relay bandwidth is heavy-tailed, DEFAULTS.md §5, but no
    /// parametric fit is published).
    #[serde(default = "default_bandwidth")]
    pub relay_bandwidth: RawDist<Size>,
    /// Mean length of a node's up period (exponential). Default 24h (assumption).
    #[serde(default = "default_uptime")]
    pub relay_uptime: Duration,
    /// Mean length of a node's down period (exponential); "0s": nodes never fail. Default 15min
    /// (assumption).
    #[serde(default = "default_downtime")]
    pub relay_downtime: Duration,
    /// Relays per path. Default 3 (session-desktop `ONION_REQUEST_HOPS`, DEFAULTS.md §4).
    #[serde(default = "default_path_length")]
    pub path_length: u32,
    /// "uniform" or "bandwidth"-weighted path selection. Default "uniform" (Session picks random
    /// nodes; Tor weights by bandwidth).
    #[serde(default = "default_selection")]
    pub path_selection: RawSelection,
    /// Keep the first hop (guard) across path rebuilds until it fails. Default true (Session keeps
    /// guard nodes, DEFAULTS.md §4; Tor keeps primary guards, §5).
    #[serde(default = "default_true")]
    pub guards: bool,
    /// Cost of a new path: "none", "guard-test" (one round trip to test a new guard, Session) or
    /// "telescoping" (Tor). Default "guard-test".
    #[serde(default = "default_path_build")]
    pub path_build: RawPathBuild,
    /// Age at which a working path is rebuilt anyway. Default: never (assumption: Session keeps
    /// paths until they fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_lifetime: Option<Duration>,
    /// Processing time at a relay per onion layer. Default exponential, mean 1ms (assumption; the
    /// only published relay overhead is Loopix's < 1.5ms, DEFAULTS.md §9).
    #[serde(default = "default_processing")]
    pub relay_processing: RawDist<Duration>,
    /// Processing time at a swarm member per store or retrieve. Default exponential, mean 1ms
    /// (assumption).
    #[serde(default = "default_processing")]
    pub storage_processing: RawDist<Duration>,
    /// Time without an answer after which a request counts as failed. Default 10s
    /// (session-desktop `MessageSender.ts` and `retrieveRequest.ts`, `timeoutMs`).
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Wait between a failed attempt and the next. Default 100ms (session-desktop
    /// `sendSingleMessage`, `retryMinTimeout`).
    #[serde(default = "default_retry_delay")]
    pub retry_delay: Duration,
    /// Attempts at sending one message, each on a fresh path and swarm member. Default 3
    /// (session-desktop `sendSingleMessage`, `attempts`).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Target swarm size. Default 7 (oxen-core `IDEAL_SWARM_SIZE`; min 5, max 10, DEFAULTS.md §4).
    #[serde(default = "default_swarm_size")]
    pub swarm_size: u32,
    /// Swarm members a message is sent to. Default 1 (current session-desktop; the older Oxen
    /// docs say 3, DEFAULTS.md §4).
    #[serde(default = "default_one")]
    pub fan_out: u32,
    /// Swarm members holding each message. Default: the whole swarm (the storage server forwards
    /// to the rest of the swarm, DEFAULTS.md §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<u32>,
    /// Message time-to-live in the swarm. Default 14d (session-desktop `TTL_DEFAULT`, DEFAULTS.md
    /// §4; the storage server accepts 10s to 14d).
    #[serde(default = "default_ttl")]
    pub ttl: Duration,
    /// Interval of a client's polls of its own swarm. Default 5s (session-desktop
    /// `SWARM_POLLING_TIMEOUT.ACTIVE`).
    #[serde(default = "default_poll_active")]
    pub poll_interval: Duration,
    /// Interval of group polls while the group had a message within `group_active_within`.
    /// Default 5s (session-desktop `SWARM_POLLING_TIMEOUT`).
    #[serde(default = "default_poll_active")]
    pub group_poll_active: Duration,
    /// Interval of group polls while the last message is within `group_medium_within`. Default 60s.
    #[serde(default = "default_poll_medium")]
    pub group_poll_medium: Duration,
    /// Interval of group polls for older groups. Default 120s.
    #[serde(default = "default_poll_inactive")]
    pub group_poll_inactive: Duration,
    /// Age of the last group message under which the group is active. Default 2d
    /// (session-desktop `swarmPolling.ts`).
    #[serde(default = "default_active_within")]
    pub group_active_within: Duration,
    /// Age of the last group message under which the group is medium. Default 7d.
    #[serde(default = "default_medium_within")]
    pub group_medium_within: Duration,
    /// Size of a poll request and of an empty answer. Default 200B (assumption).
    #[serde(default = "default_request")]
    pub request_size: Size,
}

fn default_relays() -> u32 {
    2000
}
fn default_placement() -> RawPlacement {
    RawPlacement::Users
}
fn default_bandwidth() -> RawDist<Size> {
    RawDist { median: Some(Size(1e6)), sigma: Some(1.5), ..RawDist::family(DistFamily::Lognormal) }
}
fn default_uptime() -> Duration {
    Duration(SimDuration::from_secs(24 * 3600))
}
fn default_downtime() -> Duration {
    Duration(SimDuration::from_secs(15 * 60))
}
fn default_path_length() -> u32 {
    3
}
fn default_selection() -> RawSelection {
    RawSelection::Uniform
}
fn default_true() -> bool {
    true
}
fn default_path_build() -> RawPathBuild {
    RawPathBuild::GuardTest
}
fn default_processing() -> RawDist<Duration> {
    RawDist::exp(SimDuration::from_millis(1))
}
fn default_timeout() -> Duration {
    Duration(SimDuration::from_secs(10))
}
fn default_retry_delay() -> Duration {
    Duration(SimDuration::from_millis(100))
}
fn default_attempts() -> u32 {
    3
}
fn default_swarm_size() -> u32 {
    7
}
fn default_one() -> u32 {
    1
}
fn default_ttl() -> Duration {
    Duration(SimDuration::from_secs(14 * 86_400))
}
fn default_poll_active() -> Duration {
    Duration(SimDuration::from_secs(5))
}
fn default_poll_medium() -> Duration {
    Duration(SimDuration::from_secs(60))
}
fn default_poll_inactive() -> Duration {
    Duration(SimDuration::from_secs(120))
}
fn default_active_within() -> Duration {
    Duration(SimDuration::from_secs(2 * 86_400))
}
fn default_medium_within() -> Duration {
    Duration(SimDuration::from_secs(7 * 86_400))
}
fn default_request() -> Size {
    Size(200.0)
}

impl ArchConfig for OnionConfig {
    const KIND: &'static str = "onion";
    const SUMMARY: &'static str =
        "onion paths through service nodes to a storage swarm the recipient polls (Session/Tor-like)";

    fn resolve(&self, path: &KeyPath, env: &Env<'_>, problems: &mut Vec<Problem>) -> Option<ArchSpec> {
        let relays = at_least(self.relays, 1, path.key("relays"), problems);
        if relays > MAX_RELAYS {
            problems.push(
                Problem::new(
                    path.key("relays"),
                    format!("{relays} service nodes is beyond what this machine can hold"),
                )
                .hint(format!("use at most {MAX_RELAYS}")),
            );
        }
        let path_length = at_least(self.path_length, 1, path.key("path_length"), problems);
        if path_length as usize > MAX_PATH {
            problems.push(
                Problem::new(
                    path.key("path_length"),
                    format!("a path of {path_length} relays is longer than the {MAX_PATH} supported"),
                )
                .hint("Session uses 3 hops, a Tor onion-service connection 6"),
            );
        }
        if path_length > relays {
            problems.push(
                Problem::new(path.key("path_length"), format!("a path of {path_length} relays needs at least {path_length} service nodes, but `relays` is {relays}"))
                    .hint("no relay appears twice on a path: raise `relays` or shorten the path"),
            );
        }
        let placement = match (self.relay_placement, &self.relay_weights) {
            (RawPlacement::Users, None) => Some(Placement::FollowUsers),
            (RawPlacement::Uniform, None) => Some(Placement::Uniform),
            (RawPlacement::Weights, Some(map)) => {
                let mut weights = vec![0.0; env.regions.len()];
                for (name, &w) in map {
                    let p = path.key("relay_weights").key(name);
                    if !(w >= 0.0 && w.is_finite()) {
                        problems.push(Problem::new(p.clone(), format!("expected a non-negative weight, found {w}")));
                    }
                    if let Some(r) = env.region(name, p, problems) {
                        weights[r as usize] = w.max(0.0);
                    }
                }
                if weights.iter().sum::<f64>() <= 0.0 {
                    problems.push(Problem::new(
                        path.key("relay_weights"),
                        "the weights sum to zero: no node would run anywhere",
                    ));
                }
                Some(Placement::Weights(weights))
            }
            (RawPlacement::Weights, None) => {
                problems.push(
                    Problem::new(path.key("relay_weights"), "relay_placement = \"weights\" needs `relay_weights`")
                        .hint("e.g. relay_weights = { europe_west = 3, na_east = 1 }"),
                );
                None
            }
            (_, Some(_)) => {
                problems.push(
                    Problem::new(
                        path.key("relay_weights"),
                        "`relay_weights` is only read with relay_placement = \"weights\"",
                    )
                    .hint("add relay_placement = \"weights\" or drop `relay_weights`"),
                );
                None
            }
        };
        let bandwidth = dist(&self.relay_bandwidth, &path.key("relay_bandwidth"), problems);
        let churn = if self.relay_downtime.0 == SimDuration::ZERO {
            None
        } else {
            let up = positive_duration(self.relay_uptime, path.key("relay_uptime"), problems);
            Some(Churn { mean_up: up, mean_down: self.relay_downtime.0 })
        };
        let relay_processing = dist(&self.relay_processing, &path.key("relay_processing"), problems);
        let storage_processing = dist(&self.storage_processing, &path.key("storage_processing"), problems);
        let timeout = positive_duration(self.timeout, path.key("timeout"), problems);
        let max_attempts = at_least(self.max_attempts, 1, path.key("max_attempts"), problems);
        let swarm_size = at_least(self.swarm_size, 1, path.key("swarm_size"), problems);
        if swarm_size > relays {
            problems.push(
                Problem::new(
                    path.key("swarm_size"),
                    format!("a swarm of {swarm_size} needs at least that many service nodes, but `relays` is {relays}"),
                )
                .hint("Oxen swarms have 5 to 10 members"),
            );
        }
        let fan_out = at_least(self.fan_out, 1, path.key("fan_out"), problems);
        if fan_out > swarm_size || fan_out as usize > MAX_FAN_OUT {
            problems.push(
                Problem::new(
                    path.key("fan_out"),
                    format!("cannot send to {fan_out} members of a swarm of {swarm_size}"),
                )
                .hint(format!("use at most `swarm_size` and at most {MAX_FAN_OUT}; Session sends to 1")),
            );
        }
        if let Some(r) = self.replication {
            let key = path.key("replication");
            if r == 0 {
                problems.push(
                    Problem::new(key, "a message held by 0 swarm members is never fetched")
                        .hint("omit it to replicate to the whole swarm"),
                );
            } else if r > swarm_size {
                problems.push(
                    Problem::new(key, format!("{r} holders is more than a swarm of {swarm_size}"))
                        .hint("omit it to replicate to the whole swarm"),
                );
            }
        }
        let ttl = positive_duration(self.ttl, path.key("ttl"), problems);
        let poll_interval = positive_duration(self.poll_interval, path.key("poll_interval"), problems);
        let group_polling = GroupPolling {
            active: positive_duration(self.group_poll_active, path.key("group_poll_active"), problems),
            medium: positive_duration(self.group_poll_medium, path.key("group_poll_medium"), problems),
            inactive: positive_duration(self.group_poll_inactive, path.key("group_poll_inactive"), problems),
            active_within: self.group_active_within.0,
            medium_within: self.group_medium_within.0,
        };
        if self.group_medium_within.0 < self.group_active_within.0 {
            problems.push(Problem::new(
                path.key("group_medium_within"),
                format!(
                    "{} is shorter than group_active_within ({})",
                    self.group_medium_within, self.group_active_within
                ),
            ));
        }
        let path_lifetime = self.path_lifetime.map(|l| positive_duration(l, path.key("path_lifetime"), problems));
        if !(self.request_size.0 >= 0.0 && self.request_size.0 <= u32::MAX as f64) {
            problems.push(Problem::new(path.key("request_size"), "expected a size below 4GB"));
        }
        Some(ArchSpec::Onion(OnionParams {
            relays,
            placement: placement?,
            bandwidth: bandwidth?,
            churn,
            path_length,
            selection: match self.path_selection {
                RawSelection::Uniform => Selection::Uniform,
                RawSelection::Bandwidth => Selection::Bandwidth,
            },
            guards: self.guards,
            path_build: match self.path_build {
                RawPathBuild::None => PathBuild::None,
                RawPathBuild::GuardTest => PathBuild::GuardTest,
                RawPathBuild::Telescoping => PathBuild::Telescoping,
            },
            path_lifetime,
            relay_processing: relay_processing?,
            storage_processing: storage_processing?,
            timeout,
            retry_delay: self.retry_delay.0,
            max_attempts,
            swarm_size,
            fan_out,
            replication: self.replication,
            ttl,
            poll_interval,
            group_polling,
            request_bytes: self.request_size.0 as u32,
        }))
    }
}
