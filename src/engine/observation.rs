//! The engine's observation port: what each hop shows, and the sink trait that consumes it.
//!
//! Every hop a model makes through [`crate::engine::Ctx::hop`] produces one [`Observation`]: when,
//! which link (from and to network addresses), how many bytes, and which identities the receiving
//! node can read there (the model decides that from its protocol: sealed sender hides the sender
//! from the server, onion layers hide everything but the neighbours). Observations stream into
//! sinks as they happen and are not stored; the ground truth travels beside them so analyses can
//! score an adversary's guesses. The engine owns the record and the sink trait; the adversaries
//! that consume them (`observe`) depend on it, never the reverse.

use serde::Serialize;

use crate::time::SimTime;
use crate::world::{RegionId, UserId};

/// A network address: users are `0..users`, infrastructure nodes follow.
pub type NodeId = u32;

/// What kind of node an address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A user's device.
    Device,
    /// A provider's server (centralized).
    ProviderServer,
    /// A home server (federated).
    HomeServer,
    /// An onion relay or service node.
    Relay,
    /// A storage node (swarm member, mailbox, mix provider).
    Storage,
    /// A mix node.
    Mix,
    /// A DHT node that is not a user device.
    DhtNode,
}

/// The identities a receiving node can read from a hop, beyond the link's addresses and timing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Visible {
    /// The sender's identity (account, key) is readable.
    pub sender: bool,
    /// The recipient's identity is readable.
    pub recipient: bool,
    /// The room is readable.
    pub room: bool,
    /// The same message is recognisable at other hops (plaintext routing header or message id).
    pub linkable: bool,
    /// On the wire and at the node it reaches, the hop looks exactly like the cover traffic sent
    /// around it (same size, same schedule): nobody can tell that it carries a message, though
    /// its timing is still there to correlate.
    pub cover_like: bool,
}

impl Visible {
    /// Nothing but addresses and timing (an onion layer, a TLS link).
    pub const NOTHING: Visible =
        Visible { sender: false, recipient: false, room: false, linkable: false, cover_like: false };
    /// A server that routes by both identities.
    pub const BOTH: Visible = Visible { sender: true, recipient: true, room: true, linkable: true, cover_like: false };
}

/// The truth about the message behind an observation, for scoring guesses; never shown to an
/// adversary's inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truth {
    /// The message's serial number.
    pub serial: u64,
    /// Who really sent it.
    pub sender: UserId,
    /// The copy's real recipient, when the hop carries one copy; `None` for a room fan-in hop.
    pub recipient: Option<UserId>,
    /// The room the message went to, for a room message.
    pub room: Option<u32>,
    /// Whether the message was sent after the warm-up (it enters the statistics).
    pub counted: bool,
}

/// One hop as seen by whoever watches it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// When the hop left `from`.
    pub time: SimTime,
    /// Source address.
    pub from: NodeId,
    /// Destination address.
    pub to: NodeId,
    /// Bytes on the wire.
    pub bytes: u32,
    /// What `to` can read.
    pub visible: Visible,
    /// The sender identity `to` reads, if visible.
    pub sender: Option<UserId>,
    /// The recipient identity `to` reads, if visible.
    pub recipient: Option<UserId>,
    /// The room `to` reads, if visible.
    pub room: Option<u32>,
    /// Ground truth.
    pub truth: Truth,
    /// Whether this hop carries a real message (false for cover and polling traffic).
    pub real: bool,
}

/// Something that consumes observations as they happen (an adversary, a tally, a trace writer).
pub trait ObservationSink {
    /// Called once per hop, in simulated-time order.
    fn observe(&mut self, obs: &Observation, kinds: &NodeKinds<'_>);

    /// Called once after the model has built its infrastructure and before the first event, when
    /// every node's kind, weight and region is known (adversaries choose what they watch here).
    fn start(&mut self, kinds: &NodeKinds<'_>) {
        let _ = kinds;
    }

    /// Called once per message when it can make no more hops: its last copy was delivered or lost,
    /// or the run ended with it in flight. `truth.recipient` is `None` for a room message. Sinks
    /// that keep per-message state settle and free it here, so memory follows what is in flight.
    fn retired(&mut self, truth: &Truth, now: SimTime) {
        let _ = (truth, now);
    }
}

/// Lets sinks ask what kind of node an address is without owning the node table.
pub struct NodeKinds<'a> {
    /// Number of users (addresses below this are devices).
    pub users: u32,
    /// Kinds of the infrastructure nodes, from address `users` on.
    pub infra: &'a [NodeKind],
    /// Weights of the infrastructure nodes (bandwidth, users hosted), from address `users` on.
    pub weights: &'a [f64],
    /// Regions of the users' devices.
    pub user_regions: &'a [RegionId],
    /// Regions of the infrastructure nodes, from address `users` on.
    pub infra_regions: &'a [RegionId],
}

impl NodeKinds<'_> {
    /// The kind of `node`.
    #[inline]
    pub fn of(&self, node: NodeId) -> NodeKind {
        if node < self.users { NodeKind::Device } else { self.infra[(node - self.users) as usize] }
    }

    /// The weight of `node` (1 for devices and for nodes whose model set none).
    #[inline]
    pub fn weight(&self, node: NodeId) -> f64 {
        if node < self.users { 1.0 } else { self.weights[(node - self.users) as usize] }
    }

    /// The region of `node`.
    #[inline]
    pub fn region(&self, node: NodeId) -> RegionId {
        if node < self.users {
            self.user_regions[node as usize]
        } else {
            self.infra_regions[(node - self.users) as usize]
        }
    }

    /// Number of addresses (devices and infrastructure nodes).
    #[inline]
    pub fn nodes(&self) -> u32 {
        self.users + self.infra.len() as u32
    }
}

/// Counts, per receiving node kind, how many real-message hops revealed each identity: a compact
/// visibility table of what the architecture exposes, measured from the hops it made.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VisibilityTally {
    /// Per node kind: (hops, sender visible, recipient visible, both visible).
    pub by_kind: std::collections::BTreeMap<NodeKind, [u64; 4]>,
}

impl ObservationSink for VisibilityTally {
    fn observe(&mut self, obs: &Observation, kinds: &NodeKinds<'_>) {
        if !obs.real {
            return;
        }
        let row = self.by_kind.entry(kinds.of(obs.to)).or_insert([0; 4]);
        row[0] += 1;
        row[1] += obs.visible.sender as u64;
        row[2] += obs.visible.recipient as u64;
        row[3] += (obs.visible.sender && obs.visible.recipient) as u64;
    }
}
