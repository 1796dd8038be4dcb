//! The `kind = "federated"` table (Matrix/Element-like home servers; see docs/arch/federated.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::arch::ArchSpec;
use crate::arch::federated::{Backoff, FederatedParams, ServerOutage};
use crate::scenario::arch::ArchConfig;
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::resolve::{Env, at_least, dist, positive_duration, probability};
use crate::scenario::schema::RawDist;
use crate::scenario::units::{Duration, Size};
use crate::time::{SimDuration, SimTime};

/// Most home servers a scenario may ask for (the blocking figures scan server pairs).
pub const MAX_SERVERS: u32 = 100_000;

/// A federation of home servers (Matrix-like).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FederatedConfig {
    /// Number of home servers. Default 100 (assumption: Matrix has tens of thousands of servers,
    /// DEFAULTS.md §2; 100 keeps small worlds meaningful).
    #[serde(default = "default_servers")]
    pub servers: u32,
    /// Zipf exponent of users per server (rank k gets a share ∝ k^-s; 0 spreads users evenly).
    /// Default 1.5, which puts about 41% of users on the largest of 100 servers (assumption within
    /// the 30-50% DEFAULTS.md §2 suggests; matrix.org's real share is unverified).
    #[serde(default = "default_zipf")]
    pub zipf_exponent: f64,
    /// Probability that a user joins the server of an already placed contact rather than drawing
    /// one from the Zipf law (communities cluster on servers). Default 0 (assumption: no
    /// measurement found).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub locality: f64,
    /// Region of the largest server; the others run where one of their users lives. Default
    /// "europe_west" (assumption: matrix.org is run from the UK; its hosting is not published).
    #[serde(default = "default_region")]
    pub region: String,
    /// Parallel service channels per server. Default 4 (assumption).
    #[serde(default = "default_workers")]
    pub workers: u32,
    /// Time a server takes to process one event. Default exponential, mean 2ms (assumption:
    /// Synapse publishes no per-event figure, DEFAULTS.md §9).
    #[serde(default = "default_service_time")]
    pub service_time: RawDist<Duration>,
    /// Most events waiting per server before new ones are dropped. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_limit: Option<u32>,
    /// How long a server keeps events for an offline user. Default: forever (Synapse purges
    /// nothing unless a retention policy is configured; docs "Message retention policies").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Duration>,
    /// Mean time between random outages of each server (exponential). Default: no random
    /// outages; the element preset sets 30d.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtbf: Option<Duration>,
    /// Mean length of a random outage (exponential). Default 1h (assumption).
    #[serde(default = "default_mttr")]
    pub mttr: Duration,
    /// Scheduled outages of given servers (by rank: 0 is the largest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<RawServerOutage>,
    /// First destination back-off after a failed transaction. Default 10min (Synapse
    /// `destination_min_retry_interval`, DEFAULTS.md §2).
    #[serde(default = "default_backoff_min")]
    pub backoff_min: Duration,
    /// Back-off growth per further failure (times a U(0.8, 1.4) jitter). Default 2 (Synapse
    /// `destination_retry_multiplier`).
    #[serde(default = "default_multiplier")]
    pub backoff_multiplier: f64,
    /// Largest back-off. Default 7d (Synapse `destination_max_retry_interval`).
    #[serde(default = "default_backoff_max")]
    pub backoff_max: Duration,
    /// Retries inside one transaction request (delays 4s, 16s, then the cap, jittered). Default
    /// 10 (Synapse `max_long_retries`).
    #[serde(default = "default_request_retries")]
    pub request_retries: u32,
    /// Cap of the delay between retries inside one request. Default 60s (Synapse
    /// `max_long_retry_delay`).
    #[serde(default = "default_request_retry_cap")]
    pub request_retry_cap: Duration,
    /// Reset the back-off towards a server as soon as a request from it arrives. Default true
    /// (Synapse `Authenticator.reset_retry_timings`).
    #[serde(default = "default_true")]
    pub wake_on_inbound: bool,
    /// Share of server pairs that block each other (defederation). Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub block_share: f64,
    /// Share of servers that federate with no other server (private or defederated by all).
    /// Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub defederated_share: f64,
    /// Server pairs (by rank) that block each other, e.g. [[0, 1]].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_pairs: Vec<[u32; 2]>,
    /// First delay of a client's upload retries, doubling each time. Default 2s (matrix-js-sdk
    /// `calculateRetryBackoff`: 2, 4, 8, 16 s).
    #[serde(default = "default_client_retry")]
    pub client_retry: Duration,
    /// Upload retries before the client gives up and marks the event "not sent". Default 4
    /// (matrix-js-sdk: gives up after the 4th retry fails).
    #[serde(default = "default_client_retries")]
    pub client_retries: u32,
    /// Timeout of the `/sync` long-poll of a client that keeps its sync loop running while online
    /// (desktop, web, or Element Android without Google push): one poll and one wake-up per
    /// timeout. matrix-js-sdk's `pollTimeout` is 30s. Default: none (a mobile app woken by push).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_timeout: Option<Duration>,
    /// Size of a `/sync` request. Default 200B (assumption).
    #[serde(default = "default_request")]
    pub request_size: Size,
}

