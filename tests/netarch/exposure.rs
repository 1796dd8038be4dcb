//! Metadata exposure (issue 4): adversaries run on what the simulated hops observed. Correctness
//! against what each design must reveal, the entropy metric against theory, and the direction of
//! each teaching scenario's claim on small runs.

use netarch::metrics::ArchSummary;
use netarch::observe::adversary::{AdversarySpec, Mode, Vantage};
use netarch::observe::exposure::{AdversaryExposure, ExposureAnalysis};
use netarch::observe::{NodeKind, NodeKinds, Observation, ObservationSink, Truth, Visible};
use netarch::run::RunResults;
use netarch::scenario::{Source, load, parse};
use netarch::time::{SimDuration, SimTime};
use netarch::world::World;

use crate::common::{arch, run_all, scenario, scenario_with};

/// What adversary `name` learned on architecture `a`.
fn adv<'a>(a: &'a ArchSummary, name: &str) -> &'a AdversaryExposure {
    a.exposure.iter().find(|e| e.adversary == name).unwrap_or_else(|| panic!("no adversary `{name}` on {}", a.name))
}

fn share(v: Option<f64>) -> f64 {
    v.expect("a defined share")
}

/// A built-in scenario at a small size.
fn builtin(name: &str, sets: &[&str]) -> RunResults {
    let src = load(name).unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let s = parse(&src, &sets).unwrap_or_else(|e| panic!("{name}: {e}"));
    run_all(&s)
}

const CENTRAL: &str = r#"
name = "t"
duration = "2h"
warmup = "20min"
cooldown = "1h"
[world]
users = 300
[[arch]]
kind = "centralized"
name = "off"
sealed_sender = false
[[arch]]
kind = "centralized"
name = "on"
sealed_sender = true
[[adversary]]
kind = "operator"
name = "op"
[[adversary]]
kind = "operator"
name = "blind op"
addresses = false
"#;

#[test]
fn the_operator_learns_every_pair_without_sealed_sender_and_no_sender_identity_with_it() {
    let r = run_all(&scenario(CENTRAL));
    let off = adv(arch(&r, "off"), "op");
    assert!(off.messages > 500, "{} messages", off.messages);
    // Every message is uploaded to the server, which reads both identities.
    assert_eq!(off.observed, Some(1.0));
    assert_eq!(off.pair.learned, Some(1.0));
    assert_eq!(off.sender.identity, Some(1.0));
    assert_eq!((off.pair.wrong, off.sender.wrong), (Some(0.0), Some(0.0)));
    assert_eq!((off.graph.precision, off.graph.recall), (Some(1.0), Some(1.0)));
    let on = adv(arch(&r, "on"), "op");
    assert_eq!(on.sender.identity, Some(0.0), "sealed sender: no sender identity is read");
    assert_eq!(on.recipient.identity, Some(1.0));
    // The upload still comes from the sender's address, which the server ties to the account.
    assert_eq!(on.sender.learned, Some(1.0));
    assert_eq!(on.pair.learned, Some(1.0));
    assert!(share(on.addresses.identified) > 0.9, "{:?}", on.addresses);
    // Without addresses, sealed sender leaves the operator only the recipient.
    let blind = adv(arch(&r, "on"), "blind op");
    assert_eq!((blind.sender.learned, blind.pair.learned), (Some(0.0), Some(0.0)));
    assert_eq!(blind.recipient.learned, Some(1.0));
    assert_eq!(blind.addresses.identified, Some(0.0));
}

/// A correlating operator that keeps no connection logs, with sealed sender off and on.
const BLIND_CORRELATING: &str = r#"
name = "t"
duration = "3h"
warmup = "20min"
cooldown = "1h"
[world]
users = 300
[[arch]]
kind = "centralized"
name = "off"
sealed_sender = false
[[arch]]
kind = "centralized"
name = "on"
sealed_sender = true
[[adversary]]
kind = "operator"
name = "blind op + timing"
mode = "correlating"
addresses = false
"#;

