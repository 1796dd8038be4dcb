//! The plan of a sweep: which keys vary over which values, how many replicates, which
//! architectures, and the seed of every run — from `--vary` arguments or a `[sweep]` table.
//!
//! A plan is resolved once, before anything runs: every point's scenario is parsed and checked,
//! so a bad value fails at once (exit code 2) rather than hours into a sweep. Points are the
//! cartesian product of the varied keys' values, the first key varying slowest (like nested
//! loops in the order given). Run `(point, replicate)` gets the seed
//! `derive_seed(base, Purpose::Replicate, point << 32 | replicate) >> 1`: independent of the number
//! of points, replicates, jobs and shards. It is below 2^63 (a TOML integer once bounded seeds;
//! seeds now take the whole u64 range, but the shift stays so that sweeps keep their results),
//! and `netarch run --seed` repeats any single run. This module runs nothing; [`super::exec`] does.

use serde::{Deserialize, Serialize};

use super::SweepError;
use crate::rng::{Purpose, derive_seed};
use crate::scenario::diag::{KeyPath, Problem, frame};
use crate::scenario::sweep_table::{RawVary, SweepValue};
use crate::scenario::units::{format_duration, parse_duration};
use crate::scenario::{self, Override, Scenario, ScenarioError, Source};

/// Most points a sweep may have: each point's scenario is checked before the first run.
pub const MAX_POINTS: u64 = 100_000;

/// Replicates per point when neither `--replicates` nor the `[sweep]` table says.
pub const DEFAULT_REPLICATES: u32 = 5;

/// Metrics charted when neither `--metric` nor the `[sweep]` table names any (dotted names as in
/// `tidy.csv`).
pub const DEFAULT_METRICS: [&str; 6] = [
    "delivery_ratio",
    "delivered_in_deadline_ratio",
    "latency.p50_ms",
    "latency.p95_ms",
    "transmissions_per_delivered",
    "wakeups_per_device_hour",
];

/// One varied key and its values, in order.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Vary {
    /// The key path as given (may use `arch.*`).
    pub key: String,
    /// Its values.
    pub values: Vec<SweepValue>,
}

impl Vary {
    /// Parses `key=v1,v2,...` or `key=start:stop:step`.
    pub fn parse_arg(arg: &str) -> Result<Vary, SweepError> {
        let bad = |message: String| SweepError::Spec { arg: format!("--vary {arg}"), message };
        let (key, spec) =
            arg.split_once('=').ok_or_else(|| bad("expected KEY=v1,v2,... or KEY=start:stop:step".into()))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("the key is empty".into()));
        }
        let spec = spec.trim();
        let values = if !spec.contains(',') && spec.matches(':').count() == 2 {
            range(spec).map_err(bad)?
        } else {
            spec.split(',').map(SweepValue::parse).collect::<Result<Vec<_>, _>>().map_err(bad)?
        };
        check_values(key, values).map_err(|(_, m)| bad(m))
    }

    /// Resolves entry `at` of a `[sweep]` table's `vary` list; a problem names the entry's key
    /// in the file (`sweep.vary[at].values`, `.range` or `.key`).
    pub fn from_raw(raw: &RawVary, at: usize) -> Result<Vary, Problem> {
        let entry = KeyPath::root().key("sweep").key("vary").index(at);
        let (values, field) = match (&raw.values, &raw.range) {
            (Some(v), None) => (v.clone(), "values"),
            (None, Some(r)) => (range(r).map_err(|m| Problem::new(entry.key("range"), m))?, "range"),
            _ => {
                return Err(Problem::new(entry, "give either `values = [...]` or `range = \"start:stop:step\"`")
                    .hint("see docs/sweeps.md for the [sweep] table"));
            }
        };
        if raw.key.trim().is_empty() {
            return Err(Problem::new(entry.key("key"), "the key is empty").hint("e.g. key = \"world.users\""));
        }
        check_values(raw.key.trim(), values).map_err(|(on_key, m)| {
            Problem::new(entry.key(if on_key { "key" } else { field }), m)
                .hint("see docs/sweeps.md for the [sweep] table")
        })
    }
}

