//! netarch's integration tests: one binary, one module per topic.

mod bad_input;
mod builtins;
mod common;
mod determinism;
mod exposure;
mod federated;
mod mixnet;
mod onion;
mod p2p;
mod queueing;
mod report_browser;
mod sizes;
mod store_and_forward;
mod sweep;
