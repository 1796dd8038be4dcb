//! The cost chart: three small multiples sharing one row per architecture — all transmissions
//! per delivered copy, all bytes per delivered copy, and device wake-ups per device-hour (the
//! battery proxy). Transmissions and bytes stack the traffic that carried messages (solid:
//! `transmissions_per_delivered`, `bytes_per_delivered`) and the traffic that carried none (polls,
//! keep-alives, cover, requests, lookups; pale), so an architecture that pays in background traffic
//! is not drawn as cheap; the figure after each bar is the total (`all_transmissions_per_delivered`,
//! `all_bytes_per_delivered`). Wake-ups are one outlined bar of every wake-up, whatever woke the
//! device: the summary does not split wake-ups by cause, so that bar is drawn in neither the
//! "message" nor the "overhead" style, and a keep-alive wake-up is never shown as message traffic.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{
    Entry, INK, MUTED, Mark, anchored, bar_half, legend_column, px, row_labels, sig3, text, text_width, titled,
};
use super::{ChartError, Drawn, Figure, Frame, ratio};
use crate::results::summary::ArchSummary;

/// The cost figures of one architecture (fields as in the summary and results.json).
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    /// The architecture's label.
    pub arch: String,
    /// Copies delivered (the divisor of the overhead shares).
    pub delivered: u64,
    /// Message transmissions per delivered copy (`None` when nothing was delivered).
    pub transmissions_per_delivered: Option<f64>,
    /// Message bytes per delivered copy (`None` when nothing was delivered).
    pub bytes_per_delivered: Option<f64>,
    /// All transmissions (overhead included) per delivered copy.
    pub all_transmissions_per_delivered: Option<f64>,
    /// All bytes (overhead included) per delivered copy.
    pub all_bytes_per_delivered: Option<f64>,
    /// Transmissions that carried no message.
    pub overhead_transmissions: u64,
    /// Their bytes.
    pub overhead_bytes: u64,
    /// Device wake-ups per device-hour (`None` for an empty measurement window).
    pub wakeups_per_device_hour: Option<f64>,
}

impl Cost {
    /// The cost figures of a summary.
    pub fn from_summary(a: &ArchSummary) -> Cost {
        Cost {
            arch: a.name.clone(),
            delivered: a.delivered,
            transmissions_per_delivered: a.transmissions_per_delivered,
            bytes_per_delivered: a.bytes_per_delivered,
            all_transmissions_per_delivered: a.all_transmissions_per_delivered,
            all_bytes_per_delivered: a.all_bytes_per_delivered,
            overhead_transmissions: a.overhead_transmissions,
            overhead_bytes: a.overhead_bytes,
            wakeups_per_device_hour: a.wakeups_per_device_hour,
        }
    }

    /// (message part, overhead part) of transmissions per delivered copy: the summary's
    /// `transmissions_per_delivered` and what `all_transmissions_per_delivered` adds to it.
    fn transmissions(&self) -> Option<(f64, f64)> {
        split(
            self.transmissions_per_delivered?,
            self.all_transmissions_per_delivered,
            self.overhead_transmissions,
            self.delivered,
        )
    }

    /// (message part, overhead part) of bytes per delivered copy, likewise.
    fn bytes(&self) -> Option<(f64, f64)> {
        split(self.bytes_per_delivered?, self.all_bytes_per_delivered, self.overhead_bytes, self.delivered)
    }
}

/// A per-delivered figure split into its message part and its overhead part: the named total
/// minus the message part, or (for a summary without the total) the overhead count shared over
/// delivered copies.
fn split(message: f64, all: Option<f64>, overhead: u64, delivered: u64) -> Option<(f64, f64)> {
    let extra = match all {
        Some(all) => (all - message).max(0.0),
        None => ratio(overhead as f64, delivered as f64)?,
    };
    Some((message, extra))
}

/// One small multiple: its axis title, one stacked value per architecture, and whether its
/// bars are outlined (a figure not split into message traffic and overhead).
struct Panel {
    axis: String,
    values: Vec<Option<(f64, f64)>>,
    outlined: bool,
}

/// A byte unit that keeps axis numbers short for values up to `max`.
fn byte_unit(max: f64) -> (f64, &'static str) {
    if max >= 1e6 {
        (1e6, "MB")
    } else if max >= 1e3 {
        (1e3, "KB")
    } else {
        (1.0, "B")
    }
}

