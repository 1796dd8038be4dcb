//! The exposure analysis of one architecture run: every declared adversary, fed from the
//! observation stream, scored against the truth, and summarised.
//!
//! [`ExposureAnalysis`] is one [`ObservationSink`]. When the model has built its nodes it resolves
//! each adversary's observation points ([`View`]); for every hop it hands each adversary what that
//! adversary can see of it; when a message retires it scores what each adversary knew of it and
//! frees that state. Nothing here knows which architecture runs: exposure comes only from what the
//! hops showed (the visibility each model declares per hop, and the addresses, timing and sizes on
//! the wire). The per-adversary results ([`AdversaryExposure`]) go into the run's summary, the
//! JSON, the exposure CSV and the terminal table.
//!
//! What is learned, per message sent after the warm-up:
//! - the sender: its identity read at a node the adversary runs ("identity"), or its device
//!   address seen sending this message, or a sender claimed by timing correlation; the guess is
//!   right or wrong against the truth, counted apart;
//! - the recipient: likewise (a room message's recipient is its room, or any member receiving it);
//! - the pair: sender and recipient on one fragment of the message, i.e. tied together by the
//!   adversary itself (it forwarded the message, read a tag, or correlated its timing).

use serde::Serialize;

use crate::engine::observation::{NodeKind, NodeKinds, Observation, ObservationSink, Truth};
use crate::observe::adversary::{AdversarySpec, Links, Mode, Vantage, View};
use crate::observe::correlate::Correlator;
use crate::observe::disclosure::{ActiveSet, Disclosure, DisclosureSummary};
use crate::observe::entropy::{AnonymitySummary, EntropyHistogram};
use crate::observe::graph::{
    ADDRESS_IDENTIFIED, ADDRESS_SEEN, AddressSummary, EdgeSet, GraphSummary, RoomSummary, membership_key,
    score_addresses, score_graph, score_rooms,
};
use crate::observe::knowledge::{FragInfo, IntSet, Knowledge, LOOSE, LazyRecords, MsgRecord, MsgTable, Seen};
use crate::rng::{Purpose, stream};
use crate::time::SimTime;
use crate::world::{UserId, World};

/// Counters of one adversary, per message sent after the warm-up.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    messages: u64,
    observed: u64,
    sender_identity: u64,
    sender_right: u64,
    sender_wrong: u64,
    sender_by_correlation: u64,
    recipient_identity: u64,
    recipient_right: u64,
    recipient_wrong: u64,
    pair_right: u64,
    pair_wrong: u64,
    pair_by_correlation: u64,
}

/// One adversary during one run.
struct AdversaryRun<'w> {
    spec: AdversarySpec,
    view: View,
    watches: String,
    own_device: Option<UserId>,
    know: Knowledge,
    /// Its column in the [`MsgTable`] (adversaries with nothing to watch have none).
    column: Option<usize>,
    correlator: Option<Correlator>,
    disclosure: Option<Disclosure>,
    receivers: Option<ActiveSet>,
    addresses: Vec<u8>,
    wrong_ties: u64,
    rooms: IntSet<u64>,
    rooms_off: bool,
    edges: EdgeSet<'w>,
    tally: Tally,
    anonymity: EntropyHistogram,
}

/// Every adversary of a scenario, run on one architecture: an observation sink.
pub struct ExposureAnalysis<'w> {
    world: &'w World,
    seed: u64,
    advs: Vec<AdversaryRun<'w>>,
    talked: EdgeSet<'w>,
    scratch: Vec<FragInfo>,
    /// Every adversary's records of the messages in flight, side by side per message.
    msgs: MsgTable,
    /// Per address: the adversaries that run it, and those that tap links touching it.
    interest: Interest,
    /// The adversaries that tap every link.
    everywhere: u64,
    /// The adversaries that use network addresses.
    addressed: u64,
}

/// Most adversaries one scenario may declare (one bit each in the dispatch masks).
pub const MAX_ADVERSARIES: usize = 64;

/// Per-address masks of interested adversaries (bit i = adversary i): those that run the node,
/// and those that tap the links touching it. One byte each when there are at most 8 adversaries
/// (the table then stays in cache; it is read for both ends of every hop), else one word each.
/// Whether an adversary runs either end of a hop is read off the masks, not looked up again.
enum Interest {
    Narrow(Vec<[u8; 2]>),
    Wide(Vec<[u64; 2]>),
}

