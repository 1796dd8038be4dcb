//! The sweep's HTML report (`report.html`) and its terminal summary.
//!
//! Like a run's report, the page is self-contained (inline style sheet and SVG charts, no script,
//! no external request) and every piece of text from a scenario file or the command line is
//! escaped. It says what was varied and how often each point ran, shows each charted metric as a
//! chart and as a table of means with their 95% confidence intervals, and gives the commands that
//! reproduce the sweep and any one of its runs.

use std::collections::HashMap;
use std::fmt::Write;

use super::aggregate::{Aggregate, Stats};
use super::plan::{Plan, RunId, Shard};
use crate::output::names::{display_name, format_value};
use crate::output::report::{STYLE, escape, swatch};

fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", escape(&p.lines().map(str::trim).collect::<Vec<_>>().join(" "))))
        .collect()
}

/// "mean [low, high]", "mean" with one replicate, or "n/a"; each number written as the tables
/// write that metric ("5.4 s", "96.4%", "11.6 KB").
pub fn estimate(metric: &str, s: Option<&Stats>) -> Option<String> {
    let s = s?;
    let mean = s.mean?;
    let f = |v: f64| format_value(metric, v);
    Some(match (s.ci_low, s.ci_high) {
        (Some(lo), Some(hi)) => format!("{} [{}, {}]", f(mean), f(lo), f(hi)),
        _ => f(mean),
    })
}

