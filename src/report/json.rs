//! `verify --format json`: the stable, documented machine format (docs/json.md).
//!
//! These are the report's own types; model types are never serialised directly, so the
//! JSON shape changes only when `VERSION` does.

use serde::Serialize;

use crate::diagnostics::{Diag, Severity, Span};
use crate::model::{Model, Node};
use crate::verify::{AssumptionKind, Verdict};

/// Bump when a field changes meaning or disappears (adding fields does not bump it).
pub(crate) const VERSION: u32 = 1;

#[derive(Serialize)]
pub(crate) struct Report {
    pub version: u32,
    pub zonecheck: &'static str,
    pub policy: Option<String>,
    pub verdict: &'static str,
    pub classes: Vec<ClassOut>,
    pub violations: Vec<ViolationOut>,
    /// Violations grouped by the flow (or holder) that opens them, most first.
    pub root_causes: Vec<crate::report::rootcause::RootCauseOut>,
    /// DESIGN.md §4a: whether the network closes every undeclared path.
    pub enforcement: EnforcementOut,
    pub assumptions: Vec<AssumptionOut>,
    pub lints: Vec<LintOut>,
    pub allowed: Vec<AllowedOut>,
    pub summary: Summary,
}

#[derive(Serialize)]
pub(crate) struct ClassOut {
    pub name: String,
    pub label: Option<String>,
    pub special: bool,
    pub verdict: &'static str,
    pub holders: Vec<String>,
    pub allowed_zones: Vec<String>,
    pub allowed_saas: Vec<String>,
    pub exports: Vec<ExportOut>,
    /// Indices into the top-level `assumptions` list.
    pub assumptions: Vec<usize>,
    pub reach: usize,
}

#[derive(Serialize)]
pub(crate) struct ExportOut {
    pub flow: String,
    /// `sent` (FROM → TO, with the requests) or `fetched` (TO → FROM, with the answers).
    pub direction: &'static str,
    pub basis: String,
    pub file: String,
    pub line: usize,
}

#[derive(Serialize)]
pub(crate) struct ViolationOut {
    pub class: String,
    /// The system (or zone, for a zone's remaining space) reached.
    pub system: String,
    pub kind: &'static str,
    pub zone: String,
    /// Node names from a holder to `system`.
    pub path: Vec<String>,
    pub hops: Vec<HopOut>,
    pub fix: String,
}

#[derive(Serialize)]
pub(crate) struct EnforcementOut {
    /// `enforced` or `gaps`.
    pub verdict: &'static str,
    pub gaps: Vec<GapOut>,
}

/// A zone pair between which a confined class can leave unfiltered.
#[derive(Serialize)]
pub(crate) struct GapOut {
    /// The zone where the classes may be.
    pub from_zone: String,
    /// The zone where they may not.
    pub to_zone: String,
    pub classes: Vec<String>,
    /// Nodes of `from_zone` that have one of the classes.
    pub from: Vec<String>,
    /// Nodes of `to_zone` they can exchange packets with.
    pub to: Vec<String>,
    pub reason: String,
    pub fix: String,
    pub file: String,
    pub line: usize,
}

#[derive(Serialize)]
pub(crate) struct HopOut {
    pub from: String,
    pub to: String,
    pub flow: String,
    pub direction: &'static str,
    pub file: String,
    pub line: usize,
}

#[derive(Serialize)]
pub(crate) struct AssumptionOut {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// `saas-reach`: the zone-level flows whose packets reach the SaaS; `no-forging`: the
    /// system's flows a forger could use.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<String>,
    /// `no-forging`: the nodes that could send with the system's address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forgers: Vec<String>,
    pub classes: Vec<String>,
    pub relied_on: Vec<String>,
    /// Classes it guards together with other `carries` in series (contains `relied_on`).
    pub in_series: Vec<String>,
    pub justification: String,
    pub file: String,
    pub line: usize,
}

#[derive(Serialize)]
pub(crate) struct LintOut {
    pub code: &'static str,
    pub lint: String,
    pub severity: &'static str,
    pub message: String,
    pub help: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Serialize)]
pub(crate) struct AllowedOut {
    pub code: &'static str,
    pub lint: String,
    pub message: String,
    pub reason: String,
    pub file: String,
    pub line: usize,
}

#[derive(Serialize)]
pub(crate) struct Summary {
    pub violations: usize,
    pub gaps: usize,
    pub errors: usize,
    pub warnings: usize,
}

fn loc(model: &Model, span: Span) -> (String, usize, usize) {
    let (line, col) = model.sources.line_col(span);
    (model.sources.name(span.file).to_string(), line, col)
}

pub(crate) fn lint_name(d: &Diag) -> String {
    d.code.id.rsplit("::").next().unwrap_or(d.code.id).to_string()
}

pub(crate) fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

