//! The engine's connectivity and fault service: node timelines (scheduled outages as a union,
//! MTBF/MTTR churn) and users' internet, and the reconnect it makes possible.

use netarch::engine::DeliveryModel;
use netarch::engine::observation::{NodeId, NodeKind};
use netarch::engine::{Churn, Ctx, ModelEvent, MsgId, RunConfig, Sim, SimRng};
use netarch::metrics::ModelReport;
use netarch::metrics::recorder::LossReason;
use netarch::time::{SimDuration, SimTime};
use netarch::world::World;

use crate::common::{arch, run_text, scenario};

/// Everyone always online, one of two regions cut off for an hour, six hours of cool-down: every
/// copy stored while a recipient's internet was cut reaches it when the internet returns, so
/// nothing is still in flight at the end. (Before the connectivity service only an app coming
/// online or a provider recovering flushed stored copies: about 7% of the centralized copies
/// stayed stored for good.)
#[test]
fn a_connected_recipient_gets_what_was_stored_during_a_regional_outage() {
    let r = run_text(
        r#"
name = "cut"
duration = "3h"
warmup = "30min"
cooldown = "6h"
[world]
users = 400
[world.availability]
always_online = 1.0
[world.regions.weights]
europe_west = 0.5
na_east = 0.5
[[world.internet_outages]]
region = "europe_west"
start = "1h"
end = "2h"
[[arch]]
preset = "signal"
[[arch]]
preset = "element"
"#,
    );
    for name in ["signal", "element"] {
        let a = arch(&r, name);
        let stored = a.model.figures["fetched_from_store"];
        // About a quarter of the copies sent in the outage hour are for cut-off recipients.
        assert!(stored > 100.0, "{name}: the outage made the server store copies ({stored})");
        assert_eq!(a.in_flight, 0, "{name}: copies left in flight after a six-hour cool-down");
    }
}

/// A probe that registers fault timelines and records what the engine tells it.
struct Probe {
    churn: Option<Churn>,
    outages: Vec<(SimTime, SimTime)>,
    nodes: u32,
    first: NodeId,
    /// Per node: time up so far, and when it last changed.
    up_time: Vec<SimDuration>,
    changes: Vec<(NodeId, SimTime, bool)>,
    queries: Vec<(SimTime, bool)>,
    last: Vec<SimTime>,
    up: Vec<bool>,
}

impl Probe {
    fn new(nodes: u32, churn: Option<Churn>, outages: Vec<(SimTime, SimTime)>) -> Probe {
        Probe {
            churn,
            outages,
            nodes,
            first: 0,
            up_time: vec![SimDuration::ZERO; nodes as usize],
            changes: Vec::new(),
            queries: Vec::new(),
            last: vec![SimTime::ZERO; nodes as usize],
            up: vec![true; nodes as usize],
        }
    }
}

const QUERY: u16 = 0;

impl DeliveryModel for Probe {
    fn name(&self) -> &str {
        "probe"
    }
    fn init(&mut self, ctx: &mut Ctx<'_>, _infra_rng: &mut SimRng) {
        for i in 0..self.nodes {
            let node = ctx.add_node(NodeKind::Relay, 0);
            if i == 0 {
                self.first = node;
            }
            ctx.add_node_faults(node, &self.outages, self.churn);
        }
        for h in [0.5, 2.5, 4.5, 5.5, 6.5, 7.5] {
            ctx.schedule_at(
                SimTime::ZERO + SimDuration::from_secs_f64(h * 3600.0),
                ModelEvent { kind: QUERY, a: 0, b: 0, c: 0 },
            );
        }
    }
    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
        ctx.lose_all(msg, LossReason::Unreachable);
    }
    fn on_event(&mut self, ctx: &mut Ctx<'_>, _ev: ModelEvent) {
        self.queries.push((ctx.now(), ctx.node_up(self.first)));
    }
    fn on_node_change(&mut self, ctx: &mut Ctx<'_>, node: NodeId, up: bool) {
        let i = (node - self.first) as usize;
        assert_eq!(ctx.node_up(node), up, "the query agrees with the callback");
        assert_ne!(self.up[i], up, "only real changes are reported");
        if !up {
            self.up_time[i] += ctx.now().since(self.last[i]);
        }
        self.up[i] = up;
        self.last[i] = ctx.now();
        self.changes.push((node, ctx.now(), up));
    }
    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        for i in 0..self.nodes as usize {
            if self.up[i] {
                self.up_time[i] += ctx.now().since(self.last[i]);
            }
        }
        ModelReport::default()
    }
}

