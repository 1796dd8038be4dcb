//! A run's figures by metric name, and the text made from them: headline figures (the figures a
//! scenario's claim rests on, `explain.headline`) and the explanation's placeholders
//! (`{entry: metric}`, see [`crate::template`]) filled with this run's numbers.
//!
//! Names are the dotted paths of [`crate::metrics::leaves::flatten`], as in `tidy.csv`. Values are
//! written as the tables write them: shares as percentages, milliseconds as human durations,
//! bits with one decimal, bytes in decimal units. A metric the run has no value for (a
//! percentile of no deliveries) reads "n/a"; a name the run does not have at all reads
//! "[no figure `entry: metric`]", and [`Figures::missing`] lists such names so the command can
//! warn. The figures come from the results document, so a run and `netarch plot` read the same.

use crate::metrics::leaves::{flatten, is_share};
use crate::output::charts::{bytes, duration_ms, percent, sig3};
use crate::template::{self, Format, WORLD};

/// Every figure of a run by metric name: per architecture, and the world's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// The architectures' labels, in scenario order.
    pub archs: Vec<String>,
    /// Per architecture, its figures sorted by name.
    pub leaves: Vec<Vec<(String, Option<f64>)>>,
    /// The world's figures, sorted by name.
    pub world: Vec<(String, Option<f64>)>,
}

/// What a metric name finds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lookup {
    /// A value.
    Value(f64),
    /// The run has the figure but it is undefined (`null`).
    Undefined,
    /// The run has no such figure.
    Missing,
}

impl Figures {
    /// The figures of a results document's `architectures` and `world`.
    pub fn from_json(archs: &[serde_json::Value], world: &serde_json::Value) -> Figures {
        Figures {
            archs: archs.iter().map(|a| a.get("name").and_then(|n| n.as_str()).unwrap_or("").to_owned()).collect(),
            leaves: archs.iter().map(flatten).collect(),
            world: flatten(world),
        }
    }

    /// Looks `metric` up in a sorted list of figures.
    /// A name under a `null` record (an adversary's `anonymity` where it has no timing model)
    /// is undefined, not missing.
    fn find(list: &[(String, Option<f64>)], metric: &str) -> Lookup {
        let at = |name: &str| list.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok().map(|i| list[i].1);
        match at(metric) {
            Some(v) => v.map_or(Lookup::Undefined, Lookup::Value),
            None => {
                let mut prefix = metric;
                while let Some((head, _)) = prefix.rsplit_once('.') {
                    if at(head) == Some(None) {
                        return Lookup::Undefined;
                    }
                    prefix = head;
                }
                Lookup::Missing
            }
        }
    }

    /// The figure `metric` of architecture `i`.
    pub fn of_arch(&self, i: usize, metric: &str) -> Lookup {
        self.leaves.get(i).map_or(Lookup::Missing, |l| Figures::find(l, metric))
    }

    /// The figure `metric` of the entry labelled `entry` (an architecture, or `world`).
    pub fn get(&self, entry: &str, metric: &str) -> Lookup {
        if let Some(i) = self.archs.iter().position(|a| a == entry) {
            return self.of_arch(i, metric);
        }
        if entry == WORLD { Figures::find(&self.world, metric) } else { Lookup::Missing }
    }

    /// The names among `headline` that no architecture has, and the placeholders of `text` the
    /// run has no figure for, as "entry: metric".
    pub fn missing(&self, headline: &[String], text: &str) -> Vec<String> {
        let mut out: Vec<String> = headline
            .iter()
            .filter(|m| (0..self.archs.len()).all(|i| self.of_arch(i, m) == Lookup::Missing))
            .cloned()
            .collect();
        for p in template::placeholders(text).unwrap_or_default() {
            if self.get(&p.entry, &p.metric) == Lookup::Missing {
                out.push(format!("{}: {}", p.entry, p.metric));
            }
        }
        out
    }

