//! The terminal summary: a compact aligned table, one row per architecture (and, when the scenario
//! declares adversaries, one row per adversary with what it learned on each architecture), and a
//! short reading generated from this run's numbers (never canned text).

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::metrics::ArchSummary;
use crate::run::RunResults;

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", 100.0 * x)).unwrap_or_else(|| "–".into())
}

/// A latency in the unit that reads best.
pub fn human_ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(ms) if ms < 1.0 => format!("{:.0}us", ms * 1e3),
        Some(ms) if ms < 1e3 => format!("{ms:.0}ms"),
        Some(ms) if ms < 6e4 => format!("{:.1}s", ms / 1e3),
        Some(ms) if ms < 3.6e6 => format!("{:.1}min", ms / 6e4),
        Some(ms) if ms < 8.64e7 => format!("{:.1}h", ms / 3.6e6),
        Some(ms) => format!("{:.1}d", ms / 8.64e7),
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| if x >= 100.0 { format!("{x:.0}") } else { format!("{x:.2}") }).unwrap_or_else(|| "–".into())
}

/// The summary table.
pub fn summary_table(r: &RunResults) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(vec![
        "architecture",
        "copies",
        "delivered",
        "in deadline",
        "p50",
        "p95",
        "p99",
        "p50 offline@send",
        "lost",
        "tx/delivered",
        "bytes/delivered",
        "wake-ups/dev·h",
    ]);
    for a in &r.archs {
        t.add_row(vec![
            a.name.clone(),
            a.copies_created.to_string(),
            pct(a.delivery_ratio),
            pct(a.delivered_in_deadline_ratio),
            human_ms(a.latency.p50_ms),
            human_ms(a.latency.p95_ms),
            human_ms(a.latency.p99_ms),
            human_ms(a.latency_offline_at_send.p50_ms),
            a.lost.to_string(),
            num(a.transmissions_per_delivered),
            all_bytes_per_delivered(a),
            num(a.wakeups_per_device_hour),
        ]);
    }
    for i in 1..12 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = t.to_string();
    if let Some(x) = exposure_table(r) {
        out.push('\n');
        out.push_str(&x);
    }
    // Labels are user text: no control character reaches the terminal raw.
    crate::output::text::printable(&out).into_owned()
}

/// Every byte the architecture sent (messages and overhead: polls, cover, lookups) per delivered
/// copy, in B, KB or MB; "–" when nothing was delivered. `tx/delivered` counts message hops only,
/// so this is the column where cover traffic and polling show.
fn all_bytes_per_delivered(a: &ArchSummary) -> String {
    if a.delivered == 0 {
        return "–".into();
    }
    let b = (a.bytes + a.overhead_bytes) as f64 / a.delivered as f64;
    if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} KB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

/// A percentage without decimals (a share of messages), or "–".
fn pct0(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0}", 100.0 * x)).unwrap_or_else(|| "–".into())
}

/// The exposure table: one row per adversary, one column per architecture; each cell gives the
/// share of messages whose sender-recipient pair (P), sender (S) and recipient (R) it learned, and
/// for a correlating adversary the median anonymity left (H, bits). `None` without adversaries.
pub fn exposure_table(r: &RunResults) -> Option<String> {
    let first = r.archs.iter().find(|a| !a.exposure.is_empty())?;
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec!["adversary".to_owned()];
    header.extend(r.archs.iter().map(|a| a.name.clone()));
    t.set_header(header);
    for (i, adv) in first.exposure.iter().enumerate() {
        let mut row = vec![adv.adversary.clone()];
        for a in &r.archs {
            let cell = match a.exposure.get(i) {
                Some(e) if e.applicable => {
                    let mut c = format!(
                        "P {} · S {} · R {}",
                        pct0(e.pair.learned),
                        pct0(e.sender.learned),
                        pct0(e.recipient.learned)
                    );
                    if let Some(h) = e.anonymity.as_ref().and_then(|x| x.median_entropy_bits) {
                        c.push_str(&format!(" · H {h:.1}b"));
                    }
                    c
                }
                _ => "n/a".to_owned(),
            };
            row.push(cell);
        }
        t.add_row(row);
    }
    Some(format!(
        "{t}\nExposure: % of messages whose sender-recipient pair (P), sender (S) and recipient (R) each adversary \
         learned; H: median anonymity left against what it read and timed, bits; n/a: nothing to watch. exposure.csv has every metric."
    ))
}

