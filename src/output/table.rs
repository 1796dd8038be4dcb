//! The terminal summary: the run's figures in tables that fit the terminal, one row per
//! architecture (and, when the scenario declares adversaries, one row per adversary with what it
//! learned on each architecture), and a short reading generated from this run's numbers (never
//! canned text).
//!
//! Every figure is formatted as the report formats it ([`duration_ms`], [`percent`], [`bytes`],
//! [`sig3`]) and headed by the display name docs/outputs.md gives it, so one number has one name
//! and one spelling on every screen. A table never wraps a cell: when the columns do not fit the
//! width, the table is split into blocks (delivery, latency, cost) or written one architecture
//! at a time, so a number is never split across lines.

use unicode_width::UnicodeWidthStr;

use crate::metrics::ArchSummary;
use crate::observe::exposure::AdversaryExposure;
use crate::output::charts::{bytes, duration_ms, percent, sig3};
use crate::output::figures::Figures;
use crate::run::RunResults;

/// The width tables are laid out for when neither `COLUMNS` nor the terminal says.
pub const DEFAULT_WIDTH: usize = 100;

/// The width to lay the terminal output out for: `COLUMNS` when it is a positive number, else
/// the width of the terminal standard output is on, else [`DEFAULT_WIDTH`].
pub fn terminal_width() -> usize {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|&w| w > 0) {
        return w;
    }
    match terminal_size::terminal_size() {
        Some((terminal_size::Width(w), _)) if w > 0 => w as usize,
        _ => DEFAULT_WIDTH,
    }
}

/// Display width of a line (wide characters count two columns).
fn width_of(line: &str) -> usize {
    UnicodeWidthStr::width(line)
}

/// The widest line of `text`.
fn text_width(text: &str) -> usize {
    text.lines().map(width_of).max().unwrap_or(0)
}

/// A latency as every output writes it ("239 ms", "5.7 s", "1.81 h"), or "–".
pub fn human_ms(v: Option<f64>) -> String {
    v.map(duration_ms).unwrap_or_else(|| "–".into())
}

/// A share as every output writes it ("96.4%"), or "–".
fn pct(v: Option<f64>) -> String {
    v.map(percent).unwrap_or_else(|| "–".into())
}

/// A figure with three significant digits, or "–".
fn num(v: Option<f64>) -> String {
    v.map(sig3).unwrap_or_else(|| "–".into())
}

/// A byte figure in decimal units ("11.6 KB"), or "–".
fn size(v: Option<f64>) -> String {
    v.map(bytes).unwrap_or_else(|| "–".into())
}

/// A count with thousands separators ("4,606").
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun, singular for one ("1 copy", "3 copies").
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A configured duration in seconds as the tables write durations ("1 h", "30 s").
fn human_s(s: f64) -> String {
    duration_ms(s * 1e3)
}

/// A column of a terminal table: its header (one or two lines: the display name is the lines
/// joined) and whether its cells are numbers (right-aligned).
#[derive(Clone, Copy)]
struct Head {
    first: &'static str,
    second: &'static str,
    numeric: bool,
}

/// A numeric column's header.
const fn head(first: &'static str, second: &'static str) -> Head {
    Head { first, second, numeric: true }
}

/// Renders a table: `headers` as given, a rule, then `rows`; columns two spaces apart, no cell
/// wrapped (cells may hold several lines of their own). Right-aligns numeric columns.
fn render(headers: &[Vec<String>], numeric: &[bool], rows: &[Vec<String>]) -> String {
    // Labels are user text: escape control characters before measuring, so the layout holds.
    let shown = |t: &String| crate::text::printable(t).into_owned();
    let headers: Vec<Vec<String>> = headers.iter().map(|h| h.iter().map(shown).collect()).collect();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(shown).collect()).collect();
    let (headers, rows) = (&headers[..], &rows[..]);
    let n = headers.len();
    let mut widths = vec![0usize; n];
    for (i, h) in headers.iter().enumerate() {
        widths[i] = h.iter().map(|l| width_of(l)).max().unwrap_or(0);
    }
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(text_width(c));
        }
    }
    let total: usize = widths.iter().sum::<usize>() + 2 * n.saturating_sub(1);
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(width_of(c));
            if i > 0 {
                l.push_str("  ");
            }
            if numeric[i] {
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(c);
            } else {
                l.push_str(c);
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    // Header lines align at the bottom.
    let depth = headers.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..depth {
        let cells: Vec<&str> =
            headers.iter().map(|h| h.get((k + h.len()).wrapping_sub(depth)).map_or("", String::as_str)).collect();
        line(&mut out, &cells);
    }
    out.push_str(&"─".repeat(total));
    out.push('\n');
    for r in rows {
        let depth = r.iter().map(|c| c.lines().count()).max().unwrap_or(1).max(1);
        for k in 0..depth {
            let cells: Vec<&str> = r.iter().map(|c| c.lines().nth(k).unwrap_or("")).collect();
            line(&mut out, &cells);
        }
    }
    out
}

