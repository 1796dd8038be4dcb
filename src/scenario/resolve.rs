//! Validation: checks every value of a parsed scenario and builds the engine's own types.
//!
//! Checks collect every problem they find (with the key's path and a hint) instead of stopping at
//! the first, so a user fixes a file in one pass. Nothing here reads files except a custom
//! latency matrix named by the scenario.

use std::path::Path;

use crate::arch::ArchSpec;
use crate::dist::Dist;
use crate::metrics::Window;
use crate::scenario::arch::resolve_kind;
use crate::scenario::diag::{KeyPath, Problem, Seg};
use crate::scenario::presets;
use crate::scenario::schema::{DistFamily, RawDist, RawScenario, SocialKind};
use crate::scenario::units::{Duration, Size};
use crate::scenario::{ArchEntry, Scenario};
use crate::time::{SimDuration, SimTime};
use crate::world::regions::{DEFAULT_REGION_WEIGHTS, SOUTH_AMERICA_DIAGONAL_MS};
use crate::world::{InternetOutage, LinkDelays, RegionId, Regions, SocialModel, WorldParams};
use crate::world::{availability::AvailabilityParams, workload::WorkloadParams};

/// Most users a scenario may ask for: beyond this the world alone outgrows a 24 GiB machine.
pub const MAX_USERS: u32 = 20_000_000;

/// Facts about the scenario that architecture tables are checked against.
pub struct Env<'a> {
    /// The regions of the world.
    pub regions: &'a Regions,
    /// Number of users.
    pub users: u32,
    /// The sending period.
    pub duration: SimDuration,
    /// End of the run (sending period plus cool-down).
    pub run_end: SimTime,
}

impl Env<'_> {
    /// Looks up a region by name, pushing a problem naming the known regions if it is unknown.
    pub fn region(&self, name: &str, path: KeyPath, problems: &mut Vec<Problem>) -> Option<RegionId> {
        let id = self.regions.id(name);
        if id.is_none() {
            problems.push(
                Problem::new(path, format!("unknown region `{name}`"))
                    .hint(format!("use one of: {}", self.regions.names().join(", "))),
            );
        }
        id
    }
}