#[test]
fn an_operator_that_reads_every_sender_leaves_no_anonymity_and_discloses_every_pair_issue_9() {
    let r = run_all(&scenario(BLIND_CORRELATING));
    let off = adv(arch(&r, "off"), "blind op + timing");
    assert_eq!((off.sender.identity, off.pair.learned), (Some(1.0), Some(1.0)));
    // It read the sender of every message whose recipient it saw: one candidate, no entropy.
    let a = off.anonymity.clone().unwrap();
    assert_eq!(a.messages, off.messages, "every message reaches the server");
    assert_eq!((a.mean_entropy_bits, a.p90_entropy_bits), (Some(0.0), Some(0.0)));
    assert_eq!((a.mean_degree, a.linked_with_certainty), (Some(0.0), Some(1.0)));
    assert_eq!(a.mean_anonymity_set, Some(1.0));
    // Sealed sender on: it reads no sender and, without addresses, times no entry, so each message
    // could come from anyone: log2 N bits, as before.
    let on = adv(arch(&r, "on"), "blind op + timing");
    let b = on.anonymity.clone().unwrap();
    assert_eq!(on.sender.identity, Some(0.0));
    assert!((b.mean_entropy_bits.unwrap() - 300f64.log2()).abs() < 1e-9, "{b:?}");
    assert_eq!(b.linked_with_certainty, Some(0.0));
    // The disclosure attack knows each sender when it reads it: every correspondent at its first
    // message, nobody named wrongly; with sealed sender on it has only the statistics.
    let (d_off, d_on) = (off.disclosure.clone().unwrap(), on.disclosure.clone().unwrap());
    assert!(d_off.pairs > 100, "{d_off:?}");
    assert_eq!((d_off.identified, d_off.wrongly_identified), (Some(1.0), Some(0.0)), "{d_off:?}");
    assert_eq!(d_off.median_messages_to_identify, Some(1.0));
    assert!(share(d_on.identified) < 0.5, "{d_on:?}");
    assert!(share(d_on.wrongly_identified) > 0.0, "{d_on:?}");
}

/// Everyone may write to everyone, uniformly, and is always online (so who is online says
/// nothing about who writes): the disclosure attack has nothing to learn.
const NULL_WORLD: &str = r#"
name = "t"
duration = "4h"
warmup = "20min"
cooldown = "1h"
[world]
users = 300
availability = { always_online = 1.0 }
social = { model = "complete" }
[[arch]]
kind = "centralized"
sealed_sender = true
[[adversary]]
kind = "operator"
name = "blind op + timing"
mode = "correlating"
addresses = false
"#;

#[test]
fn on_a_complete_graph_with_uniform_choice_the_disclosure_attack_scores_at_chance_issue_9() {
    let r = run_all(&scenario(NULL_WORLD));
    let op = adv(&r.archs[0], "blind op + timing");
    let d = op.disclosure.clone().unwrap();
    let pairs = d.pairs as f64;
    let (right, wrong) = (share(d.identified) * pairs, share(d.wrongly_identified) * pairs);
    // Candidates do not depend on who writes, so each user the attack names is one of the target's
    // correspondents so far with probability (correspondents so far) / (N - 1), at most the
    // target's correspondents over the run: on average pairs / targets. The right share of the
    // names is a binomial proportion over right + wrong names; allow four standard deviations.
    let names = right + wrong;
    assert!(names > 200.0, "{d:?}");
    let chance = pairs / d.targets as f64 / 299.0;
    let tolerance = 4.0 * (chance * (1.0 - chance) / names).sqrt();
    assert!(right / names <= chance + tolerance, "{right} right of {names} names; chance ≤ {chance:.3}: {d:?}");
    assert!(wrong > 5.0 * right, "wrong names do not pass for right ones: {d:?}");
    // Before issue 9 any correspondent seen once around its target counted as identified here
    // (62% of the pairs, at the first message): no non-contact was left to beat it.
    assert!(share(d.identified) < 0.2, "{d:?}");
}

/// Onion routing and P2P over Tor without relay failures, against one compromised machine and
/// against all of them.
const ONION: &str = r#"
name = "t"
duration = "2h"
warmup = "20min"
cooldown = "2h"
[world]
users = 300
[[arch]]
preset = "session"
relays = 30
relay_downtime = "0s"
[[arch]]
preset = "briar"
name = "tor"
onion_relays = 30
mesh = false
[[adversary]]
kind = "relays"
name = "one"
count = 1
[[adversary]]
kind = "relays"
name = "all"
share = 1.0
"#;

#[test]
fn a_single_compromised_relay_never_learns_both_ends_and_all_relays_learn_every_pair() {
    for seed in 1..=3 {
        let r = run_all(&scenario_with(ONION, &[&format!("seed={seed}")]));
        for a in &r.archs {
            let one = adv(a, "one");
            assert!(one.nodes_held >= 1 && share(one.observed) > 0.0, "{}: {one:?}", a.name);
            assert_eq!(one.pair.learned, Some(0.0), "seed {seed}, {}: one relay linked a pair", a.name);
            let all = adv(a, "all");
            // Whatever reached the recipient side is linked end to end, correctly.
            assert_eq!(all.pair.wrong, Some(0.0));
            assert!(share(all.pair.learned) > 0.9, "{}: {:?}", a.name, all.pair);
            assert!((share(all.pair.learned) - share(all.recipient.learned)).abs() < 1e-12, "{}", a.name);
        }
    }
}