/// The blocks of summary columns, in order: delivery, latency, cost.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Delivery,
    Latency,
    Cost,
}

/// One column of the summary: its block, header and figure.
struct Column {
    block: Block,
    head: Head,
    value: fn(&ArchSummary) -> String,
}

/// The summary's columns; the header lines joined are the display names of docs/outputs.md.
fn columns() -> Vec<Column> {
    use Block::*;
    let c = |block, head, value| Column { block, head, value };
    vec![
        c(Delivery, head("", "copies"), |a| count(a.copies_created)),
        c(Delivery, head("", "delivered"), |a| pct(a.delivery_ratio)),
        c(Delivery, head("in ", "deadline"), |a| pct(a.delivered_in_deadline_ratio)),
        c(Delivery, head("", "lost"), |a| count(a.lost)),
        c(Latency, head("", "p50"), |a| human_ms(a.latency.p50_ms)),
        c(Latency, head("", "p95"), |a| human_ms(a.latency.p95_ms)),
        c(Latency, head("", "p99"), |a| human_ms(a.latency.p99_ms)),
        c(Latency, head("p50 ", "online@send"), |a| human_ms(a.latency_online_at_send.p50_ms)),
        c(Latency, head("p50 ", "offline@send"), |a| human_ms(a.latency_offline_at_send.p50_ms)),
        c(Cost, head("tx/", "delivered"), |a| num(a.transmissions_per_delivered)),
        c(Cost, head("bytes/", "delivered"), |a| size(a.bytes_per_delivered)),
        c(Cost, head("all bytes/", "delivered"), |a| size(a.all_bytes_per_delivered)),
        c(Cost, head("wake-ups/", "device·h"), |a| num(a.wakeups_per_device_hour)),
    ]
}

/// The table of `cols` for every architecture, headers on one line or on two.
fn summary_block(r: &RunResults, cols: &[&Column], two_line: bool) -> String {
    let arch_head = Head { first: "", second: "architecture", numeric: false };
    let heads: Vec<Head> = std::iter::once(arch_head).chain(cols.iter().map(|c| c.head)).collect();
    let headers: Vec<Vec<String>> = heads
        .iter()
        .map(|h| {
            if two_line && !h.first.is_empty() {
                vec![h.first.trim_end().to_owned(), h.second.to_owned()]
            } else {
                vec![format!("{}{}", h.first, h.second)]
            }
        })
        .collect();
    let numeric: Vec<bool> = heads.iter().map(|h| h.numeric).collect();
    let rows: Vec<Vec<String>> = r
        .archs
        .iter()
        .map(|a| std::iter::once(a.name.clone()).chain(cols.iter().map(|c| (c.value)(a))).collect())
        .collect();
    render(&headers, &numeric, &rows)
}