/// Sentences on what the adversaries learned, from this run's numbers.
fn exposure_reading(r: &RunResults) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(first) = r.archs.iter().find(|a| !a.exposure.is_empty()) else { return lines };
    for (i, adv) in first.exposure.iter().enumerate() {
        let of = |a: &ArchSummary| a.exposure.get(i).filter(|e| e.applicable).cloned();
        let seen: Vec<(&ArchSummary, crate::observe::exposure::AdversaryExposure)> =
            r.archs.iter().filter_map(|a| of(a).map(|e| (a, e))).collect();
        if seen.is_empty() {
            lines.push(format!("{} has nothing to watch in these architectures.", adv.adversary));
            continue;
        }
        let cmp = |x: &&(&ArchSummary, crate::observe::exposure::AdversaryExposure),
                   y: &&(&ArchSummary, crate::observe::exposure::AdversaryExposure)| {
            x.1.pair.learned.unwrap_or(0.0).total_cmp(&y.1.pair.learned.unwrap_or(0.0))
        };
        let most = seen.iter().max_by(cmp).expect("not empty");
        let least = seen.iter().min_by(cmp).expect("not empty");
        let same = (most.1.pair.learned.unwrap_or(0.0) - least.1.pair.learned.unwrap_or(0.0)).abs() < 0.0005;
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
            line.push_str(&format!(
                " Against what it read and timed, the median message on {} keeps {:.1} bits of anonymity (about {:.0} equally likely senders of {:.0}); {} are linked with near certainty.",
                a.name,
                an.median_entropy_bits.unwrap_or(0.0),
                an.median_entropy_bits.unwrap_or(0.0).exp2().min(an.max_entropy_bits.exp2()),
                an.max_entropy_bits.exp2(),
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
    crate::output::text::printable(&lines.join("\n")).into_owned()
}

/// Which architecture does best on a measure, and by how much over the runner-up or the worst.
fn best_of(
    archs: &[ArchSummary],
    value: impl Fn(&ArchSummary) -> Option<f64>,
    lower_is_better: bool,
) -> Option<(usize, f64, usize, f64)> {
    let vals: Vec<(usize, f64)> = archs.iter().enumerate().filter_map(|(i, a)| value(a).map(|v| (i, v))).collect();
    if vals.len() < 2 {
        return None;
    }
    let cmp = |a: &&(usize, f64), b: &&(usize, f64)| a.1.total_cmp(&b.1);
    let best = if lower_is_better { vals.iter().min_by(cmp) } else { vals.iter().max_by(cmp) }?;
    let worst = if lower_is_better { vals.iter().max_by(cmp) } else { vals.iter().min_by(cmp) }?;
    Some((best.0, best.1, worst.0, worst.1))
}

/// A few sentences on what this run's numbers say: the best architecture on each measure and
/// its margin over the worst.
pub fn reading(r: &RunResults) -> String {
    let a = &r.archs;
    let mut lines = Vec::new();
    if a.len() == 1 {
        let x = &a[0];
        lines.push(format!(
            "{} delivered {} of {} copies ({}), {} within the {}s deadline; median latency {} ({} for recipients offline at send).",
            x.name,
            x.delivered,
            x.copies_created,
            pct(x.delivery_ratio),
            pct(x.delivered_in_deadline_ratio),
            x.deadline_s,
            human_ms(x.latency.p50_ms),
            human_ms(x.latency_offline_at_send.p50_ms)
        ));
        if x.lost > 0 {
            let (reason, n) = x.lost_by_reason.iter().max_by_key(|e| e.1).expect("reasons listed");
            lines.push(format!("{} copies were lost, most for `{}` ({n}).", x.lost, reason.as_str()));
        }
        return with_exposure(lines, r);
    }
    // Shares that print the same are a tie: the reading never names a winner the table cannot show.
    if let Some((b, bv, w, wv)) = best_of(a, |x| x.delivery_ratio, false) {
        if pct(Some(bv)) == pct(Some(wv)) {
            lines.push(format!("Delivery: every architecture delivers about {}.", pct(Some(bv))));
        } else {
            lines.push(format!(
                "Delivery: {} delivers the most ({}), {} the least ({}).",
                a[b].name,
                pct(Some(bv)),
                a[w].name,
                pct(Some(wv))
            ));
        }
    }
    if let Some((b, bv, w, wv)) = best_of(a, |x| x.delivered_in_deadline_ratio, false) {
        if pct(Some(bv)) == pct(Some(wv)) {
            lines.push(format!(
                "Within the {}s deadline: every architecture delivers about {}.",
                a[b].deadline_s,
                pct(Some(bv))
            ));
        } else {
            lines.push(format!(
                "Within the {}s deadline: {} {} against {} {}.",
                a[b].deadline_s,
                a[b].name,
                pct(Some(bv)),
                a[w].name,
                pct(Some(wv))
            ));
        }
    }
    if let Some((b, bv, w, wv)) = best_of(a, |x| x.latency.p50_ms, true) {
        let factor = if bv > 0.0 { format!(" ({:.1}x slower)", wv / bv) } else { String::new() };
        lines.push(format!(
            "Median latency: {} is fastest at {}; {} is slowest at {}{factor}.",
            a[b].name,
            human_ms(Some(bv)),
            a[w].name,
            human_ms(Some(wv))
        ));
    }
    if let Some((b, bv, w, wv)) = best_of(a, |x| x.wakeups_per_device_hour, true) {
        lines.push(format!(
            "Battery proxy: {} wakes a device {:.2} times per hour, {} {:.2}.",
            a[b].name, bv, a[w].name, wv
        ));
    }
    for x in a.iter().filter(|x| x.lost > 0) {
        let (reason, n) = x.lost_by_reason.iter().max_by_key(|e| e.1).expect("reasons listed");
        lines.push(format!("{} lost {} copies, most for `{}` ({n}).", x.name, x.lost, reason.as_str()));
    }
    with_exposure(lines, r)
}
