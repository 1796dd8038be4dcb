//! Plugging in your own routing model: a "community mailbox" architecture, run beside the
//! built-in four on the same world, without touching the crate.
//!
//! The model: every message goes to a randomly chosen always-online user (a volunteer's desktop)
//! that forwards it at once if the recipient is online, or keeps it until the recipient comes back.
//!
//! Run it with `cargo run --release --example own_model`.

use netarch::arch::{DeliveryModel, ModelReport};
use netarch::engine::{Ctx, ModelEvent, MsgId, SimRng};
use netarch::observe::Visible;
use netarch::output::table::{reading, summary_table};
use netarch::run::{Entry, entries, run_on};
use netarch::scenario::{load, parse};
use netarch::world::{UserId, World};
use rand::RngExt;

const AT_MAILBOX: u16 = 0;
const DELIVER: u16 = 1;

/// Messages go through a volunteer's always-online desktop.
#[derive(Default)]
struct CommunityMailbox {
    volunteers: Vec<UserId>,
    /// Copies waiting for each user: (message, volunteer holding it).
    waiting: Vec<Vec<(MsgId, UserId)>>,
    forwarded: u64,
}

impl CommunityMailbox {
    fn forward(&mut self, ctx: &mut Ctx<'_>, id: MsgId, from: UserId, to: UserId) {
        let bytes = ctx.msg(id).size;
        ctx.hop(id, from, to, bytes, Visible::BOTH, Some(to));
        let delay = ctx.latency(from, to);
        ctx.schedule_in(delay, ModelEvent::for_msg(DELIVER, id, to));
        self.forwarded += 1;
    }
}

impl DeliveryModel for CommunityMailbox {
    fn name(&self) -> &str {
        "community mailbox"
    }

    fn init(&mut self, ctx: &mut Ctx<'_>, _infra_rng: &mut SimRng) {
        let world = ctx.world();
        self.volunteers = (0..world.users()).filter(|&u| world.always_online[u as usize]).collect();
        self.waiting = vec![Vec::new(); world.users() as usize];
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        let sender = ctx.msg(id).sender;
        let volunteer = self.volunteers[ctx.rng().random_range(0..self.volunteers.len())];
        let bytes = ctx.msg(id).size;
        ctx.hop(id, sender, volunteer, bytes, Visible::BOTH, None);
        let delay = ctx.latency(sender, volunteer);
        ctx.schedule_in(delay, ModelEvent::for_msg(AT_MAILBOX, id, volunteer));
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            AT_MAILBOX => {
                let mut recipients = Vec::new();
                ctx.for_each_recipient(ev.msg(), |r| recipients.push(r));
                for r in recipients {
                    if ctx.is_online(r) {
                        self.forward(ctx, ev.msg(), ev.c, r);
                    } else {
                        self.waiting[r as usize].push((ev.msg(), ev.c));
                    }
                }
            }
            DELIVER => ctx.deliver(ev.msg(), ev.c, 2),
            _ => unreachable!(),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        for (id, volunteer) in std::mem::take(&mut self.waiting[user as usize]) {
            self.forward(ctx, id, volunteer, user);
        }
    }

    fn finish(&mut self, _ctx: &mut Ctx<'_>) -> ModelReport {
        let mut report = ModelReport::default();
        report.figures.insert("forwarded".into(), self.forwarded as f64);
        report
    }
}

fn main() {
    let scenario = parse(&load("default").expect("built-in"), &[]).expect("valid");
    let world = World::generate(scenario.world.clone(), scenario.seed());
    let mut models = entries(&scenario);
    models.push(Entry {
        name: "community mailbox".into(),
        kind: "plug-in".into(),
        model: Box::new(CommunityMailbox::default()),
    });
    let results = run_on(&world, &scenario, models, &|_, _| {}).expect("conservation holds");
    println!("{}", summary_table(&results));
    println!("{}", reading(&results));
}
