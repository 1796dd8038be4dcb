//! netarch: a discrete-event simulator of network architectures for private messaging.
pub mod app;
pub mod arch;
pub mod cli;
pub mod dist;
pub mod engine;
pub mod metrics;
pub mod observe;
pub mod output;
pub mod run;
pub mod time;
pub mod scenario;
pub mod world;