/// Items "name value" packed into lines of at most `width` columns, " · " between items, an item
/// never split; each line starts with `indent`.
fn pack(items: &[String], indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for item in items {
        let candidate_width =
            if line.is_empty() { width_of(indent) + width_of(item) } else { width_of(&line) + 3 + width_of(item) };
        if !line.is_empty() && candidate_width > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if line.is_empty() {
            line.push_str(indent);
        } else {
            line.push_str(" · ");
        }
        line.push_str(item);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The summary one architecture at a time, for a terminal too narrow for any table.
fn summary_per_arch(r: &RunResults, width: usize) -> String {
    let cols = columns();
    let mut out = String::new();
    for a in &r.archs {
        out.push_str(&wrap(&a.name, width));
        out.push('\n');
        for block in [Block::Delivery, Block::Latency, Block::Cost] {
            let items: Vec<String> = cols
                .iter()
                .filter(|c| c.block == block)
                .map(|c| format!("{}{} {}", c.head.first, c.head.second, (c.value)(a)))
                .collect();
            out.push_str(&pack(&items, "  ", width));
        }
    }
    out
}

/// The summary table laid out for a terminal of `width` columns: all columns in one table when
/// they fit, else the delivery and latency columns in one table and the cost columns in a
/// second, else three tables, else one block per architecture. No cell is ever wrapped.
pub fn summary_table_for_width(r: &RunResults, width: usize) -> String {
    let cols = columns();
    let of = |blocks: &[Block]| -> Vec<&Column> { cols.iter().filter(|c| blocks.contains(&c.block)).collect() };
    use Block::*;
    let layouts: [(&[&[Block]], bool); 4] = [
        (&[&[Delivery, Latency, Cost]], false),
        (&[&[Delivery, Latency, Cost]], true),
        (&[&[Delivery, Latency], &[Cost]], true),
        (&[&[Delivery], &[Latency], &[Cost]], true),
    ];
    let mut out = None;
    for (tables, two_line) in layouts {
        let parts: Vec<String> = tables.iter().map(|blocks| summary_block(r, &of(blocks), two_line)).collect();
        if parts.iter().all(|p| text_width(p) <= width) {
            out = Some(parts.join("\n"));
            break;
        }
    }
    let mut out = out.unwrap_or_else(|| summary_per_arch(r, width));
    if let Some(x) = exposure_table_for_width(r, width) {
        out.push('\n');
        out.push_str(&x);
    }
    // Labels are user text: no control character reaches the terminal raw.
    crate::text::printable(out.trim_end()).into_owned()
}

/// The summary table for this terminal ([`terminal_width`]).
pub fn summary_table(r: &RunResults) -> String {
    summary_table_for_width(r, terminal_width())
}

/// A percentage without decimals (a share of messages), or "–".
fn pct0(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0}", 100.0 * x)).unwrap_or_else(|| "–".into())
}

/// One exposure cell's parts: "P 53", "S 100", "R 99" and, for a correlating adversary, "H 0.8b";
/// empty when the adversary has nothing to watch.
fn exposure_parts(e: Option<&AdversaryExposure>) -> Vec<String> {
    match e {
        Some(e) if e.applicable => {
            let mut parts = vec![
                format!("P {}", pct0(e.pair.learned)),
                format!("S {}", pct0(e.sender.learned)),
                format!("R {}", pct0(e.recipient.learned)),
            ];
            if let Some(h) = e.anonymity.as_ref().and_then(|x| x.median_entropy_bits) {
                parts.push(format!("H {h:.1}b"));
            }
            parts
        }
        _ => Vec::new(),
    }
}

/// An exposure cell on one line, or on two (pair and sender, then recipient and anonymity).
fn exposure_cell(parts: &[String], two_lines: bool) -> String {
    if parts.is_empty() {
        return "n/a".into();
    }
    if two_lines && parts.len() > 2 {
        format!("{}\n{}", parts[..2].join(" · "), parts[2..].join(" · "))
    } else {
        parts.join(" · ")
    }
}

const EXPOSURE_LEGEND: &str = "Exposure: % of messages whose sender-recipient pair (P), sender (S) and recipient (R) \
     each adversary learned; H: median anonymity left against what it read and timed, bits; n/a: nothing to watch. \
     exposure.csv has every metric.";

/// The exposure table for a terminal of `width` columns: one row per adversary, one column per
/// architecture; each cell gives the share of messages whose sender-recipient pair (P), sender
/// (S) and recipient (R) it learned, and for a correlating adversary the median anonymity left
/// (H, bits). Architectures are split over several tables when they do not fit side by side,
/// cells go on two lines when even one does not, and at the narrowest each architecture gets a
/// block of its own. `None` without adversaries.
pub fn exposure_table_for_width(r: &RunResults, width: usize) -> Option<String> {
    let first = r.archs.iter().find(|a| !a.exposure.is_empty())?;
    let adversaries: Vec<&str> = first.exposure.iter().map(|e| e.adversary.as_str()).collect();
    let parts: Vec<Vec<Vec<String>>> =
        r.archs.iter().map(|a| (0..adversaries.len()).map(|i| exposure_parts(a.exposure.get(i))).collect()).collect();
    let table = |archs: &[usize], two_lines: bool| {
        let mut headers = vec![vec!["adversary".to_owned()]];
        headers.extend(archs.iter().map(|&k| vec![r.archs[k].name.clone()]));
        let numeric = vec![false; archs.len() + 1];
        let rows: Vec<Vec<String>> = adversaries
            .iter()
            .enumerate()
            .map(|(i, adv)| {
                std::iter::once(adv.to_string())
                    .chain(archs.iter().map(|&k| exposure_cell(&parts[k][i], two_lines)))
                    .collect()
            })
            .collect();
        render(&headers, &numeric, &rows)
    };
    let all: Vec<usize> = (0..r.archs.len()).collect();
    let mut body = None;
    // Fewest tables first; for a given number of tables, cells on one line before two.
    'layouts: for per_table in (1..=all.len()).rev() {
        for two_lines in [false, true] {
            let parts: Vec<String> = all.chunks(per_table).map(|c| table(c, two_lines)).collect();
            if parts.iter().all(|p| text_width(p) <= width) {
                body = Some(parts.join("\n"));
                break 'layouts;
            }
        }
    }
    let body = body.unwrap_or_else(|| {
        let mut out = String::new();
        for (k, a) in r.archs.iter().enumerate() {
            out.push_str(&wrap(&a.name, width));
            out.push('\n');
            for (i, adv) in adversaries.iter().enumerate() {
                let line = format!("  {adv}: {}", exposure_cell(&parts[k][i], false));
                if width_of(&line) <= width {
                    out.push_str(&line);
                    out.push('\n');
                } else {
                    // A figure stays with its letter: "R 76" is never split.
                    out.push_str(&format!("  {adv}:\n"));
                    let cells = if parts[k][i].is_empty() { vec!["n/a".to_owned()] } else { parts[k][i].clone() };
                    out.push_str(&pack(&cells, "    ", width));
                }
            }
        }
        out
    });
    Some(format!("{}{}", body, wrap(EXPOSURE_LEGEND, width)))
}

