//! The verify verdict for people: a summary per class, violations and lints as miette
//! diagnostics with source spans, the assumptions the proof relied on.

use std::fmt::Write as _;

use crate::diagnostics::{Diag, Severity, code, render};
use crate::model::{Model, Node};
use crate::verify::enforce::Gap;
use crate::verify::{AssumptionKind, Verdict, Violation};

/// How many violations per class are shown in full unless `--all` is given.
pub const SHOWN_PER_CLASS: usize = 5;

pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
    pub all: bool,
}

/// `a -> b : https`, with its location.
fn flow_at(model: &Model, f: crate::model::FlowId) -> String {
    let flow = model.flow(f);
    let (line, _) = model.sources.line_col(flow.header_span);
    format!("`{}` ({}:{line})", model.flow_title(f), model.sources.name(flow.header_span.file))
}

/// `` `name` (file:line) `` of a system's declaration.
fn system_at(model: &Model, s: crate::model::SystemId) -> String {
    let sys = model.system(s);
    let (line, _) = model.sources.line_col(sys.name_span);
    format!("`{}` ({}:{line})", sys.name, model.sources.name(sys.name_span.file))
}

pub(crate) fn node_kind(model: &Model, node: Node) -> String {
    match node {
        Node::System(s) => format!("system in `{}`", model.zone(model.system(s).zone).name),
        Node::ZoneRest(_) => "the rest of the zone".to_string(),
    }
}

/// The path as `holder → a → b`.
pub(crate) fn path_text(model: &Model, v: &Violation) -> String {
    let mut names = vec![model.node_name(v.source())];
    names.extend(v.path.iter().map(|h| model.node_name(h.to)));
    names.join(" → ")
}

/// A violation as a diagnostic: the delivering flow is the primary span, earlier hops related.
pub(crate) fn violation_diag(model: &Model, v: &Violation) -> Diag {
    let class = &model.class(v.class).name;
    let node = model.node_name(v.node);
    let zone = &model.zone(model.node_zone(v.node)).name;
    let Some(last) = v.path.last() else {
        let span = match v.node {
            Node::System(s) => model.system(s).name_span,
            Node::ZoneRest(z) => model.zone(z).name_span,
        };
        return Diag::error(
            code::VERIFY_LEAK,
            span,
            format!("`{node}` holds `{class}` but lies in zone `{zone}`, where `{class}` is not allowed"),
        )
        .label(format!("holds `{class}`"))
        .help(v.fix.clone());
    };
    let dir = |h: &crate::verify::Hop| if h.forward { "" } else { " (answer direction)" };
    let mut d = Diag::error(
        code::VERIFY_LEAK,
        model.flow(last.flow).header_span,
        format!(
            "`{class}` reaches `{node}` ({}), where it is not allowed: {}",
            node_kind(model, v.node),
            path_text(model, v)
        ),
    )
    .label(format!("{} → {}{}", model.node_name(last.from), node, dir(last)))
    .help(v.fix.clone());
    for (i, h) in v.path.iter().enumerate().take(v.path.len().saturating_sub(1)) {
        d = d.related(
            model.flow(h.flow).header_span,
            format!("hop {}: {} → {}{}", i + 1, model.node_name(h.from), model.node_name(h.to), dir(h)),
        );
    }
    d
}

/// Up to `max` node names, then a count of the rest.
pub(crate) fn node_list(model: &Model, nodes: &[Node], max: usize) -> String {
    let mut names: Vec<String> = nodes.iter().take(max).map(|n| format!("`{}`", model.node_name(*n))).collect();
    if nodes.len() > max {
        names.push(format!("{} more", nodes.len() - max));
    }
    names.join(", ")
}

/// An enforcement gap as a diagnostic at the inside zone, the outside zone related.
pub(crate) fn gap_diag(model: &Model, g: &Gap) -> Diag {
    let classes: Vec<&str> = g.classes.iter().map(|c| model.class(*c).name.as_str()).collect();
    let (inside, outside) = (model.zone(g.inside), model.zone(g.outside));
    Diag::error(
        code::VERIFY_UNENFORCED,
        inside.name_span,
        format!(
            "`{}` can leave `{}` for `{}` outside the declared flows: no enforcement point filters between {} and {}",
            classes.join("`, `"),
            inside.name,
            outside.name,
            node_list(model, &g.from, 4),
            node_list(model, &g.to, 4)
        ),
    )
    .label(format!("{} here", classes.join(", ")))
    .related(outside.name_span, format!("reachable from `{}` unfiltered", inside.name))
    .help(format!("{}. Fix: {}", g.reason, g.fix))
}

