//! Issue 13: the generated reading's claims hold against the run's numbers, one name means one
//! figure in every output, and the terminal output fits the terminal.

use std::process::Command;

use netarch::output::charts::{bytes, duration_ms, percent, sig3};
use netarch::scenario::{builtin, load, parse};
use serde_json::Value;

/// What the reading may claim about one architecture, read from `results.json`.
struct Figures {
    name: String,
    delivery: Option<f64>,
    in_deadline: Option<f64>,
    p50_ms: Option<f64>,
    wakeups: Option<f64>,
    lost: u64,
}

fn figures(json: &str) -> Vec<Figures> {
    let doc: Value = serde_json::from_str(json).unwrap();
    doc["architectures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| Figures {
            name: a["name"].as_str().unwrap().to_owned(),
            delivery: a["delivery_ratio"].as_f64(),
            in_deadline: a["delivered_in_deadline_ratio"].as_f64(),
            p50_ms: a["latency"]["p50_ms"].as_f64(),
            wakeups: a["wakeups_per_device_hour"].as_f64(),
            lost: a["lost"].as_u64().unwrap(),
        })
        .collect()
}

/// The architecture whose label starts `text` (the longest such label) and the text after it.
fn named<'a, 'b>(text: &'a str, archs: &'b [Figures]) -> (&'b Figures, &'a str) {
    let a = archs
        .iter()
        .filter(|a| text.starts_with(&a.name))
        .max_by_key(|a| a.name.len())
        .unwrap_or_else(|| panic!("no architecture starts `{text}`"));
    (a, &text[a.name.len()..])
}

/// The architectures listed at the start of `text` ("a", "a and b", "a, b and c") and the text
/// after the list.
fn named_list<'a, 'b>(text: &'a str, archs: &'b [Figures]) -> (Vec<&'b Figures>, &'a str) {
    let mut out = Vec::new();
    let mut text = text;
    loop {
        let (a, rest) = named(text, archs);
        out.push(a);
        let next = [" and ", ", "]
            .iter()
            .filter_map(|sep| rest.strip_prefix(sep))
            .find(|r| archs.iter().any(|x| r.starts_with(&x.name)));
        match next {
            Some(r) => text = r,
            None => return (out, rest),
        }
    }
}

/// Checks that the architectures named are exactly those whose value prints as the extreme.
#[allow(clippy::too_many_arguments)]
fn check_end(
    line: &str,
    archs: &[Figures],
    who: &[&Figures],
    printed: &str,
    value: impl Fn(&Figures) -> Option<f64> + Copy,
    format: impl Fn(f64) -> String + Copy,
    smallest: bool,
) {
    for w in who {
        check_extreme(line, archs, w, printed, value, format, smallest);
    }
    for a in archs {
        if value(a).map(format).as_deref() == Some(printed) {
            assert!(who.iter().any(|w| w.name == a.name), "{line}: {} also has {printed} but is not named", a.name);
        }
    }
}

/// `text` after `prefix`, up to (not including) `end`, and the rest after `end`.
fn between<'a>(text: &'a str, prefix: &str, end: &str) -> (&'a str, &'a str) {
    let rest = text.strip_prefix(prefix).unwrap_or_else(|| panic!("`{text}` does not start with `{prefix}`"));
    let at = rest.find(end).unwrap_or_else(|| panic!("no `{end}` in `{rest}`"));
    (&rest[..at], &rest[at + end.len()..])
}

/// Checks that `named` has the best (or worst) value as printed: no architecture's value prints
/// better. `printed` is what the reading says.
fn check_extreme(
    line: &str,
    archs: &[Figures],
    who: &Figures,
    printed: &str,
    value: impl Fn(&Figures) -> Option<f64>,
    format: impl Fn(f64) -> String,
    smallest: bool,
) {
    let v = value(who).unwrap_or_else(|| panic!("{line}: {} has no value", who.name));
    assert_eq!(format(v), printed, "{line}: {} has {}", who.name, format(v));
    let extreme =
        archs.iter().filter_map(&value).fold(if smallest { f64::INFINITY } else { f64::NEG_INFINITY }, |m, x| {
            if smallest { m.min(x) } else { m.max(x) }
        });
    assert_eq!(
        format(extreme),
        printed,
        "{line}: the {} is {}",
        if smallest { "least" } else { "most" },
        format(extreme)
    );
}

/// Every architecture with a value prints it as `printed`: a tie is a tie.
fn check_tie(
    line: &str,
    archs: &[Figures],
    printed: &str,
    value: impl Fn(&Figures) -> Option<f64>,
    format: impl Fn(f64) -> String,
) {
    for a in archs {
        if let Some(v) = value(a) {
            assert_eq!(format(v), printed, "{line}: {} has {}", a.name, format(v));
        }
    }
}

