//! `zonecheck graph`: Graphviz accepts every view of every shipped policy (the zones view,
//! the systems view and one view per class), leaks are drawn in red and only leaks, policy
//! strings cannot add nodes or statements, SVG comes from `dot`, and an unknown class is a
//! diagnostic.
//!
//! These tests run Graphviz's `dot`; `.ci/run` installs it. Without it they fail, unless
//! `ZONECHECK_SKIP_GRAPHVIZ=1` says to skip what needs it.

use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Stdio};

use proptest::prelude::*;
use zonecheck::model::ClassId;
use zonecheck::report::graph::{View, dot, mermaid};

use crate::util::{quoted, zonecheck};

/// Whether `dot` can be run; panics when it cannot and the run did not opt out.
fn have_dot() -> bool {
    let ok = Proc::new("dot").arg("-V").stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("ZONECHECK_SKIP_GRAPHVIZ").is_some(),
            "Graphviz's `dot` is not installed: install graphviz (.ci/run does), or set ZONECHECK_SKIP_GRAPHVIZ=1"
        );
        eprintln!("skipped: no Graphviz `dot` (ZONECHECK_SKIP_GRAPHVIZ is set)");
    }
    ok
}

/// `dot -Tplain` on a DOT text: Ok(the node names it laid out) or Err(its message).
fn layout(text: &str) -> Result<Vec<String>, String> {
    use std::io::Write as _;
    let mut child = Proc::new("dot")
        .arg("-Tplain")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdin = child.stdin.take().expect("stdin");
    let input = text.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer.join().expect("writer").map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // Graphviz reports some layout failures ("trouble in init_rank") on stderr only.
    if !out.status.success() || err.contains("Error") || err.contains("trouble") {
        return Err(format!("{}: {err}", out.status));
    }
    let plain = String::from_utf8_lossy(&out.stdout);
    Ok(plain
        .lines()
        .filter_map(|l| l.strip_prefix("node "))
        .filter_map(|l| l.split(' ').next())
        .map(String::from)
        .collect())
}

/// Every policy shipped with zonecheck: `policies/`, `examples/ok/` and `examples/violations/`.
fn shipped() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["policies", "examples/ok", "examples/violations"] {
        for e in std::fs::read_dir(dir).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() || p.extension().is_some_and(|x| x == "zc") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 12, "{out:?}");
    out
}

fn views(model: &zonecheck::Model) -> Vec<View> {
    let classes = (0..model.classes.len()).map(|i| View::Class(ClassId::from_index(i)));
    [View::Zones, View::Systems].into_iter().chain(classes).collect()
}

#[test]
fn graphviz_lays_out_every_view_of_every_shipped_policy() {
    if !have_dot() {
        return;
    }
    let mut drawn = 0;
    for p in shipped() {
        let model = zonecheck::load_policy(&p).unwrap_or_else(|_| panic!("{} resolves", p.display()));
        for view in views(&model) {
            let text = dot(&model, view);
            let nodes =
                layout(&text).unwrap_or_else(|e| panic!("{} {view:?}: dot refuses it: {e}\n{text}", p.display()));
            assert!(nodes.iter().any(|n| n.starts_with("legend_")), "{} {view:?}: a legend", p.display());
            assert_eq!(text, dot(&model, view), "deterministic");
            drawn += 1;
        }
    }
    // Fjordvik alone has 6 classes: 8 views; every shipped policy has at least 3.
    assert!(drawn >= 40, "{drawn} views");
}

#[test]
fn the_zones_view_shows_every_zone_and_device_and_their_interfaces() {
    let model = zonecheck::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let text = dot(&model, View::Zones);
    for (i, z) in model.zones.iter().enumerate() {
        assert!(text.contains(&format!("  z{i} [label=\"{}\\n", z.name)), "zone {}", z.name);
    }
    for (i, d) in model.devices.iter().enumerate() {
        assert!(text.contains(&format!("  d{i} [label=\"{}\\n", d.name)), "device {}", d.name);
        for iface in &d.interfaces {
            for z in &iface.zones {
                let edge = format!("  d{i} -> z{} [label=\"{}\", dir=none];", z.0, iface.name);
                assert!(text.contains(&edge), "missing {edge}");
            }
        }
    }
    // No system and no flow in this view.
    assert!(!text.contains("  s0 ") && !text.contains("cluster_z"), "{text}");
}

