//! `zonecheck report`: the audit document in both languages and both formats.
//!
//! The HTML is parsed by an HTML5 parser (scraper, on html5ever): it must parse without
//! errors, fetch nothing, and hold the same sections in bokmål and English. Markdown and
//! HTML are snapshots of `tests/fixtures/report/kommune.zc` on a fixed date.

use std::path::Path;

use scraper::{Html, Selector};
use zonecheck::report::audit::{self, Lang, Options};
use zonecheck::syntax::date::Date;

const FIXTURE: &str = "tests/fixtures/report/kommune.zc";
/// Before the fixture's exception to closed-egress ends (2026-11-30).
const BEFORE: Date = Date { year: 2026, month: 11, day: 1 };
const AFTER: Date = Date { year: 2026, month: 12, day: 6 };

use crate::util::zonecheck;

fn temp_dir(name: &str) -> std::path::PathBuf {
    crate::util::temp_dir("report", name)
}

fn render(path: &str, lang: Lang, today: Date, html: bool) -> String {
    let model = zonecheck::load_policy(Path::new(path)).expect("policy loads");
    let mut verdict = zonecheck::verify::verify(&model, &zonecheck::verify::Options::default());
    zonecheck::verify::expiry::apply(&model, &mut verdict, today);
    let options = Options { lang, today, bundle: None };
    if html { audit::html(&model, &verdict, &options) } else { audit::markdown(&model, &verdict, &options) }
}

fn parse(html: &str) -> Html {
    let doc = Html::parse_document(html);
    assert!(doc.errors.is_empty(), "HTML5 parse errors: {:?}", doc.errors);
    doc
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).expect("selector")).collect()
}

fn text(e: &scraper::ElementRef) -> String {
    e.text().collect()
}

#[test]
fn markdown_snapshots() {
    insta::assert_snapshot!("report_nb_md", render(FIXTURE, Lang::Nb, BEFORE, false));
    insta::assert_snapshot!("report_en_md", render(FIXTURE, Lang::En, BEFORE, false));
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!("report_en_html", render(FIXTURE, Lang::En, BEFORE, true));
}

#[test]
fn html_is_valid_self_contained_and_escaped() {
    for lang in [Lang::Nb, Lang::En] {
        let html = render(FIXTURE, lang, BEFORE, true);
        let doc = parse(&html);
        let root = select(&doc, "html");
        assert_eq!(root[0].value().attr("lang"), Some(if lang == Lang::Nb { "nb" } else { "en" }));
        // Nothing is fetched: no scripts, no external style sheets, images or frames.
        for css in ["script", "link", "img", "iframe", "object", "embed", "[src]", "[href]"] {
            assert!(select(&doc, css).is_empty(), "{css} in the report");
        }
        assert_eq!(select(&doc, "style").len(), 1);
        assert!(text(&select(&doc, "style")[0]).contains("@media print"));
        // Policy strings arrive as text, not markup.
        let all: String = doc.root_element().text().collect();
        assert!(all.contains("IT <drift> & sikkerhet"), "owner shown as written");
        assert!(all.contains("PLO-meldinger <ebXML>"));
        assert!(!html.contains("<drift>") && !html.contains("<ebXML>"));
        // Every table row has as many cells as the table has headers.
        for table in select(&doc, "table") {
            let heads = table.select(&Selector::parse("thead th").expect("selector")).count();
            for row in table.select(&Selector::parse("tbody tr").expect("selector")) {
                assert_eq!(row.select(&Selector::parse("td").expect("selector")).count(), heads);
            }
        }
        // One chapter per confined class, with its parts.
        for class in ["helse", "barnevern"] {
            for part in ["", "-holders", "-access", "-reach", "-exports", "-processors", "-assumptions", "-enforcement"]
            {
                assert_eq!(select(&doc, &format!("section#class-{class}{part}")).len(), 1, "{class}{part}");
            }
        }
        assert_eq!(select(&doc, "p.verdict.ok").len(), 2, "the verdict and the enforcement pass");
        assert!(select(&doc, "p.verdict.bad").is_empty());
    }
}

