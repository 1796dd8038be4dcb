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
pub mod compare;
pub mod exec;
pub mod merge;
pub mod plan;
pub mod redraw;
pub mod replicates;
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
    /// A sweep or run file that this version cannot read, or whose values are out of range
    /// (exit code 2: bad input).
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
            SweepError::Scenario(_)
            | SweepError::Spec { .. }
            | SweepError::Folder { .. }
            | SweepError::Merge(_)
            | SweepError::Corrupt { .. }
            | SweepError::Output(OutputError::Refused { .. }) => 2,
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
    /// The list of chart stems last drawn, inside [`CHARTS`] (what a redraw may remove).
    pub const CHART_LIST: &str = ".netarch-charts";
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

    /// Reads `sweep.json` from a folder and checks it as any input is checked (an edited file
    /// with an empty `vary` is refused, not run).
    pub fn read(folder: &Path) -> Result<SweepDoc, SweepError> {
        if !folder.is_dir() {
            let what = if folder.exists() { "is not a folder" } else { "does not exist" };
            return Err(SweepError::Folder {
                path: folder.to_path_buf(),
                message: format!("{what}; name a folder written by `netarch sweep` (it holds sweep.json)"),
            });
        }
        let path = folder.join(layout::PLAN);
        if !path.is_file() {
            return Err(SweepError::Folder {
                path: folder.to_path_buf(),
                message: "is not a sweep folder (no sweep.json); name a folder written by `netarch sweep`".into(),
            });
        }
        let text = io(&path, std::fs::read_to_string(&path))?;
        let doc: SweepDoc = serde_json::from_str(&text).map_err(|e| SweepError::Corrupt {
            path: path.clone(),
            message: format!("not a sweep plan this netarch version can read ({e})"),
        })?;
        doc.check().map_err(|(key, message)| SweepError::Corrupt {
            path,
            message: format!("`{key}`: {message}; was the file edited? run the sweep again to rewrite it"),
        })?;
        Ok(doc)
    }

    /// Checks what the types cannot: the key and message of the first value out of range.
    fn check(&self) -> Result<(), (String, String)> {
        let p = &self.plan;
        let bad = |key: String, message: &str| Err((key, message.to_owned()));
        if p.vary.is_empty() {
            return bad("plan.vary".into(), "is empty: a sweep varies at least one key");
        }
        for (i, v) in p.vary.iter().enumerate() {
            if v.key.trim().is_empty() {
                return bad(format!("plan.vary[{i}].key"), "is empty");
            }
            if v.values.is_empty() {
                return bad(format!("plan.vary[{i}].values"), "is empty: a varied key has at least one value");
            }
        }
        if p.vary.iter().try_fold(1u64, |n, v| n.checked_mul(v.values.len() as u64)).is_none() {
            return bad("plan.vary".into(), "has more points than can be counted");
        }
        if p.replicates == 0 {
            return bad("plan.replicates".into(), "is 0: every point runs at least once");
        }
        if p.points().checked_mul(p.replicates as u64).is_none() {
            return bad("plan.replicates".into(), "makes more runs than can be counted");
        }
        if p.archs.is_empty() {
            return bad("plan.archs".into(), "is empty: a sweep runs at least one architecture");
        }
        if p.kinds.len() != p.archs.len() {
            return bad("plan.kinds".into(), "does not list one kind per architecture in `plan.archs`");
        }
        if let Some(s) = self.shard
            && (s.count == 0 || s.index >= s.count)
        {
            return bad("shard".into(), "needs 0 ≤ index < count");
        }
        Ok(())
    }

    /// The runs this folder is meant to hold, in run order.
    pub fn own_runs(&self) -> Vec<RunId> {
        (0..self.plan.runs()).filter(|&k| self.shard.is_none_or(|s| s.owns(k))).map(|k| self.plan.run_id(k)).collect()
    }
}

/// A finished sweep folder: what `netarch merge` writes, and what it may replace.
pub static SWEEP_FOLDER: crate::output::FolderKind =
    crate::output::FolderKind { noun: "a finished sweep folder", recognise: recognise_finished_sweep };

/// `Ok` for a sweep folder netarch wrote whose runs are all done, holding nothing else.
fn recognise_finished_sweep(dir: &Path) -> Result<(), String> {
    if dir.join("results.json").exists() && !dir.join(layout::PLAN).exists() {
        return Err("holds a run (results.json); a merge never replaces a run folder".into());
    }
    let doc = SweepDoc::read(dir).map_err(|e| match e {
        SweepError::Folder { .. } => crate::output::destination::foreign_folder(dir),
        other => format!("holds a sweep.json that does not read back ({other})"),
    })?;
    let own = doc.own_runs().len();
    let present = runs_present(dir, &doc.plan).map_err(|e| e.to_string())?.len();
    if present < own {
        return Err(format!("holds an unfinished sweep ({present} of {own} runs done), which is never replaced"));
    }
    let tmp = |name: &str| name.starts_with(TMP_PREFIX);
    crate::output::destination::only_entries(dir, |name, is_dir| match (name, is_dir) {
        (layout::POINTS | layout::CHARTS, true) => true,
        (layout::PLAN | layout::TIDY | layout::AGGREGATE | layout::REPORT, false) => true,
        (name, false) => tmp(name),
        _ => false,
    })
    .map_err(|what| format!("is a sweep folder that also {what}, which netarch did not write"))?;
    crate::output::destination::only_entries(&dir.join(layout::POINTS), |name, is_dir| {
        !is_dir && (RunId::from_file_name(name).is_some() || tmp(name))
    })
    .map_err(|what| format!("is a sweep folder whose {}/ also {what}", layout::POINTS))?;
    let charts = dir.join(layout::CHARTS);
    if charts.is_dir() {
        crate::output::destination::only_entries(&charts, |name, is_dir| {
            !is_dir
                && (crate::output::charts::CHART_EXTENSIONS.iter().any(|e| name.ends_with(&format!(".{e}")))
                    || name == layout::CHART_LIST
                    || tmp(name))
        })
        .map_err(|what| format!("is a sweep folder whose {}/ also {what}", layout::CHARTS))?;
    }
    Ok(())
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