/// A leak is red, with its path from the holder in red; a proved class has no red at all.
#[test]
fn a_class_view_draws_its_leaks_in_red_and_only_its_leaks() {
    const RED: &str = "#cc0000";
    let leaky = zonecheck::load_policy(Path::new("examples/violations/print-to-admin.zc")).expect("resolves");
    let helse = leaky.class_by_name("helse").expect("helse");
    let text = dot(&leaky, View::Class(helse));
    let red_lines: Vec<&str> = text.lines().filter(|l| l.contains(RED) && !l.contains("legend_")).collect();
    let print = leaky.system_by_name("print").expect("print");
    assert!(
        red_lines.iter().any(|l| l.starts_with(&format!("    s{} [", print.0)) && l.contains("LEAK")),
        "the leaking node is red: {red_lines:#?}"
    );
    assert!(red_lines.iter().filter(|l| l.contains(" -> ")).count() >= 2, "the path is red: {red_lines:#?}");
    let m = mermaid(&leaky, View::Class(helse));
    assert!(m.contains(&format!("style s{} fill:#ea9999,stroke:{RED}", print.0)), "{m}");
    assert!(m.contains(&format!("stroke:{RED},color:{RED},stroke-width:3px")), "{m}");

    let proved = zonecheck::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    for (i, c) in proved.classes.iter().enumerate() {
        let text = dot(&proved, View::Class(ClassId::from_index(i)));
        let red = text.lines().filter(|l| l.contains(RED) && !l.contains("legend_")).count();
        assert_eq!(red, 0, "class {} is proved: nothing is red", c.name);
        if c.confined() {
            assert!(text.contains(&format!("may hold {}", c.name)), "class {}: where it may be", c.name);
        }
    }
}

#[test]
fn svg_comes_from_graphviz_and_unknown_classes_are_diagnosed() {
    if have_dot() {
        let out = zonecheck()
            .args(["graph", "policies/fjordvik", "--class", "helse", "--format", "svg"])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let svg = String::from_utf8_lossy(&out);
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    }
    let out =
        zonecheck().args(["graph", "policies/fjordvik", "--class", "hlese"]).assert().code(2).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("zonecheck::graph::unknown-class") && err.contains("`helse`"), "{err}");
    assert!(out.stdout.is_empty());
    // No `dot` on PATH: a diagnostic saying so, exit 2.
    let out = zonecheck()
        .args(["graph", "policies/bodo.zc", "--format", "svg"])
        .env("PATH", "/nonexistent")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("zonecheck::graph::svg") && err.contains("not installed"), "{err}");
    // The views and formats on the command line.
    for args in [&["--view", "systems"][..], &["--format", "mermaid"], &["--format", "mermaid", "--class", "helse"]] {
        let out =
            zonecheck().args(["graph", "policies/fjordvik"]).args(args).assert().code(0).get_output().stdout.clone();
        assert!(!out.is_empty(), "{args:?}");
    }
    zonecheck().args(["graph", "policies/fjordvik", "--view", "systems", "--class", "helse"]).assert().code(2);
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("\"]; evil [label=\"x".to_string()),
        Just("x\\\"]; } digraph evil { a -> b; //".to_string()),
        Just("a\\nb\\l\\N <b>html</b> & #quot; |pipe| end".to_string()),
        Just("\"]\n  evil --> x\n  click x call alert(1)".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Labels, descriptions and the policy name with DOT and Mermaid syntax in them stay
    /// text: Graphviz lays out exactly the nodes zonecheck wrote, and no Mermaid line gains a
    /// statement.
    #[test]
    fn policy_strings_stay_labels(label in hostile(), name in hostile()) {
        if !have_dot() {
            return Ok(());
        }
        let text = format!(
            "policy {}\nclass helse {} {{ special; confined }}\nzone a {} {{ trust closed; net 10.0.0.0/24 }}\n\
             zone b {{ trust internal; net 10.1.0.0/24 }}\n\
             system x {} {{ zone a; address 10.0.0.1; platform linux; holds helse }}\n\
             system y {{ zone b; address 10.1.0.1; platform linux }}\n\
             flow y -> x : https {}\nfirewall fw {} {{ target nftables; interface eth0 zone a; interface eth1 zone b }}\n",
            quoted(&name), quoted(&label), quoted(&label), quoted(&label), quoted(&label), quoted(&label)
        );
        let model = zonecheck::load_str("p.zc", &text).map_err(|_| TestCaseError::reject("does not resolve"))?;
        for view in views(&model) {
            let d = dot(&model, view);
            let tame = {
                let mut m = model.clone();
                m.meta.name = Some("x".into());
                for c in &mut m.classes { c.label = Some("x".into()); }
                for z in &mut m.zones { z.label = Some("x".into()); }
                for s in &mut m.systems { s.label = Some("x".into()); }
                for dv in &mut m.devices { dv.label = Some("x".into()); }
                m
            };
            let mut nodes = layout(&d).map_err(|e| TestCaseError::fail(format!("{view:?}: {e}\n{d}")))?;
            let mut tame_nodes = layout(&dot(&tame, view)).map_err(TestCaseError::fail)?;
            nodes.sort();
            tame_nodes.sort();
            prop_assert_eq!(nodes, tame_nodes, "{:?}", view);
            let m = mermaid(&model, view);
            let tm = mermaid(&tame, view);
            prop_assert_eq!(m.lines().count(), tm.lines().count(), "{:?}\n{}", view, m);
        }
    }
}
