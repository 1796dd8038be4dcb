//! The latency CDF of a run with replicates: per architecture, the median over replicates of the
//! share of copies delivered within each latency, and a shaded band from the lowest to the
//! highest replicate (with N replicates the band holds every replicate's curve). Written as a
//! plain SVG (title, description, a log latency axis ticked in human units), kept apart from the
//! single-run charts so their styling can change independently.

use std::fmt::Write;

use super::arch_colour_hex;
use crate::output::report::escape;
use crate::results::summary::CdfPoint;

/// One architecture's curves: one CDF per replicate, each over all copies created (the
/// cumulative share of *all* copies, so a curve ends at that replicate's delivered share).
pub struct BandSeries {
    /// The architecture's label.
    pub arch: String,
    /// Per replicate: (latency in ms, share of all copies delivered within it), increasing.
    pub replicates: Vec<Vec<(f64, f64)>>,
}

impl BandSeries {
    /// From per-replicate CDFs over delivered copies and each replicate's delivered share.
    pub fn from_cdfs(arch: &str, cdfs: &[(&[CdfPoint], f64)]) -> BandSeries {
        BandSeries {
            arch: arch.to_owned(),
            replicates: cdfs
                .iter()
                .map(|(c, delivered)| c.iter().map(|p| (p.latency_ms, p.cumulative * delivered)).collect())
                .collect(),
        }
    }
}

/// A step CDF's value at `x`: the last point at or below it (0 before the first).
fn at(curve: &[(f64, f64)], x: f64) -> f64 {
    match curve.partition_point(|p| p.0 <= x) {
        0 => 0.0,
        i => curve[i - 1].1,
    }
}

/// Ticks of a log latency axis in human units.
const TICKS: [(f64, &str); 11] = [
    (1.0, "1 ms"),
    (10.0, "10 ms"),
    (100.0, "100 ms"),
    (1e3, "1 s"),
    (1e4, "10 s"),
    (6e4, "1 min"),
    (6e5, "10 min"),
    (3.6e6, "1 h"),
    (3.6e7, "10 h"),
    (8.64e7, "1 d"),
    (8.64e8, "10 d"),
];

/// The band chart's SVG; `title` names the scenario and seed, `replicates` their number.
pub fn render_band_svg(title: &str, series: &[BandSeries], replicates: usize) -> String {
    let (w, h, left, right, top, bottom) = (820.0, 480.0, 70.0, 200.0, 40.0, 60.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let xs: Vec<f64> =
        series.iter().flat_map(|s| s.replicates.iter().flatten().map(|p| p.0)).filter(|x| *x > 0.0).collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min).max(0.1);
    let hi = xs.iter().copied().fold(0.0f64, f64::max).max(lo * 10.0);
    let (l0, l1) = (lo.log10().floor(), hi.log10().ceil());
    let x_of = |ms: f64| left + (ms.max(lo).log10() - l0) / (l1 - l0) * pw;
    let y_of = |share: f64| top + (1.0 - share) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<title>{}</title>\n<desc>Latency CDF over all copies \
         created: per architecture the median over {replicates} replicates (line) and the range from the lowest to \
         the highest replicate (band); a curve ends at its delivered share.</desc>\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n",
        escape(title)
    );
    let _ = writeln!(s, "<text x=\"{left}\" y=\"22\" font-size=\"14\">{}</text>", escape(title));
    for k in 0..=4 {
        let share = k as f64 / 4.0;
        let y = y_of(share);
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" \
             text-anchor=\"end\">{:.0}%</text>",
            left + pw,
            left - 6.0,
            y + 4.0,
            share * 100.0
        );
    }
    for (ms, label) in TICKS {
        let l = ms.log10();
        if l < l0 - 1e-9 || l > l1 + 1e-9 {
            continue;
        }
        let x = x_of(ms);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"{}\" \
             text-anchor=\"middle\">{label}</text>",
            top + ph,
            top + ph + 16.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">latency (log scale)</text>\n<text transform=\"translate(18,{}) \
         rotate(-90)\" text-anchor=\"middle\">share of copies delivered within</text>",
        left + pw / 2.0,
        h - 16.0,
        top + ph / 2.0
    );
    // A grid of 200 log-spaced latencies on which every replicate's step curve is read.
    let grid: Vec<f64> = (0..=200).map(|i| 10f64.powf(l0 + (l1 - l0) * i as f64 / 200.0)).collect();
    for (i, series) in series.iter().enumerate() {
        let colour = arch_colour_hex(i);
        let mut lows = Vec::with_capacity(grid.len());
        let mut highs = Vec::with_capacity(grid.len());
        let mut mids = Vec::with_capacity(grid.len());
        for &x in &grid {
            let mut v: Vec<f64> = series.replicates.iter().map(|c| at(c, x)).collect();
            v.sort_by(f64::total_cmp);
            if v.is_empty() {
                continue;
            }
            lows.push((x, v[0]));
            highs.push((x, v[v.len() - 1]));
            let m = v.len() / 2;
            mids.push((x, if v.len() % 2 == 1 { v[m] } else { 0.5 * (v[m - 1] + v[m]) }));
        }
        let pts =
            |p: &[(f64, f64)]| p.iter().map(|(x, y)| format!("{:.1},{:.1}", x_of(*x), y_of(*y))).collect::<Vec<_>>();
        let mut band = pts(&highs);
        band.extend(pts(&lows).into_iter().rev());
        let _ = writeln!(
            s,
            "<polygon points=\"{}\" fill=\"{colour}\" fill-opacity=\"0.2\" stroke=\"none\"/>\n<polyline points=\"{}\" \
             fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            band.join(" "),
            pts(&mids).join(" ")
        );
        let ly = top + 14.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"10\" fill=\"{colour}\" fill-opacity=\"0.5\"/><text x=\"{}\" \
             y=\"{}\">{}</text>",
            left + pw + 14.0,
            ly - 9.0,
            left + pw + 36.0,
            ly,
            escape(&series.arch)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_holds_every_replicate_and_the_svg_is_titled() {
        let a = vec![(10.0, 0.2), (100.0, 0.5), (1000.0, 0.9)];
        let b = vec![(20.0, 0.1), (200.0, 0.6), (2000.0, 0.8)];
        assert_eq!(at(&a, 5.0), 0.0);
        assert_eq!(at(&a, 150.0), 0.5);
        let svg = render_band_svg("t <x>", &[BandSeries { arch: "s & b".into(), replicates: vec![a, b] }], 2);
        assert!(svg.contains("<title>t &lt;x&gt;</title>") && svg.contains("<desc>") && svg.contains("s &amp; b"));
        assert!(roxmltree::Document::parse(&svg).is_ok(), "well-formed SVG");
        assert!(svg.contains("1 s") && svg.contains("<polygon"));
    }
}