/// The cost chart of a run.
pub(super) struct CostChart<'a> {
    pub frame: &'a Frame,
    pub costs: &'a [Cost],
}

impl CostChart<'_> {
    fn panels(&self) -> [Panel; 3] {
        let bytes: Vec<Option<(f64, f64)>> = self.costs.iter().map(Cost::bytes).collect();
        let max_bytes = bytes.iter().flatten().map(|(a, b)| a + b).fold(0.0, f64::max);
        let (div, unit) = byte_unit(max_bytes);
        [
            Panel {
                axis: "all tx/delivered (transmissions per delivered copy)".into(),
                values: self.costs.iter().map(Cost::transmissions).collect(),
                outlined: false,
            },
            Panel {
                axis: format!("all bytes/delivered, {unit}"),
                values: bytes.iter().map(|v| v.map(|(a, b)| (a / div, b / div))).collect(),
                outlined: false,
            },
            Panel {
                axis: "wake-ups/device·h (every wake-up, any cause)".into(),
                values: self.costs.iter().map(|c| c.wakeups_per_device_hour.map(|w| (w, 0.0))).collect(),
                outlined: true,
            },
        ]
    }
}

impl Figure for CostChart<'_> {
    fn stem(&self) -> &'static str {
        "cost"
    }

    fn caption(&self) -> String {
        "What delivery costs".into()
    }

    fn title(&self) -> String {
        self.frame.title(&self.caption())
    }

    fn desc(&self) -> String {
        let mut parts = vec![
            "Three bar panels per architecture: all transmissions per delivered copy and all bytes per delivered \
             copy, each split into message traffic (solid) and overhead that carried no message (pale), and device \
             wake-ups per device-hour, whatever woke the device (outlined, not split)."
                .to_owned(),
        ];
        let show = |v: Option<f64>, f: fn(f64) -> String| v.map(f).unwrap_or_else(|| "n/a".into());
        for c in self.costs {
            parts.push(format!(
                "{}: {} transmissions ({} carrying messages), {} ({} of messages), {} wake-ups per device-hour.",
                c.arch,
                show(c.all_transmissions_per_delivered, sig3),
                show(c.transmissions_per_delivered, sig3),
                show(c.all_bytes_per_delivered, super::bytes),
                show(c.bytes_per_delivered, super::bytes),
                show(c.wakeups_per_device_hour, sig3),
            ));
        }
        parts.join(" ")
    }

    fn size(&self) -> (u32, u32) {
        (1100, (140 + 44 * self.costs.len() as u32).max(360))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let body = titled(root, &self.frame.title(&self.caption()), s)?;
        let (w, _) = body.dim_in_pixel();
        let w = w as i32;
        let name_style = text(14.0, s);
        let names_w = self.costs.iter().map(|c| text_width(root, &c.arch, &name_style)).max().unwrap_or(0);
        let labels_w = (names_w + px(34.0, s)).min(w * 25 / 100);
        let legend_w = px(200.0, s);
        let panel_w = (w - labels_w - legend_w) / 3;
        let (_, mut rest) = body.split_horizontally(labels_w);
        let mut centres = Vec::new();
        for (k, panel) in self.panels().iter().enumerate() {
            let (area, r) = rest.split_horizontally(panel_w);
            rest = r;
            let c = self.panel(&area, panel, s)?;
            if k == 0 {
                centres = c;
            }
        }
        let rows: Vec<(String, RGBColor, i32)> =
            self.costs.iter().zip(centres).map(|(c, y)| (c.arch.clone(), self.frame.colour(&c.arch), y)).collect();
        row_labels(root, &rows, labels_w - px(6.0, s), s)?;
        let mut entries = vec![
            Entry::new(Mark::Swatch(INK), "message traffic (tx/delivered, bytes/delivered)"),
            Entry::new(
                Mark::Pale(INK),
                "overhead: traffic that carried no message (polls, keep-alives, cover, requests)",
            ),
            Entry::new(Mark::None, "figure: the total, all tx/delivered or all bytes/delivered"),
            Entry::new(Mark::Outline(INK), "wake-ups, whatever the cause (push, poll, keep-alive, retry): not split"),
        ];
        if self.panels().iter().any(|p| p.values.iter().any(Option::is_none)) {
            entries.push(Entry::new(Mark::None, "n/a: undefined (no copy delivered)"));
        }
        legend_column(&rest, &entries, s)
    }
}

