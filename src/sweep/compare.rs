//! `netarch compare A B [--out DIR]`: two run folders (or runs with replicates) side by side.
//!
//! For every architecture the two folders share (by label, in A's order) and every numeric
//! figure of its summary (the metric names of `tidy.csv`), the difference B − A and the ratio
//! B / A. When both folders hold `aggregate.csv` (runs with `--replicates`), the figures are the
//! means over replicates and the difference gets Welch's 95% interval,
//! (m_B − m_A) ± t(0.975, ν) · √(s_A²/n_A + s_B²/n_B) with the Welch–Satterthwaite ν (Welch
//! 1947); otherwise the difference of two single runs has no interval. Writes `compare.csv`, the
//! overlaid latency CDFs (`latency-cdf-compare.svg`) and `report.html` through a
//! [`crate::output::Staging`], so a folder netarch did not write is never replaced.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::aggregate::t975;
use super::replicates::TERMINAL_METRICS;
use super::tidy::{cell, flatten};
use super::{SweepError, io};
use crate::output::charts::bands::{BandSeries, render_band_svg};
use crate::output::names::{display_name, format_value};
use crate::output::report::{STYLE, escape};
use crate::output::{FolderKind, Staging};

/// File names of a compare folder.
pub const FILES: [&str; 4] = ["compare.csv", "latency-cdf-compare.svg", "report.html", "latency-cdf-compare.pdf"];

/// A folder `netarch compare` wrote: what it may replace.
pub static COMPARE_FOLDER: FolderKind = FolderKind { noun: "a compare folder", recognise: recognise_compare };

fn recognise_compare(dir: &Path) -> Result<(), String> {
    if !dir.join(FILES[0]).is_file() {
        return Err(crate::output::destination::foreign_folder(dir));
    }
    crate::output::destination::only_entries(dir, |name, is_dir| {
        !is_dir && (FILES.contains(&name) || name.starts_with(".tmp-"))
    })
    .map_err(|what| format!("is a compare folder that also {what}, which netarch did not write"))
}

/// Per metric: (values defined, mean, standard deviation).
type Figures = BTreeMap<String, (u32, Option<f64>, Option<f64>)>;

/// One side of a comparison, read from its folder.
struct Side {
    folder: PathBuf,
    scenario: String,
    seed: u64,
    archs: Vec<String>,
    /// Per architecture, metric → (n, mean, sd).
    figures: Vec<Figures>,
    replicates: bool,
    /// Per architecture, the CDF over delivered copies and the delivered share.
    cdfs: Vec<(Vec<(f64, f64)>, f64)>,
}

fn bad(folder: &Path, message: impl Into<String>) -> SweepError {
    SweepError::Folder { path: folder.to_path_buf(), message: message.into() }
}

fn read_side(folder: &Path) -> Result<Side, SweepError> {
    if !folder.is_dir() {
        let what = if folder.exists() { "is not a folder" } else { "does not exist" };
        return Err(bad(folder, format!("{what}; name a run folder written by `netarch run` (it holds results.json)")));
    }
    let path = folder.join("results.json");
    if !path.is_file() {
        let hint = if folder.join("sweep.json").is_file() {
            "is a sweep folder; compare takes run folders (netarch run, with or without --replicates)"
        } else {
            "is not a run folder (no results.json); name a folder written by `netarch run`"
        };
        return Err(bad(folder, hint));
    }
    let text = io(&path, std::fs::read_to_string(&path))?;
    let corrupt = |message: String| SweepError::Corrupt { path: path.clone(), message };
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| corrupt(format!("not a results file ({e})")))?;
    let archs_json =
        doc.get("architectures").and_then(|a| a.as_array()).ok_or_else(|| corrupt("no `architectures` list".into()))?;
    let archs: Vec<String> =
        archs_json.iter().map(|a| a.get("name").and_then(|n| n.as_str()).unwrap_or("").to_owned()).collect();
    let mut figures: Vec<Figures> = archs_json
        .iter()
        .map(|a| flatten(a).into_iter().map(|(m, v)| (m, (u32::from(v.is_some()), v, None))).collect())
        .collect();
    let cdfs = archs_json
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let delivered = a.get("delivery_ratio").and_then(|v| v.as_f64()).unwrap_or(0.0);
            let points = doc
                .get("latency_cdf")
                .and_then(|c| c.get(i))
                .and_then(|c| c.get("all"))
                .and_then(|c| c.as_array())
                .map(|pts| {
                    pts.iter()
                        .filter_map(|p| Some((p.get("latency_ms")?.as_f64()?, p.get("cumulative")?.as_f64()?)))
                        .collect()
                })
                .unwrap_or_default();
            (points, delivered)
        })
        .collect();
    let agg = folder.join("aggregate.csv");
    let replicates = agg.is_file();
    if replicates {
        let text = io(&agg, std::fs::read_to_string(&agg))?;
        let corrupt = |message: String| SweepError::Corrupt { path: agg.clone(), message };
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let h = r.headers().map_err(|e| corrupt(e.to_string()))?.clone();
        let col = |n: &str| h.iter().position(|x| x == n).ok_or_else(|| corrupt(format!("no `{n}` column")));
        let (ca, cm, cn, cmean, csd) = (col("arch")?, col("metric")?, col("n")?, col("mean")?, col("sd")?);
        for f in figures.iter_mut() {
            f.clear();
        }
        for (line, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| corrupt(e.to_string()))?;
            let at = |what: &str| corrupt(format!("row {}: bad {what}", line + 2));
            let Some(a) = archs.iter().position(|x| x == &rec[ca]) else { return Err(at("arch")) };
            let num = |c: usize| -> Result<Option<f64>, SweepError> {
                if rec[c].is_empty() { Ok(None) } else { rec[c].parse().map(Some).map_err(|_| at("number")) }
            };
            let n: u32 = rec[cn].parse().map_err(|_| at("n"))?;
            figures[a].insert(rec[cm].to_owned(), (n, num(cmean)?, num(csd)?));
        }
    }
    Ok(Side {
        folder: folder.to_path_buf(),
        scenario: doc.get("scenario_name").and_then(|s| s.as_str()).unwrap_or("").to_owned(),
        seed: doc.get("seed").and_then(|s| s.as_u64()).unwrap_or(0),
        archs,
        figures,
        replicates,
        cdfs,
    })
}

