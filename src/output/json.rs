//! `results.json`: everything a run measured, with the scenario as resolved, the seed and the
//! netarch version. Field names carry their units (`_ms`, `_s`); `null` means undefined.

use serde::Serialize;

use crate::metrics::ArchSummary;
use crate::run::{Cdfs, RunResults, WorldSummary};
use crate::scenario::Scenario;
use crate::scenario::schema::RawScenario;

/// The version written into every results file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Serialize)]
struct ResultsDoc<'a> {
    netarch_version: &'static str,
    scenario_name: &'a str,
    seed: u64,
    scenario: &'a RawScenario,
    world: &'a WorldSummary,
    architectures: &'a [ArchSummary],
    latency_cdf: Vec<NamedCdfs<'a>>,
}

#[derive(Serialize)]
struct NamedCdfs<'a> {
    name: &'a str,
    #[serde(flatten)]
    cdfs: &'a Cdfs,
}

/// The results document, pretty-printed.
pub fn results_json(scenario: &Scenario, results: &RunResults) -> String {
    let doc = ResultsDoc {
        netarch_version: VERSION,
        scenario_name: scenario.name(),
        seed: scenario.seed(),
        scenario: &scenario.raw,
        world: &results.world,
        architectures: &results.archs,
        latency_cdf: results
            .archs
            .iter()
            .zip(&results.cdfs)
            .map(|(a, c)| NamedCdfs { name: &a.name, cdfs: c })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("results serialise");
    text.push('\n');
    text
}
