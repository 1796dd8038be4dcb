//! Summaries of a run: the figures every output shows, computed from a [`Recorder`].
//!
//! Undefined values (a percentile of nothing, a ratio over zero deliveries) are `None`, written as
//! `null` in JSON and an empty cell in CSV, never as a made-up 0. The field set is a superset of
//! The ONE simulator's MessageStatsReport (created, relayed, dropped, delivered, delivery
//! probability, overhead ratio, latency mean/median, hop count, time stored) so its users find
//! what they know.
//!
//! Summaries are written to `results.json` and read back from it by `netarch plot`, which redraws
//! a run's charts and report without running it (see [`ArchSummary`] for what is read back).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize};

use crate::engine::observation::VisibilityTally;
use crate::engine::{EngineStats, RunOutput};
use crate::metrics::ModelReport;
use crate::metrics::recorder::{LossReason, Recorder};
use crate::observe::exposure::AdversaryExposure;

/// Latency figures of one group of delivered copies, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct LatencyStats {
    /// Copies in the group.
    pub count: u64,
    /// Mean, ms.
    pub mean_ms: Option<f64>,
    /// Median, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Largest, ms.
    pub max_ms: Option<f64>,
}

impl LatencyStats {
    /// Figures of a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> LatencyStats {
        let n = h.len();
        let q = |x: f64| (n > 0).then(|| h.value_at_quantile(x) as f64 / 1e3);
        LatencyStats {
            count: n,
            mean_ms: (n > 0).then(|| h.mean() / 1e3),
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            max_ms: (n > 0).then(|| h.max() as f64 / 1e3),
        }
    }
}

/// One point of an empirical latency CDF.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
pub struct CdfPoint {
    /// Latency, ms.
    pub latency_ms: f64,
    /// Share of the group's delivered copies with at most this latency.
    pub cumulative: f64,
}

/// Points of the CDF of a histogram, at about 40 points per decade of latency.
pub fn cdf(h: &Histogram<u64>) -> Vec<CdfPoint> {
    let n = h.len();
    if n == 0 {
        return Vec::new();
    }
    let mut points = Vec::new();
    let mut seen = 0u64;
    let step = 10f64.powf(1.0 / 40.0);
    let mut next_edge = 1.0f64;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        let value = h.highest_equivalent(v.value_iterated_to());
        if value as f64 >= next_edge || seen == n {
            points.push(CdfPoint { latency_ms: value as f64 / 1e3, cumulative: seen as f64 / n as f64 });
            while next_edge <= value as f64 {
                next_edge *= step;
            }
        }
    }
    points
}

/// Everything measured for one architecture in one run.
///
/// Read back from `results.json` (`netarch plot`), every figure the report and the charts show
/// comes back; the model's report, the visibility tally, the engine figures and the exposure
/// results are left empty, as their types are written but never read.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ArchSummary {
    /// The architecture's label.
    pub name: String,
    /// Its kind (centralized, federated, p2p, onion, mixnet, or a plug-in's own).
    pub kind: String,
    /// Messages sent after the warm-up.
    pub messages_created: u64,
    /// Recipient copies of those messages.
    pub copies_created: u64,
    /// Copies delivered.
    pub delivered: u64,
    /// Copies lost, any reason.
    pub lost: u64,
    /// Copies lost, by reason (every reason listed, zeros included).
    #[serde(deserialize_with = "loss_reasons")]
    pub lost_by_reason: BTreeMap<LossReason, u64>,
    /// Copies neither delivered nor lost at the end.
    pub in_flight: u64,
    /// delivered / copies created.
    pub delivery_ratio: Option<f64>,
    /// The deadline for "in time", seconds.
    pub deadline_s: f64,
    /// Copies delivered within the deadline / copies created.
    pub delivered_in_deadline_ratio: Option<f64>,
    /// All delivered copies.
    pub latency: LatencyStats,
    /// Copies whose recipient was online at send.
    pub latency_online_at_send: LatencyStats,
    /// Copies whose recipient was offline at send.
    pub latency_offline_at_send: LatencyStats,
    /// For copies whose recipient was offline at send: recipient online → delivered.
    pub online_to_delivery: LatencyStats,
    /// Time copies waited in storage for their recipient.
    pub time_stored: LatencyStats,
    /// Mean hops per delivered copy.
    pub mean_hops: Option<f64>,
    /// Transmissions of recorded messages (The ONE's "relayed" counts hops beyond the first).
    pub transmissions: u64,
    /// Bytes of those transmissions.
    pub bytes: u64,
    /// Message transmissions per delivered copy (`transmissions` / `delivered`; message hops only).
    pub transmissions_per_delivered: Option<f64>,
    /// Message bytes per delivered copy (`bytes` / `delivered`; message hops only).
    pub bytes_per_delivered: Option<f64>,
    /// All transmissions per delivered copy, overhead included
    /// ((`transmissions` + `overhead_transmissions`) / `delivered`).
    #[serde(default)]
    pub all_transmissions_per_delivered: Option<f64>,
    /// All bytes per delivered copy, overhead included ((`bytes` + `overhead_bytes`) / `delivered`).
    #[serde(default)]
    pub all_bytes_per_delivered: Option<f64>,
    /// (transmissions - delivered) / delivered, The ONE's overhead ratio.
    pub overhead_ratio: Option<f64>,
    /// Transmissions that carry no message (polls, cover, lookups).
    pub overhead_transmissions: u64,
    /// Their bytes.
    pub overhead_bytes: u64,
    /// Device connections per device-hour in the measurement window.
    pub connections_per_device_hour: Option<f64>,
    /// Device wake-ups per device-hour in the measurement window.
    pub wakeups_per_device_hour: Option<f64>,
    /// The model's own figures (server load and model-specific counts).
    #[serde(skip_deserializing)]
    pub model: ModelReport,
    /// Which identities each kind of node saw on real-message hops.
    #[serde(skip_deserializing)]
    pub visibility: VisibilityTally,
    /// Engine figures.
    #[serde(skip_deserializing)]
    pub engine: EngineStats,
    /// What each adversary of the scenario learned on this architecture, in scenario order
    /// (empty when the scenario declares none).
    #[serde(skip_serializing_if = "Vec::is_empty", skip_deserializing)]
    pub exposure: Vec<AdversaryExposure>,
}