/// One row of `compare.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// The architecture's label.
    pub arch: String,
    /// The metric.
    pub metric: String,
    /// A's figure (mean over replicates when it has them).
    pub a: Option<f64>,
    /// B's.
    pub b: Option<f64>,
    /// B − A.
    pub difference: Option<f64>,
    /// Welch's 95% interval of the difference, when both sides have replicates.
    pub interval: Option<(f64, f64)>,
}

/// Welch's 95% interval of m_b − m_a from (n, mean, sd) on each side; `None` when a side has
/// fewer than two values.
pub fn welch(a: (u32, f64, f64), b: (u32, f64, f64)) -> Option<(f64, f64)> {
    let ((na, ma, sa), (nb, mb, sb)) = (a, b);
    if na < 2 || nb < 2 {
        return None;
    }
    let (va, vb) = (sa * sa / na as f64, sb * sb / nb as f64);
    let d = mb - ma;
    if va + vb == 0.0 {
        return Some((d, d));
    }
    let nu = (va + vb).powi(2) / (va * va / (na - 1) as f64 + vb * vb / (nb - 1) as f64);
    // t at the whole degrees of freedom below ν: slightly wider, never narrower.
    let half = t975(nu.floor().max(1.0) as u32) * (va + vb).sqrt();
    Some((d - half, d + half))
}

fn differences(a: &Side, b: &Side) -> Vec<Difference> {
    let mut out = Vec::new();
    for (ia, arch) in a.archs.iter().enumerate() {
        let Some(ib) = b.archs.iter().position(|x| x == arch) else { continue };
        let metrics: std::collections::BTreeSet<&String> = a.figures[ia].keys().chain(b.figures[ib].keys()).collect();
        for m in metrics {
            let fa = a.figures[ia].get(m).copied();
            let fb = b.figures[ib].get(m).copied();
            let (va, vb) = (fa.and_then(|f| f.1), fb.and_then(|f| f.1));
            let interval = match (fa, fb) {
                (Some((na, Some(ma), Some(sa))), Some((nb, Some(mb), Some(sb)))) => welch((na, ma, sa), (nb, mb, sb)),
                _ => None,
            };
            out.push(Difference {
                arch: arch.clone(),
                metric: m.clone(),
                a: va,
                b: vb,
                difference: va.zip(vb).map(|(x, y)| y - x),
                interval,
            });
        }
    }
    out
}

fn compare_csv(rows: &[Difference]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["arch", "metric", "a", "b", "difference", "ratio", "ci95_low", "ci95_high"])
        .expect("writing to memory cannot fail");
    for r in rows {
        let ratio = r.a.zip(r.b).and_then(|(a, b)| (a != 0.0).then(|| b / a));
        w.write_record([
            r.arch.clone(),
            r.metric.clone(),
            cell(r.a),
            cell(r.b),
            cell(r.difference),
            cell(ratio),
            cell(r.interval.map(|i| i.0)),
            cell(r.interval.map(|i| i.1)),
        ])
        .expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 fields is UTF-8")
}

/// A difference as the tables write the metric, signed: "+1.2 s"; a share's in percentage
/// points ("−3.0 pp"), since a difference of shares is not a share of anything.
fn signed(metric: &str, d: f64) -> String {
    let sign = if d < 0.0 { "−" } else { "+" };
    let text = format_value(metric, d.abs());
    match text.strip_suffix('%') {
        Some(points) if crate::output::names::kind(metric) == crate::output::names::MetricKind::Share => {
            format!("{sign}{points} pp")
        }
        _ => format!("{sign}{text}"),
    }
}