impl Interest {
    fn new(nodes: u32, adversaries: usize) -> Interest {
        if adversaries <= 8 {
            Interest::Narrow(vec![[0; 2]; nodes as usize])
        } else {
            Interest::Wide(vec![[0; 2]; nodes as usize])
        }
    }

    /// (runs it, taps its links) of `node`.
    #[inline]
    fn get(&self, node: u32) -> (u64, u64) {
        match self {
            Interest::Narrow(v) => v.get(node as usize).map_or((0, 0), |m| (m[0] as u64, m[1] as u64)),
            Interest::Wide(v) => v.get(node as usize).map_or((0, 0), |m| (m[0], m[1])),
        }
    }

    /// Marks `node` as run (`which` 0) or tapped (`which` 1) by the adversaries of `bit`.
    fn add(&mut self, node: u32, which: usize, bit: u64) {
        match self {
            Interest::Narrow(v) => v[node as usize][which] |= bit as u8,
            Interest::Wide(v) => v[node as usize][which] |= bit,
        }
    }
}

impl<'w> ExposureAnalysis<'w> {
    /// The analysis of `specs` on `world`, drawing adversaries' choices from `seed`.
    pub fn new(world: &'w World, seed: u64, specs: &[AdversarySpec]) -> ExposureAnalysis<'w> {
        let users = world.users();
        let offsets = EdgeSet::offsets(&world.contacts);
        let advs: Vec<AdversaryRun<'w>> = specs
            .iter()
            .map(|spec| AdversaryRun {
                spec: spec.clone(),
                view: View { nodes: crate::observe::adversary::NodeSet::new(0), links: Links::None, applicable: false },
                watches: String::new(),
                own_device: None,
                know: Knowledge::default(),
                column: None,
                correlator: None,
                disclosure: None,
                receivers: None,
                addresses: vec![0; users as usize],
                wrong_ties: 0,
                rooms: IntSet::default(),
                rooms_off: world.rooms.is_empty(),
                edges: EdgeSet::new(&world.contacts, offsets.clone()),
                tally: Tally::default(),
                anonymity: EntropyHistogram::new((users.max(1) as f64).log2()),
            })
            .collect();
        let talked = EdgeSet::new(&world.contacts, offsets);
        assert!(
            advs.len() <= MAX_ADVERSARIES,
            "at most {MAX_ADVERSARIES} adversaries (checked when the scenario is read)"
        );
        let interest = Interest::new(0, advs.len());
        ExposureAnalysis {
            world,
            seed,
            advs,
            talked,
            scratch: Vec::new(),
            msgs: MsgTable::new(0),
            interest,
            everywhere: 0,
            addressed: 0,
        }
    }

    /// The results, one per adversary in scenario order.
    pub fn finish(self) -> Vec<AdversaryExposure> {
        let ExposureAnalysis { world, advs, talked, .. } = self;
        advs.into_iter().map(|a| a.summary(world, &talked)).collect()
    }
}

impl ObservationSink for ExposureAnalysis<'_> {
    fn start(&mut self, kinds: &NodeKinds<'_>) {
        let users = self.world.users();
        self.interest = Interest::new(kinds.nodes(), self.advs.len());
        let mut columns = 0;
        for (i, a) in self.advs.iter_mut().enumerate() {
            let mut rng = stream(self.seed, Purpose::Adversary, i as u64);
            a.view = View::resolve(&a.spec.vantage, kinds, self.world, &mut rng);

            if a.spec.addresses {
                self.addressed |= 1 << i;
            }
            if a.view.applicable {
                a.column = Some(columns);
                columns += 1;
                let bit = 1u64 << i;
                match &a.view.links {
                    Links::All => self.everywhere |= bit,
                    Links::Touching(set) => {
                        for n in 0..kinds.nodes() {
                            if set.contains(n) {
                                self.interest.add(n, 1, bit);
                            }
                        }
                    }
                    Links::None => {}
                }
                for n in 0..kinds.nodes() {
                    if a.view.holds(n) {
                        self.interest.add(n, 0, bit);
                    }
                }
            }
            a.watches = describe(&a.spec.vantage, &a.view, kinds);
            if let Vantage::Contact(_) = a.spec.vantage {
                a.own_device = (0..users).find(|&u| a.view.holds(u));
            }
            if a.spec.mode == Mode::Correlating && a.view.applicable {
                a.correlator = Some(Correlator::new(users, a.spec.window, a.spec.sizes));
                if a.spec.disclosure_targets > 0 {
                    // A stream of its own, so the targets are the same people in every architecture.
                    let mut trng = stream(self.seed, Purpose::Adversary, (1 << 32) | i as u64);
                    let targets = choose_targets(users, a.spec.disclosure_targets, &mut trng);
                    a.disclosure = Some(Disclosure::new(users, &targets));
                    if !a.spec.addresses {
                        a.receivers = Some(ActiveSet::new(users, a.spec.window));
                    }
                }
            }
        }
        self.msgs = MsgTable::new(columns);
    }

