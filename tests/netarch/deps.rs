//! Dependencies run one way (issue 10 §3): the module graph read from the source, checked
//! against the rule written in ARCHITECTURE.md ("Dependencies").
//!
//! Every top-level module of the library (a file or folder under `src/`) may name only the
//! modules its row of [`ALLOWED`] lists, through `crate::<module>` in code (comments and the
//! unit tests at the bottom of a file are not dependencies of the module). The binary's own
//! modules (`main.rs`, `app.rs`, `cli.rs`) may use the whole library; the library may use none
//! of them, nor the crates only the command line needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each library module and the modules it may depend on. The order is the layering: a module
/// names only modules above it.
const ALLOWED: &[(&str, &[&str])] = &[
    // Leaves.
    ("time", &[]),
    ("rng", &[]),
    ("text", &[]),
    ("template", &[]),
    ("dist", &["time"]),
    // The people, generated once per seed; no engine.
    ("world", &["time", "rng", "dist", "text"]),
    // What is recorded; no knowledge of who records it.
    ("metrics", &["time", "world"]),
    // The engine: no architecture, adversary, file format or output.
    ("engine", &["time", "rng", "world", "metrics"]),
    // Adversaries, on the engine's observation port.
    ("observe", &["time", "rng", "world", "engine"]),
    // The built-in architectures, on the engine's extension point.
    ("arch", &["time", "rng", "dist", "world", "metrics", "engine"]),
    // The file format, resolved into the engine's, the architectures' and the adversaries' types.
    ("scenario", &["time", "dist", "text", "template", "world", "metrics", "engine", "arch", "observe"]),
    // A finished run's figures.
    ("results", &["engine", "metrics", "observe"]),
    // One world, every architecture.
    ("run", &["engine", "metrics", "observe", "results", "scenario", "world"]),
    // Files, charts, terminal tables.
    ("output", &["time", "text", "template", "world", "metrics", "engine", "observe", "results", "run", "scenario"]),
    // Grids of runs.
    ("sweep", &["engine", "metrics", "output", "results", "rng", "run", "scenario", "text", "time"]),
];

/// The binary's modules: `src/main.rs` and the modules it declares.
const BINARY: &[&str] = &["main", "app", "cli"];

/// Crates only the command line uses; the library names none of them.
const BINARY_CRATES: &[&str] = &["clap", "clap_complete", "indicatif", "ctrlc"];

/// Crates of file formats and outputs; the engine names none of them.
const FORMAT_CRATES: &[&str] = &["toml", "serde_json", "csv", "plotters", "schemars"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/engine/queue.rs` → `engine`, `src/rng.rs` → `rng`).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_str().unwrap();
    first.strip_suffix(".rs").unwrap_or(first).to_owned()
}

/// The lines of a file that are code: comments dropped, and the file cut at its unit tests
/// (`#[cfg(test)]` followed by `mod …`).
fn code_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut code = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines[i + 1..].iter().find(|l| !l.trim().is_empty()).is_some_and(|l| l.trim_start().starts_with("mod "))
        {
            break;
        }
        if !t.starts_with("//") {
            code.push(*line);
        }
    }
    code
}

/// Whether `c` may be part of a Rust identifier.
fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The modules a line names after `prefix` (`crate::a::…`, `crate::{a, b::c}`).
fn named_after(line: &str, prefix: &str, out: &mut BTreeSet<String>) {
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(ident_char) {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // One level of braces is what rustfmt writes for `use crate::{a, b::c};`.
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item.trim().chars().take_while(|&c| ident_char(c)).collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|&c| ident_char(c)).collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
}

/// Whether a line of code names crate `krate` as a path (`krate::…`, `use krate;`).
fn names_crate(line: &str, krate: &str) -> bool {
    let t = line.trim_start();
    let mut rest = line;
    let path = format!("{krate}::");
    while let Some(at) = rest.find(&path) {
        let before = rest[..at].chars().next_back();
        if !before.is_some_and(|c| ident_char(c) || c == ':') {
            return true;
        }
        rest = &rest[at + path.len()..];
    }
    t == format!("use {krate};") || t.starts_with(&format!("extern crate {krate}"))
}

