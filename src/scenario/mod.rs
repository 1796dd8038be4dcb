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
pub mod figures;
pub mod presets;
pub mod resolve;
pub mod schema;
pub mod sweep_table;
pub mod units;

use std::path::{Path, PathBuf};

use crate::arch::ArchSpec;
use crate::time::{SimDuration, Window};
use crate::world::WorldParams;
use diag::{Framer, KeyPath, Problem, ScenarioDiagnostic, Seg, frame};
use schema::RawScenario;
use toml::de::{DeTable, DeValue};

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

    /// Keeps only the architectures labelled in `labels` (all when empty), in scenario order,
    /// in the resolved file too: what is written with the results describes what ran.
    pub fn retain_archs(&mut self, labels: &[String]) {
        if labels.is_empty() {
            return;
        }
        self.archs.retain(|a| labels.contains(&a.name));
        // After resolution every [[arch]] entry carries its label.
        self.raw.arch.retain(|a| a.name.as_ref().is_some_and(|n| labels.contains(n)));
    }

    /// Leaves out the `[[adversary]]` tables (`--no-adversaries` of `run` and `sweep`): no
    /// exposure analysis, in the resolved file too, so what is written says what ran.
    pub fn drop_adversaries(&mut self) {
        self.adversaries.clear();
        self.raw.adversary.clear();
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
    /// A `--set` (or `--vary`) argument is malformed or names no key that can be set.
    #[error("{flag} {arg}: {message}")]
    Override {
        /// The flag that gave it.
        flag: &'static str,
        /// The argument as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// The file is not UTF-8 text: where its first bad byte is.
    #[error("{file}:{line}:{column}: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8")]
    NotUtf8 {
        /// The file.
        file: String,
        /// 1-based line of the first byte that is not UTF-8.
        line: usize,
        /// 1-based column (in characters) of that byte.
        column: usize,
        /// The byte.
        byte: u8,
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

/// Reads the bytes of a file that must be a regular file of at most [`MAX_FILE_BYTES`]: a FIFO, a
/// device (`/dev/zero`) or a directory is refused before it is opened, so nothing blocks or
/// reads forever.
pub fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
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
    Ok(bytes)
}

/// Finds scenario text: an existing file path, a built-in scenario, or an app preset.
pub fn load(name_or_path: &str) -> Result<Source, ScenarioError> {
    let path = Path::new(name_or_path);
    // A regular file is read; anything else at the path (a FIFO, a directory) is refused below,
    // unless the name is also a built-in's.
    let exists = std::fs::metadata(path).map(|m| m.is_file());
    let builtin_name = builtin::find(name_or_path).is_some() || presets::find(name_or_path).is_some();
    if exists.as_ref().is_ok_and(|&file| file || !builtin_name) {
        let bytes = read_capped(path).map_err(|error| ScenarioError::Io { file: name_or_path.to_owned(), error })?;
        let text = utf8_text(name_or_path, bytes)?;
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

/// The bytes of `file` as text, or where the first byte that is not UTF-8 is.
pub fn utf8_text(file: &str, bytes: Vec<u8>) -> Result<String, ScenarioError> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let good = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&bytes[..good]).expect("valid up to here");
        let (line, column) = crate::text::line_col(valid, good);
        ScenarioError::NotUtf8 { file: file.to_owned(), line, column, byte: bytes[good] }
    })
}

/// One `key.path=value` override and where it was written: on the command line (`--set`,
/// `--seed`, `--vary`) or in the scenario file itself (an entry of the `[sweep]` table), so that
/// an error names the place the user can fix.
#[derive(Clone, Debug)]
pub struct Override {
    /// The override, `key.path=value`.
    pub arg: String,
    /// The key of the scenario file that holds it (e.g. `sweep.vary[0].values[2]`); `None` for
    /// the command line.
    pub origin: Option<KeyPath>,
    /// The command-line flag that gave it, when `origin` is `None` (`--set`, `--vary`).
    pub flag: &'static str,
}

impl Override {
    /// An override given on the command line with `--set` (or `--seed`).
    pub fn cli(arg: impl Into<String>) -> Override {
        Override { arg: arg.into(), origin: None, flag: "--set" }
    }

    /// An override given on the command line with `flag`.
    pub fn flag(arg: impl Into<String>, flag: &'static str) -> Override {
        Override { arg: arg.into(), origin: None, flag }
    }

    /// An override written in the scenario file at `origin`.
    pub fn from_file(arg: impl Into<String>, origin: KeyPath) -> Override {
        Override { arg: arg.into(), origin: Some(origin), flag: "--set" }
    }
}

/// Parses, overrides (with command-line `--set` arguments) and resolves scenario text.
pub fn parse(source: &Source, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let overrides: Vec<Override> = sets.iter().map(Override::cli).collect();
    parse_with(source, &overrides)
}

