//! The delivery-outcome chart: for each architecture, a stacked bar of what became of the copies
//! created — delivered within the deadline, delivered late, lost (one segment per reason), still
//! in flight at the end — as shares of copies created. A second panel zooms on everything but
//! "delivered within the deadline", where the differences between architectures usually are.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{
    Entry, INK, MUTED, Mark, anchored, bar_half, legend_column, percent, px, row_labels, text, text_width, tick_number,
    titled,
};
use super::{ChartError, Drawn, Figure, Frame, ratio};
use crate::metrics::recorder::LossReason;
use crate::results::summary::ArchSummary;

/// What became of one architecture's copies (fields as in the summary and results.json).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The architecture's label.
    pub arch: String,
    /// Recipient copies created after the warm-up.
    pub copies_created: u64,
    /// Copies delivered.
    pub delivered: u64,
    /// Copies delivered within the deadline / copies created (`None` when no copies).
    pub delivered_in_deadline_ratio: Option<f64>,
    /// Copies lost, by reason.
    pub lost_by_reason: Vec<(LossReason, u64)>,
    /// Copies neither delivered nor lost at the end.
    pub in_flight: u64,
}

impl Outcome {
    /// The outcome figures of a summary.
    pub fn from_summary(a: &ArchSummary) -> Outcome {
        Outcome {
            arch: a.name.clone(),
            copies_created: a.copies_created,
            delivered: a.delivered,
            delivered_in_deadline_ratio: a.delivered_in_deadline_ratio,
            lost_by_reason: a.lost_by_reason.iter().map(|(&r, &n)| (r, n)).collect(),
            in_flight: a.in_flight,
        }
    }

    /// Shares of copies created, in stacking order, zero shares included; `None` when they are
    /// undefined (no copies created, or no in-deadline figure).
    fn segments(&self) -> Option<Vec<(Category, f64)>> {
        let n = self.copies_created as f64;
        let delivered = ratio(self.delivered as f64, n)?;
        let in_deadline = self.delivered_in_deadline_ratio?;
        let mut out = vec![(Category::InDeadline, in_deadline), (Category::Late, (delivered - in_deadline).max(0.0))];
        for r in LossReason::ALL {
            let lost = self.lost_by_reason.iter().filter(|(x, _)| *x == r).map(|(_, c)| *c).sum::<u64>();
            out.push((Category::Lost(r), lost as f64 / n));
        }
        out.push((Category::InFlight, self.in_flight as f64 / n));
        Some(out)
    }
}

/// A segment of an outcome bar.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Category {
    InDeadline,
    Late,
    Lost(LossReason),
    InFlight,
}

impl Category {
    /// Segment colours: neutral grey for the expected outcome so problems stand out; the rest
    /// from Paul Tol's "muted" scheme (colour-blind safe, and distinct from the architecture
    /// palette, which marks the rows, not the segments).
    fn colour(self) -> RGBColor {
        match self {
            Category::InDeadline => RGBColor(0xBB, 0xBB, 0xBB),
            Category::Late => RGBColor(0xDD, 0xCC, 0x77),
            Category::Lost(r) => match r {
                LossReason::RetentionExpired => RGBColor(0xCC, 0x66, 0x77),
                LossReason::SenderGaveUp => RGBColor(0x88, 0x22, 0x55),
                LossReason::RelayFailure => RGBColor(0xAA, 0x44, 0x99),
                LossReason::FederationBlocked => RGBColor(0x33, 0x22, 0x88),
                LossReason::Unreachable => RGBColor(0x11, 0x77, 0x33),
                LossReason::TtlExpired => RGBColor(0x99, 0x99, 0x33),
                LossReason::QueueOverflow => RGBColor(0x44, 0xAA, 0x99),
            },
            Category::InFlight => RGBColor(0x88, 0xCC, 0xEE),
        }
    }