pub(crate) fn report(model: &Model, v: &Verdict) -> Report {
    let names = |nodes: &[Node]| nodes.iter().map(|n| model.node_name(*n)).collect::<Vec<_>>();
    let classes = v
        .classes
        .iter()
        .map(|c| {
            let class = model.class(c.class);
            ClassOut {
                name: class.name.clone(),
                label: class.label.clone(),
                special: class.special,
                verdict: if c.proved { "proved" } else { "violated" },
                holders: names(&c.holders),
                allowed_zones: c.allowed_zones.iter().map(|z| model.zone(*z).name.clone()).collect(),
                allowed_saas: c.allowed_saas.iter().map(|s| model.system(*s).name.clone()).collect(),
                exports: c
                    .exports
                    .iter()
                    .map(|e| {
                        let (file, line, _) = loc(model, e.span);
                        ExportOut {
                            flow: model.flow_title(e.flow),
                            direction: if e.fetched { "fetched" } else { "sent" },
                            basis: e.basis.clone(),
                            file,
                            line,
                        }
                    })
                    .collect(),
                assumptions: c.assumptions.clone(),
                reach: c.reach,
            }
        })
        .collect();
    let violations = v
        .violations
        .iter()
        .map(|vi| {
            let mut path = vec![model.node_name(vi.source())];
            path.extend(vi.path.iter().map(|h| model.node_name(h.to)));
            ViolationOut {
                class: model.class(vi.class).name.clone(),
                system: model.node_name(vi.node),
                kind: match vi.node {
                    Node::System(_) => "system",
                    Node::ZoneRest(_) => "zone",
                },
                zone: model.zone(model.node_zone(vi.node)).name.clone(),
                path,
                hops: vi
                    .path
                    .iter()
                    .map(|h| {
                        let (file, line, _) = loc(model, model.flow(h.flow).header_span);
                        HopOut {
                            from: model.node_name(h.from),
                            to: model.node_name(h.to),
                            flow: model.flow_title(h.flow),
                            direction: if h.forward { "forward" } else { "answer" },
                            file,
                            line,
                        }
                    })
                    .collect(),
                fix: vi.fix.clone(),
            }
        })
        .collect();
    let assumptions = v
        .assumptions
        .iter()
        .map(|a| {
            let (file, line, _) = loc(model, a.span);
            let cls =
                |ids: &[crate::model::ClassId]| ids.iter().map(|c| model.class(*c).name.clone()).collect::<Vec<_>>();
            let mut forgers = Vec::new();
            let (kind, flow, system, flows) = match &a.kind {
                AssumptionKind::Carries { flow } => ("carries", Some(model.flow_title(*flow)), None, Vec::new()),
                AssumptionKind::SaasSafeguards { system } => {
                    ("saas-safeguards", None, Some(model.system(*system).name.clone()), Vec::new())
                }
                AssumptionKind::SaasReach { system, flows } => (
                    "saas-reach",
                    None,
                    Some(model.system(*system).name.clone()),
                    flows.iter().map(|f| model.flow_title(*f)).collect(),
                ),
                AssumptionKind::NoForging { system, forgers: nodes, flows } => {
                    forgers = nodes.iter().map(|n| model.node_name(*n)).collect();
                    (
                        "no-forging",
                        None,
                        Some(model.system(*system).name.clone()),
                        flows.iter().map(|f| model.flow_title(*f)).collect(),
                    )
                }
            };
            AssumptionOut {
                kind,
                flow,
                system,
                flows,
                forgers,
                classes: cls(&a.classes),
                relied_on: cls(&a.relied_on),
                in_series: cls(&a.in_series),
                justification: a.justification.clone(),
                file,
                line,
            }
        })
        .collect();
    let lints = v
        .lints
        .iter()
        .map(|d| {
            let (file, line, column) = loc(model, d.span);
            LintOut {
                code: d.code.id,
                lint: lint_name(d),
                severity: severity(d.severity),
                message: d.message.clone(),
                help: d.help.clone(),
                file,
                line,
                column,
            }
        })
        .collect();
    let allowed = v
        .allowed
        .iter()
        .map(|(d, reason)| {
            let (file, line, _) = loc(model, d.span);
            AllowedOut {
                code: d.code.id,
                lint: lint_name(d),
                message: d.message.clone(),
                reason: reason.clone(),
                file,
                line,
            }
        })
        .collect();
    let gaps = v
        .enforcement
        .gaps
        .iter()
        .map(|g| {
            let (file, line, _) = loc(model, model.zone(g.inside).name_span);
            GapOut {
                from_zone: model.zone(g.inside).name.clone(),
                to_zone: model.zone(g.outside).name.clone(),
                classes: g.classes.iter().map(|c| model.class(*c).name.clone()).collect(),
                from: names(&g.from),
                to: names(&g.to),
                reason: g.reason.clone(),
                fix: g.fix.clone(),
                file,
                line,
            }
        })
        .collect();
    Report {
        version: VERSION,
        zonecheck: env!("CARGO_PKG_VERSION"),
        policy: model.meta.name.clone(),
        verdict: if v.passes() { "proved" } else { "violated" },
        classes,
        violations,
        root_causes: crate::report::rootcause::json(model, v),
        enforcement: EnforcementOut { verdict: if v.enforcement.enforced() { "enforced" } else { "gaps" }, gaps },
        assumptions,
        lints,
        allowed,
        summary: Summary {
            violations: v.violations.len(),
            gaps: v.enforcement.gaps.len(),
            errors: v.lint_errors(),
            warnings: v.lints.iter().filter(|d| d.severity == Severity::Warning).count(),
        },
    }
}

pub fn to_string(model: &Model, v: &Verdict) -> String {
    let mut s = serde_json::to_string_pretty(&report(model, v)).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