#[test]
fn bokmal_and_english_are_both_complete() {
    let nb = parse(&render(FIXTURE, Lang::Nb, BEFORE, true));
    let en = parse(&render(FIXTURE, Lang::En, BEFORE, true));
    let ids = |d: &Html| {
        select(d, "section").iter().map(|s| s.value().attr("id").unwrap_or("").to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&nb), ids(&en), "the same sections in both languages");
    // Same shape: rows per table.
    let rows = |d: &Html| select(d, "tr").len();
    assert_eq!(rows(&nb), rows(&en));
    // Every heading and table header is translated (differs between the languages),
    // except those that are names or technical terms.
    let same = ["sha256", "Type", "System", "Status"];
    for css in ["h1", "h2", "h3", "th", "dt"] {
        let a: Vec<String> = select(&nb, css).iter().map(text).collect();
        let b: Vec<String> = select(&en, css).iter().map(text).collect();
        assert_eq!(a.len(), b.len(), "{css}");
        for (x, y) in a.iter().zip(&b) {
            assert!(x != y || same.contains(&x.as_str()), "untranslated {css}: {x}");
        }
    }
}

#[test]
fn report_shows_processors_exports_assumptions_and_exceptions() {
    let md = render(FIXTURE, Lang::En, BEFORE, false);
    for expected in [
        "| flyt (Visma Flyt Barnevern) | Visma | DBA-2024-017 | EEA | two-factor (MFA) | holds |",
        "Helsepersonelloven § 45",
        "ICA: utklippstavle, klientdisker og skrivere er slått av",
        "| IT-sikkerhet | valid through 2027-06-30 |",
        "| Helse og omsorg | valid through 2026-11-30 |",
        "| fw-kjerne | firewall (nftables) | eth1 (sikker-srv, sikker-vdi) |",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
    assert!(md.contains("**PROVED:"));
    // After the exception's last day the same policy fails.
    let after = render(FIXTURE, Lang::En, AFTER, false);
    assert!(after.contains("EXPIRED after 2026-11-30"), "{after}");
    assert!(after.contains("**NOT PROVED:"));
    assert!(after.contains("zonecheck::verify::expired-allow"));
    let nb = render(FIXTURE, Lang::Nb, AFTER, false);
    assert!(nb.contains("UTLØPT etter 2026-11-30"));
}

#[test]
fn every_shipped_policy_reports() {
    let mut paths = vec!["policies/fjordvik".to_string()];
    for e in std::fs::read_dir("policies").expect("policies") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "zc") {
            paths.push(p.display().to_string());
        }
    }
    paths.sort();
    for p in &paths {
        for lang in [Lang::Nb, Lang::En] {
            let html = render(p, lang, BEFORE, true);
            parse(&html);
            assert!(render(p, lang, BEFORE, false).contains("sha256"));
        }
    }
}

#[test]
fn cli_report_with_a_bundle_checks_every_file() {
    let d = temp_dir("bundle");
    let bundle = d.join("bundle");
    zonecheck().args(["compile", FIXTURE, "-o"]).arg(&bundle).env("ZONECHECK_TODAY", "2026-11-01").assert().code(0);
    let out = zonecheck()
        .args(["report", FIXTURE, "--lang", "en", "--format", "markdown", "--bundle"])
        .arg(&bundle)
        .env("ZONECHECK_TODAY", "2026-11-01")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let md = String::from_utf8(out).expect("UTF-8");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).expect("manifest")).expect("json");
    let files = manifest["files"].as_array().expect("files");
    assert!(files.len() >= 6);
    for f in files {
        let row = format!(
            "| {} | {} | {} | matches | equal to the policy |",
            f["path"].as_str().expect("path"),
            f["device"].as_str().expect("device"),
            f["sha256"].as_str().expect("sha")
        );
        assert!(md.contains(&row.replace('_', "\\_")), "missing {row} in\n{md}");
    }
    // A file changed after compile: its hash no longer matches, the check finds the rule,
    // and the report fails.
    let nft = bundle.join("firewall/fw-kjerne.nft");
    let original = std::fs::read_to_string(&nft).expect("nft");
    let widened =
        original.replacen("counter drop comment \"default deny\"", "counter accept comment \"default deny\"", 1);
    assert_ne!(original, widened);
    std::fs::write(&nft, widened).expect("write");
    let out = zonecheck()
        .args(["report", FIXTURE, "--lang", "nb", "--bundle"])
        .arg(&bundle)
        .arg("-o")
        .arg(d.join("r.html"))
        .env("ZONECHECK_TODAY", "2026-11-01")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(out.is_empty(), "-o writes the file, not stdout");
    let html = std::fs::read_to_string(d.join("r.html")).expect("report written");
    let doc = parse(&html);
    let cells: Vec<String> = select(&doc, "section#bundle td").iter().map(text).collect();
    assert!(cells.iter().any(|c| c == "AVVIKER"), "{cells:?}");
    assert!(cells.iter().any(|c| c.starts_with("AVVIKER (")), "{cells:?}");
}

