//! Recording what happens to messages during a run: counts, latency histograms, costs.
//!
//! The recorder is fed by the engine as copies are delivered or lost and as hops are made; it
//! allocates nothing per event (the histograms are fixed-size). Messages sent during the warm-up
//! are simulated but not recorded. `results::summary` turns a recorder into figures.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::time::SimDuration;

/// Why a copy of a message was never delivered. A closed set: every model picks one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossReason {
    /// Stored for an offline recipient longer than the server's retention limit.
    RetentionExpired,
    /// The sender's client stopped retrying.
    SenderGaveUp,
    /// A relay on the path failed and no retry succeeded.
    RelayFailure,
    /// A home server refused the destination server (defederation).
    FederationBlocked,
    /// Sender and recipient have no route to each other at all (isolated servers).
    Unreachable,
    /// A stored copy outlived its time-to-live in a storage swarm or mailbox.
    TtlExpired,
    /// A server dropped the message because its queue was full.
    QueueOverflow,
}

impl LossReason {
    /// Every reason, in report order.
    pub const ALL: [LossReason; 7] = [
        LossReason::RetentionExpired,
        LossReason::SenderGaveUp,
        LossReason::RelayFailure,
        LossReason::FederationBlocked,
        LossReason::Unreachable,
        LossReason::TtlExpired,
        LossReason::QueueOverflow,
    ];

    /// The snake_case name used in CSV and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LossReason::RetentionExpired => "retention_expired",
            LossReason::SenderGaveUp => "sender_gave_up",
            LossReason::RelayFailure => "relay_failure",
            LossReason::FederationBlocked => "federation_blocked",
            LossReason::Unreachable => "unreachable",
            LossReason::TtlExpired => "ttl_expired",
            LossReason::QueueOverflow => "queue_overflow",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Highest latency the histograms track: 400 days, in microseconds (longer waits saturate).
const MAX_TRACKED_US: u64 = 400 * 86_400 * 1_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("valid histogram bounds")
}

/// Counters and histograms of one architecture's run.
#[derive(Clone, Debug)]
pub struct Recorder {
    /// Deadline for "delivered in time".
    pub deadline: SimDuration,
    /// Messages created after the warm-up.
    pub messages_created: u64,
    /// Recipient copies of those messages (a room message has one per other member).
    pub copies_created: u64,
    /// Copies delivered.
    pub delivered: u64,
    /// Copies delivered within the deadline.
    pub delivered_in_deadline: u64,
    /// Copies lost, by reason.
    pub lost: [u64; LossReason::ALL.len()],
    /// Latency of every delivered copy, microseconds.
    pub latency: Histogram<u64>,
    /// Latency of copies whose recipient was online at send.
    pub latency_online: Histogram<u64>,
    /// Latency of copies whose recipient was offline at send.
    pub latency_offline: Histogram<u64>,
    /// For copies whose recipient was offline at send: time from the recipient coming online to
    /// delivery.
    pub online_to_delivery: Histogram<u64>,
    /// Time copies spent stored at an intermediary waiting for their recipient.
    pub stored_time: Histogram<u64>,
    /// Sum of hop counts over delivered copies.
    pub hops_sum: u64,
    /// Hops made for recorded messages (every transmission between two nodes).
    pub transmissions: u64,
    /// Bytes carried by those hops.
    pub bytes: u64,
    /// Hops made by traffic that is not a message (cover, polling, lookups), and their bytes.
    pub overhead_transmissions: u64,
    /// Bytes of overhead traffic.
    pub overhead_bytes: u64,
    /// Connections opened by user devices in the measurement window.
    pub device_connections: u64,
    /// Times a user device was woken (push, poll, retry) in the measurement window.
    pub device_wakeups: u64,
}

impl Recorder {
    /// An empty recorder with the given delivery deadline.
    pub fn new(deadline: SimDuration) -> Recorder {
        Recorder {
            deadline,
            messages_created: 0,
            copies_created: 0,
            delivered: 0,
            delivered_in_deadline: 0,
            lost: [0; LossReason::ALL.len()],
            latency: histogram(),
            latency_online: histogram(),
            latency_offline: histogram(),
            online_to_delivery: histogram(),
            stored_time: histogram(),
            hops_sum: 0,
            transmissions: 0,
            bytes: 0,
            overhead_transmissions: 0,
            overhead_bytes: 0,
            device_connections: 0,
            device_wakeups: 0,
        }
    }

    /// A message with `copies` recipient copies was created.
    pub fn created(&mut self, copies: u32) {
        self.messages_created += 1;
        self.copies_created += copies as u64;
    }

    /// One copy was delivered.
    pub fn delivered(
        &mut self,
        latency: SimDuration,
        online_at_send: bool,
        hops: u32,
        since_online: Option<SimDuration>,
    ) {
        let us = latency.0.clamp(1, MAX_TRACKED_US);
        self.delivered += 1;
        if latency <= self.deadline {
            self.delivered_in_deadline += 1;
        }
        self.latency.saturating_record(us);
        if online_at_send {
            self.latency_online.saturating_record(us);
        } else {
            self.latency_offline.saturating_record(us);
            if let Some(d) = since_online {
                self.online_to_delivery.saturating_record(d.0.clamp(1, MAX_TRACKED_US));
            }
        }
        self.hops_sum += hops as u64;
    }

    /// One copy was lost.
    pub fn lost(&mut self, reason: LossReason) {
        self.lost[reason.index()] += 1;
    }

    /// A copy left storage after waiting there.
    pub fn stored_for(&mut self, wait: SimDuration) {
        self.stored_time.saturating_record(wait.0.clamp(1, MAX_TRACKED_US));
    }

    /// Copies lost for any reason.
    pub fn lost_total(&self) -> u64 {
        self.lost.iter().sum()
    }

    /// Copies lost for `reason`.
    pub fn lost_for(&self, reason: LossReason) -> u64 {
        self.lost[reason.index()]
    }
}
