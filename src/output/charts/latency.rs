//! The latency chart: for each architecture, the empirical CDF of send-to-delivery latency as a
//! share of all copies created — so a curve ends at the architecture's delivered share, as the
//! outcome chart's bars do, and an architecture that loses copies is never drawn as fast — on a
//! log time axis ticked in familiar durations (1 s, 1 min, 1 h, 1 day). A dashed curve is the
//! part of it whose recipient was offline at send. Each architecture's curve carries its own
//! marker shape at staggered positions, so curves that coincide stay distinguishable.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{
    Entry, INK, MUTED, Mark, Shape, anchored, duration_ms, legend_column, marker, percent, px, text, text_width, titled,
};
use super::{ChartError, Drawn, Figure, Frame, plottable};
use crate::results::summary::CdfPoint;

/// The latency CDFs of one architecture (the run's `cdfs`, as in results.json) and the counts
/// that turn them into shares of all copies created.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyCurves {
    /// The architecture's label.
    pub arch: String,
    /// CDF over every delivered copy.
    pub all: Vec<CdfPoint>,
    /// CDF over delivered copies whose recipient was online at send.
    pub online_at_send: Vec<CdfPoint>,
    /// CDF over delivered copies whose recipient was offline at send.
    pub offline_at_send: Vec<CdfPoint>,
    /// Copies created (the summary's `copies_created`): the denominator of every curve drawn.
    pub copies_created: u64,
    /// Copies delivered (the summary's `delivered`): where the solid curve ends.
    pub delivered: u64,
    /// Copies delivered whose recipient was offline at send (`latency_offline_at_send.count`).
    pub delivered_offline_at_send: u64,
}

impl LatencyCurves {
    /// Curves without counts (set by [`super::ChartSet::from_summaries`]).
    pub fn new(arch: String, all: Vec<CdfPoint>, online: Vec<CdfPoint>, offline: Vec<CdfPoint>) -> LatencyCurves {
        LatencyCurves {
            arch,
            all,
            online_at_send: online,
            offline_at_send: offline,
            copies_created: 0,
            delivered: 0,
            delivered_offline_at_send: 0,
        }
    }

    /// Delivered share of copies created, when any were created.
    pub fn delivered_share(&self) -> Option<f64> {
        super::ratio(self.delivered as f64, self.copies_created as f64)
    }

    /// The solid curve: every delivered copy, as a share of copies created.
    fn solid(&self) -> Vec<(f64, f64)> {
        steps(&self.all, self.delivered_share().unwrap_or(0.0))
    }

    /// The dashed curve: copies whose recipient was offline at send, as a share of all created.
    fn dashed(&self) -> Vec<(f64, f64)> {
        let share = super::ratio(self.delivered_offline_at_send as f64, self.copies_created as f64).unwrap_or(0.0);
        steps(&self.offline_at_send, share)
    }
}

/// The latency chart of a run.
pub(super) struct LatencyChart<'a> {
    pub frame: &'a Frame,
    pub curves: &'a [LatencyCurves],
    /// The delivery deadline, ms (not drawn unless positive and finite).
    pub deadline_ms: f64,
}

/// Axis ticks in durations people know, ms, in the order they are kept when labels would
/// collide (1 s, 1 min, 1 h and 1 day first: they also get a reference line).
const TICKS: [(f64, &str, bool); 13] = [
    (1e3, "1 s", true),
    (6e4, "1 min", true),
    (3.6e6, "1 h", true),
    (8.64e7, "1 day", true),
    (1.0, "1 ms", false),
    (100.0, "100 ms", false),
    (10.0, "10 ms", false),
    (1e4, "10 s", false),
    (6e5, "10 min", false),
    (2.16e7, "6 h", false),
    (6.048e8, "1 week", false),
    (2.592e9, "30 days", false),
    (0.1, "0.1 ms", false),
];

/// The points of a CDF scaled by `share` as a line, starting from 0 at its first latency (the
/// CDF is 0 below the smallest delivered latency, so the curve rises from the axis).
fn steps(cdf: &[CdfPoint], share: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(cdf.len() + 1);
    for p in cdf.iter().filter(|p| plottable(p)) {
        if out.is_empty() {
            out.push((p.latency_ms, 0.0));
        }
        out.push((p.latency_ms, p.cumulative * share));
    }
    out
}

