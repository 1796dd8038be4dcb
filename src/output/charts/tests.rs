//! Tests of the charts on a real (tiny) run: every chart is written as a valid SVG naming every
//! architecture and a PNG of twice its size; undefined values are left out, not drawn as 0.

use std::path::Path;
use std::sync::OnceLock;

use super::*;
use crate::metrics::recorder::LossReason;
use crate::run::{entries, run};
use crate::scenario::{Source, parse};

/// A tiny scenario with three architectures that end differently: a plain provider, one that
/// keeps messages only two minutes (retention losses), and isolated self-hosted servers
/// (unreachable pairs). One label carries markup, to check that it is escaped.
const TINY: &str = r#"
name = "tiny"
title = "Tiny"
seed = 7
duration = "20min"
cooldown = "20min"
deadline = "5s"
[world]
users = 60
[world.availability]
online = { dist = "exponential", mean = "10min" }
offline = { dist = "exponential", mean = "10min" }
always_online = 0.0
[world.workload]
rate = "20/h"
[[arch]]
preset = "signal"
[[arch]]
preset = "signal"
name = "a <b> c"
retention = "2min"
[[arch]]
preset = "signal"
name = "self-hosted"
deployments = 6
"#;

/// The tiny scenario and its results (run once per test binary).
pub(crate) fn tiny() -> (Scenario, RunResults) {
    static RUN: OnceLock<(Scenario, RunResults)> = OnceLock::new();
    RUN.get_or_init(|| {
        let src = Source { file: "tiny.toml".into(), text: TINY.into(), dir: None };
        let s = match parse(&src, &[]) {
            Ok(s) => s,
            Err(e) => panic!("the tiny scenario is valid: {e:?}"),
        };
        let r = run(&s, entries(&s), &|_, _| {}).expect("the tiny run succeeds");
        (s, r)
    })
    .clone()
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], &PNG_SIGNATURE, "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "IHDR comes first");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// `(width, height)` from the root `<svg width=".." height="..">` element.
fn svg_size(svg: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let key = format!("{name}=\"");
        let at = svg.find(&key).unwrap_or_else(|| panic!("svg has {name}")) + key.len();
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn exposure_matrix(archs: &[String]) -> ExposureMatrix {
    ExposureMatrix {
        metric: "share of messages whose sender-recipient pair the adversary learns".into(),
        adversaries: vec!["provider".into(), "global passive observer".into(), "ISP".into()],
        archs: archs.to_vec(),
        values: vec![
            vec![Some(1.0), Some(0.5), Some(0.125)],
            vec![Some(1.0), Some(1.0), None],
            vec![Some(0.0), Some(0.25), Some(0.75)],
        ],
    }
}

#[test]
fn the_tiny_run_has_what_the_charts_need() {
    let (_, r) = tiny();
    assert_eq!(r.archs.len(), 3);
    assert!(r.archs.iter().all(|a| a.delivered > 0), "every architecture delivers something");
    let lost =
        |name: &str, reason: LossReason| r.archs.iter().find(|a| a.name == name).unwrap().lost_by_reason[&reason];
    assert!(lost("a <b> c", LossReason::RetentionExpired) > 0, "two-minute retention loses copies");
    assert!(lost("self-hosted", LossReason::Unreachable) > 0, "isolated servers cannot reach each other");
}

#[test]
fn every_chart_is_written_as_svg_and_png() {
    let (s, r) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let paths = write_charts(dir.path(), &s, &r).expect("charts are written");
    assert_eq!(paths.len(), 9, "latency, delivery and cost, each SVG, PNG and PDF; no exposure data, no heatmap");
    for pair in paths.chunks(3) {
        let svg = std::fs::read_to_string(&pair[0]).unwrap();
        assert!(pair[0].extension() == Some("svg".as_ref()) && pair[1].extension() == Some("png".as_ref()));
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{} is one whole SVG",
            pair[0].display()
        );
        assert!(svg.contains("scenario tiny, seed 7"), "the title names scenario and seed");
        for a in &r.archs {
            assert!(svg.contains(&crate::output::report::escape(&a.name)), "{} names {}", pair[0].display(), a.name);
        }
        assert!(!svg.contains("a <b> c"), "labels are escaped in SVG");
        let png = std::fs::read(&pair[1]).unwrap();
        let (w, h) = svg_size(&svg);
        assert_eq!(
            png_size(&png),
            (w * PNG_SCALE, h * PNG_SCALE),
            "{} is the SVG at twice the size",
            pair[1].display()
        );
        assert!(pair[2].extension() == Some("pdf".as_ref()));
        let pdf = std::fs::read(&pair[2]).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{} is a PDF", pair[2].display());
        let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"DejaVuSans") && has(b"/FontFile2"), "{} embeds the chart font", pair[2].display());
    }
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 9, "no temporary file is left behind: {names:?}");
}

