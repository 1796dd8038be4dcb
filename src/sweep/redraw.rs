//! The outputs derived from a sweep's runs — `tidy.csv`, `aggregate.csv`, the charts and the
//! report — and `netarch plot`, which redraws a folder's charts and report from its saved results
//! without running anything.
//!
//! A sweep folder is redrawn from `sweep.json` and `tidy.csv`; a run folder from `results.json`
//! (by [`crate::output::draw_run`], which drew the run folder in the first place).
//! Chart data is built here from the tables; drawing is [`crate::output::charts`]'s. Each chart
//! puts the first varied key on the x axis: at its values' numbers when they are numbers (durations
//! in a readable unit, on a log scale when they span a factor of ten or more), else in the order
//! given. With more than one varied key, each combination of the others' values gets its own chart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::aggregate::{Aggregate, Stats, aggregate, aggregate_csv};
use super::plan::Plan;
use super::tidy::{RunFigures, read_tidy, tidy_csv};
use super::{SweepDoc, SweepError, io, layout, write_atomic};
use crate::output::charts::Frame;
use crate::output::charts::sweep::{SweepAxis, SweepChart, SweepLine, SweepPoint, write_sweep_charts};
use crate::output::draw_run;
use crate::output::json::RunFile;
use crate::scenario::sweep_table::Unit;

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct Written {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Things the user should know (a metric to chart that no run has).
    pub warnings: Vec<String>,
    /// Aggregates of the charted metrics, for the terminal summary.
    pub aggregates: Vec<Aggregate>,
}

/// Writes the tables (when `tables`), charts and report of a sweep's runs (in run order) into
/// `folder`.
pub fn write_outputs(folder: &Path, plan: &Plan, runs: &[RunFigures], tables: bool) -> Result<Written, SweepError> {
    let aggs = aggregate(plan, runs);
    let mut written = Written::default();
    if tables {
        let tidy = folder.join(layout::TIDY);
        write_atomic(&tidy, tidy_csv(plan, runs).as_bytes())?;
        let agg = folder.join(layout::AGGREGATE);
        write_atomic(&agg, aggregate_csv(plan, &aggs).as_bytes())?;
        written.files.extend([tidy, agg]);
    }
    let (charts, warnings) = sweep_charts(plan, &aggs);
    written.warnings = warnings;
    let dir = folder.join(layout::CHARTS);
    io(&dir, std::fs::create_dir_all(&dir))?;
    let drawn = write_sweep_charts(&dir, &charts)?;
    for d in &drawn {
        written.files.extend([d.svg_path.clone(), d.png_path.clone(), d.pdf_path.clone()]);
    }
    let stems: Vec<String> = charts.iter().map(|c| c.file_stem.clone()).collect();
    remove_stale_charts(&dir, &stems)?;
    let pairs: Vec<(String, String)> = drawn.iter().map(|d| (d.title.clone(), d.svg.clone())).collect();
    let report = folder.join(layout::REPORT);
    write_atomic(&report, super::report::render(plan, &aggs, &pairs, runs.len() as u64).as_bytes())?;
    written.files.push(report);
    written.aggregates = aggs.into_iter().filter(|a| plan.metrics.contains(&a.metric)).collect();
    Ok(written)
}

