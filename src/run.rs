//! Running a scenario: one world, every architecture on it, in parallel, with identical results
//! whatever the number of threads.
//!
//! The world is generated once from the seed; each architecture then runs on it in its own
//! [`Sim`], replaying the same availability timelines and sends (paired comparison). Runs are
//! independent, so they go on separate threads; results are collected in scenario order, so the
//! output never depends on which finished first.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::DeliveryModel;
use crate::engine::observation::ObservationSink;
use crate::engine::{RunConfig, Sim, SimError};
use crate::metrics::trace::CopySink;
use crate::observe::exposure::ExposureAnalysis;
use crate::results::summary::{ArchSummary, CdfPoint, cdf};
use crate::scenario::Scenario;
use crate::world::World;

/// One model to run, with its label and kind.
pub struct Entry {
    /// Label in outputs.
    pub name: String,
    /// Kind (a built-in kind or a plug-in's own word).
    pub kind: String,
    /// A fresh model.
    pub model: Box<dyn DeliveryModel>,
}

/// The built-in architectures a scenario names, ready to run.
pub fn entries(s: &Scenario) -> Vec<Entry> {
    s.archs
        .iter()
        .map(|a| Entry { name: a.name.clone(), kind: a.spec.kind().to_owned(), model: a.spec.build(&a.name) })
        .collect()
}

/// Latency CDFs of one architecture.
#[derive(Clone, Debug, Serialize)]
pub struct Cdfs {
    /// Every delivered copy.
    pub all: Vec<CdfPoint>,
    /// Copies whose recipient was online at send.
    pub online_at_send: Vec<CdfPoint>,
    /// Copies whose recipient was offline at send.
    pub offline_at_send: Vec<CdfPoint>,
}

/// Facts about the generated world, for the record.
#[derive(Clone, Debug, Serialize)]
pub struct WorldSummary {
    /// Users.
    pub users: u32,
    /// Undirected contact edges.
    pub contact_edges: u64,
    /// Rooms.
    pub rooms: usize,
    /// Share of users always online.
    pub always_online_share: f64,
    /// Long-run share of time other users are online.
    pub online_fraction: f64,
    /// Users per region, in matrix order.
    pub users_per_region: Vec<(String, u64)>,
}

/// Everything one scenario run produced.
#[derive(Clone, Debug)]
pub struct RunResults {
    /// The world's figures.
    pub world: WorldSummary,
    /// One summary per architecture, in scenario order.
    pub archs: Vec<ArchSummary>,
    /// One set of CDFs per architecture, in the same order.
    pub cdfs: Vec<Cdfs>,
}

/// Runs every entry on the scenario's world. `progress(i, share)` is called from worker threads
/// with the index of the entry and the share of its simulated time done.
pub fn run(s: &Scenario, entries: Vec<Entry>, progress: &(dyn Fn(usize, f64) + Sync)) -> Result<RunResults, SimError> {
    let world = World::generate(s.world.clone(), s.seed());
    run_on(&world, s, entries, progress)
}

/// Runs every entry on an already generated world.
pub fn run_on(
    world: &World,
    s: &Scenario,
    entries: Vec<Entry>,
    progress: &(dyn Fn(usize, f64) + Sync),
) -> Result<RunResults, SimError> {
    run_with_copy_sinks(world, s, entries, Vec::new(), progress)
}