    fn label(self, deadline_s: f64) -> String {
        match self {
            // A no-break space keeps "1 min" together when the legend wraps.
            Category::InDeadline => {
                format!(
                    "delivered within the deadline ({})",
                    super::duration_ms(deadline_s * 1e3).replace(' ', "\u{a0}")
                )
            }
            Category::Late => "delivered late".into(),
            Category::Lost(r) => format!("lost: {}", r.as_str().replace('_', " ")),
            Category::InFlight => "in flight at the end".into(),
        }
    }
}

/// The zoomed panel's upper bound, percent: the smallest of 1-2-5 steps (0.1%, 0.2%, 0.5%, 1%, …,
/// 50%) that leaves a quarter of head-room above the largest bar (for the total printed after it).
/// `None` when even 50% would not hold it: a panel 0–100% would not be a zoom, so none is drawn.
fn zoom_top(segs: &[Option<Vec<(Category, f64)>>]) -> Option<f64> {
    let missed = segs
        .iter()
        .flatten()
        .map(|v| v.iter().filter(|(c, _)| *c != Category::InDeadline).map(|(_, x)| x).sum::<f64>())
        .fold(0.0, f64::max);
    let need = missed * 100.0 * 1.25;
    const STEPS: [f64; 12] = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0];
    STEPS.into_iter().find(|&t| t >= need)
}

/// Black or white, whichever reads better on `c`.
fn ink_on(c: RGBColor) -> RGBColor {
    let lum = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    if lum > 140.0 { INK } else { WHITE }
}

/// The outcome chart of a run.
pub(super) struct OutcomeChart<'a> {
    pub frame: &'a Frame,
    pub outcomes: &'a [Outcome],
    pub deadline_s: f64,
}

impl Figure for OutcomeChart<'_> {
    fn stem(&self) -> &'static str {
        "delivery"
    }

    fn caption(&self) -> String {
        "What became of the copies sent".into()
    }

    fn title(&self) -> String {
        self.frame.title(&self.caption())
    }

    fn desc(&self) -> String {
        let mut parts = vec![format!(
            "One stacked bar per architecture of what became of the copies created, as shares: delivered within \
             the deadline ({}), delivered late, lost by reason, in flight at the end.",
            super::duration_ms(self.deadline_s * 1e3)
        )];
        for o in self.outcomes {
            let Some(seg) = o.segments() else {
                parts.push(format!("{}: no copies created.", o.arch));
                continue;
            };
            let shown: Vec<String> = seg
                .iter()
                .filter(|(_, share)| *share > 0.0)
                .map(|(c, share)| format!("{} {}", percent(*share), c.label(self.deadline_s).replace('\u{a0}', " ")))
                .collect();
            parts.push(format!("{} ({} copies): {}.", o.arch, o.copies_created, shown.join(", ")));
        }
        if let Some(top) = zoom_top(&self.outcomes.iter().map(Outcome::segments).collect::<Vec<_>>()) {
            parts.push(format!(
                "A second panel zooms on everything but in-deadline deliveries, 0–{}%.",
                tick_number(top)
            ));
        }
        parts.join(" ")
    }

    fn size(&self) -> (u32, u32) {
        (1000, (150 + 48 * self.outcomes.len() as u32).max(380))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let body = titled(root, &self.frame.title(&self.caption()), s)?;
        let (w, _) = body.dim_in_pixel();
        let w = w as i32;
        let name_style = text(14.0, s);
        let names_w = self.outcomes.iter().map(|o| text_width(root, &o.arch, &name_style)).max().unwrap_or(0);
        let labels_w = (names_w + px(34.0, s)).min(w * 30 / 100);
        let legend_w = px(220.0, s);
        let n = self.outcomes.len();
        let segs: Vec<Option<Vec<(Category, f64)>>> = self.outcomes.iter().map(Outcome::segments).collect();
        let zoom_top = zoom_top(&segs);
        // Without a zoom worth the name, one panel takes the width of two.
        let panel_w = match zoom_top {
            Some(_) => (w - labels_w - legend_w) / 2,
            None => w - labels_w - legend_w,
        };
        let (_, rest) = body.split_horizontally(labels_w);
        let (left, rest) = rest.split_horizontally(panel_w);
        let legend = match zoom_top {
            Some(top) => {
                let (right, legend) = rest.split_horizontally(panel_w);
                let caption = format!("all but \"delivered within the deadline\", zoomed to 0–{}%", tick_number(top));
                self.panel(&right, &caption, top, &segs, false, s)?;
                legend
            }
            None => rest,
        };
        let rows = self.panel(&left, "all copies", 100.0, &segs, true, s)?;

        let label_rows: Vec<(String, RGBColor, i32)> = (0..n)
            .map(|i| (self.outcomes[i].arch.clone(), self.frame.colour(&self.outcomes[i].arch), rows[i]))
            .collect();
        row_labels(root, &label_rows, labels_w - px(6.0, s), s)?;

        let mut entries = vec![
            Entry::new(Mark::Swatch(Category::InDeadline.colour()), Category::InDeadline.label(self.deadline_s)),
            Entry::new(Mark::Swatch(Category::Late.colour()), Category::Late.label(self.deadline_s)),
        ];
        let present = |c: Category| segs.iter().flatten().any(|v| v.iter().any(|(x, share)| *x == c && *share > 0.0));
        for r in LossReason::ALL {
            if present(Category::Lost(r)) {
                entries.push(Entry::new(
                    Mark::Swatch(Category::Lost(r).colour()),
                    Category::Lost(r).label(self.deadline_s),
                ));
            }
        }
        if present(Category::InFlight) {
            entries
                .push(Entry::new(Mark::Swatch(Category::InFlight.colour()), Category::InFlight.label(self.deadline_s)));
        }
        legend_column(&legend, &entries, s)
    }
}

