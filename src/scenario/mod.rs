//! Scenarios: the file format, its validation, and the built-in scenarios and app presets.
//!
//! Loading goes in three steps, each with its own failure: find the text (a file, a built-in
//! name, or a preset name), parse it (TOML syntax, then serde types that reject unknown keys,
//! after applying `--set` overrides), and resolve it (check every value, build the engine's
//! types). Every error names the file, line, column and key, and carries a hint. The file format
//! never leaks into the engine: [`Scenario`] holds only engine types, plus the complete parsed
//! file for the record.

pub mod adversary;
pub mod arch;
pub mod builtin;
pub mod claims;
pub mod cost;
pub mod diag;
pub mod presets;
pub mod resolve;
pub mod schema;
pub mod units;

use std::path::{Path, PathBuf};

use crate::arch::ArchSpec;
use crate::metrics::Window;
use crate::time::SimDuration;
use crate::world::WorldParams;
use diag::{Framer, KeyPath, Problem, ScenarioDiagnostic, Seg};
use schema::RawScenario;

/// One architecture to run: its label and resolved parameters.
#[derive(Clone, Debug)]
pub struct ArchEntry {
    /// Label in outputs.
    pub name: String,
    /// Kind and parameters.
    pub spec: ArchSpec,
}

/// A checked scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Warm-up, send and run ends.
    pub window: Window,
    /// Deadline for "delivered in time".
    pub deadline: SimDuration,
    /// The world's parameters.
    pub world: WorldParams,
    /// The architectures, in file order.
    pub archs: Vec<ArchEntry>,
    /// The adversaries, in file order (empty: no exposure analysis).
    pub adversaries: Vec<crate::observe::adversary::AdversarySpec>,
    /// The complete parsed file (defaults filled in, overrides applied), for the record.
    pub raw: RawScenario,
}

impl Scenario {
    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.raw.name
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.raw.seed
    }
}

/// Scenario text and where it came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// How errors name it: a path, or `builtin:<name>`.
    pub file: String,
    /// The TOML text.
    pub text: String,
    /// Folder for relative paths inside the scenario.
    pub dir: Option<PathBuf>,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Neither a file nor a built-in scenario nor a preset has that name.
    #[error("no scenario file or built-in scenario named `{name}`")]
    NotFound {
        /// What was asked for.
        name: String,
    },
    /// The file exists but could not be read.
    #[error("cannot read {file}: {error}")]
    Io {
        /// The file.
        file: String,
        /// The system's reason.
        error: std::io::Error,
    },
    /// A `--set` argument is malformed or names no key that can be set.
    #[error("--set {arg}: {message}")]
    Override {
        /// The argument as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// The run would exceed the machine's memory or the event budget (see [`cost`]).
    #[error("{scenario}: too large to run: {what} (estimate of one run: {estimate}); it grows with {keys}")]
    TooLarge {
        /// The scenario's name.
        scenario: String,
        /// Which limit it passes, by how much.
        what: String,
        /// The whole estimate, as `check` prints it.
        estimate: String,
        /// The keys that drive the cost, largest share first.
        keys: String,
        /// What to change first.
        hint: String,
    },
    /// The text has problems; each is framed with its file, line and key.
    #[error("{} problem(s) in the scenario", .0.len())]
    Invalid(Vec<ScenarioDiagnostic>),
}