    fn observe(&mut self, obs: &Observation, kinds: &NodeKinds<'_>) {
        let (held_from, tap_from) = self.interest.get(obs.from);
        let (held_to, tap_to) = self.interest.get(obs.to);
        // An adversary that runs neither end sees the link from outside: addresses, timing and
        // sizes, so it learns something only where an end is a device and it uses addresses (most
        // hops of onion and mix paths go between two infrastructure nodes).
        let device_end = obs.from < kinds.users || obs.to < kinds.users;
        let outside = if device_end { (self.everywhere | tap_from | tap_to) & self.addressed } else { 0 };
        let mask = held_from | held_to | outside;
        if mask != 0 {
            self.dispatch(obs, mask, held_from, held_to, kinds.users);
        }
    }

    fn retired(&mut self, truth: &Truth, _now: SimTime) {
        // The contact-graph position of the true pair, found once for every edge set.
        let pair = (truth.counted && truth.recipient.is_some()).then(|| {
            let r = truth.recipient.expect("checked");
            let at = self.talked.locate(truth.sender, r);
            self.talked.insert_at(at, truth.sender, r);
            (truth.sender, r, at)
        });
        let slot = self.msgs.find(truth.serial);
        for a in self.advs.iter_mut() {
            let seen = match (slot, a.column) {
                (Some(s), Some(c)) => a.know.retire(self.msgs.record(s, c), &mut self.scratch),
                _ => false,
            };
            a.score(truth, if seen { &self.scratch[..] } else { &[] }, pair, self.world);
        }
        self.msgs.release(truth.serial);
    }
}

impl ExposureAnalysis<'_> {
    /// Hands a hop to the adversaries of `mask` (kept apart from [`ObservationSink::observe`] so
    /// that hops nobody learns from cost only the mask lookups).
    #[inline(never)]
    fn dispatch(&mut self, obs: &Observation, mut mask: u64, held_from: u64, held_to: u64, users: u32) {
        // The message is looked up at most once per hop, and only if an adversary files the hop.
        let mut msg = LazyRecords::new(&mut self.msgs, obs.truth.serial);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let (from_held, to_held) = ((held_from >> i) & 1 != 0, (held_to >> i) & 1 != 0);
            let a = &mut self.advs[i];
            let column = a.column.expect("only adversaries with something to watch are dispatched");
            a.observe(obs, &mut msg, column, from_held, to_held, users);
        }
    }
}

