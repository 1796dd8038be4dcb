//! The engine's extension point: the trait a delivery model implements, and its events.
//!
//! A delivery model reacts to the engine's events (a send, its own scheduled events, a user
//! coming online or going offline) and moves messages through its nodes by scheduling events,
//! recording hops (which adversaries observe) and settling each recipient copy as delivered or
//! lost, all through [`Ctx`]. The trait is the open extension point: a researcher implements
//! [`DeliveryModel`] for an own routing model and runs it beside the built-in ones (see
//! `examples/`); the engine names none of them.

use crate::engine::observation::NodeId;
use crate::engine::{Ctx, MsgId, SimRng};
use crate::metrics::ModelReport;
use crate::world::UserId;

/// A delivery protocol, reacting to events on the shared world.
pub trait DeliveryModel: Send {
    /// The label this architecture carries in every output.
    fn name(&self) -> &str;

    /// Roughly how many engine events one message costs this model, relative to other models.
    /// Runs of one scenario start in decreasing order of it, so the longest run never starts
    /// last on a busy core; it never changes results.
    fn work_per_message(&self) -> f64 {
        5.0
    }

    /// Builds the infrastructure (servers, relays) and schedules its own timeline (outages).
    /// `infra_rng` is this architecture's infrastructure stream; run-time draws use `ctx.rng()`.
    fn init(&mut self, ctx: &mut Ctx<'_>, infra_rng: &mut SimRng);

    /// A user sent message `msg` (its sender, destination and size are in `ctx.msg(msg)`).
    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId);

    /// One of this model's own scheduled events fired.
    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent);

    /// `user` came online.
    fn on_online(&mut self, _ctx: &mut Ctx<'_>, _user: UserId) {}

    /// `user` went offline.
    fn on_offline(&mut self, _ctx: &mut Ctx<'_>, _user: UserId) {}

    /// Infrastructure node `node` went down (`up` false) or came back, by the fault timeline the
    /// model registered with `Ctx::add_node_faults`.
    fn on_node_change(&mut self, _ctx: &mut Ctx<'_>, _node: NodeId, _up: bool) {}

    /// `user`'s internet connectivity changed (a regional outage began or ended), whether or not
    /// the app is online; called only for users whose state actually flips.
    fn on_connectivity(&mut self, _ctx: &mut Ctx<'_>, _user: UserId, _connected: bool) {}

    /// The run ended: settle what the model knows is lost by now (expired storage), and report
    /// the model's own figures. Copies still pending afterwards count as in flight.
    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport;
}

/// An event of a delivery model: a kind the model defines and three words of payload.
///
/// Small and `Copy` so the queue moves it by value; kinds at or above [`ModelEvent::RESERVED`]
/// belong to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelEvent {
    /// The model's own event kind.
    pub kind: u16,
    /// Payload word (often a message slot).
    pub a: u32,
    /// Payload word (often a message generation).
    pub b: u32,
    /// Payload word (a node, a copy's recipient, an attempt number).
    pub c: u32,
}

impl ModelEvent {
    /// First kind reserved for the engine's own events.
    pub const RESERVED: u16 = 0xFF00;
    pub(super) const TOGGLE: u16 = 0xFFFF;
    pub(super) const SEND: u16 = 0xFFFE;
    /// A node's fault transition: `a` = index among infrastructure nodes, `b` = 1 when it comes up.
    pub(super) const NODE: u16 = 0xFFFD;
    /// An internet transition: `a` = region (or every region), `b` = 1 when it comes back.
    pub(super) const NET: u16 = 0xFFFC;

    /// An event about a message: its handle travels in `a` and `b`.
    #[inline]
    pub fn for_msg(kind: u16, msg: MsgId, c: u32) -> ModelEvent {
        ModelEvent { kind, a: msg.slot, b: msg.generation, c }
    }

    /// The message handle of an event made by [`ModelEvent::for_msg`].
    #[inline]
    pub fn msg(&self) -> MsgId {
        MsgId { slot: self.a, generation: self.b }
    }
}
