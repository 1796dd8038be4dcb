//! Checks, before a run, the metric names a scenario's explanation uses: its headline figures,
//! its heatmap figure and the placeholders of its `shows` text (see [`crate::template`]).
//!
//! A metric name is a path into a run's summary, so only its shape can be checked before the
//! run: the first segment (a field of every summary), a world figure's name and, for
//! `exposure.<adversary>...`, the adversary's label. An architecture label the scenario does not
//! have is left to the run (an override may have renamed the entry). What lies deeper (a model's
//! own figures, say) depends on the architecture and is checked after the run, which warns
//! (`netarch run`) and writes "n/a" in its place.

use crate::metrics::leaves::{SUMMARY_FIELDS, is_share, label_key};
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::schema::RawScenario;
use crate::template::{self, WORLD};

/// The fields of the world's summary (`{world: users}`).
pub const WORLD_FIELDS: [&str; 6] =
    ["users", "contact_edges", "rooms", "always_online_share", "online_fraction", "users_per_region"];

/// Checks the explanation's metric names against the scenario's architectures and adversaries.
pub fn check(raw: &RawScenario, archs: &[String], adversaries: &[String], p: &mut Vec<Problem>) {
    let at = KeyPath::root().key("explain");
    for (i, name) in raw.explain.headline.iter().enumerate() {
        if let Err(e) = metric(name, adversaries) {
            p.push(Problem::new(at.key("headline").index(i), e.0).hint(e.1));
        }
    }
    if let Some(h) = &raw.explain.heatmap {
        let full = format!("exposure.{}.{h}", adversaries.first().map_or("x".into(), |a| label_key(a)));
        if !is_share(h) || metric(&full, adversaries).is_err() || h.starts_with("exposure.") {
            p.push(
                Problem::new(at.key("heatmap"), format!("`{h}` is not an exposure share the heatmap can show"))
                    .hint("name a share after `exposure.<adversary>.`, e.g. \"pair.learned\", \"sender.learned\", \"addresses.seen\", \"rooms.share\""),
            );
        }
    }
    match template::placeholders(&raw.explain.shows) {
        Err(e) => p.push(
            Problem::new(at.key("shows"), format!("{} (at character {} of the text)", e.message, e.at + 1))
                .hint("placeholders read `{<architecture>: <metric>}` or `{<architecture>: <metric> | <format>}`"),
        ),
        Ok(list) => {
            for f in list {
                let problem = if f.entry == WORLD {
                    (!WORLD_FIELDS.contains(&f.metric.split('.').next().unwrap_or(""))).then(|| {
                        (
                            format!("the world has no figure `{}`", f.metric),
                            format!("the world's figures: {}", WORLD_FIELDS.join(", ")),
                        )
                    })
                } else if !archs.contains(&f.entry) {
                    // Not an error: `--set arch.0.name=...` (a sweep's table does) renames an entry
                    // the text names; the run warns and writes "[no figure ...]" in its place.
                    None
                } else {
                    metric(&f.metric, adversaries).err()
                };
                if let Some((message, hint)) = problem {
                    p.push(Problem::new(at.key("shows"), message).hint(hint));
                }
            }
        }
    }
}

/// Checks the shape of an architecture metric name; the error is (message, hint).
fn metric(name: &str, adversaries: &[String]) -> Result<(), (String, String)> {
    let mut parts = name.splitn(3, '.');
    let first = parts.next().unwrap_or("");
    if !SUMMARY_FIELDS.contains(&first) {
        return Err((
            format!("`{name}` is not a metric: a summary has no field `{first}`"),
            format!("metric names are dotted paths as in tidy.csv; near: {}", near(first, SUMMARY_FIELDS)),
        ));
    }
    if first == "exposure" {
        let adv = parts.next().unwrap_or("");
        let keys: Vec<String> = adversaries.iter().map(|a| label_key(a)).collect();
        if !keys.iter().any(|k| k == adv) {
            return Err((
                format!("`{name}` names no adversary of this scenario (`{adv}`)"),
                format!(
                    "write `exposure.<adversary>.<figure>` with one of: {}",
                    if keys.is_empty() { "(none declared)".into() } else { keys.join(", ") }
                ),
            ));
        }
        if parts.next().is_none_or(str::is_empty) {
            return Err((format!("`{name}` names an adversary but no figure"), "e.g. `.pair.learned`".into()));
        }
    }
    Ok(())
}

/// The names of `known` closest to `word` (sharing its first word, or containing it), at most four.
fn near(word: &str, known: &[&str]) -> String {
    let stem = word.split('_').next().unwrap_or(word);
    let mut close: Vec<&str> =
        known.iter().copied().filter(|k| k.starts_with(stem) || k.contains(word) || word.contains(k)).take(4).collect();
    if close.is_empty() {
        close = known.iter().copied().take(6).collect();
    }
    close.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_checked_by_shape() {
        let adv = vec!["operator".to_owned(), "isp.eu".to_owned()];
        assert!(metric("latency.p50_ms", &adv).is_ok());
        assert!(metric("model.figures.dht_mean_hops", &adv).is_ok());
        assert!(metric("exposure.isp_eu.addresses.seen", &adv).is_ok());
        let e = metric("latncy.p50_ms", &adv).unwrap_err();
        assert!(e.0.contains("no field `latncy`"), "{e:?}");
        let e = metric("exposure.gpa.pair.learned", &adv).unwrap_err();
        assert!(e.1.contains("operator, isp_eu"), "{e:?}");
        assert!(metric("exposure.operator", &adv).is_err());
        assert!(near("delivery", SUMMARY_FIELDS).contains("delivery_ratio"));
    }
}