/// The main figures' differences as text: per architecture, "name: A → B (difference [interval])".
fn summary_text(a: &Side, b: &Side, rows: &[Difference]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for arch in a.archs.iter().filter(|x| b.archs.contains(x)) {
        let mut items = Vec::new();
        for m in TERMINAL_METRICS {
            let Some(r) = rows.iter().find(|r| &r.arch == arch && r.metric == m) else { continue };
            let f = |v: Option<f64>| v.map(|x| format_value(m, x)).unwrap_or_else(|| "n/a".into());
            let mut item = format!("{}: {} → {}", display_name(m), f(r.a), f(r.b));
            if let Some(d) = r.difference {
                item.push_str(&format!(" ({}", signed(m, d)));
                if let Some((lo, hi)) = r.interval {
                    item.push_str(&format!(" [{}, {}]", signed(m, lo), signed(m, hi)));
                }
                item.push(')');
            }
            items.push(item);
        }
        out.push((arch.clone(), items));
    }
    out
}

/// What a comparison wrote.
pub struct Compared {
    /// The folder written.
    pub folder: PathBuf,
    /// The terminal's summary.
    pub text: String,
}

/// Compares run folders `a` and `b` into `out`.
pub fn compare(a: &Path, b: &Path, out: &Path) -> Result<Compared, SweepError> {
    let (sa, sb) = (read_side(a)?, read_side(b)?);
    let shared: Vec<&String> = sa.archs.iter().filter(|x| sb.archs.contains(x)).collect();
    if shared.is_empty() {
        return Err(bad(
            b,
            format!(
                "shares no architecture with {} ({} against {}); compare runs of the same architectures",
                a.display(),
                sb.archs.join(", "),
                sa.archs.join(", ")
            ),
        ));
    }
    if sa.archs != sb.archs {
        return Err(SweepError::Folder {
            path: b.to_path_buf(),
            message: format!(
                "different architectures ({} against {}); rerun one with --arch to keep the same ones",
                sa.archs.join(", "),
                sb.archs.join(", ")
            ),
        });
    }
    let staging = Staging::new(out, &COMPARE_FOLDER)?;
    let rows = differences(&sa, &sb);
    let summary = summary_text(&sa, &sb, &rows);
    let label = |s: &Side, tag: &str| format!("{tag} = {} ({}, seed {})", s.folder.display(), s.scenario, s.seed);
    let series: Vec<BandSeries> = [(&sa, "A"), (&sb, "B")]
        .iter()
        .flat_map(|(s, tag)| {
            s.archs.iter().zip(&s.cdfs).map(move |(arch, (pts, delivered))| BandSeries {
                arch: format!("{tag}: {arch}"),
                replicates: vec![pts.iter().map(|(x, y)| (*x, y * delivered)).collect()],
            })
        })
        .collect();
    let svg = render_band_svg("Latency CDF, A against B (share of all copies)", &series, 1);
    let mut text = format!("{}\n{}\n", label(&sa, "A"), label(&sb, "B"));
    if sa.replicates && sb.replicates {
        text.push_str("means over replicates; B − A with Welch's 95% interval\n");
    }
    for (arch, items) in &summary {
        let _ = writeln!(text, "{arch}");
        for i in items {
            let _ = writeln!(text, "  {i}");
        }
    }
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Compare — netarch report</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>A against B</h1>\n<p>{}<br>{}</p>\n",
        escape(&label(&sa, "A")),
        escape(&label(&sb, "B"))
    );
    for (arch, items) in &summary {
        let _ = writeln!(h, "<h2>{}</h2>\n<ul>", escape(arch));
        for i in items {
            let _ = writeln!(h, "<li>{}</li>", escape(i));
        }
        h.push_str("</ul>\n");
    }
    let _ = writeln!(
        h,
        "<figure>\n{}\n</figure>\n<p class=\"note\">Every figure's difference is in <code>compare.csv</code>{}.</p>\n\
         </main>\n</body>\n</html>",
        svg.trim(),
        if sa.replicates && sb.replicates { ", with Welch's 95% interval" } else { "" }
    );
    staging.write(FILES[0], compare_csv(&rows).as_bytes())?;
    staging.write(FILES[1], svg.as_bytes())?;
    staging.write(FILES[2], h.as_bytes())?;
    staging.write(FILES[3], &crate::output::charts::pdf_of(&svg)?)?;
    let folder = staging.commit()?;
    Ok(Compared { folder, text: crate::text::printable(&text).into_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_hand_computation() {
        // n = 5 each, sd 1 and 2: ν = (0.2 + 0.8)² / (0.04/4 + 0.64/4) = 5.88, t(5) = 2.571.
        let (lo, hi) = welch((5, 10.0, 1.0), (5, 12.0, 2.0)).unwrap();
        assert!((hi - lo - 2.0 * 2.5706 * 1.0).abs() < 1e-3 && ((lo + hi) / 2.0 - 2.0).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(welch((1, 1.0, 0.0), (5, 1.0, 1.0)), None);
    }

    #[test]
    fn differences_of_shares_are_in_points() {
        assert_eq!(signed("delivery_ratio", -0.03), "−3.0 pp");
        assert_eq!(signed("latency.p50_ms", 1500.0), "+1.5 s");
    }
}
