//! The commands behind the command line: load, run, write, print. The binary's `main` only
//! parses arguments, calls [`execute`], and maps the error to an exit code.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use clap::CommandFactory;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{Cli, Command, RunArgs, SweepArgs};
use crate::engine::SimError;
use crate::output::{OutputError, RUN_FOLDER, Staging, table};
use crate::run::{RunResults, entries, run};
use crate::scenario::{self, Scenario, ScenarioError, builtin, claims, presets};
use crate::sweep::SweepError;
use crate::sweep::plan::{Shard, SweepRequest, quote};

/// Writes to standard output like `print!`, returning from the command when it fails: a closed
/// pipe (`netarch list | head -1`) ends the command quietly, as command-line tools do.
macro_rules! out {
    ($($arg:tt)*) => { write_stdout(format_args!($($arg)*))? };
}

/// Writes formatted text to standard output, flushing it; see [`out!`].
fn write_stdout(args: std::fmt::Arguments<'_>) -> Result<(), AppError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args).and_then(|()| stdout.flush()).map_err(|error| match error.kind() {
        std::io::ErrorKind::BrokenPipe => AppError::PipeClosed,
        _ => AppError::Stdout(error),
    })
}

/// Prints a warning on standard error, its control characters escaped; a closed stderr loses the
/// line, never the command.
fn warn(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "warning: {}", crate::text::printable(text));
}

/// Why a command failed; each variant maps to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input: a scenario that cannot be found, parsed or checked (exit code 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A name that is neither a built-in scenario nor a preset (exit code 2).
    #[error("nothing to explain for `{0}`")]
    Unknown(String),
    /// The simulation found a broken invariant (exit code 1: a bug, please report).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Results could not be written (exit code 1).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A sweep, merge or redraw failed (its own exit code: 2 for bad input, 130 after Ctrl-C).
    #[error(transparent)]
    Sweep(SweepError),
    /// Whoever read standard output stopped reading (a closed pipe): not an error, exit code 0,
    /// nothing printed. Outputs already written stay whole.
    #[error("standard output was closed")]
    PipeClosed,
    /// Standard output could not be written (exit code 1).
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
}

impl From<SweepError> for AppError {
    fn from(e: SweepError) -> AppError {
        match e {
            // Scenario problems keep their framing (file, line, key) in `main`.
            SweepError::Scenario(s) => AppError::Scenario(s),
            other => AppError::Sweep(other),
        }
    }
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Scenario(_) | AppError::Unknown(_) => 2,
            AppError::Output(OutputError::Refused { .. }) => 2,
            AppError::Sim(_) | AppError::Output(_) | AppError::Stdout(_) => 1,
            AppError::Sweep(e) => e.exit_code(),
            AppError::PipeClosed => 0,
        }
    }

    /// A hint for the terminal, where the error itself does not carry one.
    pub fn hint(&self) -> Option<String> {
        match self {
            AppError::Scenario(ScenarioError::NotFound { .. }) | AppError::Unknown(_) => Some(format!(
                "built-in scenarios: {}; presets: {}; or give a path to a .toml file",
                builtin::BUILTINS.iter().map(|b| b.name).collect::<Vec<_>>().join(", "),
                presets::names().join(", ")
            )),
            AppError::Scenario(ScenarioError::TooLarge { hint, .. }) => Some(hint.clone()),
            AppError::Scenario(ScenarioError::Io { .. }) => Some(format!(
                "give a regular .toml file of at most {} MiB, or a built-in name (netarch list)",
                scenario::MAX_FILE_BYTES >> 20
            )),
            AppError::Sim(_) => {
                Some("this is a bug in a delivery model; please report it with the scenario and seed".into())
            }
            AppError::Sweep(e) => e.hint(),
            _ => None,
        }
    }
}

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        None => cmd_run(RunArgs::default()),
        Some(Command::Run(args)) => cmd_run(args),
        Some(Command::Check { scenario, sets, allow_large }) => {
            let s = load(&scenario, &sets)?;
            let estimate = scenario::admit(&s, 1.0, allow_large)?;
            out!(
                "ok: {} — {} users, {} architecture(s): {}\n",
                s.name(),
                s.world.users,
                s.archs.len(),
                s.archs.iter().map(|a| format!("{} ({})", a.name, a.spec.kind())).collect::<Vec<_>>().join(", ")
            );
            out!("cost: {} (estimate; see docs/scenarios.md, \"Limits\")\n", estimate.summary());
            Ok(())
        }
        Some(Command::List) => {
            out!("{}", list_text());
            Ok(())
        }
        Some(Command::Explain { name, run }) => {
            let default = PathBuf::from("netarch-out").join(&name);
            let folder = match run {
                Some(dir) => Some(dir),
                None => default.join("results.json").is_file().then_some(default),
            };
            let text = match folder {
                Some(dir) => explain_run(&name, &dir)?,
                None => explain_text(&name)?,
            };
            out!("{text}");
            Ok(())
        }
        Some(Command::Sweep(args)) => cmd_sweep(args),
        Some(Command::Merge { folders, out, quiet }) => cmd_merge(&folders, out, quiet),
        Some(Command::Plot { folder, metrics, quiet }) => {
            let written = crate::sweep::redraw::plot(&folder, &metrics)?;
            for w in &written.warnings {
                warn(w);
            }
            if !quiet {
                out!("redrew {} file(s) in {}/\n", written.files.len(), folder.display());
                for f in &written.files {
                    out!("  {}\n", f.display());
                }
            }
            Ok(())
        }
        Some(Command::Compare { a, b, out, quiet }) => {
            let name =
                |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let out =
                out.unwrap_or_else(|| PathBuf::from("netarch-out").join(format!("compare-{}-{}", name(&a), name(&b))));
            let done = crate::sweep::compare::compare(&a, &b, &out)?;
            if !quiet {
                out!("{}", done.text);
                out!("wrote {}/ (compare.csv, latency-cdf-compare.{{svg,pdf}}, report.html)\n", done.folder.display());
            }
            Ok(())
        }
        Some(Command::Schema) => {
            let schema = schemars::schema_for!(scenario::schema::RawScenario);
            out!("{}\n", serde_json::to_string_pretty(&schema).expect("schema serialises"));
            Ok(())
        }
        Some(Command::Completions { shell }) => {
            // Into a buffer first: clap_complete panics on a write error (a closed pipe).
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "netarch", &mut text);
            out!("{}", String::from_utf8_lossy(&text));
            Ok(())
        }
    }
}

