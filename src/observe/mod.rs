//! Who learns what: the adversaries, fed by the engine's observation port.
//!
//! Every hop a model makes produces one [`crate::engine::observation::Observation`]; the engine
//! streams it to every [`crate::engine::observation::ObservationSink`]. The exposure analysis
//! here is one such sink holding every adversary of a scenario: which nodes and links each
//! watches, what it knows per message in flight, and what it learned (see docs/exposure.md).

pub mod adversary;
pub mod correlate;
pub mod disclosure;
pub mod entropy;
pub mod exposure;
pub mod graph;
pub mod knowledge;
