//! `verify --format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers.
//!
//! One result per violation and per lint finding, located at the policy line that causes
//! it; a violation's earlier hops are related locations. Built with serde_json directly:
//! the subset GitHub reads is small and stable, and this keeps the dependency tree lean.

use serde_json::{Value, json};

use crate::diagnostics::{Code, Diag, Severity, Sources, Span, code};
use crate::model::Model;
use crate::verify::Verdict;

fn uri(name: &str) -> String {
    let s = name.replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

fn location(sources: &Sources, span: Span, message: Option<&str>) -> Value {
    if sources.get(span.file).is_none() {
        // No file to point into (a JSON dump has no lines): a message without a place.
        return json!({ "message": { "text": message.unwrap_or("") } });
    }
    let (line, col) = sources.line_col(span);
    let end = Span { start: span.end, ..span };
    let (end_line, end_col) = sources.line_col(end);
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(sources.name(span.file)) },
            "region": { "startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col.max(col + usize::from(end_line == line)) }
        }
    });
    if let Some(m) = message {
        loc["message"] = json!({ "text": m });
    }
    loc
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn result(sources: &Sources, d: &Diag) -> Value {
    let related: Vec<Value> = d
        .related
        .iter()
        .enumerate()
        .map(|(i, (span, label))| {
            let mut l = location(sources, *span, Some(label));
            l["id"] = json!(i + 1);
            l
        })
        .collect();
    let mut r = json!({
        "ruleId": d.code.id,
        "level": level(d.severity),
        "message": { "text": format!("{}\n{}", d.message, d.help) },
        "locations": [location(sources, d.span, Some(&d.label))],
    });
    if !related.is_empty() {
        r["relatedLocations"] = json!(related);
    }
    r
}

pub fn to_string(model: &Model, v: &Verdict) -> String {
    let mut diags: Vec<Diag> = v.violations.iter().map(|vi| crate::report::human::violation_diag(model, vi)).collect();
    diags.extend(v.enforcement.gaps.iter().map(|g| crate::report::human::gap_diag(model, g)));
    diags.extend(v.lints.iter().cloned());
    let mut rules: Vec<Code> = vec![code::VERIFY_LEAK, code::VERIFY_UNENFORCED];
    rules.extend(crate::verify::lints::LINTS.iter().map(|(_, c, _)| *c));
    let rules: Vec<(Code, Severity)> = rules
        .iter()
        .map(|c| {
            let default = if *c == code::VERIFY_LEAK || *c == code::VERIFY_UNENFORCED {
                Severity::Error
            } else {
                crate::verify::lints::LINTS.iter().find(|(_, k, _)| k == c).map_or(Severity::Warning, |(_, _, s)| *s)
            };
            (*c, default)
        })
        .collect();
    document(&model.sources, &diags, &rules)
}

/// A SARIF document of diagnostics, with the rules (codes and default levels) they use.
pub fn document(sources: &Sources, diags: &[Diag], rules: &[(Code, Severity)]) -> String {
    let rule_values: Vec<Value> = rules
        .iter()
        .map(|(c, default)| {
            let default = level(*default);
            json!({
                "id": c.id,
                "name": c.id.rsplit("::").next().unwrap_or(c.id),
                "shortDescription": { "text": c.summary },
                "defaultConfiguration": { "level": default }
            })
        })
        .collect();
    let results: Vec<Value> = diags.iter().map(|d| result(sources, d)).collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "zonecheck",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_values
            }},
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