/// The headline figures for a terminal of `width` columns: one row per figure (display name),
/// one column per architecture, formatted as the tables format them; the architectures split
/// over several tables when they do not fit side by side, one block per architecture at the
/// narrowest. `None` when the scenario declares none.
pub fn headline_for_width(figures: &Figures, names: &[String], width: usize) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let rows = figures.headline(names);
    let table = |archs: &[usize]| {
        let mut headers = vec![vec!["headline figure".to_owned()]];
        headers.extend(archs.iter().map(|&k| vec![figures.archs[k].clone()]));
        let mut numeric = vec![true; archs.len() + 1];
        numeric[0] = false;
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| std::iter::once(r.name.clone()).chain(archs.iter().map(|&k| r.cells[k].clone())).collect())
            .collect();
        render(&headers, &numeric, &cells)
    };
    let all: Vec<usize> = (0..figures.archs.len()).collect();
    for per_table in (1..=all.len().max(1)).rev() {
        let parts: Vec<String> = all.chunks(per_table).map(table).collect();
        if parts.iter().all(|p| text_width(p) <= width) {
            return Some(crate::text::printable(parts.join("\n").trim_end()).into_owned());
        }
    }
    let mut out = String::from("Headline figures\n");
    for (k, a) in figures.archs.iter().enumerate() {
        out.push_str(&wrap(a, width));
        out.push('\n');
        let items: Vec<String> = rows.iter().map(|r| format!("{} {}", r.name, r.cells[k])).collect();
        out.push_str(&pack(&items, "  ", width));
    }
    Some(crate::text::printable(out.trim_end()).into_owned())
}

/// The exposure table for this terminal ([`terminal_width`]); `None` without adversaries.
pub fn exposure_table(r: &RunResults) -> Option<String> {
    exposure_table_for_width(r, terminal_width())
}

/// `text` with each line wrapped at spaces to at most `width` columns; a word longer than the
/// width stays whole on a line of its own.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            if !line.is_empty() && width_of(&line) + 1 + width_of(word) > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out.join("\n")
}

/// A ratio of two latencies as the reading writes it: a percentage under 1.1 ("2% slower"),
/// one decimal under 10 ("2.4x slower"), two significant digits above ("360x", "4,700x").
fn slower(ratio: f64) -> String {
    if ratio < 1.1 {
        let p = (ratio - 1.0) * 100.0;
        if p < 1.0 { format!("{p:.1}% slower") } else { format!("{p:.0}% slower") }
    } else if ratio < 9.95 {
        format!("{ratio:.1}x slower")
    } else {
        let step = 10f64.powi(ratio.log10().floor() as i32 - 1);
        format!("{}x slower", count(((ratio / step).round() * step).round() as u64))
    }
}

/// How many equally likely senders `bits` of anonymity leave, out of `of`, in words: "1 sender
/// of 300" (the adversary has it down to one) or "about 3 equally likely senders of 300".
fn likely_senders(bits: f64, max_bits: f64) -> String {
    let of = count(max_bits.exp2().round() as u64);
    let n = bits.exp2().min(max_bits.exp2()).round().max(1.0) as u64;
    if n == 1 {
        format!("about 1 sender of {of}")
    } else {
        format!("about {} equally likely senders of {of}", count(n))
    }
}

