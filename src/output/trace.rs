//! `netarch run --trace`: `messages.csv`, one row per recipient copy, and `timeseries.csv`, per
//! interval and architecture the copies sent, delivered, lost and in flight, with a chart of
//! deliveries over time.
//!
//! Written streaming: each architecture's [`TraceWriter`] is the engine's
//! [`CopySink`], writing its rows through a buffered file as copies settle (memory stays bounded
//! whatever the run's size: a row buffer and one counter per interval). Architectures run in
//! parallel, so each writes its own part file; the parts are then concatenated in scenario order
//! behind one header, so `messages.csv` is byte-identical however the runs were scheduled.
//! Rows come in the order the engine settles copies (simulated time of settlement; a copy
//! settled ahead of its arrival, as the engine does for a last hop nothing can stop, comes when
//! it was settled), then the copies in flight at the end.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::metrics::trace::{CopyRecord, CopySink, Outcome};
use crate::time::{SimDuration, SimTime};

/// The header of `messages.csv`.
pub const MESSAGES_HEADER: &str =
    "architecture,message,recipient,sent_s,outcome,reason,latency_ms,hops,online_at_send,counted\n";

/// The header of `timeseries.csv`.
pub const TIMESERIES_HEADER: &str = "architecture,interval_start_s,interval_end_s,sent,delivered,lost,in_flight\n";

/// Interval lengths a time series may use, in seconds.
const INTERVALS_S: [u64; 14] = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];

/// The time-series interval for a run ending at `end`: the shortest of [`INTERVALS_S`] giving at
/// most 240 intervals (a chart's worth of points).
pub fn interval_for(end: SimTime) -> SimDuration {
    let secs = end.0 as f64 / SimDuration::from_secs(1).0 as f64;
    let pick = INTERVALS_S.iter().copied().find(|i| secs / *i as f64 <= 240.0).unwrap_or(86_400);
    SimDuration::from_secs(pick)
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// One architecture's trace: its rows into a part file, its counts per interval.
pub struct TraceWriter {
    arch: String,
    out: BufWriter<File>,
    path: PathBuf,
    line: String,
    error: Option<std::io::Error>,
    interval: SimDuration,
    sent: Vec<u64>,
    delivered: Vec<u64>,
    lost: Vec<u64>,
}

impl TraceWriter {
    /// A writer of architecture `arch`'s rows into `path`, counting per `interval` up to `end`.
    pub fn create(arch: &str, path: &Path, interval: SimDuration, end: SimTime) -> std::io::Result<TraceWriter> {
        let n = (end.0 / interval.0.max(1)) as usize + 1;
        Ok(TraceWriter {
            arch: field(arch),
            out: BufWriter::with_capacity(1 << 16, File::create(path)?),
            path: path.to_path_buf(),
            line: String::with_capacity(128),
            error: None,
            interval,
            sent: vec![0; n],
            delivered: vec![0; n],
            lost: vec![0; n],
        })
    }

    fn bucket(&self, at: SimTime) -> usize {
        ((at.0 / self.interval.0.max(1)) as usize).min(self.sent.len() - 1)
    }

    /// Flushes the part file; returns its path and the time-series rows, or the first write error.
    pub fn finish(mut self) -> std::io::Result<(PathBuf, String)> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        let secs = |t: u64| t as f64 * self.interval.0 as f64 / SimDuration::from_secs(1).0 as f64;
        let mut rows = String::new();
        let mut in_flight: i64 = 0;
        for i in 0..self.sent.len() {
            in_flight += self.sent[i] as i64 - self.delivered[i] as i64 - self.lost[i] as i64;
            let _ = writeln!(
                rows,
                "{},{},{},{},{},{},{}",
                self.arch,
                secs(i as u64),
                secs(i as u64 + 1),
                self.sent[i],
                self.delivered[i],
                self.lost[i],
                in_flight
            );
        }
        Ok((self.path, rows))
    }
}

impl CopySink for TraceWriter {
    fn created(&mut self, at: SimTime, copies: u32, _counted: bool) {
        let b = self.bucket(at);
        self.sent[b] += copies as u64;
    }

    fn settled(&mut self, c: &CopyRecord) {
        if self.error.is_some() {
            return;
        }
        let b = self.bucket(c.at);
        let (outcome, reason) = match c.outcome {
            Outcome::Delivered => {
                self.delivered[b] += 1;
                ("delivered", "")
            }
            Outcome::Lost(r) => {
                self.lost[b] += 1;
                ("lost", r.as_str())
            }
            Outcome::InFlight => ("in_flight", ""),
        };
        let l = &mut self.line;
        l.clear();
        let _ = write!(l, "{},{},", self.arch, c.message);
        if let Some(r) = c.recipient {
            let _ = write!(l, "{r}");
        }
        let _ = write!(l, ",{},{outcome},{reason},", c.sent.as_secs_f64());
        if c.outcome == Outcome::Delivered {
            let _ = write!(l, "{}", c.at.since(c.sent).as_millis_f64());
        }
        let _ = write!(l, ",{},", c.hops);
        if let Some(o) = c.online_at_send {
            l.push_str(if o { "true" } else { "false" });
        }
        let _ = writeln!(l, ",{}", c.counted);
        if let Err(e) = self.out.write_all(l.as_bytes()) {
            self.error = Some(e);
        }
    }
}

/// Concatenates the part files (scenario order) behind the header into `dest`, removing the parts.
pub fn concatenate(parts: &[PathBuf], dest: &Path) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(dest)?);
    out.write_all(MESSAGES_HEADER.as_bytes())?;
    for p in parts {
        std::io::copy(&mut File::open(p)?, &mut out)?;
        std::fs::remove_file(p)?;
    }
    out.flush()
}