/// module → (modules it names, external crates of interest it names), from the source.
fn graph() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut g: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let entry = g.entry(module.clone()).or_default();
        for line in code_lines(&text) {
            named_after(line, "crate::", &mut entry.0);
            for krate in BINARY_CRATES.iter().chain(FORMAT_CRATES) {
                if names_crate(line, krate) {
                    entry.1.insert((*krate).to_owned());
                }
            }
        }
        entry.0.remove(&module);
    }
    g
}

#[test]
fn every_module_names_only_the_modules_its_layer_allows() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, (uses, _)) in graph() {
        if BINARY.contains(&module.as_str()) {
            continue;
        }
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "src/{module}: a module the rule does not place; add its row to ALLOWED and ARCHITECTURE.md"
            ));
            continue;
        };
        for used in uses {
            if !may.contains(&used.as_str()) {
                wrong.push(format!("{module} -> {used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies against the rule in ARCHITECTURE.md:\n  {}", wrong.join("\n  "));
}

#[test]
fn the_allowed_graph_is_layered_and_names_real_modules() {
    // Each module names only modules listed above it, so the rule itself has no cycle.
    let g = graph();
    for (i, (module, may)) in ALLOWED.iter().enumerate() {
        assert!(g.contains_key(*module), "ALLOWED names `{module}`, which is not a module under src/");
        for m in *may {
            assert!(ALLOWED[..i].iter().any(|(n, _)| n == m), "`{module}` may use `{m}`, which is not above it");
        }
    }
}

#[test]
fn the_command_line_is_the_binary_s_alone() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    for line in code_lines(&lib) {
        for m in BINARY {
            assert!(!line.contains(&format!("mod {m};")), "src/lib.rs declares the binary's module `{m}`");
        }
    }
    let main = std::fs::read_to_string(src().join("main.rs")).unwrap();
    for m in ["app", "cli"] {
        assert!(main.contains(&format!("mod {m};")), "src/main.rs does not declare `{m}`");
    }
    let mut wrong = Vec::new();
    for (module, (uses, crates)) in graph() {
        if BINARY.contains(&module.as_str()) {
            continue;
        }
        for b in BINARY {
            if uses.contains(*b) {
                wrong.push(format!("{module} -> {b}"));
            }
        }
        for krate in BINARY_CRATES {
            if crates.contains(*krate) {
                wrong.push(format!("{module} uses the crate {krate}"));
            }
        }
    }
    assert!(wrong.is_empty(), "the library reaches the command line:\n  {}", wrong.join("\n  "));
}

#[test]
fn the_engine_names_no_file_format_or_output() {
    let g = graph();
    let (_, crates) = &g["engine"];
    let named: Vec<&String> = crates.iter().filter(|c| FORMAT_CRATES.contains(&c.as_str())).collect();
    assert!(named.is_empty(), "src/engine names {named:?}");
}

#[test]
fn the_reader_finds_the_paths_it_is_meant_to() {
    // The checks above are only as good as this reader: it must see a plain path, a braced
    // group, a path inside an expression, and skip comments, longer names and unit tests.
    let text = "use crate::arch::DeliveryModel;\nuse crate::{observe, world::UserId};\n\
                // use crate::output;\n/// [`crate::sweep`]\nfn f() { let _ = crate::scenario::parse; }\n\
                let _ = netarch_crate::run;\n#[cfg(test)]\nmod tests {\n    use crate::metrics;\n}\n";
    let mut names = BTreeSet::new();
    for line in code_lines(text) {
        named_after(line, "crate::", &mut names);
    }
    let want: BTreeSet<String> = ["arch", "observe", "world", "scenario"].map(String::from).into();
    assert_eq!(names, want);
    assert!(names_crate("    let bar = indicatif::ProgressBar::new(1);", "indicatif"));
    assert!(!names_crate("use crate::clap_like::x;", "clap"));
    assert!(!names_crate("    my_clap::run();", "clap"));
}