/// A ratio as the reading prints it ("2% slower", "2.4x slower", "4,700x slower"), checked
/// against `ratio` within the printed precision.
fn check_ratio(line: &str, text: &str, ratio: f64) {
    let (num, unit) = if let Some(p) = text.strip_suffix("% slower") {
        (p, '%')
    } else if let Some(x) = text.strip_suffix("x slower") {
        (x, 'x')
    } else {
        panic!("{line}: `{text}` is not a ratio")
    };
    let n: f64 = num.replace(',', "").parse().unwrap_or_else(|_| panic!("{line}: `{num}`"));
    if unit == '%' {
        let pct = (ratio - 1.0) * 100.0;
        assert!(ratio < 1.1 && (pct - n).abs() <= 0.5, "{line}: the ratio is {ratio}");
        assert!(n > 0.0, "{line}: a 0% difference is a tie");
    } else if n < 10.0 {
        assert!((ratio - n).abs() <= 0.05 + 1e-9 && n >= 1.1, "{line}: the ratio is {ratio}");
    } else {
        // Two significant digits.
        assert!((ratio - n).abs() <= 0.05 * n, "{line}: the ratio is {ratio}");
    }
}

/// Checks every claim of a reading against the run's `results.json`; returns how many it checked.
fn check_reading(scenario: &str, reading: &str, archs: &[Figures]) -> usize {
    let mut checked = 0;
    for bad in ["1.0x", ".0x slower", "about 1 equally", "senders of 1 ", " 1 copies"] {
        assert!(!reading.contains(bad), "{scenario}: `{bad}` in\n{reading}");
    }
    for line in reading.lines() {
        let line_ctx = format!("{scenario}: {line}");
        let line_ctx = line_ctx.as_str();
        assert!(
            !line.split_whitespace().any(|w| w.len() > 1
                && w.ends_with('s')
                && w[..w.len() - 1].chars().all(|c| c.is_ascii_digit())
                && line.contains(&format!("{w} deadline"))),
            "{line_ctx}: a deadline in raw seconds"
        );
        if let Some(rest) = line.strip_prefix("Delivery: ") {
            if let Some(tie) = rest.strip_prefix("every architecture delivers about ") {
                check_tie(line_ctx, archs, tie.trim_end_matches('.'), |a| a.delivery, percent);
            } else {
                let (best, rest) = named_list(rest, archs);
                let verb = if best.len() == 1 { " delivers" } else { " deliver" };
                let (v, rest) = between(rest, &format!("{verb} the most ("), "), ");
                check_end(line_ctx, archs, &best, v, |a| a.delivery, percent, false);
                let (worst, rest) = named_list(rest, archs);
                let (w, _) = between(rest, " the least (", ").");
                check_end(line_ctx, archs, &worst, w, |a| a.delivery, percent, true);
            }
            checked += 1;
        } else if let Some(rest) = line.strip_prefix("Within the ") {
            let (deadline, rest) = rest.split_once(" deadline: ").unwrap();
            assert!(deadline.contains(' '), "{line_ctx}: a deadline with its unit, as the table writes it");
            if let Some(tie) = rest.strip_prefix("every architecture delivers about ") {
                check_tie(line_ctx, archs, tie.trim_end_matches('.'), |a| a.in_deadline, percent);
            } else {
                let (best, rest) = named_list(rest, archs);
                let verb = if best.len() == 1 { " delivers" } else { " deliver" };
                let (v, rest) = between(rest, &format!("{verb} the most ("), "), ");
                check_end(line_ctx, archs, &best, v, |a| a.in_deadline, percent, false);
                let (worst, rest) = named_list(rest, archs);
                let (w, _) = between(rest, " the least (", ").");
                check_end(line_ctx, archs, &worst, w, |a| a.in_deadline, percent, true);
            }
            checked += 1;
        } else if let Some(rest) = line.strip_prefix("Median latency of delivered copies: ") {
            if let Some(tie) = rest.strip_prefix("every architecture takes about ") {
                check_tie(line_ctx, archs, tie.trim_end_matches('.'), |a| a.p50_ms, duration_ms);
            } else {
                let (fast, rest) = named_list(rest, archs);
                let verb = if fast.len() == 1 { " is" } else { " are" };
                let rest = rest.strip_prefix(&format!("{verb} fastest at ")).unwrap();
                let (v, rest) = rest.split_once([',', ';']).unwrap();
                check_end(line_ctx, archs, &fast, v, |a| a.p50_ms, duration_ms, true);
                // Survivorship: a fastest architecture that delivered clearly less says so.
                let most = archs.iter().filter(|a| a.p50_ms.is_some()).filter_map(|a| a.delivery).fold(0.0, f64::max);
                let short = fast.iter().find(|a| a.delivery.unwrap() + 0.05 < most);
                let says = rest.starts_with(" but ");
                assert_eq!(says, short.is_some(), "{line_ctx}: the most any delivered is {}", percent(most));
                if let Some(a) = short {
                    let who = if fast.len() == 1 { "it".to_owned() } else { a.name.clone() };
                    let caveat = format!(" but {who} delivered only {} of its copies", percent(a.delivery.unwrap()));
                    assert!(rest.starts_with(&caveat), "{line_ctx}: expected `{caveat}`");
                }
                // Split at the value's comma (a caveat follows) or semicolon (the slowest does).
                let rest = if says { &rest[rest.find("; ").unwrap() + 2..] } else { rest.trim_start() };
                let (slow, rest) = named_list(rest, archs);
                let verb = if slow.len() == 1 { " is" } else { " are" };
                let rest = rest.strip_prefix(&format!("{verb} slowest at ")).unwrap();
                let (w, rest) = rest.split_once(" (").unwrap();
                check_end(line_ctx, archs, &slow, w, |a| a.p50_ms, duration_ms, false);
                let p50s = archs.iter().filter_map(|a| a.p50_ms);
                let ratio = p50s.clone().fold(0.0, f64::max) / p50s.fold(f64::INFINITY, f64::min);
                check_ratio(line_ctx, rest.trim_end_matches(")."), ratio);
            }
            checked += 1;
        } else if let Some(rest) = line.strip_prefix("Battery proxy: ") {
            if let Some(tie) = rest.strip_prefix("every architecture wakes a device about ") {
                check_tie(line_ctx, archs, tie.trim_end_matches(" times per device-hour."), |a| a.wakeups, sig3);
            } else {
                let (least, rest) = named_list(rest, archs);
                let verb = if least.len() == 1 { " wakes" } else { " wake" };
                let (v, rest) = between(rest, &format!("{verb} a device the least ("), " times per device-hour), ");
                check_end(line_ctx, archs, &least, v, |a| a.wakeups, sig3, true);
                let (most, rest) = named_list(rest, archs);
                let (w, _) = between(rest, " the most (", ").");
                check_end(line_ctx, archs, &most, w, |a| a.wakeups, sig3, false);
            }
            checked += 1;
        } else if line.contains(" lost ") && line.contains(", most for `") && !line.starts_with("Median") {
            let (a, rest) = named(line, archs);
            let (n, _) = between(rest, " lost ", " cop");
            assert_eq!(n.replace(',', "").parse::<u64>().unwrap(), a.lost, "{line_ctx}");
            checked += 1;
        }
        for word in ["fastest", "slowest", "slower"] {
            assert!(
                !line.contains(word) || line.starts_with("Median latency of delivered copies: "),
                "{line_ctx}: unchecked `{word}`"
            );
        }
    }
    checked
}

