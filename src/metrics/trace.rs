//! Per-copy traces: what happened to every recipient copy, handed to a [`CopySink`] the moment
//! the copy is settled (delivered or lost) and, for copies still in flight, when the run ends.
//! The engine calls the sink and knows nothing of files; writers live in `output` (the CSV of
//! `netarch run --trace`). Records are small and `Copy`, so tracing allocates nothing per copy.

use super::LossReason;
use crate::time::SimTime;
use crate::world::UserId;

/// What became of a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered to its recipient.
    Delivered,
    /// Lost, for a reason.
    Lost(LossReason),
    /// Neither when the run ended.
    InFlight,
}

/// One recipient copy, settled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CopyRecord {
    /// The message's serial number (in order of sending).
    pub message: u64,
    /// The recipient; `None` for a room copy lost or left in flight (the engine settles those
    /// by message, not by member).
    pub recipient: Option<UserId>,
    /// When the message was sent.
    pub sent: SimTime,
    /// When the copy was settled (delivery or loss time; the run's end for one in flight).
    pub at: SimTime,
    /// What became of it.
    pub outcome: Outcome,
    /// Hops it took (delivered copies; 0 otherwise).
    pub hops: u32,
    /// Whether the recipient was online at send (`None` where unknown: a room copy not delivered).
    pub online_at_send: Option<bool>,
    /// Whether the copy counts in the measurement window (sent after the warm-up).
    pub counted: bool,
}

/// Receives every copy of a run as it is settled, in simulated-time order of settlement.
pub trait CopySink {
    /// A copy was created (`copies` of one message, sent at `at`).
    fn created(&mut self, at: SimTime, copies: u32, counted: bool);
    /// A copy was settled (or, at the end, left in flight).
    fn settled(&mut self, copy: &CopyRecord);
}
