//! The run's HTML report: one self-contained page with the scenario's title, its headline
//! figures, the summary tables (delivery, latency, cost), the exposure table and the reading
//! generated from the run (the terminal's), the charts (inline SVG), then the scenario's
//! explanation — its figures filled in from this run — and the claims it measures, the world it
//! ran on and the exact command and seed that reproduce it.
//!
//! Self-contained means it makes no network request: no external stylesheet, script, font or
//! image — the style sheet is inline and the page has no script at all. Every piece of text that
//! comes from a scenario file (title, explanation, architecture labels) or the command line is
//! HTML-escaped, so a scenario cannot inject markup. Undefined figures (`None`) show as "n/a",
//! never as 0. This module draws nothing itself: charts arrive as SVG text from
//! [`crate::output::charts`].
//!
//! The page is rendered from the run's `results.json` read back ([`RunFile`]), never from the
//! run in memory, so `netarch plot` rebuilds a byte-identical page from a run folder.

use std::fmt::Write;

use crate::metrics::recorder::LossReason;
use crate::metrics::summary::{ArchSummary, LatencyStats};
use crate::output::charts::{arch_colour_hex, bytes, duration_ms, percent, sig3};
use crate::output::json::{RunFile, results_json_with_command};
use crate::run::RunResults;
use crate::scenario::Scenario;
use crate::scenario::claims::claim;

/// Escapes text for HTML element content and quoted attribute values; control characters (which
/// HTML forbids) become visible `\u{..}` escapes.
pub fn escape(text: &str) -> String {
    let text = crate::text::printable(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Escaped prose: paragraphs at blank lines, hard-wrapped lines joined, `backticked` spans set
/// as code (the explain texts quote keys that way).
fn prose(text: &str) -> String {
    let mut out = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let joined = para.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        out.push_str("<p>");
        out.push_str(&code_spans(&escape(&joined)));
        out.push_str("</p>\n");
    }
    out
}

/// Escaped sources as a list. Scenario files put one source per line but also hard-wrap long
/// ones, so a line continues the previous item unless the previous line ended a sentence.
fn source_list(text: &str) -> String {
    let mut items: Vec<String> = Vec::new();
    let mut open = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match items.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(line);
            }
            _ => items.push(line.to_owned()),
        }
        open = !line.ends_with('.');
    }
    let mut out = String::from("<ul>\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", code_spans(&escape(&item)));
    }
    out.push_str("</ul>\n");
    out
}

/// Turns `a` pairs of backticks in already escaped text into code elements; an unpaired
/// backtick stays as it is.
fn code_spans(escaped: &str) -> String {
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escaped.to_owned();
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{p}</code>");
        } else {
            out.push_str(p);
        }
    }
    out
}

/// A figure cell: the value, or "n/a" when undefined.
fn cell(v: Option<String>) -> String {
    match v {
        Some(v) => format!("<td>{}</td>", escape(&v)),
        None => "<td class=\"na\" title=\"undefined for this run\">n/a</td>".into(),
    }
}