#[test]
fn every_builtin_reading_claim_holds_against_its_results_issue_13() {
    let mut checked = 0;
    for b in builtin::BUILTINS {
        let s = parse(&load(b.name).unwrap(), &["world.users=300".to_string()])
            .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        let r = netarch::run::run(&s, netarch::run::entries(&s), &|_, _| {}).unwrap();
        let archs = figures(&netarch::output::json::results_json(&s, &r));
        let reading = netarch::output::table::reading(&r);
        let n = check_reading(b.name, &reading, &archs);
        if archs.len() > 1 {
            assert!(n >= 3, "{}: delivery, deadline and latency claims checked, {n} found\n{reading}", b.name);
        }
        checked += n;
    }
    assert!(checked > 3 * builtin::BUILTINS.len(), "{checked} claims checked");
}

fn netarch_run(args: &[&str], columns: usize) -> String {
    let o =
        Command::new(env!("CARGO_BIN_EXE_netarch")).args(args).env("COLUMNS", columns.to_string()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The terminal's lines up to the list of files written (paths are as long as they are).
fn screen(stdout: &str) -> Vec<&str> {
    stdout.lines().take_while(|l| !l.starts_with("wrote ")).collect()
}

#[test]
fn the_terminal_output_fits_80_and_100_columns_issue_13() {
    let dir = tempfile::tempdir().unwrap();
    for columns in [80, 100] {
        let out = dir.path().join(format!("default-{columns}"));
        let stdout =
            netarch_run(&["run", "default", "--set", "world.users=300", "--out", out.to_str().unwrap()], columns);
        let lines = screen(&stdout);
        for l in &lines {
            assert!(l.chars().count() <= columns, "{columns} columns: `{l}`\n{stdout}");
        }
        // Every figure of summary.csv is whole on one line (a number is never split).
        let json = std::fs::read_to_string(out.join("results.json")).unwrap();
        let doc: Value = serde_json::from_str(&json).unwrap();
        for a in doc["architectures"].as_array().unwrap() {
            let whole = [
                percent(a["delivery_ratio"].as_f64().unwrap()),
                duration_ms(a["latency"]["p50_ms"].as_f64().unwrap()),
                duration_ms(a["latency"]["p99_ms"].as_f64().unwrap()),
                duration_ms(a["latency_online_at_send"]["p50_ms"].as_f64().unwrap()),
                bytes(a["all_bytes_per_delivered"].as_f64().unwrap()),
            ];
            for v in whole {
                assert!(
                    lines.iter().any(|l| l.contains(&v)),
                    "{columns} columns: `{v}` is not whole on a line\n{stdout}"
                );
            }
        }
        assert!(stdout.contains("online@send"), "the online-at-send median is on screen");
    }
}

/// The cell of `row` under the header `name` (right-aligned columns end where their header does).
fn cell_under(header: &str, name: &str, row: &str) -> String {
    // The header `name` not preceded by a longer name ("bytes/delivered" in "all bytes/delivered").
    let at = header
        .match_indices(name)
        .find(|(i, _)| *i == 0 || header[..*i].ends_with("  "))
        .unwrap_or_else(|| panic!("no `{name}` in `{header}`"))
        .0;
    let end = header[..at].chars().count() + name.chars().count();
    let mut chars: Vec<char> = row.chars().collect();
    if chars.len() < end {
        chars.resize(end, ' ');
    }
    let padded: String = chars.iter().collect();
    let row = padded.as_str();
    let start = chars[..end].iter().collect::<String>().rfind("  ").map_or(0, |i| i + 2);
    let byte_start = row.char_indices().nth(chars[..start].len()).map_or(row.len(), |(i, _)| i);
    let byte_end = row.char_indices().nth(end).map_or(row.len(), |(i, _)| i);
    row[byte_start..byte_end].trim().to_owned()
}

#[test]
fn message_bytes_and_all_bytes_have_one_name_in_every_output_issue_13() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("briar");
    let stdout = netarch_run(&["run", "briar", "--set", "world.users=300", "--out", out.to_str().unwrap()], 250);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let a = &doc["architectures"][0];
    let message = a["bytes_per_delivered"].as_f64().unwrap();
    let all = a["all_bytes_per_delivered"].as_f64().unwrap();
    let delivered = a["delivered"].as_f64().unwrap();
    assert_eq!(message, a["bytes"].as_f64().unwrap() / delivered);
    assert_eq!(all, (a["bytes"].as_f64().unwrap() + a["overhead_bytes"].as_f64().unwrap()) / delivered);
    assert!(all > 10.0 * message, "Briar's keep-alives dominate its bytes: {all} against {message}");

    // summary.csv: the same numbers under the same names.
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut rows = csv.lines().map(|l| l.split(',').collect::<Vec<_>>());
    let header = rows.next().unwrap();
    let row = rows.next().unwrap();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()].parse::<f64>().unwrap();
    assert_eq!(col("bytes_per_delivered"), message);
    assert_eq!(col("all_bytes_per_delivered"), all);

    // The terminal: `bytes/delivered` and `all bytes/delivered`, each over its own figure.
    let lines = screen(&stdout);
    let head = lines.iter().find(|l| l.contains("all bytes/delivered")).unwrap_or_else(|| panic!("{stdout}"));
    let at_head = lines.iter().position(|l| l == head).unwrap();
    let row = lines[at_head + 2..].iter().find(|l| l.starts_with("briar ")).unwrap();
    assert_eq!(cell_under(head, "bytes/delivered", row), bytes(message), "{stdout}");
    assert_eq!(cell_under(head, "all bytes/delivered", row), bytes(all), "{stdout}");

    // report.html: the same names over the same figures.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let table = &html[html.find("<h3>Cost</h3>").unwrap()..];
    let heads: Vec<&str> = table[..table.find("</thead>").unwrap()]
        .split("<th>")
        .skip(1)
        .map(|h| &h[..h.find("</th>").unwrap()])
        .collect();
    let body = &table[table.find("<tbody>").unwrap()..];
    let cells: Vec<&str> = body[..body.find("</tr>").unwrap()]
        .split("<td")
        .skip(1)
        .map(|c| &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()])
        .collect();
    let at =
        |name: &str| cells[heads.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no `{name}` in {heads:?}"))];
    assert_eq!(at("bytes/delivered"), bytes(message));
    assert_eq!(at("all bytes/delivered"), bytes(all));

    // The cost chart draws all bytes, and says so.
    let svg = std::fs::read_to_string(out.join("cost.svg")).unwrap();
    assert!(svg.contains("all bytes/delivered"), "the cost chart names what it draws");
}