/// Feeds the analysis by hand: `k` devices upload at the same instant with the same size, then
/// one message leaves towards a recipient.
fn entropy_with_candidates(k: u32) -> f64 {
    entropy_and_certainty(k, false).0
}

/// As [`entropy_with_candidates`]; with `direct`, the message that reaches the recipient comes
/// straight from device 0 (a device-to-device hop), so the observer sees its sender. Returns the
/// entropy and the share linked with certainty.
fn entropy_and_certainty(k: u32, direct: bool) -> (f64, f64) {
    let s = scenario("name = \"t\"\nduration = \"1h\"\n[world]\nusers = 50\n[[arch]]\nkind = \"centralized\"\n");
    let world = World::generate(s.world.clone(), 1);
    let spec = AdversarySpec {
        name: "gpo".into(),
        vantage: Vantage::Global,
        mode: Mode::Correlating,
        addresses: true,
        window: SimDuration::from_secs(60),
        confidence: 0.5,
        sizes: true,
        disclosure_targets: 0,
    };
    let mut x = ExposureAnalysis::new(&world, 1, &[spec]);
    let infra = [NodeKind::ProviderServer];
    let regions = [0u8];
    let kinds = NodeKinds {
        users: 50,
        infra: &infra,
        weights: &[1.0],
        user_regions: &world.user_region,
        infra_regions: &regions,
    };
    x.start(&kinds);
    let server = 50;
    let hop = |t: u64, from: u32, to: u32, serial: u64, sender: u32| Observation {
        time: SimTime(t),
        from,
        to,
        bytes: 700,
        visible: Visible::NOTHING,
        sender: None,
        recipient: None,
        room: None,
        truth: Truth { serial, sender, recipient: Some(49), room: None, counted: true },
        real: true,
    };
    for u in 0..k {
        x.observe(&hop(1_000_000, u, server, u as u64, u), &kinds);
    }
    x.observe(&hop(1_050_000, if direct { 0 } else { server }, 49, 0, 0), &kinds);
    for u in 0..k {
        x.retired(
            &Truth { serial: u as u64, sender: u, recipient: Some(49), room: None, counted: true },
            SimTime(2_000_000),
        );
    }
    let out = x.finish();
    let a = out[0].anonymity.clone().expect("a correlating adversary has an anonymity summary");
    assert_eq!(a.messages, 1);
    (a.mean_entropy_bits.unwrap(), a.linked_with_certainty.unwrap())
}

#[test]
fn k_indistinguishable_candidates_leave_log2_k_bits_and_one_leaves_none() {
    for k in [1u32, 2, 3, 5, 8] {
        let h = entropy_with_candidates(k);
        assert!((h - (k as f64).log2()).abs() < 1e-9, "k = {k}: {h} bits");
    }
}

#[test]
fn a_message_seen_leaving_its_senders_device_has_no_anonymity_left_whatever_the_timing_issue_9() {
    // The same five indistinguishable uploads, but the message reaches the recipient straight from
    // device 0: the observer saw its sender, so the timing crowd no longer hides it.
    assert!((entropy_and_certainty(5, false).0 - 5f64.log2()).abs() < 1e-9);
    assert_eq!(entropy_and_certainty(5, false).1, 0.0);
    assert_eq!(entropy_and_certainty(5, true), (0.0, 1.0));
}

#[test]
fn a_global_observer_links_nearly_every_message_of_low_latency_onion_routing_at_low_load() {
    let text = r#"
name = "t"
duration = "3h"
warmup = "30min"
cooldown = "30min"
[world]
users = 300
availability = { always_online = 1.0 }
[world.workload]
rate = "2/h"
[[arch]]
preset = "briar"
name = "tor"
onion_relays = 100
[[arch]]
preset = "session"
relays = 100
relay_downtime = "0s"
[[adversary]]
kind = "global"
mode = "correlating"
"#;
    let r = run_all(&scenario(text));
    for a in &r.archs {
        let g = &a.exposure[0];
        assert!(share(g.pair.learned) > 0.9, "{}: the global observer links only {:?}", a.name, g.pair);
        assert!(share(g.pair.wrong) < 0.02, "{}: {:?}", a.name, g.pair);
        let an = g.anonymity.as_ref().unwrap();
        assert!(an.median_entropy_bits.unwrap() < 0.5, "{}: {an:?}", a.name);
    }
}

