//! The `[[adversary]]` tables: who watches, and how. Parsed here into serde types that reject
//! unknown keys, then checked and resolved into [`AdversarySpec`]s for the exposure analysis.
//!
//! ```toml
//! [[adversary]]
//! kind = "relays"          # operator | home_server | relays | isp | contact | global
//! share = 0.1              # relays, home_server: a share of the nodes (or `count`, or `rank`)
//! choose = "weighted"      # uniform | weighted (by bandwidth for relays, users for home servers)
//! mode = "correlating"     # passive | correlating
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::observation::NodeKind;
use crate::observe::adversary::{AdversarySpec, Choose, Mode, NodePick, Vantage};
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::resolve::{Env, positive_duration};
use crate::scenario::units::Duration;
use crate::time::SimDuration;

/// Where an adversary observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawVantage {
    /// The operator of a centralized service: every provider server.
    Operator,
    /// Home servers of a federation: one by `rank` (1 = the largest, the default), or a `share`
    /// or `count` of them.
    HomeServer,
    /// A `share` or `count` of the relay-like nodes (Tor relays, onion service nodes, mix nodes).
    Relays,
    /// An ISP or national network: every link with an end in `region`.
    Isp,
    /// A contact's device (a P2P peer): `user`, or by default the user with the most contacts.
    Contact,
    /// A global passive observer: every link.
    Global,
}

/// Passive or correlating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawMode {
    /// Collects what it sees; links hops only where it knows they are one message.
    Passive,
    /// Also links observations by timing and size, and runs a statistical disclosure attack.
    Correlating,
}

/// How nodes are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawChoose {
    /// Every node equally likely.
    Uniform,
    /// In proportion to bandwidth (relays) or users hosted (home servers), as TorPS does.
    Weighted,
}

/// Node kinds a `relays` adversary can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawNodeKind {
    /// Onion relays (Tor relays, service nodes in their relay role).
    Relay,
    /// Storage nodes (swarm members, mix providers, Briar mailboxes).
    Storage,
    /// Mix nodes.
    Mix,
    /// DHT nodes that are not user devices.
    DhtNode,
}

impl RawNodeKind {
    fn kind(self) -> NodeKind {
        match self {
            RawNodeKind::Relay => NodeKind::Relay,
            RawNodeKind::Storage => NodeKind::Storage,
            RawNodeKind::Mix => NodeKind::Mix,
            RawNodeKind::DhtNode => NodeKind::DhtNode,
        }
    }
}

/// One `[[adversary]]` table.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAdversary {
    /// Label in outputs. Default: made from the kind and its keys, e.g. "10% of relays".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it observes.
    pub kind: RawVantage,
    /// What it does with what it sees. Default "passive".
    #[serde(default = "default_mode")]
    pub mode: RawMode,
    /// home_server: the server ranked `rank` by users hosted (1 = the largest). Default 1 when
    /// neither `share` nor `count` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    /// home_server, relays: the share of the nodes it holds (of their number with "uniform", of
    /// their total weight with "weighted"), in (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// home_server, relays: the number of nodes it holds (of each kind in `nodes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// home_server, relays: how nodes are drawn. Default "uniform".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choose: Option<RawChoose>,
    /// relays: the node kinds it holds. Default ["relay", "storage", "mix"] (an onion service
    /// node's storage role is the same machine as its relay role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<RawNodeKind>>,
    /// isp: the region whose links it watches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// contact: the user whose device it is (0-based). Default: the user with the most contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<u32>,
    /// Whether it uses network addresses (a device's address identifies its user). Default true;
    /// false models an operator that keeps no connection logs, or users behind Tor or a VPN.
    #[serde(default = "default_true")]
    pub addresses: bool,
    /// correlating: the longest entry-to-exit delay the timing match considers, and the look-back
    /// of the disclosure attack. Default "60s" (ASSUMPTION: covers push delivery, onion paths and
    /// a few polling intervals; store-and-forward delays beyond it are not correlated).
    #[serde(default = "default_window")]
    pub window: Duration,
    /// correlating: smallest probability of its top candidate for it to claim a sender. Default
    /// 0.5 (the top candidate is more likely than all others together).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// correlating: compare sizes on the wire (false: assume messages are padded). Default true.
    #[serde(default = "default_true")]
    pub sizes: bool,
    /// correlating: recipients targeted by the statistical disclosure attack, drawn uniformly
    /// (the same people in every architecture); 0 turns it off. Default 100.
    #[serde(default = "default_targets")]
    pub disclosure_targets: u32,
}

