//! Run files and the tidy table: what one run of a sweep saves (`points/<run>.json`), and the
//! flattening of every saved run into `tidy.csv`, one row per point × replicate × architecture ×
//! metric, ready for pandas (`pd.read_csv`) or R (`read.csv`).
//!
//! Metrics are not listed by hand: each architecture's summary is serialised with serde and every
//! numeric leaf becomes a metric named by its dotted path (`latency.p95_ms`,
//! `lost_by_reason.retention_expired`, `model.figures.path_retries`, `model.servers.provider.utilisation`),
//! so a field added to the summary (exposure figures, a new loss reason) appears in sweeps without
//! a change here. A list of records with distinct labels is keyed by label, not position
//! (`exposure.<adversary>.pair.share`, `model.servers.provider.utilisation`), so names do not change
//! when the list is reordered. A `null` leaf (undefined, such as a percentile of no deliveries) is a row with an
//! empty value, never 0. Rows are sorted by point, replicate, architecture (scenario order) and
//! metric name, and every value is written in Rust's shortest round-trip form, so the table is
//! byte-identical however the runs were scheduled or sharded.

use std::path::Path;

use serde::Serialize;

use super::plan::{Plan, RunId};
use super::{SweepError, io};
use crate::metrics::ArchSummary;
pub use crate::metrics::leaves::flatten;
use crate::run::{RunResults, WorldSummary};

/// The contents of one run file.
#[derive(Serialize)]
struct RunDoc<'a> {
    netarch_version: &'static str,
    point: u64,
    replicate: u32,
    seed: u64,
    values: Vec<KeyValue>,
    world: &'a WorldSummary,
    architectures: &'a [ArchSummary],
}

#[derive(Serialize)]
struct KeyValue {
    key: String,
    value: super::plan::SweepValue,
}

/// The run file of run `id`: its point's values, its seed, the world's figures and every
/// architecture's summary (exactly what `results.json` holds for them).
pub fn run_json(plan: &Plan, id: RunId, results: &RunResults) -> String {
    let doc = RunDoc {
        netarch_version: env!("CARGO_PKG_VERSION"),
        point: id.point,
        replicate: id.replicate,
        seed: plan.seed_of(id),
        values: plan
            .vary
            .iter()
            .zip(plan.values_at(id.point))
            .map(|(v, x)| KeyValue { key: v.key.clone(), value: x.clone() })
            .collect(),
        world: &results.world,
        architectures: &results.archs,
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("run summaries serialise");
    text.push('\n');
    text
}

/// The numeric figures of one run: per architecture (in plan order), (metric, value) sorted by
/// metric name.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFigures {
    /// Which run.
    pub id: RunId,
    /// Its seed.
    pub seed: u64,
    /// Per architecture, its metrics.
    pub archs: Vec<Vec<(String, Option<f64>)>>,
}

/// Reads a run file and checks that it is run `id` of this plan.
pub fn read_run(path: &Path, plan: &Plan, id: RunId) -> Result<RunFigures, SweepError> {
    let text = io(path, std::fs::read_to_string(path))?;
    parse_run(&text, plan, id).map_err(|message| SweepError::Corrupt { path: path.to_path_buf(), message })
}

/// Parses a run file's text and checks it against the plan.
pub fn parse_run(text: &str, plan: &Plan, id: RunId) -> Result<RunFigures, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not a run file ({e})"))?;
    let field = |k: &str| doc.get(k).ok_or_else(|| format!("no `{k}` field"));
    let version = field("netarch_version")?.as_str().unwrap_or_default();
    if version != plan.netarch_version {
        return Err(format!("written by netarch {version}, but this sweep is netarch {}", plan.netarch_version));
    }
    let (point, replicate, seed) = (field("point")?.as_u64(), field("replicate")?.as_u64(), field("seed")?.as_u64());
    if point != Some(id.point) || replicate != Some(id.replicate as u64) || seed != Some(plan.seed_of(id)) {
        return Err(format!(
            "expected point {} replicate {} seed {}, found {point:?} {replicate:?} {seed:?}",
            id.point,
            id.replicate,
            plan.seed_of(id)
        ));
    }
    let archs = field("architectures")?.as_array().ok_or("`architectures` is not a list")?;
    let names: Vec<&str> = archs.iter().map(|a| a.get("name").and_then(|n| n.as_str()).unwrap_or("")).collect();
    if names != plan.archs.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!("architectures {names:?}, but the plan runs {:?}", plan.archs));
    }
    Ok(RunFigures { id, seed: plan.seed_of(id), archs: archs.iter().map(flatten).collect() })
}