#[test]
fn a_home_server_admin_recovers_more_of_the_social_graph_the_more_users_it_hosts() {
    let text = r#"
name = "t"
duration = "3h"
warmup = "30min"
cooldown = "1h"
[world]
users = 1000
[[arch]]
preset = "element"
name = "z0.5"
zipf_exponent = 0.5
[[arch]]
preset = "element"
name = "z1"
zipf_exponent = 1.0
[[arch]]
preset = "element"
name = "z2"
zipf_exponent = 2.0
[[adversary]]
kind = "home_server"
name = "largest"
"#;
    let r = run_all(&scenario(text));
    let points: Vec<(f64, f64)> = r
        .archs
        .iter()
        .map(|a| (a.model.figures["largest_server_share"], share(adv(a, "largest").graph.recall)))
        .collect();
    for w in points.windows(2) {
        assert!(w[1].0 > w[0].0 && w[1].1 > w[0].1, "share of users and recall must grow together: {points:?}");
    }
    // It sees any conversation with one end on it: recall ≈ 1 - (1 - share)^2, within noise.
    for &(s, recall) in &points {
        let expect = 1.0 - (1.0 - s) * (1.0 - s);
        assert!((recall - expect).abs() < 0.1, "share {s}: recall {recall}, about {expect} expected");
    }
}

#[test]
fn adversary_memory_follows_messages_in_flight() {
    let r = builtin("compromised-relays", &["world.users=300", "duration=3h"]);
    for a in &r.archs {
        for e in &a.exposure {
            assert!(
                e.peak_messages_held <= a.engine.peak_messages_in_flight,
                "{} on {}: held {} > {} in flight",
                e.adversary,
                a.name,
                e.peak_messages_held,
                a.engine.peak_messages_in_flight
            );
        }
    }
}

#[test]
fn the_exposure_analysis_is_deterministic_and_thread_independent() {
    let s = scenario_with(include_str!("../../scenarios/sealed-sender.toml"), &["world.users=200", "duration=3h"]);
    let json = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let r = pool.install(|| run_all(&s));
        netarch::output::json::results_json(&s, &r)
    };
    let one = json(1);
    assert!(one.contains("\"exposure\""));
    assert_eq!(one, json(2));
}

#[test]
fn exposure_reaches_the_csv_the_terminal_and_the_run_folder() {
    let s = scenario(CENTRAL);
    let r = run_all(&s);
    let csv = netarch::output::csv::exposure_csv(&r);
    assert!(csv.starts_with("arch,adversary,mode,metric,value\n"));
    assert!(csv.contains("on,op,passive,sender_identity,0\n"), "{csv}");
    assert!(csv.contains("off,op,passive,pair_learned,1\n"));
    let table = netarch::output::table::summary_table(&r);
    assert!(table.contains("blind op") && table.contains("P 100"), "{table}");
    assert!(netarch::output::table::reading(&r).contains("network address"));
    let files = netarch::output::run_files(&s, &r);
    assert!(files.iter().any(|(name, _)| name == "exposure.csv"));
    let heat = netarch::output::exposure_matrix(&s, &r).unwrap();
    assert_eq!((heat.adversaries.len(), heat.archs.len()), (2, 2));
}

/// `--no-adversaries` runs the same architectures without the analysis, and says so: no
/// exposure figures or file, no adversary tables in the resolved scenario, the flag in the
/// command that reproduces the run.
#[test]
fn no_adversaries_leaves_the_analysis_out_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.toml"), CENTRAL).unwrap();
    let run = |extra: &[&str], out: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_netarch"))
            .args(["run", "t.toml", "-q", "--out", out])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(out).join("results.json")).unwrap()).unwrap();
        json
    };
    let with = run(&[], "with");
    let without = run(&["--no-adversaries"], "without");
    assert!(dir.path().join("with/exposure.csv").is_file());
    assert!(!dir.path().join("without/exposure.csv").exists());
    let exposure = |j: &serde_json::Value| j["architectures"][0]["exposure"].as_array().map_or(0, |a| a.len());
    assert_eq!((exposure(&with), exposure(&without)), (2, 0));
    assert!(without["command"].as_str().unwrap().ends_with("--no-adversaries"), "{}", without["command"]);
    assert_eq!(with["architectures"][0]["delivered"], without["architectures"][0]["delivered"], "same run otherwise");
    assert!(!without.to_string().contains("blind op"), "the resolved scenario lists no adversary");
}

