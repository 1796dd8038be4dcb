//! `results.json`: everything a run measured, with the scenario as resolved, the seed, the
//! command line that reproduces the run and the netarch version. Field names carry their units
//! (`_ms`, `_s`); `null` means undefined.
//!
//! The file is also read back ([`RunFile`]): a run draws its charts and report from the file's
//! text, and `netarch plot` redraws them from the same text, so a redraw is byte-identical.

use serde::{Deserialize, Serialize};

use crate::output::charts::{ChartSet, Frame, LatencyCurves};
use crate::output::figures::Figures;
use crate::results::ArchSummary;
use crate::results::summary::CdfPoint;
use crate::run::{Cdfs, RunResults, WorldSummary};
use crate::scenario::Scenario;
use crate::scenario::schema::RawScenario;

/// The version written into every results file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Serialize)]
struct ResultsDoc<'a> {
    netarch_version: &'static str,
    scenario_name: &'a str,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    scenario: &'a RawScenario,
    world: &'a WorldSummary,
    architectures: &'a [ArchSummary],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    headline: Vec<HeadlineDoc>,
    reading: String,
    latency_cdf: Vec<NamedCdfs<'a>>,
}

/// One headline figure: its metric name, display name and value per architecture.
#[derive(Serialize)]
struct HeadlineDoc {
    metric: String,
    name: String,
    values: Vec<HeadlineValue>,
}

#[derive(Serialize)]
struct HeadlineValue {
    architecture: String,
    value: Option<f64>,
}

/// The figures of a run in memory by metric name, as its results document names them.
pub fn figures_of(results: &RunResults) -> Figures {
    let archs: Vec<serde_json::Value> =
        results.archs.iter().map(|a| serde_json::to_value(a).expect("summaries serialise")).collect();
    Figures::from_json(&archs, &serde_json::to_value(&results.world).expect("the world serialises"))
}

#[derive(Serialize)]
struct NamedCdfs<'a> {
    name: &'a str,
    #[serde(flatten)]
    cdfs: &'a Cdfs,
}

/// The results document, pretty-printed, without a command line.
pub fn results_json(scenario: &Scenario, results: &RunResults) -> String {
    document(scenario, results, None)
}

/// The results document of a run folder: with `command`, the command line that reproduces it.
pub fn results_json_with_command(scenario: &Scenario, results: &RunResults, command: &str) -> String {
    document(scenario, results, Some(command))
}

