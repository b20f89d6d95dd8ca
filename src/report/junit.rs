//! `verify --format junit`: JUnit XML, one test case per confined class and per lint rule,
//! so GitLab and Jenkins show the proof next to the unit tests.

use std::fmt::Write as _;

use crate::diagnostics::Severity;
use crate::model::Model;
use crate::verify::Verdict;

/// Escape text for XML content and attribute values.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

struct Case {
    class: &'static str,
    name: String,
    failure: Option<(String, String)>,
}

pub fn to_string(model: &Model, v: &Verdict) -> String {
    let mut cases = Vec::new();
    for cv in &v.classes {
        let name = model.class(cv.class).name.clone();
        let leaks: Vec<String> = v
            .violations
            .iter()
            .filter(|x| x.class == cv.class)
            .map(|x| {
                format!(
                    "{} reaches {}: {}\n  fix: {}",
                    name,
                    model.node_name(x.node),
                    crate::report::human::path_text(model, x),
                    x.fix
                )
            })
            .collect();
        let failure = (!cv.proved).then(|| (format!("{} leak(s) of {name}", leaks.len()), leaks.join("\n")));
        cases.push(Case { class: "zonecheck.class", name, failure });
    }
    let gaps: Vec<String> = v
        .enforcement
        .gaps
        .iter()
        .map(|g| {
            let classes: Vec<&str> = g.classes.iter().map(|c| model.class(*c).name.as_str()).collect();
            format!(
                "{} -> {} ({}): {}\n  fix: {}",
                model.zone(g.inside).name,
                model.zone(g.outside).name,
                classes.join(", "),
                g.reason,
                g.fix
            )
        })
        .collect();
    let failure = (!gaps.is_empty()).then(|| (format!("{} enforcement gap(s)", gaps.len()), gaps.join("\n")));
    cases.push(Case { class: "zonecheck.enforcement", name: "enforcement".to_string(), failure });
    for l in crate::diagnostics::LINTS {
        let (lint, code) = (l.name(), l.code);
        let findings: Vec<_> = v.lints.iter().filter(|d| d.code == code).collect();
        let errors: Vec<String> = findings
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let (line, _) = model.sources.line_col(d.span);
                format!("{}:{line}: {}", model.sources.name(d.span.file), d.message)
            })
            .collect();
        let failure =
            (!errors.is_empty()).then(|| (format!("{} finding(s) of {lint}", errors.len()), errors.join("\n")));
        cases.push(Case { class: "zonecheck.lint", name: lint.to_string(), failure });
    }
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<testsuites name=\"zonecheck verify\" tests=\"{}\" failures=\"{failures}\">", cases.len());
    let suite = xml(model.meta.name.as_deref().unwrap_or("policy"));
    let _ = writeln!(s, "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\">", cases.len());
    for c in &cases {
        match &c.failure {
            None => {
                let _ = writeln!(s, "    <testcase classname=\"{}\" name=\"{}\"/>", c.class, xml(&c.name));
            }
            Some((msg, body)) => {
                let _ = writeln!(s, "    <testcase classname=\"{}\" name=\"{}\">", c.class, xml(&c.name));
                let _ = writeln!(s, "      <failure message=\"{}\">{}</failure>", xml(msg), xml(body));
                let _ = writeln!(s, "    </testcase>");
            }
        }
    }
    let warnings: Vec<String> = v
        .lints
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| {
            let (line, _) = model.sources.line_col(d.span);
            format!("warning {}:{line}: {}", model.sources.name(d.span.file), d.message)
        })
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(s, "    <system-out>{}</system-out>", xml(&warnings.join("\n")));
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
