//! Metrics: what is recorded during a run and the summaries computed from it (no I/O here).

pub mod leaves;
pub mod recorder;
pub mod summary;

pub use recorder::{LossReason, Recorder, Window};
pub use summary::{ArchSummary, CdfPoint, LatencyStats};
