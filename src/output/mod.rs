//! Outputs of a run: the run folder (JSON, CSV, charts, report) and the terminal summary.
//!
//! A run folder is written whole or not at all: everything goes into a hidden temporary folder
//! beside the destination, which is renamed into place only when every file is complete. An
//! interrupted or failed run leaves the previous folder (if any) untouched, and a destination
//! that is not a run folder netarch wrote is never replaced ([`destination`]).

pub mod charts;
pub mod csv;
pub mod destination;
pub mod figures;
pub mod json;
pub mod names;
pub mod report;
pub mod table;
pub mod trace;

use std::path::{Path, PathBuf};

use crate::run::RunResults;
use crate::scenario::Scenario;
pub use destination::{FolderKind, Staging};

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file or folder could not be created, written or renamed.
    #[error("cannot write {path}: {error}")]
    Io {
        /// The path at fault.
        path: PathBuf,
        /// The system's reason.
        error: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("cannot draw {what}: {message}")]
    Chart {
        /// Which chart.
        what: String,
        /// Why.
        message: String,
    },
    /// The destination holds something netarch must not replace (exit code 2: choose another
    /// `--out`).
    #[error("{}: {message}", .path.display())]
    Refused {
        /// The destination.
        path: PathBuf,
        /// What is there, and how to proceed.
        message: String,
    },
    /// A results file does not read back as one this version wrote.
    #[error("cannot read back {path}: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Wraps an I/O result with the path it concerns.
pub fn io<T>(path: &Path, r: std::io::Result<T>) -> Result<T, OutputError> {
    r.map_err(|error| OutputError::Io { path: path.to_path_buf(), error })
}

/// The data files of a run folder, by name, as bytes (deterministic for a given scenario and
/// seed); `results.json` without the command line, which [`write_run_folder`] adds.
pub fn run_files(scenario: &Scenario, results: &RunResults) -> Vec<(String, Vec<u8>)> {
    data_files(results, json::results_json(scenario, results))
}

/// The data files of a run folder around its `results.json` text.
fn data_files(results: &RunResults, results_json: String) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("results.json".into(), results_json.into_bytes()),
        ("summary.csv".into(), csv::summary_csv(results).into_bytes()),
        ("latency.csv".into(), csv::latency_csv(results).into_bytes()),
    ];
    if results.archs.iter().any(|a| !a.exposure.is_empty()) {
        files.push(("exposure.csv".into(), csv::exposure_csv(results).into_bytes()));
    }
    files
}

/// The exposure figure the heatmap shows when the scenario does not pick one
/// (`explain.heatmap`): the share of messages whose sender-recipient pair the adversary learned.
pub const DEFAULT_HEATMAP: &str = "pair.learned";

/// The heatmap's data of a run in memory, with the scenario's choice of figure.
pub fn exposure_matrix(scenario: &Scenario, results: &RunResults) -> Option<charts::ExposureMatrix> {
    let adversaries: Vec<String> = scenario.adversaries.iter().map(|a| a.name.clone()).collect();
    let metric = scenario.raw.explain.heatmap.as_deref().unwrap_or(DEFAULT_HEATMAP);
    heatmap_matrix(&json::figures_of(results), &adversaries, metric)
}

/// The heatmap's data: one row per adversary (in scenario order), one column per architecture,
/// each cell the share `exposure.<adversary>.<metric>` (`None` where the architecture has
/// nothing for it to watch). `None` without adversaries.
pub fn heatmap_matrix(
    figures: &figures::Figures,
    adversaries: &[String],
    metric: &str,
) -> Option<charts::ExposureMatrix> {
    if adversaries.is_empty() {
        return None;
    }
    let values = adversaries
        .iter()
        .map(|adv| {
            let name = format!("exposure.{}.{metric}", crate::metrics::leaves::label_key(adv));
            (0..figures.archs.len())
                .map(|i| match figures.of_arch(i, &name) {
                    figures::Lookup::Value(v) if (0.0..=1.0).contains(&v) => Some(v),
                    _ => None,
                })
                .collect()
        })
        .collect();
    Some(charts::ExposureMatrix {
        metric: heatmap_caption(metric),
        adversaries: adversaries.to_vec(),
        archs: figures.archs.clone(),
        values,
    })
}

/// What a heatmap cell holds, in words.
fn heatmap_caption(metric: &str) -> String {
    match metric {
        "pair.learned" => "share of messages whose sender-recipient pair the adversary learns".into(),
        "sender.learned" => "share of messages whose sender the adversary learns".into(),
        "recipient.learned" => "share of messages whose recipient the adversary learns".into(),
        "sender.identity" => "share of messages whose sender's identity the adversary reads".into(),
        "addresses.seen" => "share of users whose IP address the adversary sees".into(),
        "addresses.identified" => "share of users whose IP address the adversary ties to their account".into(),
        "rooms.share" => "share of room memberships the adversary learns".into(),
        other => {
            format!("exposure: {}", figures::display_name(&format!("exposure.x.{other}")).trim_start_matches("x: "))
        }
    }
}

/// Writes a whole run folder into `dest` — data files, charts and `report.html` — and returns
/// the folder's path. `command` is the command line that reproduces the run, for
/// `results.json` and the report.
pub fn write_run_folder(
    dest: &Path,
    scenario: &Scenario,
    results: &RunResults,
    command: &str,
) -> Result<PathBuf, OutputError> {
    write_run_into(Staging::new(dest, &RUN_FOLDER)?, scenario, results, command)
}