// ---- scenario input ----

fn problems(text: &str) -> Vec<String> {
    let src = Source { file: "t.toml".into(), text: text.into(), dir: None };
    match parse(&src, &[]) {
        Err(netarch::scenario::ScenarioError::Invalid(d)) => {
            d.iter().map(|x| format!("{} {}", x.key, x.message)).collect()
        }
        Err(e) => vec![e.to_string()],
        Ok(_) => Vec::new(),
    }
}

#[test]
fn bad_adversary_tables_are_reported_with_their_key() {
    let base =
        "name = \"t\"\nduration = \"1h\"\n[world]\nusers = 20\n[[arch]]\nkind = \"centralized\"\n[[adversary]]\n";
    let p = problems(&format!("{base}kind = \"global\"\nsharee = 0.1\n"));
    assert!(p.iter().any(|x| x.contains("sharee")), "{p:?}");
    let p = problems(&format!("{base}kind = \"operator\"\nregion = \"europe_west\"\n"));
    assert!(p.iter().any(|x| x.contains("adversary[0].region") && x.contains("does not apply")), "{p:?}");
    let p = problems(&format!("{base}kind = \"relays\"\n"));
    assert!(p.iter().any(|x| x.contains("needs `share` or `count`")), "{p:?}");
    let p = problems(&format!("{base}kind = \"relays\"\nshare = 1.5\n"));
    assert!(p.iter().any(|x| x.contains("adversary[0].share")), "{p:?}");
    let p = problems(&format!("{base}kind = \"isp\"\nregion = \"mars\"\n"));
    assert!(p.iter().any(|x| x.contains("unknown region `mars`")), "{p:?}");
    let p = problems(&format!("{base}kind = \"contact\"\nuser = 20\n"));
    assert!(p.iter().any(|x| x.contains("user 20 does not exist")), "{p:?}");
    let p = problems(&format!("{base}kind = \"global\"\n[[adversary]]\nkind = \"global\"\n"));
    assert!(p.iter().any(|x| x.contains("two adversaries are labelled `global observer`")), "{p:?}");
    assert!(problems(&format!("{base}kind = \"home_server\"\nrank = 3\nmode = \"correlating\"\n")).is_empty());
}

// ---- the teaching scenarios, each in the direction of its claim ----

#[test]
fn sealed_sender_hides_the_sender_identity_but_not_the_sender() {
    let r = builtin("sealed-sender", &["world.users=300", "duration=8h"]);
    let (off, on) = (arch(&r, "sealed sender off"), arch(&r, "sealed sender on"));
    assert_eq!(adv(off, "operator").sender.identity, Some(1.0));
    assert_eq!(adv(on, "operator").sender.identity, Some(0.0));
    assert_eq!(adv(on, "operator").sender.learned, Some(1.0), "the IP address still gives the sender away");
    let blind = adv(on, "operator, no IP logs + timing");
    assert_eq!(blind.pair.learned, Some(0.0));
    let with_ip = adv(on, "operator + timing").disclosure.clone().unwrap();
    let without = blind.disclosure.clone().unwrap();
    assert_eq!(with_ip.identified, Some(1.0));
    assert!(share(without.identified) < share(with_ip.identified), "{without:?}");
    assert!(share(without.identified) > 0.0, "repeated messages leak even without addresses: {without:?}");
    // Timing on the wire does not care about sealed sender.
    let g = |a: &ArchSummary| share(adv(a, "global observer + timing").pair.learned);
    assert!(g(on) > 0.3 && (g(on) - g(off)).abs() < 0.02, "{} vs {}", g(on), g(off));
}

#[test]
fn rooms_spread_over_more_servers_show_their_members_to_more_admins() {
    let r = builtin("room-metadata", &["world.users=600"]);
    let rooms = |a: &str, who: &str| share(adv(arch(&r, a), who).rooms.clone().unwrap().share);
    let senders = |a: &str, who: &str| share(adv(arch(&r, a), who).sender.identity);
    assert!(rooms("few big servers", "10% of servers") < rooms("element (Zipf 1.5)", "10% of servers"));
    assert!(rooms("element (Zipf 1.5)", "10% of servers") < rooms("even spread", "10% of servers"));
    assert!(senders("few big servers", "10% of servers") < senders("even spread", "10% of servers"));
    assert!(rooms("few big servers", "largest server") > rooms("even spread", "largest server"));
    for a in &r.archs {
        for e in &a.exposure {
            assert_eq!(
                e.rooms.as_ref().unwrap().precision.unwrap_or(1.0),
                1.0,
                "a server learns only real memberships"
            );
        }
    }
}

