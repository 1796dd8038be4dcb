//! Metrics: what is recorded during a run (no I/O here, and no knowledge of who records it).
//!
//! A leaf below the engine: [`recorder`] counts every copy's fate and latency; [`model_report`]
//! is what a delivery model reports about itself. The summaries computed from both are in
//! [`crate::results`].

pub mod leaves;
pub mod model_report;
pub mod recorder;
pub mod trace;

pub use model_report::{ModelReport, ServerStats};
pub use recorder::{LossReason, Recorder};
