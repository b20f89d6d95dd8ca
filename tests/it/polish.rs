//! What users of a command-line tool expect (issue 16): completions, the man page,
//! `--color`, `init`, `fmt --check` diffs and `fmt -`, an empty policy refused, SARIF for
//! code scanning, root causes first, modelling lints, zonecheck.toml errors in one run,
//! wording, `explain` within one zone, and a device file given for the wrong device.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::zonecheck;

fn temp_dir(name: &str) -> PathBuf {
    crate::util::temp_dir("polish", name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn completions_for_every_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = zonecheck().args(["completions", shell]).assert().code(0).get_output().stdout.clone();
        let script = text(&out);
        for cmd in ["verify", "compile", "check", "init", "completions"] {
            assert!(script.contains(cmd), "{shell} completion lacks `{cmd}`");
        }
        let color = if shell == "fish" { "-l color" } else { "--color" };
        assert!(script.contains(color), "{shell} completion lacks the global --color");
    }
    zonecheck().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_prints_a_roff_page() {
    let out = zonecheck().arg("man").assert().code(0).get_output().stdout.clone();
    let page = text(&out);
    assert!(page.starts_with(".ie") || page.contains(".TH zonecheck"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains(".TH zonecheck"));
    assert!(page.contains("verify") && page.contains("\\-\\-color"), "subcommands and options are listed");
}

#[test]
fn color_follows_the_flag_and_no_color() {
    // How `--color` and NO_COLOR decide is tested in the crate (src/tests/polish.rs, the
    // function is internal); here the built binary follows them.
    // On every command, before or after it: diagnostics in colour only when asked.
    let d = temp_dir("color");
    std::fs::write(d.join("bad.zc"), "zone a { trust closed; net 10.0.0.0/24 }\nflow a -> nowhere : https \"x\"\n")
        .expect("write");
    let err = |args: &[&str]| {
        let out = zonecheck().args(args).arg(d.join("bad.zc")).assert().code(2).get_output().stderr.clone();
        text(&out)
    };
    assert!(err(&["--color", "always", "verify"]).contains('\u{1b}'));
    assert!(err(&["graph", "--color=always"]).contains('\u{1b}'));
    assert!(!err(&["verify", "--color", "never"]).contains('\u{1b}'));
    assert!(!err(&["verify"]).contains('\u{1b}'), "NO_COLOR and no terminal");
    zonecheck().args(["verify", "--color", "sometimes", "x.zc"]).assert().code(2);
    // clap's own errors follow the flag as well.
    let clap_err = |args: &[&str]| text(&zonecheck().args(args).assert().code(2).get_output().stderr.clone());
    assert!(clap_err(&["--color", "always", "verify", "--bogus"]).contains('\u{1b}'));
    assert!(!clap_err(&["--color=never", "verify", "--bogus"]).contains('\u{1b}'));
    assert!(!clap_err(&["verify", "--bogus"]).contains('\u{1b}'));
}

#[test]
fn init_writes_a_policy_that_verifies_compiles_and_is_formatted() {
    let d = temp_dir("init");
    let dir = d.join("ny");
    let out = zonecheck().arg("init").arg(&dir).assert().code(0).get_output().stdout.clone();
    assert!(text(&out).contains("policy.zc"));
    let policy = std::fs::read_to_string(dir.join("policy.zc")).expect("policy.zc");
    for teaches in
        ["class ", "zone ", "trust closed", "system ", "holds ", "flow ", "carries none because", "allow ", "firewall "]
    {
        assert!(policy.contains(teaches), "the starter policy shows `{teaches}`");
    }
    let out = zonecheck().args(["verify", "--deny", "warnings"]).arg(&dir).assert().code(0).get_output().stdout.clone();
    assert!(text(&out).contains("PROVED"), "{}", text(&out));
    zonecheck().args(["fmt", "--check"]).arg(&dir).assert().code(0);
    // zonecheck.toml names the output directory, so compile needs no -o.
    let out = zonecheck().current_dir(&dir).args(["compile", "."]).assert().code(0).get_output().stdout.clone();
    assert!(text(&out).contains("firewall/fw.nft"), "{}", text(&out));
    assert!(dir.join("bundle/manifest.json").exists());
    // Never overwrite.
    let before = std::fs::read(dir.join("policy.zc")).expect("read");
    let out = zonecheck().arg("init").arg(&dir).assert().code(2).get_output().stderr.clone();
    assert!(text(&out).contains("zonecheck::init::exists"), "{}", text(&out));
    assert_eq!(std::fs::read(dir.join("policy.zc")).expect("read"), before);
    // A directory holding another policy's files: the starter would join that policy.
    std::fs::create_dir_all(d.join("other")).expect("dir");
    std::fs::write(d.join("other/10-zones.zc"), "zone a { trust closed; net 10.0.0.0/24 }\n").expect("write");
    let out = zonecheck().arg("init").arg(d.join("other")).assert().code(2).get_output().stderr.clone();
    assert!(text(&out).contains("10-zones.zc already exists"), "{}", text(&out));
    assert!(!d.join("other/policy.zc").exists());
    // A directory that cannot be made (a file is in the way).
    std::fs::write(d.join("file"), "x").expect("write");
    let out = zonecheck().arg("init").arg(d.join("file/sub")).assert().code(2).get_output().stderr.clone();
    assert!(text(&out).contains("zonecheck::init::write"), "{}", text(&out));
}

#[test]
fn fmt_check_prints_a_unified_diff_and_fmt_dash_filters_stdin() {
    let d = temp_dir("fmt");
    let messy = "zone a   { trust closed ; net 10.0.0.0/24 }\nsystem s { zone a; address 10.0.0.1 }\n";
    std::fs::write(d.join("p.zc"), messy).expect("write");
    let out = zonecheck().args(["fmt", "--check"]).arg(d.join("p.zc")).assert().code(1).get_output().clone();
    let diff = text(&out.stdout);
    assert!(diff.contains("--- ") && diff.contains("+++ ") && diff.contains("@@ -1,"), "{diff}");
    assert!(diff.contains("-zone a   { trust closed ; net 10.0.0.0/24 }"), "{diff}");
    assert!(diff.contains("\n+zone a { trust closed; net 10.0.0.0/24 }"), "{diff}");
    assert_eq!(std::fs::read_to_string(d.join("p.zc")).expect("read"), messy, "--check writes nothing");
    assert!(text(&out.stderr).contains("1 file would be reformatted"));

    let out = zonecheck().args(["fmt", "-"]).write_stdin(messy).assert().code(0).get_output().stdout.clone();
    let formatted = text(&out);
    assert!(formatted.starts_with("zone a { trust closed; net 10.0.0.0/24 }\n"), "{formatted}");
    zonecheck().args(["fmt", "--check", "-"]).write_stdin(formatted.clone()).assert().code(0).stdout("");
    let out = zonecheck().args(["fmt", "--check", "-"]).write_stdin(messy).assert().code(1).get_output().stdout.clone();
    assert!(text(&out).starts_with("--- <stdin>\n"));
    let out = zonecheck().args(["fmt", "-"]).write_stdin("zone a {\n").assert().code(2).get_output().clone();
    assert!(out.stdout.is_empty(), "nothing on stdout when the input does not parse");
    assert!(text(&out.stderr).contains("zonecheck::syntax::"));
    zonecheck().args(["fmt", "-"]).write_stdin(vec![0xff, 0xfe]).assert().code(2);
}

#[test]
fn an_empty_policy_is_an_error_not_proved() {
    let d = temp_dir("empty");
    std::fs::write(d.join("tom.zc"), "# nothing here yet\n").expect("write");
    for format in ["human", "json", "sarif"] {
        let out = zonecheck().args(["verify", "--format", format]).arg(&d).assert().code(2).get_output().clone();
        assert!(text(&out.stderr).contains("zonecheck::io::empty-policy"), "{}", text(&out.stderr));
        assert!(!text(&out.stdout).contains("proved") && !text(&out.stdout).contains("PROVED"));
    }
    std::fs::write(d.join("tom.zc"), "").expect("write");
    zonecheck().arg("compile").arg(&d).arg("-o").arg(d.join("b")).assert().code(2);
    // A policy header alone declares nothing either.
    std::fs::write(d.join("tom.zc"), "policy \"Tom\" { owner \"IT\" }\n").expect("write");
    zonecheck().arg("verify").arg(&d).assert().code(2);
}

#[test]
fn sarif_carries_help_suppressions_and_repository_relative_uris() {
    // Run from a subdirectory of the repository: URIs are still relative to its root.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = zonecheck()
        .current_dir(root.join("policies"))
        .args(["verify", "fjordvik", "--format", "sarif"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let sarif: Value = serde_json::from_slice(&out).expect("SARIF is JSON");
    let run = &sarif["runs"][0];
    for rule in run["tool"]["driver"]["rules"].as_array().expect("rules") {
        let id = rule["id"].as_str().expect("id");
        assert!(rule["help"]["text"].as_str().is_some_and(|t| t.len() > 20), "{id} has help");
        let uri = rule["helpUri"].as_str().expect("helpUri");
        assert!(uri.starts_with("https://") && uri.contains("docs/diagnostics.md#"), "{uri}");
        let anchor = uri.rsplit('#').next().expect("anchor");
        let doc = std::fs::read_to_string(root.join("docs/diagnostics.md")).expect("docs");
        assert!(doc.contains(&format!("<a id=\"{anchor}\"></a>")), "{uri} points at an anchor that exists");
    }
    let results = run["results"].as_array().expect("results");
    let suppressed: Vec<&Value> = results.iter().filter(|r| r.get("suppressions").is_some()).collect();
    let model = zonecheck::load_policy(&root.join("policies/fjordvik")).expect("resolves");
    let v = zonecheck::verify::verify(&model, &zonecheck::verify::Options::default());
    assert!(!v.allowed.is_empty());
    assert_eq!(suppressed.len(), v.allowed.len(), "every allow is a suppressed result");
    for r in &suppressed {
        let s = &r["suppressions"][0];
        assert_eq!(s["kind"], "inSource");
        let reason = s["justification"].as_str().expect("justification");
        assert!(v.allowed.iter().any(|(_, because)| because == reason), "{reason}");
    }
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(uri.starts_with("policies/fjordvik/"), "repository-relative: {uri}");
    }
}

#[test]
fn many_leaks_from_one_flow_lead_with_that_flow() {
    let d = temp_dir("many");
    let mut policy = String::from(
        "class helse { special; confined }\nzone sikker { trust closed; net 10.0.0.0/24 }\nzone adm { trust internal; net 10.1.0.0/16 }\n\
         system epj { zone sikker; address 10.0.0.10; holds helse }\n",
    );
    for i in 0..40 {
        policy.push_str(&format!("system pc{i} {{ zone adm; address 10.1.0.{} }}\n", i + 1));
    }
    policy.push_str("flow adm -> epj : https \"alle klienter\"\n");
    std::fs::write(d.join("many.zc"), &policy).expect("write");
    let out = zonecheck().arg("verify").arg(d.join("many.zc")).assert().code(1).get_output().stdout.clone();
    let human = text(&out);
    let lead = human.find("Root causes").expect("a root cause section");
    let first_leak = human.find("zonecheck::verify::leak").expect("leaks");
    assert!(lead < first_leak, "the root cause comes first:\n{human}");
    assert!(human.contains("flow `adm -> epj : https`") && human.contains("out to 41 places"), "{human}");
    assert!(human.contains("fix: answers on `adm -> epj : https`"), "{human}");
    // A single leak is its own root cause: no extra section.
    let out = zonecheck()
        .args(["verify", "examples/violations/print-to-admin.zc"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(!text(&out).contains("Root causes"));
}

/// Each new modelling lint fires on its fixture, once, with its code.
#[test]
fn modelling_lints_fire_on_their_fixtures() {
    use zonecheck::diagnostics::code;
    let cases = [
        ("confined-outside-closed", code::LINT_CONFINED_OUTSIDE_CLOSED, "confined to `adm` (trust internal)"),
        (
            "overlapping-zones",
            code::LINT_OVERLAPPING_ZONES,
            "zone `sikker` (10.0.10.0/24, trust closed) lies inside zone `kommune`",
        ),
        (
            "duplicate-enforcement",
            code::LINT_DUPLICATE_ENFORCEMENT,
            "switch `sw` and firewall `fw` both claim to separate `sikker`–`adm`",
        ),
        ("appliance-special", code::LINT_APPLIANCE_SPECIAL, "appliance `nas` holds special data (`helse`)"),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    for (name, c, message) in cases {
        let model = zonecheck::load_policy(&dir.join(format!("{name}.zc"))).expect("fixture resolves");
        let v = zonecheck::verify::verify(&model, &zonecheck::verify::Options::default());
        let hits: Vec<_> = v.lints.iter().filter(|d| d.code == c).collect();
        assert_eq!(hits.len(), 1, "{name}: {:?}", v.lints.iter().map(|d| &d.message).collect::<Vec<_>>());
        assert!(hits[0].message.contains(message), "{name}: {}", hits[0].message);
        assert!(v.proved(), "{name}: the fixture is about modelling, not a leak");
        let denied = zonecheck::verify::verify(
            &model,
            &zonecheck::verify::Options { deny_warnings: true, ..Default::default() },
        );
        assert!(!denied.passes(), "{name} is a warning that --deny warnings fails on");
    }
    // Every lint's fixture: tests/diagnostics.rs walks the registry.
}

#[test]
fn modelling_lints_stay_quiet_where_the_modelling_is_sound() {
    let quiet = |text: &str| {
        let model = zonecheck::load_str("q.zc", text).expect("resolves");
        let v = zonecheck::verify::verify(&model, &zonecheck::verify::Options::default());
        v.lints.iter().map(|d| d.code.id).filter(|id| !id.ends_with("unused")).collect::<Vec<_>>()
    };
    // Confined to internal zones in a policy without closed zones (Namsos's need-to-know split).
    assert!(quiet("class p { confined to srv }\nzone srv { trust internal; net 10.0.0.0/24 }\nzone kl { trust internal; net 10.1.0.0/24 }\nsystem s { zone srv; address 10.0.0.1; holds p }\nsystem c { zone kl; address 10.1.0.1 }\nflow c -> s : https \"x\" { carries none because \"y\" }\n").is_empty());
    // A default route under everything is not an overlap; disjoint zones are not either.
    assert!(quiet("zone a { trust internal; net 10.0.0.0/24 }\nzone b { trust internal; net 10.0.1.0/24 }\nzone internet { trust external; net 0.0.0.0/0, ::/0 }\nsystem s { zone a; address 10.0.0.1 }\nsystem t { zone b; address 10.0.1.1 }\nflow s -> t : https \"x\"\n").is_empty());
    // A firewall and a switch that separate different zone pairs.
    assert!(quiet("zone a { trust internal; net 10.0.0.0/24 }\nzone b { trust internal; net 10.0.1.0/24 }\nzone c { trust internal; net 10.0.2.0/24 }\nsystem s { zone a; address 10.0.0.1 }\nsystem t { zone b; address 10.0.1.1 }\nflow s -> t : https \"x\"\nfirewall fw { target nftables; interface e0 zone a; interface e1 zone b }\nswitch sw { target cisco-ios; interface Vlan1 zone b, c }\n").is_empty());
}

#[test]
fn zonecheck_toml_reports_every_problem_in_one_run() {
    let d = temp_dir("toml");
    std::fs::copy("examples/violations/print-to-admin.zc", d.join("p.zc")).expect("copy");
    std::fs::write(
        d.join("zonecheck.toml"),
        "[lints]\nunused = \"loud\"\nclosed-egres = \"warn\"\n\n[output]\ndir = 5\ntmplates = \"x\"\n\n[nftable]\ntable = \"x\"\n\n[nftables]\ntable = \"Bad Name\"\nlog_rate = \"fast\"\n\n[acl]\nephemeral = [5, 1]\n",
    )
    .expect("write");
    let out = zonecheck().arg("verify").arg(d.join("p.zc")).assert().code(2).get_output().stderr.clone();
    let err = text(&out);
    for expected in [
        "unknown variant `loud`",
        "unknown lint `closed-egres`",
        "[output] dir: invalid type",
        "unknown key `tmplates` in [output]",
        "did you mean `templates`",
        "unknown section `nftable`",
        "`Bad Name` cannot name an nftables table",
        "`fast` is not an nftables rate",
        "`[5, 1]` is not a port range",
        "zonecheck: 8 errors",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    // A TOML syntax error does not hide the rest either.
    std::fs::write(d.join("zonecheck.toml"), "[output\ndir = \"b\"\n\n[nftables]\nbord = 1\n").expect("write");
    let out = zonecheck().arg("verify").arg(d.join("p.zc")).assert().code(2).get_output().stderr.clone();
    let err = text(&out);
    assert!(err.contains("zonecheck::config::invalid") && err.contains("unknown key `bord`"), "{err}");
}

#[test]
fn counts_read_as_english() {
    let d = temp_dir("wording");
    zonecheck().arg("init").arg(d.join("p")).assert().code(0);
    let out = zonecheck()
        .arg("compile")
        .arg(d.join("p"))
        .arg("-o")
        .arg(d.join("b"))
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let summary = text(&out);
    assert!(
        summary.contains(" 1 rule ") && summary.contains(" 1 firewall rule") || summary.contains(" 1 rule "),
        "{summary}"
    );
    for wrong in [" 1 rules", " 1 firewall rules", " 1 ACL entries", " 1 set elements"] {
        assert!(!summary.contains(wrong), "`{wrong}` in:\n{summary}");
    }
    let out = zonecheck().arg("check").arg(d.join("p")).arg(d.join("b")).assert().code(0).get_output().stdout.clone();
    let checked = text(&out);
    assert!(!checked.contains(" 1 rules") && !checked.contains("rule(s)"), "{checked}");
    // One problem past the cap of a hundred per file is one problem, not "1 more problems".
    let notes: String = (0..101).map(|i| format!("system Server{i} {{ zone adm }}\n")).collect();
    std::fs::write(d.join("notes.zc"), notes).expect("write");
    let out = zonecheck().arg("verify").arg(d.join("notes.zc")).assert().code(2).get_output().stderr.clone();
    let err = text(&out);
    assert!(err.contains("1 more problem (1 error) is not shown"), "{err}");
    // `report::count` itself is tested in the crate (src/tests/polish.rs).
}

#[test]
fn explain_of_two_systems_in_one_zone_says_what_separates_them() {
    let d = temp_dir("explain");
    zonecheck().arg("init").arg(d.join("p")).assert().code(0);
    let out = zonecheck()
        .arg("explain")
        .arg(d.join("p"))
        .args(["journal", "vdi"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let e = text(&out);
    assert!(e.contains("Both in zone `sikker`: no firewall or switch stands between `journal` and `vdi`"), "{e}");
    assert!(
        e.contains(
            "journal → vdi: only the declared flows, enforced by `journal`'s host firewall and `vdi`'s host firewall"
        ),
        "{e}"
    );
    // An appliance next to a system without a platform: nothing enforces.
    std::fs::write(
        d.join("flat.zc"),
        "zone a { trust internal; net 10.0.0.0/24 }\nsystem x { zone a; address 10.0.0.1; platform appliance }\nsystem y { zone a; address 10.0.0.2 }\nsystem z { zone a; address 10.0.0.3 }\nflow x -> z : https \"p\"\n",
    )
    .expect("write");
    let out =
        zonecheck().arg("explain").arg(d.join("flat.zc")).args(["x", "y"]).assert().code(0).get_output().stdout.clone();
    let e = text(&out);
    assert!(e.contains("x → y: nothing enforces it"), "{e}");
    assert!(e.contains("the policy permits no data between them"), "{e}");
    // Systems in different zones get no such note.
    let out = zonecheck()
        .arg("explain")
        .arg(d.join("p"))
        .args(["journal", "siem"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(!text(&out).contains("Both in zone"));
}

#[test]
fn a_file_of_another_device_is_named_as_such() {
    let d = temp_dir("wrongdev");
    zonecheck().arg("init").arg(d.join("p")).assert().code(0);
    zonecheck().arg("compile").arg(d.join("p")).arg("-o").arg(d.join("b")).assert().code(0);
    let out = zonecheck()
        .arg("check")
        .arg(d.join("p"))
        .args(["--device", "journal"])
        .arg(d.join("b/host/siem.nft"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = text(&out);
    assert!(err.contains("was generated for `siem`, not for `journal`"), "{err}");
    assert!(err.contains("--device siem"), "the help names the right device: {err}");
    // The right device checks equal.
    zonecheck()
        .arg("check")
        .arg(d.join("p"))
        .args(["--device", "siem"])
        .arg(d.join("b/host/siem.nft"))
        .assert()
        .code(0);
}