/// `k` distinct users drawn uniformly, sorted (all of them when `k >= users`).
fn choose_targets(users: u32, k: u32, rng: &mut crate::engine::SimRng) -> Vec<UserId> {
    use rand::RngExt;
    if k >= users {
        return (0..users).collect();
    }
    // Floyd's algorithm: k draws, no shuffle of the whole population.
    let mut chosen = IntSet::default();
    for j in users - k..users {
        let t = rng.random_range(0..=j);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    let mut v: Vec<UserId> = chosen.into_iter().collect();
    v.sort_unstable();
    v
}

fn describe(vantage: &Vantage, view: &View, kinds: &NodeKinds<'_>) -> String {
    let count = |k: NodeKind| (kinds.users..kinds.nodes()).filter(|&n| kinds.of(n) == k).count();
    let held = |k: NodeKind| (kinds.users..kinds.nodes()).filter(|&n| kinds.of(n) == k && view.holds(n)).count();
    let name = |k: NodeKind| format!("{k:?}").to_lowercase();
    match vantage {
        Vantage::Operator => {
            format!("{} of {} provider servers", held(NodeKind::ProviderServer), count(NodeKind::ProviderServer))
        }
        Vantage::HomeServers(_) => {
            format!("{} of {} home servers", held(NodeKind::HomeServer), count(NodeKind::HomeServer))
        }
        Vantage::Relays(_, ks) => {
            let parts: Vec<String> = ks
                .iter()
                .filter(|&&k| count(k) > 0)
                .map(|&k| format!("{} of {} {}", held(k), count(k), name(k)))
                .collect();
            if parts.is_empty() { "no relay-like nodes".into() } else { parts.join(", ") }
        }
        Vantage::Isp(_) => match &view.links {
            Links::Touching(set) => format!("links touching {} addresses of its region", set.len()),
            _ => String::new(),
        },
        Vantage::Contact(_) => {
            let u = (0..kinds.users).find(|&u| view.holds(u));
            u.map(|u| format!("the device of user {u}")).unwrap_or_default()
        }
        Vantage::Global => "every link".into(),
    }
}

impl<'w> AdversaryRun<'w> {
    /// One hop this adversary sees: it runs an end (`from_held`, `to_held`) or taps the link;
    /// `msg` gives its record of the message, in column `me` of the [`MsgTable`].
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn observe(
        &mut self,
        obs: &Observation,
        msg: &mut LazyRecords<'_>,
        me: usize,
        from_held: bool,
        to_held: bool,
        users: u32,
    ) {
        let (from, to) = (obs.from, obs.to);
        let addresses = self.spec.addresses;
        let src_device = (addresses && from < users).then_some(from);
        let dst_device = (addresses && to < users).then_some(to);
        if !(from_held || to_held || src_device.is_some() || dst_device.is_some()) {
            // A link between two nodes it does not run, seen from outside: nothing to learn.
            return;
        }
        if let Some(d) = src_device {
            self.addresses[d as usize] |= ADDRESS_SEEN;
            if let Some(c) = self.correlator.as_mut() {
                c.entry(obs.time, d, obs.bytes, obs.truth.serial);
            }
        }
        if let Some(d) = dst_device {
            self.addresses[d as usize] |= ADDRESS_SEEN;
        }
        if !obs.real || obs.visible.cover_like {
            // Polls, cover and lookups carry no message to learn about, and a message hidden
            // among cover is, at this hop, only the timing the correlator has just taken.
            return;
        }
        if !(from_held || to_held) {
            // Seen from outside: the device addresses at the ends, nothing readable.
            let exit = self.correlator.is_some() && dst_device.is_some();
            let rec = msg.record(me);
            if self.know.absorb_outside(rec, src_device, dst_device, exit) {
                // A device-to-device hop shows both ends at once: the sender is its source.
                self.correlate(obs, rec, LOOSE, dst_device, src_device);
            }
            return;
        }
        let t = &obs.truth;
        let (mut sender, mut recipient, mut room) =
            if to_held { (obs.sender, obs.recipient, obs.room) } else { (None, None, None) };
        if from_held && from < users && from == t.sender {
            // The adversary runs the author's device: it knows its own message.
            sender = Some(t.sender);
            recipient = recipient.or(t.recipient);
            room = room.or(t.room);
        }
        let seen = Seen {
            from,
            to,
            from_held,
            to_held,
            src_device,
            dst_device,
            sender,
            recipient,
            room,
            tag: to_held && obs.visible.linkable,
        };
        let handle = recipient.or(dst_device);
        let exit = self.correlator.is_some() && (handle.is_some() || room.is_some());
        // Informative: it runs an end or sees a device (checked above), so the message is filed.
        debug_assert!(seen.informative());
        let rec: &mut MsgRecord = msg.record(me);
        let Some(filed) = self.know.absorb(rec, &seen, exit) else { return };
        let frag = filed.frag;
        if from_held
            && to < users
            && let Some(r) = self.receivers.as_mut()
            && let Some(rid) = self.know.info(frag).recipient_id
        {
            // It delivered a message to this recipient's device just now: the recipient is online.
            r.push(obs.time, rid);
        }
        if !self.rooms_off
            && let Some(r) = self.know.room(frag)
        {
            for u in [recipient, dst_device].into_iter().flatten() {
                self.rooms.insert(membership_key(r, u));
            }
        }
        if filed.first_exit {
            // What it already tied to this fragment: a sender read, or the device it left from.
            let info = self.know.info(frag);
            self.correlate(obs, rec, frag, handle, info.sender_id.or(info.sender_addr));
        }
    }

    /// Correlates the first hop of a message that shows its recipient side (once per message),
    /// and feeds the disclosure attack. `known_sender` is the sender the adversary has already
    /// tied to this message (read, or seen leaving its device): then the message has no anonymity
    /// left against it (entropy 0, linked with certainty), and the disclosure attack takes that
    /// sender as the only candidate instead of its statistical guess. The correlator still sees
    /// the exit, so that its timing model learns from every message alike.
    #[inline(never)]
    fn correlate(
        &mut self,
        obs: &Observation,
        rec: &mut MsgRecord,
        frag: u32,
        handle: Option<UserId>,
        known_sender: Option<UserId>,
    ) {
        let t = &obs.truth;
        let outcome = self.correlator.as_mut().expect("checked").exit(obs.time, obs.bytes, t.serial);
        if t.counted {
            match known_sender {
                Some(_) => self.anonymity.record(0.0, 1.0),
                None => self.anonymity.record(outcome.entropy, outcome.top.map_or(0.0, |t| t.1)),
            }
        }
        if let Some((u, p)) = outcome.top
            && p >= self.spec.confidence
        {
            self.know.set_correlated_sender(rec, frag, u);
        }
        if let (Some(s), Some(v)) = (self.disclosure.as_mut(), handle)
            && s.wants(v)
        {
            let sender = t.room.is_none().then_some(t.sender);
            let known = known_sender.as_slice();
            match self.receivers.as_mut() {
                _ if !known.is_empty() => s.delivery(v, sender, known),
                // Without addresses: whoever it delivered to in the window was online.
                Some(r) => {
                    r.evict(obs.time);
                    s.delivery(v, sender, r.users());
                }
                None => s.delivery(v, sender, self.correlator.as_ref().expect("checked").candidates()),
            }
        }
    }

    /// Scores what it knew of message `t` (`frags`); `pair` is the true one-to-one pair of a
    /// counted message with its contact-graph position.
    fn score(&mut self, t: &Truth, frags: &[FragInfo], pair: Option<(UserId, UserId, Option<usize>)>, world: &World) {
        // What any message teaches about people, warm-up included: addresses and rooms.
        for f in frags {
            if let (Some(id), Some(addr)) = (f.sender_id, f.sender_addr) {
                self.tie(id, addr);
            }
            if t.room.is_none()
                && let (Some(id), Some(addr)) = (f.recipient_id, f.recipient_addr)
            {
                self.tie(id, addr);
            }
            if let Some(r) = f.room.filter(|_| !self.rooms_off) {
                for u in [f.sender_id.or(f.sender_addr), f.recipient_id.or(f.recipient_addr)].into_iter().flatten() {
                    self.rooms.insert(membership_key(r, u));
                }
            }
        }
        if !t.counted {
            return;
        }
        let tl = &mut self.tally;
        tl.messages += 1;
        if frags.is_empty() {
            return;
        }
        tl.observed += 1;
        let recipient_guess = |f: &FragInfo| -> Option<(UserId, bool)> {
            match (t.recipient, t.room) {
                (Some(r), _) => f.recipient_id.or(f.recipient_addr).map(|g| (g, g == r)),
                (None, Some(room)) => {
                    if let Some(fr) = f.room {
                        return Some((fr, fr == room));
                    }
                    f.recipient_id
                        .or(f.recipient_addr)
                        .map(|g| (g, world.rooms.members(room).binary_search(&g).is_ok()))
                }
                (None, None) => None,
            }
        };
        let sender_guess = |f: &FragInfo| f.sender_id.or(f.sender_addr).or(f.sender_corr);
        let passive_sender = frags.iter().any(|f| f.sender_id.is_some() || f.sender_addr.is_some());
        tl.sender_identity += frags.iter().any(|f| f.sender_id.is_some()) as u64;
        let guesses = || frags.iter().filter_map(sender_guess);
        if guesses().any(|g| g == t.sender) {
            tl.sender_right += 1;
            tl.sender_by_correlation += !passive_sender as u64;
        } else if guesses().next().is_some() {
            tl.sender_wrong += 1;
        }
        tl.recipient_identity +=
            frags.iter().any(|f| f.recipient_id.is_some() || (t.room.is_some() && f.room.is_some())) as u64;
        let rguesses = || frags.iter().filter_map(recipient_guess);
        if rguesses().any(|(_, ok)| ok) {
            tl.recipient_right += 1;
        } else if rguesses().next().is_some() {
            tl.recipient_wrong += 1;
        }
        let pairs = || {
            frags.iter().filter_map(|f| {
                let s = sender_guess(f)?;
                let (r, r_ok) = recipient_guess(f)?;
                let by_corr = f.sender_id.is_none() && f.sender_addr.is_none();
                Some((s, r, s == t.sender && r_ok, by_corr))
            })
        };
        let best = pairs().find(|p| p.2).or_else(|| pairs().next());
        if let Some((s, r, ok, by_corr)) = best {
            if ok {
                tl.pair_right += 1;
                tl.pair_by_correlation += by_corr as u64;
            } else {
                tl.pair_wrong += 1;
            }
            if t.recipient.is_some() && s != r {
                match pair {
                    Some((a, b, at)) if (s, r) == (a, b) || (s, r) == (b, a) => self.edges.insert_at(at, s, r),
                    _ => self.edges.insert(s, r),
                }
            }
        }
    }

    /// Ties device address `addr` to account `id`.
    fn tie(&mut self, id: UserId, addr: UserId) {
        if id == addr {
            self.addresses[id as usize] |= ADDRESS_IDENTIFIED;
        } else {
            self.wrong_ties += 1;
        }
    }

    fn summary(self, world: &World, talked: &EdgeSet<'_>) -> AdversaryExposure {
        let applicable = self.view.applicable;
        let tl = self.tally;
        let share = |x: u64| (applicable && tl.messages > 0).then(|| x as f64 / tl.messages as f64);
        let correlating = self.spec.mode == Mode::Correlating;
        AdversaryExposure {
            adversary: self.spec.name.clone(),
            watches: if applicable { self.watches.clone() } else { "nothing in this architecture".into() },
            mode: if correlating { "correlating" } else { "passive" },
            applicable,
            nodes_held: self.view.nodes.len(),
            messages: tl.messages,
            observed: share(tl.observed),
            sender: Learned {
                identity: share(tl.sender_identity),
                learned: share(tl.sender_right),
                wrong: share(tl.sender_wrong),
                by_correlation: share(tl.sender_by_correlation),
            },
            recipient: Learned {
                identity: share(tl.recipient_identity),
                learned: share(tl.recipient_right),
                wrong: share(tl.recipient_wrong),
                by_correlation: None,
            },
            pair: Learned {
                identity: None,
                learned: share(tl.pair_right),
                wrong: share(tl.pair_wrong),
                by_correlation: share(tl.pair_by_correlation),
            },
            addresses: if applicable {
                score_addresses(&self.addresses, self.wrong_ties, self.own_device)
            } else {
                AddressSummary::default()
            },
            graph: if applicable { score_graph(&self.edges, talked, &world.contacts) } else { GraphSummary::default() },
            rooms: (applicable && !world.rooms.is_empty()).then(|| score_rooms(&self.rooms, &world.rooms)),
            anonymity: (applicable && correlating).then(|| self.anonymity.summary()),
            disclosure: self.disclosure.as_ref().map(Disclosure::summary),
            peak_messages_held: self.know.peak_in_flight() as u64,
        }
    }
}

/// What an adversary learned about one side of the messages, as shares of the messages sent after
/// the warm-up; `None` where undefined (the architecture has nothing for this adversary to watch).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Learned {
    /// Read directly from an identity a node it runs can see (not defined for pairs).
    pub identity: Option<f64>,
    /// Learned right, by any means (identity, address, correlation).
    pub learned: Option<f64>,
    /// Guessed wrong.
    pub wrong: Option<f64>,
    /// Learned right only thanks to timing correlation.
    pub by_correlation: Option<f64>,
}