/// Sentences on what the adversaries learned, from this run's numbers.
fn exposure_reading(r: &RunResults) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(first) = r.archs.iter().find(|a| !a.exposure.is_empty()) else { return lines };
    for (i, adv) in first.exposure.iter().enumerate() {
        let of = |a: &ArchSummary| a.exposure.get(i).filter(|e| e.applicable).cloned();
        let seen: Vec<(&ArchSummary, AdversaryExposure)> =
            r.archs.iter().filter_map(|a| of(a).map(|e| (a, e))).collect();
        if seen.is_empty() {
            lines.push(format!("{} has nothing to watch in these architectures.", adv.adversary));
            continue;
        }
        let cmp = |x: &&(&ArchSummary, AdversaryExposure), y: &&(&ArchSummary, AdversaryExposure)| {
            x.1.pair.learned.unwrap_or(0.0).total_cmp(&y.1.pair.learned.unwrap_or(0.0))
        };
        let most = seen.iter().max_by(cmp).expect("not empty");
        let least = seen.iter().min_by(cmp).expect("not empty");
        // Shares that print the same are a tie.
        let same = pct(most.1.pair.learned) == pct(least.1.pair.learned);
        let mut line = if seen.len() == 1 || same {
            format!(
                "{} learns the sender-recipient pair of {} of messages{}.",
                adv.adversary,
                pct(most.1.pair.learned),
                if seen.len() == 1 {
                    format!(" on {}", most.0.name)
                } else {
                    " on every architecture it can watch".into()
                }
            )
        } else {
            format!(
                "{} learns the most sender-recipient pairs on {} ({}), the fewest on {} ({}).",
                adv.adversary,
                most.0.name,
                pct(most.1.pair.learned),
                least.0.name,
                pct(least.1.pair.learned)
            )
        };
        // Sealed sender and its kin: no identity read, the sender still known by address.
        if let Some((a, e)) = seen.iter().find(|(_, e)| {
            e.sender.identity.unwrap_or(0.0) + 0.05 < e.sender.learned.unwrap_or(0.0)
                && e.sender.identity.unwrap_or(0.0) < 0.5
        }) && e.recipient.identity.unwrap_or(0.0) > 0.5
        {
            line.push_str(&format!(
                " On {} it reads the sender's identity in {} of messages but still learns {} of senders from their network address.",
                a.name,
                pct(e.sender.identity),
                pct(e.sender.learned)
            ));
        }
        if let Some((a, e)) = seen.iter().find(|(_, e)| e.anonymity.as_ref().is_some_and(|x| x.messages > 0)) {
            let an = e.anonymity.as_ref().expect("checked");
            let bits = an.median_entropy_bits.unwrap_or(0.0);
            line.push_str(&format!(
                " Against what it read and timed, the median message on {} keeps {:.1} bits of anonymity ({}); {} are linked with near certainty.",
                a.name,
                bits,
                likely_senders(bits, an.max_entropy_bits),
                pct(an.linked_with_certainty)
            ));
        }
        lines.push(line);
    }
    lines
}

/// The reading's lines, with the exposure sentences after them.
fn with_exposure(mut lines: Vec<String>, r: &RunResults) -> String {
    lines.extend(exposure_reading(r));
    crate::text::printable(&lines.join("\n")).into_owned()
}

/// The architectures at each end of a measure, as printed: every architecture whose figure
/// prints as the best one, and every one whose figure prints as the worst. `None` with fewer
/// than two architectures that have the figure.
struct Ends {
    /// The best figure, printed.
    best: String,
    /// The architectures that print it, in scenario order.
    best_archs: Vec<usize>,
    /// The worst figure, printed.
    worst: String,
    /// The architectures that print it.
    worst_archs: Vec<usize>,
    /// The best and the worst value (unrounded).
    values: (f64, f64),
}

impl Ends {
    /// Whether best and worst print the same: a tie, whatever the unrounded values.
    fn tie(&self) -> bool {
        self.best == self.worst
    }
}

/// The two ends of a measure over the architectures that have it.
fn ends(
    archs: &[ArchSummary],
    value: impl Fn(&ArchSummary) -> Option<f64>,
    format: impl Fn(f64) -> String,
    lower_is_better: bool,
) -> Option<Ends> {
    let vals: Vec<(usize, f64)> = archs.iter().enumerate().filter_map(|(i, a)| value(a).map(|v| (i, v))).collect();
    if vals.len() < 2 {
        return None;
    }
    let lo = vals.iter().map(|v| v.1).fold(f64::INFINITY, f64::min);
    let hi = vals.iter().map(|v| v.1).fold(f64::NEG_INFINITY, f64::max);
    let (b, w) = if lower_is_better { (lo, hi) } else { (hi, lo) };
    let (best, worst) = (format(b), format(w));
    let at = |printed: &str| vals.iter().filter(|v| format(v.1) == printed).map(|v| v.0).collect();
    Some(Ends { best_archs: at(&best), worst_archs: at(&worst), best, worst, values: (b, w) })
}