/// Parses, overrides and resolves scenario text; a problem caused by an override written in the
/// file is reported at that entry of the file.
pub fn parse_with(source: &Source, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let mut table = parse_table(&source.text)
        .map_err(|problem| ScenarioError::Invalid(vec![frame(&source.file, &source.text, problem, &[])]))?;
    // The path each override set, with the override (the last one setting a key wins).
    let mut applied: Vec<(KeyPath, &Override)> = Vec::new();
    for o in overrides {
        match (apply_set(&mut table, &o.arg, o.flag), &o.origin) {
            (Ok(path), _) => applied.push((path, o)),
            (Err(ScenarioError::Override { message, .. }), Some(origin)) => {
                let problem = Problem::new(origin.clone(), format!("`{}`: {message}", o.arg))
                    .hint("each entry is `key.path=value`, as for --set");
                return Err(ScenarioError::Invalid(vec![frame(&source.file, &source.text, problem, &[])]));
            }
            (Err(e), _) => return Err(e),
        }
    }
    let from_cli: Vec<(KeyPath, &str)> =
        applied.iter().filter(|(_, o)| o.origin.is_none()).map(|(p, o)| (p.clone(), o.flag)).collect();
    // One framer for all problems: the text is parsed and its lines indexed once (issue 9).
    let invalid = |problems: Vec<Problem>| {
        let mut framer = Framer::new(&source.file, &source.text, &from_cli);
        ScenarioError::Invalid(problems.into_iter().map(|p| framer.frame(in_file(p, &applied))).collect())
    };
    let raw: RawScenario = match serde_path_to_error::deserialize(toml::Value::Table(table)) {
        Ok(r) => r,
        Err(e) => return Err(invalid(vec![resolve::serde_problem(&KeyPath::root(), e)])),
    };
    resolve::resolve(raw, source.dir.as_deref()).map_err(invalid)
}

/// A problem with a key an override written in the file set, moved to that entry of the file.
fn in_file(problem: Problem, applied: &[(KeyPath, &Override)]) -> Problem {
    let last = applied.iter().rev().find(|(path, _)| {
        problem.path.starts_with(path) || (path.starts_with(&problem.path) && !problem.path.0.is_empty())
    });
    match last {
        Some((_, Override { arg, origin: Some(origin), .. })) => Problem {
            path: origin.clone(),
            message: format!("`{}`: {}", arg, problem.message),
            hint: problem.hint,
            span: None,
        },
        _ => problem,
    }
}

