//! compile: the bundle's guarantees (DESIGN.md §5) — refuses while verify fails, byte-
//! identical output, atomic replacement, escaping of every policy string, golden output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::util::{quoted, zonecheck};

fn temp(name: &str) -> PathBuf {
    crate::util::temp_dir("compile", name)
}

/// A file's SHA-256 as the manifest spells it (lower-case hex), computed here rather than
/// by the crate.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn compile_is_byte_identical_and_manifest_digests_match() {
    let d = temp("det");
    zonecheck().args(["compile", "policies/fjordvik", "-o"]).arg(d.join("a")).assert().code(0);
    zonecheck().args(["compile", "policies/fjordvik", "-o"]).arg(d.join("b")).assert().code(0);
    // The same policy read through a different path gives the same bundle, too.
    let abs = std::fs::canonicalize("policies/fjordvik").expect("canonical");
    zonecheck().arg("compile").arg(&abs).arg("-o").arg(d.join("c")).assert().code(0);
    let a = read_tree(&d.join("a"));
    assert_eq!(a, read_tree(&d.join("b")));
    assert_eq!(a, read_tree(&d.join("c")));
    assert!(
        a.contains_key("firewall/fw-kjerne.nft") && a.contains_key("manifest.json") && a.contains_key("SUMMARY.md")
    );
    let manifest: serde_json::Value = serde_json::from_slice(&a["manifest.json"]).expect("json");
    let files = manifest["files"].as_array().expect("files");
    assert_eq!(files.len() + 2, a.len(), "every device file is in the manifest");
    for f in files {
        let path = f["path"].as_str().expect("path");
        let bytes = &a[path];
        assert_eq!(f["sha256"].as_str(), Some(sha256_hex(bytes).as_str()), "{path}");
        assert_eq!(f["bytes"].as_u64(), Some(bytes.len() as u64));
    }
    // Recompiling into the same directory changes nothing but says so.
    zonecheck().args(["compile", "policies/fjordvik", "-o"]).arg(d.join("a")).assert().code(0);
    let again = read_tree(&d.join("a"));
    for (k, v) in &a {
        if k != "SUMMARY.md" {
            assert_eq!(again.get(k), Some(v), "{k}");
        }
    }
    let summary = String::from_utf8_lossy(&again["SUMMARY.md"]);
    assert!(summary.contains("The policy is unchanged") && summary.contains("No device file changed"), "{summary}");
}

