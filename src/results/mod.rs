//! Results: the figures of a finished run, computed from the engine's recordings, the model's
//! report and the adversaries' findings (no I/O here; [`crate::output`] writes them).

pub mod summary;

pub use summary::{ArchSummary, CdfPoint, LatencyStats};
