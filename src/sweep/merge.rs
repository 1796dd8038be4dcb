//! `netarch merge`: combines the folders of a sweep's shards, run anywhere (a Slurm array, a
//! Kubernetes indexed job, a few laptops), into one folder with the same outputs as the sweep run
//! on one machine — byte for byte for `sweep.json`, the run files, `tidy.csv` and
//! `aggregate.csv`.
//!
//! Shards must come from the same plan (scenario contents, keys, values, replicates, seed,
//! netarch version; the path the scenario was given by may differ). Every run of the sweep must be
//! in some folder; a run held twice must have the same bytes both times. The merged folder is
//! written whole or not at all.

use std::path::{Path, PathBuf};

use super::redraw::{Written, write_outputs};
use super::tidy::parse_run;
use super::{SweepDoc, SweepError, io, layout, runs_present};
use crate::output::Staging;

/// What a merge did.
#[derive(Clone, Debug)]
pub struct MergeSummary {
    /// The merged folder.
    pub folder: PathBuf,
    /// Folders merged.
    pub inputs: usize,
    /// Runs in the sweep.
    pub runs: u64,
    /// The tables, charts and report written.
    pub outputs: Written,
}

/// Merges shard folders into `out`.
pub fn merge(folders: &[PathBuf], out: &Path) -> Result<MergeSummary, SweepError> {
    let Some(first_folder) = folders.first() else {
        return Err(SweepError::Merge("name at least one shard folder".into()));
    };
    let docs: Vec<SweepDoc> = folders.iter().map(|f| SweepDoc::read(f)).collect::<Result<_, _>>()?;
    let plan = docs[0].plan.clone();
    let blank = |d: &SweepDoc| {
        let mut p = d.plan.clone();
        p.scenario.clear();
        p
    };
    for (f, d) in folders.iter().zip(&docs).skip(1) {
        if blank(d) != blank(&docs[0]) {
            return Err(SweepError::Merge(format!(
                "{} holds a different sweep than {} (another scenario, key, value, replicate count, seed or netarch \
                 version); merge only the shards of one `netarch sweep` command",
                f.display(),
                first_folder.display()
            )));
        }
    }
    for f in folders {
        if same_path(f, out) {
            return Err(SweepError::Merge(format!(
                "the output folder {} is one of the shards; choose another --out",
                out.display()
            )));
        }
    }

    // Where each run is, checking that copies held twice agree.
    let mut holder: Vec<Option<usize>> = vec![None; plan.runs() as usize];
    for (i, f) in folders.iter().enumerate() {
        for id in runs_present(f, &plan)? {
            let k = plan.run_number(id) as usize;
            match holder[k] {
                None => holder[k] = Some(i),
                Some(j) => {
                    let a = folders[j].join(layout::POINTS).join(id.file_name());
                    let b = f.join(layout::POINTS).join(id.file_name());
                    if io(&a, std::fs::read(&a))? != io(&b, std::fs::read(&b))? {
                        return Err(SweepError::Merge(format!(
                            "run {} differs between {} and {}",
                            id.file_name(),
                            folders[j].display(),
                            f.display()
                        )));
                    }
                }
            }
        }
    }
    let missing: Vec<u64> = (0..plan.runs()).filter(|&k| holder[k as usize].is_none()).collect();
    if !missing.is_empty() {
        return Err(SweepError::Merge(missing_message(&plan, &docs, &missing)));
    }

    let staging = Staging::new(out, &super::SWEEP_FOLDER)?;
    let merged = SweepDoc { plan: plan.clone(), shard: None };
    staging.write(layout::PLAN, merged.to_json().as_bytes())?;
    let mut runs = Vec::with_capacity(holder.len());
    for (k, h) in holder.iter().enumerate() {
        let id = plan.run_id(k as u64);
        let from = folders[h.expect("every run is held")].join(layout::POINTS).join(id.file_name());
        let bytes = io(&from, std::fs::read(&from))?;
        // Checked where it lies, so an error names the shard's file, not the staging copy.
        let text = String::from_utf8_lossy(&bytes);
        runs.push(parse_run(&text, &plan, id).map_err(|message| SweepError::Corrupt { path: from.clone(), message })?);
        staging.write(&format!("{}/{}", layout::POINTS, id.file_name()), &bytes)?;
    }
    let outputs = write_outputs(staging.dir(), &plan, &runs, true)?;
    let folder = staging.commit()?;
    let outputs = Written { files: outputs.files.iter().map(|p| rebase(p, out)).collect(), ..outputs };
    Ok(MergeSummary { folder, inputs: folders.len(), runs: plan.runs(), outputs })
}

/// A path written inside the staging folder, as it is after the commit.
fn rebase(p: &Path, out: &Path) -> PathBuf {
    match p.parent().and_then(|d| d.file_name()) {
        Some(dir) if dir == layout::CHARTS => out.join(layout::CHARTS).join(p.file_name().unwrap_or_default()),
        _ => out.join(p.file_name().unwrap_or_default()),
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Says which runs are missing and, when the folders are shards of one count, which shards.
fn missing_message(plan: &super::plan::Plan, docs: &[SweepDoc], missing: &[u64]) -> String {
    let example = plan.run_id(missing[0]);
    let mut msg = format!(
        "{} of {} runs are missing (e.g. point {} replicate {})",
        missing.len(),
        plan.runs(),
        example.point,
        example.replicate
    );
    let counts: Vec<u32> = docs.iter().filter_map(|d| d.shard.map(|s| s.count)).collect();
    if let Some(&n) = counts.first()
        && counts.len() == docs.len()
        && counts.iter().all(|&c| c == n)
    {
        let mut absent: Vec<u32> = missing.iter().map(|&k| (k % n as u64) as u32).collect();
        absent.sort_unstable();
        absent.dedup();
        let names: Vec<String> = absent.iter().map(|i| format!("{i}/{n}")).collect();
        msg.push_str(&format!(
            "; they belong to shard(s) {}: run those (`--resume` finishes an interrupted one) and merge again",
            names.join(", ")
        ));
    }
    msg
}
