//! The exposure heatmap: one row per adversary, one column per architecture, each cell coloured
//! by a share in [0, 1] (what the adversary learns, e.g. the share of sender-recipient pairs) and
//! labelled with its value. The colour scale is fixed at 0–100% so heatmaps of different runs
//! compare at a glance; undefined cells (`None`) are drawn empty and marked "n/a", never as 0.
//! The data comes from the exposure analysis; the run draws this chart only when it has one.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{INK, MUTED, anchored, percent, px, text, text_width, titled};
use super::{ChartError, Drawn, Figure, Frame};

/// Shares that adversaries learn, per adversary and architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct ExposureMatrix {
    /// What a cell holds, e.g. "share of messages whose sender-recipient pair the adversary learns".
    pub metric: String,
    /// Row labels.
    pub adversaries: Vec<String>,
    /// Column labels (architecture labels, coloured as in every other chart).
    pub archs: Vec<String>,
    /// `values[adversary][arch]`, shares in [0, 1]; `None` where undefined.
    pub values: Vec<Vec<Option<f64>>>,
}

impl ExposureMatrix {
    /// Checks that the matrix is as long and wide as its labels and holds shares.
    pub(super) fn check(&self) -> Result<(), ChartError> {
        if self.values.len() != self.adversaries.len() {
            return Err(ChartError::Shape(format!(
                "exposure matrix has {} rows for {} adversaries",
                self.values.len(),
                self.adversaries.len()
            )));
        }
        for (row, name) in self.values.iter().zip(&self.adversaries) {
            if row.len() != self.archs.len() {
                return Err(ChartError::Shape(format!(
                    "exposure row `{name}` has {} values for {} architectures",
                    row.len(),
                    self.archs.len()
                )));
            }
            if let Some(v) = row.iter().flatten().find(|v| !(0.0..=1.0).contains(*v)) {
                return Err(ChartError::Shape(format!("exposure row `{name}` holds {v}, not a share in [0, 1]")));
            }
        }
        Ok(())
    }
}

/// Viridis (van der Walt & Smith, matplotlib) sampled at nine even stops: perceptually uniform,
/// readable in greyscale and under the common colour-vision deficiencies.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x90, 0x8C),
    (0x27, 0xAD, 0x81),
    (0x5D, 0xC8, 0x63),
    (0xAA, 0xDC, 0x32),
    (0xFD, 0xE7, 0x25),
];

/// The colour of a share, interpolated between the viridis stops.
fn viridis(v: f64) -> RGBColor {
    let t = v.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Cell text colour: white on the dark lower part of the scale, ink on the light upper part.
fn ink_for(v: f64) -> RGBColor {
    if v < 0.6 { WHITE } else { INK }
}

/// The heatmap of an exposure matrix.
pub(super) struct Heatmap<'a> {
    pub frame: &'a Frame,
    pub matrix: &'a ExposureMatrix,
}

/// Height of a heatmap row at scale 1, pixels.
const CELL_H: i32 = 52;
/// Shortest colour bar at scale 1, pixels.
const COLOUR_BAR_MIN_H: i32 = 160;

