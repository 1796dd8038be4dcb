//! The `kind = "centralized"` table.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::arch::ArchSpec;
use crate::arch::centralized::CentralizedParams;
use crate::scenario::arch::ArchConfig;
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::resolve::{Env, at_least, dist, positive_duration};
use crate::scenario::schema::{RawDist, RawInterval};
use crate::scenario::units::{Duration, Size};
use crate::time::{SimDuration, SimTime};

/// A centralized (Signal-like) provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CentralizedConfig {
    /// Region of the provider's data centre. Default "na_east" (assumption: Signal does not
    /// publish where its servers run).
    #[serde(default = "default_region")]
    pub region: String,
    /// Parallel service channels (servers) per deployment. Default 4 (assumption).
    #[serde(default = "default_servers")]
    pub servers: u32,
    /// Time to process one message. Default exponential, mean 1ms (assumption: no published
    /// Signal figure; DEFAULTS.md §9).
    #[serde(default = "default_service_time")]
    pub service_time: RawDist<Duration>,
    /// Most messages waiting per deployment before new ones are dropped. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_limit: Option<u32>,
    /// How long undelivered copies are kept. Default 30d (Signal-Server sample.yml,
    /// messages expiration P30D).
    #[serde(default = "default_retention")]
    pub retention: Duration,
    /// Hide the sender's identity from the server. Default true (Signal's sealed sender).
    #[serde(default = "default_true")]
    pub sealed_sender: bool,
    /// Isolated self-hosted deployments users are spread over. Default 1 (one provider).
    #[serde(default = "default_one")]
    pub deployments: u32,
    /// Scheduled provider outages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<RawInterval>,
    /// Interval between a client's upload retries. Default 30s (assumption).
    #[serde(default = "default_client_retry")]
    pub client_retry: Duration,
    /// Age after which a client stops retrying. Default 7d (assumption).
    #[serde(default = "default_client_give_up")]
    pub client_give_up: Duration,
    /// Size of a fetch request. Default 200B (assumption).
    #[serde(default = "default_request")]
    pub request_size: Size,
}

fn default_region() -> String {
    "na_east".into()
}
fn default_servers() -> u32 {
    4
}
fn default_service_time() -> RawDist<Duration> {
    RawDist::exp(SimDuration::from_millis(1))
}
fn default_retention() -> Duration {
    Duration(SimDuration::from_secs(30 * 86_400))
}
fn default_true() -> bool {
    true
}
fn default_one() -> u32 {
    1
}
fn default_client_retry() -> Duration {
    Duration(SimDuration::from_secs(30))
}
fn default_client_give_up() -> Duration {
    Duration(SimDuration::from_secs(7 * 86_400))
}
fn default_request() -> Size {
    Size(200.0)
}

impl ArchConfig for CentralizedConfig {
    const KIND: &'static str = "centralized";
    const SUMMARY: &'static str =
        "one provider's servers: push to online recipients, store for offline ones (Signal-like)";

    fn resolve(&self, path: &KeyPath, env: &Env<'_>, problems: &mut Vec<Problem>) -> Option<ArchSpec> {
        let region = env.region(&self.region, path.key("region"), problems);
        let servers = at_least(self.servers, 1, path.key("servers"), problems);
        let service_time = dist(&self.service_time, &path.key("service_time"), problems);
        let deployments = at_least(self.deployments, 1, path.key("deployments"), problems);
        if deployments > env.users {
            problems.push(
                Problem::new(path.key("deployments"), format!("{deployments} deployments for {} users", env.users))
                    .hint("use at most one deployment per user"),
            );
        }
        if self.queue_limit == Some(0) {
            problems.push(
                Problem::new(path.key("queue_limit"), "a queue limit of 0 drops every message that waits")
                    .hint("omit it for an unbounded queue"),
            );
        }
        let client_retry = positive_duration(self.client_retry, path.key("client_retry"), problems);
        let mut outages = Vec::new();
        for (i, o) in self.outages.iter().enumerate() {
            if o.end.0 <= o.start.0 {
                problems.push(Problem::new(
                    path.key("outages").index(i).key("end"),
                    format!("the outage ends ({}) before it starts ({})", o.end, o.start),
                ));
            }
            outages.push((SimTime::ZERO + o.start.0, SimTime::ZERO + o.end.0));
        }
        if !(self.request_size.0 >= 0.0 && self.request_size.0 <= u32::MAX as f64) {
            problems.push(Problem::new(path.key("request_size"), "expected a size below 4GB"));
        }
        Some(ArchSpec::Centralized(CentralizedParams {
            region: region?,
            servers,
            service_time: service_time?,
            queue_limit: self.queue_limit,
            retention: self.retention.0,
            sealed_sender: self.sealed_sender,
            deployments,
            outages,
            client_retry,
            client_give_up: self.client_give_up.0,
            request_bytes: self.request_size.0 as u32,
        }))
    }
}
