//! Helpers shared by the integration tests.

use netarch::results::ArchSummary;
use netarch::run::{RunResults, entries, run};
use netarch::scenario::{Scenario, Source, parse};

/// Parses scenario text (panicking with the framed error if it is invalid).
pub fn scenario(text: &str) -> Scenario {
    scenario_with(text, &[])
}

/// Parses scenario text with `--set` overrides.
pub fn scenario_with(text: &str, sets: &[&str]) -> Scenario {
    let src = Source { file: "test.toml".into(), text: text.into(), dir: None };
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match parse(&src, &sets) {
        Ok(s) => s,
        Err(netarch::scenario::ScenarioError::Invalid(d)) => {
            panic!("invalid scenario: {:?}", d.iter().map(|x| x.to_string()).collect::<Vec<_>>())
        }
        Err(e) => panic!("{e}"),
    }
}

/// Runs every architecture of a scenario.
pub fn run_all(s: &Scenario) -> RunResults {
    run(s, entries(s), &|_, _| {}).expect("run succeeds (conservation holds)")
}

/// Runs scenario text and returns its results.
pub fn run_text(text: &str) -> RunResults {
    run_all(&scenario(text))
}

/// The summary of the architecture labelled `name`.
pub fn arch<'a>(r: &'a RunResults, name: &str) -> &'a ArchSummary {
    r.archs.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("no architecture `{name}` in the results"))
}

/// Mean and half-width of a two-sided 99.9% t confidence interval over replicate values.
pub fn mean_ci999(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t999(values.len() - 1) * (var / n).sqrt())
}

/// Two-sided 99.9% quantile of Student's t with `df` degrees of freedom (t_{0.9995, df}).
pub fn t999(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=4 => [636.62, 31.599, 12.924, 8.610][df - 1],
        5..=9 => [6.869, 5.959, 5.408, 5.041, 4.781][df - 5],
        10..=14 => [4.587, 4.437, 4.318, 4.221, 4.140][df - 10],
        15..=19 => [4.073, 4.015, 3.965, 3.922, 3.883][df - 15],
        20..=29 => 3.850 - (df - 20) as f64 * 0.0105,
        _ => 3.646,
    }
}