fn run_probe(duration: &str, probe: &mut Probe) {
    let s = scenario(&format!(
        r#"
name = "probe"
duration = "{duration}"
warmup = "0s"
cooldown = "0s"
[world]
users = 20
[world.workload]
rate = "0/h"
[[arch]]
preset = "signal"
"#
    ));
    let world = World::generate(s.world.clone(), s.seed());
    let cfg = RunConfig { seed: s.seed(), arch_index: 0, window: s.window, deadline: s.deadline };
    Sim::new(&world, probe, cfg, Vec::new()).run(&mut |_| {}).expect("conservation holds");
}

fn hours(h: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(h * 3600)
}

/// Overlapping and touching scheduled outages act as their union: one down and one up per
/// covered stretch, and queries in between see the union.
#[test]
fn overlapping_scheduled_outages_behave_as_a_union() {
    let outages = vec![(hours(1), hours(3)), (hours(2), hours(4)), (hours(4), hours(5)), (hours(6), hours(7))];
    let mut p = Probe::new(1, None, outages);
    run_probe("8h", &mut p);
    let n = p.first;
    assert_eq!(p.changes, vec![(n, hours(1), false), (n, hours(5), true), (n, hours(6), false), (n, hours(7), true)]);
    let seen: Vec<bool> = p.queries.iter().map(|q| q.1).collect();
    assert_eq!(seen, vec![true, false, false, true, false, true], "at 0.5, 2.5, 4.5, 5.5, 6.5, 7.5 h");
    assert_eq!(p.up_time[0], SimDuration::from_secs(3 * 3600), "down 1-5 h and 6-7 h of 8 h");
}

/// A node's MTBF/MTTR churn is up MTBF/(MTBF+MTTR) of the time. Over n up/down cycles the
/// up-share of an alternating renewal process with exponential periods u and d has standard
/// deviation √2·u·d / ((u+d)²·√n) (delta method); the test allows five of them.
#[test]
fn churn_availability_matches_mtbf_over_mtbf_plus_mttr() {
    let (u, d) = (10.0 * 3600.0, 2.0 * 3600.0);
    let churn = Churn { mean_up: SimDuration::from_secs_f64(u), mean_down: SimDuration::from_secs_f64(d) };
    let (nodes, days) = (20u32, 500.0);
    let mut p = Probe::new(nodes, Some(churn), Vec::new());
    run_probe(&format!("{days}d"), &mut p);
    let total = days * 86_400.0 * nodes as f64;
    let up: f64 = p.up_time.iter().map(|t| t.as_secs_f64()).sum();
    let cycles = total / (u + d);
    let sd = 2f64.sqrt() * u * d / ((u + d).powi(2) * cycles.sqrt());
    let share = up / total;
    assert!(
        (share - churn.availability()).abs() < 5.0 * sd,
        "up share {share:.4}, expected {:.4} ± {:.4}",
        churn.availability(),
        5.0 * sd
    );
    let downs = p.changes.iter().filter(|c| !c.2).count() as f64;
    // Each cycle has one down transition; Poisson-like count, five standard deviations.
    assert!((downs - cycles).abs() < 5.0 * cycles.sqrt(), "{downs} outages against {cycles:.0} cycles");

    // Pairing: one more node leaves every other node's timeline as it was.
    let mut more = Probe::new(nodes + 1, Some(churn), Vec::new());
    run_probe(&format!("{days}d"), &mut more);
    let of =
        |p: &Probe, i: u32| p.changes.iter().filter(|c| c.0 == p.first + i).map(|c| (c.1, c.2)).collect::<Vec<_>>();
    for i in 0..nodes {
        assert_eq!(of(&p, i), of(&more, i), "node {i}'s timeline moved when a node was added");
    }
}