/// The axis range: from the largest tick at or below every plotted latency and the deadline to
/// the smallest tick at or above them (a power of ten beyond the tick list).
fn range(curves: &[LatencyCurves], deadline_ms: f64) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in curves.iter().flat_map(|c| c.all.iter().chain(&c.offline_at_send)).filter(|p| plottable(p)) {
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
    let below = TICKS.iter().map(|t| t.0).filter(|&t| t <= lo).fold(f64::NEG_INFINITY, f64::max);
    let above = TICKS.iter().map(|t| t.0).filter(|&t| t >= hi).fold(f64::INFINITY, f64::min);
    let lo = if below.is_finite() { below } else { 10f64.powf(lo.log10().floor()) };
    let mut hi = if above.is_finite() { above } else { 10f64.powf(hi.log10().ceil()) };
    if hi <= lo {
        hi = TICKS.iter().map(|t| t.0).filter(|&t| t > lo).fold(lo * 10.0, f64::min);
    }
    Some((lo, hi))
}

/// The latency at which a curve first reaches `y`, if it does.
fn reaches(curve: &[(f64, f64)], y: f64) -> Option<f64> {
    curve.iter().find(|p| p.1 >= y).map(|p| p.0)
}

/// The curve's value at latency `x` (a step function: the last point at or before `x`).
fn value_at(curve: &[(f64, f64)], x: f64) -> Option<f64> {
    if curve.is_empty() || x < curve[0].0 || x > curve[curve.len() - 1].0 {
        return None;
    }
    curve.iter().take_while(|p| p.0 <= x).last().map(|p| p.1)
}

/// Where architecture `i` of `n` puts its markers on a log axis from `lo` to `hi`: every
/// half-decade, each architecture shifted by its share of the half-decade, so two curves that
/// coincide show alternating shapes.
fn marker_positions(i: usize, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let step = 0.5;
    let phase = step * (i as f64 + 0.5) / n.max(1) as f64;
    let mut out = Vec::new();
    let mut e = lo.log10().floor() + phase;
    while e <= hi.log10() {
        let x = 10f64.powf(e);
        if x >= lo {
            out.push(x);
        }
        e += step;
    }
    out
}

