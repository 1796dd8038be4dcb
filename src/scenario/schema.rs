//! The scenario file's shape: serde types that mirror the TOML and only parse.
//!
//! Every table rejects unknown keys. Defaults are filled in here, so that a parsed scenario,
//! written back out, is the complete resolved scenario (results.json carries it). Values are
//! checked in [`crate::scenario::resolve`], which also builds the engine's own types; nothing in
//! the engine sees these types. Each architecture's own table lives beside its resolver in
//! `scenario/arch/`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::units::{Duration, Rate, Size};
use crate::time::SimDuration;

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Short name, used for the output folder (letters, digits, `-`, `_`).
    pub name: String,
    /// One line saying what the scenario compares (shown by `netarch list`).
    #[serde(default)]
    pub title: String,
    /// Ids of the reference text's claims this scenario shows (see CLAIMS.md), e.g. ["C1", "P2"].
    #[serde(default)]
    pub claims: Vec<String>,
    /// Text for `netarch explain`.
    #[serde(default)]
    pub explain: RawExplain,
    /// Seed of every random stream, 0 to 2^64 - 1; the same seed gives byte-identical results.
    /// Seeds of 2^63 and above may be written bare or as a string of digits.
    #[serde(default = "default_seed", deserialize_with = "crate::scenario::units::deserialize_seed")]
    #[schemars(schema_with = "crate::scenario::units::seed_schema")]
    pub seed: u64,
    /// How long users send messages (after which the cool-down runs with no new sends).
    pub duration: Duration,
    /// Messages sent before this are simulated but not counted. Default 0s.
    #[serde(default = "zero")]
    pub warmup: Duration,
    /// Time after `duration` with no new sends, so late deliveries are seen. Default 1h.
    #[serde(default = "default_cooldown")]
    pub cooldown: Duration,
    /// Deadline for the "delivered within deadline" share. Default 1min.
    #[serde(default = "default_deadline")]
    pub deadline: Duration,
    /// The people, their regions, contacts, availability and sending.
    #[serde(default)]
    pub world: RawWorld,
    /// The architectures to compare, each on the same world (one `[[arch]]` table each).
    pub arch: Vec<RawArch>,
    /// The adversaries whose exposure is measured on every architecture (one `[[adversary]]`
    /// table each; see docs/exposure.md). None: no exposure analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adversary: Vec<crate::scenario::adversary::RawAdversary>,
    /// What `netarch sweep <scenario>` varies when no `--vary` is given (see docs/sweeps.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<crate::sweep::plan::RawSweep>,
}

/// What `netarch explain` says about a scenario.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExplain {
    /// What the scenario models.
    #[serde(default)]
    pub what: String,
    /// What the run shows, and where the reference text's prose is weaker or stronger.
    #[serde(default)]
    pub shows: String,
    /// Which knob to turn next, and what to expect.
    #[serde(default)]
    pub next: String,
    /// Where the defaults come from.
    #[serde(default)]
    pub sources: String,
    /// The figures the scenario's claim rests on, as dotted metric names (those of `tidy.csv`,
    /// e.g. "delivery_ratio", "latency_online_at_send.p50_ms", "exposure.operator.sender.learned",
    /// "model.figures.dht_mean_hops"): shown under the summary table, at the top of the report and
    /// in results.json's `headline` block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headline: Vec<String>,
    /// The exposure figure the heatmap shows, a share named after `exposure.<adversary>.`, e.g.
    /// "addresses.seen", "sender.learned". Default "pair.learned".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heatmap: Option<String>,
}

fn default_seed() -> u64 {
    1
}
fn zero() -> Duration {
    Duration(SimDuration::ZERO)
}
fn default_cooldown() -> Duration {
    Duration(SimDuration::from_secs(3600))
}
fn default_deadline() -> Duration {
    Duration(SimDuration::from_secs(60))
}