fn default_mode() -> RawMode {
    RawMode::Passive
}
fn default_true() -> bool {
    true
}
fn default_window() -> Duration {
    Duration(SimDuration::from_secs(60))
}
fn default_confidence() -> f64 {
    0.5
}
fn default_targets() -> u32 {
    100
}

fn percent(x: f64) -> String {
    let p = 100.0 * x;
    if (p - p.round()).abs() < 1e-9 { format!("{p:.0}%") } else { format!("{p}%") }
}

impl RawAdversary {
    /// Checks the table and builds the adversary; fills in the resolved name and defaults so the
    /// record in results.json is complete.
    pub fn resolve(&mut self, path: &KeyPath, env: &Env<'_>, problems: &mut Vec<Problem>) -> Option<AdversarySpec> {
        let before = problems.len();
        let only = |key: &str, set: bool, kinds: &str, problems: &mut Vec<Problem>| {
            if set {
                problems.push(
                    Problem::new(path.key(key), format!("`{key}` does not apply to kind = \"{}\"", self.kind_name()))
                        .hint(format!("`{key}` applies to {kinds}")),
                );
            }
        };
        let picks = matches!(self.kind, RawVantage::HomeServer | RawVantage::Relays);
        only("share", self.share.is_some() && !picks, "home_server and relays", problems);
        only("count", self.count.is_some() && !picks, "home_server and relays", problems);
        only("choose", self.choose.is_some() && !picks, "home_server and relays", problems);
        only("rank", self.rank.is_some() && self.kind != RawVantage::HomeServer, "home_server", problems);
        only("nodes", self.nodes.is_some() && self.kind != RawVantage::Relays, "relays", problems);
        only("region", self.region.is_some() && self.kind != RawVantage::Isp, "isp", problems);
        only("user", self.user.is_some() && self.kind != RawVantage::Contact, "contact", problems);
        let given = [self.share.is_some(), self.count.is_some(), self.rank.is_some()].iter().filter(|&&b| b).count();
        if picks && given > 1 {
            problems.push(
                Problem::new(path.clone(), "give only one of `share`, `count` and `rank`")
                    .hint("`share` = 0.1 holds a tenth of the nodes; `count` = 5 holds five; `rank` = 1 the largest"),
            );
        }
        if let Some(s) = self.share
            && !(s > 0.0 && s <= 1.0)
        {
            problems.push(Problem::new(path.key("share"), format!("expected a share in (0, 1], found {s}")));
        }
        if self.count == Some(0) {
            problems
                .push(Problem::new(path.key("count"), "expected at least 1 node").hint("omit the adversary instead"));
        }
        if self.rank == Some(0) {
            problems.push(Problem::new(path.key("rank"), "ranks start at 1 (the largest server)"));
        }
        if self.kind == RawVantage::Relays && self.share.is_none() && self.count.is_none() {
            problems.push(
                Problem::new(path.clone(), "a relays adversary needs `share` or `count`").hint("e.g. share = 0.1"),
            );
        }
        if self.kind == RawVantage::Isp && self.region.is_none() {
            problems.push(
                Problem::new(path.clone(), "an isp adversary needs `region`").hint("e.g. region = \"europe_west\""),
            );
        }
        if let Some(u) = self.user
            && u >= env.users
        {
            problems.push(Problem::new(
                path.key("user"),
                format!("user {u} does not exist: users are 0 to {}", env.users - 1),
            ));
        }
        if self.nodes.as_ref().is_some_and(|n| n.is_empty()) {
            problems.push(
                Problem::new(path.key("nodes"), "name at least one node kind").hint("e.g. [\"relay\", \"storage\"]"),
            );
        }
        let window = positive_duration(self.window, path.key("window"), problems);
        if !(self.confidence > 0.0 && self.confidence <= 1.0) {
            problems.push(Problem::new(
                path.key("confidence"),
                format!("expected a probability in (0, 1], found {}", self.confidence),
            ));
        }
        let region = match (&self.region, self.kind) {
            (Some(name), RawVantage::Isp) => env.region(name, path.key("region"), problems),
            _ => None,
        };
        if problems.len() > before {
            return None;
        }
        let choose = match self.choose.unwrap_or(RawChoose::Uniform) {
            RawChoose::Uniform => Choose::Uniform,
            RawChoose::Weighted => Choose::Weighted,
        };
        let pick = match (self.rank, self.share, self.count) {
            (_, Some(s), _) => NodePick::Share(s, choose),
            (_, _, Some(c)) => NodePick::Count(c, choose),
            (r, _, _) => NodePick::Rank(r.unwrap_or(1)),
        };
        let vantage = match self.kind {
            RawVantage::Operator => Vantage::Operator,
            RawVantage::HomeServer => {
                if self.share.is_none() && self.count.is_none() && self.rank.is_none() {
                    self.rank = Some(1);
                }
                Vantage::HomeServers(pick)
            }
            RawVantage::Relays => {
                let kinds =
                    self.nodes.get_or_insert_with(|| vec![RawNodeKind::Relay, RawNodeKind::Storage, RawNodeKind::Mix]);
                let mut ks: Vec<NodeKind> = Vec::new();
                for k in kinds.iter() {
                    if !ks.contains(&k.kind()) {
                        ks.push(k.kind());
                    }
                }
                Vantage::Relays(pick, ks)
            }
            RawVantage::Isp => Vantage::Isp(region.expect("checked")),
            RawVantage::Contact => Vantage::Contact(self.user),
            RawVantage::Global => Vantage::Global,
        };
        if picks && self.choose.is_none() {
            self.choose = Some(RawChoose::Uniform);
        }
        let mode = match self.mode {
            RawMode::Passive => Mode::Passive,
            RawMode::Correlating => Mode::Correlating,
        };
        let name = self.name.clone().unwrap_or_else(|| self.default_name());
        self.name = Some(name.clone());
        Some(AdversarySpec {
            name,
            vantage,
            mode,
            addresses: self.addresses,
            window,
            confidence: self.confidence,
            sizes: self.sizes,
            disclosure_targets: self.disclosure_targets,
        })
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            RawVantage::Operator => "operator",
            RawVantage::HomeServer => "home_server",
            RawVantage::Relays => "relays",
            RawVantage::Isp => "isp",
            RawVantage::Contact => "contact",
            RawVantage::Global => "global",
        }
    }

    /// A label made from the kind and its keys.
    fn default_name(&self) -> String {
        let weighted = self.choose == Some(RawChoose::Weighted);
        let base = match self.kind {
            RawVantage::Operator => "operator".to_owned(),
            RawVantage::HomeServer => match (self.share, self.count, self.rank) {
                (Some(s), _, _) => {
                    format!("{} of home servers{}", percent(s), if weighted { " (by users)" } else { "" })
                }
                (_, Some(c), _) => format!("{c} home servers"),
                (_, _, Some(1) | None) => "largest home server".to_owned(),
                (_, _, Some(r)) => format!("home server #{r}"),
            },
            RawVantage::Relays => match (self.share, self.count) {
                (Some(s), _) => format!("{} of relays{}", percent(s), if weighted { " (by bandwidth)" } else { "" }),
                (_, Some(c)) => format!("{c} relays"),
                _ => "relays".to_owned(),
            },
            RawVantage::Isp => format!("ISP {}", self.region.as_deref().unwrap_or("?")),
            RawVantage::Contact => match self.user {
                Some(u) => format!("contact (user {u})"),
                None => "contact".to_owned(),
            },
            RawVantage::Global => "global observer".to_owned(),
        };
        let mut name = base;
        if self.mode == RawMode::Correlating {
            name.push_str(" + timing");
        }
        if !self.addresses {
            name.push_str(" (no IPs)");
        }
        name
    }
}

/// Resolves every `[[adversary]]` table, checking that labels are distinct.
pub fn resolve_all(raw: &mut [RawAdversary], env: &Env<'_>, problems: &mut Vec<Problem>) -> Vec<AdversarySpec> {
    let mut out: Vec<AdversarySpec> = Vec::new();
    let max = crate::observe::exposure::MAX_ADVERSARIES;
    if raw.len() > max {
        problems.push(
            Problem::new(
                KeyPath::root().key("adversary"),
                format!("{} adversaries; at most {max} per scenario", raw.len()),
            )
            .hint("split the study over several scenarios"),
        );
    }
    for (i, a) in raw.iter_mut().enumerate() {
        let path = KeyPath::root().key("adversary").index(i);
        if let Some(spec) = a.resolve(&path, env, problems) {
            if out.iter().any(|o| o.name == spec.name) {
                problems.push(
                    Problem::new(path.key("name"), format!("two adversaries are labelled `{}`", spec.name))
                        .hint("give each [[adversary]] a distinct `name`"),
                );
            }
            out.push(spec);
        }
    }
    out
}