/// The sweep's report page.
pub fn render(plan: &Plan, aggs: &[Aggregate], charts: &[(String, String)], runs: u64) -> String {
    let heading = if plan.title.trim().is_empty() { plan.scenario_name.clone() } else { plan.title.clone() };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Sweep: {} — netarch report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&heading)
    );
    let _ = writeln!(h, "<header>\n<h1>Sweep: {}</h1>", escape(&heading));
    let _ = writeln!(
        h,
        "<p class=\"meta\">scenario <code>{}</code> · base seed {} · {} points × {} replicates = {} runs · netarch {}</p>\n</header>",
        escape(&plan.scenario_name),
        plan.base_seed,
        plan.points(),
        plan.replicates,
        runs,
        escape(&plan.netarch_version)
    );

    h.push_str("<section id=\"plan\">\n<h2>What was varied</h2>\n<table>\n<thead><tr><th>key</th><th>values</th></tr></thead>\n<tbody>\n");
    for v in &plan.vary {
        let values: Vec<String> = v.values.iter().map(|x| x.to_string()).collect();
        let _ = writeln!(h, "<tr><td><code>{}</code></td><td>{}</td></tr>", escape(&v.key), escape(&values.join(", ")));
    }
    h.push_str("</tbody>\n</table>\n");
    if !plan.sets.is_empty() {
        let _ = writeln!(h, "<p>Every point also sets: <code>{}</code>.</p>", escape(&plan.sets.join(" ")));
    }
    h.push_str("<p>Architectures: ");
    let archs: Vec<String> = plan
        .archs
        .iter()
        .zip(&plan.kinds)
        .enumerate()
        .map(|(i, (a, k))| format!("{}{} <span class=\"note\">({})</span>", swatch(i), escape(a), escape(k)))
        .collect();
    h.push_str(&archs.join(", "));
    let _ = writeln!(
        h,
        ".</p>\n<p class=\"note\">Each point ran {} times, each replicate with its own seed derived from the base seed, \
         the point and the replicate; every architecture of a run ran on the same world (a paired comparison). \
         Charts and tables show the mean over replicates and its 95% confidence interval: Wilson's for shares, \
         the t interval of the logs for quantities that cannot be negative (docs/sweeps.md).</p>\n</section>",
        plan.replicates
    );

    let e = &plan.explain;
    if !e.what.trim().is_empty() || !e.shows.trim().is_empty() {
        h.push_str("<section id=\"explain\">\n<h2>The scenario</h2>\n");
        h.push_str(&paragraphs(&e.what));
        h.push_str(&paragraphs(&e.shows));
        h.push_str("</section>\n");
    }

    if !charts.is_empty() {
        h.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
        for (title, svg) in charts {
            let _ = writeln!(h, "<figure>\n<figcaption>{}</figcaption>\n{}\n</figure>", escape(title), svg.trim());
        }
        h.push_str("<p class=\"note\">Each chart is also in <code>charts/</code> as SVG and PNG.</p>\n</section>\n");
    }

    tables(&mut h, plan, aggs);

    let _ = writeln!(
        h,
        "<section id=\"data\">\n<h2>Data</h2>\n<p><code>tidy.csv</code> has one row per point × replicate × \
         architecture × metric (columns point, replicate, seed, one per varied key, arch, kind, metric, value); \
         <code>aggregate.csv</code> has one row per point × architecture × metric (n, mean, sd, ci95_low, \
         ci95_high). An empty value is undefined for that run (e.g. a percentile of no deliveries), never 0.</p>\n\
         <pre><code>import pandas as pd\ntidy = pd.read_csv(\"tidy.csv\")\n\
         tidy[tidy.metric == \"delivery_ratio\"].groupby([\"{}\", \"arch\"]).value.describe()</code></pre>\n</section>",
        escape(&plan.vary[0].key)
    );
    let _ = writeln!(
        h,
        "<section id=\"reproduce\">\n<h2>Reproduce</h2>\n<pre><code>{}</code></pre>\n\
         <p>One run (point 0, replicate 0) on its own:</p>\n<pre><code>{}</code></pre>\n\
         <p>The same commands with netarch {} give byte-identical tables, whatever the number of jobs or shards.</p>\n</section>",
        escape(&plan.command()),
        escape(&plan.run_command(RunId { point: 0, replicate: 0 })),
        escape(&plan.netarch_version)
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// One table per charted metric: a row per point, a column per architecture.
fn tables(h: &mut String, plan: &Plan, aggs: &[Aggregate]) {
    let by_key: HashMap<(u64, usize, &str), &Stats> =
        aggs.iter().map(|a| ((a.point, a.arch, a.metric.as_str()), &a.stats)).collect();
    let metrics: Vec<&String> = plan.metrics.iter().filter(|m| aggs.iter().any(|a| &a.metric == *m)).collect();
    if metrics.is_empty() {
        return;
    }
    h.push_str("<section id=\"tables\">\n<h2>Means and 95% confidence intervals</h2>\n");
    for metric in metrics {
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"note\">(<code>{}</code>)</span></h3>\n<div class=\"scroll\"><table>\n<thead><tr>",
            escape(&display_name(metric)),
            escape(metric)
        );
        for v in &plan.vary {
            let _ = write!(h, "<th>{}</th>", escape(&v.key));
        }
        for (i, a) in plan.archs.iter().enumerate() {
            let _ = write!(h, "<th>{}{}</th>", swatch(i), escape(a));
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        for point in 0..plan.points() {
            h.push_str("<tr>");
            for x in plan.values_at(point) {
                let _ = write!(h, "<td>{}</td>", escape(&x.to_string()));
            }
            for a in 0..plan.archs.len() {
                match estimate(metric, by_key.get(&(point, a, metric.as_str())).copied()) {
                    Some(v) => {
                        let _ = write!(h, "<td>{}</td>", escape(&v));
                    }
                    None => h.push_str("<td class=\"na\">n/a</td>"),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table></div>\n");
    }
    h.push_str("</section>\n");
}

/// A plain-text table of the first charted metric, for the terminal.
pub fn terminal_summary(plan: &Plan, aggs: &[Aggregate]) -> String {
    let Some(metric) = plan.metrics.iter().find(|m| aggs.iter().any(|a| &a.metric == *m)) else {
        return String::new();
    };
    let by_key: HashMap<(u64, usize, &str), &Stats> =
        aggs.iter().map(|a| ((a.point, a.arch, a.metric.as_str()), &a.stats)).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header: Vec<String> = plan.vary.iter().map(|v| v.key.clone()).collect();
    header.extend(plan.archs.iter().cloned());
    rows.push(header);
    for point in 0..plan.points() {
        let mut row: Vec<String> = plan.values_at(point).iter().map(|x| x.to_string()).collect();
        for a in 0..plan.archs.len() {
            row.push(
                estimate(metric, by_key.get(&(point, a, metric.as_str())).copied()).unwrap_or_else(|| "n/a".into()),
            );
        }
        rows.push(row);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = format!(
        "{} ({metric}): mean [95% confidence interval] over {} replicates\n",
        display_name(metric),
        plan.replicates
    );
    for r in &rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    // Keys and labels are user text (sweep.json may be edited): no raw control character.
    crate::text::printable(&out).into_owned()
}

/// The plan in words, for `netarch sweep --dry-run`.
pub fn plan_text(plan: &Plan, shard: Option<Shard>) -> String {
    let mut out = format!("sweep of {} (base seed {})\n", plan.scenario_name, plan.base_seed);
    out.push_str(&format!("  architectures: {}\n", plan.archs.join(", ")));
    for v in &plan.vary {
        let values: Vec<String> = v.values.iter().map(|x| x.to_string()).collect();
        out.push_str(&format!("  vary {}: {}\n", v.key, values.join(", ")));
    }
    if !plan.sets.is_empty() {
        out.push_str(&format!("  every point sets: {}\n", plan.sets.join(" ")));
    }
    out.push_str(&format!("  {} points x {} replicates = {} runs", plan.points(), plan.replicates, plan.runs()));
    if let Some(s) = shard.filter(|s| s.count > 1) {
        let mine = (0..plan.runs()).filter(|&k| s.owns(k)).count();
        out.push_str(&format!(" (shard {}/{}: {mine} of them)", s.index, s.count));
    }
    out.push_str(&format!("\n  charted metrics: {}\n", plan.metrics.join(", ")));
    out.push_str("every point's scenario checks out. The first run on its own:\n");
    out.push_str(&format!("  {}\n", plan.run_command(RunId { point: 0, replicate: 0 })));
    crate::text::printable(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_show_intervals_or_na() {
        let s = Stats { n: 3, mean: Some(0.5), sd: Some(0.1), ci_low: Some(0.25), ci_high: Some(0.75), method: None };
        assert_eq!(estimate("delivery_ratio", Some(&s)).as_deref(), Some("50.0% [25.0%, 75.0%]"));
        assert_eq!(estimate("x", Some(&s)).as_deref(), Some("0.500 [0.250, 0.750]"));
        let one = Stats { n: 1, mean: Some(5400.0), sd: None, ci_low: None, ci_high: None, method: None };
        assert_eq!(estimate("latency.p50_ms", Some(&one)).as_deref(), Some("5.4 s"));
        assert_eq!(estimate("x", None), None);
        let none = Stats { n: 0, mean: None, sd: None, ci_low: None, ci_high: None, method: None };
        assert_eq!(estimate("x", Some(&none)), None);
    }

    #[test]
    fn paragraphs_escape() {
        assert_eq!(paragraphs("a <b>\nc\n\nd"), "<p>a &lt;b&gt; c</p>\n<p>d</p>\n");
    }
}