#[test]
fn each_architecture_keeps_its_colour_in_every_chart() {
    let (s, r) = tiny();
    let set = ChartSet::from_run(&s, &r);
    let charts = render_svgs(&set).unwrap();
    for (i, name) in set.frame.archs.iter().enumerate() {
        assert_eq!(set.frame.colour(name), OKABE_ITO[i]);
        assert_eq!(arch_colour_hex(i), hex(OKABE_ITO[i]), "the report's swatches match");
        for c in &charts {
            assert!(c.svg.contains(&hex(OKABE_ITO[i])), "{} uses {}'s colour", c.stem, name);
        }
    }
}

#[test]
fn charts_are_deterministic() {
    let (s, r) = tiny();
    let set = ChartSet::from_run(&s, &r);
    let a: Vec<String> = render_svgs(&set).unwrap().into_iter().map(|c| c.svg).collect();
    let b: Vec<String> = render_svgs(&set).unwrap().into_iter().map(|c| c.svg).collect();
    assert_eq!(a, b);
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_set(d1.path(), &set).unwrap();
    write_set(d2.path(), &set).unwrap();
    let read = |d: &Path| std::fs::read(d.join("delivery.png")).unwrap();
    assert_eq!(read(d1.path()), read(d2.path()), "PNG bytes too");
}

#[test]
fn undefined_values_are_left_out_not_drawn_as_zero() {
    let (s, r) = tiny();
    let mut set = ChartSet::from_run(&s, &r);
    // The second architecture delivered nothing: no latency, no per-delivered cost, no outcome.
    set.latency[1].all.clear();
    set.latency[1].online_at_send.clear();
    set.latency[1].offline_at_send.clear();
    set.latency[1].delivered = 0;
    set.latency[1].delivered_offline_at_send = 0;
    set.costs[1] = Cost {
        delivered: 0,
        transmissions_per_delivered: None,
        bytes_per_delivered: None,
        all_transmissions_per_delivered: None,
        all_bytes_per_delivered: None,
        wakeups_per_device_hour: None,
        ..set.costs[1].clone()
    };
    set.outcomes[1] =
        Outcome { copies_created: 0, delivered: 0, delivered_in_deadline_ratio: None, ..set.outcomes[1].clone() };
    let colour = hex(OKABE_ITO[1]);
    let charts = render_svgs(&set).unwrap();
    let svg = |stem: &str| charts.iter().find(|c| c.stem == stem).unwrap().svg.clone();

    let latency = svg("latency-cdf");
    assert_eq!(latency.matches(&format!("stroke=\"{colour}\"")).count(), 1, "only its legend line, no curve");
    assert!(latency.contains("a &lt;b&gt; c (no deliveries)"));

    let cost = svg("cost");
    assert_eq!(cost.matches(&format!("fill=\"{colour}\"")).count(), 1, "only its row swatch, no bar");
    assert_eq!(cost.matches(">\nn/a\n<").count(), 3, "one n/a per panel");
    let other = hex(OKABE_ITO[0]);
    assert!(cost.matches(&format!("fill=\"{other}\"")).count() >= 4, "the others' bars are drawn");

    let delivery = svg("delivery");
    let panels = 1 + usize::from(delivery.contains("zoomed to 0–"));
    assert_eq!(delivery.matches("n/a: no copies created").count(), panels, "marked in every panel");

    // CDF points that cannot sit on a log axis are skipped, not clamped.
    set.latency[0].all.insert(0, CdfPoint { latency_ms: 0.0, cumulative: 0.0 });
    set.latency[0].all.push(CdfPoint { latency_ms: f64::NAN, cumulative: 1.0 });
    let again = render_svgs(&set).unwrap();
    assert!(!again[0].svg.contains("NaN"));
}

