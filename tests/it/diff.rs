//! `zonecheck diff`: two policies compared by meaning (DESIGN.md §7).
//!
//! Reordering, comments and layout give exit 0; each kind of change (reach, exports,
//! assumptions, processors, confinement, exceptions, device packet space) is found, with a
//! path or a witness packet and the flows responsible; the JSON shape of docs/json.md.

use std::path::Path;

use assert_cmd::Command;
use zonecheck::report::diff::{self, Diff, Side};
use zonecheck::syntax::date::Date;

const FIXTURE: &str = "tests/fixtures/report/kommune.zc";
const TODAY: Date = Date { year: 2026, month: 11, day: 1 };

fn zonecheck() -> Command {
    let mut c = Command::cargo_bin("zonecheck").expect("binary");
    c.env("NO_COLOR", "1").env("ZONECHECK_TODAY", "2026-11-01");
    c
}

fn fixture() -> String {
    std::fs::read_to_string(FIXTURE).expect("fixture")
}

fn model(text: &str) -> (zonecheck::Model, zonecheck::verify::Verdict) {
    let m = zonecheck::load_str("kommune.zc", text).expect("policy resolves");
    let mut v = zonecheck::verify::verify(&m, &zonecheck::verify::Options::default());
    zonecheck::verify::expiry::apply(&m, &mut v, TODAY);
    (m, v)
}

fn compare(old: &str, new: &str) -> Diff {
    let (a, b) = (model(old), model(new));
    diff::diff(
        &Side { model: &a.0, verdict: &a.1 },
        &Side { model: &b.0, verdict: &b.1 },
        &zonecheck::model::AclOptions::default(),
    )
}

/// The fixture with one replacement, which must apply.
fn edit(from: &str, to: &str) -> String {
    let text = fixture();
    assert!(text.contains(from), "fixture holds {from:?}");
    text.replacen(from, to, 1)
}

#[test]
fn reordering_comments_and_layout_mean_the_same() {
    let same = compare(&fixture(), &fixture());
    assert!(same.is_same() && same.changes() == 0, "{same:?}");
    let reordered = std::fs::read_to_string("tests/fixtures/report/kommune-reordered.zc").expect("fixture");
    assert_ne!(reordered, fixture());
    let d = compare(&fixture(), &reordered);
    assert!(d.is_same(), "{}", diff::text(&d));
    zonecheck().args(["diff", FIXTURE, "tests/fixtures/report/kommune-reordered.zc"]).assert().code(0);
}

#[test]
fn a_removed_carries_shows_the_new_reach_the_leak_and_the_assumption() {
    let d = compare(&fixture(), &edit("  carries none because \"kun tekniske hendelser\"\n", ""));
    assert_eq!((d.verdict.old, d.verdict.new), ("proved", "violated"));
    let helse = d.classes.iter().find(|c| c.name == "helse").expect("helse changed");
    let siem = helse.reach.added.iter().find(|r| r.node == "siem").expect("helse reaches siem");
    assert!(!siem.allowed);
    assert_eq!(siem.zone, "adm");
    assert_eq!(siem.path.last().map(String::as_str), Some("siem"));
    assert_eq!(siem.flows, vec!["[epj, msh] -> siem : syslog".to_string()]);
    assert_eq!(helse.assumptions.removed.len(), 1);
    assert_eq!(helse.assumptions.removed[0].justification, "kun tekniske hendelser");
    // A data-only change moves no packet.
    assert!(d.devices.is_empty(), "{:?}", d.devices);
}

#[test]
fn a_new_service_shows_packet_space_with_a_witness_and_its_flow() {
    let d = compare(&fixture(), &edit("flow vda -> print : ipp", "flow vda -> print : ipp, ssh"));
    // carries none: no class moves; the assumption now covers a wider flow, so it shows.
    for c in &d.classes {
        assert!(c.reach.is_empty() && c.exports.is_empty() && c.processors.is_empty(), "{c:?}");
        assert_eq!(c.assumptions.added[0].subject, "vda -> print : ipp, ssh");
        assert_eq!(c.assumptions.removed[0].subject, "vda -> print : ipp");
    }
    let fw = d.devices.iter().find(|x| x.device == "fw-kjerne").expect("firewall changed");
    assert_eq!(fw.kind, "firewall");
    assert!(fw.removed.is_empty());
    let w = &fw.added[0];
    assert_eq!((w.witness.src.as_str(), w.witness.dst.as_str()), ("10.20.11.11", "10.20.33.30"));
    assert_eq!((w.witness.protocol, w.witness.dport), (6, 22));
    assert_eq!((w.witness.iif.as_deref(), w.witness.oif.as_deref()), (Some("eth1"), Some("eth2")));
    assert_eq!(w.flows, vec!["vda -> print : ipp, ssh".to_string()]);
    let vda = d.devices.iter().find(|x| x.device == "vda").expect("vda's host firewall filters output");
    assert_eq!(vda.kind, "windows-host");
    assert!(vda.added[0].witness.text.starts_with("tcp 10.20.11.11:49152 -> 10.20.33.30:22 (output)"));
    // The switch filters what enters Vlan32 (adm): the printer's stateless answers.
    let sw = d.devices.iter().find(|x| x.device == "sw-core").expect("switch changed");
    assert_eq!(sw.added.len(), 1);
    assert_eq!(sw.added[0].reason, "answers to flows");
    assert_eq!((sw.added[0].witness.src.as_str(), sw.added[0].witness.sport), ("10.20.33.30", 22));
    assert_eq!(d.devices.len(), 3, "{:?}", d.devices);
    // And back: the same space removed.
    let back = compare(&edit("flow vda -> print : ipp", "flow vda -> print : ipp, ssh"), &fixture());
    let fw = back.devices.iter().find(|x| x.device == "fw-kjerne").expect("firewall changed");
    assert!(fw.added.is_empty());
    assert_eq!(fw.removed[0].witness.dport, 22);
}