impl Figure for Heatmap<'_> {
    fn stem(&self) -> &'static str {
        "exposure"
    }

    fn caption(&self) -> String {
        "What each adversary learns".into()
    }

    fn title(&self) -> String {
        self.frame.title(&self.caption())
    }

    fn desc(&self) -> String {
        let m = self.matrix;
        let mut parts = vec![format!(
            "Heatmap, one row per adversary and one column per architecture ({}); each cell: {}, on a fixed \
             0–100% colour scale.",
            m.archs.join(", "),
            m.metric
        )];
        for (adv, row) in m.adversaries.iter().zip(&m.values) {
            let cells: Vec<String> = m
                .archs
                .iter()
                .zip(row)
                .map(|(a, v)| format!("{a} {}", v.map(percent).unwrap_or_else(|| "n/a".into())))
                .collect();
            parts.push(format!("{adv}: {}.", cells.join(", ")));
        }
        parts.join(" ")
    }

    fn size(&self) -> (u32, u32) {
        // Title, metric line and column heads; the grid (at least as tall as the colour bar);
        // a bottom margin.
        let grid = (CELL_H * self.matrix.adversaries.len() as i32).max(COLOUR_BAR_MIN_H);
        (1000, (40 + 80 + grid + 30) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), ChartError> {
        let m = self.matrix;
        let body = titled(root, &self.frame.title(&self.caption()), s)?;
        let (w, _) = body.dim_in_pixel();
        let w = w as i32;
        body.draw(&Text::new(m.metric.clone(), (w / 2, px(4.0, s)), anchored(14.0, s, HPos::Center, VPos::Top)))
            .drawn()?;

        let name_style = text(14.0, s);
        let rows_w = m.adversaries.iter().map(|a| text_width(root, a, &name_style)).max().unwrap_or(0);
        let left = (rows_w + px(20.0, s)).min(w * 30 / 100);
        let bar_w = px(130.0, s);
        let top = px(80.0, s);
        let cols = m.archs.len().max(1) as i32;
        let cell_w = (w - left - bar_w - px(10.0, s)) / cols;
        let cell_h = px(CELL_H as f64, s);

        // Column headers: swatch and name, shrunk to fit the column when long.
        for (j, arch) in m.archs.iter().enumerate() {
            let cx = left + j as i32 * cell_w + cell_w / 2;
            let mut size = 14.0;
            while size > 8.0 && text_width(root, arch, &text(size, s)) + px(20.0, s) > cell_w {
                size -= 1.0;
            }
            let tw = text_width(root, arch, &text(size, s));
            let half = px(6.0, s);
            let x0 = cx - (tw + px(18.0, s)) / 2;
            let y = top - px(16.0, s);
            body.draw(&Rectangle::new([(x0, y - half), (x0 + 2 * half, y + half)], self.frame.colour(arch).filled()))
                .drawn()?;
            body.draw(&Text::new(
                arch.clone(),
                (x0 + 2 * half + px(6.0, s), y),
                anchored(size, s, HPos::Left, VPos::Center),
            ))
            .drawn()?;
        }

        let cell_style = anchored(15.0, s, HPos::Center, VPos::Center);
        for (i, (adv, row)) in m.adversaries.iter().zip(&m.values).enumerate() {
            let y0 = top + i as i32 * cell_h;
            body.draw(&Text::new(
                adv.clone(),
                (left - px(10.0, s), y0 + cell_h / 2),
                anchored(14.0, s, HPos::Right, VPos::Center),
            ))
            .drawn()?;
            for (j, v) in row.iter().enumerate() {
                let x0 = left + j as i32 * cell_w;
                let corners = [(x0 + 1, y0 + 1), (x0 + cell_w - 1, y0 + cell_h - 1)];
                let centre = (x0 + cell_w / 2, y0 + cell_h / 2);
                match *v {
                    Some(v) => {
                        body.draw(&Rectangle::new(corners, viridis(v).filled())).drawn()?;
                        body.draw(&Text::new(percent(v), centre, cell_style.clone().color(&ink_for(v)))).drawn()?;
                    }
                    None => {
                        body.draw(&Rectangle::new(corners, RGBColor(0xF2, 0xF2, 0xF2).filled())).drawn()?;
                        body.draw(&Rectangle::new(corners, MUTED.mix(0.5).stroke_width(1))).drawn()?;
                        body.draw(&Text::new("n/a", centre, cell_style.clone().color(&MUTED))).drawn()?;
                    }
                }
            }
        }

        // Colour bar: 0% at the bottom, 100% at the top, over the height of the grid.
        let rows = m.adversaries.len().max(1) as i32;
        let bx = left + cols * cell_w + px(30.0, s);
        let (b_top, b_bottom) = (top, top + (rows * cell_h).max(px(COLOUR_BAR_MIN_H as f64, s)));
        // Each step's rectangle reaches down to the bottom of the bar and the steps are drawn top
        // first, so every step covers the one above's lower edge: the bar has no gap between
        // cells for a renderer's anti-aliasing to show as a seam (issue 13, item 6).
        let steps = 100;
        for k in (0..steps).rev() {
            let ya = b_bottom - (b_bottom - b_top) * (k + 1) / steps;
            let v = (k as f64 + 0.5) / steps as f64;
            body.draw(&Rectangle::new([(bx, ya), (bx + px(18.0, s), b_bottom)], viridis(v).filled())).drawn()?;
        }
        body.draw(&Rectangle::new([(bx, b_top), (bx + px(18.0, s), b_bottom)], INK.stroke_width(1))).drawn()?;
        for (q, label) in [(0.0, "0%"), (0.25, "25%"), (0.5, "50%"), (0.75, "75%"), (1.0, "100%")] {
            let y = b_bottom - ((b_bottom - b_top) as f64 * q).round() as i32;
            body.draw(&PathElement::new(vec![(bx + px(18.0, s), y), (bx + px(23.0, s), y)], INK.stroke_width(1)))
                .drawn()?;
            body.draw(&Text::new(label, (bx + px(26.0, s), y), anchored(12.0, s, HPos::Left, VPos::Center))).drawn()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> ExposureMatrix {
        ExposureMatrix {
            metric: "share of sender-recipient pairs learned".into(),
            adversaries: vec!["provider".into(), "global passive".into()],
            archs: vec!["a".into(), "b".into()],
            values: vec![vec![Some(1.0), Some(0.0)], vec![Some(0.25), None]],
        }
    }

    #[test]
    fn the_scale_runs_from_the_first_to_the_last_stop() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(0.5), RGBColor(0x21, 0x90, 0x8C));
    }

    #[test]
    fn a_ragged_or_out_of_range_matrix_is_refused() {
        assert!(matrix().check().is_ok());
        let mut m = matrix();
        m.values[1].pop();
        assert!(matches!(m.check(), Err(ChartError::Shape(_))));
        let mut m = matrix();
        m.values.pop();
        assert!(matches!(m.check(), Err(ChartError::Shape(_))));
        let mut m = matrix();
        m.values[0][0] = Some(1.5);
        assert!(matches!(m.check(), Err(ChartError::Shape(_))));
        let mut m = matrix();
        m.values[0][0] = Some(f64::NAN);
        assert!(matches!(m.check(), Err(ChartError::Shape(_))));
    }
}