/// Checks the values of one varied key; an error says whether the key (true) or a value (false)
/// is at fault.
fn check_values(key: &str, values: Vec<SweepValue>) -> Result<Vary, (bool, String)> {
    let root = key.split(['.', '[']).next().unwrap_or("");
    if root == "seed" || root == "sweep" {
        return Err((true, format!("`{key}` cannot be swept: seeds come from the base seed and the replicate")));
    }
    check_value_list(key, values).map_err(|m| (false, m))
}

fn check_value_list(key: &str, values: Vec<SweepValue>) -> Result<Vary, String> {
    if values.is_empty() || values.iter().any(|v| matches!(v, SweepValue::Text(t) if t.is_empty())) {
        return Err("a value is empty".into());
    }
    let values = values
        .into_iter()
        .map(|v| match v {
            SweepValue::Float(x) => stored_exactly(x).map(SweepValue::Float),
            other => Ok(other),
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(format!("the value `{v}` is listed twice"));
        }
    }
    Ok(Vary { key: key.to_owned(), values })
}

/// `x`, or `x` rounded to 15 significant digits, such that `sweep.json` gives it back exactly:
/// shards and merges read values from that file, and a value one bit off would be another point.
fn stored_exactly(x: f64) -> Result<f64, String> {
    let back = |v: f64| serde_json::to_string(&v).ok().and_then(|t| serde_json::from_str::<f64>(&t).ok());
    if !x.is_finite() {
        return Err(format!("`{x}` is not a finite number"));
    }
    if back(x) == Some(x) {
        return Ok(x);
    }
    let rounded: f64 = format!("{x:.14e}").parse().map_err(|_| format!("`{x}` cannot be stored"))?;
    if back(rounded) == Some(rounded) { Ok(rounded) } else { Err(format!("`{x}` cannot be stored exactly; round it")) }
}

/// Most values a range may produce: a typo in the step should not plan a million runs.
const MAX_RANGE: usize = 10_000;

/// Expands "start:stop:step" (stop included) into values: integers if all three are integers,
/// decimals rounded to the inputs' decimals (so 0:0.3:0.1 gives 0.3, not 0.30000000000000004),
/// or durations if all three are durations.
fn range(spec: &str) -> Result<Vec<SweepValue>, String> {
    let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
    let [start, stop, step] = parts[..] else {
        return Err(format!("`{spec}` is not a range; write start:stop:step, e.g. 0:0.5:0.1"));
    };
    let nums: Vec<Option<SweepValue>> = [start, stop, step]
        .iter()
        .map(|t| SweepValue::parse(t).ok().filter(|v| matches!(v, SweepValue::Int(_) | SweepValue::Float(_))))
        .collect();
    let count = |a: f64, b: f64, s: f64| -> Result<usize, String> {
        if s.is_nan() || s <= 0.0 || !s.is_finite() {
            return Err(format!("the step of `{spec}` must be above 0"));
        }
        if b < a {
            return Err(format!("`{spec}` stops before it starts"));
        }
        let n = ((b - a) / s + 1e-9).floor() as usize + 1;
        if n > MAX_RANGE {
            return Err(format!("`{spec}` gives {n} values; at most {MAX_RANGE}"));
        }
        Ok(n)
    };
    match (&nums[0], &nums[1], &nums[2]) {
        (Some(SweepValue::Int(a)), Some(SweepValue::Int(b)), Some(SweepValue::Int(s))) => {
            let n = count(*a as f64, *b as f64, *s as f64)?;
            Ok((0..n as i64).map(|i| SweepValue::Int(a + i * s)).collect())
        }
        (Some(a), Some(b), Some(s)) => {
            let f = |v: &SweepValue| match v {
                SweepValue::Int(i) => *i as f64,
                SweepValue::Float(x) => *x,
                _ => unreachable!("filtered to numbers"),
            };
            let (a, b, s) = (f(a), f(b), f(s));
            let n = count(a, b, s)?;
            let decimals = [start, stop, step].iter().map(|t| t.split_once('.').map_or(0, |(_, d)| d.len())).max();
            let decimals = decimals.unwrap_or(0).min(15);
            Ok((0..n)
                .map(|i| {
                    let v = a + i as f64 * s;
                    SweepValue::Float(format!("{v:.decimals$}").parse().unwrap_or(v))
                })
                .collect())
        }
        _ => {
            let d = |t: &str| {
                parse_duration(t)
                    .map_err(|_| format!("`{spec}`: start, stop and step must all be numbers or all durations"))
            };
            let (a, b, s) = (d(start)?, d(stop)?, d(step)?);
            let n = count(a.0 as f64, b.0 as f64, s.0 as f64)?;
            Ok((0..n as u64)
                .map(|i| SweepValue::Text(format_duration(crate::time::SimDuration(a.0 + i * s.0))))
                .collect())
        }
    }
}

