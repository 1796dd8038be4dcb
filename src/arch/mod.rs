//! Delivery models: the trait every architecture implements, and the closed set of built-in ones.
//!
//! A delivery model reacts to the engine's events (a send, its own scheduled events, a user
//! coming online or going offline) and moves messages through its nodes by scheduling events,
//! recording hops (which adversaries observe) and settling each recipient copy as delivered or
//! lost. The trait is the open extension point: a researcher implements [`DeliveryModel`] for an
//! own routing model and runs it beside the built-in ones (see `examples/`). The built-in
//! architectures are a closed set, [`ArchSpec`], matched exhaustively.

pub mod centralized;
pub mod federated;
pub mod kit;
pub mod mixnet;
pub mod onion;
pub mod p2p;

use crate::engine::{Ctx, ModelEvent, MsgId, SimRng};
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

    /// The run ended: settle what the model knows is lost by now (expired storage), and report
    /// the model's own figures. Copies still pending afterwards count as in flight.
    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport;
}

/// The built-in architectures, with their resolved parameters.
#[derive(Clone, Debug)]
pub enum ArchSpec {
    /// Signal-like: one provider's servers, push or store-and-forward.
    Centralized(centralized::CentralizedParams),
    /// Matrix-like: home servers relaying to each other, with back-off and defederation.
    Federated(federated::FederatedParams),
    /// Session/Tor-like: onion paths through service nodes to a storage swarm the recipient polls.
    Onion(onion::OnionParams),
    /// Briar-like: direct connections between online peers, held by the sender meanwhile.
    P2p(p2p::P2pParams),
    /// Loopix-like: mix layers with random delays, cover traffic, providers storing for users.
    Mixnet(mixnet::MixnetParams),
}

impl ArchSpec {
    /// The kind's name as written in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            ArchSpec::Centralized(_) => "centralized",
            ArchSpec::Federated(_) => "federated",
            ArchSpec::Onion(_) => "onion",
            ArchSpec::P2p(_) => "p2p",
            ArchSpec::Mixnet(_) => "mixnet",
        }
    }

    /// Builds a fresh model for one run.
    pub fn build(&self, name: &str) -> Box<dyn DeliveryModel> {
        match self {
            ArchSpec::Centralized(p) => Box::new(centralized::Centralized::new(name, p.clone())),
            ArchSpec::Federated(p) => Box::new(federated::Federated::new(name, p.clone())),
            ArchSpec::Onion(p) => Box::new(onion::Onion::new(name, p.clone())),
            ArchSpec::P2p(p) => Box::new(p2p::P2p::new(name, p.clone())),
            ArchSpec::Mixnet(p) => Box::new(mixnet::Mixnet::new(name, p.clone())),
        }
    }
}
