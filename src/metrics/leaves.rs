//! Metric names: every numeric leaf of a serialised summary named by its dotted path
//! (`latency.p50_ms`, `exposure.<adversary>.pair.learned`, `model.figures.dht_mean_hops`). One
//! naming for every place a metric is named: sweeps (`tidy.csv`, `--metric`), a scenario's
//! headline figures and the placeholders of its explanation.
//!
//! A list of records with distinct labels is keyed by label, not position, so names do not
//! change when the list is reordered; `.` in a label becomes `_` ([`label_key`]).

/// Every numeric (or null) leaf of a summary, by dotted path, sorted by path.
pub fn flatten(summary: &serde_json::Value) -> Vec<(String, Option<f64>)> {
    fn walk(v: &serde_json::Value, path: &mut String, out: &mut Vec<(String, Option<f64>)>) {
        let at = path.len();
        let mut child = |path: &mut String, key: &str, v: &serde_json::Value| {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            walk(v, path, out);
            path.truncate(at);
        };
        match v {
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| child(path, k, v)),
            serde_json::Value::Array(items) => match labels(items) {
                Some(names) => items.iter().zip(names).for_each(|(v, n)| child(path, &n, v)),
                None => items.iter().enumerate().for_each(|(i, v)| child(path, &i.to_string(), v)),
            },
            serde_json::Value::Number(n) => out.push((path.clone(), n.as_f64())),
            serde_json::Value::Null => out.push((path.clone(), None)),
            serde_json::Value::Bool(_) | serde_json::Value::String(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(summary, &mut String::new(), &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Fields that name the elements of a list of records (an adversary, a server group), in order
/// of preference.
const LABEL_FIELDS: [&str; 4] = ["name", "adversary", "role", "label"];

/// Names for a list's elements when each is a record with a distinct label (`exposure.<adversary>`,
/// `model.servers.<role>`), so that metric names do not depend on list order; `.` in a label
/// becomes `_`. `None` (use indices) otherwise.
fn labels(items: &[serde_json::Value]) -> Option<Vec<String>> {
    let field =
        LABEL_FIELDS.iter().find(|f| items.first().is_some_and(|v| v.get(**f).is_some_and(|x| x.is_string())))?;
    let names: Vec<String> = items
        .iter()
        .map(|v| v.get(*field).and_then(|x| x.as_str()).map(|s| s.replace('.', "_")))
        .collect::<Option<_>>()?;
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    (sorted.len() == names.len() && names.iter().all(|n| !n.is_empty())).then_some(names)
}

/// A label (an adversary's, a server group's) as it appears in a metric name: `.` becomes `_`.
pub fn label_key(label: &str) -> String {
    label.replace('.', "_")
}

/// The top-level fields of a serialised [`crate::metrics::ArchSummary`]: the first segment of
/// every architecture metric name. Checked against the type by a test, so a scenario's metric
/// names can be checked before a run.
pub const SUMMARY_FIELDS: &[&str] = &[
    "all_bytes_per_delivered",
    "all_transmissions_per_delivered",
    "bytes",
    "bytes_per_delivered",
    "connections_per_device_hour",
    "copies_created",
    "deadline_s",
    "delivered",
    "delivered_in_deadline_ratio",
    "delivery_ratio",
    "engine",
    "exposure",
    "in_flight",
    "latency",
    "latency_offline_at_send",
    "latency_online_at_send",
    "lost",
    "lost_by_reason",
    "mean_hops",
    "messages_created",
    "model",
    "online_to_delivery",
    "overhead_bytes",
    "overhead_ratio",
    "overhead_transmissions",
    "time_stored",
    "transmissions",
    "transmissions_per_delivered",
    "visibility",
    "wakeups_per_device_hour",
];

/// Whether `metric` names a share in [0, 1] by its last segment (`pair.learned`,
/// `delivery_ratio`, `model.figures.cover_share_of_bytes`), the figures written as percentages.
pub fn is_share(metric: &str) -> bool {
    let last = metric.rsplit('.').next().unwrap_or(metric);
    const SHARES: [&str; 16] = [
        "learned",
        "wrong",
        "identity",
        "observed",
        "by_correlation",
        "seen",
        "identified",
        "wrongly_identified",
        "precision",
        "recall",
        "recall_of_contacts",
        "linked_with_certainty",
        "utilisation",
        "share",
        "identified_within_5",
        "online_fraction",
    ];
    SHARES.contains(&last)
        || matches!(last, "delivery_ratio" | "delivered_in_deadline_ratio")
        || last.ends_with("_share")
        || last.contains("_share_")
        || last.starts_with("share_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::charts::tests::tiny;

    #[test]
    fn summary_fields_are_the_serialised_summary_top_level_keys() {
        let (_, r) = tiny();
        let mut keys: Vec<String> = r
            .archs
            .iter()
            .flat_map(|a| serde_json::to_value(a).unwrap().as_object().unwrap().keys().cloned().collect::<Vec<_>>())
            .filter(|k| k != "name" && k != "kind")
            .collect();
        keys.sort();
        keys.dedup();
        let mut known: Vec<String> = SUMMARY_FIELDS.iter().map(|s| s.to_string()).collect();
        known.sort();
        // `exposure` is left out of a summary without adversaries.
        keys.push("exposure".into());
        keys.sort();
        keys.dedup();
        assert_eq!(keys, known);
    }

    #[test]
    fn shares_are_told_by_their_last_segment() {
        assert!(is_share("exposure.operator.pair.learned"));
        assert!(is_share("delivery_ratio"));
        assert!(is_share("model.figures.cover_share_of_bytes"));
        assert!(is_share("model.servers.provider.utilisation"));
        assert!(!is_share("overhead_ratio"));
        assert!(!is_share("latency.p50_ms"));
        assert!(!is_share("exposure.gpa.anonymity.median_degree"));
    }
}
