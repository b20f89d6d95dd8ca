//! `zonecheck check` and compile's self-check as users meet them: exit codes, formats,
//! located findings, input errors.

use assert_cmd::Command;

use crate::util::zonecheck;

fn temp_dir(name: &str) -> std::path::PathBuf {
    crate::util::temp_dir("check", name)
}

fn compiled(name: &str) -> std::path::PathBuf {
    let d = temp_dir(name).join("bundle");
    zonecheck().args(["compile", "policies/fjordvik", "-o"]).arg(&d).assert().code(0);
    d
}

fn stdout(c: &mut Command, code: i32) -> String {
    String::from_utf8_lossy(&c.assert().code(code).get_output().stdout).into_owned()
}

#[test]
fn a_fresh_bundle_checks_equal_in_every_format() {
    let b = compiled("fresh");
    let human = stdout(zonecheck().args(["check", "policies/fjordvik"]).arg(&b), 0);
    assert!(human.contains("31 devices checked: 31 equal, 0 different"), "{human}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(zonecheck().args(["check", "policies/fjordvik", "--format", "json"]).arg(&b), 0))
            .expect("json");
    assert_eq!(json["verdict"], "equal");
    assert_eq!(json["devices"].as_array().map(Vec::len), Some(31));
    let sarif: serde_json::Value =
        serde_json::from_str(&stdout(zonecheck().args(["check", "policies/fjordvik", "--format", "sarif"]).arg(&b), 0))
            .expect("sarif");
    assert_eq!(sarif["version"], "2.1.0");
    let junit = stdout(zonecheck().args(["check", "policies/fjordvik", "--format", "junit"]).arg(&b), 0);
    assert!(junit.contains("tests=\"31\" failures=\"0\""), "{junit}");
}

#[test]
fn an_edited_switch_entry_is_found_with_witnesses_both_ways_and_its_line() {
    let b = compiled("edited");
    let file = b.join("switch/sw-core.ios");
    let text = std::fs::read_to_string(&file).expect("read");
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("10 permit tcp") && l.ends_with("eq 445"))
        .expect("an entry")
        + 1;
    let edited: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { l.replace("eq 445", "eq 446") } else { l.to_string() })
        .collect();
    std::fs::write(&file, edited.join("\n") + "\n").expect("write");
    let out = stdout(zonecheck().args(["check", "policies/fjordvik", "--device", "sw-core"]).arg(&file), 1);
    assert!(out.contains("zonecheck::check::permits-more") && out.contains(":446"), "{out}");
    assert!(out.contains("zonecheck::check::permits-less") && out.contains(":445"), "{out}");
    assert!(out.contains("DIFFERENT"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&stdout(
        zonecheck().args(["check", "policies/fjordvik", "--format", "json", "--device", "sw-core"]).arg(&file),
        1,
    ))
    .expect("json");
    let diffs = json["devices"][0]["differences"].as_array().expect("differences").clone();
    let more = diffs.iter().find(|d| d["direction"] == "more").expect("more");
    assert_eq!(more["rule"]["line"], line, "the finding points at the edited entry");
    assert_eq!(more["witness"]["destination_port"], 446);
    let less = diffs.iter().find(|d| d["direction"] == "less").expect("less");
    assert_eq!(less["witness"]["destination_port"], 445);
    assert!(less["policy"].as_str().is_some_and(|p| p.contains("flow ")), "names the flow: {less}");
    // The whole bundle is different now, and says which device.
    let all = stdout(zonecheck().args(["check", "policies/fjordvik"]).arg(&b), 1);
    assert!(all.contains("30 equal, 1 different"), "{all}");
}