#[test]
fn exports_processors_confinement_and_exceptions() {
    // An export removed: nhn-edi no longer receives helse, and the flow moves no data.
    let d = compare(
        &fixture(),
        &edit(
            "export helse basis \"Helsepersonelloven § 45\"; encrypted payload \"S/MIME\"",
            "carries none because \"bare kvitteringer\"",
        ),
    );
    let helse = d.classes.iter().find(|c| c.name == "helse").expect("helse");
    assert_eq!(helse.exports.removed.len(), 1);
    assert_eq!(helse.exports.removed[0].basis, "Helsepersonelloven § 45");
    assert!(helse.reach.removed.iter().any(|r| r.node == "nhn-edi"));
    assert_eq!(helse.assumptions.added.len(), 1);

    // The same export turned around: the recipient now fetches.
    let d = compare(&fixture(), &edit("export helse basis", "export helse fetched basis"));
    let helse = d.classes.iter().find(|c| c.name == "helse").expect("helse");
    assert_eq!(helse.exports.added[0].direction, "fetched");
    assert_eq!(helse.exports.removed[0].direction, "to");

    // A processor's agreement changes.
    let d = compare(&fixture(), &edit("dpa \"DBA-2024-017\"", "dpa \"DBA-2026-001\""));
    let bv = d.classes.iter().find(|c| c.name == "barnevern").expect("barnevern");
    assert_eq!(bv.processors.added[0].dpa.as_deref(), Some("DBA-2026-001"));
    assert_eq!(bv.processors.removed[0].dpa.as_deref(), Some("DBA-2024-017"));
    assert!(d.devices.is_empty());

    // Confinement narrowed: barnevern may no longer be in the VDI zone, where it arrives.
    let d = compare(&fixture(), &edit("confined to sikker-srv, sikker-vdi", "confined to sikker-srv"));
    let bv = d.classes.iter().find(|c| c.name == "barnevern").expect("barnevern");
    let allowed = bv.allowed.as_ref().expect("allowed zones changed");
    assert_eq!(allowed.new, vec!["sikker-srv".to_string()]);
    assert_eq!((bv.verdict.old, bv.verdict.new), (Some("proved"), Some("violated")));

    // A class no longer confined.
    let d = compare(&fixture(), &edit("{ special; confined to sikker-srv, sikker-vdi }", "{ special }"));
    assert_eq!(d.classes.iter().find(|c| c.name == "barnevern").map(|c| c.change), Some("removed"));

    // An exception renewed: removed with its old date, added with the new one.
    let d = compare(&fixture(), &edit("until 2026-11-30", "until 2027-11-30"));
    assert_eq!(d.allows.added.len(), 1);
    assert_eq!(d.allows.added[0].until.as_deref(), Some("2027-11-30"));
    assert_eq!(d.allows.removed[0].until.as_deref(), Some("2026-11-30"));
    assert_eq!(d.allows.added[0].owner.as_deref(), Some("Helse og omsorg"));
    assert_eq!(d.changes(), 2);
}

#[test]
fn devices_added_and_removed() {
    let d = compare(&fixture(), &edit("switch sw-core { target cisco-ios; interface Vlan32 zone adm }\n", ""));
    let sw = d.devices.iter().find(|x| x.device == "sw-core").expect("switch gone");
    assert_eq!((sw.kind, sw.change), ("switch", "removed"));
    assert!(!sw.removed.is_empty() && sw.added.is_empty());
    let d = compare(&edit("switch sw-core { target cisco-ios; interface Vlan32 zone adm }\n", ""), &fixture());
    let sw = d.devices.iter().find(|x| x.device == "sw-core").expect("switch new");
    assert_eq!(sw.change, "added");
    assert!(sw.added.iter().any(|c| c.flows.iter().any(|f| f.contains("siem"))), "{:?}", sw.added);
}