/// A scheduled outage of one home server.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServerOutage {
    /// The server by rank (0 is the largest).
    pub server: u32,
    /// Start, from the beginning of the run.
    pub start: Duration,
    /// End, from the beginning of the run.
    pub end: Duration,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}
fn default_servers() -> u32 {
    100
}
fn default_zipf() -> f64 {
    1.5
}
fn default_region() -> String {
    "europe_west".into()
}
fn default_workers() -> u32 {
    4
}
fn default_service_time() -> RawDist<Duration> {
    RawDist::exp(SimDuration::from_millis(2))
}
fn default_mttr() -> Duration {
    Duration(SimDuration::from_secs(3600))
}
fn default_backoff_min() -> Duration {
    Duration(SimDuration::from_secs(600))
}
fn default_multiplier() -> f64 {
    2.0
}
fn default_backoff_max() -> Duration {
    Duration(SimDuration::from_secs(7 * 86_400))
}
fn default_request_retries() -> u32 {
    10
}
fn default_request_retry_cap() -> Duration {
    Duration(SimDuration::from_secs(60))
}
fn default_true() -> bool {
    true
}
fn default_client_retry() -> Duration {
    Duration(SimDuration::from_secs(2))
}
fn default_client_retries() -> u32 {
    4
}
fn default_request() -> Size {
    Size(200.0)
}

impl ArchConfig for FederatedConfig {
    const KIND: &'static str = "federated";
    const SUMMARY: &'static str = "home servers that relay each event to every server with recipients, with Synapse's retry back-off and defederation (Matrix-like)";