/// The sweep charts of a plan: one per charted metric (and per combination of the values of the
/// keys after the first), plus warnings for metrics no run has.
pub fn sweep_charts(plan: &Plan, aggs: &[Aggregate]) -> (Vec<SweepChart>, Vec<String>) {
    let mut by_key: HashMap<(u64, usize, &str), &Stats> = HashMap::new();
    for a in aggs {
        by_key.insert((a.point, a.arch, a.metric.as_str()), &a.stats);
    }
    let known: std::collections::BTreeSet<&str> = aggs.iter().map(|a| a.metric.as_str()).collect();
    let frame = Frame { scenario: plan.scenario_name.clone(), seed: plan.base_seed, archs: plan.archs.clone() };
    let first = &plan.vary[0];
    let axis = axis(&first.key, &first.values.iter().map(|v| (v.to_string(), v.numeric())).collect::<Vec<_>>());
    let n = first.values.len() as u64;
    let facets = plan.points() / n;
    let mut charts = Vec::new();
    let mut warnings = Vec::new();
    for metric in &plan.metrics {
        if !known.contains(metric.as_str()) {
            let tail = metric.rsplit('.').next().unwrap_or(metric);
            let near: Vec<&str> = known.iter().copied().filter(|k| k.contains(tail)).take(5).collect();
            warnings.push(format!(
                "no run has the metric `{metric}`, so it is not charted{}",
                if near.is_empty() { String::new() } else { format!(" (did you mean {}?)", near.join(", ")) }
            ));
            continue;
        }
        let slug: String = metric.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let (scale, y_label) = y_unit(
            metric,
            aggs.iter().filter(|a| &a.metric == metric).filter_map(|a| a.stats.ci_high.or(a.stats.mean)),
        );
        for f in 0..facets {
            let fixed: Vec<String> = if facets > 1 {
                let point = f; // x index 0: the facet's first point
                plan.vary[1..]
                    .iter()
                    .zip(&plan.values_at(point)[1..])
                    .map(|(v, x)| format!("{} = {x}", v.key))
                    .collect()
            } else {
                Vec::new()
            };
            let lines = plan
                .archs
                .iter()
                .enumerate()
                .map(|(a, arch)| SweepLine {
                    arch: arch.clone(),
                    points: (0..n)
                        .map(|i| {
                            let s = by_key.get(&(i * facets + f, a, metric.as_str()))?;
                            let mean = s.mean? / scale;
                            let (low, high) =
                                (s.ci_low.map_or(mean, |v| v / scale), s.ci_high.map_or(mean, |v| v / scale));
                            Some(SweepPoint { mean, low, high })
                        })
                        .collect(),
                })
                .collect();
            let mut caption = format!("{} against {}", crate::output::names::display_name(metric), first.key);
            if !fixed.is_empty() {
                caption.push_str(&format!(" ({})", fixed.join(", ")));
            }
            let mut notes = vec![if plan.replicates > 1 {
                format!("line: mean of {} replicates; band: its 95% confidence interval", plan.replicates)
            } else {
                "one replicate per point: no confidence interval".to_owned()
            }];
            notes.push(format!("metric: {metric}"));
            notes.extend(fixed);
            charts.push(SweepChart {
                frame: frame.clone(),
                file_stem: if facets > 1 { format!("sweep-{slug}-{}", f + 1) } else { format!("sweep-{slug}") },
                caption,
                metric: y_label.clone(),
                x: axis.clone(),
                lines,
                notes,
            });
        }
    }
    (charts, warnings)
}

/// The unit a metric is drawn in, from the largest value to draw (divisor, axis title): the
/// display name with its unit ([`crate::output::names`]), e.g. "p95 latency (h)", "delivered (%)".
fn y_unit(metric: &str, values: impl Iterator<Item = f64>) -> (f64, String) {
    let max = values.fold(0.0, f64::max);
    let (div, _) = crate::output::names::axis_unit(metric, max);
    (div, crate::output::names::display_with_unit(metric, max))
}

/// The x axis of a key's values: numbers where they all are numbers of one kind, else their order.
fn axis(key: &str, values: &[(String, Option<(f64, Unit)>)]) -> SweepAxis {
    let ticks: Vec<String> = values.iter().map(|(t, _)| t.clone()).collect();
    let unit = values.first().and_then(|(_, n)| n.map(|x| x.1));
    let numeric = unit.is_some() && values.iter().all(|(_, n)| n.map(|x| x.1) == unit);
    if !numeric {
        return SweepAxis {
            label: format!("{key} (in the order given)"),
            positions: (0..values.len()).map(|i| i as f64).collect(),
            ticks,
            log: false,
        };
    }
    // Ticks keep the values as written ("30min", "1KB"), so positions need no unit of their own.
    let positions: Vec<f64> = values.iter().map(|(_, n)| n.expect("numeric").0).collect();
    let min = positions.iter().copied().fold(f64::INFINITY, f64::min);
    let top = positions.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log = min > 0.0 && top / min >= 10.0;
    SweepAxis { label: format!("{key}{}", if log { " (log scale)" } else { "" }), ticks, positions, log }
}