/// Writes a whole run folder through a [`Staging`] taken before the run (so a destination that
/// cannot be written fails before anything is simulated) and returns the folder's path.
pub fn write_run_into(
    staging: Staging,
    scenario: &Scenario,
    results: &RunResults,
    command: &str,
) -> Result<PathBuf, OutputError> {
    write_run_with(staging, scenario, results, command, &[])
}

/// [`write_run_into`] with `extra` files (name, bytes) written into the folder too (a run with
/// replicates adds its tables).
pub fn write_run_with(
    staging: Staging,
    scenario: &Scenario,
    results: &RunResults,
    command: &str,
    extra: &[(String, Vec<u8>)],
) -> Result<PathBuf, OutputError> {
    for (name, bytes) in extra {
        staging.write(name, bytes)?;
    }
    let text = json::results_json_with_command(scenario, results, command);
    // Charts and report are drawn from the file's text, as `netarch plot` redraws them.
    let file = json::RunFile::parse(&text)
        .map_err(|message| OutputError::Unreadable { path: staging.dir().join("results.json"), message })?;
    for (name, bytes) in data_files(results, text) {
        staging.write(&name, &bytes)?;
    }
    draw_run(staging.dir(), &file)?;
    staging.commit()
}

/// A run folder: what `netarch run` writes, and what it may replace.
pub static RUN_FOLDER: FolderKind = FolderKind { noun: "a run folder", recognise: recognise_run_folder };

/// The files a run with `--replicates` adds to its folder (names kept by
/// [`crate::sweep::replicates::files`]).
pub const REPLICATE_FILES: [&str; 5] =
    ["tidy.csv", "aggregate.csv", "replicates.json", "latency-cdf-replicates.svg", "latency-cdf-replicates.pdf"];

/// The files of a run folder, besides its charts.
const RUN_FILES: [&str; 5] = ["results.json", "summary.csv", "latency.csv", "exposure.csv", "report.html"];

/// `Ok` for a run folder netarch wrote, holding nothing else; otherwise what is there.
fn recognise_run_folder(dir: &Path) -> Result<(), String> {
    if dir.join("sweep.json").exists() {
        return Err("holds a sweep (sweep.json); a run never replaces a sweep folder".into());
    }
    let results = dir.join("results.json");
    let written_by_netarch = std::fs::read(&results)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|v| v.get("netarch_version").is_some_and(serde_json::Value::is_string));
    if !written_by_netarch {
        return Err(destination::foreign_folder(dir));
    }
    destination::only_entries(dir, |name, is_dir| {
        if is_dir {
            return false;
        }
        let chart = charts::CHART_EXTENSIONS
            .iter()
            .filter_map(|e| name.strip_suffix(&format!(".{e}")))
            .any(|stem| charts::RUN_CHART_STEMS.contains(&stem));
        chart
            || RUN_FILES.contains(&name)
            || REPLICATE_FILES.contains(&name)
            || trace::TRACE_FILES.contains(&name)
            || name.starts_with(".tmp-")
    })
    .map_err(|what| format!("is a run folder that also {what}, which netarch did not write"))
}

/// Draws a run's charts (SVG, PNG and PDF) and writes its `report.html` into `dir` from its results
/// file, each file whole or not at all; returns the paths written. A run folder and
/// `netarch plot` both draw with this, so a redraw is byte-identical to the original.
pub fn draw_run(dir: &Path, file: &json::RunFile) -> Result<Vec<PathBuf>, OutputError> {
    let written = charts::write_set(dir, &file.chart_set())
        .map_err(|e| OutputError::Chart { what: "the run's charts".into(), message: e.to_string() })?;
    let pairs: Vec<(String, String)> = written.iter().map(|w| (w.chart.title.clone(), w.chart.svg.clone())).collect();
    let mut paths: Vec<PathBuf> = written.into_iter().flat_map(|w| [w.svg_path, w.png_path, w.pdf_path]).collect();
    let report = dir.join("report.html");
    let tmp = dir.join(format!(".tmp-{}-report.html", std::process::id()));
    let result = std::fs::write(&tmp, report::render(file, &pairs)).and_then(|()| std::fs::rename(&tmp, &report));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    io(&report, result)?;
    paths.push(report);
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heatmap_has_a_row_per_adversary_and_shows_the_chosen_figure_issue_13() {
        let archs = [
            serde_json::json!({"name": "a"}),
            serde_json::json!({"name": "b", "exposure": [
                {"adversary": "x", "pair": {"learned": 0.5}, "addresses": {"seen": 0.25}},
                {"adversary": "y.z", "pair": {"learned": null}, "addresses": {"seen": 1.0}}]}),
        ];
        let f = figures::Figures::from_json(&archs, &serde_json::Value::Null);
        let adv = vec!["x".to_owned(), "y.z".to_owned()];
        let m = heatmap_matrix(&f, &adv, DEFAULT_HEATMAP).unwrap();
        assert_eq!(m.adversaries, adv);
        assert_eq!(m.archs, ["a", "b"]);
        assert_eq!(m.values, vec![vec![None, Some(0.5)], vec![None, None]]);
        let m = heatmap_matrix(&f, &adv, "addresses.seen").unwrap();
        assert_eq!(m.values, vec![vec![None, Some(0.25)], vec![None, Some(1.0)]]);
        assert!(m.metric.contains("IP address"), "{}", m.metric);
        assert!(heatmap_matrix(&f, &[], DEFAULT_HEATMAP).is_none(), "no adversary");
    }
}
