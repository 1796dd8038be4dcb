//! The latency chart: for each architecture, the empirical CDF of send-to-delivery latency on a
//! log time axis — solid for copies whose recipient was online at send, dashed for copies whose
//! recipient was offline — with the deadline and familiar durations (1 s, 1 min, 1 h, 1 day)
//! marked, so a push path in milliseconds and a store-and-forward wait in hours share one chart.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{Entry, INK, MUTED, Mark, anchored, duration_ms, legend_column, px, text, text_width, titled};
use super::{ChartError, Drawn, Figure, Frame, plottable};
use crate::results::summary::CdfPoint;

/// The latency CDFs of one architecture (the run's `cdfs`, as in results.json).
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyCurves {
    /// The architecture's label.
    pub arch: String,
    /// CDF over delivered copies whose recipient was online at send.
    pub online_at_send: Vec<CdfPoint>,
    /// CDF over delivered copies whose recipient was offline at send.
    pub offline_at_send: Vec<CdfPoint>,
}

/// The latency chart of a run.
pub(super) struct LatencyChart<'a> {
    pub frame: &'a Frame,
    pub curves: &'a [LatencyCurves],
    /// The delivery deadline, ms (not drawn unless positive and finite).
    pub deadline_ms: f64,
}

/// Durations worth a reference line, ms.
const MARKS: [(f64, &str); 4] = [(1e3, "1 s"), (6e4, "1 min"), (3.6e6, "1 h"), (8.64e7, "1 day")];

/// A log-axis tick: plain up to 1000, then a power of ten with a superscript exponent.
fn tick(v: f64) -> String {
    let e = v.log10().round();
    if (v / 10f64.powf(e) - 1.0).abs() < 1e-9 && e > 3.0 {
        let sup: String = format!("{}", e as i32)
            .chars()
            .map(|c| match c {
                '0' => '⁰',
                '1' => '¹',
                '2' => '²',
                '3' => '³',
                '4' => '⁴',
                '5' => '⁵',
                '6' => '⁶',
                '7' => '⁷',
                '8' => '⁸',
                '9' => '⁹',
                other => other,
            })
            .collect();
        format!("10{sup}")
    } else {
        super::style::tick_number(v)
    }
}

/// The points of a CDF as a line, starting from 0 at its first latency (the CDF is 0 below
/// the smallest delivered latency, so the curve rises from the axis rather than floating).
fn steps(cdf: &[CdfPoint]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(cdf.len() + 1);
    for p in cdf.iter().filter(|p| plottable(p)) {
        if out.is_empty() {
            out.push((p.latency_ms, 0.0));
        }
        out.push((p.latency_ms, p.cumulative));
    }
    out
}

/// The axis range: whole decades around every plotted latency and the deadline.
fn decades(curves: &[LatencyCurves], deadline_ms: f64) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in curves.iter().flat_map(|c| c.online_at_send.iter().chain(&c.offline_at_send)).filter(|p| plottable(p)) {
        lo = lo.min(p.latency_ms);
        hi = hi.max(p.latency_ms);
    }
    if !lo.is_finite() {
        return None;
    }
    if deadline_ms.is_finite() && deadline_ms > 0.0 {
        lo = lo.min(deadline_ms);
        hi = hi.max(deadline_ms);
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
    Some((lo, hi))
}