/// The deliveries-over-time chart: copies delivered per interval, one line per architecture, as a
/// plain SVG with a title and description. `series` are (architecture, delivered per interval).
pub fn deliveries_svg(title: &str, interval_s: f64, series: &[(String, Vec<u64>)]) -> String {
    use crate::output::charts::arch_colour_hex;
    use crate::output::report::escape;
    let (w, h, left, right, top, bottom) = (820.0, 420.0, 70.0, 200.0, 40.0, 56.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let n = series.iter().map(|s| s.1.len()).max().unwrap_or(1).max(1);
    let ymax = series.iter().flat_map(|s| s.1.iter().copied()).max().unwrap_or(0).max(1) as f64;
    let hours = n as f64 * interval_s / 3600.0;
    let x_of = |i: usize| left + (i as f64 + 0.5) / n as f64 * pw;
    let y_of = |v: f64| top + (1.0 - v / ymax) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<title>{}</title>\n<desc>Copies delivered per {} s interval \
         over simulated time, one line per architecture (from timeseries.csv).</desc>\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n<text x=\"{left}\" y=\"22\" font-size=\"14\">{}</text>\n",
        escape(title),
        interval_s,
        escape(title)
    );
    for k in 0..=4 {
        let v = ymax * k as f64 / 4.0;
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" \
             text-anchor=\"end\">{}</text>",
            left + pw,
            left - 6.0,
            y_of(v) + 4.0,
            crate::output::charts::sig3(v).trim_end_matches(".00"),
            y = y_of(v)
        );
    }
    let ticks = 6usize;
    for k in 0..=ticks {
        let t = hours * k as f64 / ticks as f64;
        let x = left + pw * k as f64 / ticks as f64;
        let _ = writeln!(
            s,
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            top + ph + 16.0,
            crate::output::charts::duration_ms(t * 3.6e6)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">simulated time</text>\n<text transform=\"translate(18,{}) \
         rotate(-90)\" text-anchor=\"middle\">copies delivered per interval</text>",
        left + pw / 2.0,
        h - 14.0,
        top + ph / 2.0
    );
    for (i, (arch, v)) in series.iter().enumerate() {
        let colour = arch_colour_hex(i);
        let pts: Vec<String> =
            v.iter().enumerate().map(|(j, c)| format!("{:.1},{:.1}", x_of(j), y_of(*c as f64))).collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\"/>\n<rect x=\"{}\" y=\"{}\" \
             width=\"16\" height=\"3\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            pts.join(" "),
            left + pw + 14.0,
            top + 10.0 + 20.0 * i as f64,
            left + pw + 36.0,
            top + 14.0 + 20.0 * i as f64,
            escape(arch)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A file to write into a run folder: its name and bytes.
pub type NamedFile = (String, Vec<u8>);

/// Why a traced run failed.
#[derive(Debug)]
pub enum TraceFailure {
    /// The simulation broke an invariant.
    Sim(crate::engine::SimError),
    /// A trace file could not be written.
    Io(super::OutputError),
}

/// The trace files' names in a run folder.
pub const TRACE_FILES: [&str; 4] =
    ["messages.csv", "timeseries.csv", "deliveries-over-time.svg", "deliveries-over-time.pdf"];

/// Runs scenario `s` with every architecture's copies traced into `dir` (a run folder being
/// staged): writes `messages.csv` there and returns the results with `timeseries.csv` and the
/// deliveries chart, to be written beside it.
pub fn traced_run(
    s: &crate::scenario::Scenario,
    dir: &Path,
    progress: &(dyn Fn(usize, f64) + Sync),
) -> Result<(crate::run::RunResults, Vec<NamedFile>), TraceFailure> {
    let io = |path: &Path, error: std::io::Error| {
        TraceFailure::Io(super::OutputError::Io { path: path.to_path_buf(), error })
    };
    let world = crate::world::World::generate(s.world.clone(), s.seed());
    let entries = crate::run::entries(s);
    let end = s.window.run_end;
    let interval = interval_for(end);
    let mut writers = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let path = dir.join(format!(".trace-{i}.part"));
        writers.push(TraceWriter::create(&e.name, &path, interval, end).map_err(|err| io(&path, err))?);
    }
    let sinks: Vec<&mut (dyn CopySink + Send)> = writers.iter_mut().map(|w| w as &mut (dyn CopySink + Send)).collect();
    let results = crate::run::run_with_copy_sinks(&world, s, entries, sinks, progress).map_err(TraceFailure::Sim)?;
    let mut parts = Vec::new();
    let mut timeseries = String::from(TIMESERIES_HEADER);
    let mut series = Vec::new();
    for w in writers {
        let name = w.arch.clone();
        let delivered = w.delivered.clone();
        let path = w.path.clone();
        let (part, rows) = w.finish().map_err(|err| io(&path, err))?;
        parts.push(part);
        timeseries.push_str(&rows);
        series.push((name.trim_matches('"').replace("\"\"", "\""), delivered));
    }
    let messages = dir.join(TRACE_FILES[0]);
    concatenate(&parts, &messages).map_err(|err| io(&messages, err))?;
    let title = format!("Deliveries over time — scenario {}, seed {}", s.name(), s.seed());
    let svg = deliveries_svg(&title, interval.0 as f64 / SimDuration::from_secs(1).0 as f64, &series);
    let pdf = crate::output::charts::pdf_of(&svg).map_err(|e| {
        TraceFailure::Io(super::OutputError::Chart { what: TRACE_FILES[3].into(), message: e.to_string() })
    })?;
    Ok((
        results,
        vec![
            (TRACE_FILES[1].to_owned(), timeseries.into_bytes()),
            (TRACE_FILES[2].to_owned(), svg.into_bytes()),
            (TRACE_FILES[3].to_owned(), pdf),
        ],
    ))
}
