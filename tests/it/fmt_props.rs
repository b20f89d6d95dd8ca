//! Property tests of `zonecheck fmt` over random valid policies (generator in
//! `tests/common/gen.rs`):
//!
//! 1. the generated text parses and resolves without diagnostics;
//! 2. `fmt` is idempotent: `fmt(fmt(x)) == fmt(x)`;
//! 3. `fmt` keeps the meaning: `parse(fmt(x))` resolves to the same `Model::canonical()`;
//! 4. `fmt` keeps every comment: the comments of `fmt(x)` are those of `x`, as many times.
//!
//! 1,000 cases per property by default; set `PROPTEST_CASES` for more or fewer. Failures
//! proptest finds are kept in `tests/proptest-regressions/fmt_props.txt` (when it finds any) and replayed first.

#[path = "../common/gen.rs"]
mod generator;

use proptest::prelude::*;
use zonecheck::diagnostics::{FileId, render};
use zonecheck::syntax::{self, Parsed, fmt::format_file};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn parse(text: &str) -> Parsed {
    syntax::parse_str("generated.zc", text)
}

/// The text the parser saw (a byte-order mark removed), for `format_file`.
fn source_text(parsed: &Parsed) -> String {
    parsed.sources.get(FileId(0)).map(|f| f.text.to_string()).unwrap_or_default()
}

fn fmt(text: &str) -> String {
    let parsed = parse(text);
    format_file(&parsed.files[0], &source_text(&parsed))
}

/// The canonical model, or the rendered diagnostics as an error.
fn canonical(text: &str) -> Result<String, String> {
    match zonecheck::resolve(parse(text)) {
        Ok(model) => Ok(model.canonical()),
        Err(e) => Err(render(&e.diags, &e.sources, false, 100)),
    }
}

/// Every comment's text (trailing white space is not part of it), sorted.
fn comments(text: &str) -> Vec<String> {
    let parsed = parse(text);
    let mut texts: Vec<String> = parsed.files[0].comments.iter().map(|c| c.text.trim_end().to_string()).collect();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_policies_are_valid(text in generator::policy_text()) {
        let parsed = parse(&text);
        prop_assert!(parsed.diags.is_empty(), "syntax errors in\n{text}\n{}", render(&parsed.diags, &parsed.sources, false, 100));
        if let Err(diags) = canonical(&text) {
            prop_assert!(false, "resolution errors in\n{text}\n{diags}");
        }
    }

    #[test]
    fn fmt_is_idempotent(text in generator::policy_text()) {
        let once = fmt(&text);
        let twice = fmt(&once);
        prop_assert_eq!(&twice, &once, "fmt changed its own output; input:\n{}", text);
    }

    #[test]
    fn fmt_keeps_the_model(text in generator::policy_text()) {
        let before = canonical(&text);
        let formatted = fmt(&text);
        let after = canonical(&formatted);
        prop_assert!(after.is_ok(), "formatted text does not resolve:\n{}\n{}", formatted, after.clone().err().unwrap_or_default());
        prop_assert_eq!(after, before, "fmt changed the model; formatted:\n{}", formatted);
    }

    #[test]
    fn fmt_keeps_every_comment(text in generator::policy_text()) {
        let formatted = fmt(&text);
        prop_assert_eq!(comments(&formatted), comments(&text), "fmt lost or duplicated a comment; formatted:\n{}", formatted);
    }
}

/// A hand-written case to debug with: CRLF line endings, a trailing and an own-line comment.
#[test]
fn smoke_fmt_of_a_small_policy() {
    let text = "zone a { trust closed; net 10.0.0.0/8 } # trailing\r\n# own line\r\nsystem s { zone a }\r\n";
    let formatted = fmt(text);
    assert_eq!(formatted, "zone a { trust closed; net 10.0.0.0/8 }  # trailing\n# own line\nsystem s { zone a }\n");
    assert_eq!(fmt(&formatted), formatted);
}

/// A blank line between a comment and the declaration after it (a file header, or a
/// comment about a whole section) is kept, as blank lines between declarations are.
#[test]
fn fmt_keeps_a_blank_line_after_a_comment() {
    let text =
        "# Fjordvik kommune: soner\n\nzone a { trust closed; net 10.0.0.0/8 }\n\n# systemer\nsystem s { zone a }\n";
    assert_eq!(fmt(text), text);
}
