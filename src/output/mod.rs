//! Outputs of a run: the run folder (JSON, CSV, charts, report) and the terminal summary.
//!
//! A run folder is written whole or not at all: everything goes into a hidden temporary folder
//! beside the destination, which is renamed into place only when every file is complete. An
//! interrupted or failed run leaves the previous folder (if any) untouched.

pub mod charts;
pub mod csv;
pub mod json;
pub mod report;
pub mod table;

use std::path::{Path, PathBuf};

use crate::run::RunResults;
use crate::scenario::Scenario;

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
}

/// Wraps an I/O result with the path it concerns.
pub fn io<T>(path: &Path, r: std::io::Result<T>) -> Result<T, OutputError> {
    r.map_err(|error| OutputError::Io { path: path.to_path_buf(), error })
}

/// A folder being written: files go into a temporary sibling until [`Staging::commit`].
pub struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
}

impl Staging {
    /// Starts writing the folder `dest` (its parent is created if missing).
    pub fn new(dest: &Path) -> Result<Staging, OutputError> {
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        io(parent, std::fs::create_dir_all(parent))?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            io(&tmp, std::fs::remove_dir_all(&tmp))?;
        }
        io(&tmp, std::fs::create_dir_all(&tmp))?;
        Ok(Staging { tmp, dest: dest.to_path_buf() })
    }

    /// The temporary folder files are written into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Writes one file into the folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.tmp.join(name);
        if let Some(parent) = path.parent() {
            io(parent, std::fs::create_dir_all(parent))?;
        }
        io(&path, std::fs::write(&path, bytes))
    }

    /// Moves the complete folder into place, replacing a previous one.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let dest = self.dest.clone();
        if dest.exists() {
            let old = self.tmp.with_extension("old");
            io(&dest, std::fs::rename(&dest, &old))?;
            io(&dest, std::fs::rename(&self.tmp, &dest))?;
            io(&old, std::fs::remove_dir_all(&old))?;
        } else {
            io(&dest, std::fs::rename(&self.tmp, &dest))?;
        }
        self.tmp = PathBuf::new();
        Ok(dest)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed: leave nothing half-written behind.
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// The files of a run folder, by name, as bytes (deterministic for a given scenario and seed).
pub fn run_files(scenario: &Scenario, results: &RunResults) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("results.json".into(), json::results_json(scenario, results).into_bytes()),
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
    let first = results.archs.iter().find(|a| !a.exposure.is_empty())?;
    let adversaries: Vec<String> = first.exposure.iter().map(|e| e.adversary.clone()).collect();
    let values = (0..adversaries.len())
        .map(|i| results.archs.iter().map(|a| a.exposure.get(i).and_then(|e| e.pair.learned)).collect())
        .collect();
    Some(charts::ExposureMatrix {
        metric: "share of messages whose sender-recipient pair the adversary learns".into(),
        adversaries,
        archs: results.archs.iter().map(|a| a.name.clone()).collect(),
        values,
    })
}

/// Writes a whole run folder into `dest` — data files, charts and `report.html` — and returns
/// the folder's path. `command` is the command line that reproduces the run, for the report.
pub fn write_run_folder(
    dest: &Path,
    scenario: &Scenario,
    results: &RunResults,
    command: &str,
) -> Result<PathBuf, OutputError> {
    let staging = Staging::new(dest)?;
    for (name, bytes) in run_files(scenario, results) {
        staging.write(&name, &bytes)?;
    }
    let mut set = charts::ChartSet::from_run(scenario, results);
    set.exposure = exposure_matrix(results);
    let written = charts::write_set(staging.dir(), &set)
        .map_err(|e| OutputError::Chart { what: "the run's charts".into(), message: e.to_string() })?;
    let pairs: Vec<(String, String)> = written.iter().map(|w| (w.chart.title.clone(), w.chart.svg.clone())).collect();
    staging.write("report.html", report::render_report(scenario, results, &pairs, command).as_bytes())?;
    staging.commit()
}