/// A share of a sweep's runs: shard `index` of `count` runs the runs whose number (point ×
/// replicates + replicate) leaves remainder `index` when divided by `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl Shard {
    /// Parses `i/n` (0 ≤ i < n).
    pub fn parse(arg: &str) -> Result<Shard, SweepError> {
        let bad = |message: &str| SweepError::Spec { arg: format!("--shard {arg}"), message: message.to_owned() };
        let (i, n) = arg.split_once('/').ok_or_else(|| bad("expected i/n, e.g. 0/3 (shards are numbered from 0)"))?;
        let index: u32 = i.trim().parse().map_err(|_| bad("the shard number is not a whole number"))?;
        let count: u32 = n.trim().parse().map_err(|_| bad("the shard count is not a whole number"))?;
        if count == 0 {
            return Err(bad("there must be at least one shard"));
        }
        if index >= count {
            return Err(bad("shards are numbered from 0, so i must be below n (e.g. 0/3, 1/3, 2/3)"));
        }
        Ok(Shard { index, count })
    }

    /// Whether run number `run` belongs to this shard.
    pub fn owns(&self, run: u64) -> bool {
        run % self.count as u64 == self.index as u64
    }
}

/// One run of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunId {
    /// The point, from 0.
    pub point: u64,
    /// The replicate, from 0.
    pub replicate: u32,
}

impl RunId {
    /// The name of its results file in `points/`.
    pub fn file_name(&self) -> String {
        format!("p{:04}-r{:03}.json", self.point, self.replicate)
    }

    /// Reads a results file name back.
    pub fn from_file_name(name: &str) -> Option<RunId> {
        let rest = name.strip_prefix('p')?.strip_suffix(".json")?;
        let (p, r) = rest.split_once("-r")?;
        Some(RunId { point: p.parse().ok()?, replicate: r.parse().ok()? })
    }
}

/// A resolved sweep: everything that fixes its results (written as `sweep.json`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Plan {
    /// The netarch version (runs of different versions are not merged).
    pub netarch_version: String,
    /// The scenario as given on the command line (a path, a built-in or a preset name).
    pub scenario: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// The scenario's title.
    pub title: String,
    /// The claims it measures.
    pub claims: Vec<String>,
    /// What the scenario models and what its runs show (from its `[explain]` table).
    pub explain: Explain,
    /// The seed every run's seed derives from.
    pub base_seed: u64,
    /// Runs per point.
    pub replicates: u32,
    /// Overrides applied to every point before the varied keys (`[sweep] set`, then `--set`).
    pub sets: Vec<String>,
    /// Labels of the architectures run, in scenario order.
    pub archs: Vec<String>,
    /// Their kinds, in the same order.
    pub kinds: Vec<String>,
    /// Labels of every `[[arch]]` entry of the base scenario, in file order (what `arch.*` and
    /// `arch.<i>` count).
    pub file_archs: Vec<String>,
    /// The varied keys.
    pub vary: Vec<Vary>,
    /// Metrics charted.
    pub metrics: Vec<String>,
    /// Whether `--arch` or `[sweep] archs` chose a subset (then runs are numbered within it).
    pub arch_subset: bool,
    /// Whether `--no-adversaries` left out the scenario's adversaries (no exposure analysis).
    #[serde(default)]
    pub no_adversaries: bool,
    /// The base scenario as resolved (defaults filled in, overrides applied), for the record and
    /// to check that shards and resumed runs ran the same thing.
    pub resolved: serde_json::Value,
}

/// The parts of a scenario's explanation a sweep report quotes.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Explain {
    /// What the scenario models.
    pub what: String,
    /// What its runs show.
    pub shows: String,
}