impl OutcomeChart<'_> {
    /// Draws one panel of stacked bars (x in percent of copies, `0..x_max`); with `full`, bars
    /// start with the in-deadline segment, otherwise they leave it out. Returns each row's
    /// vertical pixel centre, in the order of `segs`.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        x_max: f64,
        segs: &[Option<Vec<(Category, f64)>>],
        full: bool,
        s: f64,
    ) -> Result<Vec<i32>, ChartError> {
        let n = segs.len().max(1) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(caption, text(14.0, s))
            .margin_top(px(6.0, s))
            .margin_right(px(18.0, s))
            .margin_left(px(6.0, s))
            .x_label_area_size(px(50.0, s))
            .y_label_area_size(0)
            .build_cartesian_2d(0f64..x_max, 0f64..n)
            .drawn()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_desc("share of copies created (%)")
            .x_label_formatter(&|v| super::style::tick_number(*v))
            .label_style(text(12.0, s))
            .axis_desc_style(text(13.0, s))
            .bold_line_style(INK.mix(0.10))
            .light_line_style(INK.mix(0.0))
            .axis_style(INK.stroke_width(px(1.0, s).max(1) as u32))
            .set_all_tick_mark_size(px(4.0, s))
            .draw()
            .drawn()?;

        let half = bar_half(chart.backend_coord(&(0.0, 0.0)).1 - chart.backend_coord(&(0.0, 1.0)).1, s);
        let mut centres = Vec::with_capacity(segs.len());
        let value_style = anchored(12.0, s, HPos::Center, VPos::Center);
        for (i, seg) in segs.iter().enumerate() {
            let row = n - 1.0 - i as f64;
            let (y0, y1) = (row + 0.5 - half, row + 0.5 + half);
            centres.push(chart.backend_coord(&(0.0, row + 0.5)).1);
            let Some(seg) = seg else {
                let (x, y) = chart.backend_coord(&(0.0, row + 0.5));
                area.draw(&Text::new(
                    "n/a: no copies created",
                    (x + px(6.0, s) - area.get_base_pixel().0, y - area.get_base_pixel().1),
                    anchored(12.0, s, HPos::Left, VPos::Center).color(&MUTED),
                ))
                .drawn()?;
                continue;
            };
            let mut x = 0.0;
            let mut total = 0.0;
            for &(cat, share) in seg {
                if (!full && cat == Category::InDeadline) || share <= 0.0 {
                    continue;
                }
                let x1 = (x + share * 100.0).min(x_max);
                let colour = cat.colour();
                chart.draw_series(std::iter::once(Rectangle::new([(x, y0), (x1, y1)], colour.filled()))).drawn()?;
                let (px0, py) = chart.backend_coord(&(x, row + 0.5));
                let (px1, _) = chart.backend_coord(&(x1, row + 0.5));
                let label = percent(share);
                if text_width(area, &label, &value_style) + px(6.0, s) < px1 - px0 {
                    let base = area.get_base_pixel();
                    area.draw(&Text::new(
                        label,
                        ((px0 + px1) / 2 - base.0, py - base.1),
                        value_style.clone().color(&ink_on(colour)),
                    ))
                    .drawn()?;
                }
                x = x1;
                total += share;
            }
            if !full {
                let (bx, by) = chart.backend_coord(&(x, row + 0.5));
                let base = area.get_base_pixel();
                let label = if total > 0.0 { percent(total) } else { "none".into() };
                area.draw(&Text::new(
                    label,
                    (bx + px(5.0, s) - base.0, by - base.1),
                    anchored(12.0, s, HPos::Left, VPos::Center),
                ))
                .drawn()?;
            }
        }
        Ok(centres)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(copies: u64, delivered: u64, in_deadline: Option<f64>, lost: u64, in_flight: u64) -> Outcome {
        Outcome {
            arch: "a".into(),
            copies_created: copies,
            delivered,
            delivered_in_deadline_ratio: in_deadline,
            lost_by_reason: vec![(LossReason::RetentionExpired, lost)],
            in_flight,
        }
    }

    #[test]
    fn segments_add_up_to_every_copy() {
        let o = outcome(200, 180, Some(0.8), 15, 5);
        let seg = o.segments().expect("copies were created");
        let total: f64 = seg.iter().map(|(_, x)| x).sum();
        assert!((total - 1.0).abs() < 1e-12, "shares sum to 1, got {total}");
        assert_eq!(seg[0], (Category::InDeadline, 0.8));
        assert!((seg[1].1 - 0.1).abs() < 1e-12, "late = delivered share - in-deadline share");
        assert!(seg.contains(&(Category::Lost(LossReason::RetentionExpired), 0.075)));
        assert!(seg.contains(&(Category::InFlight, 0.025)));
    }

    #[test]
    fn no_copies_means_no_bar_not_a_zero_bar() {
        assert_eq!(outcome(0, 0, None, 0, 0).segments(), None);
    }

    #[test]
    fn the_zoom_is_chosen_from_the_data_and_never_spans_everything() {
        // Issue 13, item 6: the zoomed panel was sometimes 0-100%.
        let segs = |o: &Outcome| vec![o.segments()];
        assert_eq!(zoom_top(&segs(&outcome(1000, 997, Some(0.997), 3, 0))), Some(0.5), "0.3% missed: 0-0.5%");
        assert_eq!(zoom_top(&segs(&outcome(100, 90, Some(0.85), 10, 0))), Some(20.0), "15% missed: 0-20%");
        assert_eq!(zoom_top(&segs(&outcome(100, 30, Some(0.2), 70, 0))), None, "80% missed: no zoom");
        assert_eq!(zoom_top(&segs(&outcome(100, 100, Some(1.0), 0, 0))), Some(0.1), "nothing missed");
        assert_eq!(zoom_top(&[None]), Some(0.1));
    }

    #[test]
    fn text_contrasts_with_its_segment() {
        assert_eq!(ink_on(Category::InDeadline.colour()), INK);
        assert_eq!(ink_on(Category::Lost(LossReason::FederationBlocked).colour()), WHITE);
    }
}