#[test]
fn json_shape() {
    let d = compare(&fixture(), &edit("flow vda -> print : ipp", "flow vda -> print : ipp, ssh"));
    let v: serde_json::Value = serde_json::from_str(&diff::json(&d)).expect("JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["meaning"], "changed");
    for key in ["verdict", "classes", "allows", "devices"] {
        assert!(!v[key].is_null(), "{key}");
    }
    let dev = &v["devices"][0];
    for key in ["device", "kind", "change", "added", "removed", "inconclusive"] {
        assert!(dev.get(key).is_some(), "devices[].{key}");
    }
    let w = &dev["added"][0]["witness"];
    for key in ["text", "family", "path", "protocol", "src", "dst", "sport", "dport", "in", "out"] {
        assert!(w.get(key).is_some(), "witness.{key}");
    }
}

#[test]
fn text_and_markdown_snapshots() {
    let new = edit("  carries none because \"kun tekniske hendelser\"\n", "")
        .replacen("flow vda -> print : ipp", "flow vda -> print : ipp, ssh", 1)
        .replacen("until 2026-11-30", "until 2027-11-30", 1);
    let d = compare(&fixture(), &new);
    insta::assert_snapshot!("diff_text", diff::text(&d));
    insta::assert_snapshot!("diff_markdown", diff::markdown(&d));
    assert!(diff::markdown(&compare(&fixture(), &fixture())).contains("**Same meaning.**"));
}

#[test]
fn cli_exit_codes_and_formats() {
    let d = std::env::temp_dir().join(format!("zonecheck-diff-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp");
    let new = d.join("new.zc");
    std::fs::write(&new, edit("flow vda -> print : ipp", "flow vda -> print : ipp, ssh")).expect("write");
    let out = zonecheck().args(["diff", FIXTURE]).arg(&new).assert().code(1).get_output().stdout.clone();
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.contains("+ permits tcp 10.20.11.11:49152 -> 10.20.33.30:22"), "{text}");
    let out = zonecheck()
        .args(["diff", FIXTURE])
        .arg(&new)
        .args(["--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(v["meaning"], "changed");
    let out = zonecheck()
        .args(["diff", FIXTURE])
        .arg(&new)
        .args(["--format", "markdown"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).starts_with("## zonecheck diff"));
    zonecheck().args(["diff", FIXTURE, "does-not-exist.zc"]).assert().code(2);
    std::fs::write(d.join("bad.zc"), "flow a -> b : https \"x\"\n").expect("write");
    zonecheck().args(["diff"]).arg(d.join("bad.zc")).arg(FIXTURE).assert().code(2);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_shipped_policy_diffs_with_itself_and_a_one_flow_change_touches_only_its_devices() {
    let mut paths = vec!["policies/fjordvik".to_string()];
    for e in std::fs::read_dir("policies").expect("policies") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "zc") {
            paths.push(p.display().to_string());
        }
    }
    for p in &paths {
        let m = zonecheck::load_policy(Path::new(p)).expect("loads");
        let v = zonecheck::verify::verify(&m, &zonecheck::verify::Options::default());
        let d = diff::diff(
            &Side { model: &m, verdict: &v },
            &Side { model: &m, verdict: &v },
            &zonecheck::model::AclOptions::default(),
        );
        assert!(d.is_same(), "{p}: {}", diff::text(&d));
    }
    // Fjordvik with the monitoring flow narrowed to one zone: only the devices on its way
    // (and the hosts it named) change, and every change names that flow.
    let dir = std::env::temp_dir().join(format!("zonecheck-diff-fjordvik-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp");
    for e in std::fs::read_dir("policies/fjordvik").expect("dir") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
    }
    let f = dir.join("42-flows-felles.zc");
    let text = std::fs::read_to_string(&f).expect("read");
    let from = "monitor -> [sikker-srv, sikker-vdi, sikker-jump, sikker-backup] : ping";
    assert!(text.contains(from));
    std::fs::write(&f, text.replacen(from, "monitor -> [sikker-srv, sikker-vdi, sikker-jump] : ping", 1))
        .expect("write");
    let out = zonecheck()
        .args(["diff", "policies/fjordvik"])
        .arg(&dir)
        .args(["--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    let devices = v["devices"].as_array().expect("devices");
    assert!(!devices.is_empty());
    for dev in devices {
        assert!(dev["added"].as_array().expect("added").is_empty(), "narrowing adds nothing: {dev}");
        for c in dev["removed"].as_array().expect("removed") {
            assert!(
                c["flows"]
                    .as_array()
                    .expect("flows")
                    .iter()
                    .any(|f| f.as_str().is_some_and(|f| f.starts_with("monitor -> "))),
                "{c}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