impl Figure for LatencyChart<'_> {
    fn stem(&self) -> &'static str {
        "latency-cdf"
    }

    fn caption(&self) -> String {
        "Latency from send to delivery".into()
    }

    fn size(&self) -> (u32, u32) {
        (960, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let body = titled(root, &self.frame.title(&self.caption()), s)?;
        let (w, _) = body.dim_in_pixel();
        let (plot, legend) = body.split_horizontally(w as i32 - px(230.0, s));

        let Some((lo, hi)) = decades(self.curves, self.deadline_ms) else {
            let (pw, ph) = plot.dim_in_pixel();
            plot.draw(&Text::new(
                "no copy was delivered, so there is no latency to show",
                (pw as i32 / 2, ph as i32 / 2),
                anchored(16.0, s, HPos::Center, VPos::Center),
            ))
            .drawn()?;
            return self.legend(&legend, s);
        };

        let mut chart = ChartBuilder::on(&plot)
            .margin_top(px(12.0, s))
            .margin_right(px(16.0, s))
            .margin_left(px(8.0, s))
            .x_label_area_size(px(46.0, s))
            .y_label_area_size(px(62.0, s))
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..1.0)
            .drawn()?;
        chart
            .configure_mesh()
            .x_desc("latency from send to delivery (ms, log scale)")
            .y_desc("delivered copies with at most this latency (%)")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| format!("{:.0}", v * 100.0))
            .label_style(text(13.0, s))
            .axis_desc_style(text(14.0, s))
            .bold_line_style(INK.mix(0.10))
            .light_line_style(INK.mix(0.03))
            .axis_style(INK.stroke_width(px(1.0, s).max(1) as u32))
            .set_all_tick_mark_size(px(4.0, s))
            .draw()
            .drawn()?;

        let label_style = anchored(12.0, s, HPos::Left, VPos::Top);
        let chart_right = chart.backend_coord(&(hi, 1.0)).0;
        let deadline = self.deadline_ms.is_finite() && self.deadline_ms > 0.0;
        for (ms, label) in MARKS {
            let near_deadline = deadline && (ms / self.deadline_ms - 1.0).abs() < 0.05;
            if ms > lo && ms < hi && !near_deadline {
                chart
                    .draw_series(LineSeries::new(
                        [(ms, 0.0), (ms, 1.0)],
                        MUTED.mix(0.35).stroke_width(px(1.0, s) as u32),
                    ))
                    .drawn()?;
                let (x, y) = chart.backend_coord(&(ms, 1.0));
                mark_label(root, &chart_right, label, (x, y), label_style.clone().color(&MUTED), s)?;
            }
        }
        if deadline {
            chart
                .draw_series(LineSeries::new(
                    [(self.deadline_ms, 0.0), (self.deadline_ms, 1.0)],
                    INK.mix(0.6).stroke_width(px(1.5, s) as u32),
                ))
                .drawn()?;
            let (x, y) = chart.backend_coord(&(self.deadline_ms, 1.0));
            let label = format!("deadline {}", duration_ms(self.deadline_ms));
            mark_label(root, &chart_right, &label, (x, y), label_style.clone(), s)?;
        }

        let width = px(2.5, s).max(1) as u32;
        for c in self.curves {
            let colour = self.frame.colour(&c.arch);
            let (online, offline) = (steps(&c.online_at_send), steps(&c.offline_at_send));
            if !online.is_empty() {
                chart.draw_series(LineSeries::new(online, colour.stroke_width(width))).drawn()?;
            }
            if !offline.is_empty() {
                chart
                    .draw_series(DashedLineSeries::new(offline, px(9.0, s), px(5.0, s), colour.stroke_width(width)))
                    .drawn()?;
            }
        }
        self.legend(&legend, s)
    }
}

/// Labels a vertical reference line at its top: right of the line, or left of it when the
/// label would run past the plot's right edge `right`.
fn mark_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    right: &i32,
    label: &str,
    (x, y): (i32, i32),
    style: TextStyle,
    s: f64,
) -> Result<(), ChartError> {
    let width = text_width(root, label, &style);
    let (pos, h) = if x + px(3.0, s) + width > *right {
        ((x - px(3.0, s), y + px(2.0, s)), HPos::Right)
    } else {
        ((x + px(3.0, s), y + px(2.0, s)), HPos::Left)
    };
    root.draw(&Text::new(label.to_owned(), pos, style.pos(Pos::new(h, VPos::Top)))).drawn()
}

impl LatencyChart<'_> {
    fn legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let mut entries: Vec<Entry> = self
            .curves
            .iter()
            .map(|c| {
                let none = !c.online_at_send.iter().chain(&c.offline_at_send).any(plottable);
                let label = if none { format!("{} (no deliveries)", c.arch) } else { c.arch.clone() };
                Entry::new(Mark::Line(self.frame.colour(&c.arch)), label)
            })
            .collect();
        entries.push(Entry::new(Mark::None, ""));
        entries.push(Entry::new(Mark::Line(INK), "recipient online at send"));
        entries.push(Entry::new(Mark::Dashed(INK), "recipient offline at send"));
        legend_column(area, &entries, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(ms: f64, c: f64) -> CdfPoint {
        CdfPoint { latency_ms: ms, cumulative: c }
    }

    #[test]
    fn a_curve_rises_from_zero_and_skips_what_a_log_axis_cannot_show() {
        let cdf = [point(0.0, 0.1), point(20.0, 0.4), point(f64::NAN, 0.5), point(50.0, 1.0)];
        assert_eq!(steps(&cdf), vec![(20.0, 0.0), (20.0, 0.4), (50.0, 1.0)]);
        assert!(steps(&[]).is_empty());
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(1.0), "1");
        assert_eq!(tick(0.1), "0.1");
        assert_eq!(tick(1000.0), "1000");
        assert_eq!(tick(1e4), "10⁴");
        assert_eq!(tick(1e7), "10⁷");
    }

    #[test]
    fn the_axis_covers_every_point_and_the_deadline_in_whole_decades() {
        let c = LatencyCurves {
            arch: "a".into(),
            online_at_send: vec![point(35.0, 0.5), point(80.0, 1.0)],
            offline_at_send: vec![point(0.0, 0.1), point(2.5e6, 1.0)],
        };
        // 0 ms cannot sit on a log axis and is skipped, not clamped.
        assert_eq!(decades(std::slice::from_ref(&c), 60_000.0), Some((10.0, 1e7)));
        assert_eq!(decades(&[], 60_000.0), None);
        let empty = LatencyCurves { arch: "b".into(), online_at_send: vec![], offline_at_send: vec![] };
        assert_eq!(decades(&[empty], 60_000.0), None);
    }
}
