//! The built-in delivery models: the closed set of architectures, [`ArchSpec`], matched
//! exhaustively, one file or folder each, and the mechanisms they share (`kit`).
//!
//! Each implements the engine's extension point, [`DeliveryModel`]: it reacts to the engine's
//! events (a send, its own scheduled events, a user coming online or going offline) and moves
//! messages through its nodes by scheduling events, recording hops (which adversaries observe)
//! and settling each recipient copy as delivered or lost.

pub mod centralized;
pub mod federated;
pub mod kit;
pub mod mixnet;
pub mod onion;
pub mod p2p;

use crate::engine::DeliveryModel;

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