/// The stylesheet of every netarch report (runs and sweeps), inlined so the page is one file.
pub(crate) const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif; margin: 0; color: #222; background: #fff; line-height: 1.5; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-bottom: .2rem; }
.meta { color: #555; margin: 0; }
code, pre { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: .92em; }
pre { background: #f5f5f5; padding: .7rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .25rem .6rem; text-align: right; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
td { white-space: nowrap; }
table.wrap td { white-space: normal; }
td.na { color: #888; }
.scroll { overflow-x: auto; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em; vertical-align: -.05em; }
figure { margin: 1.5rem 0; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
figure svg { width: 100%; height: auto; border: 1px solid #eee; }
.note { color: #555; font-size: .9rem; }
";

/// The report page of a run in memory, as its run folder holds it: `command` is the command line
/// that reproduces it. Renders from the run's results document, as [`render`] does.
pub fn render_report(scenario: &Scenario, results: &RunResults, charts: &[(String, String)], command: &str) -> String {
    let file = RunFile::parse(&results_json_with_command(scenario, results, command))
        .expect("a results document this version wrote reads back");
    render(&file, charts)
}

/// The report page of a run's results file, with its charts as (caption, SVG text) in order.
pub fn render(file: &RunFile, charts: &[(String, String)]) -> String {
    let raw = &file.scenario;
    let heading = if raw.title.trim().is_empty() { raw.name.as_str() } else { raw.title.as_str() };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — netarch report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(heading)
    );
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", escape(heading));
    let _ = writeln!(
        h,
        "<p class=\"meta\">scenario <code>{}</code> · seed {} · {} users · netarch {}</p>\n</header>",
        escape(&raw.name),
        file.seed,
        world_figure(file, "users").map_or("n/a".into(), |u| u.to_string()),
        escape(&file.netarch_version)
    );

    headline(&mut h, file);
    summary(&mut h, file);
    exposure(&mut h, file);
    if !file.reading.trim().is_empty() {
        // The reading the terminal prints, generated from this run's numbers when it ran.
        h.push_str("<section id=\"reading\">\n<h2>Reading of this run</h2>\n");
        for line in file.reading.lines().filter(|l| !l.trim().is_empty()) {
            let _ = writeln!(h, "<p>{}</p>", code_spans(&escape(line)));
        }
        h.push_str("</section>\n");
    }

    if !charts.is_empty() {
        h.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
        for (title, svg) in charts {
            let _ = writeln!(h, "<figure>\n<figcaption>{}</figcaption>\n{}\n</figure>", escape(title), svg.trim());
        }
        h.push_str("<p class=\"note\">Each chart is also in the run folder as SVG and PNG.</p>\n</section>\n");
    }

    // The figures and charts first; the long explanation after them.
    explanation(&mut h, file);
    world(&mut h, file);
    reproduce(&mut h, file);
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

fn explanation(h: &mut String, file: &RunFile) {
    let raw = &file.scenario;
    let e = &raw.explain;
    // The figures `shows` quotes are this run's: its placeholders are filled from the results.
    let shows = file.figures.fill(&e.shows);
    let sections = [
        ("What this scenario models", &e.what, false),
        ("What the run shows", &shows, false),
        ("What to try next", &e.next, false),
        ("Where the numbers come from", &e.sources, true),
    ];
    if sections.iter().all(|(_, t, _)| t.trim().is_empty()) && raw.claims.is_empty() {
        return;
    }
    h.push_str("<section id=\"explain\">\n");
    for (title, text, list) in sections {
        if text.trim().is_empty() {
            continue;
        }
        let _ = writeln!(h, "<h2>{title}</h2>");
        h.push_str(&if list { source_list(text) } else { prose(text) });
        if title == "What the run shows" && crate::template::placeholders(&e.shows).is_ok_and(|p| !p.is_empty()) {
            let _ = writeln!(
                h,
                "<p class=\"note\">The figures above are this run's (seed {}), filled in from its results; \
                 figures said to come from a sweep or another scenario are not.</p>",
                file.seed
            );
        }
    }
    if !raw.claims.is_empty() {
        h.push_str("<h2>Claims this scenario measures</h2>\n<ul>\n");
        for id in &raw.claims {
            let text = claim(id).unwrap_or("(not in the claim list)");
            let _ = writeln!(h, "<li><strong>{}</strong>: {}</li>", escape(id), escape(text));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");
}

/// The colour swatch of architecture `i`, as in every chart.
pub(crate) fn swatch(i: usize) -> String {
    format!("<span class=\"swatch\" style=\"background:{}\"></span>", arch_colour_hex(i))
}

/// The scenario's headline figures: one row per figure, one column per architecture.
fn headline(h: &mut String, file: &RunFile) {
    let names = &file.scenario.explain.headline;
    if names.is_empty() {
        return;
    }
    h.push_str("<section id=\"headline\">\n<h2>Headline figures</h2>\n<div class=\"scroll\"><table class=\"wrap\">\n<thead><tr><th>figure</th>");
    for (i, a) in file.figures.archs.iter().enumerate() {
        let _ = write!(h, "<th>{}{}</th>", swatch(i), escape(a));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in file.figures.headline(names) {
        let _ = write!(h, "<tr><td title=\"{}\">{}</td>", escape(&row.metric), escape(&row.name));
        for (c, v) in row.cells.iter().zip(&row.values) {
            h.push_str(&cell(v.map(|_| c.clone())));
        }
        h.push_str("</tr>\n");
    }
    h.push_str(
        "</tbody></table></div>\n<p class=\"note\">The figures this scenario's claim rests on \
         (<code>explain.headline</code>); hover a name for its metric, as in tidy.csv and results.json.</p>\n</section>\n",
    );
}

/// The exposure table: one row per adversary, one column per architecture; each cell the share
/// of messages whose pair (P), sender (S) and recipient (R) it learned, and for a correlating
/// adversary the median anonymity left (H), as the terminal writes them.
fn exposure(h: &mut String, file: &RunFile) {
    if file.adversaries.is_empty() {
        return;
    }
    h.push_str("<section id=\"exposure\">\n<h2>Exposure</h2>\n<div class=\"scroll\"><table class=\"wrap\">\n<thead><tr><th>adversary</th>");
    for (i, a) in file.figures.archs.iter().enumerate() {
        let _ = write!(h, "<th>{}{}</th>", swatch(i), escape(a));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for adv in &file.adversaries {
        let key = crate::metrics::leaves::label_key(adv);
        let _ = write!(h, "<tr><td>{}</td>", escape(adv));
        for i in 0..file.figures.archs.len() {
            let get = |m: &str| match file.figures.of_arch(i, &format!("exposure.{key}.{m}")) {
                crate::output::figures::Lookup::Value(v) => Some(v),
                _ => None,
            };
            let mut parts: Vec<String> = [("P", "pair.learned"), ("S", "sender.learned"), ("R", "recipient.learned")]
                .iter()
                .filter_map(|(l, m)| get(m).map(|v| format!("{l} {:.0}", 100.0 * v)))
                .collect();
            if let Some(b) = get("anonymity.median_entropy_bits") {
                parts.push(format!("H {b:.1}b"));
            }
            h.push_str(&cell((!parts.is_empty()).then(|| parts.join(" · "))));
        }
        h.push_str("</tr>\n");
    }
    h.push_str(
        "</tbody></table></div>\n<p class=\"note\">% of messages whose sender-recipient pair (P), sender (S) and \
         recipient (R) each adversary learned; H: median anonymity left against what it read and timed, bits; \
         n/a: nothing to watch. exposure.csv has every metric.</p>\n</section>\n",
    );
}

fn arch_cell(i: usize, a: &ArchSummary) -> String {
    format!("<td>{}{} <span class=\"note\">({})</span></td>", swatch(i), escape(&a.name), escape(&a.kind))
}

fn ms(v: Option<f64>) -> Option<String> {
    v.map(duration_ms)
}

fn summary(h: &mut String, file: &RunFile) {
    let deadline = duration_ms(file.deadline_s() * 1e3);
    // Loss reasons that occurred in any architecture get a column each; a table of seven
    // all-zero columns would hide the one that matters.
    let reasons: Vec<LossReason> = LossReason::ALL
        .into_iter()
        .filter(|r| file.archs.iter().any(|a| a.lost_by_reason.get(r).copied().unwrap_or(0) > 0))
        .collect();

    // Three narrow tables rather than one wide one, so the page fits 1280 px without scrolling
    // sideways; the cost names are those of the terminal and docs/outputs.md.
    h.push_str(
        "<section id=\"summary\">\n<h2>Summary</h2>\n<h3>Delivery</h3>\n<div class=\"scroll\"><table>\n<thead><tr>",
    );
    let _ = write!(
        h,
        "<th>architecture</th><th>copies</th><th>delivered</th><th>in deadline (≤ {})</th><th>lost</th>",
        escape(&deadline)
    );
    for r in &reasons {
        let _ = write!(h, "<th>lost: {}</th>", escape(&r.as_str().replace('_', " ")));
    }
    h.push_str("<th>in flight</th></tr></thead>\n<tbody>\n");
    for (i, a) in file.archs.iter().enumerate() {
        h.push_str("<tr>");
        h.push_str(&arch_cell(i, a));
        h.push_str(&cell(Some(a.copies_created.to_string())));
        h.push_str(&cell(a.delivery_ratio.map(percent)));
        h.push_str(&cell(a.delivered_in_deadline_ratio.map(percent)));
        h.push_str(&cell(Some(a.lost.to_string())));
        for r in &reasons {
            h.push_str(&cell(Some(a.lost_by_reason.get(r).copied().unwrap_or(0).to_string())));
        }
        h.push_str(&cell(Some(a.in_flight.to_string())));
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");

    h.push_str(
        "<h3>Latency</h3>\n<div class=\"scroll\"><table>\n<thead><tr><th>architecture</th><th>p50</th><th>p95</th>\
         <th>p99</th><th>p50 online@send</th><th>p50 offline@send</th></tr></thead>\n<tbody>\n",
    );
    for (i, a) in file.archs.iter().enumerate() {
        h.push_str("<tr>");
        h.push_str(&arch_cell(i, a));
        h.push_str(&cell(ms(a.latency.p50_ms)));
        h.push_str(&cell(ms(a.latency.p95_ms)));
        h.push_str(&cell(ms(a.latency.p99_ms)));
        h.push_str(&cell(ms(a.latency_online_at_send.p50_ms)));
        h.push_str(&cell(ms(a.latency_offline_at_send.p50_ms)));
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");

    h.push_str(
        "<h3>Cost</h3>\n<div class=\"scroll\"><table>\n<thead><tr><th>architecture</th><th>tx/delivered</th>\
         <th>bytes/delivered</th><th>all bytes/delivered</th><th>overhead transmissions</th>\
         <th>wake-ups/device·h</th></tr></thead>\n<tbody>\n",
    );
    for (i, a) in file.archs.iter().enumerate() {
        h.push_str("<tr>");
        h.push_str(&arch_cell(i, a));
        h.push_str(&cell(a.transmissions_per_delivered.map(sig3)));
        h.push_str(&cell(a.bytes_per_delivered.map(bytes)));
        h.push_str(&cell(a.all_bytes_per_delivered.map(bytes)));
        h.push_str(&cell(Some(a.overhead_transmissions.to_string())));
        h.push_str(&cell(a.wakeups_per_device_hour.map(sig3)));
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">Shares are of recipient copies created after the warm-up; latencies are \
         send to delivery over delivered copies. tx/delivered and bytes/delivered count the hops that \
         carried messages; all bytes/delivered adds the overhead, traffic that carried none (polls, \
         keep-alives, cover traffic, requests, lookups); overhead transmissions counts that traffic. n/a: \
         undefined for this run (e.g. a percentile of no deliveries).</p>"
    );

    h.push_str("<h3>Latency by the recipient's state at send</h3>\n<div class=\"scroll\"><table>\n<thead><tr>");
    h.push_str(
        "<th>architecture</th><th>online: copies</th><th>p50</th><th>p95</th><th>p99</th>\
         <th>offline: copies</th><th>p50</th><th>p95</th><th>p99</th>\
         <th>time stored (mean)</th><th>back online → delivered (p50)</th></tr></thead>\n<tbody>\n",
    );
    let split = |h: &mut String, l: &LatencyStats| {
        h.push_str(&cell(Some(l.count.to_string())));
        h.push_str(&cell(ms(l.p50_ms)));
        h.push_str(&cell(ms(l.p95_ms)));
        h.push_str(&cell(ms(l.p99_ms)));
    };
    for (i, a) in file.archs.iter().enumerate() {
        h.push_str("<tr>");
        h.push_str(&arch_cell(i, a));
        split(h, &a.latency_online_at_send);
        split(h, &a.latency_offline_at_send);
        h.push_str(&cell(ms(a.time_stored.mean_ms)));
        h.push_str(&cell(ms(a.online_to_delivery.p50_ms)));
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}

/// A number of the world's figures, `None` when the file lacks it.
fn world_figure(file: &RunFile, key: &str) -> Option<f64> {
    file.world.get(key).and_then(|v| v.as_f64())
}

fn world(h: &mut String, file: &RunFile) {
    h.push_str("<section id=\"world\">\n<h2>The world every architecture ran on</h2>\n<table>\n<tbody>\n");
    let count = |key| world_figure(file, key).map(|n| n.to_string());
    let share = |key| world_figure(file, key).map(percent);
    let rows = [
        ("users", count("users")),
        ("contact edges", count("contact_edges")),
        ("rooms", count("rooms")),
        ("users always online", share("always_online_share")),
        ("long-run share of time others are online", share("online_fraction")),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><td>{k}</td>{}</tr>", cell(v));
    }
    // `users_per_region` is a list of [region, users] pairs.
    let regions = file.world.get("users_per_region").and_then(|r| r.as_array()).map(|r| {
        r.iter()
            .filter_map(|p| Some(format!("{} {}", p.get(0)?.as_str()?, p.get(1)?.as_u64()?)))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let _ = writeln!(h, "<tr><td>users per region</td>{}</tr>", cell(regions));
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn reproduce(h: &mut String, file: &RunFile) {
    // A results file without a command line (not written by `netarch run`): the scenario by name.
    let command = match &file.command {
        Some(c) => c.clone(),
        None => format!("netarch run {} --seed {}", file.scenario_name, file.seed),
    };
    let _ = writeln!(
        h,
        "<section id=\"reproduce\">\n<h2>Reproduce</h2>\n<pre><code>{}</code></pre>\n\
         <p>Seed {}. The same command with netarch {} gives byte-identical results.</p>",
        escape(&command),
        file.seed,
        escape(&file.netarch_version)
    );
    // The fully resolved scenario (defaults filled in, overrides applied), so the run can be
    // repeated from this page alone.
    if let Ok(text) = toml::to_string(&file.scenario) {
        let _ = writeln!(
            h,
            "<details>\n<summary>The resolved scenario (defaults filled in, overrides applied)</summary>\n\
             <pre><code>{}</code></pre>\n</details>",
            escape(&text)
        );
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::charts::tests::tiny;
    use crate::output::charts::{ChartSet, render_svgs};

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(escape("a & \"b\""), "a &amp; &quot;b&quot;");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn prose_keeps_paragraphs_and_code_spans() {
        let p = prose("Turn `sealed_sender`\noff.\n\nThen <b>look</b>.");
        assert_eq!(p, "<p>Turn <code>sealed_sender</code> off.</p>\n<p>Then &lt;b&gt;look&lt;/b&gt;.</p>\n");
        assert_eq!(code_spans("an ` unpaired"), "an ` unpaired");
    }

    #[test]
    fn sources_are_one_item_per_source_even_when_wrapped() {
        let list =
            source_list("retention 30d: sample.yml.\nA long source that\nwraps. \n\nservice time: <assumption>.");
        assert_eq!(
            list,
            "<ul>\n<li>retention 30d: sample.yml.</li>\n<li>A long source that wraps.</li>\n\
             <li>service time: &lt;assumption&gt;.</li>\n</ul>\n"
        );
    }

    #[test]
    fn the_report_escapes_scenario_text_and_holds_every_chart() {
        let (mut s, r) = tiny();
        s.raw.title = "<script>alert(1)</script> & more".into();
        s.raw.explain.what = "What <i>happens</i>".into();
        let set = ChartSet::from_run(&s, &r);
        let charts: Vec<(String, String)> =
            render_svgs(&set).expect("charts draw").into_iter().map(|c| (c.title, c.svg)).collect();
        let html = render_report(&s, &r, &charts, "netarch run tiny.toml --seed 7 <x>");

        assert!(!html.contains("<script"), "no script element, injected or not");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert!(html.contains("What &lt;i&gt;happens&lt;/i&gt;"));
        assert!(html.contains("netarch run tiny.toml --seed 7 &lt;x&gt;"));
        assert!(html.contains("Seed 7."));
        for (title, svg) in &charts {
            assert!(html.contains(&format!("<figcaption>{}</figcaption>", escape(title))));
            assert!(html.contains(svg.trim()), "chart `{title}` is inline");
        }
        assert_eq!(html.matches("<svg").count(), charts.len());
        for a in &r.archs {
            assert!(html.contains(&escape(&a.name)), "architecture `{}` is in the tables", a.name);
        }
        // An architecture label with markup is escaped in the tables (it comes from the file).
        assert!(html.contains("a &lt;b&gt; c"));
    }

    #[test]
    fn the_report_makes_no_network_request() {
        let (mut s, r) = tiny();
        s.raw.explain.what = "Plain text.".into();
        s.raw.explain.shows = "Plain text.".into();
        s.raw.explain.next = "Plain text.".into();
        s.raw.explain.sources = "Plain text.".into();
        let set = ChartSet::from_run(&s, &r);
        let charts: Vec<(String, String)> =
            render_svgs(&set).expect("charts draw").into_iter().map(|c| (c.title, c.svg)).collect();
        let html = render_report(&s, &r, &charts, "netarch run tiny.toml");
        for needle in ["<link", "<script", "<img", "<iframe", "<object", "<embed", "@import", "url(", "src=", "href="] {
            assert!(!html.contains(needle), "the report contains `{needle}`");
        }
    }

    #[test]
    fn undefined_figures_show_as_na_not_zero() {
        let (s, mut r) = tiny();
        let a = &mut r.archs[0];
        a.delivery_ratio = None;
        a.delivered_in_deadline_ratio = None;
        a.latency = LatencyStats::default();
        a.transmissions_per_delivered = None;
        a.bytes_per_delivered = None;
        a.all_bytes_per_delivered = None;
        a.wakeups_per_device_hour = None;
        let html = render_report(&s, &r, &[], "netarch run tiny.toml");
        // The first row of each summary table is the first architecture's.
        let first_rows: String = html
            .split("<tbody>")
            .skip(1)
            .take(3)
            .map(|body| body[..body.find("</tr>").expect("a first row")].to_owned())
            .collect();
        assert_eq!(
            first_rows.matches(">n/a<").count(),
            9,
            "delivered, in deadline, p50/p95/p99, tx, bytes, all bytes, wake-ups: {first_rows}"
        );
    }
}
