//! One place for what a metric *is*, by its dotted name (as in `tidy.csv` and `results.json`):
//! its kind (a share in [0, 1], or a quantity that cannot be negative), its display name with its
//! unit for tables and chart axes, and how a value of it is written.
//!
//! Kinds are read from the name's form, not listed per metric, so a new summary field gets the
//! right interval and unit without a change here: a leaf ending in `_ratio`, `share` or
//! `utilisation`, or one of the exposure figures docs/exposure.md defines as shares of what the
//! adversary could learn, is a share; every other figure netarch writes (latencies, counts,
//! bytes, rates, entropy bits) cannot be negative. The exception is `overhead_ratio`, a ratio of
//! counts that may exceed 1 (docs/outputs.md).
//!
//! Display names follow the terminal table's headers (docs/outputs.md, "Names on screen") where
//! the table has the figure; other names are the key in words (`model.figures.path_retries` →
//! "path retries", `exposure.gpa.pair.learned` → "gpa: pair learned").

use crate::output::charts::{bytes, duration_ms, percent, sig3};

/// What range a metric's values take, which decides its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// A share of a whole: every value in [0, 1].
    Share,
    /// A quantity that cannot be negative: a latency, a count, bytes, a rate.
    Positive,
}

/// Exposure figures (docs/exposure.md) that are shares of what an adversary could learn.
const SHARE_LEAVES: [&str; 15] = [
    "learned",
    "seen",
    "identity",
    "by_correlation",
    "wrong",
    "precision",
    "recall",
    "recall_of_contacts",
    "linked_with_certainty",
    "mean_degree",
    "median_degree",
    "identified",
    "identified_within_5",
    "wrongly_identified",
    "relay_availability",
];

/// The kind of a metric, from its name.
pub fn kind(metric: &str) -> MetricKind {
    let leaf = metric.rsplit('.').next().unwrap_or(metric);
    // `rooms.learned` counts memberships (the share is `rooms.share`).
    let exposure_share =
        metric.starts_with("exposure.") && SHARE_LEAVES.contains(&leaf) && !metric.ends_with(".rooms.learned");
    let share = leaf != "overhead_ratio"
        && (leaf.ends_with("_ratio")
            || leaf.ends_with("share")
            || leaf == "utilisation"
            || leaf == "relay_availability"
            || exposure_share);
    if share { MetricKind::Share } else { MetricKind::Positive }
}

/// The count a share is a proportion of, when the summary has it (a share of copies): the
/// Wilson interval's count basis.
pub fn count_basis(metric: &str) -> Option<&'static str> {
    match metric {
        "delivery_ratio" | "delivered_in_deadline_ratio" => Some("copies_created"),
        _ => None,
    }
}

/// How a metric's values are measured, for formatting and axis units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// A share, written as a percentage.
    Share,
    /// Milliseconds, written in the largest readable unit.
    Millis,
    /// Seconds.
    Seconds,
    /// Bytes, in decimal units.
    Bytes,
    /// Any other number.
    Plain,
}

/// How a metric's values are measured, from its name.
pub fn measure(metric: &str) -> Measure {
    let leaf = metric.rsplit('.').next().unwrap_or(metric);
    if kind(metric) == MetricKind::Share {
        Measure::Share
    } else if leaf.ends_with("_ms") {
        Measure::Millis
    } else if leaf.ends_with("_s") {
        Measure::Seconds
    } else if leaf == "bytes" || leaf.ends_with("_bytes") || leaf.starts_with("bytes_") || leaf.contains("_bytes_") {
        Measure::Bytes
    } else {
        Measure::Plain
    }
}

/// Display names of the figures the terminal table shows (docs/outputs.md), and a few more.
const NAMES: [(&str, &str); 24] = [
    ("copies_created", "copies"),
    ("messages_created", "messages"),
    ("delivered", "delivered copies"),
    ("delivery_ratio", "delivered"),
    ("delivered_in_deadline_ratio", "in deadline"),
    ("lost", "lost"),
    ("in_flight", "in flight"),
    ("deadline_s", "deadline"),
    ("mean_hops", "hops/delivered"),
    ("transmissions", "transmissions"),
    ("bytes", "message bytes"),
    ("transmissions_per_delivered", "tx/delivered"),
    ("bytes_per_delivered", "bytes/delivered"),
    ("all_transmissions_per_delivered", "all tx/delivered"),
    ("all_bytes_per_delivered", "all bytes/delivered"),
    ("overhead_ratio", "overhead ratio"),
    ("overhead_transmissions", "overhead transmissions"),
    ("overhead_bytes", "overhead bytes"),
    ("connections_per_device_hour", "connections/device·h"),
    ("wakeups_per_device_hour", "wake-ups/device·h"),
    ("engine.events", "events"),
    ("engine.peak_pending_events", "peak pending events"),
    ("engine.peak_messages_in_flight", "peak messages in flight"),
    ("latency.count", "delivered copies"),
];

/// Latency groups of the summary and how their names read.
const LATENCY_GROUPS: [(&str, &str); 5] = [
    ("latency", "latency"),
    ("latency_online_at_send", "latency online@send"),
    ("latency_offline_at_send", "latency offline@send"),
    ("online_to_delivery", "online-to-delivery"),
    ("time_stored", "time stored"),
];

