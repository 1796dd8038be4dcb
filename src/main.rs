//! The netarch binary: parse the command line, run, map errors to exit codes.

mod app;
mod cli;

use std::io::{IsTerminal, Write};

use app::{AppError, execute};
use clap::Parser;
use cli::Cli;
use netarch::scenario::ScenarioError;
use netarch::text::printable;
// The library's modules that `app` and `cli` use, named at the binary's root so that their
// `crate::…` paths reach the library: the command line lives in the binary alone, and a library
// user does not build clap, indicatif or ctrlc's callers.
use netarch::{engine, output, run, scenario, sweep, template, text};

fn main() {
    let cli = Cli::parse();
    if let Err(e) = execute(cli) {
        if matches!(e, AppError::PipeClosed) {
            // The reader went away (`netarch list | head -1`): a quiet, successful end.
            std::process::exit(0);
        }
        report(&e);
        std::process::exit(e.exit_code());
    }
}

/// Writes a line to standard error; a closed stderr (`2>&1 | head -1`) loses the line, never
/// the exit code.
macro_rules! warn_line {
    ($($arg:tt)*) => { let _ = writeln!(std::io::stderr(), $($arg)*); };
}

/// Prints an error on one screen: scenario problems framed with their file, line and key.
fn report(e: &AppError) {
    match e {
        AppError::Scenario(ScenarioError::Invalid(diagnostics)) => {
            const SHOWN: usize = 3;
            let theme = if std::io::stderr().is_terminal() {
                miette::GraphicalTheme::unicode()
            } else {
                miette::GraphicalTheme::unicode_nocolor()
            };
            let handler = miette::GraphicalReportHandler::new_themed(theme);
            for d in diagnostics.iter().take(SHOWN) {
                let mut text = String::new();
                if handler.render_report(&mut text, d).is_err() {
                    text = d.to_string();
                }
                warn_line!("{text}");
            }
            if diagnostics.len() > SHOWN {
                warn_line!("... and {} more problem(s); fix these first.", diagnostics.len() - SHOWN);
            }
        }
        other => {
            // Messages quote user text; control characters in it are shown as escapes.
            warn_line!("error: {}", printable(&other.to_string()));
            if let Some(hint) = other.hint() {
                warn_line!("hint: {}", printable(&hint));
            }
        }
    }
}
