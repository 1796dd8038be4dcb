//! The `kind = "p2p"` table: a Briar-like peer-to-peer messenger (docs/arch/p2p.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::arch::ArchSpec;
use crate::arch::p2p::{Discovery, P2pParams, Transport};
use crate::scenario::arch::ArchConfig;
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::resolve::{Env, at_least, dist, positive_duration, probability};
use crate::scenario::schema::RawDist;
use crate::scenario::units::{Duration, Size};
use crate::time::SimDuration;

/// Most relays an onion connection may cross (a path is a fixed-size part of each transmission).
pub const MAX_ONION_HOPS: u32 = 16;

/// How peers find each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawDiscovery {
    /// Addresses come with the contact exchange (QR code, `briar://` link).
    Contacts,
    /// An iterative Kademlia lookup before the first connection to each recipient.
    Dht,
}

/// How peers reach each other over the internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawTransport {
    /// One hop between the two devices (each sees the other's IP address).
    Direct,
    /// Onion service to onion service through `onion_hops` relays (hides IP addresses).
    Onion,
}

/// A peer-to-peer (Briar-like) messenger.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct P2pConfig {
    /// How a sender learns the recipient's address: "contacts" (exchanged when adding the
    /// contact, as in Briar) or "dht" (Kademlia lookup). Default "contacts".
    #[serde(default = "default_discovery")]
    pub discovery: RawDiscovery,
    /// Kademlia bucket size k. Default 20 (libp2p K_VALUE, XLattice spec; DEFAULTS.md §8).
    #[serde(default = "default_k")]
    pub dht_k: u32,
    /// Kademlia lookup parallelism α. Default 3 (libp2p ALPHA_VALUE; DEFAULTS.md §8).
    #[serde(default = "default_alpha")]
    pub dht_alpha: u32,
    /// Size of one lookup request or reply. Default 500B (ASSUMPTION: a reply lists k = 20
    /// contacts of about 26 bytes each).
    #[serde(default = "default_rpc_size")]
    pub dht_rpc_size: Size,
    /// "direct" or "onion". Default "direct".
    #[serde(default = "default_transport")]
    pub transport: RawTransport,
    /// Relays on an onion connection. Default 6 (client 3 + onion service 3, meeting at the
    /// rendezvous relay; DEFAULTS.md §5).
    #[serde(default = "default_onion_hops")]
    pub onion_hops: u32,
    /// Relays in the onion network. Default 7000 (Tor's order of magnitude, DEFAULTS.md §5).
    #[serde(default = "default_onion_relays")]
    pub onion_relays: u32,
    /// Poll interval right after a back-off reset. Default 1min (Briar TorPluginFactory
    /// MIN_POLLING_INTERVAL; DEFAULTS.md §3).
    #[serde(default = "default_poll_min")]
    pub poll_min: Duration,
    /// Cap of the poll interval. Default 10min (MAX_POLLING_INTERVAL; DEFAULTS.md §3).
    #[serde(default = "default_poll_max")]
    pub poll_max: Duration,
    /// Growth factor of the poll interval per round. Default 1.2 (BACKOFF_BASE; DEFAULTS.md §3).
    #[serde(default = "default_backoff")]
    pub poll_backoff: f64,
    /// Poll as soon as the transport comes up (coming online, internet back). Default true
    /// (Briar PollerImpl polls a newly active transport at once).
    #[serde(default = "default_true")]
    pub poll_on_start: bool,
    /// Keep-alive period of an idle open connection; "0s" for none. Default 30s (Briar
    /// TorPluginFactory MAX_IDLE_TIME, the keep-alive period of DuplexOutgoingSession).
    #[serde(default = "default_keepalive")]
    pub keepalive: Duration,
    /// Size of one keep-alive on one link, counted as overhead traffic. Default 514B (one Tor
    /// cell, tor-spec CELL_LEN for link protocol 4+; ASSUMPTION for direct connections).
    #[serde(default = "default_keepalive_size")]
    pub keepalive_size: Size,
    /// Round trips over the path to open a connection before the first message. Default 1
    /// (ASSUMPTION; a lower bound for onion connections).
    #[serde(default = "default_one")]
    pub setup_round_trips: u32,
    /// Age of a message after which the sender's client stops trying. Default 2d (Briar
    /// RendezvousConstants give-up, taken as an ASSUMPTION for messages; DEFAULTS.md §3).
    #[serde(default = "default_give_up")]
    pub give_up: Duration,
    /// Share of users who own an always-online mailbox. Default 0 (Briar Mailbox is optional).
    #[serde(default)]
    pub mailbox: f64,
    /// How long a mailbox keeps an undownloaded copy. Default 14d (Briar MailboxConstants
    /// MAX_LATENCY, taken as the storage limit: ASSUMPTION; DEFAULTS.md §3).
    #[serde(default = "default_mailbox_ttl")]
    pub mailbox_ttl: Duration,
    /// Delay before a client uploads to a mailbox. Default 5s (MailboxUploadWorker; DEFAULTS.md §3).
    #[serde(default = "default_upload_delay")]
    pub mailbox_upload_delay: Duration,
    /// Nearby devices connect over Bluetooth/Wi-Fi when their region has no internet. Default false.
    #[serde(default)]
    pub mesh: bool,
    /// Share of same-region contact pairs within radio reach. Default 1 (ASSUMPTION: a region
    /// stands for one town in mesh scenarios).
    #[serde(default = "default_reach")]
    pub mesh_reach: f64,
    /// One-way latency of a mesh hop. Default exponential, mean 100ms (ASSUMPTION: no published
    /// Briar Bluetooth/Wi-Fi figure).
    #[serde(default = "default_mesh_latency")]
    pub mesh_latency: RawDist<Duration>,
}