impl CostChart<'_> {
    /// Draws one small multiple; returns each row's vertical pixel centre.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &Panel,
        s: f64,
    ) -> Result<Vec<i32>, ChartError> {
        let n = p.values.len().max(1) as f64;
        let max = p.values.iter().flatten().map(|(a, b)| a + b).fold(0.0, f64::max);
        let x_max = if max > 0.0 { max * 1.3 } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .margin_top(px(10.0, s))
            .margin_right(px(14.0, s))
            .margin_left(px(6.0, s))
            .x_label_area_size(px(50.0, s))
            .y_label_area_size(0)
            .build_cartesian_2d(0f64..x_max, 0f64..n)
            .drawn()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(5)
            .x_desc(p.axis.as_str())
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
        let base = area.get_base_pixel();
        let mut centres = Vec::new();
        for (i, (cost, v)) in self.costs.iter().zip(&p.values).enumerate() {
            let row = n - 1.0 - i as f64;
            let (y0, y1) = (row + 0.5 - half, row + 0.5 + half);
            centres.push(chart.backend_coord(&(0.0, row + 0.5)).1);
            let colour = self.frame.colour(&cost.arch);
            let label = match *v {
                None => {
                    let (x, y) = chart.backend_coord(&(0.0, row + 0.5));
                    let style = anchored(12.0, s, HPos::Left, VPos::Center).color(&MUTED);
                    area.draw(&Text::new("n/a", (x + px(5.0, s) - base.0, y - base.1), style)).drawn()?;
                    continue;
                }
                Some((main, _)) if p.outlined => {
                    let fill = Rectangle::new([(0.0, y0), (main, y1)], colour.mix(0.15).filled());
                    let edge = Rectangle::new([(0.0, y0), (main, y1)], colour.stroke_width(px(2.0, s).max(1) as u32));
                    chart.draw_series([fill, edge]).drawn()?;
                    (main, sig3(main))
                }
                Some((main, overhead)) => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new([(0.0, y0), (main, y1)], colour.filled())))
                        .drawn()?;
                    if overhead > 0.0 {
                        let bar = Rectangle::new([(main, y0), (main + overhead, y1)], colour.mix(0.4).filled());
                        chart.draw_series(std::iter::once(bar)).drawn()?;
                    }
                    (main + overhead, sig3(main + overhead))
                }
            };
            let (x, y) = chart.backend_coord(&(label.0, row + 0.5));
            let style = anchored(12.0, s, HPos::Left, VPos::Center);
            area.draw(&Text::new(label.1, (x + px(5.0, s) - base.0, y - base.1), style)).drawn()?;
        }
        Ok(centres)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_is_shared_over_delivered_copies_and_undefined_without_any() {
        let c = Cost {
            arch: "a".into(),
            delivered: 100,
            transmissions_per_delivered: Some(2.0),
            bytes_per_delivered: Some(2000.0),
            all_transmissions_per_delivered: Some(2.5),
            all_bytes_per_delivered: Some(2100.0),
            overhead_transmissions: 50,
            overhead_bytes: 10_000,
            wakeups_per_device_hour: Some(3.0),
        };
        assert_eq!(c.transmissions(), Some((2.0, 0.5)));
        assert_eq!(c.bytes(), Some((2000.0, 100.0)));
        // The named totals decide the overhead part; without them, the counts over delivered copies.
        let older = Cost { all_transmissions_per_delivered: None, all_bytes_per_delivered: None, ..c.clone() };
        assert_eq!(older.transmissions(), Some((2.0, 0.5)));
        assert_eq!(older.bytes(), Some((2000.0, 100.0)));
        let none = Cost {
            delivered: 0,
            transmissions_per_delivered: None,
            bytes_per_delivered: None,
            all_transmissions_per_delivered: None,
            all_bytes_per_delivered: None,
            ..c
        };
        assert_eq!(none.transmissions(), None);
        assert_eq!(none.bytes(), None);
    }

    #[test]
    fn byte_axis_unit_follows_the_largest_value() {
        assert_eq!(byte_unit(950.0).1, "B");
        assert_eq!(byte_unit(2500.0).1, "KB");
        assert_eq!(byte_unit(3e6).1, "MB");
    }
}