/// The people and their behaviour.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWorld {
    /// Number of users. Default 1000.
    #[serde(default = "default_users")]
    pub users: u32,
    /// Regions, their latency matrix and where users live.
    #[serde(default)]
    pub regions: RawRegions,
    /// Last-mile delay added at each user end of a hop. Default 10ms (assumption).
    #[serde(default = "default_access_delay")]
    pub access_delay: Duration,
    /// Mean of the exponential jitter added to every hop. Default 5ms (assumption).
    #[serde(default = "default_jitter")]
    pub jitter: Duration,
    /// The social graph.
    #[serde(default)]
    pub social: RawSocial,
    /// Rooms (groups).
    #[serde(default)]
    pub rooms: RawRooms,
    /// When users are online.
    #[serde(default)]
    pub availability: RawAvailability,
    /// What users send.
    #[serde(default)]
    pub workload: RawWorkload,
    /// Intervals when a region (or everyone) has no internet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub internet_outages: Vec<RawInternetOutage>,
}

impl Default for RawWorld {
    fn default() -> Self {
        RawWorld {
            users: default_users(),
            regions: RawRegions::default(),
            access_delay: default_access_delay(),
            jitter: default_jitter(),
            social: RawSocial::default(),
            rooms: RawRooms::default(),
            availability: RawAvailability::default(),
            workload: RawWorkload::default(),
            internet_outages: Vec::new(),
        }
    }
}

fn default_users() -> u32 {
    1000
}
fn default_access_delay() -> Duration {
    Duration(SimDuration::from_millis(10))
}
fn default_jitter() -> Duration {
    Duration(SimDuration::from_millis(5))
}

/// Regions and the latency between them.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRegions {
    /// Path of a CSV round-trip matrix in ms (header `region,<names...>`), relative to the
    /// scenario file. Default: the shipped Azure median matrix (8 regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<String>,
    /// Share of users per region name (normalised). Default: a rough internet-population split
    /// (assumption); with a custom matrix, equal shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<BTreeMap<String, f64>>,
}

/// The social graph generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SocialKind {
    /// Watts-Strogatz ring with rewiring (uses `degree`, `rewire`).
    SmallWorld,
    /// Barabási-Albert (uses `links`).
    PreferentialAttachment,
    /// Everyone may message everyone.
    Complete,
}

/// The social graph.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSocial {
    /// Generator. Default "small-world".
    #[serde(default = "default_social_model")]
    pub model: SocialKind,
    /// small-world: contacts per user (even). Default 10.
    #[serde(default = "default_degree")]
    pub degree: u32,
    /// small-world: probability that an edge is rewired to a random user. Default 0.1.
    #[serde(default = "default_rewire")]
    pub rewire: f64,
    /// preferential-attachment: links each new user makes. Default 3.
    #[serde(default = "default_links")]
    pub links: u32,
}

impl Default for RawSocial {
    fn default() -> Self {
        RawSocial {
            model: default_social_model(),
            degree: default_degree(),
            rewire: default_rewire(),
            links: default_links(),
        }
    }
}
fn default_social_model() -> SocialKind {
    SocialKind::SmallWorld
}
fn default_degree() -> u32 {
    10
}
fn default_rewire() -> f64 {
    0.1
}
fn default_links() -> u32 {
    3
}

/// Rooms (groups).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRooms {
    /// Number of rooms. Default 0.
    #[serde(default)]
    pub count: u32,
    /// Members per room. Default 8.
    #[serde(default = "default_room_size")]
    pub size: u32,
}

impl Default for RawRooms {
    fn default() -> Self {
        RawRooms { count: 0, size: default_room_size() }
    }
}
fn default_room_size() -> u32 {
    8
}

/// A distribution family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DistFamily {
    /// Memoryless; needs `mean`.
    Exponential,
    /// Needs `mean` and `shape` (shape < 1: heavy tail).
    Weibull,
    /// Needs `mean` or `median`, and `sigma` (log-space standard deviation).
    Lognormal,
    /// Always `value`.
    Constant,
    /// Between `low` and `high`.
    Uniform,
}