/// Everything measured for one adversary on one architecture.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdversaryExposure {
    /// The adversary's label.
    pub adversary: String,
    /// What it watched in this architecture.
    pub watches: String,
    /// "passive" or "correlating".
    pub mode: &'static str,
    /// Whether the architecture has anything for it to watch.
    pub applicable: bool,
    /// Nodes it ran.
    pub nodes_held: u32,
    /// Messages sent after the warm-up (the denominator of every share).
    pub messages: u64,
    /// Share of messages it saw at least one hop of.
    pub observed: Option<f64>,
    /// What it learned of senders.
    pub sender: Learned,
    /// What it learned of recipients.
    pub recipient: Learned,
    /// What it learned of sender-recipient pairs.
    pub pair: Learned,
    /// Whose network addresses it learned.
    pub addresses: AddressSummary,
    /// The social graph it reconstructed.
    pub graph: GraphSummary,
    /// Room memberships it learned (when the world has rooms).
    pub rooms: Option<RoomSummary>,
    /// Per-message anonymity against its timing model (correlating adversaries).
    pub anonymity: Option<AnonymitySummary>,
    /// The statistical disclosure attack (correlating adversaries with targets).
    pub disclosure: Option<DisclosureSummary>,
    /// Most messages it held state for at once (memory follows messages in flight).
    pub peak_messages_held: u64,
}

