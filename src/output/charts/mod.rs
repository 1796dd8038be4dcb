//! Charts of a run, each written as SVG, PNG and PDF: latency CDFs, delivery outcomes, costs, and an
//! adversary × architecture exposure heatmap when an exposure analysis produced one.
//!
//! This is the one module that knows plotters. The drawing code takes plain data — a
//! [`ChartSet`] of [`LatencyCurves`], [`Outcome`]s, [`Cost`]s and an optional [`ExposureMatrix`],
//! whose fields mirror the summary's JSON fields — never a [`RunResults`], so that `netarch plot`
//! can redraw a run's charts from its results.json without re-running it.
//!
//! Text is set in an embedded DejaVu Sans (assets/fonts/) through plotters' `ab_glyph` backend, so
//! no system font library (fontconfig, freetype) is linked or consulted and a PNG comes out the
//! same on every machine. Each architecture keeps one colour in every chart (the Okabe-Ito
//! palette, by its position in the scenario). An undefined value (`None`: a ratio over zero
//! deliveries, a percentile of nothing) is never drawn as 0: its bar is left out and marked
//! "n/a". Files are written whole or not at all (a temporary file, then a rename).
//!
//! Every SVG carries a `<title>` and a `<desc>` generated from the data it draws (for screen
//! readers and for whoever finds the file later), and every chart is also written as PDF for
//! LaTeX: the SVG converted by svg2pdf over usvg (pure Rust; text stays text, set in the same
//! embedded font, subset into the PDF) — see [`pdf_of`].

pub mod bands;
mod cost;
mod exposure;
mod latency;
mod outcomes;
mod pdf;
mod style;
pub mod sweep;

use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::results::summary::{ArchSummary, CdfPoint};
use crate::run::RunResults;
use crate::scenario::Scenario;

pub use cost::Cost;
pub use exposure::ExposureMatrix;
pub use latency::LatencyCurves;
pub use outcomes::Outcome;
pub use pdf::pdf_of;
pub use style::{bytes, duration_ms, percent, sig3};

use style::{Drawn, OKABE_ITO, fonts};

/// Why charts could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// A chart file could not be written (fatal for the charts; the run's other outputs stand).
    #[error("cannot write chart `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// plotters failed while drawing (a backend or text-layout error), with its message.
    #[error("cannot draw chart: {0}")]
    Draw(String),
    /// The embedded font did not load (a defect of the build, never of the input).
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// An SVG could not be converted to PDF (usvg's or svg2pdf's message).
    #[error("cannot convert chart to PDF: {0}")]
    Pdf(String),
    /// The data does not fit the chart (e.g. an exposure matrix whose rows are not all as long as
    /// its list of architectures).
    #[error("chart data is inconsistent: {0}")]
    Shape(String),
}

/// What every chart of a run names: the scenario, its seed, and the architectures in scenario
/// order (which fixes each one's colour).
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// Architecture labels, in scenario order.
    pub archs: Vec<String>,
}

impl Frame {
    /// The colour of architecture `arch`: its position in the scenario in the Okabe-Ito palette
    /// (an unknown label gets the mid grey used for "n/a"). Private: plotters' colour type stays
    /// in this module; others use [`arch_colour_hex`].
    fn colour(&self, arch: &str) -> RGBColor {
        match self.archs.iter().position(|a| a == arch) {
            Some(i) => OKABE_ITO[i % OKABE_ITO.len()],
            None => style::MUTED,
        }
    }

    /// A chart title naming the scenario and seed.
    pub fn title(&self, what: &str) -> String {
        format!("{what} — scenario {}, seed {}", self.scenario, self.seed)
    }
}