/// Removes the charts an earlier drawing listed in `charts/.netarch-charts` that this drawing
/// did not redraw (`netarch plot --metric` charting other metrics), then lists `stems` there.
/// Only files of listed stems with a chart extension are removed: a file netarch did not write
/// is never touched (issue 13, item 11).
fn remove_stale_charts(dir: &Path, stems: &[String]) -> Result<(), SweepError> {
    let manifest = dir.join(layout::CHART_LIST);
    let before = std::fs::read_to_string(&manifest).unwrap_or_default();
    for old in before.lines().filter(|l| !l.is_empty() && !stems.iter().any(|s| s == l)) {
        // A listed name is a chart stem netarch made from a metric: no separators.
        if old.contains(['/', '\\']) || old.starts_with('.') {
            continue;
        }
        for ext in crate::output::charts::CHART_EXTENSIONS {
            let path = dir.join(format!("{old}.{ext}"));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return io(&path, Err(e)),
            }
        }
    }
    let mut list = stems.join("\n");
    list.push('\n');
    write_atomic(&manifest, list.as_bytes())?;
    Ok(())
}

/// Redraws a folder's charts and report from its saved results: a sweep folder
/// (`sweep.json`, `tidy.csv`) or a run folder (`results.json`). `metrics` replaces a sweep's
/// charted metrics when not empty. Returns what was written.
pub fn plot(folder: &Path, metrics: &[String]) -> Result<Written, SweepError> {
    if folder.join(layout::PLAN).is_file() {
        let mut plan = SweepDoc::read(folder)?.plan;
        if !metrics.is_empty() {
            plan.metrics = metrics.to_vec();
        }
        let tidy = folder.join(layout::TIDY);
        if !tidy.is_file() {
            return Err(SweepError::Folder {
                path: folder.to_path_buf(),
                message:
                    "has no tidy.csv yet: the sweep is unfinished (--resume it) or is one shard (merge the shards)"
                        .into(),
            });
        }
        let runs = read_tidy(&tidy, &plan)?;
        write_outputs(folder, &plan, &runs, false)
    } else if folder.join("results.json").is_file() {
        let files = plot_run(folder)?;
        Ok(Written { files, ..Written::default() })
    } else {
        Err(SweepError::Folder {
            path: folder.to_path_buf(),
            message: "is neither a run folder (results.json) nor a sweep folder (sweep.json)".into(),
        })
    }
}

/// Redraws a run folder's charts and `report.html` from its `results.json`, byte-identical to
/// what the run wrote (the run drew them from the same text).
pub fn plot_run(folder: &Path) -> Result<Vec<PathBuf>, SweepError> {
    let path = folder.join("results.json");
    let text = io(&path, std::fs::read_to_string(&path))?;
    let file = RunFile::parse(&text).map_err(|message| SweepError::Corrupt { path: path.clone(), message })?;
    Ok(draw_run(folder, &file)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(x: f64, u: Unit) -> Option<(f64, Unit)> {
        Some((x, u))
    }

    #[test]
    fn axes_use_numbers_units_and_log_scales_where_they_fit() {
        let a = axis("k", &[("0".into(), n(0.0, Unit::Plain)), ("0.5".into(), n(0.5, Unit::Plain))]);
        assert_eq!((a.positions.clone(), a.log, a.label.as_str()), (vec![0.0, 0.5], false, "k"));
        let a = axis("m", &[("15min".into(), n(900.0, Unit::Seconds)), ("4h".into(), n(14_400.0, Unit::Seconds))]);
        assert_eq!(a.positions, vec![900.0, 14_400.0]);
        assert!(a.log && a.label == "m (log scale)", "{a:?}");
        let a = axis("p", &[("uniform".into(), None), ("bandwidth".into(), None)]);
        assert_eq!(a.positions, vec![0.0, 1.0]);
        assert_eq!(a.ticks, vec!["uniform", "bandwidth"]);
        let mixed = axis("x", &[("1".into(), n(1.0, Unit::Plain)), ("1h".into(), n(3600.0, Unit::Seconds))]);
        assert_eq!(mixed.positions, vec![0.0, 1.0], "mixed units fall back to order");
    }
}