#[test]
fn unmodelled_constructs_make_the_verdict_cannot_decide_with_file_and_line() {
    let b = compiled("unsupported");
    let file = b.join("firewall/fw-kjerne.nft");
    let text = std::fs::read_to_string(&file).expect("read");
    let text = text.replacen("\t\tct state invalid drop\n", "\t\tct state invalid drop\n\t\tmeta mark 0x1 accept\n", 1);
    let line = text.lines().position(|l| l.trim() == "meta mark 0x1 accept").expect("the line") + 1;
    std::fs::write(&file, &text).expect("write");
    let out = stdout(zonecheck().args(["check", "policies/fjordvik", "--device", "fw-kjerne"]).arg(&file), 2);
    assert!(out.contains("zonecheck::check::unmodelled") && out.contains("mark"), "{out}");
    assert!(out.contains("fw-kjerne.nft") && out.contains(&format!("line {line}")), "names file and line: {out}");
    assert!(out.contains("CANNOT DECIDE") && out.contains("1 cannot decide"), "{out}");
    assert!(!out.contains(": equal"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&stdout(
        zonecheck().args(["check", "policies/fjordvik", "--format", "json", "--device", "fw-kjerne"]).arg(&file),
        2,
    ))
    .expect("json");
    assert_eq!(json["verdict"], "cannot-decide");
    assert_eq!(json["devices"][0]["verdict"], "cannot-decide");
    assert_eq!(json["devices"][0]["unsupported"][0]["line"], line);
    // No advice while a construct is not modelled: a rule called redundant may be the one
    // that stops what the unmodelled one lets through.
    assert_eq!(json["devices"][0]["dead_rules"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_dump_cut_off_is_refused() {
    let b = compiled("truncated");
    let ios = std::fs::read_to_string(b.join("switch/sw-core.ios")).expect("read");
    // Cut before the final `end`, after a whole line.
    let cut = &ios[..ios.rfind("\nend").expect("end") + 1];
    let file = b.join("cut.ios");
    std::fs::write(&file, cut).expect("write");
    let out = stdout(zonecheck().args(["check", "policies/fjordvik", "--device", "sw-core"]).arg(&file), 2);
    assert!(out.contains("zonecheck::check::truncated") && out.contains("`end`"), "{out}");
    assert!(out.contains("CANNOT DECIDE: the file is cut off"), "{out}");
    // The same file whole is equal.
    let whole = b.join("whole.ios");
    std::fs::write(&whole, &ios).expect("write");
    stdout(zonecheck().args(["check", "policies/fjordvik", "--device", "sw-core"]).arg(&whole), 0);
    // nft JSON cut off.
    let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "inet", "name": "zc""#;
    let file = b.join("cut.json");
    std::fs::write(&file, json).expect("write");
    let out = stdout(zonecheck().args(["check", "policies/fjordvik", "--device", "fw-kjerne"]).arg(&file), 2);
    assert!(out.contains("zonecheck::check::truncated") && out.contains("cut off"), "{out}");
}

#[test]
fn input_errors_exit_2_with_a_diagnostic() {
    let b = compiled("input");
    let nft = b.join("firewall/fw-kjerne.nft");
    let err = |c: &mut Command| String::from_utf8_lossy(&c.assert().code(2).get_output().stderr).into_owned();
    let e = err(zonecheck().args(["check", "policies/fjordvik", "--device", "fw-kjeme"]).arg(&nft));
    assert!(e.contains("zonecheck::check::input") && e.contains("fw-kjerne"), "did you mean: {e}");
    let e = err(zonecheck().args(["check", "policies/fjordvik", "--device", "fw-kjerne", "/does/not/exist"]));
    assert!(e.contains("cannot read"), "{e}");
    let e = err(zonecheck()
        .args(["check", "policies/fjordvik", "--as", "windows-json", "--device", "fw-kjerne"])
        .arg(&nft));
    assert!(e.contains("cannot hold the rules"), "{e}");
    let e = err(zonecheck().args(["check", "policies/fjordvik"]).arg(temp_dir("empty")));
    assert!(e.contains("manifest.json"), "{e}");
    let e = err(zonecheck().args(["check", "policies/fjordvik"]));
    assert!(e.contains("nothing to check"), "{e}");
}

#[test]
fn compile_checks_its_own_output_and_writes_nothing_on_a_mismatch() {
    let d = temp_dir("selfcheck");
    let templates = d.join("templates");
    copy_dir(std::path::Path::new("targets"), &templates);
    // A template that sends every interface pair to accept instead of its chain.
    let fw = templates.join("nftables/firewall.nft.j2");
    let t = std::fs::read_to_string(&fw).expect("read");
    assert!(t.contains(": jump {{ v.chain }}"));
    std::fs::write(&fw, t.replace(": jump {{ v.chain }}", ": accept")).expect("write");
    let out = d.join("bundle");
    let res = zonecheck()
        .args(["compile", "policies/fjordvik", "--templates"])
        .arg(&templates)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&res.get_output().stderr);
    assert!(err.contains("zonecheck::compile::self-check") && err.contains("fw-kjerne"), "{err}");
    assert!(err.contains("permits-more"), "the differences are shown: {err}");
    assert!(!out.exists(), "nothing may be written");

    // A change that keeps the semantics (a comment) passes.
    std::fs::write(&fw, t.replace("# Replace the whole table", "# (site template) Replace the whole table"))
        .expect("write");
    zonecheck()
        .args(["compile", "policies/fjordvik", "--templates"])
        .arg(&templates)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(0);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

#[test]
fn several_devices_in_one_run() {
    let b = compiled("several");
    let out = stdout(
        zonecheck()
            .args(["check", "policies/fjordvik", "--device", "fw-kjerne"])
            .arg(b.join("firewall/fw-kjerne.nft"))
            .args(["--device", "sw-skole"])
            .arg(b.join("switch/sw-skole.aoscx")),
        0,
    );
    assert!(out.contains("2 devices checked: 2 equal"), "{out}");
}

#[test]
fn a_partial_bundle_says_what_it_leaves_unchecked() {
    let d = temp_dir("partial").join("bundle");
    zonecheck().args(["compile", "policies/fjordvik", "--target", "nftables", "-o"]).arg(&d).assert().code(0);
    let out = stdout(zonecheck().args(["check", "policies/fjordvik"]).arg(&d), 0);
    assert!(out.contains("note: not in the bundle, so not checked: sw-core, sw-skole"), "{out}");
    assert!(out.contains("6 devices checked: 6 equal"), "{out}");
}

/// The firewall file compile writes, checked alone (where dead rules are looked for): no
/// rule of it is advice to remove, though its connection marks are not modelled.
#[test]
fn a_compiled_firewall_has_no_dead_rules() {
    let b = compiled("own-firewall");
    let file = b.join("firewall/fw-kjerne.nft");
    let out = stdout(
        zonecheck().args(["check", "policies/fjordvik", "--format", "json", "--device", "fw-kjerne"]).arg(&file),
        0,
    );
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["devices"][0]["verdict"], "equal", "{out}");
    assert_eq!(json["devices"][0]["dead_rules"].as_array().map(Vec::len), Some(0), "{out}");
}

/// A closed-zone Linux host that accepts every related packet on its way out (as before
/// issue 18) is told apart from its compiled ruleset, pointing at that rule.
#[test]
fn a_host_that_lets_every_related_packet_out_is_different() {
    let b = compiled("host-related");
    let text = std::fs::read_to_string(b.join("host/backup-repo.nft")).expect("read");
    let old = text.replacen("\t\tct state related counter drop\n", "\t\tct state related accept\n", 1);
    assert_ne!(old, text, "the compiled output chain restricts related packets");
    let file = b.join("old-backup-repo.nft");
    std::fs::write(&file, old).expect("write");
    let out = stdout(
        zonecheck().args(["check", "policies/fjordvik", "--format", "json", "--device", "backup-repo"]).arg(&file),
        1,
    );
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let diffs = json["devices"][0]["differences"].as_array().expect("differences");
    assert!(diffs.iter().any(|d| d.to_string().contains("ct state related accept")), "{out}");
}

/// The core firewall's forward chain with its policy turned to accept and its final drop
/// gone, as a hand edit on the device would leave it: everything no rule drops passes, in
/// hundreds of thousands of pieces that meet the intended cubes everywhere.
#[test]
fn a_forward_chain_without_its_default_deny_is_found_at_scale() {
    use zonecheck::internals::{Size, policy};
    let d = temp_dir("no-default-deny");
    let path = d.join("synth.zc");
    std::fs::write(&path, policy(Size { systems: 1_000, flows: 10_000, classes: 5 })).expect("policy written");
    let bundle = d.join("bundle");
    zonecheck().arg("compile").arg(&path).arg("-o").arg(&bundle).assert().code(0);
    let text = std::fs::read_to_string(bundle.join("firewall/fw-core.nft")).expect("firewall file");
    let forward = text.find("chain zc_forward {").expect("forward chain");
    let (head, chain) = text.split_at(forward);
    let chain = chain.replacen("policy drop;", "policy accept;", 1);
    let chain = chain.replacen("counter drop comment \"default deny\"", "counter", 1);
    assert_ne!(chain, text[forward..], "the edit changed nothing");
    let device = d.join("fw-core.nft");
    std::fs::write(&device, format!("{head}{chain}")).expect("device written");
    let out = stdout(zonecheck().args(["check"]).arg(&path).args(["--device", "fw-core"]).arg(&device), 1);
    assert!(out.contains("DIFFERENT: permits more"), "{out}");
}

/// A core firewall that permits everything (its table empty, so no chain drops) against
/// tens of thousands of intended cubes: the difference is every packet less all of them.
/// Cut by each cube in turn this took minutes; it must come back with the finding.
#[test]
fn a_firewall_that_permits_everything_is_found_at_scale() {
    use zonecheck::internals::{Size, policy};
    let d = temp_dir("permits-everything");
    let text = policy(Size { systems: 1_000, flows: 10_000, classes: 5 });
    let path = d.join("synth.zc");
    std::fs::write(&path, text).expect("policy written");
    let device = d.join("fw-core.nft");
    std::fs::write(&device, "table inet zonecheck {\n}\n").expect("device written");
    let out = stdout(zonecheck().args(["check"]).arg(&path).args(["--device", "fw-core"]).arg(&device), 1);
    assert!(out.contains("fw-core") && out.contains("DIFFERENT: permits more"), "{out}");
}

#[test]
fn a_bundle_compiled_from_another_version_of_the_policy_says_so() {
    let dir = temp_dir("other-version");
    let policy = dir.join("policy");
    std::fs::create_dir_all(&policy).expect("mkdir");
    for entry in std::fs::read_dir("policies/fjordvik").expect("policy dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), policy.join(entry.file_name())).expect("copy");
    }
    let bundle = dir.join("bundle");
    zonecheck().arg("compile").arg(&policy).arg("-o").arg(&bundle).assert().code(0);
    let note = "compiled from another version of the policy";
    let same = stdout(zonecheck().arg("check").arg(&policy).arg(&bundle), 0);
    assert!(!same.contains(note), "{same}");
    // A comment changes the policy's text (and digest), not what it permits.
    let zc = std::fs::read_dir(&policy)
        .expect("policy dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "zc"))
        .expect("a .zc file");
    let text = std::fs::read_to_string(&zc).expect("read");
    std::fs::write(&zc, format!("{text}\n# endret etter kompilering\n")).expect("write");
    let other = stdout(zonecheck().arg("check").arg(&policy).arg(&bundle), 0);
    assert!(other.contains(note), "{other}");
    // A policy that does not load is what is reported, even when the bundle is readable.
    std::fs::write(&zc, format!("{text}\nflow ukjent -> ukjent2 : https \"x\"\n")).expect("write");
    let out = zonecheck().arg("check").arg(&policy).arg(&bundle).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::resolve::unknown"), "{}", String::from_utf8_lossy(&out));
}

/// Every file the self-check refuses is named, in path order (as `check` of a bundle lists
/// them), however the files were rendered and checked in parallel.
#[test]
fn a_self_check_refusal_names_every_unequal_file_in_path_order() {
    let d = temp_dir("selfcheck-many");
    let templates = d.join("templates");
    copy_dir(std::path::Path::new("targets"), &templates);
    // The chain every nftables file shares, its default deny turned to accept.
    let chain = templates.join("nftables/chain.nft.j2");
    let t = std::fs::read_to_string(&chain).expect("read");
    assert!(t.contains("counter drop comment \"default deny\""));
    std::fs::write(
        &chain,
        t.replace("counter drop comment \"default deny\"", "counter accept comment \"default deny\""),
    )
    .expect("write");
    let res = zonecheck()
        .args(["compile", "policies/fjordvik", "--templates"])
        .arg(&templates)
        .arg("-o")
        .arg(d.join("bundle"))
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&res.get_output().stderr);
    let files = "firewall/fw-kjerne.nft, host/backup-repo.nft, host/monitor.nft, host/siem.nft, \
                 host/smtp-relay.nft, host/web-proxy.nft";
    assert!(err.contains(&format!("the generated {files} do not permit")), "{err}");
}

/// Conntrack's invalid packets belong to no flow: a stateful ruleset that accepts them,
/// everywhere or only where a flow's tuple matches, permits more than the policy.
#[test]
fn a_ruleset_accepting_invalid_packets_is_different() {
    let b = compiled("invalid");
    let edit = |rel: &str, from: &str, to: &str| {
        let file = b.join(rel);
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(text.contains(from), "{rel} holds `{from}`");
        let edited = file.with_extension("edited.nft");
        std::fs::write(&edited, text.replacen(from, to, 1)).expect("write");
        edited
    };
    // The core firewall's forward chain, accepting them instead of dropping them first.
    let fw = edit("firewall/fw-kjerne.nft", "ct state invalid drop", "ct state invalid accept");
    let out = stdout(zonecheck().args(["check", "policies/fjordvik", "--device", "fw-kjerne"]).arg(&fw), 1);
    assert!(out.contains("zonecheck::check::permits-more") && out.contains("ct state invalid"), "{out}");
    assert!(out.contains("this rule accepts it") && out.contains("ct state invalid accept"), "{out}");
    // A Linux host without the drop: its permit rules take the invalid packets of its flows.
    let host = edit("host/backup-repo.nft", "ct state invalid drop\n", "");
    let out = stdout(zonecheck().args(["check", "policies/fjordvik", "--device", "backup-repo"]).arg(&host), 1);
    assert!(out.contains("zonecheck::check::permits-more") && out.contains("ct state invalid"), "{out}");
    // The bundle as compiled drops them: equal.
    let fresh = stdout(zonecheck().args(["check", "policies/fjordvik"]).arg(&b), 0);
    assert!(fresh.contains("31 devices checked: 31 equal"), "{fresh}");
}