/// A value cell: Rust's shortest round-trip form (no exponent), empty when undefined.
pub fn cell(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// The columns before the varied keys.
const LEAD: [&str; 3] = ["point", "replicate", "seed"];
/// The columns after them.
const TAIL: [&str; 4] = ["arch", "kind", "metric", "value"];

/// `tidy.csv` of runs (which must be in run order).
pub fn tidy_csv(plan: &Plan, runs: &[RunFigures]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = LEAD.iter().copied().chain(plan.vary.iter().map(|v| v.key.as_str())).chain(TAIL).collect();
    w.write_record(&header).expect("writing to memory cannot fail");
    for run in runs {
        let values: Vec<String> = plan.values_at(run.id.point).iter().map(|v| v.to_string()).collect();
        for (a, metrics) in run.archs.iter().enumerate() {
            for (metric, value) in metrics {
                let mut row = vec![run.id.point.to_string(), run.id.replicate.to_string(), run.seed.to_string()];
                row.extend(values.iter().cloned());
                row.extend([plan.archs[a].clone(), plan.kinds[a].clone(), metric.clone(), cell(*value)]);
                w.write_record(&row).expect("writing to memory cannot fail");
            }
        }
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 fields is UTF-8")
}

/// Reads `tidy.csv` back into run figures (for redrawing charts without the run files).
pub fn read_tidy(path: &Path, plan: &Plan) -> Result<Vec<RunFigures>, SweepError> {
    let text = io(path, std::fs::read_to_string(path))?;
    parse_tidy(&text, plan).map_err(|message| SweepError::Corrupt { path: path.to_path_buf(), message })
}

/// Parses the text of `tidy.csv`.
pub fn parse_tidy(text: &str, plan: &Plan) -> Result<Vec<RunFigures>, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| header.iter().position(|h| h == name).ok_or_else(|| format!("no `{name}` column"));
    let (cp, cr, cs, ca, cm, cv) =
        (col("point")?, col("replicate")?, col("seed")?, col("arch")?, col("metric")?, col("value")?);
    let mut runs: Vec<RunFigures> = Vec::new();
    for (line, record) in r.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        let bad = |what: &str| format!("row {}: bad {what}", line + 2);
        let id = RunId {
            point: record[cp].parse().map_err(|_| bad("point"))?,
            replicate: record[cr].parse().map_err(|_| bad("replicate"))?,
        };
        let arch = plan.archs.iter().position(|a| a == &record[ca]).ok_or_else(|| bad("arch"))?;
        let value =
            if record[cv].is_empty() { None } else { Some(record[cv].parse::<f64>().map_err(|_| bad("value"))?) };
        if runs.last().is_none_or(|r| r.id != id) {
            let seed = record[cs].parse().map_err(|_| bad("seed"))?;
            runs.push(RunFigures { id, seed, archs: vec![Vec::new(); plan.archs.len()] });
        }
        let run = runs.last_mut().expect("just pushed");
        run.archs[arch].push((record[cm].to_owned(), value));
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_names_leaves_by_path_and_keeps_nulls() {
        let v = serde_json::json!({
            "name": "x",
            "delivered": 3,
            "latency": { "p50_ms": 1.5, "p95_ms": null },
            "model": { "servers": [ { "role": "p", "served": 2 } ], "figures": { "b": 0.25 } },
            "exposure": [ { "adversary": "isp.eu", "pair": { "share": 0.5 } }, { "adversary": "gpa", "pair": { "share": 1 } } ],
            "twins": [ { "role": "x", "n": 1 }, { "role": "x", "n": 2 } ],
            "flag": true
        });
        let f = flatten(&v);
        assert_eq!(
            f,
            vec![
                ("delivered".into(), Some(3.0)),
                ("exposure.gpa.pair.share".into(), Some(1.0)),
                ("exposure.isp_eu.pair.share".into(), Some(0.5)),
                ("latency.p50_ms".into(), Some(1.5)),
                ("latency.p95_ms".into(), None),
                ("model.figures.b".into(), Some(0.25)),
                ("model.servers.p.served".into(), Some(2.0)),
                ("twins.0.n".into(), Some(1.0)),
                ("twins.1.n".into(), Some(2.0)),
            ]
        );
    }

    #[test]
    fn cells_round_trip_without_exponents() {
        for x in [0.1 + 0.2, 1e-7, 123456789.0, 1.0 / 3.0, 2.0] {
            let c = cell(Some(x));
            assert!(!c.contains('e'), "{c}");
            assert_eq!(c.parse::<f64>().unwrap(), x);
        }
        assert_eq!(cell(Some(2.0)), "2");
        assert_eq!(cell(None), "");
    }
}