impl AdversaryExposure {
    /// Every figure as (metric, value), in a fixed order: the rows of `exposure.csv`.
    pub fn metrics(&self) -> Vec<(&'static str, Option<f64>)> {
        let a = &self.anonymity.clone().unwrap_or_default();
        let d = &self.disclosure.clone().unwrap_or_default();
        let on = |x: Option<f64>| if self.anonymity.is_some() { x } else { None };
        let sda = |x: Option<f64>| if self.disclosure.is_some() { x } else { None };
        let r = self.rooms.clone().unwrap_or_default();
        let g = &self.graph;
        vec![
            ("messages", Some(self.messages as f64)),
            ("nodes_held", Some(self.nodes_held as f64)),
            ("observed", self.observed),
            ("sender_identity", self.sender.identity),
            ("sender_learned", self.sender.learned),
            ("sender_wrong", self.sender.wrong),
            ("sender_by_correlation", self.sender.by_correlation),
            ("recipient_identity", self.recipient.identity),
            ("recipient_learned", self.recipient.learned),
            ("recipient_wrong", self.recipient.wrong),
            ("pair_learned", self.pair.learned),
            ("pair_wrong", self.pair.wrong),
            ("pair_by_correlation", self.pair.by_correlation),
            ("addresses_seen", self.addresses.seen),
            ("addresses_identified", self.addresses.identified),
            ("address_wrong_ties", self.applicable.then_some(self.addresses.wrong_ties as f64)),
            ("graph_edges", self.applicable.then_some(g.edges as f64)),
            ("graph_precision", g.precision),
            ("graph_recall", g.recall),
            ("graph_recall_of_contacts", g.recall_of_contacts),
            ("room_memberships_learned", self.rooms.as_ref().and(r.share)),
            ("room_membership_precision", self.rooms.as_ref().and(r.precision)),
            ("anonymity_messages", on(Some(a.messages as f64))),
            ("entropy_mean_bits", on(a.mean_entropy_bits)),
            ("entropy_p10_bits", on(a.p10_entropy_bits)),
            ("entropy_median_bits", on(a.median_entropy_bits)),
            ("entropy_p90_bits", on(a.p90_entropy_bits)),
            ("entropy_max_bits", on(Some(a.max_entropy_bits))),
            ("anonymity_set_mean", on(a.mean_anonymity_set)),
            ("degree_of_anonymity_mean", on(a.mean_degree)),
            ("degree_of_anonymity_median", on(a.median_degree)),
            ("linked_with_certainty", on(a.linked_with_certainty)),
            ("disclosure_targets", sda(Some(d.targets as f64))),
            ("disclosure_pairs", sda(Some(d.pairs as f64))),
            ("disclosure_identified", sda(d.identified)),
            ("disclosure_wrongly_identified", sda(d.wrongly_identified)),
            ("disclosure_median_messages", sda(d.median_messages_to_identify)),
            ("disclosure_mean_messages", sda(d.mean_messages_to_identify)),
            ("disclosure_identified_within_5", sda(d.identified_within_5)),
            ("disclosure_messages_per_pair", sda(d.messages_per_pair)),
        ]
    }
}
