//! netarch: a discrete-event simulator of network architectures for private messaging.
//!
//! It answers one question with numbers: what does each architecture — centralized, federated,
//! peer-to-peer, onion-routed — cost in latency, in offline delivery and in metadata exposure, on
//! the same people sending the same messages? Messages are events that cross hops; packets, TCP
//! and cryptography are not simulated.
//!
//! # A tour, in the order data flows
//!
//! 1. [`scenario`] reads a TOML file (or a built-in scenario, or an app preset), applies `--set`
//!    overrides, parses it into serde types that reject unknown keys, then checks every value and
//!    builds the engine's own types. Errors name the file, line, key, and a hint.
//! 2. [`world`] generates, once per seed, the people: their regions and the latency between them,
//!    their contacts (a petgraph social graph), rooms, and the parameters of their online/offline
//!    and sending processes.
//! 3. [`engine`] runs one architecture on that world: a timing-wheel event queue ordered by
//!    (time, insertion), per-purpose random streams, the world's processes replayed identically
//!    for every architecture (a paired comparison), and the [`engine::Ctx`] through which a model
//!    acts.
//! 4. [`arch`] holds the [`arch::DeliveryModel`] trait — the one open extension point — and the
//!    built-in architectures, one file each.
//! 5. [`observe`] streams what each hop shows to the scenario's adversaries, who keep only what
//!    is in flight and report what they learned (senders, recipients, pairs, addresses, the
//!    social graph, anonymity by timing correlation, a statistical disclosure attack).
//! 6. [`metrics`] records what happens to every copy and summarises it (no I/O).
//! 7. [`run`] runs every architecture of a scenario on one world, in parallel, deterministically.
//! 8. [`output`] writes the run folder (JSON, CSV, charts, report.html) and the terminal summary.
//! 9. [`sweep`] repeats runs over a grid of parameter values with replicates, on all cores or in
//!    shards across machines, into tidy and aggregated tables, charts and a report; [`app`] and
//!    [`cli`] are the command line.
//!
//! Time is an integer ([`time::SimTime`], microseconds); floating-point seconds never enter the
//! queue.
//!
//! # Example
//!
//! Always-online people on one provider: everything is delivered, within a second.
//!
//! ```
//! use netarch::scenario::{Source, parse};
//!
//! let text = r#"
//!     name = "example"
//!     duration = "10min"
//!     [world]
//!     users = 200
//!     availability = { always_online = 1.0 }
//!     [[arch]]
//!     preset = "signal"
//! "#;
//! let source = Source { file: "example.toml".into(), text: text.into(), dir: None };
//! let scenario = parse(&source, &[]).expect("a valid scenario");
//! let results = netarch::run::run(&scenario, netarch::run::entries(&scenario), &|_, _| {}).unwrap();
//! let signal = &results.archs[0];
//! assert_eq!(signal.delivery_ratio, Some(1.0));
//! assert!(signal.latency.p99_ms.unwrap() < 1_000.0);
//! ```

pub mod app;
pub mod arch;
pub mod cli;
pub mod dist;
pub mod engine;
pub mod metrics;
pub mod observe;
pub mod output;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod template;
pub mod text;
pub mod time;
pub mod world;
