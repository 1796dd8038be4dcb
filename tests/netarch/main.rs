//! netarch's integration tests: one binary, one module per topic.

mod bad_input;
mod builtins;
mod common;
mod connectivity;
mod deps;
mod determinism;
mod exposure;
mod federated;
mod fuzz;
mod headline;
mod inputs;
mod issue13;
mod mixnet;
mod onion;
mod p2p;
mod queueing;
mod readings;
mod replicates;
mod report_browser;
mod safe_outputs;
mod sizes;
mod store_and_forward;
mod sweep;
