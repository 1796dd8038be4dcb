//! Running a sweep's runs: a pool of `--jobs` threads takes runs in order, each run saves its
//! summaries to `points/<run>.json` the moment it finishes (whole or not at all), and a progress
//! bar counts runs and points done, elapsed and remaining time.
//!
//! Saving each run as it finishes is what makes a sweep safe to stop: Ctrl-C lets the runs in
//! progress finish and stops before the next (a second Ctrl-C stops at once), every finished run
//! is kept, and `--resume` runs only what is missing. A folder is only ever resumed by the same
//! plan: `sweep.json` records it, and a resume with different keys, values, seed or version is
//! refused rather than mixed. Once every run of the whole sweep is saved (an unsharded sweep),
//! the tables, charts and report are written from the saved files, in run order, so their bytes
//! do not depend on the number of jobs. The progress bar and the Ctrl-C handler are the binary's:
//! this module reports progress through [`ExecOptions::progress`] and stops when
//! [`ExecOptions::stop`] is set.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::plan::{Plan, RunId, Shard};
use super::redraw::{Written, write_outputs};
use super::tidy::{RunFigures, parse_run, read_run, run_json};
use super::{SweepDoc, SweepError, io, layout, remove_stale_temporaries, runs_present, write_atomic};
use crate::run::{entries, run};
use crate::scenario::Source;

/// How far a sweep is: told once before the first run and after every finished run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Runs finished this time.
    pub runs_done: u64,
    /// Runs to do this time (this shard's, less those an earlier sweep saved).
    pub runs: u64,
    /// Points whose every run of this folder is saved.
    pub points_done: u64,
    /// Points this folder holds runs of.
    pub points: u64,
}

/// How to run a plan.
#[derive(Clone, Copy, Default)]
pub struct ExecOptions<'a> {
    /// Runs at once (0: one per core).
    pub jobs: usize,
    /// Run only this shard's share of the runs.
    pub shard: Option<Shard>,
    /// Keep the runs an earlier, interrupted sweep of the same plan saved in the folder.
    pub resume: bool,
    /// Told how far the sweep is (the command line draws a progress bar with it).
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    /// Once set (the command line's Ctrl-C handler sets it), the runs in progress finish and no
    /// other starts; the sweep then ends with [`SweepError::Interrupted`].
    pub stop: Option<&'a AtomicBool>,
    /// The command that resumes this sweep, for the message after an interruption.
    pub resume_command: &'a str,
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct ExecSummary {
    /// The sweep folder.
    pub folder: PathBuf,
    /// Runs this folder holds (the whole sweep's, or the shard's).
    pub total: u64,
    /// Runs an earlier sweep had already saved (with `--resume`).
    pub skipped: u64,
    /// Runs done now.
    pub ran: u64,
    /// The tables, charts and report, when the folder holds the whole sweep.
    pub outputs: Option<Written>,
}