/// The colour of the architecture at `index` in its scenario, as CSS hex (`#0072B2`), for
/// outputs that mark architectures the way the charts do (the report's tables).
pub fn arch_colour_hex(index: usize) -> String {
    let c = OKABE_ITO[index % OKABE_ITO.len()];
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Everything the charts of one run draw, as plain data.
#[derive(Clone, Debug)]
pub struct ChartSet {
    /// Scenario, seed and architectures.
    pub frame: Frame,
    /// The delivery deadline, seconds (marked on the latency chart, named on the outcome chart).
    pub deadline_s: f64,
    /// Latency CDFs, one per architecture.
    pub latency: Vec<LatencyCurves>,
    /// Delivery outcomes, one per architecture.
    pub outcomes: Vec<Outcome>,
    /// Costs, one per architecture.
    pub costs: Vec<Cost>,
    /// The exposure matrix, when an exposure analysis ran (the heatmap is drawn only then).
    pub exposure: Option<ExposureMatrix>,
}

impl ChartSet {
    /// The chart data of a finished run (no exposure matrix: set [`ChartSet::exposure`] when an
    /// exposure analysis produced one).
    pub fn from_run(scenario: &Scenario, results: &RunResults) -> ChartSet {
        let frame = Frame {
            scenario: scenario.name().to_owned(),
            seed: scenario.seed(),
            archs: results.archs.iter().map(|a| a.name.clone()).collect(),
        };
        let latency = results
            .archs
            .iter()
            .zip(&results.cdfs)
            .map(|(a, c)| {
                LatencyCurves::new(a.name.clone(), c.all.clone(), c.online_at_send.clone(), c.offline_at_send.clone())
            })
            .collect();
        ChartSet::from_summaries(frame, scenario.deadline.as_secs_f64(), &results.archs, latency)
    }

    /// The chart data of summaries and their latency curves, however they were obtained (a run
    /// in memory, or its results.json read back); no exposure matrix. Each curve's counts (copies
    /// created, delivered) are taken from the summary of the same name.
    pub fn from_summaries(
        frame: Frame,
        deadline_s: f64,
        archs: &[ArchSummary],
        mut latency: Vec<LatencyCurves>,
    ) -> ChartSet {
        for c in &mut latency {
            if let Some(a) = archs.iter().find(|a| a.name == c.arch) {
                c.copies_created = a.copies_created;
                c.delivered = a.delivered;
                c.delivered_offline_at_send = a.latency_offline_at_send.count;
            }
        }
        ChartSet {
            frame,
            deadline_s,
            latency,
            outcomes: archs.iter().map(Outcome::from_summary).collect(),
            costs: archs.iter().map(Cost::from_summary).collect(),
            exposure: None,
        }
    }
}

/// One chart drawn as SVG, ready to inline in the report.
#[derive(Clone, Debug)]
pub struct RenderedChart {
    /// File name without extension, e.g. `latency-cdf`.
    pub stem: &'static str,
    /// What the chart shows, without the scenario and seed (for the report's caption).
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// One chart written to disk.
#[derive(Clone, Debug)]
pub struct WrittenChart {
    /// The chart as SVG text too (the report inlines it).
    pub chart: RenderedChart,
    /// Where its SVG was written.
    pub svg_path: PathBuf,
    /// Where its PNG was written.
    pub png_path: PathBuf,
    /// Where its PDF was written.
    pub pdf_path: PathBuf,
}

/// A chart family: its file stem, caption, size, and drawing code for any plotters backend.
trait Figure {
    /// File name without extension.
    fn stem(&self) -> &'static str;
    /// Caption without the scenario and seed.
    fn caption(&self) -> String;
    /// What the chart shows, generated from its data (the SVG's `<desc>`): which architectures,
    /// what each mark means, and the figures a reader would look for.
    fn desc(&self) -> String;
    /// Size of the SVG in pixels (the PNG is twice as large each way).
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root` with every length multiplied by `s`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError>;
    /// The full title (the SVG's `<title>`); charts whose heading names the scenario override it.
    fn title(&self) -> String {
        self.caption()
    }
}

/// The PNG is drawn at twice the SVG's size so it stays sharp when printed or zoomed.
const PNG_SCALE: u32 = 2;

fn svg_of<F: Figure>(fig: &F) -> Result<RenderedChart, ChartError> {
    fonts()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, fig.size()).into_drawing_area();
        fig.draw(&root, 1.0)?;
        root.present().drawn()?;
    }
    // Labels come from user text; a control character in one would make the SVG malformed XML.
    let svg = crate::text::xml_safe(with_title(svg, &fig.title(), &fig.desc()));
    Ok(RenderedChart { stem: fig.stem(), title: fig.caption(), svg })
}

/// `svg` with `<title>` and `<desc>` as the first children of its root element (SVG 1.1 §5.4:
/// the root's title names the document; plotters writes neither).
fn with_title(svg: String, title: &str, desc: &str) -> String {
    let Some(end) = svg.find("<svg").and_then(|at| svg[at..].find('>').map(|e| at + e + 1)) else {
        return svg;
    };
    let head = format!(
        "\n<title>{}</title>\n<desc>{}</desc>",
        crate::output::report::escape(title),
        crate::output::report::escape(desc)
    );
    let mut out = String::with_capacity(svg.len() + head.len());
    out.push_str(&svg[..end]);
    out.push_str(&head);
    out.push_str(&svg[end..]);
    out
}

fn png_to<F: Figure>(fig: &F, path: &Path) -> Result<(), ChartError> {
    fonts()?;
    let (w, h) = fig.size();
    let root = BitMapBackend::new(path, (w * PNG_SCALE, h * PNG_SCALE)).into_drawing_area();
    fig.draw(&root, PNG_SCALE as f64)?;
    root.present().map_err(|e| ChartError::Io { path: path.to_owned(), source: io::Error::other(e.to_string()) })
}

/// Writes `write(tmp)` to a temporary file beside `path` (same extension, so encoders that go by
/// extension still work), then renames it into place: the file is whole or absent.
fn atomically(path: &Path, write: impl FnOnce(&Path) -> Result<(), ChartError>) -> Result<(), ChartError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("chart");
    let tmp = path.with_file_name(format!(".tmp-{}-{name}", std::process::id()));
    let result = write(&tmp)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|source| ChartError::Io { path: path.to_owned(), source }));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_one<F: Figure>(dir: &Path, fig: &F) -> Result<WrittenChart, ChartError> {
    let chart = svg_of(fig)?;
    let (svg_path, png_path, pdf_path) = write_files(dir, fig.stem(), &chart.svg, fig)?;
    Ok(WrittenChart { chart, svg_path, png_path, pdf_path })
}

/// Writes one chart as `<stem>.svg`, `<stem>.png` and `<stem>.pdf` in `dir`, each whole or
/// absent; returns the three paths.
fn write_files<F: Figure>(
    dir: &Path,
    stem: &str,
    svg: &str,
    fig: &F,
) -> Result<(PathBuf, PathBuf, PathBuf), ChartError> {
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    let pdf_path = dir.join(format!("{stem}.pdf"));
    atomically(&svg_path, |tmp| {
        std::fs::write(tmp, svg).map_err(|source| ChartError::Io { path: svg_path.clone(), source })
    })?;
    atomically(&png_path, |tmp| png_to(fig, tmp))?;
    let pdf = pdf_of(svg)?;
    atomically(&pdf_path, |tmp| {
        std::fs::write(tmp, &pdf).map_err(|source| ChartError::Io { path: pdf_path.clone(), source })
    })?;
    Ok((svg_path, png_path, pdf_path))
}

/// The file extensions of every chart file netarch writes.
pub const CHART_EXTENSIONS: [&str; 3] = ["svg", "png", "pdf"];

/// The figures of a chart set, in report order.
fn figures(set: &ChartSet) -> Result<Figures<'_>, ChartError> {
    let exposure = match &set.exposure {
        Some(m) => {
            m.check()?;
            Some(exposure::Heatmap { frame: &set.frame, matrix: m })
        }
        None => None,
    };
    Ok(Figures {
        latency: latency::LatencyChart { frame: &set.frame, curves: &set.latency, deadline_ms: set.deadline_s * 1e3 },
        outcomes: outcomes::OutcomeChart { frame: &set.frame, outcomes: &set.outcomes, deadline_s: set.deadline_s },
        cost: cost::CostChart { frame: &set.frame, costs: &set.costs },
        exposure,
    })
}

struct Figures<'a> {
    latency: latency::LatencyChart<'a>,
    outcomes: outcomes::OutcomeChart<'a>,
    cost: cost::CostChart<'a>,
    exposure: Option<exposure::Heatmap<'a>>,
}

/// Draws every chart of `set` as SVG text, in report order, writing nothing.
pub fn render_svgs(set: &ChartSet) -> Result<Vec<RenderedChart>, ChartError> {
    let f = figures(set)?;
    let mut out = vec![svg_of(&f.latency)?, svg_of(&f.outcomes)?, svg_of(&f.cost)?];
    if let Some(h) = &f.exposure {
        out.push(svg_of(h)?);
    }
    Ok(out)
}

/// The file stems of every chart a run folder can hold (each as `.svg`, `.png` and `.pdf`): what a run
/// folder may contain besides its data files.
pub const RUN_CHART_STEMS: [&str; 4] = ["latency-cdf", "delivery", "cost", "exposure"];

/// Writes every chart of `set` into `dir` (which must exist) as `<stem>.svg`, `.png` and `.pdf`,
/// in report order, and returns them with their SVG text for the report.
pub fn write_set(dir: &Path, set: &ChartSet) -> Result<Vec<WrittenChart>, ChartError> {
    let f = figures(set)?;
    let mut out = vec![write_one(dir, &f.latency)?, write_one(dir, &f.outcomes)?, write_one(dir, &f.cost)?];
    if let Some(h) = &f.exposure {
        out.push(write_one(dir, h)?);
    }
    Ok(out)
}

/// Writes the charts of a finished run into `dir` as SVG, PNG and PDF and returns the paths
/// written (SVG, PNG then PDF of each chart, in report order). [`write_set`] does the same from a
/// [`ChartSet`] and also returns the SVG text.
pub fn write_charts(dir: &Path, scenario: &Scenario, results: &RunResults) -> Result<Vec<PathBuf>, ChartError> {
    let written = write_set(dir, &ChartSet::from_run(scenario, results))?;
    Ok(written.into_iter().flat_map(|w| [w.svg_path, w.png_path, w.pdf_path]).collect())
}

/// A finite CDF point usable on a log axis (latency above zero).
fn plottable(p: &CdfPoint) -> bool {
    p.latency_ms.is_finite() && p.latency_ms > 0.0 && p.cumulative.is_finite()
}

/// The summary's undefined ratios stay undefined: `a / b` only when `b` is positive.
fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

#[cfg(test)]
pub(crate) mod tests;