#[test]
fn a_bigger_home_server_sees_more_of_who_talks_to_whom() {
    let r = builtin("who-talks-to-whom", &["world.users=1000"]);
    let e = arch(&r, "element (Zipf 1.5)");
    let recall: Vec<f64> = ["largest server", "2nd largest", "5th largest", "20th largest"]
        .iter()
        .map(|n| share(adv(e, n).graph.recall))
        .collect();
    assert!(recall.windows(2).all(|w| w[0] > w[1]), "{recall:?}");
    assert!(recall[0] > 0.4, "{recall:?}");
    let even = arch(&r, "even spread");
    assert!(share(adv(even, "largest server").graph.recall) < recall[1]);
    assert_eq!(adv(arch(&r, "one provider"), "operator").graph.recall, Some(1.0));
    assert_eq!(adv(e, "operator").graph.recall, None, "no provider server in a federation");
}

#[test]
fn tor_hides_ip_addresses_from_contacts_that_direct_p2p_shows() {
    let r = builtin("ip-exposure", &["world.users=400"]);
    let contact = |a: &str| share(adv(arch(&r, a), "a contact").addresses.identified);
    assert!(contact("p2p direct") > 0.0);
    assert_eq!(contact("p2p over Tor"), 0.0);
    assert_eq!(contact("one provider"), 0.0);
    let relays = adv(arch(&r, "p2p over Tor"), "10% of Tor relays");
    assert!(share(relays.addresses.seen) > 0.0 && relays.addresses.identified == Some(0.0));
    assert!(share(adv(arch(&r, "one provider"), "operator").addresses.identified) > 0.9);
    let isp = |a: &str| adv(arch(&r, a), "ISP europe_west").clone();
    assert!(share(isp("p2p direct").pair.learned) > 0.0 && isp("p2p over Tor").pair.learned == Some(0.0));
}

#[test]
fn more_compromised_relays_learn_more_and_a_global_observer_most() {
    let r = builtin("compromised-relays", &["world.users=500"]);
    for a in &r.archs {
        let p = |n: &str| adv(a, n).clone();
        let shares = ["5% of relays", "10% of relays", "20% of relays", "40% of relays"];
        let senders: Vec<f64> = shares.iter().map(|n| share(p(n).sender.learned)).collect();
        let pairs: Vec<f64> = shares.iter().map(|n| share(p(n).pair.learned)).collect();
        assert!(senders.windows(2).all(|w| w[0] < w[1]), "{}: {senders:?}", a.name);
        assert!(pairs.windows(2).all(|w| w[0] <= w[1]) && pairs[0] < 0.01, "{}: {pairs:?}", a.name);
        assert!(share(p("20% of relays + timing").pair.learned) > pairs[2], "{}", a.name);
        assert!(share(p("global observer + timing").pair.learned) > share(p("20% of relays + timing").pair.learned));
        assert!(
            share(p("global observer + timing, padded").pair.learned)
                <= share(p("global observer + timing").pair.learned)
        );
    }
}

#[test]
fn more_honest_relays_mean_fewer_compromised_messages_and_more_anonymity() {
    let r = builtin("honest-relays", &["world.users=400"]);
    let timing = |a: &ArchSummary| adv(a, "20 compromised nodes + timing").clone();
    let linked: Vec<f64> = r.archs.iter().map(|a| share(timing(a).pair.learned)).collect();
    let seen: Vec<f64> = r.archs.iter().map(|a| share(adv(a, "20 compromised nodes").recipient.learned)).collect();
    let degree: Vec<f64> = r.archs.iter().map(|a| timing(a).anonymity.unwrap().mean_degree.unwrap()).collect();
    assert!(linked.windows(2).all(|w| w[0] >= w[1]) && linked[0] > linked[3], "{linked:?}");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");
    assert!(degree.windows(2).all(|w| w[0] < w[1]), "{degree:?}");
    // Against a global observer the number of relays changes nothing much.
    let g: Vec<f64> = r.archs.iter().map(|a| share(adv(a, "global observer + timing").pair.learned)).collect();
    assert!(g.iter().all(|x| (x - g[0]).abs() < 0.1), "{g:?}");
}