/// Runs a plan's runs (this shard's, if any) into `folder`, then writes the tables, charts and
/// report when the folder holds the whole sweep.
pub fn execute(plan: &Plan, source: &Source, folder: &Path, opts: &ExecOptions) -> Result<ExecSummary, SweepError> {
    let shard = opts.shard.filter(|s| s.count > 1);
    let doc = SweepDoc { plan: plan.clone(), shard };
    let done = prepare(folder, &doc, opts.resume)?;
    let own = doc.own_runs();
    let todo: Vec<RunId> = own.iter().copied().filter(|id| done.binary_search(id).is_err()).collect();
    let total = own.len() as u64;
    let skipped = total - todo.len() as u64;

    let points = points_left(plan, &own, &todo);
    let runs = todo.len() as u64;
    let tell = |runs_done: u64, points: &(u64, Vec<u32>, u64)| {
        if let Some(progress) = opts.progress {
            progress(Progress { runs_done, runs, points_done: points.0, points: points.2 });
        }
    };
    tell(0, &points);
    let stopped = || opts.stop.is_some_and(|s| s.load(Ordering::SeqCst));
    let points_left = Mutex::new(points);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<SweepError>> = Mutex::new(None);
    let next = AtomicUsize::new(0);
    let ran = AtomicUsize::new(0);
    let jobs = if opts.jobs == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.jobs };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Io { path: folder.to_path_buf(), error: std::io::Error::other(e.to_string()) })?;
    // `jobs` workers take runs in order (so an interrupted sweep has finished its first points);
    // each run's architectures still run in parallel on the same pool when a thread is free.
    pool.scope(|scope| {
        for _ in 0..jobs.min(todo.len()) {
            scope.spawn(|_| {
                loop {
                    if stopped() || failed.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&id) = todo.get(i) else { break };
                    match run_one(plan, source, folder, id) {
                        Ok(()) => {
                            let mut left = points_left.lock().unwrap_or_else(|e| e.into_inner());
                            let runs_done = ran.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                            left.1[id.point as usize] -= 1;
                            if left.1[id.point as usize] == 0 {
                                left.0 += 1;
                            }
                            tell(runs_done, &left);
                        }
                        Err(e) => {
                            failed.store(true, Ordering::SeqCst);
                            first_error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let ran = ran.into_inner() as u64;
    if skipped + ran < total {
        return Err(SweepError::Interrupted {
            done: skipped + ran,
            total,
            folder: folder.to_path_buf(),
            resume: opts.resume_command.to_owned(),
        });
    }
    let outputs = if shard.is_none() { Some(finish(folder, plan)?) } else { None };
    Ok(ExecSummary { folder: folder.to_path_buf(), total, skipped, ran, outputs })
}

/// Reads every run of a complete sweep folder and writes its tables, charts and report.
pub fn finish(folder: &Path, plan: &Plan) -> Result<Written, SweepError> {
    let runs = read_all(folder, plan)?;
    write_outputs(folder, plan, &runs, true)
}

/// Every run file of the whole sweep, in run order.
pub fn read_all(folder: &Path, plan: &Plan) -> Result<Vec<RunFigures>, SweepError> {
    let dir = folder.join(layout::POINTS);
    (0..plan.runs())
        .map(|k| {
            let id = plan.run_id(k);
            let path = dir.join(id.file_name());
            if !path.is_file() {
                return Err(SweepError::Folder {
                    path: folder.to_path_buf(),
                    message: format!(
                        "run {} (point {}, replicate {}) is missing",
                        id.file_name(),
                        id.point,
                        id.replicate
                    ),
                });
            }
            read_run(&path, plan, id)
        })
        .collect()
}

/// One run: its scenario, every selected architecture on one world, the summaries saved.
fn run_one(plan: &Plan, source: &Source, folder: &Path, id: RunId) -> Result<(), SweepError> {
    let s = plan.scenario_of(source, id)?;
    let results = run(&s, entries(&s), &|_, _| {})?;
    let path = folder.join(layout::POINTS).join(id.file_name());
    write_atomic(&path, run_json(plan, id, &results).as_bytes())
}

/// (points finished, runs left per point, points this folder holds runs of).
fn points_left(plan: &Plan, own: &[RunId], todo: &[RunId]) -> (u64, Vec<u32>, u64) {
    let mut left = vec![0u32; plan.points() as usize];
    for id in todo {
        left[id.point as usize] += 1;
    }
    let mut touched: Vec<u64> = own.iter().map(|id| id.point).collect();
    touched.dedup();
    let finished = touched.iter().filter(|&&p| left[p as usize] == 0).count() as u64;
    (finished, left, touched.len() as u64)
}

/// Makes `folder` ready for `doc` and returns the runs already done (sorted). A folder holding
/// an unfinished sweep is only resumed, never overwritten; a finished one, or one of another
/// plan that holds no runs, is started afresh without `--resume`.
fn prepare(folder: &Path, doc: &SweepDoc, resume: bool) -> Result<Vec<RunId>, SweepError> {
    let plan_path = folder.join(layout::PLAN);
    let refuse = |message: String| Err(SweepError::Folder { path: folder.to_path_buf(), message });
    let mut done = Vec::new();
    let mut keep_plan_file = false;
    if folder.exists() && !folder.is_dir() {
        return refuse("is a file, not a folder; netarch never moves a file, so choose another --out".into());
    }
    if plan_path.is_file() {
        let old_text = io(&plan_path, std::fs::read_to_string(&plan_path))?;
        let old: Option<SweepDoc> = serde_json::from_str(&old_text).ok();
        // The same sweep writes the same text (the scenario may have been named by another
        // path); comparing text, not parsed numbers, cannot be fooled by float parsing.
        let same = old.as_ref().is_some_and(|o| {
            let mut d = doc.clone();
            d.plan.scenario = o.plan.scenario.clone();
            d.to_json() == old_text
        });
        let present = match &old {
            Some(o) => runs_present(folder, &o.plan)?,
            None => Vec::new(),
        };
        let own_total = old.as_ref().map_or(0, |o| o.own_runs().len());
        let unfinished = !present.is_empty() && present.len() < own_total;
        if resume && !same {
            return refuse(
                "holds a different sweep (another scenario, key, value, replicate count, seed, shard or netarch \
                 version); --resume continues only the same sweep, so give the same arguments or another --out"
                    .into(),
            );
        }
        if resume {
            keep_plan_file = true;
            remove_stale_temporaries(&folder.join(layout::POINTS))?;
            for id in runs_present(folder, &doc.plan)? {
                if doc.shard.is_some_and(|s| !s.owns(doc.plan.run_number(id))) {
                    continue;
                }
                let path = folder.join(layout::POINTS).join(id.file_name());
                let text = io(&path, std::fs::read_to_string(&path))?;
                // A file that does not read back as this run is run again.
                if parse_run(&text, &doc.plan, id).is_ok() {
                    done.push(id);
                }
            }
            done.sort();
        } else if unfinished {
            return refuse(format!(
                "holds an unfinished sweep ({} of {own_total} runs done); add --resume to keep them and run the rest, \
                 or delete the folder (or choose another --out) to start over",
                present.len()
            ));
        } else {
            clear(folder)?;
        }
    } else if folder.is_dir() && io(folder, std::fs::read_dir(folder))?.next().is_some() {
        return refuse("exists and is not a sweep folder (no sweep.json); choose another --out".into());
    }
    io(folder, std::fs::create_dir_all(folder.join(layout::POINTS)))?;
    if !keep_plan_file {
        write_atomic(&plan_path, doc.to_json().as_bytes())?;
    }
    Ok(done)
}

/// Removes what a sweep writes in its folder (and nothing else).
fn clear(folder: &Path) -> Result<(), SweepError> {
    for dir in [layout::POINTS, layout::CHARTS] {
        let path = folder.join(dir);
        if path.is_dir() {
            io(&path, std::fs::remove_dir_all(&path))?;
        }
    }
    for file in [layout::PLAN, layout::TIDY, layout::AGGREGATE, layout::REPORT] {
        let path = folder.join(file);
        if path.is_file() {
            io(&path, std::fs::remove_file(&path))?;
        }
    }
    remove_stale_temporaries(folder)
}