/// Loads and checks a scenario by file path, built-in name or preset name.
pub fn load(name: &str, sets: &[String]) -> Result<Scenario, AppError> {
    load_selected(name, sets, &[])
}

/// [`load`], with `--set arch.*.key=value` standing for that key on every `[[arch]]` entry (or,
/// with `archs`, on those labelled so), expanded as a sweep expands `--vary arch.*`
/// ([`scenario::expand_arch_star`]): the labels are read from the scenario with the other sets.
pub fn load_selected(name: &str, sets: &[String], archs: &[String]) -> Result<Scenario, AppError> {
    let source = scenario::load(name)?;
    let star = |set: &String| set.trim_start().starts_with("arch.*.");
    if !sets.iter().any(star) {
        return Ok(scenario::parse(&source, sets)?);
    }
    let plain: Vec<String> = sets.iter().filter(|s| !star(s)).cloned().collect();
    let labels: Vec<String> = scenario::parse(&source, &plain)?.archs.into_iter().map(|a| a.name).collect();
    let mut expanded = Vec::with_capacity(sets.len());
    for set in sets {
        match set.split_once('=') {
            Some((key, value)) if star(set) => expanded.extend(
                scenario::expand_arch_star(key.trim(), &labels, archs).into_iter().map(|k| format!("{k}={value}")),
            ),
            _ => expanded.push(set.clone()),
        }
    }
    Ok(scenario::parse(&source, &expanded)?)
}

