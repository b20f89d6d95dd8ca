//! One mistake, one finding: violations grouped by the flow that opens them.
//!
//! When one flow lets a confined class out of its allowed places, every node beyond it
//! is a violation of its own; a zone of 400 clients answered by the EPJ is 400 leaks and
//! one mistake. The *root cause* of a violation is the first hop on its path that takes
//! the class from a place where it is allowed (or admitted by an export) to one where it
//! is not: the flow and direction to fix. A holder in a zone where its class is not
//! allowed is its own root cause. Reports lead with the root causes that open more than
//! one violation, each with the fix verify gives for its nearest violation.

use crate::model::{ClassId, FlowId, Model, Node};
use crate::verify::{Verdict, Violation, allowed};

/// What opens a group of violations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Cause {
    /// A flow, in one direction (`forward`: from its FROM side to its TO side).
    Flow { flow: FlowId, forward: bool },
    /// A node that holds a class where it is not allowed.
    Holder(Node),
}

#[derive(Clone, Debug)]
pub(crate) struct RootCause {
    pub cause: Cause,
    /// The classes it lets out, in declaration order.
    pub classes: Vec<ClassId>,
    /// Indices into [`Verdict::violations`], nearest first.
    pub violations: Vec<usize>,
    /// The fix of the nearest violation it opens.
    pub fix: String,
}

/// The hop that opens a violation (see the module doc).
pub(crate) fn cause_of(model: &Model, v: &Violation) -> Cause {
    for h in &v.path {
        let exported = h.forward && model.flow(h.flow).exports.iter().any(|e| e.class == v.class);
        if !exported && !allowed(model, v.class, h.to) {
            return Cause::Flow { flow: h.flow, forward: h.forward };
        }
    }
    match v.path.last() {
        Some(h) => Cause::Flow { flow: h.flow, forward: h.forward },
        None => Cause::Holder(v.node),
    }
}

/// Root causes, the one opening the most violations first (ties in flow order).
pub(crate) fn group(model: &Model, verdict: &Verdict) -> Vec<RootCause> {
    let mut groups: Vec<RootCause> = Vec::new();
    let mut index: std::collections::BTreeMap<Cause, usize> = std::collections::BTreeMap::new();
    for (i, v) in verdict.violations.iter().enumerate() {
        let cause = cause_of(model, v);
        let g = *index.entry(cause).or_insert_with(|| {
            groups.push(RootCause { cause, classes: Vec::new(), violations: Vec::new(), fix: String::new() });
            groups.len() - 1
        });
        let group = &mut groups[g];
        if !group.classes.contains(&v.class) {
            group.classes.push(v.class);
        }
        group.violations.push(i);
    }
    for g in &mut groups {
        g.classes.sort();
        g.violations.sort_by_key(|i| {
            let v = &verdict.violations[*i];
            (v.path.len(), model.node_name(v.node))
        });
        g.fix = g.violations.first().map(|i| verdict.violations[*i].fix.clone()).unwrap_or_default();
    }
    groups.sort_by(|a, b| b.violations.len().cmp(&a.violations.len()).then(a.cause.cmp(&b.cause)));
    groups
}

/// `flow a -> b : https (file:line), answer direction` or `system x (file:line)`.
pub(crate) fn cause_text(model: &Model, cause: Cause) -> String {
    match cause {
        Cause::Flow { flow, forward } => {
            let f = model.flow(flow);
            let (line, _) = model.sources.line_col(f.header_span);
            let dir = if forward { "" } else { ", answer direction" };
            format!("flow `{}` ({}:{line}{dir})", model.flow_title(flow), model.sources.name(f.header_span.file))
        }
        Cause::Holder(node) => {
            let span = match node {
                Node::System(s) => model.system(s).name_span,
                Node::ZoneRest(z) => model.zone(z).name_span,
            };
            let (line, _) = model.sources.line_col(span);
            format!(
                "`{}` ({}:{line}) holds it where it is not allowed",
                model.node_name(node),
                model.sources.name(span.file)
            )
        }
    }
}

/// For people: the root causes that open more than one violation, before the violations
/// themselves; empty when every violation is its own root cause.
pub(crate) fn lead(model: &Model, verdict: &Verdict) -> String {
    use std::fmt::Write as _;
    let groups: Vec<RootCause> = group(model, verdict).into_iter().filter(|g| g.violations.len() > 1).collect();
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from("Root causes (each opens several leaks; fix these first):\n");
    for g in &groups {
        let classes: Vec<String> = g.classes.iter().map(|c| format!("`{}`", model.class(*c).name)).collect();
        let places: Vec<String> =
            g.violations.iter().take(6).map(|i| model.node_name(verdict.violations[*i].node)).collect();
        let more = if g.violations.len() > places.len() { ", …" } else { "" };
        let _ = writeln!(
            out,
            "  {} lets {} out to {} places: {}{more}",
            cause_text(model, g.cause),
            classes.join(", "),
            g.violations.len(),
            places.join(", ")
        );
        let _ = writeln!(out, "    fix: {}", g.fix);
    }
    out.push('\n');
    out
}

/// A root cause in `verify --format json` (`root_causes[]`, docs/json.md).
#[derive(serde::Serialize)]
pub(crate) struct RootCauseOut {
    /// `flow` or `holder`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    /// `forward` or `answer`, for a flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    /// The holder, for `holder`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub classes: Vec<String>,
    /// Indices into the top-level `violations` list, nearest first.
    pub violations: Vec<usize>,
    pub fix: String,
    pub file: String,
    pub line: usize,
}

/// Every root cause, for JSON (also those that open one violation).
pub(crate) fn json(model: &Model, verdict: &Verdict) -> Vec<RootCauseOut> {
    group(model, verdict)
        .into_iter()
        .map(|g| {
            let (kind, flow, direction, system, span) = match g.cause {
                Cause::Flow { flow, forward } => (
                    "flow",
                    Some(model.flow_title(flow)),
                    Some(if forward { "forward" } else { "answer" }),
                    None,
                    model.flow(flow).header_span,
                ),
                Cause::Holder(node) => (
                    "holder",
                    None,
                    None,
                    Some(model.node_name(node)),
                    match node {
                        Node::System(s) => model.system(s).name_span,
                        Node::ZoneRest(z) => model.zone(z).name_span,
                    },
                ),
            };
            let (line, _) = model.sources.line_col(span);
            RootCauseOut {
                kind,
                flow,
                direction,
                system,
                classes: g.classes.iter().map(|c| model.class(*c).name.clone()).collect(),
                violations: g.violations,
                fix: g.fix,
                file: model.sources.name(span.file).to_string(),
                line,
            }
        })
        .collect()
}
