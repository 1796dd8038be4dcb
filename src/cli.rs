//! The command line: clap types only, parsed into plain values that [`crate::app`] acts on.

use std::path::PathBuf;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Parser, Subcommand};

/// netarch: what centralized, federated, peer-to-peer and onion-routed messaging cost in latency,
/// offline delivery and metadata exposure, on the same people sending the same messages.
#[derive(Debug, Parser)]
#[command(name = "netarch", version, about, long_about = None)]
pub struct Cli {
    /// What to do; with none, runs the built-in default comparison.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (a file, a built-in scenario, or an app preset) and write its results folder.
    Run(RunArgs),
    /// Check a scenario file without running it.
    Check {
        /// Scenario file or built-in name.
        #[arg(value_parser = ScenarioName, hide_possible_values = true)]
        scenario: String,
        /// Override a key by its dotted path, e.g. `--set world.users=5000` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Pass a scenario whose estimate is beyond the machine or the event budget.
        #[arg(long)]
        allow_large: bool,
    },
    /// List the built-in scenarios and app presets, with the claims each shows.
    List,
    /// Say what a built-in scenario or preset models, what it shows, and which knob to turn next.
    Explain {
        /// Built-in scenario or preset name.
        #[arg(value_parser = ScenarioName, hide_possible_values = true)]
        name: String,
        /// A run folder of this scenario (`netarch run` wrote it): the text's figures are that
        /// run's. Default: netarch-out/<name> when it holds one.
        #[arg(long, value_name = "DIR")]
        run: Option<PathBuf>,
    },
    /// Run a scenario many times: keys varied over values, each point replicated with its own
    /// seed, in parallel; writes tidy and aggregated CSVs, charts with confidence bands and a report.
    Sweep(SweepArgs),
    /// Combine the folders of a sweep's shards into one, with the same outputs as an unsharded sweep.
    Merge {
        /// The shard folders (each written by `netarch sweep --shard i/n`).
        #[arg(required = true, value_name = "FOLDER")]
        folders: Vec<PathBuf>,
        /// Folder to write (default: ./netarch-out/NAME-sweep, NAME being the scenario's name).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Redraw the charts (and a sweep's report) of a run or sweep folder from its saved results,
    /// without running anything.
    Plot {
        /// A run folder (with results.json) or a sweep folder (with sweep.json and tidy.csv).
        folder: PathBuf,
        /// Sweep folders: chart these metrics (names as in tidy.csv) instead of the sweep's own.
        #[arg(long = "metric", value_name = "NAME")]
        metrics: Vec<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare two run folders (with or without replicates): differences per architecture and
    /// metric (with intervals when both have replicates), overlaid CDFs, report.html.
    Compare {
        /// The first run folder (A).
        a: PathBuf,
        /// The second run folder (B); differences are B − A.
        b: PathBuf,
        /// Folder to write (default: ./netarch-out/compare-<A's name>-<B's name>).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print the JSON Schema of the scenario format (for editors).
    Schema,
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Arguments of `netarch run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file, built-in scenario name, or preset name (default: the default comparison).
    #[arg(default_value = "default", value_parser = ScenarioName, hide_possible_values = true)]
    pub scenario: String,
    /// Folder to write (default: ./netarch-out/<scenario name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of every random stream (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a key by its dotted path, e.g. `--set arch.0.servers=2` or `--set arch.signal.sealed_sender=false`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run only the architecture with this label (repeatable; default: all).
    #[arg(long = "arch", value_name = "LABEL")]
    pub archs: Vec<String>,
    /// Leave out the scenario's `[[adversary]]` tables: no exposure analysis, a faster run.
    #[arg(long)]
    pub no_adversaries: bool,
    /// Run even when the estimate passes the machine's memory or the event budget
    /// (docs/scenarios.md, "Limits").
    #[arg(long)]
    pub allow_large: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run N replicates, each with its own seed derived from the scenario's (as a sweep's point):
    /// adds tidy.csv, aggregate.csv and a CDF band to the folder (docs/outputs.md).
    #[arg(long, short = 'r', value_name = "N", default_value_t = 1)]
    pub replicates: u32,
    /// Write a trace: messages.csv (one row per recipient copy), timeseries.csv and a chart of
    /// deliveries over time (docs/outputs.md).
    #[arg(long)]
    pub trace: bool,
    /// Replicates at once (default: one per core); the results are the same whatever the number.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            scenario: crate::scenario::builtin::DEFAULT.into(),
            out: None,
            seed: None,
            sets: Vec::new(),
            archs: Vec::new(),
            no_adversaries: false,
            allow_large: false,
            quiet: false,
            replicates: 1,
            jobs: None,
            trace: false,
        }
    }
}

/// Arguments of `netarch sweep`.
#[derive(Debug, Default, clap::Args)]
pub struct SweepArgs {
    /// Scenario file, built-in scenario name, or preset name.
    #[arg(value_parser = ScenarioName, hide_possible_values = true)]
    pub scenario: String,
    /// Vary a key: `KEY=v1,v2,...` or `KEY=start:stop:step` (stop included; numbers or durations).
    /// Repeatable: every combination is a point. Replaces the scenario's `[sweep] vary`.
    #[arg(long = "vary", value_name = "KEY=VALUES")]
    pub vary: Vec<String>,
    /// Runs per point, each with its own seed (default: the `[sweep]` table's, else 5).
    #[arg(long, short = 'r', value_name = "R")]
    pub replicates: Option<u32>,
    /// Runs at once (default: one per core). Results are the same whatever the number.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Base seed that every run's seed derives from (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a key at every point, e.g. `--set world.users=500` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run only the architecture with this label (repeatable; replaces `[sweep] archs`).
    #[arg(long = "arch", value_name = "LABEL")]
    pub archs: Vec<String>,
    /// Leave out the scenario's `[[adversary]]` tables in every run: no exposure analysis, faster runs.
    #[arg(long)]
    pub no_adversaries: bool,
    /// Chart this metric (a name in tidy.csv's `metric` column; repeatable; replaces `[sweep] metrics`).
    #[arg(long = "metric", value_name = "NAME")]
    pub metrics: Vec<String>,
    /// Folder to write (default: ./netarch-out/NAME-sweep, or NAME-sweep-shard-I-of-N for a shard).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only shard i of n (from 0): every n-th run, for a cluster's array job; merge the
    /// shards' folders with `netarch merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Continue an interrupted sweep in its folder: runs already saved are skipped.
    #[arg(long)]
    pub resume: bool,
    /// Print the plan (points, runs, seeds) and check every point's scenario, without running.
    #[arg(long)]
    pub dry_run: bool,
    /// Run the sweep even when the estimate passes the machine's memory or the event budget
    /// summed over its runs (docs/scenarios.md, "Limits").
    #[arg(long)]
    pub allow_large: bool,
    /// Print nothing but errors (no progress bar).
    #[arg(long, short)]
    pub quiet: bool,
}

/// A scenario argument: any text (a file path too), parsed as a string; the built-in scenario and
/// preset names are offered to shell completions as its possible values (issue 13, item 11).
#[derive(Clone, Debug)]
struct ScenarioName;

impl TypedValueParser for ScenarioName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let builtins = crate::scenario::builtin::BUILTINS.iter().map(|b| b.name);
        let presets = crate::scenario::presets::names().into_iter();
        Some(Box::new(builtins.chain(presets).map(PossibleValue::new)))
    }
}
