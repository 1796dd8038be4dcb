//! Sweep charts: one metric against the swept parameter, one line per architecture (its colour
//! as in every other chart), each point the mean over replicates, with a shaded band for the 95%
//! confidence interval of that mean.
//!
//! The x axis is ticked at exactly the swept values, labelled as they were written ("30min",
//! "0.05"); their positions are given by the caller (numbers, or the values' order for words),
//! optionally on a log scale. A point with no defined mean (say, a latency percentile when nothing
//! was delivered) is a gap in the line, never a 0. Like the run charts, the drawing takes plain
//! data ([`SweepChart`]), so `netarch plot` redraws it from a sweep folder's tables.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{Entry, INK, Mark, anchored, legend_column, px, sig3, text, text_width, tick_number, titled};
use super::{ChartError, Drawn, Figure, Frame, svg_of, write_files};

/// One point of a line: the mean and the ends of its 95% confidence interval (all three equal
/// when there was a single replicate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepPoint {
    /// Mean over replicates.
    pub mean: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// One architecture's line: a point (or a gap) at each x.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepLine {
    /// The architecture's label.
    pub arch: String,
    /// One entry per x tick, in axis order.
    pub points: Vec<Option<SweepPoint>>,
}

/// The swept parameter's axis.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepAxis {
    /// Axis title, with its unit.
    pub label: String,
    /// Tick labels, one per swept value.
    pub ticks: Vec<String>,
    /// Positions of the ticks (positive when `log`).
    pub positions: Vec<f64>,
    /// Whether positions are drawn on a log scale.
    pub log: bool,
}

/// Everything one sweep chart draws.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepChart {
    /// Scenario, base seed and architectures (which fix the colours).
    pub frame: Frame,
    /// File name without extension.
    pub file_stem: String,
    /// What the chart shows, without the scenario and seed.
    pub caption: String,
    /// The y axis title (the metric, with its unit).
    pub metric: String,
    /// The x axis.
    pub x: SweepAxis,
    /// Lines, one per architecture.
    pub lines: Vec<SweepLine>,
    /// Notes under the legend (replicates, the values of other swept keys).
    pub notes: Vec<String>,
}

/// A sweep chart written to disk.
#[derive(Clone, Debug)]
pub struct WrittenSweepChart {
    /// The caption.
    pub title: String,
    /// The SVG text (the report inlines it).
    pub svg: String,
    /// Where its SVG was written.
    pub svg_path: PathBuf,
    /// Where its PNG was written.
    pub png_path: PathBuf,
    /// Where its PDF was written.
    pub pdf_path: PathBuf,
}

impl SweepChart {
    fn check(&self) -> Result<(), ChartError> {
        let n = self.x.ticks.len();
        if self.x.positions.len() != n || self.lines.iter().any(|l| l.points.len() != n) {
            return Err(ChartError::Shape(format!(
                "sweep chart `{}`: every line needs one point per tick",
                self.file_stem
            )));
        }
        if self.x.positions.iter().any(|p| !p.is_finite() || (self.x.log && *p <= 0.0)) {
            return Err(ChartError::Shape(format!("sweep chart `{}`: tick positions must be finite", self.file_stem)));
        }
        Ok(())
    }

    /// The drawn coordinate of tick `i`.
    fn xc(&self, i: usize) -> f64 {
        let p = self.x.positions[i];
        if self.x.log { p.log10() } else { p }
    }
}

/// Draws one sweep chart as SVG text, writing nothing.
pub fn render_sweep_svg(chart: &SweepChart) -> Result<String, ChartError> {
    chart.check()?;
    Ok(svg_of(&SweepFigure(chart))?.svg)
}

/// Writes each chart into `dir` (which must exist) as `<file_stem>.svg`, `.png` and `.pdf`.
pub fn write_sweep_charts(dir: &Path, charts: &[SweepChart]) -> Result<Vec<WrittenSweepChart>, ChartError> {
    let mut out = Vec::with_capacity(charts.len());
    for chart in charts {
        chart.check()?;
        let fig = SweepFigure(chart);
        let svg = svg_of(&fig)?.svg;
        let (svg_path, png_path, pdf_path) = write_files(dir, &chart.file_stem, &svg, &fig)?;
        out.push(WrittenSweepChart { title: chart.caption.clone(), svg, svg_path, png_path, pdf_path });
    }
    Ok(out)
}

struct SweepFigure<'a>(&'a SweepChart);

