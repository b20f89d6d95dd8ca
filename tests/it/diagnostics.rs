//! Data-driven tests of syntax and resolution diagnostics.
//!
//! Every `tests/fixtures/syntax/*.zc` and `tests/fixtures/resolve/*.zc` is a small policy
//! whose header comment states its intent. [`check`] parses and resolves it as the
//! library does and snapshots the exit-code class and the diagnostics as rendered for a
//! terminal without colour, 80 columns wide (`tests/it/snapshots/diagnostics/`). Adding a
//! test means adding a fixture and reviewing its snapshot (`cargo insta review`).
//!
//! Besides the snapshots:
//! - every registered code of the syntax and resolve stages has a fixture that shows it;
//! - a fixture under `syntax/` reports only syntax codes, one under `resolve/` only
//!   resolve codes (a syntax error must not cascade into resolution errors);
//! - CRLF line endings and a byte-order mark change no diagnostic's position;
//! - `three-mistakes.zc` gives exactly three diagnostics, checked code by code and span
//!   by span, and the CLI exits with 2 on it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use zonecheck::diagnostics::{Diag, Severity, Sources, code, render};

/// Codes parsing and resolution cannot produce, and where they are tested instead. A code
/// of any other stage needs a fixture here, so a new code cannot ship untested.
const TESTED_ELSEWHERE: &[(&str, &str)] = &[
    ("zonecheck::io::", "reading files: CLI tests"),
    ("zonecheck::config::", "zonecheck.toml: CLI tests"),
    ("zonecheck::init::", "zonecheck init: tests/polish.rs"),
    ("zonecheck::verify::", "verification: verify tests"),
    ("zonecheck::lint::", "lints run during verification: verify tests"),
    ("zonecheck::compile::", "compilation to device configurations: compile tests"),
    ("zonecheck::too-many-problems", "the cap on problems per run: tests/cli.rs"),
    ("zonecheck::check::", "checking rulesets: tests/check.rs"),
    ("zonecheck::report::", "the audit report: tests/report.rs"),
    ("zonecheck::explain::", "explaining a packet: tests/explain_packet.rs"),
    ("zonecheck::graph::", "drawing the policy: tests/graph.rs"),
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture of one stage, sorted.
fn fixtures(stage: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join(stage))
        .expect("fixture directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "zc"))
        .collect();
    paths.sort();
    paths
}

/// A fixture's display name (its file name, so output does not depend on the checkout)
/// and its text. Files named `*crlf*` get CRLF line endings here, whatever git or an
/// editor did to the file.
fn load(path: &Path) -> (String, String) {
    let name = path.file_name().expect("file name").to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).expect("fixture is UTF-8");
    let text = if name.contains("crlf") { text.replace("\r\n", "\n").replace('\n', "\r\n") } else { text };
    (name, text)
}

struct Outcome {
    sources: Sources,
    diags: Vec<Diag>,
}

impl Outcome {
    fn errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }

    fn codes(&self) -> Vec<&'static str> {
        self.diags.iter().map(|d| d.code.id).collect()
    }
}

/// Parse and resolve one file the way the library does.
fn run(name: &str, text: &str) -> Outcome {
    match zonecheck::resolve(zonecheck::syntax::parse_str(name, text)) {
        Ok(model) => Outcome { sources: model.sources, diags: Vec::new() },
        Err(e) => Outcome { sources: e.sources, diags: e.diags },
    }
}

/// The snapshot: exit-code class, count, and the rendered diagnostics.
fn snapshot_text(out: &Outcome) -> String {
    let class = if out.errors() { "errors (exit 2)" } else { "ok (exit 0)" };
    format!("exit: {class}\ndiagnostics: {}\n\n{}", out.diags.len(), render(&out.diags, &out.sources, false, 80))
}