/// Architecture labels as a list: "a", "a and b", "a, b and c".
fn names(archs: &[ArchSummary], which: &[usize]) -> String {
    let n: Vec<&str> = which.iter().map(|&i| archs[i].name.as_str()).collect();
    match n.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The verb for one architecture or several ("is" / "are").
fn verb(which: &[usize], one: &'static str, many: &'static str) -> &'static str {
    if which.len() == 1 { one } else { many }
}

/// A delivered share this many points below another's makes a latency claim over delivered
/// copies alone misleading, so the reading names it beside the claim. ASSUMPTION: 5 points is a
/// judgement call (large enough to ignore noise between replicates), not a sourced figure.
const SURVIVOR_GAP: f64 = 0.05;

/// The median-latency sentence. Latencies are of delivered copies, so an architecture that lost
/// many is quick on the few it delivered: when a fastest one delivered clearly less than another,
/// its delivered share is named beside the claim. Medians that print the same are a tie.
fn latency_sentence(a: &[ArchSummary]) -> Option<String> {
    let e = ends(a, |x| x.latency.p50_ms, duration_ms, true)?;
    if e.tie() {
        return Some(format!("Median latency of delivered copies: every architecture takes about {}.", e.best));
    }
    let most = a
        .iter()
        .filter(|x| x.latency.p50_ms.is_some())
        .max_by(|x, y| x.delivery_ratio.unwrap_or(0.0).total_cmp(&y.delivery_ratio.unwrap_or(0.0)))
        .expect("two architectures have a median");
    let top = most.delivery_ratio.unwrap_or(0.0);
    let caveat = match e.best_archs.iter().find(|&&i| a[i].delivery_ratio.unwrap_or(0.0) + SURVIVOR_GAP < top) {
        Some(&i) => format!(
            ", but {} delivered only {} of its copies ({} delivered {})",
            if e.best_archs.len() == 1 { "it".to_owned() } else { a[i].name.clone() },
            pct(a[i].delivery_ratio),
            most.name,
            pct(most.delivery_ratio)
        ),
        None => String::new(),
    };
    let (bv, wv) = e.values;
    let factor = if bv > 0.0 { format!(" ({})", slower(wv / bv)) } else { String::new() };
    Some(format!(
        "Median latency of delivered copies: {} {} fastest at {}{caveat}; {} {} slowest at {}{factor}.",
        names(a, &e.best_archs),
        verb(&e.best_archs, "is", "are"),
        e.best,
        names(a, &e.worst_archs),
        verb(&e.worst_archs, "is", "are"),
        e.worst
    ))
}

/// "every architecture delivers about X" for a tie, else who delivers the most and the least.
fn share_sentence(a: &[ArchSummary], lead: &str, value: impl Fn(&ArchSummary) -> Option<f64>) -> Option<String> {
    let e = ends(a, value, percent, false)?;
    Some(if e.tie() {
        format!("{lead}: every architecture delivers about {}.", e.best)
    } else {
        format!(
            "{lead}: {} {} the most ({}), {} the least ({}).",
            names(a, &e.best_archs),
            verb(&e.best_archs, "delivers", "deliver"),
            e.best,
            names(a, &e.worst_archs),
            e.worst
        )
    })
}

