//! The `kind = "mixnet"` table (a Loopix-like mix network with cover traffic; see
//! docs/arch/mixnet.md for every key's unit, range and source).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::arch::ArchSpec;
use crate::arch::mixnet::{CoverObservations, MAX_LAYERS, MixnetParams, Placement};
use crate::scenario::arch::ArchConfig;
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::resolve::{Env, at_least, dist, positive_duration, probability};
use crate::scenario::schema::RawDist;
use crate::scenario::units::{Duration, Rate, Size};
use crate::time::SimDuration;

/// Most mix and provider nodes a scenario may ask for.
pub const MAX_NODES: u64 = 1_000_000;

/// Shortest pull interval when every pull is simulated (one event per pull per online user).
pub const MIN_OBSERVED_PULL: SimDuration = SimDuration::from_millis(10);

/// Where mixes and providers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawPlacement {
    /// In proportion to where users live.
    Users,
    /// Equally over every region.
    Uniform,
}

/// Which cover traffic is simulated hop by hop, so that observers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawCoverObservations {
    /// Cover and empty pulls are only counted (fast at any scale; observers see real traffic only).
    Counted,
    /// Every pull, and a share `cover_sample` of the cover packets, are simulated hop by hop.
    Sampled,
    /// Every cover packet and every pull are simulated hop by hop (one event per packet per hop).
    Full,
}

impl RawCoverObservations {
    /// The name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            RawCoverObservations::Counted => "counted",
            RawCoverObservations::Sampled => "sampled",
            RawCoverObservations::Full => "full",
        }
    }
}

/// A Loopix-like mix network: providers, stratified mix layers, Poisson sending with cover.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixnetConfig {
    /// Mix layers every packet crosses. Default 3 (Loopix `PATH_LENGTH`; Nym also routes through
    /// 3 mix nodes; DEFAULTS.md §6).
    #[serde(default = "default_layers")]
    pub layers: u32,
    /// Mixes per layer. Default 5 (assumption: deployment sizes are not in DEFAULTS.md).
    #[serde(default = "default_mixes")]
    pub mixes_per_layer: u32,
    /// Providers (gateways that store for their users). Default 5 (assumption).
    #[serde(default = "default_providers")]
    pub providers: u32,
    /// Where mixes and providers run: "users" (in proportion to users per region) or "uniform".
    /// Default "users" (assumption).
    #[serde(default = "default_placement")]
    pub placement: RawPlacement,
    /// Mean of the exponential delay a mix holds each packet; "0s" for none. Default 15ms (Nym
    /// `DEFAULT_AVERAGE_PACKET_DELAY`, DEFAULTS.md §6; Loopix's released config uses 1ms, a
    /// functional-test value).
    #[serde(default = "default_mix_delay")]
    pub mix_delay: Duration,
    /// Processing time at a mix per packet. Default exponential, mean 1ms (assumption within
    /// Loopix's published "< 1.5ms" overhead, DEFAULTS.md §6 and §9).
    #[serde(default = "default_processing")]
    pub mix_processing: RawDist<Duration>,
    /// Processing time at a provider per packet. Default exponential, mean 1ms (assumption).
    #[serde(default = "default_processing")]
    pub provider_processing: RawDist<Duration>,
    /// Payload slots per online client (Poisson); "0/s" sends real packets at once with no
    /// slots. Default "0.5/s" (Loopix `EXP_PARAMS_PAYLOAD` = 2s, DEFAULTS.md §6).
    #[serde(default = "default_stream")]
    pub payload_rate: Rate,
    /// Loop cover packets per online client (Poisson). Default "0.5/s" (Loopix
    /// `EXP_PARAMS_LOOPS` = 2s, DEFAULTS.md §6).
    #[serde(default = "default_stream")]
    pub loop_rate: Rate,
    /// Drop cover packets per online client (Poisson). Default "0.5/s" (Loopix
    /// `EXP_PARAMS_DROP` = 2s, DEFAULTS.md §6).
    #[serde(default = "default_stream")]
    pub drop_rate: Rate,
    /// Loop cover packets per mix (Poisson). Default "0.1/s" (an earlier Loopix config.json,
    /// `parametersMixnodes.EXP_PARAMS_LOOPS` = 10s; docs/arch/mixnet.md).
    #[serde(default = "default_mix_loop")]
    pub mix_loop_rate: Rate,
    /// Interval between a client's pulls from its provider. Default 10s (Loopix `TIME_PULL`).
    #[serde(default = "default_pull_interval")]
    pub pull_interval: Duration,
    /// Most packets one pull returns. Default 50 (Loopix `MAX_RETRIEVE`).
    #[serde(default = "default_max_retrieve")]
    pub max_retrieve: u32,
    /// Pad every pull answer with dummies to `max_retrieve` packets. Default true (Loopix
    /// provider `pull_messages`).
    #[serde(default = "default_true")]
    pub pull_padding: bool,
    /// Bytes of every packet on the wire. Default 2413B (Nym's regular Sphinx packet: 2KiB of
    /// payload plus header and overhead; secondary source, docs/arch/mixnet.md).
    #[serde(default = "default_packet_size")]
    pub packet_size: Size,
    /// Message bytes one packet carries; longer messages are split. Default 2KiB (Nym
    /// `REGULAR_PACKET_SIZE` payload; assumption that all of it carries message bytes).
    #[serde(default = "default_packet_payload")]
    pub packet_payload: Size,
    /// Size of a pull request. Default 200B (assumption).
    #[serde(default = "default_request")]
    pub request_size: Size,
    /// How long a provider keeps a packet for its user. Default 7d (assumption).
    #[serde(default = "default_retention")]
    pub retention: Duration,
    /// "counted", "sampled" or "full": which cover traffic observers see (costs are counted in
    /// every mode). Default "counted".
    #[serde(default = "default_cover_observations")]
    pub cover_observations: RawCoverObservations,
    /// With "sampled": share of cover packets simulated hop by hop. Default 0.1 (assumption).
    #[serde(default = "default_cover_sample")]
    pub cover_sample: f64,
}