impl Figure for LatencyChart<'_> {
    fn stem(&self) -> &'static str {
        "latency-cdf"
    }

    fn caption(&self) -> String {
        "Latency from send to delivery".into()
    }

    fn title(&self) -> String {
        self.frame.title(&self.caption())
    }

    fn desc(&self) -> String {
        let mut parts = vec![
            "Empirical CDF of send-to-delivery latency per architecture, on a log time axis, as a share of all \
             copies created, so each solid curve ends at the architecture's delivered share; dashed curves are the \
             part whose recipient was offline at send."
                .to_owned(),
        ];
        for c in self.curves {
            let solid = c.solid();
            let text = match c.delivered_share() {
                None => format!("{}: no copies created.", c.arch),
                Some(share) if solid.is_empty() => format!("{}: {} delivered.", c.arch, percent(share)),
                Some(share) => match reaches(&solid, 0.5) {
                    Some(ms) => format!(
                        "{}: {} delivered; half of all copies within {}.",
                        c.arch,
                        percent(share),
                        duration_ms(ms)
                    ),
                    None => format!("{}: {} delivered, fewer than half of all copies.", c.arch, percent(share)),
                },
            };
            parts.push(text);
        }
        if self.deadline_ms.is_finite() && self.deadline_ms > 0.0 {
            parts.push(format!("A vertical line marks the deadline, {}.", duration_ms(self.deadline_ms)));
        }
        parts.join(" ")
    }

    fn size(&self) -> (u32, u32) {
        (960, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let body = titled(root, &self.title(), s)?;
        let (w, _) = body.dim_in_pixel();
        let (plot, legend) = body.split_horizontally(w as i32 - px(250.0, s));

        let Some((lo, hi)) = range(self.curves, self.deadline_ms) else {
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
            .margin_right(px(24.0, s))
            .margin_left(px(8.0, s))
            .x_label_area_size(px(46.0, s))
            .y_label_area_size(px(62.0, s))
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..1.0)
            .drawn()?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            // Durations are drawn below as ticks of their own; plotters' log axis would still
            // label its first key point.
            .x_label_formatter(&|_| String::new())
            .x_desc("latency from send to delivery (log scale)")
            .y_desc("share of all copies created, delivered by then (%)")
            .y_label_formatter(&|v| format!("{:.0}", v * 100.0))
            .label_style(text(13.0, s))
            .axis_desc_style(text(14.0, s))
            .bold_line_style(INK.mix(0.10))
            .light_line_style(INK.mix(0.03))
            .axis_style(INK.stroke_width(px(1.0, s).max(1) as u32))
            .set_all_tick_mark_size(px(4.0, s))
            .draw()
            .drawn()?;

        // Ticks in durations, kept in priority order while their labels do not collide.
        let tick_style = anchored(13.0, s, HPos::Center, VPos::Top);
        let mut kept: Vec<(i32, i32)> = Vec::new();
        for (ms, label, reference) in TICKS {
            if ms < lo * (1.0 - 1e-9) || ms > hi * (1.0 + 1e-9) {
                continue;
            }
            let (x, y) = chart.backend_coord(&(ms, 0.0));
            let half = text_width(root, label, &tick_style) / 2 + px(6.0, s);
            if kept.iter().any(|&(a, b)| x + half > a && x - half < b) {
                continue;
            }
            kept.push((x - half, x + half));
            let line = if reference { MUTED.mix(0.45) } else { INK.mix(0.10) };
            chart.draw_series(LineSeries::new([(ms, 0.0), (ms, 1.0)], line.stroke_width(px(1.0, s) as u32))).drawn()?;
            root.draw(&PathElement::new(vec![(x, y), (x, y + px(4.0, s))], INK.stroke_width(px(1.0, s).max(1) as u32)))
                .drawn()?;
            root.draw(&Text::new(label, (x, y + px(7.0, s)), tick_style.clone())).drawn()?;
        }

        if self.deadline_ms.is_finite() && self.deadline_ms > 0.0 {
            chart
                .draw_series(LineSeries::new(
                    [(self.deadline_ms, 0.0), (self.deadline_ms, 1.0)],
                    INK.mix(0.6).stroke_width(px(1.5, s) as u32),
                ))
                .drawn()?;
            // The only label at the top of the plot (durations are on the axis), so it cannot
            // collide with another; a white plate keeps it readable over the curves.
            let right = chart.backend_coord(&(hi, 1.0)).0;
            let (x, y) = chart.backend_coord(&(self.deadline_ms, 1.0));
            let label = format!("deadline {}", duration_ms(self.deadline_ms));
            let style = anchored(12.0, s, HPos::Left, VPos::Top);
            let width = text_width(root, &label, &style);
            let left = if x + px(4.0, s) + width > right { x - px(4.0, s) - width } else { x + px(4.0, s) };
            let top = y + px(3.0, s);
            root.draw(&Rectangle::new(
                [(left - px(2.0, s), top - px(1.0, s)), (left + width + px(2.0, s), top + px(15.0, s))],
                WHITE.mix(0.85).filled(),
            ))
            .drawn()?;
            root.draw(&Text::new(label, (left, top), style.pos(Pos::new(HPos::Left, VPos::Top)))).drawn()?;
        }

        let width = px(2.5, s).max(1) as u32;
        let n = self.curves.len();
        for (i, c) in self.curves.iter().enumerate() {
            let colour = self.frame.colour(&c.arch);
            let (solid, dashed) = (c.solid(), c.dashed());
            if !dashed.is_empty() {
                chart
                    .draw_series(DashedLineSeries::new(
                        dashed.clone(),
                        px(9.0, s),
                        px(5.0, s),
                        colour.mix(0.8).stroke_width(px(1.8, s).max(1) as u32),
                    ))
                    .drawn()?;
            }
            if solid.is_empty() {
                continue;
            }
            chart.draw_series(LineSeries::new(solid.clone(), colour.stroke_width(width))).drawn()?;
            let shape = Shape::of(i);
            let mut at: Vec<f64> = marker_positions(i, n, lo, hi);
            // The end of the curve is the delivered share: always marked.
            at.push(solid[solid.len() - 1].0);
            for x in at {
                if let Some(y) = value_at(&solid, x) {
                    marker(root, chart.backend_coord(&(x, y)), shape, colour, s)?;
                }
            }
        }
        self.legend(&legend, s)
    }
}

