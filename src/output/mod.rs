//! Outputs of a run: the run folder (JSON, CSV, charts, report) and the terminal summary.
//!
//! A run folder is written whole or not at all: everything goes into a hidden temporary folder
//! beside the destination, which is renamed into place only when every file is complete. An
//! interrupted or failed run leaves the previous folder (if any) untouched, and a destination
//! that is not a run folder netarch wrote is never replaced ([`destination`]).

pub mod charts;
pub mod csv;
pub mod destination;
pub mod json;
pub mod report;
pub mod table;

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

/// The heatmap's data: per adversary and architecture, the share of messages whose
/// sender-recipient pair the adversary learned (`None` where it has nothing to watch).
pub fn exposure_matrix(results: &RunResults) -> Option<charts::ExposureMatrix> {
    let pairs: Vec<Vec<(String, Option<f64>)>> = results
        .archs
        .iter()
        .map(|a| a.exposure.iter().map(|e| (e.adversary.clone(), e.pair.learned)).collect())
        .collect();
    pair_learned_matrix(&results.archs.iter().map(|a| a.name.clone()).collect::<Vec<_>>(), &pairs)
}

/// The heatmap's data from each architecture's list of (adversary, share of messages whose pair
/// it learned): one row per adversary, in the order of the first architecture that has any, and
/// one column per architecture. `None` when no architecture has an adversary.
pub fn pair_learned_matrix(archs: &[String], pairs: &[Vec<(String, Option<f64>)>]) -> Option<charts::ExposureMatrix> {
    let first = pairs.iter().find(|p| !p.is_empty())?;
    let adversaries: Vec<String> = first.iter().map(|(name, _)| name.clone()).collect();
    let values = (0..adversaries.len()).map(|i| pairs.iter().map(|p| p.get(i).and_then(|x| x.1)).collect()).collect();
    Some(charts::ExposureMatrix {
        metric: "share of messages whose sender-recipient pair the adversary learns".into(),
        adversaries,
        archs: archs.to_vec(),
        values,
    })
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
        chart || RUN_FILES.contains(&name) || name.starts_with(".tmp-")
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
    fn the_pair_matrix_has_a_row_per_adversary_and_a_column_per_architecture() {
        let archs = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let row = |v: [Option<f64>; 2]| vec![("x".to_owned(), v[0]), ("y".to_owned(), v[1])];
        let pairs = vec![Vec::new(), row([Some(0.5), None]), row([Some(1.0), Some(0.25)])];
        let m = pair_learned_matrix(&archs, &pairs).unwrap();
        assert_eq!(m.adversaries, ["x", "y"], "named by the first architecture that has any");
        assert_eq!(m.archs, archs);
        assert_eq!(m.values, vec![vec![None, Some(0.5), Some(1.0)], vec![None, None, Some(0.25)]]);
        assert!(pair_learned_matrix(&archs, &[Vec::new(), Vec::new(), Vec::new()]).is_none(), "no adversary");
    }
}
