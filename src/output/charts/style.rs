//! What every chart shares: the embedded font, the architecture palette, text styles, a legend
//! column, number formats, and the mapping of plotters' errors to [`ChartError`].
//!
//! Sizes here are in logical pixels at scale 1 (the SVG); the PNG is drawn at scale 2 with the
//! same code, every size multiplied by the scale, so both files have the same layout.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartError;

/// DejaVu Sans 2.37, embedded so that text renders without system fonts (licence beside it).
pub(super) static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The family name charts ask for; the embedded font is registered under it.
pub(super) const FAMILY: &str = "sans-serif";

/// Registers the embedded font with plotters once per process. plotters' `ab_glyph` backend
/// knows no fonts until one is registered, and then never looks at the system.
pub(super) fn fonts() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

/// The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable under the
/// common colour-vision deficiencies. Black comes last because axes and text are black; yellow
/// late because it is faint on white. Architecture `i` of a scenario gets colour `i mod 8`.
pub(super) const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x00, 0x00), // black
];

/// Dark grey for text that is not data.
pub(super) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Mid grey for reference lines and "n/a" marks.
pub(super) const MUTED: RGBColor = RGBColor(0x77, 0x77, 0x77);

/// A text style of `px` logical pixels at scale `s`.
pub(super) fn text(px: f64, s: f64) -> TextStyle<'static> {
    (FAMILY, px * s).into_font().color(&INK)
}

/// `text` anchored at the given horizontal and vertical position.
pub(super) fn anchored(px: f64, s: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    text(px, s).pos(Pos::new(h, v))
}

/// Pixels at scale `s`, rounded.
pub(super) fn px(v: f64, s: f64) -> i32 {
    (v * s).round() as i32
}

/// Maps plotters' drawing errors (a backend or font failure) to [`ChartError::Draw`].
pub(super) trait Drawn<T> {
    /// The result with plotters' error turned into ours.
    fn drawn(self) -> Result<T, ChartError>;
}

impl<T, E: std::error::Error + Send + Sync> Drawn<T> for Result<T, DrawingAreaErrorKind<E>> {
    fn drawn(self) -> Result<T, ChartError> {
        self.map_err(|e| ChartError::Draw(e.to_string()))
    }
}

/// Fills the background and draws the title; returns the area below it.
pub(super) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    s: f64,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    root.fill(&WHITE).drawn()?;
    let (head, body) = root.split_vertically(px(40.0, s));
    let (w, h) = head.dim_in_pixel();
    head.draw(&Text::new(
        title.to_owned(),
        (w as i32 / 2, h as i32 / 2 + px(4.0, s)),
        anchored(19.0, s, HPos::Center, VPos::Center),
    ))
    .drawn()?;
    Ok(body)
}

/// The width in pixels of `label` drawn in `style` (an estimate from the font's advances).
pub(super) fn text_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, label: &str, style: &TextStyle) -> i32 {
    area.estimate_text_size(label, style).map(|(w, _)| w as i32).unwrap_or(label.chars().count() as i32 * 8)
}

/// How one legend entry is marked.
#[derive(Clone, Copy, Debug)]
pub(super) enum Mark {
    /// A filled square.
    Swatch(RGBColor),
    /// A square at reduced opacity (the "overhead" part of a cost bar).
    Pale(RGBColor),
    /// A short solid line.
    Line(RGBColor),
    /// A short dashed line.
    Dashed(RGBColor),
    /// An outlined square (a bar not split into message traffic and overhead).
    Outline(RGBColor),
    /// A short solid line with a marker shape on it (a latency curve).
    Marked(RGBColor, Shape),
    /// No mark: a heading or a note.
    None,
}

/// One legend entry.
pub(super) struct Entry {
    /// Its mark.
    pub mark: Mark,
    /// Its text.
    pub label: String,
}

impl Entry {
    /// An entry with a mark.
    pub fn new(mark: Mark, label: impl Into<String>) -> Entry {
        Entry { mark, label: label.into() }
    }
}