fn default_layers() -> u32 {
    3
}
fn default_mixes() -> u32 {
    5
}
fn default_providers() -> u32 {
    5
}
fn default_placement() -> RawPlacement {
    RawPlacement::Users
}
fn default_mix_delay() -> Duration {
    Duration(SimDuration::from_millis(15))
}
fn default_processing() -> RawDist<Duration> {
    RawDist::exp(SimDuration::from_millis(1))
}
fn default_stream() -> Rate {
    Rate(0.5)
}
fn default_mix_loop() -> Rate {
    Rate(0.1)
}
fn default_pull_interval() -> Duration {
    Duration(SimDuration::from_secs(10))
}
fn default_max_retrieve() -> u32 {
    50
}
fn default_true() -> bool {
    true
}
fn default_packet_size() -> Size {
    Size(2413.0)
}
fn default_packet_payload() -> Size {
    Size(2048.0)
}
fn default_request() -> Size {
    Size(200.0)
}
fn default_retention() -> Duration {
    Duration(SimDuration::from_secs(7 * 86_400))
}
fn default_cover_observations() -> RawCoverObservations {
    RawCoverObservations::Counted
}
fn default_cover_sample() -> f64 {
    0.1
}

/// Checks a per-second rate: finite and not negative.
fn rate(r: Rate, path: KeyPath, problems: &mut Vec<Problem>) -> f64 {
    if !(r.0 >= 0.0 && r.0.is_finite()) {
        problems.push(Problem::new(path, format!("expected a rate of at least 0, found {}", r.0)));
        return 0.0;
    }
    r.0
}

/// Checks a size in bytes: between `min` and 4GB.
fn bytes(s: Size, min: f64, path: KeyPath, problems: &mut Vec<Problem>) -> u32 {
    if !(s.0 >= min && s.0 <= u32::MAX as f64) {
        problems.push(Problem::new(path, format!("expected a size of at least {min}B and below 4GB, found {}B", s.0)));
        return min as u32;
    }
    s.0 as u32
}

impl ArchConfig for MixnetConfig {
    const KIND: &'static str = "mixnet";
    const SUMMARY: &'static str =
        "mix layers with random delays and cover traffic; providers store for offline users (Loopix-like)";