/// The y range: every defined mean and interval end, from 0 when the data sit well above it.
fn y_range(lines: &[SweepLine]) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in lines.iter().flat_map(|l| l.points.iter().flatten()) {
        for v in [p.mean, p.low, p.high] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if !lo.is_finite() {
        return None;
    }
    if lo >= 0.0 && lo < 0.4 * hi {
        lo = 0.0;
    }
    let span = hi - lo;
    if span <= 0.0 {
        let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
        return Some((lo - pad, hi + pad));
    }
    let low = if lo == 0.0 { 0.0 } else { lo - 0.06 * span };
    Some((low, hi + 0.06 * span))
}

/// Runs of consecutive defined points: (first tick, points).
fn segments(points: &[Option<SweepPoint>]) -> Vec<Vec<(usize, SweepPoint)>> {
    let mut out: Vec<Vec<(usize, SweepPoint)>> = Vec::new();
    let mut open = false;
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(p) if p.mean.is_finite() => {
                if !open {
                    out.push(Vec::new());
                    open = true;
                }
                out.last_mut().expect("a segment is open").push((i, *p));
            }
            _ => open = false,
        }
    }
    out
}

impl Figure for SweepFigure<'_> {
    fn stem(&self) -> &'static str {
        "sweep"
    }

    fn caption(&self) -> String {
        self.0.caption.clone()
    }

    fn title(&self) -> String {
        self.0.frame.title(&self.0.caption)
    }

    fn desc(&self) -> String {
        let c = self.0;
        let mut parts = vec![format!(
            "{} against {}, one line per architecture ({}), each point the mean over replicates with its interval.",
            c.metric,
            c.x.label,
            c.lines.iter().map(|l| l.arch.as_str()).collect::<Vec<_>>().join(", ")
        )];
        for l in &c.lines {
            let points: Vec<String> =
                c.x.ticks
                    .iter()
                    .zip(&l.points)
                    .map(|(t, p)| match p {
                        Some(p) => format!("{t}: {}", sig3(p.mean)),
                        None => format!("{t}: n/a"),
                    })
                    .collect();
            parts.push(format!("{}: {}.", l.arch, points.join(", ")));
        }
        parts.extend(c.notes.iter().cloned());
        parts.join(" ")
    }

    fn size(&self) -> (u32, u32) {
        (960, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let c = self.0;
        let body = titled(root, &c.frame.title(&c.caption), s)?;
        let (w, _) = body.dim_in_pixel();
        let (plot, legend) = body.split_horizontally(w as i32 - px(230.0, s));
        let Some((y_lo, y_hi)) = y_range(&c.lines) else {
            let (pw, ph) = plot.dim_in_pixel();
            plot.draw(&Text::new(
                "no architecture has a defined value of this metric at any point",
                (pw as i32 / 2, ph as i32 / 2),
                anchored(16.0, s, HPos::Center, VPos::Center),
            ))
            .drawn()?;
            return self.legend(&legend, s);
        };
        let xs: Vec<f64> = (0..c.x.ticks.len()).map(|i| c.xc(i)).collect();
        let x_min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let x_max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = if x_max > x_min { 0.05 * (x_max - x_min) } else { 0.5 };
        let (x_lo, x_hi) = (x_min - pad, x_max + pad);

        let mut chart = ChartBuilder::on(&plot)
            .margin_top(px(12.0, s))
            .margin_right(px(16.0, s))
            .margin_left(px(8.0, s))
            .x_label_area_size(px(52.0, s))
            .y_label_area_size(px(70.0, s))
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
            .drawn()?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc(c.x.label.clone())
            .y_desc(c.metric.clone())
            .y_label_formatter(&|v| tick_number(*v))
            .label_style(text(13.0, s))
            .axis_desc_style(text(14.0, s))
            .bold_line_style(INK.mix(0.10))
            .light_line_style(INK.mix(0.03))
            .axis_style(INK.stroke_width(px(1.0, s).max(1) as u32))
            .set_all_tick_mark_size(px(4.0, s))
            .draw()
            .drawn()?;

        // Ticks at exactly the swept values, labelled as written; a label that would overlap
        // the previous one is left out (its grid line stays).
        let label_style = anchored(13.0, s, HPos::Center, VPos::Top);
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
        let mut right_edge = i32::MIN;
        for i in order {
            let x = xs[i];
            chart
                .draw_series(LineSeries::new([(x, y_lo), (x, y_hi)], INK.mix(0.08).stroke_width(px(1.0, s) as u32)))
                .drawn()?;
            let (bx, by) = chart.backend_coord(&(x, y_lo));
            root.draw(&PathElement::new(
                vec![(bx, by), (bx, by + px(4.0, s))],
                INK.stroke_width(px(1.0, s).max(1) as u32),
            ))
            .drawn()?;
            let label = &c.x.ticks[i];
            let half = text_width(root, label, &label_style) / 2;
            if bx - half > right_edge + px(6.0, s) {
                root.draw(&Text::new(label.clone(), (bx, by + px(7.0, s)), label_style.clone())).drawn()?;
                right_edge = bx + half;
            }
        }

        let width = px(2.5, s).max(1) as u32;
        for line in &c.lines {
            let colour = c.frame.colour(&line.arch);
            for seg in segments(&line.points) {
                if seg.len() >= 2 {
                    let mut band: Vec<(f64, f64)> = seg.iter().map(|(i, p)| (xs[*i], p.high)).collect();
                    band.extend(seg.iter().rev().map(|(i, p)| (xs[*i], p.low)));
                    chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.18).filled()))).drawn()?;
                    chart
                        .draw_series(LineSeries::new(
                            seg.iter().map(|(i, p)| (xs[*i], p.mean)),
                            colour.stroke_width(width),
                        ))
                        .drawn()?;
                }
                for (i, p) in &seg {
                    // An interval bar at each point too: a lone point has no band to show it.
                    if p.high > p.low {
                        chart
                            .draw_series(LineSeries::new(
                                [(xs[*i], p.low), (xs[*i], p.high)],
                                colour.mix(0.7).stroke_width(px(1.5, s).max(1) as u32),
                            ))
                            .drawn()?;
                    }
                    chart
                        .draw_series(std::iter::once(Circle::new((xs[*i], p.mean), px(3.5, s), colour.filled())))
                        .drawn()?;
                }
            }
        }
        self.legend(&legend, s)
    }
}

