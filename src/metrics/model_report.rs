//! What a delivery model reports about itself at the end of a run: its server groups' load and
//! its own named figures. Plain data, filled in by the models (through `arch::kit::service` for
//! the load) and carried unchanged into the run's summary.

use std::collections::BTreeMap;

use serde::Serialize;

/// Load figures of one group of identical servers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerStats {
    /// What the servers are ("provider", "home servers", "relays").
    pub role: String,
    /// How many servers (service channels) the group has.
    pub count: u32,
    /// Messages served in the measurement window.
    pub served: u64,
    /// Busy time over available time during the sending period (after the warm-up), 0 to 1.
    pub utilisation: f64,
    /// Most messages waiting at once.
    pub peak_queue: u64,
    /// Mean time from arrival to end of service (sojourn), ms; null when nothing was served.
    pub mean_sojourn_ms: Option<f64>,
    /// Mean time waiting before service, ms; null when nothing was served.
    pub mean_wait_ms: Option<f64>,
}

/// Figures a model reports about itself beyond the engine's metrics.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ModelReport {
    /// Server groups and their load.
    pub servers: Vec<ServerStats>,
    /// Named model-specific figures (retries, lookups), in name order.
    pub figures: BTreeMap<String, f64>,
}
