//! The properties the fuzz targets check, shared by `fuzz/fuzz_targets/*.rs` (through a
//! `#[path]` module) and `tests/fuzz_replay.rs`, so a replayed corpus file runs exactly the
//! code a fuzzer ran. No libfuzzer here: each check takes bytes and panics on a finding.

use zonecheck::diagnostics::{Diag, Sources, render};
use zonecheck::syntax::{self, fmt::format_file};

/// Render diagnostics the way the CLI does; miette must accept every span we produce.
fn render_all(diags: &[Diag], sources: &Sources) {
    let _ = render(diags, sources, false, 80);
}

/// `parse`: any UTF-8 text parses (with or without diagnostics) and its diagnostics render.
pub fn check_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = syntax::parse_str("fuzz.zc", text);
    render_all(&parsed.diags, &parsed.sources);
}

/// `resolve`: any UTF-8 text resolves to a model or to diagnostics that render; a model
/// renders as DOT, Mermaid and its canonical text. Returns whether it resolved.
pub fn check_resolve(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else { return false };
    match zonecheck::load_str("fuzz.zc", text) {
        Ok(model) => {
            let _ = zonecheck::report::graph::dot(&model);
            let _ = zonecheck::report::graph::mermaid(&model);
            let _ = model.canonical();
            true
        }
        Err(zonecheck::Errors { sources, diags }) => {
            assert!(!diags.is_empty(), "resolution failed without a diagnostic");
            render_all(&diags, &sources);
            false
        }
    }
}

/// Sorted diagnostic codes of a failed resolution (empty when it resolves).
fn error_codes(result: &Result<zonecheck::Model, zonecheck::Errors>) -> Vec<&'static str> {
    match result {
        Ok(_) => Vec::new(),
        Err(e) => {
            let mut codes: Vec<&'static str> = e.diags.iter().map(|d| d.code.id).collect();
            codes.sort_unstable();
            codes
        }
    }
}

/// `fmt_roundtrip`: text that parses cleanly formats to text that parses cleanly, formats
/// to itself again, and means the same (same canonical model, or the same error codes).
/// Returns whether the input parsed cleanly, i.e. whether there was anything to check.
pub fn check_fmt_roundtrip(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else { return false };
    let parsed = syntax::parse_str("fuzz.zc", text);
    if !parsed.diags.is_empty() {
        return false;
    }
    let Some(file) = parsed.files.first() else { return false };
    // The text the parser saw (a byte-order mark is already stripped).
    let src = syntax::text_of(&parsed.sources, file.file);
    let once = format_file(file, src);

    let reparsed = syntax::parse_str("fuzz.zc", &once);
    assert!(
        reparsed.diags.is_empty(),
        "formatted text does not parse cleanly:\n--- input\n{src}\n--- formatted\n{once}\n--- diagnostics\n{}",
        render(&reparsed.diags, &reparsed.sources, false, 100)
    );
    let twice = format_file(&reparsed.files[0], &once);
    assert_eq!(once, twice, "fmt is not idempotent:\n--- input\n{src}");

    // `load_str` is `resolve(parse_str(..))`; reuse the parses made above.
    let before = zonecheck::resolve(parsed.clone());
    let after = zonecheck::resolve(reparsed);
    match (&before, &after) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.canonical(), b.canonical(), "fmt changed the model:\n--- input\n{src}\n--- formatted\n{once}")
        }
        _ => assert_eq!(
            error_codes(&before),
            error_codes(&after),
            "fmt changed whether or how the policy resolves:\n--- input\n{src}\n--- formatted\n{once}"
        ),
    }
    true
}