#[test]
fn compile_refuses_a_violated_policy_and_writes_nothing() {
    let d = temp("refuse");
    let out = d.join("bundle");
    zonecheck().args(["compile", "examples/violations/print-to-admin.zc", "-o"]).arg(&out).assert().code(1);
    assert!(!out.exists(), "nothing written");
    // A previous bundle stays exactly as it was.
    zonecheck().args(["compile", "policies/bodo.zc", "-o"]).arg(&out).assert().code(0);
    let before = read_tree(&out);
    zonecheck().args(["compile", "examples/violations/vendor-direct.zc", "-o"]).arg(&out).assert().code(1);
    assert_eq!(before, read_tree(&out));
    // Bad input: exit 2, previous bundle untouched.
    std::fs::write(d.join("bad.zc"), "zone a { trust closed; net 10.0.0.0/24 }\nflow a -> b : https \"x\"\n")
        .expect("write");
    zonecheck().arg("compile").arg(d.join("bad.zc")).arg("-o").arg(&out).assert().code(2);
    assert_eq!(before, read_tree(&out));
    // A broken template: exit 2, previous bundle untouched, no temporary directory left.
    let tpl = d.join("tpl/nftables");
    std::fs::create_dir_all(&tpl).expect("mkdir");
    std::fs::write(tpl.join("firewall.nft.j2"), "{{ no_such_variable }}").expect("write");
    zonecheck()
        .args(["compile", "policies/fjordvik", "-o"])
        .arg(&out)
        .arg("--templates")
        .arg(d.join("tpl"))
        .assert()
        .code(2);
    assert_eq!(before, read_tree(&out));
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("zonecheck-new"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn recompiling_links_unchanged_files_and_rewrites_the_rest() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let d = temp("relink");
    let (out, fresh) = (d.join("out"), d.join("fresh"));
    zonecheck().args(["compile", "policies/fjordvik", "-o"]).arg(&out).assert().code(0);
    let inode = |p: &str| std::fs::metadata(out.join(p)).expect(p).ino();
    let (kept, edited, opened) = ("firewall/fw-kjerne.nft", "host/siem.nft", "host/monitor.nft");
    let kept_inode = inode(kept);
    // Someone edits one file in place and makes another writable to everyone.
    let mut text = std::fs::read(out.join(edited)).expect("read");
    text.extend_from_slice(b"# edited by hand\n");
    std::fs::write(out.join(edited), text).expect("edit");
    let (edited_inode, opened_inode) = (inode(edited), inode(opened));
    std::fs::set_permissions(out.join(opened), std::fs::Permissions::from_mode(0o666)).expect("chmod");
    // And, where the test may (as root), gives a third to another user.
    let given = "host/smtp-relay.nft";
    let given_inode = inode(given);
    let gave = std::os::unix::fs::chown(out.join(given), Some(65534), None).is_ok();
    zonecheck().args(["compile", "policies/fjordvik", "-o"]).arg(&out).assert().code(0);
    for _ in 0..2 {
        zonecheck().args(["compile", "policies/fjordvik", "-o"]).arg(&fresh).assert().code(0);
    }
    // The bundle is the one written over an untouched bundle, byte for byte (but for the
    // summary, which reports the hand edit as a change).
    let (mut got, mut want) = (read_tree(&out), read_tree(&fresh));
    assert!(got.remove("SUMMARY.md").is_some() && want.remove("SUMMARY.md").is_some());
    let differing: Vec<&String> = want.keys().filter(|k| got.get(*k) != want.get(*k)).collect();
    assert!(differing.is_empty() && got.len() == want.len(), "files differ: {differing:?}");
    // The untouched file is linked from the previous bundle; the edited and the opened one
    // are written anew, with the usual permissions.
    assert_eq!(inode(kept), kept_inode);
    assert_ne!(inode(edited), edited_inode);
    assert_ne!(inode(opened), opened_inode);
    assert_eq!(std::fs::metadata(out.join(opened)).expect("meta").permissions().mode() & 0o022, 0);
    if gave {
        assert_ne!(inode(given), given_inode, "a file of another user must not be linked");
        assert_ne!(std::fs::metadata(out.join(given)).expect("meta").uid(), 65534);
    }
}

#[test]
fn timings_are_printed_only_when_asked() {
    let d = temp("timings");
    let run = |timings: bool, args: &[&str]| {
        let mut c = zonecheck();
        if timings {
            c.env("ZONECHECK_TIMINGS", "1");
        }
        let out = c.args(args).arg(d.join("out")).assert().code(0).get_output().stderr.clone();
        String::from_utf8(out).expect("UTF-8")
    };
    let quiet = run(false, &["compile", "policies/bodo.zc", "-o"]);
    assert!(!quiet.contains("timing:"), "{quiet}");
    let compile = run(true, &["compile", "policies/bodo.zc", "-o"]);
    for stage in ["parse and resolve", "verify", "lower, render, self-check", "write"] {
        assert!(compile.contains(&format!("timing: {stage}")), "no `{stage}` in {compile}");
    }
    let check = run(true, &["check", "policies/bodo.zc"]);
    for stage in ["parse and resolve, read files", "expectations", "check devices", "report"] {
        assert!(check.contains(&format!("timing: {stage}")), "no `{stage}` in {check}");
    }
    // Each stage says the peak memory so far (Linux), never less than the stage before.
    let peaks: Vec<u64> = compile
        .lines()
        .filter_map(|l| l.strip_prefix("timing: ")?.split(", peak ").nth(1)?.strip_suffix(" MB")?.parse().ok())
        .collect();
    assert!(peaks.len() >= 4 && peaks.windows(2).all(|w| w[0] <= w[1]) && peaks[0] > 0, "{compile}");
    // Devices too quick to list one by one are summed per format, in both commands.
    for out in [&compile, &check] {
        let summed = out.lines().find(|l| l.contains("quick nft devices, summed:"));
        assert!(summed.is_some_and(|l| l.contains("read ") && l.contains("difference ")), "{out}");
    }
}

#[test]
fn compile_never_replaces_a_directory_that_is_not_a_bundle() {
    let d = temp("notbundle");
    std::fs::write(d.join("precious.txt"), "keep me").expect("write");
    let out =
        zonecheck().args(["compile", "policies/bodo.zc", "-o"]).arg(&d).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::compile::output"));
    assert_eq!(std::fs::read_to_string(d.join("precious.txt")).expect("still there"), "keep me");
}

#[test]
fn templates_can_be_overridden() {
    let d = temp("tpl");
    let tpl = d.join("tpl/nftables");
    std::fs::create_dir_all(&tpl).expect("mkdir");
    let builtin = std::fs::read_to_string("targets/nftables/firewall.nft.j2").expect("template");
    std::fs::write(tpl.join("firewall.nft.j2"), format!("# site header: Fjordvik drift\n{builtin}")).expect("write");
    zonecheck()
        .args(["compile", "policies/fjordvik", "-o"])
        .arg(d.join("out"))
        .arg("--templates")
        .arg(d.join("tpl"))
        .assert()
        .code(0);
    let fw = std::fs::read_to_string(d.join("out/firewall/fw-kjerne.nft")).expect("read");
    assert!(fw.starts_with("# site header: Fjordvik drift\n"));
    // Host files still come from the built-in template.
    let host = std::fs::read_to_string(d.join("out/host/siem.nft")).expect("read");
    assert!(host.starts_with("#!/usr/sbin/nft -f"));
}

#[test]
fn device_filter_and_unknown_device() {
    let d = temp("device");
    zonecheck()
        .args(["compile", "policies/fjordvik", "--device", "fw-kjerne", "-o"])
        .arg(d.join("out"))
        .assert()
        .code(0);
    let tree = read_tree(&d.join("out"));
    assert_eq!(tree.keys().filter(|k| k.ends_with(".nft")).count(), 1);
    let out = zonecheck()
        .args(["compile", "policies/fjordvik", "--device", "fw-kjerne2", "-o"])
        .arg(d.join("x"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("did you mean `fw-kjerne`"));
}

#[test]
fn interface_names_nft_cannot_take_are_rejected_with_a_span() {
    let d = temp("ifname");
    let text = "zone a { trust internal; net 10.0.0.0/24 }\nzone b { trust internal; net 10.1.0.0/24 }\n\
                system x { zone a; address 10.0.0.1 }\nsystem y { zone b; address 10.1.0.1 }\nflow x -> y : https \"x\"\n\
                firewall fw { target nftables; interface \"eth*\" zone a; interface averyveryverylongname zone b }\n";
    std::fs::write(d.join("p.zc"), text).expect("write");
    let out = zonecheck()
        .arg("compile")
        .arg(d.join("p.zc"))
        .arg("-o")
        .arg(d.join("out"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert_eq!(err.matches("zonecheck::compile::invalid-interface-name").count(), 2, "{err}");
    assert!(err.contains("wildcard"), "{err}");
    assert!(!d.join("out").exists());
}

/// DESIGN.md §4a, nothing dropped silently: a flow whose address families cannot meet is an
/// error (nothing written); one that nothing filters is a warning naming both zones; SaaS to
/// SaaS is outside every device and not reported.
#[test]
fn flows_no_rule_carries_are_reported_with_their_reason() {
    let d = temp("unenforced");
    let base = "class helse { special; confined }\n\
                zone lukket { trust closed; net 10.0.10.0/24, fd00:10::/64 }\n\
                zone adm { trust internal; net 10.0.32.0/24, fd00:32::/64 }\n\
                zone internet { trust external; net 0.0.0.0/0, ::/0 }\n\
                system epj { zone lukket; address 10.0.10.5; platform linux; holds helse }\n\
                system v6 { zone adm; address fd00:32::5; platform linux }\n\
                system kamera { zone adm; address 10.0.32.6; platform appliance }\n\
                system opptak { zone adm; address 10.0.32.7; platform appliance }\n\
                system sky-a { zone internet; address 203.0.113.1; platform saas }\n\
                system sky-b { zone internet; address 203.0.113.2; platform saas }\n\
                flow kamera -> opptak : https \"Samme segment\"\n\
                flow sky-a -> sky-b : https \"Mellom leverandørene\"\n\
                firewall fw { target nftables; interface eth1 zone lukket; interface eth2 zone adm; interface eth0 zone internet }\n";
    let run = |extra: &str, code: i32| {
        std::fs::write(d.join("p.zc"), format!("{base}{extra}")).expect("write");
        let _ = std::fs::remove_dir_all(d.join("out"));
        let out = zonecheck().arg("compile").arg(d.join("p.zc")).arg("-o").arg(d.join("out")).assert().code(code);
        String::from_utf8_lossy(&out.get_output().stderr).into_owned()
    };
    let err = run("", 0);
    assert_eq!(err.matches("zonecheck::compile::unenforced-flow").count(), 1, "{err}");
    assert!(
        err.contains("no rule carries `kamera -> opptak : https`") && err.contains("help: its packets pass"),
        "{err}"
    );
    assert!(!err.contains("no rule carries `sky-a"), "{err}");
    let err = run("flow v6 -> epj : https \"Bare IPv6 mot bare IPv4\" { carries none because \"test\" }\n", 2);
    assert!(err.contains("can carry no packet: its FROM side has IPv6 only and its TO side IPv4 only"), "{err}");
    assert!(!d.join("out").exists());
    let err = run("flow v6 -> [epj] : icmp/echo-request \"Ping\" { carries none because \"test\" }\n", 2);
    assert!(err.contains("can carry no packet"), "{err}");
}

#[test]
fn golden_fjordvik_firewall() {
    let model = zonecheck::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let templates = zonecheck::targets::Templates::builtin().expect("templates");
    let bundle = zonecheck::compile::compile_model(
        &model,
        &Default::default(),
        &templates,
        zonecheck::syntax::date::Date::today_utc(),
    )
    .expect("compiles");
    for f in &bundle.files {
        if f.path == "firewall/fw-kjerne.nft" || f.path == "host/siem.nft" || f.path == "host/backup-repo.nft" {
            insta::assert_snapshot!(f.path.replace('/', "__"), String::from_utf8_lossy(&f.bytes));
        }
    }
}

/// The strings of a generated nft file, as nft's lexer sees them: a `"` opens a string that
/// runs to the next `"` on the same line (nft has no escapes for it). Returns None if a
/// string is left open at the end of a line — a policy string broke out.
fn nft_strings(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = if line.trim_start().starts_with('#') { "" } else { line };
        let mut parts = code.split('"');
        parts.next();
        loop {
            match (parts.next(), parts.next()) {
                (Some(s), Some(_)) => out.push(s.to_string()),
                (Some(s), None) => {
                    // Odd number of quotes: an open string, unless it was the last piece.
                    if !s.is_empty() || code.matches('"').count() % 2 == 1 {
                        return None;
                    }
                    break;
                }
                (None, _) => break,
            }
        }
        if code.matches('"').count() % 2 == 1 {
            return None;
        }
    }
    Some(out)
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("\"; flush ruleset; \"".to_string()),
        Just("x\" accept comment \"".to_string()),
        Just("line\nchain evil { type filter hook input priority 0; policy accept; }".to_string()),
        Just("\\\" } } table inet x { ".to_string()),
        Just("æøå ÆØÅ 🦀 ’ ‘ ‚ ‛ $(reboot) `id` # ; { }".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn every_policy_string_stays_inside_its_nft_string(label in hostile(), desc in hostile(), name in hostile()) {
        let text = format!(
            "policy {}\nzone a {} {{ trust internal; net 10.0.0.0/24 }}\nzone b {{ trust internal; net 10.1.0.0/24 }}\n\
             system x {} {{ zone a; address 10.0.0.1; platform linux }}\nsystem y {{ zone b; address 10.1.0.1; platform linux }}\n\
             flow x -> y : https {}\nfirewall fw {} {{ target nftables; interface eth0 zone a; interface eth1 zone b }}\n",
            quoted(&name), quoted(&label), quoted(&label), quoted(&format!("need {desc}")), quoted(&label)
        );
        let model = zonecheck::load_str("p.zc", &text).map_err(|e| TestCaseError::fail(zonecheck::diagnostics::render(&e.diags, &e.sources, false, 100)))?;
        let templates = zonecheck::targets::Templates::builtin().expect("templates");
        let bundle = zonecheck::compile::compile_model(&model, &Default::default(), &templates, zonecheck::syntax::date::Date::today_utc()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        for f in &bundle.files {
            let text = String::from_utf8_lossy(&f.bytes);
            let strings = nft_strings(&text).ok_or_else(|| TestCaseError::fail(format!("a string broke out in {}:\n{text}", f.path)))?;
            for s in &strings {
                prop_assert!(s.len() <= 128, "nft strings hold at most 128 bytes: {s:?}");
                prop_assert!(!s.chars().any(|c| c.is_control()));
            }
            // Outside strings, only what zonecheck wrote: no policy text at all.
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                let outside: String = line.split('"').step_by(2).collect();
                prop_assert!(!outside.contains("flush") && !outside.contains("evil") && !outside.contains("reboot"), "{line}");
            }
            // Header comment lines stay comments.
            for line in text.lines().take(4) {
                prop_assert!(line.starts_with('#'), "{line}");
            }
        }
    }
}

/// A copy of a shipped policy directory that a test may edit.
fn policy_copy(from: &str, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("policy dir") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy");
    }
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).expect("read");
    let new = f(text.clone());
    assert_ne!(new, text, "the edit changed {}", path.display());
    std::fs::write(path, new).expect("write");
}

fn text(tree: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8_lossy(tree.get(path).unwrap_or_else(|| panic!("{path} in the bundle"))).into_owned()
}

/// The ACL an IOS file applies to an interface for a family (`ip access-group NAME in`).
fn applied(ios: &str, iface: &str, v6: bool) -> String {
    let at = ios.find(&format!("\ninterface {iface}\n")).unwrap_or_else(|| panic!("interface {iface}"));
    let word = if v6 { " ipv6 traffic-filter " } else { " ip access-group " };
    let line = ios[at..].lines().find(|l| l.starts_with(word)).expect("applied");
    line[word.len()..].trim_end_matches(" in").to_string()
}

/// DESIGN.md §7: a device file changes only when its own rules change. A comment line that
/// moves every flow of a file, and a flow that only one host carries, leave every other
/// device file byte-identical; the manifest records the new digest and line numbers.
#[test]
fn an_edit_elsewhere_leaves_device_files_byte_identical() {
    let d = temp("stable");
    let (p, out) = (d.join("p"), d.join("out"));
    policy_copy("policies/fjordvik", &p);
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    let first = read_tree(&out);
    // Nothing in a device file points at a line or at the policy's digest.
    let manifest: serde_json::Value = serde_json::from_slice(&first["manifest.json"]).expect("json");
    let digest = manifest["policy"]["sha256"].as_str().expect("digest").to_string();
    for (path, bytes) in &first {
        let t = String::from_utf8_lossy(bytes);
        if path != "manifest.json" && path != "SUMMARY.md" {
            assert!(!t.contains(&digest[..8]) && !t.contains(".zc:"), "{path} holds provenance");
        }
    }

    // 1. A comment line at the top of a flow file: every flow in it moves one line down.
    edit(&p.join("40-flows-helse.zc"), |t| format!("# Revidert etter risikovurdering\n{t}"));
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    let second = read_tree(&out);
    for (path, bytes) in &first {
        if path != "manifest.json" && path != "SUMMARY.md" {
            assert_eq!(second.get(path), Some(bytes), "{path} changed after a comment line");
        }
    }
    assert_ne!(first["manifest.json"], second["manifest.json"], "the manifest records the new digest");
    let m2: serde_json::Value = serde_json::from_slice(&second["manifest.json"]).expect("json");
    assert_ne!(m2["policy"]["sha256"], manifest["policy"]["sha256"]);
    let line_of = |m: &serde_json::Value, id: &str| {
        m["flows"].as_array().expect("flows").iter().find(|f| f["id"] == id).map(|f| f["line"].as_u64())
    };
    let moved = manifest["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .find(|f| f["file"] == "40-flows-helse.zc")
        .expect("a flow in 40-flows-helse.zc");
    let id = moved["id"].as_str().expect("id");
    assert_eq!(line_of(&m2, id), Some(moved["line"].as_u64().map(|l| l + 1)), "the line map follows the edit");
    let summary = text(&second, "SUMMARY.md");
    assert!(
        summary.contains("0 changed, 31 unchanged, 0 added, 0 removed") && summary.contains("No device file changed")
    );

    // 2. A flow inside one zone: only the receiving host's firewall carries it.
    edit(&p.join("42-flows-felles.zc"), |t| {
        format!("{t}flow print -> fil : smb \"Utskriftsserveren lagrer skannede dokumenter på filserveren\"\n")
    });
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    let third = read_tree(&out);
    let changed: Vec<&String> = third
        .keys()
        .filter(|k| second.get(*k) != third.get(*k) && *k != "manifest.json" && *k != "SUMMARY.md")
        .collect();
    assert_eq!(changed, vec!["host/fil.ps1"]);
    let summary = text(&third, "SUMMARY.md");
    assert!(summary.contains("1 changed, 30 unchanged") && summary.contains("- changed: `host/fil.ps1`"), "{summary}");
}

/// A changed ACL gets a new name, the unchanged ACLs of the same switch keep theirs, and the
/// rollback steps name the ACL it replaces, from the previous bundle's manifest; compiling
/// again after an unrelated edit keeps the file, rollback included, byte-identical.
#[test]
fn a_changed_acl_gets_a_new_name_and_the_rollback_names_the_old_one() {
    let d = temp("rollback");
    let (p, out) = (d.join("p"), d.join("out"));
    policy_copy("policies/fjordvik", &p);
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    let first = read_tree(&out);
    let ios = text(&first, "switch/sw-core.ios");
    let (old32, old50) = (applied(&ios, "Vlan32", false), applied(&ios, "Vlan50", false));
    assert!(old32.starts_with("ZC-SW-CORE-VLAN32-IN-V4-"), "{old32}");
    assert!(!ios.contains("<previous>") && ios.contains("(IPv4: nothing recorded to re-apply"), "first bundle");

    // Clients may no longer print over IPP: only sw-core's Vlan32 ACL and the print host change.
    edit(&p.join("42-flows-felles.zc"), |t| {
        t.replace("flow adm-klient -> print : smb, ipp", "flow adm-klient -> print : smb")
    });
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    let second = read_tree(&out);
    let ios = text(&second, "switch/sw-core.ios");
    let new32 = applied(&ios, "Vlan32", false);
    assert_ne!(new32, old32, "the changed ACL has a new name");
    assert_eq!(applied(&ios, "Vlan50", false), old50, "an unchanged ACL keeps its name");
    assert!(!ios.contains(" 631"), "the IPP entry is gone");
    assert!(ios.contains(&format!("!    ip access-group {old32} in\n")), "rollback re-applies {old32}:\n{ios}");
    assert!(ios.contains(&format!("!   no ip access-list extended {old32}\n")), "step 3 removes {old32}");
    assert!(ios.contains(&format!("!   no ip access-list extended {new32}\n")), "rollback removes {new32}");
    assert!(!ios.contains(&format!("no ip access-list extended {old50}")), "the ACL in use is never removed");
    let manifest: serde_json::Value = serde_json::from_slice(&second["manifest.json"]).expect("json");
    let acl = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["acls"].as_array().into_iter().flatten())
        .find(|a| a["name"] == new32.as_str())
        .expect("the new ACL in the manifest");
    assert_eq!((acl["interface"].as_str(), acl["rollback"].as_str()), (Some("Vlan32"), Some(old32.as_str())));
    // The manifest, with a rollback named and others null, matches its documented schema.
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("docs/schema/manifest.schema.json").expect("schema"))
            .expect("JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
    let errors: Vec<String> =
        validator.iter_errors(&manifest).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "manifest.json does not match its schema:\n{}", errors.join("\n"));
    let summary = text(&second, "SUMMARY.md");
    assert!(summary.contains(&format!("`{new32}` replaces `{old32}`")), "{summary}");
    assert!(summary.contains(&format!("`{old50}` unchanged")), "{summary}");
    let changed: Vec<&String> = second
        .keys()
        .filter(|k| first.get(*k) != second.get(*k) && *k != "manifest.json" && *k != "SUMMARY.md")
        .collect();
    assert_eq!(changed, vec!["host/print.ps1", "switch/sw-core.ios"]);

    // An unrelated edit: the switch file, with its rollback to the old ACL, stays the same.
    edit(&p.join("10-zones.zc"), |t| format!("{t}\n# slutt\n"));
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    let third = read_tree(&out);
    assert_eq!(third["switch/sw-core.ios"], second["switch/sw-core.ios"]);
    assert_eq!(third["switch/sw-skole.aoscx"], first["switch/sw-skole.aoscx"]);
    // `check` reads the bundle back and finds exactly the policy.
    zonecheck().arg("check").arg(&p).arg(&out).assert().code(0);
}

/// The previous bundle's manifest is a file anyone may have edited: ACL names in it that are
/// not names zonecheck writes never reach a switch file (a line break there would be a
/// command), and the rollback then names no ACL.
#[test]
fn a_tampered_previous_manifest_cannot_put_commands_into_a_switch_file() {
    let d = temp("tampered");
    let (p, out) = (d.join("p"), d.join("out"));
    policy_copy("policies/fjordvik", &p);
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    // The same interface and family (the name's base), another "version" holding a line
    // break and a command.
    let mut tampered = 0;
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest")).expect("json");
    for f in manifest["files"].as_array_mut().expect("files") {
        // (`get_mut`: indexing would add `"acls": null` to the other files, and such a
        // manifest is not read as a previous bundle at all.)
        for a in f.get_mut("acls").and_then(|a| a.as_array_mut()).into_iter().flatten() {
            let name = a["name"].as_str().expect("name").to_string();
            let base = name.rsplit_once('-').expect("versioned").0;
            a["name"] = format!("{base}-0\nEVIL permit ip any any").into();
            tampered += 1;
        }
    }
    assert!(tampered > 0);
    std::fs::write(out.join("manifest.json"), serde_json::to_vec(&manifest).expect("json")).expect("write");
    edit(&p.join("42-flows-felles.zc"), |t| {
        t.replace("flow adm-klient -> print : smb, ipp", "flow adm-klient -> print : smb")
    });
    zonecheck().arg("compile").arg(&p).arg("-o").arg(&out).assert().code(0);
    let tree = read_tree(&out);
    for (path, bytes) in &tree {
        let t = String::from_utf8_lossy(bytes);
        assert!(!t.contains("EVIL"), "{path} holds the tampered name");
    }
    let ios = text(&tree, "switch/sw-core.ios");
    assert!(ios.contains("(IPv4: nothing recorded to re-apply"), "{ios}");
    zonecheck().arg("check").arg(&p).arg(&out).assert().code(0);
}

/// DESIGN.md §4a, devices guard themselves: a switch with an `address` gets a management
/// ACL on its terminal access (IOS-XE vty lines, EOS `management ssh`/`telnet`, the AOS-CX
/// control plane, Junos' lo0 filter) that takes exactly the SSH flows to it. `check` reads
/// the binding back: the generated files are equal, and a file whose binding or whose
/// entry is gone, or whose entry lets in the whole management network, is different.
#[test]
fn switches_guard_their_terminal_access_and_check_compares_it() {
    let d = temp("mgmt");
    let policy = "zone mgmt { trust internal; net 10.0.60.0/24, fd00:60::/64 }\n\
                  zone adm { trust internal; net 10.0.32.0/24, fd00:32::/64 }\n\
                  system jump { zone mgmt; address 10.0.60.10, fd00:60::10 }\n\
                  flow adm -> mgmt : https \"Portal\"\n\
                  flow jump -> [sw-ios, sw-eos, sw-cx, sw-jun] : ssh \"Drift av switchene\"\n\
                  switch sw-ios { target cisco-ios; address 10.0.60.2, fd00:60::2; interface Vlan60 zone mgmt; interface Vlan32 zone adm }\n\
                  switch sw-eos { target arista-eos; address 10.0.60.3, fd00:60::3; interface Vlan60 zone mgmt; interface Vlan32 zone adm }\n\
                  switch sw-cx { target aruba-aoscx; address 10.0.60.4; interface vlan60 zone mgmt; interface vlan32 zone adm }\n\
                  switch sw-jun { target junos; address 10.0.60.5, fd00:60::5; interface irb.60 zone mgmt; interface irb.32 zone adm }\n";
    std::fs::write(d.join("p.zc"), policy).expect("write");
    let out = zonecheck().arg("compile").arg(d.join("p.zc")).arg("-o").arg(d.join("out")).assert().success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(!err.contains("device-lockout") && !err.contains("unguarded-device"), "{err}");
    let file = |name: &str| std::fs::read_to_string(d.join("out/switch").join(name)).expect("switch file");
    let check = |device: &str, text: &str| {
        std::fs::write(d.join("mutant"), text).expect("write");
        let out =
            zonecheck().arg("check").arg(d.join("p.zc")).arg("--device").arg(device).arg(d.join("mutant")).output();
        let out = out.expect("runs");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    // (device, file, the binding lines, the IPv4 SSH entry, that entry opened to the network)
    let cases = [
        (
            "sw-ios",
            "sw-ios.ios",
            vec![" access-class ZC-SW-IOS-MGMT-IN-V4"],
            "permit tcp host 10.0.60.10 any eq 22",
            "permit tcp 10.0.60.0 0.0.0.255 any eq 22",
        ),
        (
            "sw-eos",
            "sw-eos.eos",
            vec!["management ssh\n   ip access-group"],
            "permit tcp host 10.0.60.10 host 10.0.60.3 eq 22",
            "permit tcp 10.0.60.0/24 host 10.0.60.3 eq 22",
        ),
        (
            "sw-cx",
            "sw-cx.aoscx",
            vec!["apply access-list ip ZC-SW-CX-MGMT-IN-V4"],
            "permit tcp 10.0.60.10 10.0.60.4 eq 22",
            "permit tcp 10.0.60.0/255.255.255.0 10.0.60.4 eq 22",
        ),
        (
            "sw-jun",
            "sw-jun.junos",
            vec!["input ZC-SW-JUN-MGMT-IN-V4"],
            "source-address { 10.0.60.10/32; }\n                    destination-address { 10.0.60.5/32; }\n                    protocol tcp;\n                    destination-port 22;",
            "source-address { 10.0.60.0/24; }\n                    destination-address { 10.0.60.5/32; }\n                    protocol tcp;\n                    destination-port 22;",
        ),
    ];
    for (device, name, binding, entry, opened) in cases {
        let text = file(name);
        let (code, out) = check(device, &text);
        assert_eq!(code, Some(0), "{device}: the generated file is equal\n{out}");
        for b in &binding {
            assert!(text.contains(b), "{device}: {b:?} in\n{text}");
        }
        // Unbound: SSH from anyone reaches the switch.
        let unbound = binding.iter().fold(text.clone(), |t, b| t.replacen(b, &format!("{}-gone", b.trim_end()), 1));
        let unbound = match device {
            // EOS and Junos: drop the binding's line itself rather than rename the ACL.
            "sw-eos" => text.replacen("management ssh\n   ip access-group", "management ssh\n   idle-timeout 60\n!\nip access-list UNUSED-X\n   10 deny ip any any\n!\nmanagement telnet\n   ip access-group", 1),
            _ => unbound,
        };
        let (code, out) = check(device, &unbound);
        assert_ne!(code, Some(0), "{device}: without its binding\n{out}");
        assert!(code == Some(2) || out.contains("permits-more"), "{device}: {out}");
        assert!(text.contains(entry), "{device}: {entry:?} in\n{text}");
        // The management ACL is defined after the SVIs' ACLs: its entry is the last one.
        let at = text.rfind(entry).expect("entry");
        let (code, out) = check(device, &format!("{}{opened}{}", &text[..at], &text[at + entry.len()..]));
        assert_eq!(code, Some(1), "{device}: opened to the network\n{out}");
        assert!(out.contains("permits tcp 10.0.60.") && out.contains(":22 (input"), "{device}: {out}");
    }
    // Warnings: a firewall or a switch nobody may manage, a switch without an address, and a
    // flow to a switch's service other than terminal access.
    let policy = "zone mgmt { trust internal; net 10.0.60.0/24 }\nzone adm { trust internal; net 10.0.32.0/24 }\n\
                  system nms { zone mgmt; address 10.0.60.30 }\n\
                  flow nms -> adm : https \"Portal\"\n\
                  flow nms -> sw-b : snmp \"Overvåking\"\n\
                  firewall fw { target nftables; interface eth1 zone mgmt; interface eth2 zone adm }\n\
                  switch sw-a { target cisco-ios; interface Vlan60 zone mgmt; interface Vlan32 zone adm }\n\
                  switch sw-b { target junos; address 10.0.60.4; interface irb.60 zone mgmt; interface irb.32 zone adm }\n";
    std::fs::write(d.join("p.zc"), policy).expect("write");
    let _ = std::fs::remove_dir_all(d.join("out"));
    let out = zonecheck().arg("compile").arg(d.join("p.zc")).arg("-o").arg(d.join("out")).assert().success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    // (Fragments short enough not to be wrapped by the diagnostic renderer.)
    assert!(err.contains("firewall `fw` accepts no connection to itself"), "{err}");
    assert!(err.contains("switch `sw-a` declares no"), "{err}");
    assert!(err.contains("switch `sw-b` accepts no SSH or telnet"), "{err}");
    assert!(err.contains("`nms -> sw-b : snmp` reaches switch"), "{err}");
    assert_eq!(err.matches("zonecheck::compile::device-lockout").count(), 2, "{err}");
    assert_eq!(err.matches("zonecheck::compile::unguarded-device").count(), 2, "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// SUMMARY.md's deployment steps name the table and rule group the files really use, as
/// zonecheck.toml sets them, not the defaults.
#[test]
fn summary_names_the_configured_table_and_group() {
    let d = temp("summary-names");
    std::fs::write(d.join("zonecheck.toml"), "[nftables]\ntable = \"kommune\"\n\n[windows]\ngroup = \"kommune-fw\"\n")
        .expect("write");
    zonecheck()
        .args(["compile", "policies/fjordvik", "--config"])
        .arg(d.join("zonecheck.toml"))
        .arg("-o")
        .arg(d.join("out"))
        .assert()
        .success();
    let summary = std::fs::read_to_string(d.join("out/SUMMARY.md")).expect("summary");
    assert!(
        summary.contains("`inet kommune` on a firewall") && summary.contains("`inet kommune_host` on a host"),
        "{summary}"
    );
    assert!(summary.contains("nft delete table inet kommune`"), "{summary}");
    assert!(summary.contains("rules of its own group (`kommune-fw`)"), "{summary}");
    assert!(!summary.contains("inet zonecheck") && !summary.contains("group (`zonecheck`)"), "{summary}");
    let fw = std::fs::read_to_string(d.join("out/firewall/fw-kjerne.nft")).expect("fw");
    assert!(fw.contains("table inet kommune"), "the files use the table the summary names");
    let _ = std::fs::remove_dir_all(&d);
}

/// The template budget: an override template that loops without end is stopped (compile
/// fails with a template diagnostic and writes nothing), while the budget grows with the
/// largest device, so a large policy's firewall still renders (a fixed budget stopped the
/// core firewall of a 1,000,000-flow policy).
#[test]
fn runaway_templates_are_stopped_and_the_budget_grows_with_the_policy() {
    let d = temp("fuel");
    let tpl = d.join("tpl/nftables");
    std::fs::create_dir_all(&tpl).expect("mkdir");
    let builtin = std::fs::read_to_string("targets/nftables/firewall.nft.j2").expect("template");
    let runaway =
        format!("{{% for i in range(100000) %}}{{% for j in range(100000) %}}{{% endfor %}}{{% endfor %}}\n{builtin}");
    std::fs::write(tpl.join("firewall.nft.j2"), runaway).expect("write");
    let out = zonecheck()
        .args(["compile", "policies/fjordvik", "-o"])
        .arg(d.join("out"))
        .arg("--templates")
        .arg(d.join("tpl"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("zonecheck::compile::template") && err.contains("fuel"), "{err}");
    assert!(!d.join("out").exists());
    // How the budget grows with the policy is tested in the crate (src/tests/compile.rs).
    let _ = std::fs::remove_dir_all(&d);
}

/// Template overrides are handed over as text (the CLI reads a `--templates` directory):
/// a name that is no template is refused rather than ignored, and an override replaces the
/// built-in it names.
#[test]
fn template_overrides_name_real_templates() {
    use zonecheck::targets::Templates;
    let names: Vec<&str> = Templates::names().collect();
    assert!(names.contains(&"nftables/firewall.nft.j2"), "{names:?}");
    let err = Templates::with_overrides(vec![("nftables/brannmur.nft.j2", "x".into())]).err().expect("refused");
    assert!(err.message.contains("nftables/brannmur.nft.j2"), "{}", err.message);
    assert!(Templates::with_overrides(vec![("nftables/firewall.nft.j2", "{% if %}".into())]).is_err());
    assert!(Templates::builtin().is_ok());
}