/// Reads `lost_by_reason` back: each key is a [`LossReason`] by its name in the file.
fn loss_reasons<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<LossReason, u64>, D::Error> {
    BTreeMap::<String, u64>::deserialize(d)?
        .into_iter()
        .map(|(name, n)| match LossReason::ALL.into_iter().find(|r| r.as_str() == name) {
            Some(r) => Ok((r, n)),
            None => Err(serde::de::Error::custom(format!("unknown loss reason `{name}`"))),
        })
        .collect()
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

impl ArchSummary {
    /// Summarises one run; `device_hours` is users × hours of the measurement window.
    pub fn from_run(name: &str, kind: &str, out: &RunOutput, device_hours: f64) -> ArchSummary {
        let r: &Recorder = &out.recorder;
        let created = r.copies_created as f64;
        let delivered = r.delivered as f64;
        ArchSummary {
            name: name.to_owned(),
            kind: kind.to_owned(),
            messages_created: r.messages_created,
            copies_created: r.copies_created,
            delivered: r.delivered,
            lost: r.lost_total(),
            lost_by_reason: LossReason::ALL.iter().map(|&x| (x, r.lost_for(x))).collect(),
            in_flight: out.in_flight,
            delivery_ratio: ratio(delivered, created),
            deadline_s: r.deadline.as_secs_f64(),
            delivered_in_deadline_ratio: ratio(r.delivered_in_deadline as f64, created),
            latency: LatencyStats::of(&r.latency),
            latency_online_at_send: LatencyStats::of(&r.latency_online),
            latency_offline_at_send: LatencyStats::of(&r.latency_offline),
            online_to_delivery: LatencyStats::of(&r.online_to_delivery),
            time_stored: LatencyStats::of(&r.stored_time),
            mean_hops: ratio(r.hops_sum as f64, delivered),
            transmissions: r.transmissions,
            bytes: r.bytes,
            transmissions_per_delivered: ratio(r.transmissions as f64, delivered),
            bytes_per_delivered: ratio(r.bytes as f64, delivered),
            all_transmissions_per_delivered: ratio((r.transmissions + r.overhead_transmissions) as f64, delivered),
            all_bytes_per_delivered: ratio((r.bytes + r.overhead_bytes) as f64, delivered),
            overhead_ratio: ratio(r.transmissions as f64 - delivered, delivered),
            overhead_transmissions: r.overhead_transmissions,
            overhead_bytes: r.overhead_bytes,
            connections_per_device_hour: ratio(r.device_connections as f64, device_hours),
            wakeups_per_device_hour: ratio(r.device_wakeups as f64, device_hours),
            model: out.model.clone(),
            visibility: out.visibility.clone(),
            engine: out.engine,
            exposure: Vec::new(),
        }
    }
}