/// A distribution of a quantity with unit `U` (a duration or a size).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, bound(deserialize = "U: Deserialize<'de>", serialize = "U: Serialize"))]
pub struct RawDist<U> {
    /// The family.
    pub dist: DistFamily,
    /// Mean (exponential, weibull, lognormal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<U>,
    /// Median (lognormal, instead of mean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<U>,
    /// Weibull shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<f64>,
    /// Log-normal sigma.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// Constant value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<U>,
    /// Uniform lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<U>,
    /// Uniform upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<U>,
}

impl<U> RawDist<U> {
    /// A distribution of the given family with every parameter unset.
    pub fn family(dist: DistFamily) -> Self {
        RawDist { dist, mean: None, median: None, shape: None, sigma: None, value: None, low: None, high: None }
    }
}

/// Shorthands for defaults written in code.
impl RawDist<Duration> {
    /// Exponential with mean `d`.
    pub fn exp(d: SimDuration) -> Self {
        RawDist { mean: Some(Duration(d)), ..Self::family(DistFamily::Exponential) }
    }
    /// Always `d`.
    pub fn constant(d: SimDuration) -> Self {
        RawDist { value: Some(Duration(d)), ..Self::family(DistFamily::Constant) }
    }
}

/// When users are online.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAvailability {
    /// Length of online periods. Default Weibull, mean 1h, shape 0.6 (shape from the P2P trace
    /// archive's median fit; the mean is an assumption).
    #[serde(default = "default_online")]
    pub online: RawDist<Duration>,
    /// Length of offline periods. Default exponential, mean 1h (assumption).
    #[serde(default = "default_offline")]
    pub offline: RawDist<Duration>,
    /// Share of users always online. Default 0.1 (assumption).
    #[serde(default = "default_always_online")]
    pub always_online: f64,
}

impl Default for RawAvailability {
    fn default() -> Self {
        RawAvailability { online: default_online(), offline: default_offline(), always_online: default_always_online() }
    }
}
fn default_online() -> RawDist<Duration> {
    RawDist {
        mean: Some(Duration(SimDuration::from_secs(3600))),
        shape: Some(0.6),
        ..RawDist::family(DistFamily::Weibull)
    }
}
fn default_offline() -> RawDist<Duration> {
    RawDist::exp(SimDuration::from_secs(3600))
}
fn default_always_online() -> f64 {
    0.1
}

/// What users send.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    /// Sends per online hour per user (Poisson). Default "6/h" (assumption).
    #[serde(default = "default_rate")]
    pub rate: Rate,
    /// Message sizes. Default log-normal, median 1KB, sigma 1 (assumption).
    #[serde(default = "default_size")]
    pub size: RawDist<Size>,
    /// Share of sends that go to one of the sender's rooms. Default 0.
    #[serde(default, skip_serializing_if = "is_default")]
    pub room_share: f64,
}

impl Default for RawWorkload {
    fn default() -> Self {
        RawWorkload { rate: default_rate(), size: default_size(), room_share: 0.0 }
    }
}
fn default_rate() -> Rate {
    Rate(6.0 / 3600.0)
}
fn default_size() -> RawDist<Size> {
    RawDist { median: Some(Size(1000.0)), sigma: Some(1.0), ..RawDist::family(DistFamily::Lognormal) }
}

/// A regional internet outage.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInternetOutage {
    /// Region name; omitted: every region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Start, from the beginning of the run.
    pub start: Duration,
    /// End, from the beginning of the run.
    pub end: Duration,
}

/// A scheduled interval, e.g. a provider outage.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInterval {
    /// Start, from the beginning of the run.
    pub start: Duration,
    /// End, from the beginning of the run.
    pub end: Duration,
}

/// One `[[arch]]` entry: a kind (or a preset that names one), a label, and the kind's own keys.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RawArch {
    /// The architecture kind: centralized, federated, p2p, onion or mixnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// An app preset (signal, element, briar, session) whose keys this entry starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Label in outputs. Default: the preset or kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The kind's own keys, checked against its table once the kind is known.
    #[serde(flatten)]
    pub params: toml::Table,
}