    /// `text` with its placeholders filled from these figures.
    pub fn fill(&self, text: &str) -> String {
        template::fill(text, |p| match self.get(&p.entry, &p.metric) {
            Lookup::Value(v) => format_value(&p.metric, v, p.format),
            Lookup::Undefined => "n/a".into(),
            Lookup::Missing => format!("[no figure `{}: {}`]", p.entry, p.metric),
        })
    }

    /// The headline figures: per name, its display name and each architecture's value as written
    /// ("n/a" when undefined or absent).
    pub fn headline(&self, names: &[String]) -> Vec<HeadlineRow> {
        names
            .iter()
            .map(|m| {
                let values: Vec<Option<f64>> = (0..self.archs.len())
                    .map(|i| match self.of_arch(i, m) {
                        Lookup::Value(v) => Some(v),
                        _ => None,
                    })
                    .collect();
                HeadlineRow {
                    metric: m.clone(),
                    name: display_name(m),
                    cells: values.iter().map(|v| v.map_or("n/a".into(), |v| format_value(m, v, None))).collect(),
                    values,
                }
            })
            .collect()
    }
}

/// One headline figure across the architectures.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadlineRow {
    /// Its metric name.
    pub metric: String,
    /// Its display name.
    pub name: String,
    /// Per architecture, the value as written.
    pub cells: Vec<String>,
    /// Per architecture, the value (`None` when undefined or absent).
    pub values: Vec<Option<f64>>,
}

/// The format a metric is written in when the text does not say: by its name.
pub fn default_format(metric: &str) -> Format {
    let last = metric.rsplit('.').next().unwrap_or(metric);
    if is_share(metric) {
        Format::Percent
    } else if last.ends_with("_ms") || last.ends_with("_s") {
        Format::Time
    } else if last.ends_with("_bits") {
        Format::Bits
    } else if last.contains("bytes") {
        Format::Bytes
    } else if last.contains("degree") {
        Format::Decimal2
    } else {
        Format::Number
    }
}

/// A value of `metric` written in `format` (or the metric's own, [`default_format`]).
pub fn format_value(metric: &str, v: f64, format: Option<Format>) -> String {
    let last = metric.rsplit('.').next().unwrap_or(metric);
    let in_seconds = last.ends_with("_s") && !last.ends_with("_ms");
    match format.unwrap_or_else(|| default_format(metric)) {
        Format::Percent => percent(v),
        Format::Percent0 => format!("{:.0}%", 100.0 * v),
        Format::Time => duration_ms(if in_seconds { v * 1e3 } else { v }),
        Format::Bits => format!("{v:.1} bits"),
        Format::Bytes => bytes(v),
        Format::Count => thousands(v.round()),
        Format::Number if v.fract() == 0.0 && v.abs() < 1e15 => thousands(v),
        Format::Number => sig3(v),
        Format::Decimal2 => format!("{v:.2}"),
    }
}