    fn resolve(&self, path: &KeyPath, _env: &Env<'_>, problems: &mut Vec<Problem>) -> Option<ArchSpec> {
        let layers = at_least(self.layers, 1, path.key("layers"), problems);
        if layers > MAX_LAYERS {
            problems.push(
                Problem::new(path.key("layers"), format!("{layers} layers is more than the {MAX_LAYERS} supported"))
                    .hint("Loopix and Nym use 3 mix layers"),
            );
        }
        let mixes_per_layer = at_least(self.mixes_per_layer, 1, path.key("mixes_per_layer"), problems);
        let providers = at_least(self.providers, 1, path.key("providers"), problems);
        if layers as u64 * mixes_per_layer as u64 + providers as u64 > MAX_NODES {
            problems.push(
                Problem::new(path.key("mixes_per_layer"), "more mix and provider nodes than this machine can hold")
                    .hint(format!("use at most {MAX_NODES} nodes in all")),
            );
        }
        let mix_processing = dist(&self.mix_processing, &path.key("mix_processing"), problems);
        let provider_processing = dist(&self.provider_processing, &path.key("provider_processing"), problems);
        let payload_rate = rate(self.payload_rate, path.key("payload_rate"), problems);
        let loop_rate = rate(self.loop_rate, path.key("loop_rate"), problems);
        let drop_rate = rate(self.drop_rate, path.key("drop_rate"), problems);
        let mix_loop_rate = rate(self.mix_loop_rate, path.key("mix_loop_rate"), problems);
        let pull_interval = positive_duration(self.pull_interval, path.key("pull_interval"), problems);
        if self.cover_observations != RawCoverObservations::Counted && pull_interval < MIN_OBSERVED_PULL {
            problems.push(
                Problem::new(
                    path.key("pull_interval"),
                    format!(
                        "with cover_observations = \"{}\" every pull is simulated; {} is too short for that",
                        self.cover_observations.as_str(),
                        self.pull_interval
                    ),
                )
                .hint(format!("use at least {} or cover_observations = \"counted\"", Duration(MIN_OBSERVED_PULL))),
            );
        }
        let max_retrieve = at_least(self.max_retrieve, 1, path.key("max_retrieve"), problems);
        let packet_bytes = bytes(self.packet_size, 1.0, path.key("packet_size"), problems);
        let packet_payload = bytes(self.packet_payload, 1.0, path.key("packet_payload"), problems);
        if packet_payload > packet_bytes {
            problems.push(
                Problem::new(
                    path.key("packet_payload"),
                    format!("a packet of {packet_bytes}B cannot carry {packet_payload}B of message"),
                )
                .hint("the payload is what is left of `packet_size` after the Sphinx header"),
            );
        }
        let request_bytes = bytes(self.request_size, 0.0, path.key("request_size"), problems);
        let retention = positive_duration(self.retention, path.key("retention"), problems);
        let cover_observations = match self.cover_observations {
            RawCoverObservations::Counted => CoverObservations::Counted,
            RawCoverObservations::Full => CoverObservations::Full,
            RawCoverObservations::Sampled => {
                let s = probability(self.cover_sample, path.key("cover_sample"), problems);
                if s == 0.0 {
                    problems.push(
                        Problem::new(path.key("cover_sample"), "a sample of 0 simulates no cover packet")
                            .hint("use cover_observations = \"counted\" for that"),
                    );
                }
                CoverObservations::Sampled(s)
            }
        };
        Some(ArchSpec::Mixnet(MixnetParams {
            layers,
            mixes_per_layer,
            providers,
            placement: match self.placement {
                RawPlacement::Users => Placement::FollowUsers,
                RawPlacement::Uniform => Placement::Uniform,
            },
            mix_delay: self.mix_delay.0,
            mix_processing: mix_processing?,
            provider_processing: provider_processing?,
            payload_rate,
            loop_rate,
            drop_rate,
            mix_loop_rate,
            pull_interval,
            max_retrieve,
            pull_padding: self.pull_padding,
            packet_bytes,
            packet_payload,
            request_bytes,
            retention,
            cover_observations,
        }))
    }
}