impl LatencyChart<'_> {
    fn legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let mut entries: Vec<Entry> = self
            .curves
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let none = !c.all.iter().any(plottable);
                let label = match c.delivered_share() {
                    _ if none => format!("{} (no deliveries)", c.arch),
                    Some(share) => format!("{}: {} delivered", c.arch, percent(share)),
                    None => c.arch.clone(),
                };
                Entry::new(Mark::Marked(self.frame.colour(&c.arch), Shape::of(i)), label)
            })
            .collect();
        entries.push(Entry::new(Mark::None, ""));
        entries.push(Entry::new(Mark::Line(INK), "every copy; ends at the delivered share"));
        entries.push(Entry::new(Mark::Dashed(INK), "the part whose recipient was offline at send"));
        entries.push(Entry::new(
            Mark::None,
            "one marker shape per architecture, staggered, so curves that coincide stay apart",
        ));
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
        assert_eq!(steps(&cdf, 1.0), vec![(20.0, 0.0), (20.0, 0.4), (50.0, 1.0)]);
        assert!(steps(&[], 1.0).is_empty());
    }

    #[test]
    fn a_curve_is_a_share_of_all_copies_and_ends_at_the_delivered_share() {
        // Issue 13, item 3: 80 of 100 copies delivered, 20 of them to recipients offline at send.
        let mut c = LatencyCurves::new(
            "a".into(),
            vec![point(10.0, 0.5), point(1e6, 1.0)],
            vec![point(10.0, 1.0)],
            vec![point(2e5, 0.5), point(1e6, 1.0)],
        );
        (c.copies_created, c.delivered, c.delivered_offline_at_send) = (100, 80, 20);
        assert_eq!(c.solid(), vec![(10.0, 0.0), (10.0, 0.4), (1e6, 0.8)]);
        assert_eq!(c.dashed(), vec![(2e5, 0.0), (2e5, 0.1), (1e6, 0.2)]);
        assert_eq!(c.delivered_share(), Some(0.8));
        assert_eq!(reaches(&c.solid(), 0.5), Some(1e6));
        assert_eq!(value_at(&c.solid(), 5e3), Some(0.4));
        assert_eq!(value_at(&c.solid(), 5.0), None, "no marker before the curve starts");
    }

    #[test]
    fn markers_of_coinciding_curves_do_not_coincide() {
        let a = marker_positions(0, 2, 10.0, 1e7);
        let b = marker_positions(1, 2, 10.0, 1e7);
        assert!(a.len() >= 10 && b.len() >= 10, "about two per decade");
        assert!(a.iter().all(|x| b.iter().all(|y| (x / y).log10().abs() > 0.1)), "staggered: {a:?} {b:?}");
        assert!(a.iter().chain(&b).all(|&x| (10.0..=1e7).contains(&x)));
    }

    #[test]
    fn the_axis_runs_between_familiar_durations_around_every_point_and_the_deadline() {
        let c = LatencyCurves::new(
            "a".into(),
            vec![point(35.0, 0.5), point(2.5e6, 1.0)],
            vec![point(35.0, 0.5), point(80.0, 1.0)],
            vec![point(0.0, 0.1), point(2.5e6, 1.0)],
        );
        // 0 ms cannot sit on a log axis and is skipped, not clamped; 2.5e6 ms is under 1 h.
        assert_eq!(range(std::slice::from_ref(&c), 60_000.0), Some((10.0, 3.6e6)));
        assert_eq!(range(std::slice::from_ref(&c), 9e7), Some((10.0, 6.048e8)), "the deadline is on the axis");
        assert_eq!(range(&[], 60_000.0), None);
        let empty = LatencyCurves::new("b".into(), vec![], vec![], vec![]);
        assert_eq!(range(&[empty], 60_000.0), None);
    }
}