/// Turns a serde error (with the path serde_path_to_error tracked) into a problem under `base`.
pub fn serde_problem(base: &KeyPath, e: serde_path_to_error::Error<toml::de::Error>) -> Problem {
    let mut path = base.clone();
    for seg in e.path().iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => path.0.push(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => path.0.push(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    let inner = e.into_inner();
    let message = inner.message().trim().to_owned();
    let hint = if message.starts_with("unknown field") {
        Some("check the spelling; `netarch schema` lists every key, docs/scenarios.md explains them".to_owned())
    } else if message.starts_with("missing field") {
        Some("add the key; docs/scenarios.md gives its meaning and unit".to_owned())
    } else if message.contains("expected a seed") {
        Some("e.g. seed = 42; seeds of 2^63 and above may also be written as a string of digits".to_owned())
    } else if message.starts_with("invalid type: floating point") && expects_whole_number(&message) {
        Some("this key takes a whole number written in digits, e.g. 1000000: not in exponent form (1e6) nor with a fraction".to_owned())
    } else if message.starts_with("invalid type") {
        Some("durations, sizes and rates are strings with a unit, e.g. \"50ms\", \"1KB\", \"6/h\"".to_owned())
    } else {
        None
    };
    Problem { path, message, hint, span: None }
}

/// Whether a serde message says an integer was expected (`expected u32`, `expected i64`, ...).
fn expects_whole_number(message: &str) -> bool {
    message.split("expected ").nth(1).is_some_and(|t| {
        let t = t.trim();
        (t.starts_with('u') || t.starts_with('i')) && t[1..].chars().take_while(char::is_ascii_digit).count() > 0
            || t.starts_with("usize")
    })
}

/// Checks that `text` has no control character (in `prose`, newlines and tabs are fine).
pub fn no_control(text: &str, path: KeyPath, prose: bool, problems: &mut Vec<Problem>) {
    let forbidden = if prose { crate::text::is_forbidden_in_prose } else { crate::text::is_forbidden_in_name };
    if let Some((at, c)) = text.chars().enumerate().find(|&(_, c)| forbidden(c)) {
        let what = if prose { "this text" } else { "a name or title" };
        problems.push(
            Problem::new(
                path,
                format!("`{}` has a control character (U+{:04X}) at character {}", text.escape_default(), c as u32, at + 1),
            )
            .hint(format!(
                "{what} is shown in charts, reports and the terminal; remove the character (TOML escapes such as \\u0001 write one too)"
            )),
        );
    }
}

/// Checks that `value` is a probability.
pub fn probability(value: f64, path: KeyPath, problems: &mut Vec<Problem>) -> f64 {
    if !(0.0..=1.0).contains(&value) || value.is_nan() {
        problems.push(Problem::new(path, format!("expected a probability between 0 and 1, found {value}")));
    }
    value.clamp(0.0, 1.0)
}

/// Checks that a count is at least `min`.
pub fn at_least(value: u32, min: u32, path: KeyPath, problems: &mut Vec<Problem>) -> u32 {
    if value < min {
        problems.push(Problem::new(path, format!("expected at least {min}, found {value}")));
    }
    value.max(min)
}

/// Checks that a duration is not zero.
pub fn positive_duration(d: Duration, path: KeyPath, problems: &mut Vec<Problem>) -> SimDuration {
    if d.0 == SimDuration::ZERO {
        problems.push(Problem::new(path, "expected a duration above zero").hint("e.g. \"30s\""));
    }
    d.0
}

/// Something a distribution can be over: its value in the distribution's base unit.
pub trait UnitValue {
    /// The value in base units (seconds, bytes).
    fn base(&self) -> f64;
}

impl UnitValue for Duration {
    fn base(&self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl UnitValue for Size {
    fn base(&self) -> f64 {
        self.0
    }
}

/// Builds a distribution from its table, naming the missing or impossible parameter.
pub fn dist<U: UnitValue>(raw: &RawDist<U>, path: &KeyPath, problems: &mut Vec<Problem>) -> Option<Dist> {
    let need = |v: &Option<U>, key: &str, problems: &mut Vec<Problem>| -> Option<f64> {
        let got = v.as_ref().map(UnitValue::base);
        if got.is_none() {
            problems.push(Problem::new(
                path.key(key),
                format!("a {:?} distribution needs `{key}`", raw.dist).to_lowercase(),
            ));
        }
        got
    };
    let need_f = |v: Option<f64>, key: &str, problems: &mut Vec<Problem>| -> Option<f64> {
        if v.is_none() {
            problems.push(Problem::new(
                path.key(key),
                format!("a {:?} distribution needs `{key}`", raw.dist).to_lowercase(),
            ));
        }
        v
    };
    let built = match raw.dist {
        DistFamily::Exponential => Dist::exponential(need(&raw.mean, "mean", problems)?),
        DistFamily::Weibull => {
            let mean = need(&raw.mean, "mean", problems);
            let shape = need_f(raw.shape, "shape", problems);
            Dist::weibull(mean?, shape?)
        }
        DistFamily::Lognormal => {
            let sigma = need_f(raw.sigma, "sigma", problems)?;
            match (&raw.mean, &raw.median) {
                (Some(m), None) => Dist::lognormal_mean(m.base(), sigma),
                (None, Some(m)) => Dist::lognormal_median(m.base(), sigma),
                _ => {
                    problems.push(Problem::new(
                        path.clone(),
                        "a lognormal distribution needs exactly one of `mean` and `median`",
                    ));
                    return None;
                }
            }
        }
        DistFamily::Constant => Dist::constant(need(&raw.value, "value", problems)?),
        DistFamily::Uniform => {
            let low = need(&raw.low, "low", problems);
            let high = need(&raw.high, "high", problems);
            Dist::uniform(low?, high?)
        }
    };
    match built {
        Ok(d) => Some(d),
        Err(e) => {
            problems.push(Problem::new(path.clone(), e.to_string()).hint("means and shapes must be above zero"));
            None
        }
    }
}

/// Checks a parsed scenario and builds the engine's types. `dir` resolves relative file paths.
pub fn resolve(mut raw: RawScenario, dir: Option<&Path>) -> Result<Scenario, Vec<Problem>> {
    let mut problems = Vec::new();
    let root = KeyPath::root();
    let p = &mut problems;

    if raw.name.is_empty() || !raw.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        p.push(
            Problem::new(root.key("name"), format!("`{}` cannot name an output folder", raw.name))
                .hint("use letters, digits, `-` and `_`"),
        );
    }
    // Text shown in charts, reports and the terminal: no control characters (an SVG with one is
    // not well-formed XML; an escape sequence rewrites the terminal).
    no_control(&raw.title, root.key("title"), false, p);
    for (key, text) in [
        ("what", &raw.explain.what),
        ("shows", &raw.explain.shows),
        ("next", &raw.explain.next),
        ("sources", &raw.explain.sources),
    ] {
        no_control(text, root.key("explain").key(key), true, p);
    }
    for (i, a) in raw.arch.iter().enumerate() {
        if let Some(name) = &a.name {
            no_control(name, root.key("arch").index(i).key("name"), false, p);
        }
    }
    for (i, a) in raw.adversary.iter().enumerate() {
        if let Some(name) = &a.name {
            no_control(name, root.key("adversary").index(i).key("name"), false, p);
        }
    }
    for (i, id) in raw.claims.iter().enumerate() {
        if crate::scenario::claims::claim(id).is_none() {
            p.push(
                Problem::new(root.key("claims").index(i), format!("unknown claim id `{id}`"))
                    .hint("claim ids are those of CLAIMS.md: S1-S4, C1-C2, F1-F4, P1-P4, A1-A5, X1"),
            );
        }
    }
    let duration = positive_duration(raw.duration, root.key("duration"), p);
    if raw.warmup.0 >= duration && duration > SimDuration::ZERO {
        p.push(
            Problem::new(
                root.key("warmup"),
                format!("the warm-up ({}) must be shorter than the duration ({})", raw.warmup, raw.duration),
            )
            .hint("messages sent during the warm-up are not counted, so nothing would be"),
        );
    }
    let deadline = positive_duration(raw.deadline, root.key("deadline"), p);
    let window = Window {
        warmup_end: SimTime::ZERO + raw.warmup.0,
        sends_end: SimTime::ZERO + duration,
        run_end: SimTime::ZERO + duration + raw.cooldown.0,
    };

    // --- world ---
    let w = &raw.world;
    let wp = root.key("world");
    let users = at_least(w.users, 2, wp.key("users"), p);
    if users > MAX_USERS {
        p.push(
            Problem::new(wp.key("users"), format!("{users} users is beyond what this machine can hold"))
                .hint(format!("use at most {MAX_USERS}; shard a sweep across machines for larger studies")),
        );
    }
    let regions = match &w.regions.matrix {
        None => Regions::default_matrix(),
        Some(file) => {
            let full = dir.map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file));
            match crate::scenario::read_capped(&full) {
                Err(e) => {
                    p.push(Problem::new(
                        wp.key("regions").key("matrix"),
                        format!("cannot read {}: {e}", full.display()),
                    ));
                    Regions::default_matrix()
                }
                Ok(bytes) => Regions::from_csv_bytes(&bytes, SOUTH_AMERICA_DIAGONAL_MS).unwrap_or_else(|e| {
                    p.push(Problem::new(wp.key("regions").key("matrix"), format!("{}: {e}", full.display())).hint(
                        "the first row is `region,<name>,...`, then one row per region in that order, \
                             each cell a round-trip time in ms (see docs/scenarios.md)",
                    ));
                    Regions::default_matrix()
                }),
            }
        }
    };
    let region_weights = match &w.regions.weights {
        Some(map) => {
            let mut weights = vec![0.0; regions.len()];
            for (name, &v) in map {
                let path = wp.key("regions").key("weights").key(name);
                if !(v >= 0.0 && v.is_finite()) {
                    p.push(Problem::new(path.clone(), format!("expected a non-negative weight, found {v}")));
                }
                match regions.id(name) {
                    Some(r) => weights[r as usize] = v.max(0.0),
                    None => p.push(
                        Problem::new(path, format!("unknown region `{name}`"))
                            .hint(format!("use one of: {}", regions.names().join(", "))),
                    ),
                }
            }
            if weights.iter().sum::<f64>() <= 0.0 {
                p.push(Problem::new(
                    wp.key("regions").key("weights"),
                    "the weights sum to zero: nobody would live anywhere",
                ));
            }
            weights
        }
        None if w.regions.matrix.is_none() => regions
            .names()
            .iter()
            .map(|n| DEFAULT_REGION_WEIGHTS.iter().find(|(k, _)| k == n).map_or(0.0, |x| x.1))
            .collect(),
        None => vec![1.0; regions.len()],
    };
    let social = match w.social.model {
        SocialKind::SmallWorld => {
            let sp = wp.key("social");
            let rewire = probability(w.social.rewire, sp.key("rewire"), p);
            if w.social.degree % 2 == 1 || w.social.degree == 0 {
                p.push(
                    Problem::new(
                        sp.key("degree"),
                        format!("expected an even number above 0, found {}", w.social.degree),
                    )
                    .hint("a ring lattice links degree/2 neighbours on each side"),
                );
            }
            if w.social.degree >= users {
                p.push(Problem::new(
                    sp.key("degree"),
                    format!("degree {} needs more than {users} users", w.social.degree),
                ));
            }
            SocialModel::SmallWorld { degree: w.social.degree, rewire }
        }
        SocialKind::PreferentialAttachment => {
            let links = at_least(w.social.links, 1, wp.key("social").key("links"), p);
            if links >= users {
                p.push(Problem::new(
                    wp.key("social").key("links"),
                    format!("{links} links need more than {users} users"),
                ));
            }
            SocialModel::PreferentialAttachment { links }
        }
        SocialKind::Complete => SocialModel::Complete,
    };
    if w.rooms.count > 0 && (w.rooms.size < 2 || w.rooms.size > users) {
        p.push(Problem::new(
            wp.key("rooms").key("size"),
            format!("expected between 2 and {users} members, found {}", w.rooms.size),
        ));
    }
    let ap = wp.key("availability");
    let online = dist(&w.availability.online, &ap.key("online"), p);
    let offline = dist(&w.availability.offline, &ap.key("offline"), p);
    let always_online = probability(w.availability.always_online, ap.key("always_online"), p);
    let wlp = wp.key("workload");
    let rate_per_hour = w.workload.rate.0 * 3600.0;
    if !(rate_per_hour >= 0.0 && rate_per_hour.is_finite()) {
        p.push(Problem::new(wlp.key("rate"), format!("expected a non-negative rate, found {rate_per_hour}/h")));
    }
    let size = dist(&w.workload.size, &wlp.key("size"), p);
    let room_share = probability(w.workload.room_share, wlp.key("room_share"), p);
    if room_share > 0.0 && w.rooms.count == 0 {
        p.push(
            Problem::new(wlp.key("room_share"), "room messages are asked for but there are no rooms")
                .hint("set world.rooms.count above 0"),
        );
    }
    let mut internet_outages = Vec::new();
    for (i, o) in w.internet_outages.iter().enumerate() {
        let op = wp.key("internet_outages").index(i);
        let region = o.region.as_ref().and_then(|name| {
            let id = regions.id(name);
            if id.is_none() {
                p.push(
                    Problem::new(op.key("region"), format!("unknown region `{name}`"))
                        .hint(format!("use one of: {}", regions.names().join(", "))),
                );
            }
            id
        });
        if o.end.0 <= o.start.0 {
            p.push(Problem::new(op.key("end"), format!("the outage ends ({}) before it starts ({})", o.end, o.start)));
        }
        internet_outages.push(InternetOutage {
            region,
            start: SimTime::ZERO + o.start.0,
            end: SimTime::ZERO + o.end.0,
        });
    }
    let delays = LinkDelays::new(w.access_delay.0, w.jitter.0);

    // --- architectures ---
    let env = Env { regions: &regions, users, duration, run_end: window.run_end };
    let mut archs: Vec<ArchEntry> = Vec::new();
    // Labels seen so far: a set, so that thousands of tables are checked in linear time (issue 9).
    let mut names = std::collections::HashSet::new();
    if raw.arch.is_empty() {
        p.push(
            Problem::new(root.key("arch"), "no architecture to run")
                .hint("add an [[arch]] table with `kind` or `preset`"),
        );
    }
    for (i, entry) in raw.arch.iter_mut().enumerate() {
        let path = root.key("arch").index(i);
        let mut params = toml::Table::new();
        let mut kind = entry.kind.clone();
        if let Some(preset) = &entry.preset {
            match presets::find(preset) {
                Some(pr) => {
                    let (preset_kind, preset_params) = pr.arch_table();
                    if kind.as_ref().is_some_and(|k| *k != preset_kind) {
                        p.push(
                            Problem::new(
                                path.key("kind"),
                                format!(
                                    "preset `{preset}` is a {preset_kind} architecture, not {}",
                                    kind.as_deref().unwrap_or_default()
                                ),
                            )
                            .hint("drop `kind` when naming a preset"),
                        );
                    }
                    kind = Some(preset_kind);
                    params = preset_params;
                }
                None => {
                    p.push(
                        Problem::new(path.key("preset"), format!("unknown preset `{preset}`"))
                            .hint(format!("use one of: {}", presets::names().join(", "))),
                    );
                    continue;
                }
            }
        }
        for (k, v) in std::mem::take(&mut entry.params) {
            params.insert(k, v);
        }
        let Some(kind) = kind else {
            p.push(
                Problem::new(path.clone(), "an architecture needs `kind` or `preset`")
                    .hint("e.g. kind = \"centralized\" or preset = \"signal\""),
            );
            continue;
        };
        let name = entry.name.clone().or_else(|| entry.preset.clone()).unwrap_or_else(|| kind.clone());
        if !names.insert(name.clone()) {
            p.push(
                Problem::new(path.key("name"), format!("two architectures are named `{name}`"))
                    .hint("give each [[arch]] a distinct `name`"),
            );
        }
        if let Some((spec, table)) = resolve_kind(&kind, params, &path, &env, p) {
            entry.kind = Some(kind);
            entry.name = Some(name.clone());
            entry.params = table;
            archs.push(ArchEntry { name, spec });
        }
    }
    let adversaries = crate::scenario::adversary::resolve_all(&mut raw.adversary, &env, p);
    if p.is_empty() {
        // Only against a complete list of labels: a broken entry would make every name look wrong.
        let arch_names: Vec<String> = archs.iter().map(|a| a.name.clone()).collect();
        let adversary_names: Vec<String> = adversaries.iter().map(|a| a.name.clone()).collect();
        crate::scenario::figures::check(&raw, &arch_names, &adversary_names, p);
    }
    // Sizes that would overflow the engine's 32-bit ids and offsets are refused whatever
    // `--allow-large` says (issue 9).
    let memberships = u64::from(raw.world.rooms.count) * u64::from(raw.world.rooms.size);
    if memberships > u64::from(u32::MAX) {
        p.push(
            Problem::new(
                wp.key("rooms").key("count"),
                format!(
                    "{} rooms of {} members is {memberships} memberships, beyond the {} the engine can index",
                    raw.world.rooms.count,
                    raw.world.rooms.size,
                    u32::MAX
                ),
            )
            .hint("use fewer or smaller rooms"),
        );
    }
    for (i, a) in archs.iter().enumerate() {
        let nodes = u64::from(users) + crate::scenario::cost::infra_nodes(&a.spec);
        if nodes > u64::from(u32::MAX) {
            let index = raw.arch.iter().position(|e| e.name.as_deref() == Some(a.name.as_str())).unwrap_or(i);
            let key = crate::scenario::cost::node_key(&a.spec);
            p.push(
                Problem::new(
                    root.key("arch").index(index).key(key),
                    format!("{nodes} users and nodes is beyond the {} the engine can number", u32::MAX),
                )
                .hint(format!("use a smaller `{key}`")),
            );
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    let world = WorldParams {
        users,
        regions,
        region_weights,
        delays,
        social,
        room_count: raw.world.rooms.count,
        room_size: raw.world.rooms.size,
        availability: AvailabilityParams {
            online: online.expect("checked"),
            offline: offline.expect("checked"),
            always_online,
        },
        workload: WorkloadParams { rate_per_hour, size: size.expect("checked"), room_share },
        internet_outages,
    };
    Ok(Scenario { window, deadline, world, archs, adversaries, raw })
}

/// The specification of one architecture entry by name, for tests and tools.
pub fn find_arch<'a>(s: &'a Scenario, name: &str) -> Option<&'a ArchSpec> {
    s.archs.iter().find(|a| a.name == name).map(|a| &a.spec)
}
