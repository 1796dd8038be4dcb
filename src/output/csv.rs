//! `summary.csv` (one row per architecture), `latency.csv` (CDF points) and `exposure.csv` (one
//! row per adversary, architecture and metric), tidy tables for pandas or R. Undefined values are
//! empty cells.

use crate::metrics::LossReason;
use crate::results::ArchSummary;
use crate::run::RunResults;

fn cell(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// Column names of `summary.csv`, in order.
pub fn summary_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "arch",
        "kind",
        "messages_created",
        "copies_created",
        "delivered",
        "lost",
        "in_flight",
        "delivery_ratio",
        "deadline_s",
        "delivered_in_deadline_ratio",
        "latency_mean_ms",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "online_at_send_p50_ms",
        "online_at_send_p95_ms",
        "offline_at_send_p50_ms",
        "offline_at_send_p95_ms",
        "online_to_delivery_mean_ms",
        "time_stored_mean_ms",
        "mean_hops",
        "transmissions",
        "bytes",
        "transmissions_per_delivered",
        "bytes_per_delivered",
        "all_transmissions_per_delivered",
        "all_bytes_per_delivered",
        "overhead_ratio",
        "overhead_transmissions",
        "overhead_bytes",
        "connections_per_device_hour",
        "wakeups_per_device_hour",
        "max_server_utilisation",
        "max_server_peak_queue",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(LossReason::ALL.iter().map(|r| format!("lost_{}", r.as_str())));
    h
}

/// One architecture's row of `summary.csv`, matching [`summary_header`].
pub fn summary_row(a: &ArchSummary) -> Vec<String> {
    let util =
        a.model.servers.iter().map(|s| s.utilisation).fold(None, |m: Option<f64>, u| Some(m.map_or(u, |m| m.max(u))));
    let peak = a.model.servers.iter().map(|s| s.peak_queue).max();
    let mut row = vec![
        a.name.clone(),
        a.kind.clone(),
        a.messages_created.to_string(),
        a.copies_created.to_string(),
        a.delivered.to_string(),
        a.lost.to_string(),
        a.in_flight.to_string(),
        cell(a.delivery_ratio),
        format!("{}", a.deadline_s),
        cell(a.delivered_in_deadline_ratio),
        cell(a.latency.mean_ms),
        cell(a.latency.p50_ms),
        cell(a.latency.p95_ms),
        cell(a.latency.p99_ms),
        cell(a.latency_online_at_send.p50_ms),
        cell(a.latency_online_at_send.p95_ms),
        cell(a.latency_offline_at_send.p50_ms),
        cell(a.latency_offline_at_send.p95_ms),
        cell(a.online_to_delivery.mean_ms),
        cell(a.time_stored.mean_ms),
        cell(a.mean_hops),
        a.transmissions.to_string(),
        a.bytes.to_string(),
        cell(a.transmissions_per_delivered),
        cell(a.bytes_per_delivered),
        cell(a.all_transmissions_per_delivered),
        cell(a.all_bytes_per_delivered),
        cell(a.overhead_ratio),
        a.overhead_transmissions.to_string(),
        a.overhead_bytes.to_string(),
        cell(a.connections_per_device_hour),
        cell(a.wakeups_per_device_hour),
        cell(util),
        peak.map(|p| p.to_string()).unwrap_or_default(),
    ];
    row.extend(LossReason::ALL.iter().map(|r| a.lost_by_reason.get(r).copied().unwrap_or(0).to_string()));
    row
}

fn write(rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 fields is UTF-8")
}

/// `summary.csv`: a header and one row per architecture.
pub fn summary_csv(r: &RunResults) -> String {
    write(std::iter::once(summary_header()).chain(r.archs.iter().map(summary_row)))
}

/// `latency.csv`: arch, split, latency_ms, cumulative — the empirical CDF of each group.
pub fn latency_csv(r: &RunResults) -> String {
    let header = ["arch", "split", "latency_ms", "cumulative"].iter().map(|s| s.to_string()).collect();
    let mut rows = vec![header];
    for (a, c) in r.archs.iter().zip(&r.cdfs) {
        for (split, points) in
            [("all", &c.all), ("online_at_send", &c.online_at_send), ("offline_at_send", &c.offline_at_send)]
        {
            for p in points {
                rows.push(vec![a.name.clone(), split.into(), format!("{}", p.latency_ms), format!("{}", p.cumulative)]);
            }
        }
    }
    write(rows)
}

/// `exposure.csv`: arch, adversary, mode, metric, value — one row per adversary, architecture and
/// metric (metrics in [`crate::observe::exposure::AdversaryExposure::metrics`] order; docs/exposure.md
/// defines each). Empty when the scenario declares no adversary.
pub fn exposure_csv(r: &RunResults) -> String {
    let header = ["arch", "adversary", "mode", "metric", "value"].iter().map(|s| s.to_string()).collect();
    let mut rows = vec![header];
    for a in &r.archs {
        for e in &a.exposure {
            for (metric, value) in e.metrics() {
                rows.push(vec![a.name.clone(), e.adversary.clone(), e.mode.to_owned(), metric.to_owned(), cell(value)]);
            }
        }
    }
    write(rows)
}
