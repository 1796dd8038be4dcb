//! The netarch binary: parse the command line, run, map errors to exit codes.

use std::io::IsTerminal;

use clap::Parser;
use netarch::app::{AppError, execute};
use netarch::cli::Cli;
use netarch::output::text::printable;
use netarch::scenario::ScenarioError;

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
                eprintln!("{text}");
            }
            if diagnostics.len() > SHOWN {
                eprintln!("... and {} more problem(s); fix these first.", diagnostics.len() - SHOWN);
            }
        }
        other => {
            // Messages quote user text; control characters in it are shown as escapes.
            eprintln!("error: {}", printable(&other.to_string()));
            if let Some(hint) = other.hint() {
                eprintln!("hint: {}", printable(&hint));
            }
        }
    }
}
