//! `netarch run S --replicates N`: a sweep of one point. The N runs get the seeds a sweep's
//! point 0 gets ([`Plan::seed_of`]), run in parallel on `--jobs` threads and are collected in
//! replicate order, so every file is byte-identical whatever the number of jobs. The run folder
//! holds replicate 0's usual files (its `results.json` names its seed, so `netarch run --seed`
//! repeats it), and beside them `tidy.csv` and `aggregate.csv` with the sweep's columns (no
//! varied keys), `replicates.json` (the plan, as a sweep's `sweep.json`) and the latency CDF with
//! a band over replicates (`latency-cdf-replicates.svg`).

use std::fmt::Write;

use rayon::prelude::*;

use super::aggregate::{Aggregate, aggregate, aggregate_csv};
use super::plan::{DEFAULT_METRICS, Plan, RunId};
use super::report::estimate;
use super::tidy::{RunFigures, parse_run, run_json, tidy_csv};
use super::{SweepDoc, SweepError};
use crate::engine::SimError;
use crate::output::charts::bands::{BandSeries, render_band_svg};
use crate::output::charts::{ChartError, pdf_of};
use crate::output::names::display_name;
use crate::output::trace::NamedFile;
use crate::run::{RunResults, entries, run};
use crate::scenario::Scenario;

/// File names a run with replicates adds to its folder.
pub mod files {
    use crate::output::REPLICATE_FILES;
    /// One row per replicate × architecture × metric.
    pub const TIDY: &str = REPLICATE_FILES[0];
    /// Mean and 95% interval per architecture × metric.
    pub const AGGREGATE: &str = REPLICATE_FILES[1];
    /// The plan (scenario, base seed, replicates), as a sweep's `sweep.json`.
    pub const PLAN: &str = REPLICATE_FILES[2];
    /// The latency CDF with a band over replicates.
    pub const BAND_CHART: &str = REPLICATE_FILES[3];
    /// The band chart as a PDF, for LaTeX.
    pub const BAND_CHART_PDF: &str = REPLICATE_FILES[4];
}

/// Metrics the terminal shows with intervals, in order.
pub const TERMINAL_METRICS: [&str; 9] = [
    "delivery_ratio",
    "delivered_in_deadline_ratio",
    "latency.p50_ms",
    "latency.p95_ms",
    "latency_online_at_send.p50_ms",
    "latency_offline_at_send.p50_ms",
    "transmissions_per_delivered",
    "all_bytes_per_delivered",
    "wakeups_per_device_hour",
];

/// The plan of a run with replicates: one point (nothing varied) of the scenario `s` as loaded
/// (its `--set` overrides in `sets`), `replicates` runs from its seed. `file_archs` are the labels
/// of every `[[arch]]` entry before `--arch` chose a subset (`arch_subset`).
pub fn plan(
    s: &Scenario,
    scenario_arg: &str,
    sets: &[String],
    file_archs: Vec<String>,
    arch_subset: bool,
    no_adversaries: bool,
    replicates: u32,
) -> Plan {
    Plan::on(
        s,
        scenario_arg,
        sets.to_vec(),
        s.archs.iter().map(|a| a.name.clone()).collect(),
        file_archs,
        Vec::new(),
        DEFAULT_METRICS.iter().map(|m| m.to_string()).collect(),
        arch_subset,
        no_adversaries,
        replicates,
    )
}

/// The scenario of replicate `r`: `s` with the replicate's seed.
pub fn replicate_scenario(s: &Scenario, plan: &Plan, r: u32) -> Scenario {
    let mut sr = s.clone();
    sr.raw.seed = plan.seed_of(RunId { point: 0, replicate: r });
    sr
}

/// Runs every replicate on `jobs` threads (0: one per core); results in replicate order.
pub fn run_all(s: &Scenario, plan: &Plan, jobs: usize) -> Result<Vec<RunResults>, SweepError> {
    let jobs = if jobs == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { jobs };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Spec { arg: "--jobs".into(), message: e.to_string() })?;
    let results: Result<Vec<RunResults>, SimError> = pool.install(|| {
        (0..plan.replicates)
            .into_par_iter()
            .map(|r| {
                let sr = replicate_scenario(s, plan, r);
                run(&sr, entries(&sr), &|_, _| {})
            })
            .collect()
    });
    Ok(results?)
}

/// The replicates' figures, read back from their run documents exactly as a sweep reads its run
/// files (so the tables are the sweep's).
pub fn figures(plan: &Plan, results: &[RunResults]) -> Vec<RunFigures> {
    results
        .iter()
        .enumerate()
        .map(|(r, res)| {
            let id = RunId { point: 0, replicate: r as u32 };
            parse_run(&run_json(plan, id, res), plan, id).expect("a run document netarch just wrote reads back")
        })
        .collect()
}

/// The files a run with replicates adds to its folder: (name, bytes), and the aggregates.
pub fn files(plan: &Plan, results: &[RunResults]) -> Result<(Vec<NamedFile>, Vec<Aggregate>), ChartError> {
    let figs = figures(plan, results);
    let aggs = aggregate(plan, &figs);
    let doc = SweepDoc { plan: plan.clone(), shard: None };
    let title = format!(
        "Latency CDF over {} replicates — scenario {}, base seed {}",
        plan.replicates, plan.scenario_name, plan.base_seed
    );
    let series: Vec<BandSeries> = plan
        .archs
        .iter()
        .enumerate()
        .map(|(a, arch)| {
            let cdfs: Vec<(&[crate::results::summary::CdfPoint], f64)> =
                results.iter().map(|r| (r.cdfs[a].all.as_slice(), r.archs[a].delivery_ratio.unwrap_or(0.0))).collect();
            BandSeries::from_cdfs(arch, &cdfs)
        })
        .collect();
    let band = render_band_svg(&title, &series, plan.replicates as usize);
    let out = vec![
        (files::TIDY.to_owned(), tidy_csv(plan, &figs).into_bytes()),
        (files::AGGREGATE.to_owned(), aggregate_csv(plan, &aggs).into_bytes()),
        (files::PLAN.to_owned(), doc.to_json().into_bytes()),
        (files::BAND_CHART_PDF.to_owned(), pdf_of(&band)?),
        (files::BAND_CHART.to_owned(), band.into_bytes()),
    ];
    Ok((out, aggs))
}

/// The terminal's summary of the replicates: per architecture, each of [`TERMINAL_METRICS`] as
/// "mean [low, high]", packed into lines of at most `width` columns, an item never split.
pub fn terminal_table(plan: &Plan, aggs: &[Aggregate], width: usize) -> String {
    let mut out =
        format!("{} replicates (base seed {}): mean [95% confidence interval]\n", plan.replicates, plan.base_seed);
    for (a, arch) in plan.archs.iter().enumerate() {
        let _ = writeln!(out, "{arch}");
        let mut line = String::from(" ");
        for m in TERMINAL_METRICS {
            let stats = aggs.iter().find(|x| x.arch == a && x.metric == m).map(|x| &x.stats);
            let item = format!("{} {}", display_name(m), estimate(m, stats).unwrap_or_else(|| "n/a".into()));
            let sep = if line.trim().is_empty() { " " } else { " · " };
            if line.chars().count() + sep.chars().count() + item.chars().count() > width && !line.trim().is_empty() {
                out.push_str(&line);
                out.push('\n');
                line = String::from(" ");
            }
            let sep = if line.trim().is_empty() { " " } else { " · " };
            line.push_str(sep);
            line.push_str(&item);
        }
        out.push_str(&line);
        out.push('\n');
    }
    crate::text::printable(&out).into_owned()
}
