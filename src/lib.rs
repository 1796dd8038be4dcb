//! netarch: a discrete-event simulator of network architectures for private messaging.
pub mod arch;
pub mod dist;
pub mod engine;
pub mod metrics;
pub mod observe;
pub mod run;
pub mod time;
pub mod scenario;
pub mod world;