#[test]
fn the_exposure_heatmap_is_drawn_only_with_data() {
    let (s, r) = tiny();
    let mut set = ChartSet::from_run(&s, &r);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(write_set(dir.path(), &set).unwrap().len(), 3);
    assert!(!dir.path().join("exposure.svg").exists());

    set.exposure = Some(exposure_matrix(&set.frame.archs));
    let written = write_set(dir.path(), &set).unwrap();
    assert_eq!(written.len(), 4);
    let heat = &written[3];
    assert_eq!(heat.chart.stem, "exposure");
    for v in ["100%", "50.0%", "12.5%", "0%", "25.0%", "75.0%", "n/a", "global passive observer", "a &lt;b&gt; c"] {
        assert!(heat.chart.svg.contains(v), "heatmap shows `{v}`");
    }
    let png = std::fs::read(&heat.png_path).unwrap();
    assert_eq!(&png[..8], &PNG_SIGNATURE);

    set.exposure.as_mut().unwrap().values[0].pop();
    assert!(matches!(write_set(dir.path(), &set), Err(ChartError::Shape(_))));
}

#[test]
fn a_run_with_no_deliveries_still_draws() {
    let (s, r) = tiny();
    let mut set = ChartSet::from_run(&s, &r);
    for c in &mut set.latency {
        c.all.clear();
        c.online_at_send.clear();
        c.offline_at_send.clear();
    }
    let charts = render_svgs(&set).unwrap();
    assert!(charts[0].svg.contains("no copy was delivered"));
}

#[test]
fn every_svg_has_a_title_and_a_description_from_its_data() {
    // Issue 13, item 6: `<title>` and `<desc>` in every SVG, the description generated from the run.
    let (s, r) = tiny();
    let mut set = ChartSet::from_run(&s, &r);
    set.exposure = Some(exposure_matrix(&set.frame.archs));
    for c in render_svgs(&set).unwrap() {
        let doc = roxmltree::Document::parse(&c.svg).unwrap_or_else(|e| panic!("{} parses: {e}", c.stem));
        let root = doc.root_element();
        let child = |name: &str| {
            root.children()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
                .unwrap_or_else(|| panic!("{} has a <{name}>", c.stem))
                .to_owned()
        };
        assert_eq!(child("title"), set.frame.title(&c.title), "{}", c.stem);
        let desc = child("desc");
        for a in &r.archs {
            assert!(desc.contains(&a.name), "{}'s description names {}: {desc}", c.stem, a.name);
        }
    }
    // The latency description quotes this run's delivered shares.
    let latency = &render_svgs(&set).unwrap()[0].svg;
    for a in &r.archs {
        let share = percent(a.delivered as f64 / a.copies_created as f64);
        assert!(latency.contains(&format!("{}: {share} delivered", escape_text(&a.name))), "{} {share}", a.name);
    }
}

fn escape_text(t: &str) -> String {
    crate::output::report::escape(t)
}

#[test]
fn the_latency_curves_end_at_each_architectures_delivered_share() {
    // Issue 13, item 3: the CDF is over all copies created, as the outcome chart is.
    let (s, r) = tiny();
    let set = ChartSet::from_run(&s, &r);
    for (c, a) in set.latency.iter().zip(&r.archs) {
        assert_eq!((c.copies_created, c.delivered), (a.copies_created, a.delivered));
        let last = c.all.last().expect("delivered copies have a CDF");
        assert!((last.cumulative - 1.0).abs() < 1e-12, "the stored CDF is over delivered copies");
        // Where the curve ends: every copy created but those lost or still in flight.
        let end = c.delivered_share().unwrap();
        let expected = 1.0 - (a.lost + a.in_flight) as f64 / a.copies_created as f64;
        assert!((end - expected).abs() < 1e-12, "{}: {end} vs {expected}", a.name);
    }
    let lossy = set.latency.iter().find(|c| c.arch == "a <b> c").unwrap();
    assert!(lossy.delivered_share().unwrap() < 1.0, "two-minute retention loses copies, so its curve ends lower");
}