/// Parses the TOML text into a table. A top-level `seed` of 2^63 or more, which TOML's signed
/// 64-bit integers cannot hold, is read as the string of its digits (the seed accepts both).
fn parse_table(text: &str) -> Result<toml::Table, Problem> {
    let problem = |e: toml::de::Error, shift: Option<(usize, usize)>| {
        let span = e.span().map(|s| match shift {
            // Offsets after the rewritten seed move back to the text as written.
            Some((after, by)) if s.start >= after => s.start - by..s.end.saturating_sub(by).max(s.start - by),
            _ => s,
        });
        Problem {
            path: KeyPath::root(),
            message: e.message().trim().to_owned(),
            hint: Some("this is not valid TOML; see https://toml.io for the syntax".into()),
            span,
        }
    };
    let first = match text.parse::<toml::Table>() {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    let (doc, _) = DeTable::parse_recoverable(text);
    let seed = doc.get_ref().iter().find(|(k, _)| k.get_ref().as_ref() == "seed").and_then(|(_, v)| {
        let DeValue::Integer(i) = v.get_ref() else { return None };
        let digits: String = i.as_str().chars().filter(|&c| c != '_' && c != '+').collect();
        (i.radix() == 10 && digits.chars().all(|c| c.is_ascii_digit())).then(|| (v.span(), digits))
    });
    let Some((span, digits)) = seed else { return Err(problem(first, None)) };
    match digits.parse::<u64>() {
        Ok(n) if n > i64::MAX as u64 => {}
        Ok(_) => return Err(problem(first, None)),
        Err(_) => {
            return Err(Problem {
                path: KeyPath::root().key("seed"),
                message: format!("{digits} is above the largest seed, {}", units::MAX_SEED),
                hint: Some("seeds are whole numbers from 0 to 2^64 - 1".into()),
                span: Some(span),
            });
        }
    }
    let quoted = format!("\"{digits}\"");
    let rewritten = format!("{}{quoted}{}", &text[..span.start], &text[span.end..]);
    let grown = quoted.len() - (span.end - span.start);
    rewritten.parse::<toml::Table>().map_err(|e| problem(e, Some((span.start + quoted.len(), grown))))
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
fn apply_set(table: &mut toml::Table, arg: &str, flag: &'static str) -> Result<KeyPath, ScenarioError> {
    let err = |message: String| ScenarioError::Override { flag, arg: arg.to_owned(), message };
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
                Seg::Key(name) => select_element(items, name, &here)?,
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

/// The element of an array of tables (`[[arch]]`) that `name` selects: the one labelled `name`,
/// else the one of that preset, else the one of that kind — a preset entry counts as its preset's
/// kind (`arch.centralized.x` finds `preset = "signal"`). A preset or kind that several elements
/// share is ambiguous: the error lists their labels (issue 13, item 11).
fn select_element(items: &[toml::Value], name: &str, here: &KeyPath) -> Result<usize, String> {
    let field = |v: &toml::Value, f: &str| v.get(f).and_then(|x| x.as_str()).map(str::to_owned);
    let kind = |v: &toml::Value| {
        field(v, "kind").or_else(|| field(v, "preset").and_then(|p| presets::find(&p)).map(|p| p.arch_table().0))
    };
    let label = |v: &toml::Value| field(v, "name").or_else(|| field(v, "preset")).or_else(|| kind(v));
    let by = |f: &dyn Fn(&toml::Value) -> Option<String>| -> Vec<usize> {
        items.iter().enumerate().filter(|(_, v)| f(v).as_deref() == Some(name)).map(|(i, _)| i).collect()
    };
    let by_name = by(&|v| field(v, "name"));
    if let Some(&i) = by_name.first() {
        return Ok(i);
    }
    for (what, found) in [("preset", by(&|v| field(v, "preset"))), ("kind", by(&kind))] {
        match found.as_slice() {
            [] => continue,
            [i] => return Ok(*i),
            several => {
                let labels: Vec<String> = several
                    .iter()
                    .map(|&i| format!("`{here}.{i}` ({})", label(&items[i]).unwrap_or_default()))
                    .collect();
                return Err(format!(
                    "{} elements of `{here}` have the {what} `{name}`: {}; name one by its label or index",
                    several.len(),
                    labels.join(", ")
                ));
            }
        }
    }
    let labels: Vec<String> = items.iter().filter_map(label).collect();
    Err(format!("no element of `{here}` has the name, preset or kind `{name}` (they are: {})", labels.join(", ")))
}

/// `arch.*.key` as the keys it stands for: `arch.<i>.key` for each `[[arch]]` entry whose label
/// (`file_archs`, in file order) is in `selected`, or for every entry when `selected` is empty;
/// any other key as it is. `netarch run --set` and `netarch sweep --vary`/`--set` both expand
/// `arch.*` with this.
pub fn expand_arch_star(key: &str, file_archs: &[String], selected: &[String]) -> Vec<String> {
    let Some(rest) = key.strip_prefix("arch.*.") else { return vec![key.to_owned()] };
    file_archs
        .iter()
        .enumerate()
        .filter(|(_, l)| selected.is_empty() || selected.contains(l))
        .map(|(i, _)| format!("arch.{i}.{rest}"))
        .collect()
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
    fn an_entry_is_named_by_its_presets_kind_and_ambiguity_lists_the_labels() {
        // Issue 13, item 11: `arch.centralized.retention=1h` failed on `default` (presets only).
        let one = "name = \"t\"\nduration = \"1h\"\n[world]\nusers = 40\n[[arch]]\npreset = \"signal\"\n[[arch]]\npreset = \"briar\"\n";
        let s = parse(&src(one), &["arch.centralized.retention=\"1h\"".into()]).unwrap();
        let crate::arch::ArchSpec::Centralized(p) = &s.archs[0].spec else { panic!("not centralized") };
        assert_eq!(p.retention, crate::time::SimDuration::from_secs(3600));
        let two = format!("{one}[[arch]]\npreset = \"signal\"\nname = \"s2\"\n");
        let Err(ScenarioError::Override { message, .. }) = parse(&src(&two), &["arch.centralized.retention=1h".into()])
        else {
            panic!("two centralized entries: ambiguous")
        };
        assert!(message.contains("`arch.0` (signal)") && message.contains("`arch.2` (s2)"), "{message}");
        // A label, a preset or an index still picks one.
        assert!(parse(&src(&two), &["arch.s2.retention=1h".into()]).is_ok());
        assert!(parse(&src(&two), &["arch.2.retention=1h".into()]).is_ok());
        let Err(ScenarioError::Override { message, .. }) = parse(&src(one), &["arch.nobody.x=1".into()]) else {
            panic!()
        };
        assert!(message.contains("signal, briar"), "{message}");
    }

    #[test]
    fn a_preset_run_is_titled_by_its_preset_issue_13() {
        for name in presets::names() {
            let s = parse(&load(name).unwrap(), &[]).unwrap();
            assert_eq!(s.raw.title, presets::find(name).unwrap().title, "{name}");
            assert!(!s.raw.title.is_empty(), "{name}");
        }
    }

    #[test]
    fn arch_star_expands_to_the_selected_entries_by_file_position() {
        let labels = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(expand_arch_star("arch.*.x", &labels, &[]), ["arch.0.x", "arch.1.x", "arch.2.x"]);
        assert_eq!(expand_arch_star("arch.*.x", &labels, &["c".into(), "a".into()]), ["arch.0.x", "arch.2.x"]);
        assert_eq!(expand_arch_star("world.users", &labels, &[]), ["world.users"]);
    }

    #[test]
    fn bad_sets_are_reported() {
        assert!(matches!(parse(&src(MINI), &["world.users".into()]), Err(ScenarioError::Override { .. })));
        assert!(matches!(parse(&src(MINI), &["arch.nobody.servers=1".into()]), Err(ScenarioError::Override { .. })));
        let Err(ScenarioError::Invalid(d)) = parse(&src(MINI), &["world.users=0".into()]) else { panic!() };
        assert!(d[0].location.contains("--set"), "{}", d[0].location);
    }

    #[test]
    fn seeds_issue_9_of_2_pow_63_and_above_read_bare_quoted_or_from_set() {
        let mini = MINI.replace("users = 10", "users = 20");
        let mini = mini.as_str();
        for text in [format!("seed = 18446744073709551615\n{mini}"), format!("seed = \"18446744073709551615\"\n{mini}")]
        {
            assert_eq!(parse(&src(&text), &[]).unwrap().seed(), u64::MAX, "{text}");
        }
        assert_eq!(parse(&src(mini), &["seed=9223372036854775808".into()]).unwrap().seed(), 1 << 63);
        assert_eq!(parse(&src(mini), &["seed=\"7\"".into()]).unwrap().seed(), 7);
        let Err(ScenarioError::Invalid(d)) = parse(&src(&format!("seed = true\n{mini}")), &[]) else { panic!() };
        assert!(d[0].message.contains("0 to 18446744073709551615"), "{:?}", d[0]);
        assert!(!d[0].hint.as_deref().unwrap_or("").contains("duration"), "{:?}", d[0].hint);
    }

    #[test]
    fn big_seed_issue_9_leaves_later_syntax_errors_on_their_own_line_and_column() {
        // The seed is read as a string for TOML's sake; an error after it still points at the
        // text as written.
        let text = format!("seed = 18446744073709551615\n{MINI}").replace("users = 10", "users = = 10");
        let Err(ScenarioError::Invalid(d)) = parse(&src(&text), &[]) else { panic!() };
        assert_eq!((d[0].line, d[0].location.as_str()), (Some(5), "t.toml:5:9"), "{:?}", d[0]);
        assert_eq!(&text.lines().nth(4).unwrap()[8..9], "=", "line 5, column 9 is the second `=`");
    }

    #[test]
    fn invalid_utf8_issue_9_names_line_and_column_in_characters() {
        let e = utf8_text("f.toml", "a = 1\nname = \"é".bytes().chain([0xff, b'"']).collect()).unwrap_err();
        // `name = "é` is 9 characters (10 bytes): the bad byte is column 10.
        assert!(matches!(e, ScenarioError::NotUtf8 { line: 2, column: 10, byte: 0xff, .. }), "{e}");
        assert!(e.to_string().starts_with("f.toml:2:10: not UTF-8"), "{e}");
    }

    #[test]
    fn overrides_from_the_file_issue_9_are_reported_at_their_entry() {
        let text = format!("{MINI}[sweep]\nset = [\"world.users=1\"]\n");
        let origin = KeyPath::parse("sweep.set[0]");
        let Err(ScenarioError::Invalid(d)) = parse_with(&src(&text), &[Override::from_file("world.users=1", origin)])
        else {
            panic!()
        };
        assert_eq!((d[0].key.as_str(), d[0].line), ("sweep.set[0]", Some(9)), "{:?}", d[0]);
        assert!(d[0].message.contains("`world.users=1`"), "{}", d[0].message);
        // The same override from the command line says so.
        let Err(ScenarioError::Invalid(d)) = parse_with(&src(MINI), &[Override::flag("world.users=1", "--vary")])
        else {
            panic!()
        };
        assert!(d[0].location.ends_with("(value from --vary)"), "{}", d[0].location);
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let text = MINI.replace("users = 10", "users = 10\nusres = 3");
        let Err(ScenarioError::Invalid(d)) = parse(&src(&text), &[]) else { panic!() };
        assert_eq!(d[0].line, Some(5), "{:?}", d[0]);
        assert!(d[0].message.contains("usres"));
    }
}