fn default_discovery() -> RawDiscovery {
    RawDiscovery::Contacts
}
fn default_k() -> u32 {
    20
}
fn default_alpha() -> u32 {
    3
}
fn default_rpc_size() -> Size {
    Size(500.0)
}
fn default_transport() -> RawTransport {
    RawTransport::Direct
}
fn default_onion_hops() -> u32 {
    6
}
fn default_onion_relays() -> u32 {
    7000
}
fn default_poll_min() -> Duration {
    Duration(SimDuration::from_secs(60))
}
fn default_poll_max() -> Duration {
    Duration(SimDuration::from_secs(600))
}
fn default_backoff() -> f64 {
    1.2
}
fn default_true() -> bool {
    true
}
fn default_keepalive() -> Duration {
    Duration(SimDuration::from_secs(30))
}
fn default_keepalive_size() -> Size {
    Size(514.0)
}
fn default_one() -> u32 {
    1
}
fn default_give_up() -> Duration {
    Duration(SimDuration::from_secs(2 * 86_400))
}
fn default_mailbox_ttl() -> Duration {
    Duration(SimDuration::from_secs(14 * 86_400))
}
fn default_upload_delay() -> Duration {
    Duration(SimDuration::from_secs(5))
}
fn default_reach() -> f64 {
    1.0
}
fn default_mesh_latency() -> RawDist<Duration> {
    RawDist::exp(SimDuration::from_millis(100))
}

impl ArchConfig for P2pConfig {
    const KIND: &'static str = "p2p";
    const SUMMARY: &'static str = "direct connections between online peers, held by the sender's client meanwhile; DHT or contact discovery, optional onion transport, mailbox and mesh (Briar-like)";

    fn resolve(&self, path: &KeyPath, _env: &Env<'_>, problems: &mut Vec<Problem>) -> Option<ArchSpec> {
        let dht_k = at_least(self.dht_k, 1, path.key("dht_k"), problems);
        let dht_alpha = at_least(self.dht_alpha, 1, path.key("dht_alpha"), problems);
        if !(self.dht_rpc_size.0 >= 0.0 && self.dht_rpc_size.0 <= u32::MAX as f64) {
            problems.push(Problem::new(path.key("dht_rpc_size"), "expected a size below 4GB"));
        }
        if !(self.keepalive_size.0 >= 0.0 && self.keepalive_size.0 <= u32::MAX as f64) {
            problems.push(Problem::new(path.key("keepalive_size"), "expected a size below 4GB"));
        }
        let onion_hops = at_least(self.onion_hops, 2, path.key("onion_hops"), problems);
        if onion_hops > MAX_ONION_HOPS {
            problems.push(
                Problem::new(
                    path.key("onion_hops"),
                    format!("{onion_hops} relays per connection is more than the {MAX_ONION_HOPS} supported"),
                )
                .hint("Briar's onion-to-onion connections cross 6"),
            );
        }
        let onion_relays = at_least(self.onion_relays, 1, path.key("onion_relays"), problems);
        if self.transport == RawTransport::Onion && onion_relays < onion_hops {
            problems.push(
                Problem::new(
                    path.key("onion_relays"),
                    format!("{onion_relays} relays cannot make paths of {onion_hops}"),
                )
                .hint("use at least as many relays as onion_hops"),
            );
        }
        let poll_min = positive_duration(self.poll_min, path.key("poll_min"), problems);
        let poll_max = positive_duration(self.poll_max, path.key("poll_max"), problems);
        if poll_max < poll_min {
            problems.push(Problem::new(
                path.key("poll_max"),
                format!("the cap ({}) is below the first interval ({})", self.poll_max, self.poll_min),
            ));
        }
        if !(self.poll_backoff >= 1.0 && self.poll_backoff.is_finite()) {
            problems.push(
                Problem::new(
                    path.key("poll_backoff"),
                    format!("expected a factor of at least 1, found {}", self.poll_backoff),
                )
                .hint("1 polls at a fixed interval; Briar uses 1.2"),
            );
        }
        let give_up = positive_duration(self.give_up, path.key("give_up"), problems);
        let mailbox = probability(self.mailbox, path.key("mailbox"), problems);
        let mailbox_ttl = positive_duration(self.mailbox_ttl, path.key("mailbox_ttl"), problems);
        let mesh_reach = probability(self.mesh_reach, path.key("mesh_reach"), problems);
        let mesh_latency = dist(&self.mesh_latency, &path.key("mesh_latency"), problems);
        Some(ArchSpec::P2p(P2pParams {
            discovery: match self.discovery {
                RawDiscovery::Contacts => Discovery::Contacts,
                RawDiscovery::Dht => Discovery::Dht,
            },
            dht_k,
            dht_alpha,
            dht_rpc_bytes: self.dht_rpc_size.0 as u32,
            transport: match self.transport {
                RawTransport::Direct => Transport::Direct,
                RawTransport::Onion => Transport::Onion,
            },
            onion_hops: onion_hops.min(MAX_ONION_HOPS),
            onion_relays,
            poll_min,
            poll_max,
            poll_backoff: self.poll_backoff.max(1.0),
            poll_on_start: self.poll_on_start,
            keepalive: self.keepalive.0,
            keepalive_bytes: self.keepalive_size.0 as u32,
            setup_round_trips: self.setup_round_trips,
            give_up,
            mailbox,
            mailbox_ttl,
            mailbox_upload_delay: self.mailbox_upload_delay.0,
            mesh: self.mesh,
            mesh_reach,
            mesh_latency: mesh_latency?,
        }))
    }
}