/// A metric's display name, without its unit: "p95 latency", "delivered", "path retries".
pub fn display_name(metric: &str) -> String {
    if let Some((_, name)) = NAMES.iter().find(|(k, _)| *k == metric) {
        return (*name).to_owned();
    }
    let words = |s: &str| s.replace(['_', '.'], " ");
    if let Some((group, rest)) = metric.split_once('.')
        && let Some((_, name)) = LATENCY_GROUPS.iter().find(|(g, _)| *g == group)
    {
        let stat = rest.strip_suffix("_ms").unwrap_or(rest);
        return match stat {
            "count" => format!("copies in {name}"),
            s => format!("{s} {name}"),
        };
    }
    if let Some(reason) = metric.strip_prefix("lost_by_reason.") {
        return format!("lost: {}", words(reason));
    }
    if let Some(figure) = metric.strip_prefix("model.figures.") {
        return words(figure.strip_suffix("_ms").unwrap_or(figure));
    }
    if let Some(rest) = metric.strip_prefix("model.servers.").or_else(|| metric.strip_prefix("exposure."))
        && let Some((who, field)) = rest.rsplit_once('.')
    {
        // The label may hold dots only as `_` (tidy.csv replaces them), so the last segment is
        // the field unless the field has a section (`pair.learned`): take known sections whole.
        let (who, field) = match who.rsplit_once('.') {
            Some((w, section))
                if ["pair", "sender", "recipient", "addresses", "graph", "anonymity", "disclosure"]
                    .contains(&section) =>
            {
                (w, format!("{section} {field}"))
            }
            _ => (who, field.to_owned()),
        };
        return format!("{who}: {}", words(field.strip_suffix("_ms").unwrap_or(&field)));
    }
    words(metric.strip_suffix("_ms").unwrap_or(metric))
}

/// The unit a chart axis or table column shows a metric's values in, for values up to `max`:
/// (divisor from the stored unit, abbreviation), e.g. (3_600_000, "h") for hours of a `_ms`
/// figure, (0.01, "%") for a share.
pub fn axis_unit(metric: &str, max: f64) -> (f64, &'static str) {
    match measure(metric) {
        Measure::Share => (0.01, "%"),
        Measure::Millis => [(86_400_000.0, "d"), (3_600_000.0, "h"), (60_000.0, "min"), (1000.0, "s")]
            .into_iter()
            .find(|(d, _)| max >= 2.0 * d)
            .unwrap_or((1.0, "ms")),
        Measure::Seconds => [(86_400.0, "d"), (3600.0, "h"), (60.0, "min")]
            .into_iter()
            .find(|(d, _)| max >= 2.0 * d)
            .unwrap_or((1.0, "s")),
        Measure::Bytes => {
            [(1e9, "GB"), (1e6, "MB"), (1e3, "KB")].into_iter().find(|(d, _)| max >= *d).unwrap_or((1.0, "B"))
        }
        Measure::Plain => (1.0, ""),
    }
}

/// "p95 latency (h)": the display name with the unit values up to `max` are shown in.
pub fn display_with_unit(metric: &str, max: f64) -> String {
    match axis_unit(metric, max) {
        (_, "") => display_name(metric),
        (_, unit) => format!("{} ({unit})", display_name(metric)),
    }
}

/// A value of a metric as the tables write it: "96.4%", "1.5 h", "11.6 KB", "3.20".
pub fn format_value(metric: &str, v: f64) -> String {
    match measure(metric) {
        Measure::Share => percent(v),
        Measure::Millis => duration_ms(v),
        Measure::Seconds => duration_ms(v * 1e3),
        Measure::Bytes => bytes(v),
        Measure::Plain => sig3(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_names_form() {
        for m in [
            "delivery_ratio",
            "delivered_in_deadline_ratio",
            "model.figures.blocked_pair_share",
            "model.servers.provider.utilisation",
            "exposure.gpa.pair.learned",
            "exposure.gpa.anonymity.mean_degree",
            "exposure.gpa.graph.precision",
        ] {
            assert_eq!(kind(m), MetricKind::Share, "{m}");
        }
        for m in [
            "latency.p95_ms",
            "in_flight",
            "overhead_ratio",
            "bytes_per_delivered",
            "exposure.gpa.messages",
            "exposure.gpa.anonymity.mean_entropy_bits",
            "exposure.gpa.rooms.learned",
        ] {
            assert_eq!(kind(m), MetricKind::Positive, "{m}");
        }
    }

    #[test]
    fn display_names_carry_units_not_raw_keys() {
        assert_eq!(display_with_unit("latency.p95_ms", 5.0 * 3_600_000.0), "p95 latency (h)");
        assert_eq!(display_with_unit("latency_online_at_send.p50_ms", 300.0), "p50 latency online@send (ms)");
        assert_eq!(display_with_unit("delivery_ratio", 1.0), "delivered (%)");
        assert_eq!(display_with_unit("bytes_per_delivered", 25_000.0), "bytes/delivered (KB)");
        assert_eq!(display_name("model.figures.path_retries"), "path retries");
        assert_eq!(display_name("exposure.global observer.pair.learned"), "global observer: pair learned");
        assert_eq!(display_name("model.servers.provider.utilisation"), "provider: utilisation");
        assert_eq!(display_name("lost_by_reason.relay_failure"), "lost: relay failure");
        assert_eq!(format_value("latency.p50_ms", 5400.0), "5.4 s");
        assert_eq!(format_value("delivery_ratio", 0.964), "96.4%");
    }
}
