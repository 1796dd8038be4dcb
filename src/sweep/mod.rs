//! Parameter sweeps: many runs of one scenario, a few keys varied over values, each point
//! replicated with its own seed, run in parallel, and summarised as tidy tables, charts with
//! confidence bands and a report.
//!
//! The steps, one module each: [`plan`] turns `--vary` arguments or a `[sweep]` table into points
//! and seeds and checks every point's scenario before anything runs; [`exec`] runs a plan's runs
//! (or one shard's share of them) on a thread pool, saving each run's summaries as it finishes so
//! that Ctrl-C and `--resume` lose nothing; [`tidy`] flattens the saved summaries into one row per
//! point × replicate × architecture × metric; [`aggregate`] gives each point's mean and 95%
//! confidence interval; [`merge`] combines the folders of shards run on different machines;
//! [`report`] writes the sweep's HTML page; [`redraw`] redraws charts and report from a folder's
//! results (`netarch plot`). Drawing is left to [`crate::output::charts::sweep`].
//!
//! Results never depend on the number of jobs or shards: a run's outcome depends only on the
//! plan and its (point, replicate), every output is built from the saved run files in run order,
//! and floating-point sums are taken in that order.
//!
//! A sweep folder holds `sweep.json` (the plan, and the shard if any), `points/<run>.json` (one
//! per point × replicate), `tidy.csv`, `aggregate.csv`, `charts/` (SVG and PNG) and
//! `report.html`. Every file is written whole or not at all (a temporary file, then a rename).

pub mod aggregate;
pub mod exec;
pub mod merge;
pub mod plan;
pub mod redraw;
pub mod report;
pub mod tidy;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::SimError;
use crate::output::OutputError;
use crate::output::charts::ChartError;
use crate::scenario::ScenarioError;
use plan::{Plan, RunId, Shard};

/// Why a sweep, a merge or a redraw failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario or an override is bad (exit code 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A `--vary`, `--shard`, `--arch` or `[sweep]` value is bad (exit code 2).
    #[error("{arg}: {message}")]
    Spec {
        /// The argument or table entry at fault.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// The output folder holds something this command must not overwrite or cannot use (exit
    /// code 2).
    #[error("{}: {message}", .path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// Shard folders that do not make one sweep (exit code 2).
    #[error("cannot merge: {0}")]
    Merge(String),
    /// A run broke an invariant (exit code 1: a bug in a model).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A file could not be read or written (exit code 1).
    #[error("cannot access {}: {error}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The system's reason.
        error: std::io::Error,
    },
    /// A results file that this version cannot read (exit code 1).
    #[error("{}: {message}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Writing the outputs failed (exit code 1).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A chart could not be drawn (exit code 1).
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// Ctrl-C stopped the sweep; finished runs are kept (exit code 130, as for SIGINT).
    #[error("interrupted: {done} of {total} runs are done and kept in {}", .folder.display())]
    Interrupted {
        /// Runs done (this shard's).
        done: u64,
        /// Runs in all (this shard's).
        total: u64,
        /// The sweep folder.
        folder: PathBuf,
        /// The command that resumes it.
        resume: String,
    },
}

impl SweepError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            SweepError::Scenario(_) | SweepError::Spec { .. } | SweepError::Folder { .. } | SweepError::Merge(_) => 2,
            SweepError::Interrupted { .. } => 130,
            _ => 1,
        }
    }

    /// A hint for the terminal.
    pub fn hint(&self) -> Option<String> {
        match self {
            SweepError::Interrupted { resume, .. } => Some(format!("resume with: {resume}")),
            SweepError::Sim(_) => {
                Some("this is a bug in a delivery model; please report it with the scenario and seed".into())
            }
            SweepError::Spec { .. } => Some("see docs/sweeps.md for --vary, --shard and the [sweep] table".into()),
            _ => None,
        }
    }
}

/// Wraps an I/O result with the path it concerns.
pub(crate) fn io<T>(path: &Path, r: std::io::Result<T>) -> Result<T, SweepError> {
    r.map_err(|error| SweepError::Io { path: path.to_path_buf(), error })
}

/// The prefix of temporary files; anything with it in a sweep folder is an unfinished write.
pub(crate) const TMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, then a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!("{TMP_PREFIX}{}-{name}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    io(path, result)
}

/// File names inside a sweep folder.
pub mod layout {
    /// The plan and shard.
    pub const PLAN: &str = "sweep.json";
    /// One file per run.
    pub const POINTS: &str = "points";
    /// One row per point × replicate × architecture × metric.
    pub const TIDY: &str = "tidy.csv";
    /// Mean and 95% confidence interval per point × architecture × metric.
    pub const AGGREGATE: &str = "aggregate.csv";
    /// Sweep charts, SVG and PNG.
    pub const CHARTS: &str = "charts";
    /// The HTML page.
    pub const REPORT: &str = "report.html";
}

/// The contents of `sweep.json`: the plan, and which shard of it this folder holds.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct SweepDoc {
    /// The plan.
    pub plan: Plan,
    /// The shard this folder runs, or `None` for the whole sweep (and for a merge).
    pub shard: Option<Shard>,
}

impl SweepDoc {
    /// The document as written to `sweep.json`.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a sweep plan serialises");
        text.push('\n');
        text
    }

    /// Reads `sweep.json` from a folder.
    pub fn read(folder: &Path) -> Result<SweepDoc, SweepError> {
        let path = folder.join(layout::PLAN);
        let text = io(&path, std::fs::read_to_string(&path))?;
        serde_json::from_str(&text).map_err(|e| SweepError::Corrupt {
            path,
            message: format!("not a sweep plan this netarch version can read ({e})"),
        })
    }

    /// The runs this folder is meant to hold, in run order.
    pub fn own_runs(&self) -> Vec<RunId> {
        (0..self.plan.runs()).filter(|&k| self.shard.is_none_or(|s| s.owns(k))).map(|k| self.plan.run_id(k)).collect()
    }
}

/// The runs whose results files are present in `folder/points`, checked against the plan
/// (a file for another run, seed or version is reported as corrupt).
pub fn runs_present(folder: &Path, plan: &Plan) -> Result<Vec<RunId>, SweepError> {
    let dir = folder.join(layout::POINTS);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in io(&dir, std::fs::read_dir(&dir))? {
        let entry = io(&dir, entry)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = RunId::from_file_name(&name)
            && id.point < plan.points()
            && id.replicate < plan.replicates
        {
            out.push(id);
        }
    }
    out.sort();
    Ok(out)
}

/// Removes temporary files left by an interrupted write.
pub(crate) fn remove_stale_temporaries(dir: &Path) -> Result<(), SweepError> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in io(dir, std::fs::read_dir(dir))? {
        let entry = io(dir, entry)?;
        if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            let path = entry.path();
            io(&path, std::fs::remove_file(&path))?;
        }
    }
    Ok(())
}
