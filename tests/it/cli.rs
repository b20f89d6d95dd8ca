//! The command line as users meet it: exit codes (DESIGN.md §7), formats, config errors.

use crate::util::zonecheck;

fn temp_dir(name: &str) -> std::path::PathBuf {
    crate::util::temp_dir("cli", name)
}

#[test]
fn verify_exit_codes() {
    zonecheck().args(["verify", "policies/fjordvik"]).assert().code(0);
    zonecheck().args(["verify", "examples/violations/print-to-admin.zc"]).assert().code(1);
    zonecheck().args(["verify", "does-not-exist.zc"]).assert().code(2);
    let d = temp_dir("bad");
    std::fs::write(d.join("bad.zc"), "zone a { trust closed; net 10.0.0.0/24 }\nflow a -> nowhere : https \"x\"\n")
        .expect("write");
    let out = zonecheck().args(["verify"]).arg(d.join("bad.zc")).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8_lossy(&out);
    assert!(err.contains("zonecheck::resolve::unknown-system"), "{err}");
    assert!(!err.contains('\u{1b}'), "NO_COLOR output has no escape codes");
}

#[test]
fn verify_formats_print_parseable_output() {
    for format in ["json", "sarif"] {
        let out = zonecheck()
            .args(["verify", "policies/fjordvik", "--format", format])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let _: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{format}: {e}"));
    }
    let out = zonecheck()
        .args(["verify", "examples/violations/vendor-direct.zc", "--format", "junit"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).starts_with("<?xml"));
}

#[test]
fn deny_warnings_fails_on_a_warning() {
    let d = temp_dir("warn");
    let text = "class helse { special; confined }\nzone s { trust closed; net 10.0.0.0/24 }\nzone a { trust internal; net 10.1.0.0/24 }\n\
                system epj { zone s; address 10.0.0.1; platform linux; holds helse }\nsystem siem { zone a; address 10.1.0.1 }\n\
                flow epj -> siem : syslog-tls \"logg\" { carries none because \"bare tekniske hendelser\" }\n";
    std::fs::write(d.join("p.zc"), text).expect("write");
    zonecheck().arg("verify").arg(d.join("p.zc")).assert().code(0);
    zonecheck().arg("verify").arg(d.join("p.zc")).args(["--deny", "warnings"]).assert().code(1);
    // zonecheck.toml can turn the lint off or make it an error.
    std::fs::write(d.join("zonecheck.toml"), "[lints]\nclosed-egress = \"allow\"\n").expect("write");
    zonecheck().arg("verify").arg(d.join("p.zc")).args(["--deny", "warnings"]).assert().code(0);
    std::fs::write(d.join("zonecheck.toml"), "[lints]\nclosed-egress = \"error\"\n").expect("write");
    zonecheck().arg("verify").arg(d.join("p.zc")).assert().code(1);
}

#[test]
fn config_errors_are_diagnostics_with_spans() {
    let d = temp_dir("config");
    std::fs::write(d.join("p.zc"), "zone a { trust internal; net 10.0.0.0/24 }\n").expect("write");
    std::fs::write(d.join("zonecheck.toml"), "[lints]\nclosed-egres = \"allow\"\n").expect("write");
    let out = zonecheck().arg("verify").arg(d.join("p.zc")).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8_lossy(&out);
    assert!(err.contains("zonecheck::config::unknown-key") && err.contains("did you mean `closed-egress`"), "{err}");
    std::fs::write(d.join("zonecheck.toml"), "[lint]\n").expect("write");
    let out = zonecheck().arg("verify").arg(d.join("p.zc")).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::config::unknown-key"));
    std::fs::write(d.join("zonecheck.toml"), "[lints]\nunused = \"sometimes\"\n").expect("write");
    let out = zonecheck().arg("verify").arg(d.join("p.zc")).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::config::invalid"));
}

#[test]
fn io_errors_have_codes() {
    let d = temp_dir("io");
    let out = zonecheck().arg("verify").arg(&d).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::io::no-policy-files"));
    std::fs::write(d.join("latin1.zc"), b"zone a \"Bod\xf8\" { trust internal; net 10.0.0.0/24 }\n").expect("write");
    let out = zonecheck().arg("verify").arg(&d).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::io::not-utf8"));
}

#[test]
fn fmt_check_and_rewrite() {
    zonecheck().args(["fmt", "--check", "policies/fjordvik"]).assert().code(0);
    let d = temp_dir("fmt");
    let messy = "zone a { trust internal\n net 10.0.0.0/24 }   # kommentar\n";
    std::fs::write(d.join("p.zc"), messy).expect("write");
    zonecheck().args(["fmt", "--check"]).arg(d.join("p.zc")).assert().code(1);
    zonecheck().arg("fmt").arg(d.join("p.zc")).assert().code(0);
    let formatted = std::fs::read_to_string(d.join("p.zc")).expect("read");
    assert_eq!(formatted, "zone a { trust internal; net 10.0.0.0/24 }  # kommentar\n");
    zonecheck().args(["fmt", "--check"]).arg(d.join("p.zc")).assert().code(0);
}

#[test]
fn explain_shows_the_leak_path() {
    let out = zonecheck()
        .args(["explain", "examples/violations/print-to-admin.zc", "vda-01", "print"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("vda-01 -> print : ipps"), "{text}");
    assert!(text.contains("helse (confined): 1 hop"), "{text}");
    zonecheck().args(["explain", "examples/violations/print-to-admin.zc", "vda-01", "prnt"]).assert().code(2);
}

#[test]
fn graph_is_deterministic() {
    for format in ["dot", "mermaid"] {
        let a = zonecheck()
            .args(["graph", "policies/fjordvik", "--format", format])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let b = zonecheck()
            .args(["graph", "policies/fjordvik", "--format", format])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        assert_eq!(a, b);
        assert!(String::from_utf8_lossy(&a).contains("sikker-srv"));
    }
}

#[test]
fn a_file_that_is_not_a_policy_gives_a_bounded_report() {
    // One error per line would bury the first ones; the run shows the first hundred and
    // counts the rest in one diagnostic.
    let d = temp_dir("many");
    let text: String = (0..500).map(|i| format!("system Server{i} {{ zone adm }}\n")).collect();
    std::fs::write(d.join("notes.zc"), text).expect("write");
    let out = zonecheck().arg("verify").arg(d.join("notes.zc")).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8_lossy(&out);
    assert!(err.contains("zonecheck::too-many-problems"), "{err}");
    assert!(err.contains("400 more problems"), "{err}");
    assert!(err.matches("zonecheck::syntax::").count() <= 100, "{err}");
}
