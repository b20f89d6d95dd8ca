//! `verify --format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers.
//!
//! One result per violation and per lint finding, located at the policy line that causes
//! it; a violation's earlier hops are related locations. Built with serde_json directly:
//! the subset GitHub reads is small and stable, and this keeps the dependency tree lean.

use serde_json::{Value, json};

use crate::diagnostics::{Code, Diag, Severity, Span, code};
use crate::model::Model;
use crate::verify::Verdict;

fn uri(name: &str) -> String {
    let s = name.replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

fn location(model: &Model, span: Span, message: Option<&str>) -> Value {
    let (line, col) = model.sources.line_col(span);
    let end = Span { start: span.end, ..span };
    let (end_line, end_col) = model.sources.line_col(end);
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(model.sources.name(span.file)) },
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

fn result(model: &Model, d: &Diag) -> Value {
    let related: Vec<Value> = d
        .related
        .iter()
        .enumerate()
        .map(|(i, (span, label))| {
            let mut l = location(model, *span, Some(label));
            l["id"] = json!(i + 1);
            l
        })
        .collect();
    let mut r = json!({
        "ruleId": d.code.id,
        "level": level(d.severity),
        "message": { "text": format!("{}\n{}", d.message, d.help) },
        "locations": [location(model, d.span, Some(&d.label))],
    });
    if !related.is_empty() {
        r["relatedLocations"] = json!(related);
    }
    r
}

pub fn to_string(model: &Model, v: &Verdict) -> String {
    let mut diags: Vec<Diag> = v.violations.iter().map(|vi| crate::report::human::violation_diag(model, vi)).collect();
    diags.extend(v.lints.iter().cloned());
    let mut rules: Vec<Code> = vec![code::VERIFY_LEAK];
    rules.extend(crate::verify::lints::LINTS.iter().map(|(_, c, _)| *c));
    let rule_values: Vec<Value> = rules
        .iter()
        .map(|c| {
            let default = if *c == code::VERIFY_LEAK {
                "error"
            } else {
                crate::verify::lints::LINTS.iter().find(|(_, k, _)| k == c).map_or("warning", |(_, _, s)| level(*s))
            };
            json!({
                "id": c.id,
                "name": c.id.rsplit("::").next().unwrap_or(c.id),
                "shortDescription": { "text": c.summary },
                "defaultConfiguration": { "level": default }
            })
        })
        .collect();
    let results: Vec<Value> = diags.iter().map(|d| result(model, d)).collect();
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
