//! Replays the fuzzers' findings and minimized corpora, and feeds the front end inputs
//! built to exhaust the stack or the clock.
//!
//! `tests/fuzz_corpus/<target>/` holds each fuzz target's minimized corpus (files named by
//! their sha1, as cargo-fuzz names them); `tests/fuzz_regressions/<target>-<name>.*` holds
//! every crash, hang or round-trip failure the fuzzers found, minimized. Each file runs
//! through the same checks as the fuzz targets (`fuzz_checks`, shared with `fuzz/`).
//! See `fuzz/README.md` for running the fuzzers themselves.

mod fuzz_checks;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fuzz_checks::{check_fmt_roundtrip, check_parse, check_read, check_resolve};

type Check = fn(&[u8]);

fn parse(data: &[u8]) {
    check_parse(data);
}

fn resolve(data: &[u8]) {
    check_resolve(data);
}

fn fmt_roundtrip(data: &[u8]) {
    check_fmt_roundtrip(data);
}

fn read(data: &[u8]) {
    check_read(data);
}

/// The checks of the fuzz target a corpus directory or regression file belongs to.
fn checks_for(target: &str) -> Vec<(&'static str, Check)> {
    let all: [(&'static str, Check); 4] =
        [("parse", parse), ("resolve", resolve), ("fmt_roundtrip", fmt_roundtrip), ("check_read", read)];
    match all.iter().find(|(name, _)| *name == target) {
        Some(one) => vec![*one],
        None => all.to_vec(),
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Run `check` on `data` and turn a panic into a message naming the file.
fn run(path: &Path, target: &str, check: Check, data: &[u8], failures: &mut String) {
    if std::panic::catch_unwind(|| check(data)).is_err() {
        let _ = writeln!(failures, "{target}: {}", path.display());
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Replay `tests/fuzz_corpus/<target>/` through that target's checks.
fn replay_corpus(target: &str) {
    let dir = root().join("fuzz_corpus").join(target);
    let mut failures = String::new();
    let files = files_under(&dir);
    assert!(!files.is_empty(), "no corpus under {}", dir.display());
    for path in &files {
        let data = std::fs::read(path).expect("corpus file is readable");
        for (name, check) in checks_for(target) {
            run(path, name, check, &data, &mut failures);
        }
    }
    assert!(failures.is_empty(), "corpus inputs failed their fuzz checks:\n{failures}");
}

#[test]
fn corpus_parse() {
    replay_corpus("parse");
}

#[test]
fn corpus_resolve() {
    replay_corpus("resolve");
}

#[test]
fn corpus_fmt_roundtrip() {
    replay_corpus("fmt_roundtrip");
    // The corpus is only worth its files if many of them parse cleanly and so reach fmt.
    let clean = files_under(&root().join("fuzz_corpus/fmt_roundtrip"))
        .iter()
        .filter(|p| check_fmt_roundtrip(&std::fs::read(p).expect("corpus file is readable")))
        .count();
    assert!(clean >= 100, "only {clean} fmt_roundtrip corpus files parse cleanly");
}

#[test]
fn corpus_check_read() {
    replay_corpus("check_read");
}

#[test]
fn regressions_stay_fixed() {
    let dir = root().join("fuzz_regressions");
    let mut failures = String::new();
    for path in files_under(&dir) {
        let data = std::fs::read(&path).expect("regression file is readable");
        // Every regression runs through every check, not only the target that found it.
        for (name, check) in checks_for("all") {
            run(&path, name, check, &data, &mut failures);
        }
    }
    assert!(failures.is_empty(), "fuzz regressions failed again:\n{failures}");
}

/// What the checks saw: whether the text resolved, and whether it parsed cleanly (so the
/// fmt round trip was checked).
#[derive(Debug, PartialEq)]
struct Outcome {
    resolved: bool,
    formatted: bool,
}

/// Run every check on `text` in a thread with the default 2 MB stack: a recursion that
/// grows with the input overflows it (and aborts the test binary) rather than passing.
fn on_small_stack(name: &str, text: String) -> Outcome {
    let handle = std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(2 << 20)
        .spawn(move || {
            let data = text.into_bytes();
            check_parse(&data);
            let resolved = check_resolve(&data);
            let formatted = check_fmt_roundtrip(&data);
            Outcome { resolved, formatted }
        })
        .expect("spawn test thread");
    handle.join().unwrap_or_else(|_| panic!("{name}: a check panicked"))
}

const BROKEN: Outcome = Outcome { resolved: false, formatted: false };

#[test]
fn deep_brackets_in_a_flow_endpoint() {
    // 1 MB: five flows, each with 200,000 `[` where an endpoint should be.
    let line = format!("flow a -> {}\n", "[".repeat(200_000));
    assert_eq!(on_small_stack("brackets", line.repeat(5)), BROKEN);
}

#[test]
fn hundred_thousand_opening_braces() {
    let mut text = String::from("zone a {\n");
    for _ in 0..100_000 {
        text.push_str("  {\n");
    }
    text.push_str("}\n");
    assert_eq!(on_small_stack("braces", text), BROKEN);
    // And as declarations that each open a block and never close it.
    assert_eq!(on_small_stack("open-declarations", "system s {\n".repeat(100_000)), BROKEN);
}

/// `group g0 { g1 }` … `group g9999 { g10000 }`, closed by `last`.
fn group_chain(last: &str) -> String {
    let mut text = String::from("zone z { trust internal; net 10.0.0.0/8 }\nsystem s { zone z; address 10.0.0.1 }\n");
    for i in 0..10_000 {
        let _ = writeln!(text, "group g{i} {{ g{} }}", i + 1);
    }
    text.push_str(last);
    text.push_str("flow g0 -> s : ssh \"deep\"\n");
    text
}

#[test]
fn ten_thousand_nested_groups() {
    let clean = |resolved| Outcome { resolved, formatted: true };
    // Resolves: the innermost group holds the system.
    assert_eq!(on_small_stack("group-chain", group_chain("group g10000 { s }\n")), clean(true));
    // Unknown innermost member.
    assert_eq!(on_small_stack("group-chain-unknown", group_chain("")), clean(false));
    // A cycle through all 10,001 groups.
    assert_eq!(on_small_stack("group-chain-cycle", group_chain("group g10000 { g0 }\n")), clean(false));
    // Every group also contains the outermost one: 10,000 cycles, each 1 to 10,000 deep.
    let mut text = String::from("zone z { trust internal; net 10.0.0.0/8 }\nsystem s { zone z; address 10.0.0.1 }\n");
    for i in 0..10_000 {
        let _ = writeln!(text, "group g{i} {{ g{}, g0 }}", i + 1);
    }
    text.push_str("group g10000 { s }\n");
    assert_eq!(on_small_stack("group-back-edges", text), clean(false));
}

#[test]
fn five_megabytes_of_declarations() {
    let mut text = String::from("class c { special; confined }\nzone z { trust closed; net 10.0.0.0/8 }\n");
    let mut i = 0u32;
    while text.len() < 5 << 20 {
        let _ = writeln!(
            text,
            "system s{i} \"System {i}\" {{ zone z; address 10.{}.{}.{}; platform linux; holds c }}  # host {i}\n\
             flow s{i} -> s{} : https, tcp/{} \"need {i}\" {{ carries c because \"reason\" }}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            i + 1,
            1 + i % 65535
        );
        i += 1;
    }
    let _ = writeln!(text, "system s{i} {{ zone z; address 10.{}.{}.{} }}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    assert_eq!(on_small_stack("five-megabytes", text), Outcome { resolved: true, formatted: true });
}