/// Draws `entries` as a column from the top of `area`, wrapping long labels.
pub(super) fn legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    s: f64,
) -> Result<(), ChartError> {
    let style = anchored(13.0, s, HPos::Left, VPos::Center);
    let (w, _) = area.dim_in_pixel();
    let mark_w = px(26.0, s);
    let gap = px(6.0, s);
    let line_h = px(18.0, s);
    let mut y = px(20.0, s);
    for e in entries {
        let x_text = if matches!(e.mark, Mark::None) { 0 } else { mark_w + gap };
        let max_w = w as i32 - x_text - px(4.0, s);
        let lines = wrap(area, &e.label, &style, max_w);
        let yc = y;
        match e.mark {
            Mark::Swatch(c) | Mark::Pale(c) => {
                let fill = if matches!(e.mark, Mark::Pale(_)) { c.mix(0.4).filled() } else { c.filled() };
                let half = px(6.0, s);
                area.draw(&Rectangle::new([(mark_w / 2 - half, yc - half), (mark_w / 2 + half, yc + half)], fill))
                    .drawn()?;
            }
            Mark::Outline(c) => {
                let half = px(6.0, s);
                let corners = [(mark_w / 2 - half, yc - half), (mark_w / 2 + half, yc + half)];
                area.draw(&Rectangle::new(corners, c.mix(0.15).filled())).drawn()?;
                area.draw(&Rectangle::new(corners, c.stroke_width(px(2.0, s).max(1) as u32))).drawn()?;
            }
            Mark::Line(c) => {
                area.draw(&PathElement::new(vec![(0, yc), (mark_w, yc)], c.stroke_width(px(2.5, s) as u32))).drawn()?;
            }
            Mark::Marked(c, shape) => {
                area.draw(&PathElement::new(vec![(0, yc), (mark_w, yc)], c.stroke_width(px(2.5, s) as u32))).drawn()?;
                marker(area, (mark_w / 2, yc), shape, c, s)?;
            }
            Mark::Dashed(c) => {
                let dash = px(6.0, s);
                let mut x = 0;
                while x < mark_w {
                    let x1 = (x + dash).min(mark_w);
                    area.draw(&PathElement::new(vec![(x, yc), (x1, yc)], c.stroke_width(px(2.5, s) as u32))).drawn()?;
                    x += dash + px(4.0, s);
                }
            }
            Mark::None => {}
        }
        for line in lines {
            area.draw(&Text::new(line, (x_text, y), style.clone())).drawn()?;
            y += line_h;
        }
        y += px(6.0, s);
    }
    Ok(())
}

/// A marker shape; architecture `i` gets `Shape::of(i)`, so curves of the same colour family or
/// curves that coincide are told apart by shape too (and in greyscale print).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle, point up.
    Triangle,
    /// A filled diamond.
    Diamond,
    /// A filled triangle, point down.
    Down,
    /// An upright cross.
    Plus,
}

impl Shape {
    /// The shape of the architecture at position `i`.
    pub fn of(i: usize) -> Shape {
        const ALL: [Shape; 6] =
            [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Diamond, Shape::Down, Shape::Plus];
        ALL[i % ALL.len()]
    }
}

/// Draws a marker of `shape` centred on `(x, y)` of `area`, outlined in white so that it stands
/// out on a line of its own colour.
pub(super) fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    shape: Shape,
    colour: RGBColor,
    s: f64,
) -> Result<(), ChartError> {
    let r = px(5.0, s);
    let outline = WHITE.stroke_width(px(1.0, s).max(1) as u32);
    let poly = |pts: Vec<(i32, i32)>| -> Result<(), ChartError> {
        area.draw(&Polygon::new(pts.clone(), colour.filled())).drawn()?;
        let mut closed = pts;
        closed.push(closed[0]);
        area.draw(&PathElement::new(closed, outline)).drawn()
    };
    match shape {
        Shape::Circle => {
            area.draw(&Circle::new((x, y), r, colour.filled())).drawn()?;
            area.draw(&Circle::new((x, y), r, outline)).drawn()
        }
        Shape::Square => {
            let h = r * 4 / 5;
            poly(vec![(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h)])
        }
        Shape::Triangle => poly(vec![(x, y - r), (x + r, y + r * 4 / 5), (x - r, y + r * 4 / 5)]),
        Shape::Down => poly(vec![(x, y + r), (x + r, y - r * 4 / 5), (x - r, y - r * 4 / 5)]),
        Shape::Diamond => poly(vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)]),
        Shape::Plus => {
            let t = px(1.5, s).max(1);
            poly(vec![
                (x - t, y - r),
                (x + t, y - r),
                (x + t, y - t),
                (x + r, y - t),
                (x + r, y + t),
                (x + t, y + t),
                (x + t, y + r),
                (x - t, y + r),
                (x - t, y + t),
                (x - r, y + t),
                (x - r, y - t),
                (x - t, y - t),
            ])
        }
    }
}