/// A few sentences on what this run's numbers say: the best architecture on each measure and
/// the worst, with equal figures (as printed) called a tie and every architecture at an end named.
pub fn reading(r: &RunResults) -> String {
    let a = &r.archs;
    let mut lines = Vec::new();
    if a.len() == 1 {
        let x = &a[0];
        lines.push(format!(
            "{} delivered {} of {} copies ({}), {} within the {} deadline; median latency {} ({} for recipients online at send, {} for those offline).",
            x.name,
            count(x.delivered),
            count(x.copies_created),
            pct(x.delivery_ratio),
            pct(x.delivered_in_deadline_ratio),
            human_s(x.deadline_s),
            human_ms(x.latency.p50_ms),
            human_ms(x.latency_online_at_send.p50_ms),
            human_ms(x.latency_offline_at_send.p50_ms)
        ));
        if x.lost > 0 {
            let (reason, n) = x.lost_by_reason.iter().max_by_key(|e| e.1).expect("reasons listed");
            lines.push(format!(
                "{} lost, most for `{}` ({}).",
                plural(x.lost, "copy was", "copies were"),
                reason.as_str(),
                count(*n)
            ));
        }
        return with_exposure(lines, r);
    }
    lines.extend(share_sentence(a, "Delivery", |x| x.delivery_ratio));
    let deadline = a.first().map_or(String::new(), |x| human_s(x.deadline_s));
    lines.extend(share_sentence(a, &format!("Within the {deadline} deadline"), |x| x.delivered_in_deadline_ratio));
    lines.extend(latency_sentence(a));
    if let Some(e) = ends(a, |x| x.wakeups_per_device_hour, sig3, true) {
        if e.tie() {
            lines.push(format!(
                "Battery proxy: every architecture wakes a device about {} times per device-hour.",
                e.best
            ));
        } else {
            lines.push(format!(
                "Battery proxy: {} {} a device the least ({} times per device-hour), {} the most ({}).",
                names(a, &e.best_archs),
                verb(&e.best_archs, "wakes", "wake"),
                e.best,
                names(a, &e.worst_archs),
                e.worst
            ));
        }
    }
    for x in a.iter().filter(|x| x.lost > 0) {
        let (reason, n) = x.lost_by_reason.iter().max_by_key(|e| e.1).expect("reasons listed");
        lines.push(format!(
            "{} lost {}, most for `{}` ({}).",
            x.name,
            plural(x.lost, "copy", "copies"),
            reason.as_str(),
            count(*n)
        ));
    }
    with_exposure(lines, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::charts::tests::tiny;

    #[test]
    fn ratios_read_with_sensible_precision_issue_13() {
        assert_eq!(slower(361.0), "360x slower");
        assert_eq!(slower(4668.2), "4,700x slower");
        assert_eq!(slower(1058.3), "1,100x slower");
        assert_eq!(slower(23.7), "24x slower");
        assert_eq!(slower(2.4), "2.4x slower");
        assert_eq!(slower(1.0175), "2% slower", "never 1.0x");
        assert_eq!(slower(1.002), "0.2% slower");
        assert_eq!(count(4606), "4,606");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(plural(1, "copy", "copies"), "1 copy");
        assert_eq!(plural(3, "copy", "copies"), "3 copies");
    }

    #[test]
    fn durations_and_senders_read_as_the_table_writes_them_issue_13() {
        // A deadline of 3600 s is "1 h", as the table writes an hour.
        assert_eq!(human_s(3600.0), "1 h");
        assert_eq!(human_s(60.0), "1 min");
        assert_eq!(human_ms(Some(5400.0)), "5.4 s");
        assert_eq!(human_ms(None), "–");
        // 2^0.4 = 1.3 senders: one sender, not "1 equally likely senders"; 2^1.58 = 3.
        let of = 300f64.log2();
        assert_eq!(likely_senders(0.4, of), "about 1 sender of 300");
        assert_eq!(likely_senders(1.58, of), "about 3 equally likely senders of 300");
        assert_eq!(likely_senders(9.0, of), "about 300 equally likely senders of 300", "capped at the population");
    }

    /// A copy of the tiny run's results with one architecture per value given (at most three),
    /// with these medians, delivered shares and wake-up rates.
    fn some(p50: &[f64], delivered: &[f64], wakeups: &[f64]) -> RunResults {
        let (_, mut r) = tiny();
        r.archs.truncate(p50.len());
        assert_eq!(r.archs.len(), p50.len(), "the tiny run has enough architectures");
        for (i, a) in r.archs.iter_mut().enumerate() {
            a.name = ["quick", "slow", "third"][i].into();
            a.latency.p50_ms = Some(p50[i]);
            a.delivery_ratio = Some(delivered[i]);
            a.wakeups_per_device_hour = Some(wakeups[i]);
            a.exposure.clear();
        }
        r
    }

    fn two(p50: [f64; 2], delivered: [f64; 2], wakeups: [f64; 2]) -> RunResults {
        some(&p50, &delivered, &wakeups)
    }

    #[test]
    fn every_architecture_at_an_end_is_named_issue_13() {
        let text = reading(&some(&[239.0, 5800.0, 5801.0], &[0.99, 0.88, 0.8801], &[1.2, 384.0, 1.2]));
        assert!(
            text.contains("Delivery: quick delivers the most (99.0%), slow and third the least (88.0%)."),
            "{text}"
        );
        assert!(
            text.contains("quick is fastest at 239 ms; slow and third are slowest at 5.8 s (24x slower)."),
            "{text}"
        );
        assert!(
            text.contains("quick and third wake a device the least (1.20 times per device-hour), slow the most (384)."),
            "{text}"
        );
    }

    #[test]
    fn equal_figures_are_a_tie_never_one_times_slower_issue_13() {
        let text = reading(&two([239.0, 239.2], [0.99, 0.99], [100.34, 100.34]));
        assert!(text.contains("Median latency of delivered copies: every architecture takes about 239 ms."), "{text}");
        assert!(text.contains("every architecture wakes a device about 100 times per device-hour"), "{text}");
        assert!(!text.contains("1.0x") && !text.contains("fastest"), "{text}");
        let text = reading(&two([5730.0, 5800.0], [0.99, 0.99], [1.2, 384.0]));
        assert!(text.contains("quick is fastest at 5.73 s; slow is slowest at 5.8 s (1% slower)."), "{text}");
        assert!(text.contains("quick wakes a device the least (1.20 times per device-hour), slow the most (384)."));
    }

    #[test]
    fn a_fast_architecture_that_lost_many_is_named_with_its_delivered_share_issue_13() {
        // Quick on the few it delivered: the claim names the share it delivered.
        let text = reading(&two([5400.0, 6.5e6], [0.23, 0.999], [1.0, 1.0]));
        assert!(
            text.contains(
                "quick is fastest at 5.4 s, but it delivered only 23.0% of its copies (slow delivered 99.9%); \
                 slow is slowest at 1.81 h (1,200x slower)."
            ),
            "{text}"
        );
        // Within a few points of the best share, the claim stands alone.
        let text = reading(&two([5400.0, 6.5e6], [0.97, 0.99], [1.0, 1.0]));
        assert!(text.contains("quick is fastest at 5.4 s; slow"), "{text}");
    }

    /// Every line fits `width` and every figure of the table is on one line, whole.
    fn assert_fits(r: &RunResults, width: usize) {
        let text = summary_table_for_width(r, width);
        for line in text.lines() {
            assert!(width_of(line) <= width, "{width} columns: `{line}` is {} wide\n{text}", width_of(line));
        }
        for a in &r.archs {
            for c in columns() {
                let v = (c.value)(a);
                assert!(text.lines().any(|l| l.contains(&v)), "{width} columns: `{v}` is not whole on a line\n{text}");
            }
        }
    }

    #[test]
    fn the_summary_fits_80_and_100_columns_without_splitting_a_number_issue_13() {
        let (_, r) = tiny();
        for width in [80, 100, 60, 40] {
            assert_fits(&r, width);
        }
        // Long labels push the table into blocks, then one block per architecture.
        let mut long = r.clone();
        for (i, a) in long.archs.iter_mut().enumerate() {
            a.name = format!("architecture with a long label number {i}");
        }
        for width in [80, 100, 50] {
            assert_fits(&long, width);
        }
        // A control character in a label (a hand-edited file) is escaped before the layout.
        long.archs[0].name = "esc\u{1b}[31mape".into();
        assert_fits(&long, 80);
        assert!(summary_table_for_width(&long, 80).contains("esc\\u{1b}[31mape"));
        // Wide enough, one table with every column and one-line headers.
        let wide = summary_table_for_width(&r, 400);
        assert_eq!(wide.lines().filter(|l| l.starts_with('─')).count(), 1, "{wide}");
        assert!(wide.contains("all bytes/delivered") && wide.contains("p50 online@send"), "{wide}");
        let narrow = summary_table_for_width(&r, 80);
        assert!(narrow.lines().filter(|l| l.starts_with('─')).count() >= 2, "split at 80 columns\n{narrow}");
    }

    #[test]
    fn headline_figures_fit_the_width_with_every_value_whole_issue_13() {
        let (_, r) = tiny();
        let f = crate::output::json::figures_of(&r);
        let names: Vec<String> =
            ["delivery_ratio", "latency_online_at_send.p50_ms", "all_bytes_per_delivered"].map(String::from).to_vec();
        let rows = f.headline(&names);
        for width in [100, 80, 40] {
            let text = headline_for_width(&f, &names, width).unwrap();
            for line in text.lines() {
                assert!(width_of(line) <= width, "{width}: `{line}`\n{text}");
            }
            for row in &rows {
                for cell in &row.cells {
                    assert!(text.lines().any(|l| l.contains(cell.as_str())), "{width}: `{cell}` split\n{text}");
                }
            }
            assert!(text.contains("p50 online@send") && text.contains("all bytes/delivered"), "{text}");
        }
        assert!(headline_for_width(&f, &[], 80).is_none());
    }

    #[test]
    fn wrapping_keeps_words_whole() {
        assert_eq!(wrap("one two three four", 9), "one two\nthree\nfour");
        assert_eq!(wrap("unbreakable-word here", 5), "unbreakable-word\nhere");
        assert_eq!(pack(&["a 1".into(), "b 22".into(), "c 333".into()], "  ", 12), "  a 1 · b 22\n  c 333\n");
    }
}