/// A whole number with thousands separators ("5,800", "-12").
fn thousands(v: f64) -> String {
    let digits = format!("{}", v.abs() as u64);
    let mut out = String::new();
    if v < 0.0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A metric's display name: the tables' names where they have one ("p50 online@send",
/// "all bytes/delivered"), else the path in words without its unit suffix (the value carries the
/// unit): "operator: sender learned", "dht mean hops", "provider servers: mean sojourn".
pub fn display_name(metric: &str) -> String {
    const KNOWN: [(&str, &str); 10] = [
        ("delivery_ratio", "delivered"),
        ("delivered_in_deadline_ratio", "in deadline"),
        ("transmissions_per_delivered", "tx/delivered"),
        ("bytes_per_delivered", "bytes/delivered"),
        ("all_bytes_per_delivered", "all bytes/delivered"),
        ("all_transmissions_per_delivered", "all tx/delivered"),
        ("wakeups_per_device_hour", "wake-ups/device·h"),
        ("connections_per_device_hour", "connections/device·h"),
        ("copies_created", "copies"),
        ("time_stored.mean_ms", "time stored (mean)"),
    ];
    if let Some((_, n)) = KNOWN.iter().find(|(k, _)| *k == metric) {
        return (*n).to_owned();
    }
    let words = |path: &str| -> String {
        path.split('.')
            .map(|seg| {
                let seg = seg.strip_suffix("_ms").or_else(|| seg.strip_suffix("_bits")).unwrap_or(seg);
                let seg = if seg.ends_with("_s") && seg != "_s" { &seg[..seg.len() - 2] } else { seg };
                seg.replace('_', " ")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some((group, stat)) = metric.split_once('.') {
        match group {
            "latency" => return format!("latency {}", words(stat)),
            "latency_online_at_send" => return format!("{} online@send", words(stat)),
            "latency_offline_at_send" => return format!("{} offline@send", words(stat)),
            "exposure" => {
                if let Some((adv, fig)) = stat.split_once('.') {
                    return format!("{adv}: {}", words(fig));
                }
            }
            "model" => {
                if let Some(fig) = stat.strip_prefix("figures.") {
                    return words(fig);
                }
                if let Some((role, fig)) = stat.strip_prefix("servers.").and_then(|s| s.split_once('.')) {
                    return format!("{role} servers: {}", words(fig));
                }
            }
            _ => {}
        }
    }
    words(metric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> Figures {
        let archs = vec![
            serde_json::json!({"name": "a", "delivery_ratio": 0.5, "latency": {"p50_ms": 3800.0, "p95_ms": null},
                "exposure": [{"adversary": "gpa", "anonymity": {"median_entropy_bits": 7.74}, "rooms": null}],
                "deadline_s": 30, "model": {"figures": {"cover_share_of_bytes": 0.999, "mesh_deliveries": 5800}}}),
            serde_json::json!({"name": "b", "delivery_ratio": 1.0, "latency": {"p50_ms": 250.0, "p95_ms": 900.0}}),
        ];
        Figures::from_json(&archs, &serde_json::json!({"users": 300, "online_fraction": 0.25}))
    }

    #[test]
    fn placeholders_are_filled_with_units_issue_13() {
        let f = figures();
        let text = "{a: latency.p50_ms} against {b: latency.p50_ms}; {a: delivery_ratio} and {b: delivery_ratio | pct0}; \
                    {a: exposure.gpa.anonymity.median_entropy_bits}; {a: model.figures.cover_share_of_bytes}; \
                    {a: model.figures.mesh_deliveries}; {a: deadline_s}; {a: exposure.gpa.rooms.share}; {world: users} users; {a: latency.p95_ms}; \
                    {c: delivered}.";
        assert_eq!(
            f.fill(text),
            "3.8 s against 250 ms; 50.0% and 100%; 7.7 bits; 99.9%; 5,800; 30 s; n/a; 300 users; n/a; \
             [no figure `c: delivered`]."
        );
        assert_eq!(f.missing(&["latency.p50_ms".into(), "nope".into()], text), ["nope", "c: delivered"]);
    }

    #[test]
    fn headline_rows_carry_display_names_and_every_architecture() {
        let rows = figures().headline(&["latency.p95_ms".into(), "model.figures.mesh_deliveries".into()]);
        assert_eq!(rows[0].name, "latency p95");
        assert_eq!(rows[0].cells, ["n/a", "900 ms"]);
        assert_eq!(rows[1].name, "mesh deliveries");
        assert_eq!(rows[1].cells, ["5,800", "n/a"]);
        assert_eq!(rows[1].values, [Some(5800.0), None]);
    }

    #[test]
    fn display_names_read_as_words() {
        assert_eq!(display_name("latency_online_at_send.p50_ms"), "p50 online@send");
        assert_eq!(display_name("exposure.operator.sender.learned"), "operator: sender learned");
        assert_eq!(display_name("model.servers.provider.mean_sojourn_ms"), "provider servers: mean sojourn");
        assert_eq!(
            display_name("model.figures.federation_delay_after_recovery_mean_ms"),
            "federation delay after recovery mean"
        );
        assert_eq!(display_name("all_bytes_per_delivered"), "all bytes/delivered");
        assert_eq!(display_name("exposure.gpa.anonymity.median_degree"), "gpa: anonymity median degree");
        assert_eq!(format_value("x.median_degree", 0.9412, None), "0.94");
    }
}