/// [`run_on`], handing entry i's copies to `copy_sinks[i]` as they settle (`--trace`); entries
/// beyond the sinks given run without one.
pub fn run_with_copy_sinks(
    world: &World,
    s: &Scenario,
    entries: Vec<Entry>,
    copy_sinks: Vec<&mut (dyn CopySink + Send)>,
    progress: &(dyn Fn(usize, f64) + Sync),
) -> Result<RunResults, SimError> {
    let mut copy_sinks = copy_sinks.into_iter();
    let items: Vec<(Entry, Option<&mut (dyn CopySink + Send)>)> =
        entries.into_iter().map(|e| (e, copy_sinks.next())).collect();
    let window = s.window;
    let device_hours = world.users() as f64 * window.run_end.since(window.warmup_end).as_secs_f64() / 3600.0;
    let run_one = |i: usize,
                   item: &mut (Entry, Option<&mut (dyn CopySink + Send)>)|
     -> Result<(ArchSummary, Cdfs), SimError> {
        let (e, copies) = item;
        let cfg = RunConfig { seed: s.seed(), arch_index: i as u64, window, deadline: s.deadline };
        // The exposure analysis is one observation sink holding every adversary; without
        // adversaries there is no sink and hops cost nothing extra.
        let mut exposure = (!s.adversaries.is_empty()).then(|| ExposureAnalysis::new(world, s.seed(), &s.adversaries));
        let sinks: Vec<&mut dyn ObservationSink> = match exposure.as_mut() {
            Some(x) => vec![x],
            None => Vec::new(),
        };
        let mut sim = Sim::new(world, e.model.as_mut(), cfg, sinks);
        if let Some(c) = copies.as_deref_mut() {
            sim = sim.with_copy_sink(c);
        }
        let out = sim.run(&mut |share| progress(i, share))?;
        progress(i, 1.0);
        let mut summary = ArchSummary::from_run(&e.name, &e.kind, &out, device_hours);
        summary.exposure = exposure.map(ExposureAnalysis::finish).unwrap_or_default();
        let cdfs = Cdfs {
            all: cdf(&out.recorder.latency),
            online_at_send: cdf(&out.recorder.latency_online),
            offline_at_send: cdf(&out.recorder.latency_offline),
        };
        Ok((summary, cdfs))
    };
    let outputs = longest_first(items, |(e, _)| e.model.work_per_message(), run_one);
    let mut archs = Vec::new();
    let mut cdfs = Vec::new();
    for o in outputs {
        let (a, c) = o?;
        archs.push(a);
        cdfs.push(c);
    }
    Ok(RunResults { world: summarise_world(world), archs, cdfs })
}

/// Runs `job` on every item, on all of rayon's threads, starting the items with the most `work`
/// first and handing each thread the next item as it frees up (longest processing time first:
/// with four runs on two cores the longest run never starts last). Results come back in the
/// items' order, so they never depend on the schedule.
fn longest_first<T: Send, R: Send>(
    items: Vec<T>,
    work: impl Fn(&T) -> f64,
    job: impl Fn(usize, &mut T) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| work(&items[b]).total_cmp(&work(&items[a])).then(a.cmp(&b)));
    let slots: Vec<Mutex<(T, Option<R>)>> = items.into_iter().map(|t| Mutex::new((t, None))).collect();
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().min(slots.len());
    (0..workers).into_par_iter().for_each(|_| {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let mut slot = slots[i].lock().expect("no job panicked while holding its slot");
            let result = job(i, &mut slot.0);
            slot.1 = Some(result);
        }
    });
    slots.into_iter().map(|m| m.into_inner().expect("no job panicked").1.expect("every item ran")).collect()
}

fn summarise_world(w: &World) -> WorldSummary {
    let names = w.params.regions.names();
    let mut per_region = vec![0u64; names.len()];
    for &r in &w.user_region {
        per_region[r as usize] += 1;
    }
    let always = w.always_online.iter().filter(|&&a| a).count();
    WorldSummary {
        users: w.users(),
        contact_edges: w.contacts.edge_count(),
        rooms: w.rooms.len(),
        always_online_share: always as f64 / w.users().max(1) as f64,
        online_fraction: w.params.availability.online_fraction(),
        users_per_region: names.iter().cloned().zip(per_region).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_work_starts_first_and_results_keep_the_items_order() {
        let started = Mutex::new(Vec::new());
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let work = [1.0, 4.0, 2.0, 4.0];
        let results = pool.install(|| {
            longest_first(
                vec![0usize, 1, 2, 3],
                |&i| work[i],
                |i, item| {
                    started.lock().unwrap().push(i);
                    *item * 10
                },
            )
        });
        assert_eq!(results, [0, 10, 20, 30]);
        assert_eq!(started.into_inner().unwrap(), [1, 3, 2, 0], "ties keep the items' order");
    }
}