#[test]
fn cli_report_exit_codes() {
    zonecheck().args(["report", FIXTURE]).env("ZONECHECK_TODAY", "2026-11-01").assert().code(0);
    let err = zonecheck()
        .args(["report", FIXTURE])
        .env("ZONECHECK_TODAY", "2026-12-06")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&err).contains("zonecheck::verify::expired-allow"));
    zonecheck().args(["report", "does-not-exist.zc"]).assert().code(2);
    let out = zonecheck()
        .args(["report", FIXTURE, "-o", "/nonexistent-dir/r.html"])
        .env("ZONECHECK_TODAY", "2026-11-01")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::report::output"));
    let out = zonecheck()
        .args(["report", FIXTURE, "--bundle", "/nonexistent-dir"])
        .env("ZONECHECK_TODAY", "2026-11-01")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("zonecheck::check::input"));
    // verify fails on an expired exception too, with its code and span.
    let out = zonecheck()
        .args(["verify", FIXTURE])
        .env("ZONECHECK_TODAY", "2026-12-06")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let shown = String::from_utf8_lossy(&out);
    assert!(shown.contains("zonecheck::verify::expired-allow"), "{shown}");
    assert!(shown.contains("kommune.zc:"), "{shown}");
    zonecheck().args(["verify", FIXTURE]).env("ZONECHECK_TODAY", "2026-11-30").assert().code(0);
    zonecheck().args(["verify", FIXTURE]).env("ZONECHECK_TODAY", "30.11.2026").assert().code(2);
}

#[test]
fn enforcement_gaps_are_reported_with_their_fix() {
    // Without the firewall nothing separates the message server (now an appliance, with
    // no host firewall) from the rest.
    let text = std::fs::read_to_string(FIXTURE).expect("fixture").replacen(
        "address 10.20.10.11; platform linux",
        "address 10.20.10.11; platform appliance",
        1,
    );
    let start = text.find("firewall fw-kjerne").expect("firewall");
    let end = start + text[start..].find("\n}\n").expect("end of firewall") + 3;
    let without = format!("{}{}", &text[..start], &text[end..]);
    let model = zonecheck::load_str("kommune.zc", &without).expect("resolves");
    let mut verdict = zonecheck::verify::verify(&model, &zonecheck::verify::Options::default());
    zonecheck::verify::expiry::apply(&model, &mut verdict, BEFORE);
    assert!(!verdict.enforcement.gaps.is_empty());
    for lang in [Lang::Nb, Lang::En] {
        let html = audit::html(&model, &verdict, &Options { lang, today: BEFORE, bundle: None });
        let doc = parse(&html);
        assert_eq!(select(&doc, "p.verdict.bad").len(), 1, "the overview fails");
        let rows = select(&doc, "section#findings table tbody tr");
        assert!(rows.len() >= verdict.enforcement.gaps.len());
        assert!(
            html.contains(
                &verdict.enforcement.gaps[0]
                    .fix
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
                    .replace('\'', "&#39;")
            )
        );
    }
}