fn cmd_run(args: RunArgs) -> Result<(), AppError> {
    let mut sets = args.sets.clone();
    if let Some(seed) = args.seed {
        sets.push(format!("seed={seed}"));
    }
    let mut s = load_selected(&args.scenario, &sets, &args.archs)?;
    let file_archs: Vec<String> = s.archs.iter().map(|a| a.name.clone()).collect();
    if let Some(missing) = args.archs.iter().find(|a| !s.archs.iter().any(|x| &x.name == *a)) {
        return Err(SweepError::Spec {
            arg: format!("--arch {missing}"),
            message: format!(
                "no architecture has this label; the scenario's are: {}",
                s.archs.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }
        .into());
    }
    s.retain_archs(&args.archs);
    if args.no_adversaries {
        s.drop_adversaries();
    }
    scenario::admit(&s, 1.0, args.allow_large)?;
    let dest = args.out.clone().unwrap_or_else(|| PathBuf::from("netarch-out").join(s.name()));
    // Before simulating: a destination that may not be replaced or cannot be written fails now.
    if args.trace && args.replicates > 1 {
        let message = "a trace follows one run; drop --replicates (or trace one replicate with --seed)".into();
        return Err(SweepError::Spec { arg: "--trace".into(), message }.into());
    }
    if args.replicates == 0 {
        let message = "at least one replicate is needed".into();
        return Err(SweepError::Spec { arg: "--replicates 0".into(), message }.into());
    }
    let staging = Staging::new(&dest, &RUN_FOLDER)?;
    if args.replicates > 1 {
        return run_replicates(&args, &s, file_archs, staging);
    }
    let (results, extra) = if args.trace {
        crate::output::trace::traced_run(&s, staging.dir(), &|_, _| {}).map_err(|f| match f {
            crate::output::trace::TraceFailure::Sim(e) => AppError::Sim(e),
            crate::output::trace::TraceFailure::Io(e) => AppError::Output(e),
        })?
    } else {
        (run_with_progress(&s, args.quiet)?, Vec::new())
    };
    let folder = crate::output::write_run_with(staging, &s, &results, &reproduce_command(&args, &s), &extra)?;
    // Names only a run can check (a model's own figures): said once, the outputs write n/a.
    let mut missing = crate::output::json::figures_of(&results).missing(&s.raw.explain.headline, &s.raw.explain.shows);
    if s.adversaries.is_empty() {
        // Without adversaries (`--no-adversaries`) no exposure figure exists: that is expected,
        // not a mistake in the text, so it is not listed.
        missing.retain(|m| !m.split_once(": ").map_or(m.as_str(), |(_, metric)| metric).starts_with("exposure."));
    }
    if !missing.is_empty() {
        warn(&format!(
            "the explanation names figures this run does not have (written as n/a or [no figure]): {}; \
             results.json lists every metric of each architecture",
            missing.join(", ")
        ));
    }
    if !args.quiet {
        let width = table::terminal_width();
        out!("{}\n", table::wrap(&format!("{} (seed {}): {}", s.name(), s.seed(), s.raw.title), width));
        out!("{}\n", table::summary_table_for_width(&results, width));
        let figures = crate::output::json::figures_of(&results);
        if let Some(h) = table::headline_for_width(&figures, &s.raw.explain.headline, width) {
            out!("\n{h}\n\n");
        }
        out!("{}\n", table::wrap(&table::reading(&results), width));
        out!("\n");
        out!("wrote {}/\n", folder.display());
        out!("  report   {}\n", folder.join("report.html").display());
        // Every chart file written (issue 13, item 11: only the first was listed).
        let exts = crate::output::charts::CHART_EXTENSIONS.join(",");
        let mut label = "charts";
        for stem in crate::output::charts::RUN_CHART_STEMS {
            if folder.join(format!("{stem}.svg")).is_file() {
                out!("  {label:<8} {}.{{{exts}}}\n", folder.join(stem).display());
                label = "";
            }
        }
        // exposure.csv is written only when the scenario declares adversaries.
        let exposure = if folder.join("exposure.csv").is_file() { ", exposure.csv" } else { "" };
        out!("  data     {} (everything), summary.csv, latency.csv{exposure}\n", folder.join("results.json").display());
        if args.trace {
            out!("  trace    messages.csv (one row per copy), timeseries.csv, deliveries-over-time.{{svg,pdf}}\n");
        }
    }
    Ok(())
}

/// `netarch run --replicates N`: the replicates run as a sweep's point, replicate 0's usual files
/// and the replicates' tables in one folder, the table with intervals on the terminal.
fn run_replicates(args: &RunArgs, s: &Scenario, file_archs: Vec<String>, staging: Staging) -> Result<(), AppError> {
    use crate::sweep::replicates;
    let plan = replicates::plan(
        s,
        &args.scenario,
        &args.sets,
        file_archs,
        !args.archs.is_empty(),
        args.no_adversaries,
        args.replicates,
    );
    let results = replicates::run_all(s, &plan, args.jobs.unwrap_or(0))?;
    let first = replicates::replicate_scenario(s, &plan, 0);
    let (extra, aggs) = replicates::files(&plan, &results).map_err(SweepError::from)?;
    let command = reproduce_command(args, &first);
    let folder = crate::output::write_run_with(staging, &first, &results[0], &command, &extra)?;
    if !args.quiet {
        let width = table::terminal_width();
        out!("{}\n", table::wrap(&format!("{}: {}", s.name(), s.raw.title), width));
        out!("{}\n", replicates::terminal_table(&plan, &aggs, width));
        out!("wrote {}/ (replicate 0's files: {command})\n", folder.display());
        out!(
            "  replicates  {}, {}, {}\n",
            replicates::files::AGGREGATE,
            replicates::files::TIDY,
            replicates::files::PLAN
        );
        out!(
            "  charts      {}, {}\n",
            folder.join(replicates::files::BAND_CHART).display(),
            replicates::files::BAND_CHART_PDF
        );
        out!("  report      {}\n", folder.join("report.html").display());
    }
    Ok(())
}

/// The command line that reproduces a run exactly: the scenario, its overrides and the seed.
fn reproduce_command(args: &RunArgs, s: &Scenario) -> String {
    let mut parts = vec!["netarch".to_string(), "run".to_string(), shell_quote(&args.scenario)];
    for set in &args.sets {
        parts.push("--set".into());
        parts.push(shell_quote(set));
    }
    parts.push("--seed".into());
    parts.push(s.seed().to_string());
    for a in &args.archs {
        parts.push("--arch".into());
        parts.push(shell_quote(a));
    }
    if args.no_adversaries {
        parts.push("--no-adversaries".into());
    }
    if args.allow_large {
        parts.push("--allow-large".into());
    }
    parts.join(" ")
}

fn shell_quote(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Runs a scenario, showing a progress bar on stderr once it has taken more than two seconds.
pub fn run_with_progress(s: &Scenario, quiet: bool) -> Result<RunResults, AppError> {
    let n = s.archs.len();
    let bar = ProgressBar::with_draw_target(Some(1000 * n as u64), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {percent}% ({elapsed}, ~{eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} on {} architecture(s)", s.name(), n));
    let shares = Mutex::new(vec![0.0f64; n]);
    let started = Instant::now();
    let shown = std::sync::atomic::AtomicBool::new(false);
    let progress = |i: usize, share: f64| {
        if quiet {
            return;
        }
        let total: f64 = {
            let mut v = shares.lock().expect("progress lock");
            v[i] = share;
            v.iter().sum()
        };
        if started.elapsed() > Duration::from_secs(2) && !shown.swap(true, std::sync::atomic::Ordering::Relaxed) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_position((total * 1000.0) as u64);
    };
    let results = run(s, entries(s), &progress);
    bar.finish_and_clear();
    Ok(results?)
}

/// The text of `netarch list`.
pub fn list_text() -> String {
    let mut out = String::from("Built-in scenarios (netarch run <name>; netarch explain <name>):\n");
    for b in builtin::BUILTINS {
        let raw: Result<scenario::schema::RawScenario, _> = toml::from_str(b.text);
        let (title, claims) = raw.map(|r| (r.title, r.claims)).unwrap_or_default();
        out.push_str(&format!("  {:<22} {}{}\n", b.name, title, claim_tag(&claims)));
    }
    out.push_str("\nApp presets (netarch run <preset>; or preset = \"<name>\" in an [[arch]] table):\n");
    for p in presets::all() {
        out.push_str(&format!("  {:<22} {}{}\n", p.name, p.title, claim_tag(&p.claims)));
    }
    out.push_str("\nArchitecture kinds (kind = \"<name>\" in an [[arch]] table):\n");
    for (kind, summary) in scenario::arch::kinds() {
        out.push_str(&format!("  {kind:<22} {summary}\n"));
    }
    out
}

fn claim_tag(claims: &[String]) -> String {
    if claims.is_empty() { String::new() } else { format!("  [{}]", claims.join(", ")) }
}

/// The text of `netarch explain <name>` with its figures from the run folder `dir` (whose results
/// must be of scenario `name`): the explanation as that run resolved it, placeholders filled.
pub fn explain_run(name: &str, dir: &std::path::Path) -> Result<String, AppError> {
    let path = dir.join("results.json");
    let text = std::fs::read_to_string(&path).map_err(|error| OutputError::Io { path: path.clone(), error })?;
    let file = crate::output::json::RunFile::parse(&text)
        .map_err(|message| OutputError::Unreadable { path: path.clone(), message })?;
    if file.scenario_name != name {
        return Err(OutputError::Refused {
            path,
            message: format!(
                "holds a run of `{}`, not of `{name}`; give --run a folder of `{name}`",
                file.scenario_name
            ),
        }
        .into());
    }
    let users = file.world.get("users").and_then(|u| u.as_u64()).unwrap_or(0);
    let note = format!(
        "Figures from the run in {} (seed {}, {users} users): run it with your settings to see yours.",
        dir.display(),
        file.seed
    );
    let raw = &file.scenario;
    Ok(explain_body(name, &raw.title, &raw.claims, &raw.explain, &file.figures.fill(&raw.explain.shows), &note))
}

/// A placeholder as `explain` writes it without a run: what the figure is, in brackets.
fn unfilled(p: &crate::template::Placeholder) -> String {
    format!("[{} of {}]", crate::output::figures::display_name(&p.metric), p.entry)
}

/// The text of `netarch explain <name>`, without a run: each figure of "What the run shows" is
/// named in brackets, never stated, since no run produced it.
pub fn explain_text(name: &str) -> Result<String, AppError> {
    let (title, claim_ids, explain) = if let Some(b) = builtin::find(name) {
        let raw: scenario::schema::RawScenario = toml::from_str(b.text).map_err(|_| AppError::Unknown(name.into()))?;
        (raw.title, raw.claims, raw.explain)
    } else if let Some(p) = presets::find(name) {
        (p.title, p.claims, p.explain)
    } else {
        return Err(AppError::Unknown(name.into()));
    };
    let shows = crate::template::fill(&explain.shows, unfilled);
    let note = if shows == explain.shows {
        String::new()
    } else {
        format!(
            "Figures in [brackets] come from a run: `netarch run {name}` fills them in (in report.html, and here with `netarch explain {name}`)."
        )
    };
    Ok(explain_body(name, &title, &claim_ids, &explain, &shows, &note))
}

/// The text of `explain`: title, claims, the four sections (with `shows` as given, and `note`
/// after it when not empty) and how to run it.
fn explain_body(
    name: &str,
    title: &str,
    claim_ids: &[String],
    explain: &scenario::schema::RawExplain,
    shows: &str,
    note: &str,
) -> String {
    let mut out = format!("{name}: {title}\n");
    if !claim_ids.is_empty() {
        out.push_str("\nClaims of the reference text it measures:\n");
        for id in claim_ids {
            out.push_str(&format!("  {id}  {}\n", claims::claim(id).unwrap_or("(unknown claim)")));
        }
    }
    // Filled figures change line lengths: the text is reflowed to the terminal, paragraph by
    // paragraph.
    let width = table::terminal_width();
    let shows: String = shows
        .split("\n\n")
        .map(|p| table::wrap(&p.lines().map(str::trim).collect::<Vec<_>>().join(" "), width))
        .collect::<Vec<_>>()
        .join("\n\n");
    for (heading, text) in [
        ("What it models", explain.what.as_str()),
        ("What the run shows", shows.as_str()),
        ("Turn this knob next", explain.next.as_str()),
        ("Where the defaults come from", explain.sources.as_str()),
    ] {
        if !text.trim().is_empty() {
            out.push_str(&format!("\n{heading}:\n{}\n", text.trim()));
            if heading == "What the run shows" && !note.is_empty() {
                out.push_str(&format!("({note})\n"));
            }
        }
    }
    out.push_str(&format!("\nRun it: netarch run {name}\n"));
    out
}

fn cmd_sweep(args: SweepArgs) -> Result<(), AppError> {
    let req = SweepRequest {
        scenario: args.scenario.clone(),
        vary: args.vary.clone(),
        replicates: args.replicates,
        seed: args.seed,
        sets: args.sets.clone(),
        archs: args.archs.clone(),
        metrics: args.metrics.clone(),
        allow_large: args.allow_large,
        no_adversaries: args.no_adversaries,
    };
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let (plan, source) = crate::sweep::plan::resolve(&req)?;
    let dest = args.out.clone().unwrap_or_else(|| {
        let name = match shard {
            Some(s) => format!("{}-sweep-shard-{}-of-{}", plan.scenario_name, s.index, s.count),
            None => format!("{}-sweep", plan.scenario_name),
        };
        PathBuf::from("netarch-out").join(name)
    });
    if args.dry_run {
        out!("{}", crate::sweep::report::plan_text(&plan, shard));
        return Ok(());
    }
    let resume = resume_command();
    stop_on_ctrl_c(&resume);
    let bar = sweep_progress_bar(!args.quiet);
    let progress = |p: crate::sweep::exec::Progress| {
        bar.set_length(p.runs);
        bar.set_position(p.runs_done);
        bar.set_message(format!("{}/{} points", p.points_done, p.points));
    };
    let opts = crate::sweep::exec::ExecOptions {
        jobs: args.jobs.unwrap_or(0),
        shard,
        resume: args.resume,
        progress: Some(&progress),
        stop: Some(&STOP),
        resume_command: &resume,
    };
    let started = Instant::now();
    let done = crate::sweep::exec::execute(&plan, &source, &dest, &opts);
    bar.finish_and_clear();
    let done = done?;
    if args.quiet {
        return Ok(());
    }
    out!(
        "{} (base seed {}): {} points × {} replicates\n",
        plan.scenario_name,
        plan.base_seed,
        plan.points(),
        plan.replicates
    );
    if done.skipped > 0 {
        out!("{} of {} runs were already done; ran the other {}\n", done.skipped, done.total, done.ran);
    }
    out!("ran {} run(s) in {:.1} s\n", done.ran, started.elapsed().as_secs_f64());
    match &done.outputs {
        Some(w) => {
            for warning in &w.warnings {
                warn(warning);
            }
            out!("\n");
            out!("{}", crate::sweep::report::terminal_summary(&plan, &w.aggregates));
            out!("\n");
            print_sweep_folder(&done.folder)?;
        }
        None => {
            let s = shard.expect("a folder without outputs is a shard");
            out!("shard {}/{} done: {} runs in {}/\n", s.index, s.count, done.total, done.folder.display());
            out!("when every shard is done: netarch merge <the {} shard folders> --out <folder>\n", s.count);
        }
    }
    Ok(())
}

fn cmd_merge(folders: &[PathBuf], out: Option<PathBuf>, quiet: bool) -> Result<(), AppError> {
    let out = match out {
        Some(o) => o,
        None => {
            let first = folders.first().map(|f| crate::sweep::SweepDoc::read(f)).transpose()?;
            let name = first.map(|d| d.plan.scenario_name).unwrap_or_else(|| "merged".into());
            PathBuf::from("netarch-out").join(format!("{name}-sweep"))
        }
    };
    let merged = crate::sweep::merge::merge(folders, &out)?;
    for warning in &merged.outputs.warnings {
        warn(warning);
    }
    if !quiet {
        out!("merged {} folder(s): {} runs\n", merged.inputs, merged.runs);
        print_sweep_folder(&merged.folder)?;
    }
    Ok(())
}

fn print_sweep_folder(folder: &std::path::Path) -> Result<(), AppError> {
    use crate::sweep::layout;
    out!("wrote {}/\n", folder.display());
    out!("  report   {}\n", folder.join(layout::REPORT).display());
    out!("  charts   {}/\n", folder.join(layout::CHARTS).display());
    out!(
        "  data     {} (one row per run, architecture and metric), {}\n",
        folder.join(layout::TIDY).display(),
        layout::AGGREGATE
    );
    Ok(())
}

/// Set by the first Ctrl-C of a sweep: the runs in progress finish, no other starts.
static STOP: AtomicBool = AtomicBool::new(false);
/// What to tell the user when a second Ctrl-C stops the process at once.
static RESUME_HINT: Mutex<String> = Mutex::new(String::new());

/// Installs the Ctrl-C handler once per process: the first press asks the sweep to stop after
/// the runs in progress, the second exits at once (finished runs are already saved).
fn stop_on_ctrl_c(resume: &str) {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    STOP.store(false, Ordering::SeqCst);
    *RESUME_HINT.lock().unwrap_or_else(|e| e.into_inner()) = resume.to_owned();
    INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            if !STOP.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "\nCtrl-C: finishing the runs in progress, then stopping (press Ctrl-C again to stop at once)"
                );
            } else {
                let hint = RESUME_HINT.lock().map(|h| h.clone()).unwrap_or_default();
                eprintln!("\nstopped; every finished run is kept. Resume with: {hint}");
                std::process::exit(130);
            }
        })
        .is_ok()
    });
}

/// The sweep's progress bar on stderr (hidden when `show` is false): runs and points done,
/// elapsed and remaining time.
fn sweep_progress_bar(show: bool) -> ProgressBar {
    let target = if show { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ~{eta} left")
            .expect("valid template")
            .progress_chars("=> "),
    );
    if show {
        bar.enable_steady_tick(Duration::from_millis(500));
    }
    bar
}

/// The command line as given, with `--resume` added: what continues an interrupted sweep.
fn resume_command() -> String {
    let mut words: Vec<String> = std::env::args().skip(1).map(|a| quote(&a)).collect();
    if !words.iter().any(|w| w == "--resume") {
        words.push("--resume".into());
    }
    format!("netarch {}", words.join(" "))
}