fn document(scenario: &Scenario, results: &RunResults, command: Option<&str>) -> String {
    let figures = figures_of(results);
    let headline = figures
        .headline(&scenario.raw.explain.headline)
        .into_iter()
        .map(|row| HeadlineDoc {
            metric: row.metric,
            name: row.name,
            values: figures
                .archs
                .iter()
                .zip(row.values)
                .map(|(a, value)| HeadlineValue { architecture: a.clone(), value })
                .collect(),
        })
        .collect();
    let doc = ResultsDoc {
        netarch_version: VERSION,
        scenario_name: scenario.name(),
        seed: scenario.seed(),
        command,
        scenario: &scenario.raw,
        world: &results.world,
        architectures: &results.archs,
        headline,
        reading: super::table::reading(results),
        latency_cdf: results
            .archs
            .iter()
            .zip(&results.cdfs)
            .map(|(a, c)| NamedCdfs { name: &a.name, cdfs: c })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("results serialise");
    text.push('\n');
    text
}

/// A run's `results.json` read back: everything its charts and report show.
#[derive(Clone, Debug)]
pub struct RunFile {
    /// The netarch version that wrote it.
    pub netarch_version: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// The run's seed.
    pub seed: u64,
    /// The command line that reproduces the run (absent from [`results_json`] documents).
    pub command: Option<String>,
    /// The scenario as resolved (defaults filled in, overrides applied).
    pub scenario: RawScenario,
    /// The world's figures: the fields of [`WorldSummary`] by name (kept as JSON, since that
    /// type is only ever written).
    pub world: serde_json::Map<String, serde_json::Value>,
    /// One summary per architecture, in scenario order (see [`ArchSummary`] for what comes back).
    pub archs: Vec<ArchSummary>,
    /// Per architecture, per adversary in scenario order: its name and the share of messages whose
    /// sender-recipient pair it learned (the exposure heatmap's cells).
    pub pairs_learned: Vec<Vec<(String, Option<f64>)>>,
    /// Latency CDFs, one per architecture.
    pub latency: Vec<LatencyCurves>,
    /// Every figure by metric name (headline figures, the explanation's placeholders, the heatmap).
    pub figures: Figures,
    /// The adversaries' labels, in scenario order (empty without adversaries).
    pub adversaries: Vec<String>,
    /// The reading generated from the run's numbers (as the terminal prints it).
    pub reading: String,
}

/// The parts of `results.json` that are read back (serde ignores the others).
#[derive(Deserialize)]
struct FileDoc {
    netarch_version: String,
    scenario_name: String,
    seed: u64,
    #[serde(default)]
    command: Option<String>,
    scenario: RawScenario,
    world: serde_json::Map<String, serde_json::Value>,
    architectures: Vec<FileArch>,
    #[serde(default)]
    reading: String,
    latency_cdf: Vec<FileCurves>,
}

#[derive(Deserialize)]
struct FileArch {
    #[serde(flatten)]
    summary: ArchSummary,
    #[serde(default)]
    exposure: Vec<FileExposure>,
}

#[derive(Deserialize)]
struct FileExposure {
    adversary: String,
    pair: FileLearned,
}

#[derive(Deserialize)]
struct FileLearned {
    learned: Option<f64>,
}

#[derive(Deserialize)]
struct FileCurves {
    name: String,
    #[serde(default)]
    all: Vec<CdfPoint>,
    online_at_send: Vec<CdfPoint>,
    offline_at_send: Vec<CdfPoint>,
}

impl RunFile {
    /// Reads the text of a `results.json`.
    pub fn parse(text: &str) -> Result<RunFile, String> {
        let doc: FileDoc = serde_json::from_str(text)
            .map_err(|e| format!("not a results file this netarch version ({VERSION}) can read ({e})"))?;
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let empty = Vec::new();
        let arch_values = value.get("architectures").and_then(|a| a.as_array()).unwrap_or(&empty);
        let figures = Figures::from_json(arch_values, value.get("world").unwrap_or(&serde_json::Value::Null));
        let adversaries: Vec<String> = doc
            .architectures
            .iter()
            .find(|a| !a.exposure.is_empty())
            .map(|a| a.exposure.iter().map(|e| e.adversary.clone()).collect())
            .unwrap_or_default();
        let (archs, pairs_learned) = doc
            .architectures
            .into_iter()
            .map(|a| (a.summary, a.exposure.into_iter().map(|e| (e.adversary, e.pair.learned)).collect()))
            .unzip();
        let latency = doc
            .latency_cdf
            .into_iter()
            .map(|c| LatencyCurves::new(c.name, c.all, c.online_at_send, c.offline_at_send))
            .collect();
        Ok(RunFile {
            netarch_version: doc.netarch_version,
            scenario_name: doc.scenario_name,
            seed: doc.seed,
            command: doc.command,
            scenario: doc.scenario,
            world: doc.world,
            archs,
            pairs_learned,
            latency,
            figures,
            adversaries,
            reading: doc.reading,
        })
    }

    /// The architectures' labels, in scenario order.
    pub fn arch_names(&self) -> Vec<String> {
        self.archs.iter().map(|a| a.name.clone()).collect()
    }

    /// The delivery deadline, seconds.
    pub fn deadline_s(&self) -> f64 {
        self.scenario.deadline.0.as_secs_f64()
    }

    /// The chart data of the run, with the exposure heatmap when the run had adversaries.
    pub fn chart_set(&self) -> ChartSet {
        let frame = Frame { scenario: self.scenario_name.clone(), seed: self.seed, archs: self.arch_names() };
        let mut set = ChartSet::from_summaries(frame, self.deadline_s(), &self.archs, self.latency.clone());
        let metric = self.scenario.explain.heatmap.as_deref().unwrap_or(super::DEFAULT_HEATMAP);
        set.exposure = super::heatmap_matrix(&self.figures, &self.adversaries, metric);
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::charts::tests::tiny;
    use crate::scenario::{builtin, load, parse};

    /// A summary as JSON, without the parts that are written but not read back.
    fn shown(mut v: serde_json::Value) -> serde_json::Value {
        for k in ["model", "visibility", "engine", "exposure"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    }

    #[test]
    fn a_results_file_reads_back_what_the_charts_and_report_show() {
        let (s, r) = tiny();
        let text = results_json_with_command(&s, &r, "netarch run tiny.toml --seed 7");
        let file = RunFile::parse(&text).unwrap();
        assert_eq!((file.scenario_name.as_str(), file.seed, file.netarch_version.as_str()), ("tiny", 7, VERSION));
        assert_eq!(file.command.as_deref(), Some("netarch run tiny.toml --seed 7"));
        assert_eq!(serde_json::Value::Object(file.world.clone()), serde_json::to_value(&r.world).unwrap());
        assert_eq!(file.archs.len(), r.archs.len());
        // Every figure comes back as the file has it (serde_json reads some decimals back one
        // unit in the last place off the value written, so compare with the file, not the run).
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (i, (read, orig)) in file.archs.iter().zip(&r.archs).enumerate() {
            assert_eq!(
                shown(serde_json::to_value(read).unwrap()),
                shown(doc["architectures"][i].clone()),
                "{}",
                orig.name
            );
            assert_eq!(read.lost_by_reason, orig.lost_by_reason);
        }
        let live = ChartSet::from_run(&s, &r);
        let back = file.chart_set();
        assert_eq!(back.frame, live.frame);
        assert_eq!(back.latency.len(), live.latency.len());
        for (b, l) in back.latency.iter().zip(&live.latency) {
            assert_eq!(b.arch, l.arch);
            assert_eq!(
                (b.copies_created, b.delivered, b.delivered_offline_at_send),
                (l.copies_created, l.delivered, l.delivered_offline_at_send)
            );
            for (bs, ls) in
                [(&b.all, &l.all), (&b.online_at_send, &l.online_at_send), (&b.offline_at_send, &l.offline_at_send)]
            {
                assert_eq!(bs.len(), ls.len());
                for (x, y) in bs.iter().zip(ls) {
                    assert!((x.latency_ms - y.latency_ms).abs() <= 1e-12 * y.latency_ms.abs(), "{x:?} {y:?}");
                    assert!((x.cumulative - y.cumulative).abs() <= 1e-15, "{x:?} {y:?}");
                }
            }
        }
        assert_eq!(back.deadline_s, live.deadline_s);
        assert!(back.exposure.is_none(), "no adversary, no heatmap");
        assert_eq!(RunFile::parse(&results_json(&s, &r)).unwrap().command, None, "the command is optional");
        assert!(RunFile::parse("{}").is_err());
    }

    #[test]
    fn every_builtin_scenario_reads_back_from_json_as_it_was() {
        // The report shows the resolved scenario as TOML from the file: it must be the scenario
        // that ran, whatever keys it uses.
        for b in builtin::BUILTINS {
            let s = parse(&load(b.name).unwrap(), &[]).unwrap_or_else(|e| panic!("{}: {e}", b.name));
            let json = serde_json::to_string_pretty(&s.raw).unwrap();
            let back: RawScenario = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", b.name));
            assert_eq!(toml::to_string(&back).unwrap(), toml::to_string(&s.raw).unwrap(), "{}", b.name);
        }
    }
}