impl SweepFigure<'_> {
    fn legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let c = self.0;
        let mut entries: Vec<Entry> = c
            .lines
            .iter()
            .map(|l| {
                let none = segments(&l.points).is_empty();
                let label = if none { format!("{} (no data)", l.arch) } else { l.arch.clone() };
                Entry::new(Mark::Line(c.frame.colour(&l.arch)), label)
            })
            .collect();
        if !c.notes.is_empty() {
            entries.push(Entry::new(Mark::None, ""));
            entries.extend(c.notes.iter().map(|n| Entry::new(Mark::None, n.clone())));
        }
        legend_column(area, &entries, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(mean: f64, half: f64) -> Option<SweepPoint> {
        Some(SweepPoint { mean, low: mean - half, high: mean + half })
    }

    fn chart() -> SweepChart {
        SweepChart {
            frame: Frame { scenario: "s".into(), seed: 1, archs: vec!["a".into(), "b <x>".into()] },
            file_stem: "sweep-delivery_ratio".into(),
            caption: "delivery_ratio against world.users".into(),
            metric: "delivery_ratio".into(),
            x: SweepAxis {
                label: "world.users".into(),
                ticks: vec!["100".into(), "200".into(), "400".into()],
                positions: vec![100.0, 200.0, 400.0],
                log: false,
            },
            lines: vec![
                SweepLine { arch: "a".into(), points: vec![p(0.9, 0.02), None, p(0.7, 0.05)] },
                SweepLine { arch: "b <x>".into(), points: vec![None, None, None] },
            ],
            notes: vec!["band: 95% confidence interval of the mean, 5 replicates".into()],
        }
    }

    #[test]
    fn gaps_split_lines_and_ranges_start_at_zero_when_near() {
        let c = chart();
        assert_eq!(segments(&c.lines[0].points).len(), 2, "a gap splits the line");
        assert!(segments(&c.lines[1].points).is_empty());
        let (lo, hi) = y_range(&c.lines).unwrap();
        assert!((lo - (0.65 - 0.06 * 0.27)).abs() < 1e-12 && (hi - (0.92 + 0.06 * 0.27)).abs() < 1e-12, "{lo} {hi}");
        let low = vec![SweepLine { arch: "a".into(), points: vec![p(1.0, 0.5), p(10.0, 0.0)] }];
        assert_eq!(y_range(&low).map(|r| r.0), Some(0.0));
        assert_eq!(y_range(&c.lines[1..]), None);
    }

    #[test]
    fn a_sweep_chart_draws_every_tick_and_architecture_and_escapes_labels() {
        let svg = render_sweep_svg(&chart()).expect("draws");
        for needle in ["100", "200", "400", "world.users", "delivery_ratio", "(no data)", "b &lt;x&gt;"] {
            assert!(svg.contains(needle), "the SVG has `{needle}`");
        }
        assert_eq!(svg, render_sweep_svg(&chart()).unwrap(), "deterministic");
    }

    #[test]
    fn inconsistent_data_is_refused() {
        let mut c = chart();
        c.lines[0].points.pop();
        assert!(matches!(render_sweep_svg(&c), Err(ChartError::Shape(_))));
        let mut c = chart();
        c.x.log = true;
        c.x.positions[0] = 0.0;
        assert!(matches!(render_sweep_svg(&c), Err(ChartError::Shape(_))));
    }
}