/// Largest file netarch reads as a scenario or a latency matrix: 16 MiB, far above any real one,
/// so that a wrong path (a log, a disk image) is refused at once instead of filling memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a text file that must be a regular file of at most [`MAX_FILE_BYTES`]: a FIFO, a
/// device (`/dev/zero`) or a directory is refused before it is opened, so nothing blocks or
/// reads forever.
pub fn read_text_file(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory" } else { "a FIFO, socket or device" };
        return Err(Error::new(ErrorKind::InvalidInput, format!("it is {what}, not a regular file")));
    }
    let too_big = || {
        Error::new(
            ErrorKind::InvalidData,
            format!("it is larger than {} MiB, the most netarch reads", MAX_FILE_BYTES >> 20),
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The cap holds even if the file grows between the check and the read.
    std::fs::File::open(path)?.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// Finds scenario text: an existing file path, a built-in scenario, or an app preset.
pub fn load(name_or_path: &str) -> Result<Source, ScenarioError> {
    let path = Path::new(name_or_path);
    // A regular file is read; anything else at the path (a FIFO, a directory) is refused below,
    // unless the name is also a built-in's.
    let exists = std::fs::metadata(path).map(|m| m.is_file());
    let builtin_name = builtin::find(name_or_path).is_some() || presets::find(name_or_path).is_some();
    if exists.as_ref().is_ok_and(|&file| file || !builtin_name) {
        let text = read_text_file(path).map_err(|error| ScenarioError::Io { file: name_or_path.to_owned(), error })?;
        return Ok(Source { file: name_or_path.to_owned(), text, dir: path.parent().map(Path::to_path_buf) });
    }
    if let Some(b) = builtin::find(name_or_path) {
        return Ok(Source { file: format!("builtin:{}", b.name), text: b.text.to_owned(), dir: None });
    }
    if presets::find(name_or_path).is_some() {
        return Ok(Source {
            file: format!("preset:{name_or_path}"),
            text: builtin::for_preset(name_or_path),
            dir: None,
        });
    }
    if path.extension().is_some() || name_or_path.contains('/') {
        return Err(ScenarioError::Io {
            file: name_or_path.to_owned(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    Err(ScenarioError::NotFound { name: name_or_path.to_owned() })
}

/// Parses, overrides and resolves scenario text.
pub fn parse(source: &Source, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let invalid = |problems: Vec<Problem>, overridden: &[KeyPath]| {
        let mut framer = Framer::new(&source.file, &source.text, overridden);
        ScenarioError::Invalid(problems.into_iter().map(|p| framer.frame(p)).collect())
    };
    let mut table: toml::Table = match source.text.parse() {
        Ok(t) => t,
        Err(e) => {
            let e: toml::de::Error = e;
            let problem = Problem {
                path: KeyPath::root(),
                message: e.message().trim().to_owned(),
                hint: Some("this is not valid TOML; see https://toml.io for the syntax".into()),
                span: e.span(),
            };
            return Err(invalid(vec![problem], &[]));
        }
    };
    let mut overridden = Vec::new();
    for arg in sets {
        overridden.push(apply_set(&mut table, arg)?);
    }
    let raw: RawScenario = match serde_path_to_error::deserialize(toml::Value::Table(table)) {
        Ok(r) => r,
        Err(e) => return Err(invalid(vec![resolve::serde_problem(&KeyPath::root(), e)], &overridden)),
    };
    resolve::resolve(raw, source.dir.as_deref()).map_err(|problems| invalid(problems, &overridden))
}

/// Estimates what running `s` costs and refuses it (unless `allow_large`) when `runs` such runs
/// exceed the event budget or one exceeds the machine's free memory.
pub fn admit(s: &Scenario, runs: f64, allow_large: bool) -> Result<cost::Estimate, ScenarioError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let e = cost::estimate(s, cores);
    if allow_large {
        return Ok(e);
    }
    match cost::refusal(&e, runs, cost::machine_memory()) {
        None => Ok(e),
        Some((what, drivers)) => Err(too_large(s.name(), what, &e, &drivers)),
    }
}

/// The refusal of a run or sweep named `name`: `what` limit it passes, naming the keys behind it.
pub fn too_large(name: &str, what: String, e: &cost::Estimate, drivers: &[cost::Driver]) -> ScenarioError {
    let total: f64 = drivers.iter().map(|d| d.amount).sum::<f64>().max(f64::MIN_POSITIVE);
    let keys = drivers
        .iter()
        .filter(|d| d.amount >= 0.01 * total)
        .take(3)
        .map(|d| format!("`{}` ({:.0}%)", d.keys, 100.0 * d.amount / total))
        .collect::<Vec<_>>()
        .join(", ");
    let first_key = drivers.first().map_or("duration", |d| d.keys.split(", ").next().unwrap_or("duration"));
    let change = if first_key.starts_with("--") {
        "use fewer --replicates or fewer --vary values".to_owned()
    } else {
        format!(
            "make it cheaper with --set {first_key}=... (fewer users or nodes, lower rates, a shorter duration; \
             longer periods, intervals and retry delays)"
        )
    };
    ScenarioError::TooLarge {
        scenario: name.to_owned(),
        what,
        estimate: e.summary(),
        keys,
        hint: format!("{change}, or pass --allow-large to run it anyway"),
    }
}

/// Applies one `key.path=value` override; returns the path it set.
fn apply_set(table: &mut toml::Table, arg: &str) -> Result<KeyPath, ScenarioError> {
    let err = |message: String| ScenarioError::Override { arg: arg.to_owned(), message };
    let (key, value) = arg.split_once('=').ok_or_else(|| err("expected key.path=value".into()))?;
    let path = KeyPath::parse(key.trim());
    if path.0.is_empty() {
        return Err(err("the key is empty".into()));
    }
    let value = value.trim();
    // A TOML value if it reads as one ("4", "true", "{ dist = ... }"), else a plain string.
    let parsed = format!("v = {value}").parse::<toml::Table>().ok().and_then(|mut t| t.remove("v"));
    let value = parsed.unwrap_or_else(|| toml::Value::String(value.to_owned()));
    set_in_table(table, &path.0, value, KeyPath::root()).map_err(err)
}

fn set_in_table(table: &mut toml::Table, segs: &[Seg], value: toml::Value, at: KeyPath) -> Result<KeyPath, String> {
    let Some((Seg::Key(k), rest)) = segs.split_first() else {
        return Err(format!("`{at}` is a table: name a key in it, not an index"));
    };
    let here = at.key(k);
    if rest.is_empty() {
        table.insert(k.clone(), value);
        return Ok(here);
    }
    let entry = table.entry(k.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(t) => set_in_table(t, rest, value, here),
        toml::Value::Array(items) => {
            // `arch.0.x`, or `arch.signal.x`: the element by index, or by name, preset or kind.
            let (selector, deeper) = rest.split_first().expect("rest is not empty");
            let index = match selector {
                Seg::Index(i) if *i < items.len() => *i,
                Seg::Index(i) => return Err(format!("`{here}` has {} elements, so there is no [{i}]", items.len())),
                Seg::Key(name) => items
                    .iter()
                    .position(|v| {
                        ["name", "preset", "kind"].iter().any(|f| v.get(f).and_then(|x| x.as_str()) == Some(name))
                    })
                    .ok_or_else(|| format!("no element of `{here}` has the name, preset or kind `{name}`"))?,
            };
            let elem = here.index(index);
            match &mut items[index] {
                toml::Value::Table(t) if !deeper.is_empty() => set_in_table(t, deeper, value, elem),
                _ => Err(format!("name a key inside `{elem}`")),
            }
        }
        _ => Err(format!("`{here}` is a value, not a table")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source { file: "t.toml".into(), text: text.into(), dir: None }
    }

    const MINI: &str =
        "name = \"t\"\nduration = \"1h\"\n[world]\nusers = 10\n[[arch]]\nkind = \"centralized\"\nname = \"c\"\n";

    #[test]
    fn sets_override_by_dotted_path_index_and_name() {
        let s = parse(
            &src(MINI),
            &["world.users=20".into(), "arch.0.servers=3".into(), "arch.c.sealed_sender=false".into()],
        )
        .unwrap();
        assert_eq!(s.world.users, 20);
        let crate::arch::ArchSpec::Centralized(p) = &s.archs[0].spec else { panic!("not centralized") };
        assert_eq!(p.servers, 3);
        assert!(!p.sealed_sender);
    }

    #[test]
    fn bad_sets_are_reported() {
        assert!(matches!(parse(&src(MINI), &["world.users".into()]), Err(ScenarioError::Override { .. })));
        assert!(matches!(parse(&src(MINI), &["arch.nobody.servers=1".into()]), Err(ScenarioError::Override { .. })));
        let Err(ScenarioError::Invalid(d)) = parse(&src(MINI), &["world.users=0".into()]) else { panic!() };
        assert!(d[0].location.contains("--set"), "{}", d[0].location);
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let text = MINI.replace("users = 10", "users = 10\nusres = 3");
        let Err(ScenarioError::Invalid(d)) = parse(&src(&text), &[]) else { panic!() };
        assert_eq!(d[0].line, Some(5), "{:?}", d[0]);
        assert!(d[0].message.contains("usres"));
    }
}