/// What the command line asks of a sweep (before the `[sweep]` table fills in the rest).
#[derive(Clone, Debug, Default)]
pub struct SweepRequest {
    /// Scenario path, built-in or preset name.
    pub scenario: String,
    /// `--vary` arguments (replace the table's `vary` when given).
    pub vary: Vec<String>,
    /// `--replicates`.
    pub replicates: Option<u32>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--set` arguments (applied after the table's `set`).
    pub sets: Vec<String>,
    /// `--arch` labels (replace the table's `archs` when given).
    pub archs: Vec<String>,
    /// `--metric` names (replace the table's `metrics` when given).
    pub metrics: Vec<String>,
    /// `--allow-large`: run even when the sweep's estimate passes the budget.
    pub allow_large: bool,
    /// `--no-adversaries`: leave out the scenario's `[[adversary]]` tables in every run.
    pub no_adversaries: bool,
}

impl Plan {
    /// A plan of `replicates` runs per point of `vary` on `base` (the scenario as `scenario`
    /// named it, with `sets` applied), running the architectures `archs` of the file's
    /// `file_archs`: the scenario's own fields (name, title, claims, explanation, seed, kinds,
    /// the resolved echo) are read from `base`, once, for sweeps and replicates alike.
    #[allow(clippy::too_many_arguments)]
    pub fn on(
        base: &Scenario,
        scenario: &str,
        sets: Vec<String>,
        archs: Vec<String>,
        file_archs: Vec<String>,
        vary: Vec<Vary>,
        metrics: Vec<String>,
        arch_subset: bool,
        no_adversaries: bool,
        replicates: u32,
    ) -> Plan {
        Plan {
            netarch_version: env!("CARGO_PKG_VERSION").to_owned(),
            scenario: scenario.to_owned(),
            scenario_name: base.name().to_owned(),
            title: base.raw.title.clone(),
            claims: base.raw.claims.clone(),
            explain: Explain { what: base.raw.explain.what.clone(), shows: base.raw.explain.shows.clone() },
            base_seed: base.seed(),
            replicates,
            sets,
            kinds: base.archs.iter().filter(|a| archs.contains(&a.name)).map(|a| a.spec.kind().to_owned()).collect(),
            archs,
            file_archs,
            vary,
            metrics,
            arch_subset,
            no_adversaries,
            resolved: serde_json::to_value(&base.raw).expect("a scenario serialises"),
        }
    }

    /// Number of points.
    pub fn points(&self) -> u64 {
        self.vary.iter().map(|v| v.values.len() as u64).product()
    }

    /// Number of runs (points × replicates).
    pub fn runs(&self) -> u64 {
        self.points() * self.replicates as u64
    }

    /// Run number `k` (point-major).
    pub fn run_id(&self, k: u64) -> RunId {
        RunId { point: k / self.replicates as u64, replicate: (k % self.replicates as u64) as u32 }
    }

    /// The number of a run.
    pub fn run_number(&self, id: RunId) -> u64 {
        id.point * self.replicates as u64 + id.replicate as u64
    }

    /// The value of each varied key at `point`, in key order.
    pub fn values_at(&self, point: u64) -> Vec<&SweepValue> {
        self.value_indices(point).into_iter().zip(&self.vary).map(|(j, v)| &v.values[j]).collect()
    }

    /// The index of each varied key's value at `point`, in key order.
    fn value_indices(&self, point: u64) -> Vec<usize> {
        let mut rest = point;
        let mut out = vec![0; self.vary.len()];
        for (i, v) in self.vary.iter().enumerate().rev() {
            let n = v.values.len() as u64;
            out[i] = (rest % n) as usize;
            rest /= n;
        }
        out
    }

    /// The seed of a run: from (base seed, point, replicate) only, below 2^63.
    pub fn seed_of(&self, id: RunId) -> u64 {
        derive_seed(self.base_seed, Purpose::Replicate, (id.point << 32) | id.replicate as u64) >> 1
    }

    /// The `--set` overrides of a point (after the base ones): `arch.*` expanded to the selected
    /// architectures' positions in the file.
    pub fn point_sets(&self, point: u64) -> Vec<String> {
        self.traced_point_sets(point).into_iter().map(|(set, _)| set).collect()
    }

    /// [`Plan::point_sets`], each with where it comes from: which base override, or which varied
    /// key and value.
    fn traced_point_sets(&self, point: u64) -> Vec<(String, SetFrom)> {
        let mut sets: Vec<(String, SetFrom)> =
            self.sets.iter().enumerate().map(|(i, s)| (s.clone(), SetFrom::Base(i))).collect();
        for (k, (v, j)) in self.vary.iter().zip(self.value_indices(point)).enumerate() {
            for key in self.expand(&v.key) {
                sets.push((format!("{key}={}", v.values[j].toml_literal()), SetFrom::Vary { key: k, value: j }));
            }
        }
        sets
    }

    /// `arch.*.x` becomes `arch.<i>.x` for each selected architecture (by its position among all
    /// entries of the base scenario); other keys stay as they are.
    fn expand(&self, key: &str) -> Vec<String> {
        if self.archs.is_empty() {
            return Vec::new();
        }
        scenario::expand_arch_star(key, &self.file_archs, &self.archs)
    }

    /// The scenario of run `id`: the base overrides, the point's values and the run's seed, with
    /// only the selected architectures.
    pub fn scenario_of(&self, source: &Source, id: RunId) -> Result<Scenario, SweepError> {
        let mut sets = self.point_sets(id.point);
        sets.push(format!("seed={}", self.seed_of(id)));
        let mut s = scenario::parse(source, &sets)?;
        select(&mut s, &self.archs);
        if self.no_adversaries {
            s.drop_adversaries();
        }
        Ok(s)
    }

    /// A command line that reproduces this sweep.
    pub fn command(&self) -> String {
        let mut c = vec!["netarch".to_owned(), "sweep".to_owned(), quote(&self.scenario)];
        for v in &self.vary {
            let values: Vec<String> = v.values.iter().map(|x| x.to_string()).collect();
            c.push("--vary".into());
            c.push(quote(&format!("{}={}", v.key, values.join(","))));
        }
        c.push(format!("--replicates {}", self.replicates));
        c.push(format!("--seed {}", self.base_seed));
        for s in &self.sets {
            c.push("--set".into());
            c.push(quote(s));
        }
        if self.arch_subset {
            for a in &self.archs {
                c.push("--arch".into());
                c.push(quote(a));
            }
        }
        if self.no_adversaries {
            c.push("--no-adversaries".into());
        }
        c.join(" ")
    }

    /// A command line that repeats one run of the sweep with `netarch run`.
    pub fn run_command(&self, id: RunId) -> String {
        let mut c = vec!["netarch".to_owned(), "run".to_owned(), quote(&self.scenario)];
        for s in self.point_sets(id.point) {
            c.push("--set".into());
            c.push(quote(&s));
        }
        c.push(format!("--seed {}", self.seed_of(id)));
        if self.arch_subset {
            for a in &self.archs {
                c.push("--arch".into());
                c.push(quote(a));
            }
        }
        if self.no_adversaries {
            c.push("--no-adversaries".into());
        }
        c.join(" ")
    }
}

/// Where one override of a point comes from.
#[derive(Clone, Copy, Debug)]
enum SetFrom {
    /// The plan's base overrides, by position.
    Base(usize),
    /// A varied key and the index of its value.
    Vary { key: usize, value: usize },
}

/// Quotes a shell word when it needs it.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

/// Keeps only the architectures labelled in `labels` (all when empty), in scenario order.
pub fn select(s: &mut Scenario, labels: &[String]) {
    s.retain_archs(labels);
}

/// Resolves a sweep request and its scenario into a plan, checking every point's scenario.
///
/// A problem with what the command line gave (`--vary`, `--set`, `--arch`, `--replicates`) is
/// reported with that flag; a problem with the scenario's `[sweep]` table is reported like any
/// scenario problem, at its file, line and key.
pub fn resolve(req: &SweepRequest) -> Result<(Plan, Source), SweepError> {
    let source = scenario::load(&req.scenario)?;
    let in_file = |path: KeyPath, message: String, hint: &str| -> SweepError {
        let problem = Problem::new(path, message).hint(hint);
        SweepError::Scenario(ScenarioError::Invalid(vec![frame(&source.file, &source.text, problem, &[])]))
    };
    let sweep_key = || KeyPath::root().key("sweep");
    const HINT: &str = "see docs/sweeps.md for the [sweep] table";
    let mut cli_sets = req.sets.clone();
    if let Some(seed) = req.seed {
        cli_sets.push(format!("seed={seed}"));
    }
    // Parse once with the command line's overrides to read the [sweep] table, then again with
    // the table's own overrides first (so the command line wins).
    let first = scenario::parse(&source, &cli_sets)?;
    let table = first.raw.sweep.clone().unwrap_or_default();
    let mut sets = table.set.clone();
    sets.extend(cli_sets);
    // Where each base override is written: the table's `set` list, then the command line.
    let set_origins: Vec<Option<KeyPath>> =
        (0..sets.len()).map(|i| (i < table.set.len()).then(|| sweep_key().key("set").index(i))).collect();
    let overrides = |list: &[(String, Option<KeyPath>, &'static str)]| -> Vec<Override> {
        list.iter().map(|(arg, origin, flag)| Override { arg: arg.clone(), origin: origin.clone(), flag }).collect()
    };
    let base_list: Vec<(String, Option<KeyPath>, &'static str)> =
        sets.iter().cloned().zip(set_origins.iter().cloned()).map(|(a, o)| (a, o, "--set")).collect();
    let mut base = scenario::parse_with(&source, &overrides(&base_list))?;
    if req.no_adversaries {
        base.drop_adversaries();
    }

    let from_table = req.vary.is_empty();
    let vary = if !from_table {
        req.vary.iter().map(|a| Vary::parse_arg(a)).collect::<Result<Vec<_>, _>>()?
    } else {
        table.vary.iter().enumerate().map(|(i, v)| Vary::from_raw(v, i)).collect::<Result<Vec<_>, _>>().map_err(
            |p| SweepError::Scenario(ScenarioError::Invalid(vec![frame(&source.file, &source.text, p, &[])])),
        )?
    };
    if vary.is_empty() {
        return Err(SweepError::Spec {
            arg: req.scenario.clone(),
            message: "nothing to vary: give --vary KEY=v1,v2,... (or KEY=start:stop:step), or add a [sweep] table \
                      with `vary` to the scenario"
                .into(),
        });
    }
    for (i, v) in vary.iter().enumerate() {
        if let Some(j) = vary[..i].iter().position(|w| w.key == v.key) {
            if from_table {
                let path = sweep_key().key("vary").index(i).key("key");
                return Err(in_file(path, format!("`{}` is varied twice (also by vary[{j}])", v.key), HINT));
            }
            return Err(SweepError::Spec {
                arg: format!("--vary {}", v.key),
                message: "this key is varied twice".into(),
            });
        }
    }
    let replicates = req.replicates.or(table.replicates).unwrap_or(DEFAULT_REPLICATES);
    if replicates == 0 {
        if req.replicates.is_none() {
            return Err(in_file(sweep_key().key("replicates"), "at least one replicate is needed".into(), HINT));
        }
        return Err(SweepError::Spec {
            arg: "--replicates 0".into(),
            message: "at least one replicate is needed".into(),
        });
    }

    let all_labels: Vec<String> = base.archs.iter().map(|a| a.name.clone()).collect();
    let wanted = if req.archs.is_empty() { table.archs.clone() } else { req.archs.clone() };
    for (i, w) in wanted.iter().enumerate() {
        if !all_labels.contains(w) {
            let message = format!("no architecture has this label; the scenario's are: {}", all_labels.join(", "));
            if req.archs.is_empty() {
                let path = sweep_key().key("archs").index(i);
                return Err(in_file(path, format!("`{w}`: {message}"), HINT));
            }
            return Err(SweepError::Spec { arg: format!("--arch {w}"), message });
        }
    }
    let arch_subset = !wanted.is_empty();
    let archs: Vec<String> = if arch_subset {
        all_labels.iter().filter(|l| wanted.contains(l)).cloned().collect()
    } else {
        all_labels.clone()
    };

    let metrics: Vec<String> = if !req.metrics.is_empty() {
        req.metrics.clone()
    } else if !table.metrics.is_empty() {
        table.metrics.clone()
    } else {
        DEFAULT_METRICS.iter().map(|m| m.to_string()).collect()
    };

    // Metric names label charts and the terminal: no control characters.
    if let Some((i, m)) = metrics.iter().enumerate().find(|(_, m)| m.chars().any(char::is_control)) {
        let message = format!("`{}` has a control character; metric names are those of tidy.csv", m.escape_default());
        if req.metrics.is_empty() {
            return Err(in_file(sweep_key().key("metrics").index(i), message, HINT));
        }
        return Err(SweepError::Spec { arg: "--metric".into(), message });
    }
    let plan = Plan::on(
        &base,
        &req.scenario,
        sets,
        archs,
        all_labels,
        vary,
        metrics,
        arch_subset,
        req.no_adversaries,
        replicates,
    );
    // Refused before anything enumerates the points: each is parsed and checked below.
    let points = plan.vary.iter().try_fold(1u64, |n, v| n.checked_mul(v.values.len() as u64));
    if points.is_none_or(|p| p > MAX_POINTS) {
        let sizes: Vec<String> = plan.vary.iter().map(|v| format!("{} ({})", v.key, v.values.len())).collect();
        let message = format!(
            "{} points ({}) is too many; at most {MAX_POINTS}: vary fewer keys or fewer values, or split the sweep in \
             several",
            points.map_or_else(|| "more than 2^64".to_owned(), |p| p.to_string()),
            sizes.join(" × ")
        );
        if from_table {
            return Err(in_file(sweep_key().key("vary"), message, HINT));
        }
        return Err(SweepError::Spec { arg: "--vary".into(), message });
    }
    for (i, v) in plan.vary.iter().enumerate() {
        if v.key.starts_with("arch.*.") && plan.expand(&v.key).is_empty() {
            if from_table {
                let path = sweep_key().key("vary").index(i).key("key");
                return Err(in_file(path, format!("`{}`: no architecture is selected", v.key), HINT));
            }
            return Err(SweepError::Spec {
                arg: format!("--vary {}", v.key),
                message: "no architecture is selected".into(),
            });
        }
    }
    // Where a varied value is written in the file (its entry of `values`, or the `range`).
    let vary_origin = |key: usize, value: usize| -> Option<KeyPath> {
        let entry = sweep_key().key("vary").index(key);
        from_table.then(|| match table.vary[key].values {
            Some(_) => entry.key("values").index(value),
            None => entry.key("range"),
        })
    };
    // Check every point now: a bad value should fail before the first run, not hours later; and
    // sum the points' estimates, refusing a sweep beyond the event budget or a point beyond the
    // machine's memory as soon as it shows.
    let memory = scenario::cost::machine_memory();
    let mut events = 0.0;
    for point in 0..plan.points() {
        let traced: Vec<(String, Option<KeyPath>, &'static str)> = plan
            .traced_point_sets(point)
            .into_iter()
            .map(|(arg, from)| match from {
                SetFrom::Base(i) => (arg, set_origins[i].clone(), "--set"),
                SetFrom::Vary { key, value } => (arg, vary_origin(key, value), "--vary"),
            })
            .collect();
        let mut s = scenario::parse_with(&source, &overrides(&traced))?;
        select(&mut s, &plan.archs);
        let estimate = scenario::admit(&s, 1.0, true)?;
        events += estimate.events * replicates as f64;
        if !req.allow_large {
            let runs = plan.runs() as f64;
            let refusal = if events > scenario::cost::EVENT_BUDGET {
                let what = format!(
                    "{} runs ({} points × {} replicates), {} events by point {point} already, beyond the budget of \
                     {} events (about an hour on 2 cores)",
                    scenario::cost::count(runs),
                    plan.points(),
                    replicates,
                    scenario::cost::count(events),
                    scenario::cost::count(scenario::cost::EVENT_BUDGET)
                );
                let mut drivers = estimate.event_drivers();
                drivers.insert(
                    0,
                    scenario::cost::Driver { keys: "--replicates, --vary".into(), amount: events - estimate.events },
                );
                Some((what, drivers))
            } else {
                scenario::cost::refusal(&estimate, 1.0, memory)
            };
            if let Some((what, drivers)) = refusal {
                return Err(scenario::too_large(&plan.scenario_name, what, &estimate, &drivers).into());
            }
        }
        let labels: Vec<&str> = s.archs.iter().map(|a| a.name.as_str()).collect();
        if let Some(missing) = plan.archs.iter().find(|a| !labels.contains(&a.as_str())) {
            let message =
                format!("the architecture `{missing}` is gone at this point; do not vary architecture labels");
            if from_table {
                let values: Vec<String> = plan.values_at(point).iter().map(|v| v.to_string()).collect();
                let at = format!("at point {point} ({}): {message}", values.join(", "));
                return Err(in_file(sweep_key().key("vary"), at, HINT));
            }
            return Err(SweepError::Spec { arg: format!("--vary (point {point})"), message });
        }
    }
    Ok((plan, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::sweep_table::Unit;

    fn floats(v: &[SweepValue]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn lists_and_ranges_parse() {
        let v = Vary::parse_arg("world.users=100,200, 400").unwrap();
        assert_eq!(v.key, "world.users");
        assert_eq!(v.values, vec![SweepValue::Int(100), SweepValue::Int(200), SweepValue::Int(400)]);
        let v = Vary::parse_arg("arch.0.block_share=0:0.3:0.1").unwrap();
        assert_eq!(floats(&v.values), ["0", "0.1", "0.2", "0.3"]);
        assert!(matches!(v.values[3], SweepValue::Float(_)));
        let v = Vary::parse_arg("x=2:10:4").unwrap();
        assert_eq!(v.values, vec![SweepValue::Int(2), SweepValue::Int(6), SweepValue::Int(10)]);
        let v = Vary::parse_arg("world.availability.online.mean=15min:1h:15min").unwrap();
        assert_eq!(floats(&v.values), ["15min", "30min", "45min", "1h"]);
        let v = Vary::parse_arg("arch.0.sealed_sender=true,false").unwrap();
        assert_eq!(v.values, vec![SweepValue::Bool(true), SweepValue::Bool(false)]);
        let v = Vary::parse_arg("a.b=uniform").unwrap();
        assert_eq!(v.values, vec![SweepValue::Text("uniform".into())]);
    }

    #[test]
    fn bad_specs_say_why() {
        for (arg, needle) in [
            ("world.users", "KEY="),
            ("=1,2", "empty"),
            ("x=1:0:1", "stops before"),
            ("x=0:1:0", "above 0"),
            ("x=0:1000000:1", "at most"),
            ("x=1,,2", "empty"),
            ("x=1,1", "twice"),
            ("seed=1,2", "cannot be swept"),
            ("x=1h:2:1", "all durations"),
            ("x={ a = 1 }", "only numbers"),
        ] {
            let e = Vary::parse_arg(arg).expect_err(arg).to_string();
            assert!(e.contains(needle), "{arg}: {e}");
        }
    }

    #[test]
    fn values_become_toml_literals_that_keep_their_type() {
        assert_eq!(SweepValue::Float(1.0).toml_literal(), "1.0");
        assert_eq!(SweepValue::Int(3).toml_literal(), "3");
        assert_eq!(SweepValue::Text("30min".into()).toml_literal(), "\"30min\"");
        assert_eq!(SweepValue::Text("30min".into()).numeric(), Some((1800.0, Unit::Seconds)));
        assert_eq!(SweepValue::Text("6/h".into()).numeric().map(|x| x.1), Some(Unit::PerHour));
        assert_eq!(SweepValue::Text("uniform".into()).numeric(), None);
    }

    #[test]
    fn shards_parse_and_split_runs_evenly() {
        let s = Shard::parse("1/3").unwrap();
        assert_eq!(s, Shard { index: 1, count: 3 });
        let owned: Vec<u64> = (0..10).filter(|&k| s.owns(k)).collect();
        assert_eq!(owned, [1, 4, 7]);
        for bad in ["3/3", "1", "a/3", "0/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn run_files_name_their_run() {
        let id = RunId { point: 12, replicate: 3 };
        assert_eq!(id.file_name(), "p0012-r003.json");
        assert_eq!(RunId::from_file_name(&id.file_name()), Some(id));
        assert_eq!(RunId::from_file_name(".tmp-1-p0012-r003.json"), None);
    }
}