/// The fixture's header comment, without the `#`s: the snapshot's description.
fn intent(text: &str) -> String {
    text.trim_start_matches('\u{feff}')
        .lines()
        .map_while(|l| l.strip_prefix('#'))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

fn check(stage: &str, path: &Path) {
    let (name, text) = load(path);
    let out = run(&name, &text);
    insta::with_settings!({
        snapshot_path => "snapshots/diagnostics",
        prepend_module_to_snapshot => false,
        description => intent(&text),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(stage, snapshot_text(&out));
    });
}

#[test]
fn syntax() {
    insta::glob!("../fixtures/syntax", "*.zc", |path| check("syntax", path));
}

#[test]
fn resolve() {
    insta::glob!("../fixtures/resolve", "*.zc", |path| check("resolve", path));
}

#[test]
fn every_fixture_states_its_intent() {
    for path in fixtures("syntax").into_iter().chain(fixtures("resolve")) {
        let (name, text) = load(&path);
        if name == "empty.zc" {
            assert!(text.is_empty(), "empty.zc must stay empty");
            continue;
        }
        assert!(intent(&text).len() > 20, "{name} needs a header comment stating its intent");
    }
}

#[test]
fn every_syntax_and_resolve_code_has_a_fixture() {
    let mut shown = BTreeSet::new();
    for path in fixtures("syntax").into_iter().chain(fixtures("resolve")) {
        let (name, text) = load(&path);
        shown.extend(run(&name, &text).codes());
    }
    let missing: Vec<&str> = code::ALL
        .iter()
        .map(|c| c.id)
        .filter(|id| !TESTED_ELSEWHERE.iter().any(|(prefix, _)| id.starts_with(prefix)))
        .filter(|id| !shown.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "no fixture in tests/fixtures/{{syntax,resolve}}/ shows {missing:?}: add one (or, for a new stage, list it in TESTED_ELSEWHERE with where it is tested)"
    );
}

#[test]
fn fixtures_report_only_their_own_stage() {
    for stage in ["syntax", "resolve"] {
        let prefix = format!("zonecheck::{stage}::");
        for path in fixtures(stage) {
            let (name, text) = load(&path);
            let out = run(&name, &text);
            let foreign: Vec<&str> = out.codes().into_iter().filter(|c| !c.starts_with(&prefix)).collect();
            assert!(foreign.is_empty(), "{stage}/{name} reports codes of another stage: {foreign:?}");
            if name.starts_with("ok-") || name == "empty.zc" || name == "comments-only.zc" {
                assert!(out.diags.is_empty(), "{name} should have no diagnostics:\n{}", snapshot_text(&out));
            } else {
                assert!(out.errors(), "{stage}/{name} should report an error");
            }
        }
    }
}

/// (code, line, column, underlined text) of every diagnostic.
fn positions(out: &Outcome) -> Vec<(&'static str, (usize, usize), String)> {
    out.diags
        .iter()
        .map(|d| {
            (d.code.id, out.sources.line_col(d.span), out.sources.snippet(d.span).trim_end_matches('\r').to_string())
        })
        .collect()
}

#[test]
fn crlf_line_endings_change_no_diagnostic() {
    for path in fixtures("syntax").into_iter().chain(fixtures("resolve")) {
        let (name, text) = load(&path);
        let lf = text.replace("\r\n", "\n");
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(positions(&run(&name, &crlf)), positions(&run(&name, &lf)), "{name} with CRLF line endings");
    }
}

#[test]
fn a_byte_order_mark_changes_no_diagnostic() {
    for path in fixtures("syntax").into_iter().chain(fixtures("resolve")) {
        let (name, text) = load(&path);
        let plain = text.trim_start_matches('\u{feff}');
        let with_bom = format!("\u{feff}{plain}");
        assert_eq!(
            snapshot_text(&run(&name, &with_bom)),
            snapshot_text(&run(&name, plain)),
            "{name} with a byte-order mark"
        );
    }
}

#[test]
fn the_bom_fixture_starts_with_a_bom() {
    let (_, text) = load(&fixtures_dir().join("syntax/bom.zc"));
    assert!(text.starts_with('\u{feff}'), "an editor removed the byte-order mark from bom.zc");
}

#[test]
fn unicode_before_an_error_does_not_move_its_span() {
    let (name, text) = load(&fixtures_dir().join("syntax/unicode-caret.zc"));
    let out = run(&name, &text);
    let found: Vec<(&str, String)> = positions(&out).into_iter().map(|(c, _, s)| (c, s)).collect();
    assert_eq!(
        found,
        [
            (code::SYNTAX_UNKNOWN_PROPERTY.id, "platfrom".to_string()),
            (code::SYNTAX_INVALID_VALUE.id, "wíndows".to_string())
        ]
    );
}

const THREE_MISTAKES: &str = "resolve/three-mistakes.zc";

#[test]
fn three_independent_mistakes_give_exactly_three_diagnostics() {
    let (name, text) = load(&fixtures_dir().join(THREE_MISTAKES));
    let out = run(&name, &text);
    assert_eq!(
        positions(&out),
        [
            (code::RESOLVE_PORT_ZERO.id, (11, 27), "tcp/0".to_string()),
            (code::RESOLVE_UNKNOWN_ZONE.id, (14, 21), "admn".to_string()),
            (code::RESOLVE_UNKNOWN_LINT.id, (17, 44), "closed-egres".to_string()),
        ],
        "{}",
        snapshot_text(&out)
    );
    assert!(out.diags.iter().all(|d| d.severity == Severity::Error));
    let helps: Vec<&str> = out.diags.iter().map(|d| d.help.as_str()).collect();
    assert!(helps[1].contains("did you mean `adm`?"), "{helps:?}");
    assert!(helps[2].contains("did you mean `closed-egress`?"), "{helps:?}");
}

#[test]
fn the_cli_exits_with_2_on_three_mistakes() {
    let path = fixtures_dir().join(THREE_MISTAKES);
    let output = assert_cmd::Command::cargo_bin("zonecheck")
        .expect("zonecheck binary")
        .args([std::ffi::OsStr::new("graph"), path.as_os_str()])
        .env("NO_COLOR", "1")
        .output()
        .expect("zonecheck runs");
    assert_eq!(output.status.code(), Some(2), "stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty(), "no graph is printed for a policy that does not resolve");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for c in [code::RESOLVE_PORT_ZERO, code::RESOLVE_UNKNOWN_ZONE, code::RESOLVE_UNKNOWN_LINT] {
        assert_eq!(stderr.matches(c.id).count(), 1, "{} once in:\n{stderr}", c.id);
    }
}

/// The lint registry (`diagnostics::LINTS`) is the one table of lints: each has a fixture
/// under `tests/fixtures/lint/` named after it, verify reports the lint on it at the
/// registry's default severity, and `docs/diagnostics.md` documents its code.
#[test]
fn every_lint_in_the_registry_has_a_fixture_that_shows_it() {
    let dir = fixtures_dir().join("lint");
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md")).expect("docs");
    assert!(zonecheck::diagnostics::LINTS.len() >= 12);
    for lint in zonecheck::diagnostics::LINTS {
        assert_eq!(lint.fixture, format!("{}.zc", lint.name()), "a lint's fixture is named after it");
        assert!(lint.code.id.starts_with("zonecheck::lint::"), "{}", lint.code.id);
        assert!(
            docs.contains(&format!("`{}`", lint.code.id)),
            "docs/diagnostics.md does not document {}",
            lint.code.id
        );
        let model = zonecheck::load_policy(&dir.join(lint.fixture))
            .unwrap_or_else(|e| panic!("{}: {:?}", lint.fixture, e.diags));
        let v = zonecheck::verify::verify(&model, &Default::default());
        let hits: Vec<&Diag> = v.lints.iter().filter(|d| d.code == lint.code).collect();
        assert!(
            !hits.is_empty(),
            "{} does not show {}: {:?}",
            lint.fixture,
            lint.name(),
            v.lints.iter().map(|d| d.code.id).collect::<Vec<_>>()
        );
        assert!(hits.iter().all(|d| d.severity == lint.severity), "{}: not at the default severity", lint.name());
        assert_eq!(zonecheck::diagnostics::Lint::named(lint.name()).map(|l| l.code.id), Some(lint.code.id));
    }
    // Every lint code of the code registry is in the lint registry.
    let lint_codes: Vec<&str> = zonecheck::diagnostics::code::ALL
        .iter()
        .map(|c| c.id)
        .filter(|id| id.starts_with("zonecheck::lint::"))
        .collect();
    assert_eq!(lint_codes.len(), zonecheck::diagnostics::LINTS.len(), "{lint_codes:?}");
}
