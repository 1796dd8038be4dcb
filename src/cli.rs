//! The command line: clap types only, parsed into plain values that [`crate::app`] acts on.

use std::path::PathBuf;

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
        scenario: String,
        /// Override a key by its dotted path, e.g. `--set world.users=5000` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// List the built-in scenarios and app presets, with the claims each shows.
    List,
    /// Say what a built-in scenario or preset models, what it shows, and which knob to turn next.
    Explain {
        /// Built-in scenario or preset name.
        name: String,
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
    #[arg(default_value = "default")]
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
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs { scenario: crate::scenario::builtin::DEFAULT.into(), out: None, seed: None, sets: Vec::new(), quiet: false }
    }
}