pub fn verdict(model: &Model, verdict: &Verdict, opts: &HumanOptions) -> String {
    let mut out = String::new();
    let title = model.meta.name.clone().unwrap_or_else(|| "policy".into());
    let _ = writeln!(out, "zonecheck verify — {title}");
    let _ = writeln!(out);
    out.push_str(&crate::report::rootcause::lead(model, verdict));

    // Violations first, as diagnostics, a few per class.
    let mut diags = Vec::new();
    let mut hidden = Vec::new();
    for cv in &verdict.classes {
        let mut vs: Vec<&Violation> = verdict.violations.iter().filter(|v| v.class == cv.class).collect();
        vs.sort_by_key(|v| (v.path.len(), model.node_name(v.node)));
        let shown = if opts.all { vs.len() } else { SHOWN_PER_CLASS.min(vs.len()) };
        for v in vs.iter().take(shown) {
            diags.push(violation_diag(model, v));
        }
        if vs.len() > shown {
            hidden.push((
                cv.class,
                vs.len() - shown,
                vs.get(shown..).unwrap_or(&[]).iter().map(|v| model.node_name(v.node)).collect::<Vec<_>>(),
            ));
        }
    }
    out.push_str(&render(&diags, &model.sources, opts.color, opts.width));
    for (class, n, names) in &hidden {
        let preview: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
        let more = if names.len() > 8 { ", …" } else { "" };
        let _ = writeln!(
            out,
            "  … and {n} more places `{}` reaches where it is not allowed ({}{more}); run with --all to see every path",
            model.class(*class).name,
            preview.join(", ")
        );
    }
    if !hidden.is_empty() {
        out.push('\n');
    }
    let gaps: Vec<Diag> = verdict.enforcement.gaps.iter().map(|g| gap_diag(model, g)).collect();
    out.push_str(&render(&gaps, &model.sources, opts.color, opts.width));
    out.push_str(&render(&verdict.lints, &model.sources, opts.color, opts.width));

    // The verdict per class.
    let _ = writeln!(out, "Confined classes:");
    let width = verdict.classes.iter().map(|c| model.class(c.class).name.chars().count()).max().unwrap_or(0);
    for cv in &verdict.classes {
        let class = model.class(cv.class);
        let status = if cv.proved { "PROVED  " } else { "VIOLATED" };
        let leaks = verdict.violations.iter().filter(|v| v.class == cv.class).count();
        let zones: Vec<&str> = cv.allowed_zones.iter().map(|z| model.zone(*z).name.as_str()).collect();
        let mut facts = vec![
            format!("{} holder{}", cv.holders.len(), if cv.holders.len() == 1 { "" } else { "s" }),
            format!("allowed in {}", if zones.is_empty() { "no zone".to_string() } else { zones.join(", ") }),
        ];
        if !cv.allowed_saas.is_empty() {
            let saas: Vec<&str> = cv.allowed_saas.iter().map(|s| model.system(*s).name.as_str()).collect();
            facts.push(format!("SaaS {}", saas.join(", ")));
        }
        if !cv.exports.is_empty() {
            facts.push(format!("{} export{}", cv.exports.len(), if cv.exports.len() == 1 { "" } else { "s" }));
        }
        facts.push(format!("{} assumption{}", cv.assumptions.len(), if cv.assumptions.len() == 1 { "" } else { "s" }));
        if !cv.proved {
            facts.push(format!("{leaks} leak{}", if leaks == 1 { "" } else { "s" }));
        }
        let _ = writeln!(out, "  {:width$}  {status}  {}", class.name, facts.join(" · "));
    }
    if verdict.classes.is_empty() {
        let _ = writeln!(out, "  (none: the policy declares no confined class, so there is nothing to prove)");
    }

    // What the network enforces (DESIGN.md §4a).
    let _ = writeln!(out, "\nEnforcement:");
    if verdict.enforcement.enforced() {
        let _ = writeln!(
            out,
            "  ENFORCED  every path from where a confined class is to where it may not be meets a firewall, a switch ACL or a host firewall"
        );
    } else {
        let n = verdict.enforcement.gaps.len();
        let _ = writeln!(
            out,
            "  GAPS      {n} zone pair{} with no enforcement point between them:",
            if n == 1 { "" } else { "s" }
        );
        for g in &verdict.enforcement.gaps {
            let classes: Vec<&str> = g.classes.iter().map(|c| model.class(*c).name.as_str()).collect();
            let _ = writeln!(
                out,
                "    {} → {} ({}): {}",
                model.zone(g.inside).name,
                model.zone(g.outside).name,
                classes.join(", "),
                g.reason
            );
        }
    }

    // Exports, with their basis.
    let exports: Vec<_> = verdict.classes.iter().flat_map(|c| c.exports.iter().map(move |e| (c.class, e))).collect();
    if !exports.is_empty() {
        let _ = writeln!(out, "\nExports (each exit is declared with its legal basis):");
        for (class, e) in exports {
            let how = if e.fetched { " (fetched by the FROM side)" } else { "" };
            let _ = writeln!(out, "  {} over {}{how}: {}", model.class(class).name, flow_at(model, e.flow), e.basis);
        }
    }

    // Assumptions the proof relied on.
    let relied: Vec<_> =
        verdict.assumptions.iter().filter(|a| !a.classes.is_empty() || !a.in_series.is_empty()).collect();
    if !relied.is_empty() {
        let _ = writeln!(out, "\nAssumptions (a firewall cannot enforce these; the proof relies on them):");
        for a in relied {
            let classes: Vec<&str> = a.classes.iter().map(|c| model.class(*c).name.as_str()).collect();
            match &a.kind {
                AssumptionKind::Carries { flow } => {
                    let flow = *flow;
                    let what = if model.flow(flow).carries.as_ref().is_some_and(|c| c.classes.is_empty()) {
                        "carries none"
                    } else {
                        "carries"
                    };
                    let names = |ids: &[crate::model::ClassId]| -> Vec<&str> {
                        ids.iter().map(|c| model.class(*c).name.as_str()).collect()
                    };
                    let relied = names(&a.relied_on);
                    let series: Vec<&str> = names(&a.in_series).into_iter().filter(|c| !relied.contains(c)).collect();
                    let mut reliance = Vec::new();
                    if !relied.is_empty() {
                        reliance.push(format!("the proof of {} depends on it", relied.join(", ")));
                    }
                    if !series.is_empty() {
                        reliance.push(format!(
                            "it guards {} in series with another `carries` (removing both would leak)",
                            series.join(", ")
                        ));
                    }
                    let reliance = if reliance.is_empty() {
                        " (no confined class depends on it)".to_string()
                    } else {
                        format!("; {}", reliance.join("; "))
                    };
                    let keeps = if classes.is_empty() {
                        "stops nothing today".to_string()
                    } else {
                        format!("keeps {} off it", classes.join(", "))
                    };
                    let _ = writeln!(
                        out,
                        "  {what} on {}: \"{}\" — {keeps}{reliance}",
                        flow_at(model, flow),
                        a.justification
                    );
                }
                AssumptionKind::SaasSafeguards { system } => {
                    let _ = writeln!(
                        out,
                        "  SaaS safeguards of {}: {} — admit {}",
                        system_at(model, *system),
                        a.justification,
                        classes.join(", ")
                    );
                }
                AssumptionKind::NoForging { system, forgers, flows } => {
                    let names: Vec<String> = forgers.iter().take(8).map(|n| model.node_name(*n)).collect();
                    let more =
                        if forgers.len() > 8 { format!(" and {} more", forgers.len() - 8) } else { String::new() };
                    let _ = writeln!(
                        out,
                        "  no address forging beside {}: {}{more} could send with its address over its {} flow{} \
                         with {}; only a guard against forged sources (IP Source Guard, DHCP snooping) or their own \
                         output filter keeps them from it",
                        system_at(model, *system),
                        names.join(", "),
                        flows.len(),
                        if flows.len() == 1 { "" } else { "s" },
                        classes.join(", ")
                    );
                }
                AssumptionKind::SaasReach { system, flows } => {
                    let _ = writeln!(
                        out,
                        "  SaaS reached through a zone: {} holds {}; {}:",
                        system_at(model, *system),
                        classes.join(", "),
                        a.justification
                    );
                    for f in flows.iter().take(5) {
                        let _ = writeln!(out, "    {}", flow_at(model, *f));
                    }
                    if flows.len() > 5 {
                        let _ = writeln!(out, "    … and {} more flows", flows.len() - 5);
                    }
                }
            }
        }
    }
    if !verdict.allowed.is_empty() {
        let _ = writeln!(out, "\nAccepted exceptions (`allow`):");
        for (d, reason) in &verdict.allowed {
            let (line, _) = model.sources.line_col(d.span);
            let lint = d.code.id.rsplit("::").next().unwrap_or(d.code.id);
            let _ =
                writeln!(out, "  {lint} at {}:{line}: \"{reason}\" — {}", model.sources.name(d.span.file), d.message);
        }
    }

    let errors = verdict.lint_errors();
    let warnings = verdict.lints.iter().filter(|d| d.severity == Severity::Warning).count();
    let _ = writeln!(out);
    if verdict.passes() {
        let _ = writeln!(
            out,
            "PROVED: every confined class stays where it is allowed, and the network enforces it ({} warning{})",
            warnings,
            if warnings == 1 { "" } else { "s" }
        );
    } else {
        let _ = writeln!(
            out,
            "VIOLATED: {} leak{}, {} enforcement gap{}, {} lint error{}, {} warning{}",
            verdict.violations.len(),
            if verdict.violations.len() == 1 { "" } else { "s" },
            verdict.enforcement.gaps.len(),
            if verdict.enforcement.gaps.len() == 1 { "" } else { "s" },
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" }
        );
    }
    out
}
