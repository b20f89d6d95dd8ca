//! `verify --format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers.
//!
//! One result per violation and per lint finding, located at the policy line that causes
//! it; a violation's earlier hops are related locations. A finding silenced by `allow …
//! because "…"` is a result too, with an in-source suppression carrying the reason (GitHub
//! shows it as dismissed). Rules carry help text and a `helpUri` into docs/diagnostics.md.
//! URIs are the policy paths as given; `rebase` makes them relative to the repository
//! root (the CLI does, from the working directory). Built with serde_json directly:
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
    let (diags, rules) = verify_parts(model, v);
    document_with(&model.sources, &diags, &v.allowed, &rules)
}

/// The results and rules of a verdict.
fn verify_parts(model: &Model, v: &Verdict) -> (Vec<Diag>, Vec<(Code, Severity)>) {
    let mut diags: Vec<Diag> = v.violations.iter().map(|vi| crate::report::human::violation_diag(model, vi)).collect();
    diags.extend(v.enforcement.gaps.iter().map(|g| crate::report::human::gap_diag(model, g)));
    diags.extend(v.lints.iter().cloned());
    let rules: Vec<Code> = vec![code::VERIFY_LEAK, code::VERIFY_UNENFORCED];
    let rules: Vec<(Code, Severity)> = rules
        .into_iter()
        .map(|c| (c, Severity::Error))
        .chain(crate::diagnostics::LINTS.iter().map(|l| (l.code, l.severity)))
        .collect();
    (diags, rules)
}

/// A SARIF document of diagnostics, with the rules (codes and default levels) they use.
pub(crate) fn document(sources: &Sources, diags: &[Diag], rules: &[(Code, Severity)]) -> String {
    document_with(sources, diags, &[], rules)
}

/// [`document`], plus findings an `allow` silenced, with its reason.
pub(crate) fn document_with(
    sources: &Sources,
    diags: &[Diag],
    suppressed: &[(Diag, String)],
    rules: &[(Code, Severity)],
) -> String {
    let rule_values: Vec<Value> = rules
        .iter()
        .map(|(c, default)| {
            let default = level(*default);
            json!({
                "id": c.id,
                "name": c.id.rsplit("::").next().unwrap_or(c.id),
                "shortDescription": { "text": c.summary },
                "fullDescription": { "text": c.summary },
                "help": {
                    "text": format!("{}\n\n{}", c.summary, crate::report::rules::help(*c)),
                    "markdown": format!("**{}**\n\n{}\n\n[Documentation]({})", c.summary, crate::report::rules::help(*c), crate::report::rules::help_uri(*c)),
                },
                "helpUri": crate::report::rules::help_uri(*c),
                "defaultConfiguration": { "level": default }
            })
        })
        .collect();
    let mut results: Vec<Value> = diags.iter().map(|d| result(sources, d)).collect();
    for (d, reason) in suppressed {
        let mut r = result(sources, d);
        r["suppressions"] = json!([{ "kind": "inSource", "status": "accepted", "justification": reason }]);
        results.push(r);
    }
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

/// Make every artifact URI of a SARIF document relative to the repository root `root`,
/// for names given relative to `cwd` (or absolute). Names outside the root stay as they
/// are. GitHub code scanning matches results to files by these paths.
pub(crate) fn rebase(sarif: &str, cwd: &std::path::Path, root: &std::path::Path) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(sarif) else { return sarif.to_string() };
    fn walk(v: &mut Value, cwd: &std::path::Path, root: &std::path::Path) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(u)) = map.get_mut("artifactLocation").and_then(|a| a.get_mut("uri")) {
                    let abs = cwd.join(&*u);
                    let abs = normalise(&abs);
                    if let Ok(rel) = abs.strip_prefix(root) {
                        *u = uri(&rel.to_string_lossy());
                    }
                }
                for (_, child) in map.iter_mut() {
                    walk(child, cwd, root);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, cwd, root)),
            _ => {}
        }
    }
    walk(&mut doc, cwd, root);
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// `a/./b/../c` → `a/c`, without touching the disk.
fn normalise(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rebase;
    use std::path::Path;

    #[test]
    fn uris_become_relative_to_the_repository_root() {
        let doc = r#"{"runs":[{"results":[{"locations":[{"physicalLocation":{"artifactLocation":{"uri":"../policies/a.zc"}}}]},
            {"locations":[{"physicalLocation":{"artifactLocation":{"uri":"/repo/x/b.zc"}}}]},
            {"locations":[{"physicalLocation":{"artifactLocation":{"uri":"/elsewhere/c.zc"}}}]}]}]}"#;
        let out = rebase(doc, Path::new("/repo/sub"), Path::new("/repo"));
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let uri = |i: usize| {
            v["runs"][0]["results"][i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone()
        };
        assert_eq!(uri(0), "policies/a.zc");
        assert_eq!(uri(1), "x/b.zc");
        assert_eq!(uri(2), "/elsewhere/c.zc");
    }
}