    fn resolve(&self, path: &KeyPath, env: &Env<'_>, problems: &mut Vec<Problem>) -> Option<ArchSpec> {
        let servers = at_least(self.servers, 1, path.key("servers"), problems);
        if servers > env.users || servers > MAX_SERVERS {
            problems.push(
                Problem::new(path.key("servers"), format!("{servers} home servers for {} users", env.users))
                    .hint(format!("use at most one server per user and at most {MAX_SERVERS}")),
            );
        }
        if !(self.zipf_exponent >= 0.0 && self.zipf_exponent <= 20.0) {
            problems.push(
                Problem::new(
                    path.key("zipf_exponent"),
                    format!("expected an exponent between 0 and 20, found {}", self.zipf_exponent),
                )
                .hint("0 spreads users evenly; 1.5 puts about 40% on the largest server"),
            );
        }
        let locality = probability(self.locality, path.key("locality"), problems);
        let region = env.region(&self.region, path.key("region"), problems);
        let workers = at_least(self.workers, 1, path.key("workers"), problems);
        let service_time = dist(&self.service_time, &path.key("service_time"), problems);
        if self.queue_limit == Some(0) {
            problems.push(
                Problem::new(path.key("queue_limit"), "a queue limit of 0 drops every event that waits")
                    .hint("omit it for an unbounded queue"),
            );
        }
        let retention = self.retention.map(|r| positive_duration(r, path.key("retention"), problems));
        let mtbf = self.mtbf.map(|d| positive_duration(d, path.key("mtbf"), problems));
        let mttr = positive_duration(self.mttr, path.key("mttr"), problems);
        let mut outages = Vec::new();
        for (i, o) in self.outages.iter().enumerate() {
            let op = path.key("outages").index(i);
            if o.server >= servers {
                problems.push(
                    Problem::new(op.key("server"), format!("no server {} among {servers}", o.server))
                        .hint("servers are numbered by rank from 0 (the largest)"),
                );
            }
            if o.end.0 <= o.start.0 {
                problems.push(Problem::new(
                    op.key("end"),
                    format!("the outage ends ({}) before it starts ({})", o.end, o.start),
                ));
            }
            outages.push(ServerOutage {
                server: o.server,
                start: SimTime::ZERO + o.start.0,
                end: SimTime::ZERO + o.end.0,
            });
        }
        let backoff_min = positive_duration(self.backoff_min, path.key("backoff_min"), problems);
        if !(self.backoff_multiplier >= 1.0 && self.backoff_multiplier.is_finite()) {
            problems.push(
                Problem::new(
                    path.key("backoff_multiplier"),
                    format!("expected a multiplier of at least 1, found {}", self.backoff_multiplier),
                )
                .hint("Synapse uses 2"),
            );
        }
        if self.backoff_max.0 < backoff_min {
            problems.push(Problem::new(
                path.key("backoff_max"),
                format!("the cap ({}) is below backoff_min ({})", self.backoff_max, self.backoff_min),
            ));
        }
        if self.request_retries > 30 {
            problems.push(
                Problem::new(
                    path.key("request_retries"),
                    format!("{} retries inside one request is beyond any client", self.request_retries),
                )
                .hint("Synapse uses 10"),
            );
        }
        let block_share = probability(self.block_share, path.key("block_share"), problems);
        let defederated_share = probability(self.defederated_share, path.key("defederated_share"), problems);
        let mut blocked_pairs = Vec::new();
        for (i, &[a, b]) in self.blocked_pairs.iter().enumerate() {
            let bp = path.key("blocked_pairs").index(i);
            if a >= servers || b >= servers {
                problems.push(
                    Problem::new(bp, format!("no server {} among {servers}", a.max(b)))
                        .hint("servers are numbered by rank from 0 (the largest)"),
                );
            } else if a == b {
                problems.push(Problem::new(bp, format!("server {a} cannot block itself")));
            }
            blocked_pairs.push((a, b));
        }
        let client_retry = positive_duration(self.client_retry, path.key("client_retry"), problems);
        if self.client_retries > 40 {
            problems.push(
                Problem::new(
                    path.key("client_retries"),
                    format!("{} doubling retries outlast any run", self.client_retries),
                )
                .hint("matrix-js-sdk uses 4"),
            );
        }
        let sync_timeout = self.sync_timeout.map(|d| positive_duration(d, path.key("sync_timeout"), problems));
        if !(self.request_size.0 >= 0.0 && self.request_size.0 <= u32::MAX as f64) {
            problems.push(Problem::new(path.key("request_size"), "expected a size below 4GB"));
        }
        Some(ArchSpec::Federated(FederatedParams {
            servers,
            zipf_exponent: self.zipf_exponent,
            locality,
            region: region?,
            workers,
            service_time: service_time?,
            queue_limit: self.queue_limit,
            retention,
            mtbf,
            mttr,
            outages,
            backoff: Backoff { min: backoff_min, multiplier: self.backoff_multiplier, max: self.backoff_max.0 },
            request_retries: self.request_retries,
            request_retry_cap: self.request_retry_cap.0,
            wake_on_inbound: self.wake_on_inbound,
            block_share,
            defederated_share,
            blocked_pairs,
            client_retry,
            client_retries: self.client_retries,
            sync_timeout,
            request_bytes: self.request_size.0 as u32,
        }))
    }
}