/// Splits `label` into lines no wider than `max_w` pixels, at spaces.
fn wrap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, label: &str, style: &TextStyle, max_w: i32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in label.split(' ') {
        let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if !line.is_empty() && text_width(area, &candidate, style) > max_w {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

/// Draws architecture names right-aligned against `x_right`, each with its colour swatch, at the
/// given vertical pixel centres. Used by the bar charts, whose bars are rows.
pub(super) fn row_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[(String, RGBColor, i32)],
    x_right: i32,
    s: f64,
) -> Result<(), ChartError> {
    let style = anchored(14.0, s, HPos::Right, VPos::Center);
    let half = px(6.0, s);
    for (name, colour, y) in rows {
        let x_sw = x_right - half;
        root.draw(&Rectangle::new([(x_sw - half, y - half), (x_sw + half, y + half)], colour.filled())).drawn()?;
        root.draw(&Text::new(name.clone(), (x_sw - half - px(6.0, s), *y), style.clone())).drawn()?;
    }
    Ok(())
}

/// Half the thickness of a bar, in row units, for rows `row_px` pixels tall: 30% of the row,
/// but never thicker than 30 logical pixels, so one or two architectures do not get slabs.
pub(super) fn bar_half(row_px: i32, s: f64) -> f64 {
    (15.0 * s / row_px.max(1) as f64).min(0.3)
}

/// A number with three significant digits and no exponent, e.g. 0.0123, 4.56, 789, 12345.
pub fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = v.abs().log10().floor() as i32;
    let decimals = (2 - digits).max(0) as usize;
    format!("{v:.decimals$}")
}

/// An axis tick: [`sig3`] without trailing zeros after the decimal point (0.5, 2, 1000).
pub(super) fn tick_number(v: f64) -> String {
    let s = sig3(v);
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
}

/// A share in [0, 1] as a percentage with enough decimals to tell 99.9% from 100%.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 || p == 100.0 {
        format!("{p:.0}%")
    } else if !(0.1..=99.9).contains(&p) {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// A duration in milliseconds in the largest unit that keeps it readable, three significant
/// digits, e.g. "45.2 ms", "1.5 min", "5 s".
pub fn duration_ms(ms: f64) -> String {
    const UNITS: [(f64, &str); 5] =
        [(86_400_000.0, "d"), (3_600_000.0, "h"), (60_000.0, "min"), (1000.0, "s"), (1.0, "ms")];
    for (size, unit) in UNITS {
        if ms >= size {
            return format!("{} {unit}", tick_number(ms / size));
        }
    }
    format!("{} ms", tick_number(ms))
}

/// A byte count in decimal units (as scenario sizes are: 1KB = 1000 B), e.g. "1.23 KB".
pub fn bytes(b: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e9, "GB"), (1e6, "MB"), (1e3, "KB"), (1.0, "B")];
    for (size, unit) in UNITS {
        if b >= size {
            return format!("{} {unit}", tick_number(b / size));
        }
    }
    format!("{} B", tick_number(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(sig3(0.012345), "0.0123");
        assert_eq!(sig3(4.567), "4.57");
        assert_eq!(sig3(789.4), "789");
        assert_eq!(sig3(12345.0), "12345");
        assert_eq!(tick_number(1000.0), "1000");
        assert_eq!(tick_number(2.50), "2.5");
        assert_eq!(tick_number(0.0), "0");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.9995), "99.95%");
        assert_eq!(percent(0.5), "50.0%");
        assert_eq!(percent(0.0004), "0.04%");
        assert_eq!(duration_ms(45.23), "45.2 ms");
        assert_eq!(duration_ms(90_000.0), "1.5 min");
        assert_eq!(duration_ms(5_000.0), "5 s");
        assert_eq!(duration_ms(0.5), "0.5 ms");
        assert_eq!(bytes(1234.0), "1.23 KB");
        assert_eq!(bytes(12.0), "12 B");
    }

    #[test]
    fn the_embedded_font_registers() {
        assert!(fonts().is_ok());
        assert!(fonts().is_ok(), "registering twice is harmless");
    }
}
