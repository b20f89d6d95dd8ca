//! The lints of DESIGN.md §4, their default severities and `allow` overrides.
//!
//! Each lint looks at the model (and, where data matters, at the taint) and yields
//! findings tied to a flow or a system, so that `allow LINT because "…"` on that flow or
//! system can silence them. An `allow` that silences nothing is itself reported.

use std::collections::{BTreeSet, HashMap};

use super::taint::{Bits, dense};
use super::{Assumption, AssumptionKind, Options};
use crate::diagnostics::{Code, Diag, Lint, Severity, code};
use crate::model::{ClassId, EndpointRef, FlowId, Match, Model, Node, Role, SystemId, Trust};

mod modelling;

/// How many candidate covering flows `shadowed-flow` examines per flow; bounds the work
/// on policies where one system takes part in tens of thousands of flows.
const SHADOW_CANDIDATES: usize = 4096;

/// What an `allow` would be attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    Flow(FlowId),
    System(SystemId),
    Policy,
}

#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub lint: &'static str,
    pub subject: Subject,
    pub diag: Diag,
}

fn lint_code(lint: &str) -> Code {
    Lint::named(lint).map_or(code::LINT_UNUSED, |l| l.code)
}

fn default_severity(lint: &str) -> Severity {
    Lint::named(lint).map_or(Severity::Warning, |l| l.severity)
}

fn finding(
    lint: &'static str,
    subject: Subject,
    span: crate::diagnostics::Span,
    message: String,
    help: String,
) -> Finding {
    let diag = Diag { severity: default_severity(lint), ..Diag::error(lint_code(lint), span, message) }.help(help);
    Finding { lint, subject, diag }
}

fn zone_trust(model: &Model, n: &Node) -> Trust {
    model.zone(model.node_zone(*n)).trust
}

fn names(model: &Model, classes: &[ClassId]) -> String {
    classes.iter().map(|c| format!("`{}`", model.class(*c).name)).collect::<Vec<_>>().join(", ")
}

pub(crate) fn run(model: &Model, taint: &Bits, masks: &Bits, assumptions: &[Assumption]) -> Vec<Finding> {
    let mut out = Vec::new();
    saas_safeguards(model, taint, &mut out);
    for (fi, _) in model.flows.iter().enumerate() {
        let f = FlowId::from_index(fi);
        external_into_closed(model, f, &mut out);
        unencrypted_special(model, taint, masks, f, &mut out);
        broad_into_closed(model, f, &mut out);
        closed_egress(model, f, &mut out);
        export_outside_helsenett(model, f, &mut out);
    }
    unused(model, taint, assumptions, &mut out);
    shadowed_flows(model, &mut out);
    modelling::run(model, &mut out);
    out
}

fn saas_safeguards(model: &Model, taint: &Bits, out: &mut Vec<Finding>) {
    for (si, sys) in model.systems.iter().enumerate() {
        if !sys.is_saas() || sys.saas_safeguarded() {
            continue;
        }
        let r = dense(model, Node::System(SystemId::from_index(si)));
        let special: Vec<ClassId> = (0..model.classes.len())
            .map(ClassId::from_index)
            .filter(|c| model.class(*c).special && taint.get(r, *c))
            .collect();
        if special.is_empty() {
            continue;
        }
        let mut missing = Vec::new();
        if sys.vendor.is_none() {
            missing.push("vendor");
        }
        if sys.dpa.is_none() {
            missing.push("dpa");
        }
        if sys.region != Some(crate::model::Region::Eea) {
            missing.push("region eea");
        }
        if sys.auth.is_none() {
            missing.push("auth");
        }
        let verb = if special.iter().all(|c| sys.holds.contains(c)) { "holds" } else { "holds or receives" };
        out.push(finding(
            "saas-safeguards",
            Subject::System(SystemId::from_index(si)),
            sys.name_span,
            format!("SaaS `{}` {verb} special data ({}) without {}", sys.name, names(model, &special), missing.join(", ")),
            "special categories may only be processed by a SaaS under a data processing agreement, stored in the EEA, behind strong authentication: declare vendor, dpa, region eea and auth".into(),
        ));
    }
}

fn external_into_closed(model: &Model, f: FlowId, out: &mut Vec<Finding>) {
    let flow = model.flow(f);
    let outside = flow.from.nodes.iter().any(|n| matches!(zone_trust(model, n), Trust::Partner | Trust::External));
    if !outside {
        return;
    }
    let closed: Vec<&Node> = flow.to.nodes.iter().filter(|n| zone_trust(model, n) == Trust::Closed).collect();
    if closed.is_empty() {
        return;
    }
    let all_jump = closed.iter().all(|n| matches!(n, Node::System(s) if model.system(*s).role == Some(Role::Jump)));
    if all_jump && flow.require_mfa {
        return;
    }
    let why = if all_jump { "without `require mfa`" } else { "and does not land on a jump host (`role jump`)" };
    out.push(finding(
        "external-into-closed",
        Subject::Flow(f),
        flow.header_span,
        format!("flow `{}` enters a closed zone from a partner or external zone {why}", model.flow_title(f)),
        "access from outside the municipality into a closed zone goes through a jump host in the closed zone with `require mfa` (Datatilsynet requires strong authentication)".into(),
    ));
}

/// Zones that a class crosses over a flow: (sender zone, receiver zone) pairs that differ.
fn crosses_zones(model: &Model, senders: &[Node], receivers: &[Node], has: impl Fn(&Node) -> bool) -> bool {
    let sender_zones: BTreeSet<_> = senders.iter().filter(|n| has(n)).map(|n| model.node_zone(*n)).collect();
    if sender_zones.is_empty() {
        return false;
    }
    let receiver_zones: BTreeSet<_> = receivers.iter().map(|n| model.node_zone(*n)).collect();
    sender_zones.len() > 1 || receiver_zones.iter().any(|z| !sender_zones.contains(z))
}

fn unencrypted_special(model: &Model, taint: &Bits, masks: &Bits, f: FlowId, out: &mut Vec<Finding>) {
    let flow = model.flow(f);
    if flow.encrypted_payload.is_some() || flow.require_encrypted {
        return;
    }
    let plain: Vec<&str> =
        flow.services.iter().map(|s| model.service(*s)).filter(|s| !s.encrypted).map(|s| s.name.as_str()).collect();
    if plain.is_empty() {
        return;
    }
    let mut crossing = Vec::new();
    for ci in 0..model.classes.len() {
        let c = ClassId::from_index(ci);
        if !model.class(c).special || !masks.get(f.index(), c) {
            continue;
        }
        let has = |n: &Node| taint.get(dense(model, *n), c);
        if crosses_zones(model, &flow.from.nodes, &flow.to.nodes, has)
            || crosses_zones(model, &flow.to.nodes, &flow.from.nodes, has)
        {
            crossing.push(c);
        }
    }
    if crossing.is_empty() {
        return;
    }
    out.push(finding(
        "unencrypted-special",
        Subject::Flow(f),
        flow.header_span,
        format!("special data ({}) crosses zones over the unencrypted service{} `{}`", names(model, &crossing), if plain.len() == 1 { "" } else { "s" }, plain.join("`, `")),
        "use an encrypted service, mark the service `encrypted` if its transport is, or declare `encrypted payload \"…\"` / `require encrypted` on the flow".into(),
    ));
}

fn broad_into_closed(model: &Model, f: FlowId, out: &mut Vec<Finding>) {
    let flow = model.flow(f);
    let into_closed = flow.to.nodes.iter().any(|n| zone_trust(model, n) == Trust::Closed);
    if !into_closed {
        return;
    }
    let any_service = flow.services.iter().any(|s| model.service(*s).matches.contains(&Match::Any));
    let zone_from = flow.from.refs.iter().any(|r| matches!(r, EndpointRef::Zone(_)));
    let zone_to_closed =
        flow.to.refs.iter().any(|r| matches!(r, EndpointRef::Zone(z) if model.zone(*z).trust == Trust::Closed));
    let what = if any_service {
        "permits `any` service into a closed zone"
    } else if zone_from && zone_to_closed {
        "goes from a whole zone to a whole closed zone"
    } else {
        return;
    };
    out.push(finding(
        "broad-into-closed",
        Subject::Flow(f),
        flow.header_span,
        format!("flow `{}` {what}", model.flow_title(f)),
        "name the systems and services the need requires; broad rules into the closed zone are what auditors look for first".into(),
    ));
}

fn closed_egress(model: &Model, f: FlowId, out: &mut Vec<Finding>) {
    let flow = model.flow(f);
    if !flow.exports.is_empty() || !flow.from.nodes.iter().any(|n| zone_trust(model, n) == Trust::Closed) {
        return;
    }
    let allowed_saas = |n: &Node| match n {
        Node::System(s) => {
            let sys = model.system(*s);
            sys.saas_safeguarded() && sys.holds.iter().any(|c| model.class(*c).confined())
        }
        Node::ZoneRest(_) => false,
    };
    let outside: BTreeSet<String> = flow
        .to
        .nodes
        .iter()
        .filter(|n| zone_trust(model, n) != Trust::Closed && !allowed_saas(n))
        .map(|n| model.zone(model.node_zone(*n)).name.clone())
        .collect();
    if outside.is_empty() {
        return;
    }
    let zones: Vec<String> = outside.into_iter().map(|z| format!("`{z}`")).collect();
    out.push(finding(
        "closed-egress",
        Subject::Flow(f),
        flow.header_span,
        format!("flow `{}` leaves the closed zone for {}", model.flow_title(f), zones.join(", ")),
        "data from the closed zone must not be transported out: justify the flow with `allow closed-egress because \"…\"`, or declare the export with its legal basis".into(),
    ));
}

fn export_outside_helsenett(model: &Model, f: FlowId, out: &mut Vec<Finding>) {
    let flow = model.flow(f);
    for e in &flow.exports {
        if model.class(e.class).name != "helse" {
            continue;
        }
        if flow.export_recipients(e.class).any(|n| zone_trust(model, n) == Trust::External) {
            out.push(finding(
                "export-outside-helsenett",
                Subject::Flow(f),
                e.span,
                format!("`helse` is exported over `{}` to an external zone", model.flow_title(f)),
                "health data leaves through Norsk Helsenett (a partner zone), not the Internet".into(),
            ));
        }
    }
}

fn unused(model: &Model, taint: &Bits, assumptions: &[Assumption], out: &mut Vec<Finding>) {
    let mut used_nodes = vec![false; model.systems.len()];
    let mut used_services = vec![false; model.services.len()];
    let mut used_groups = vec![false; model.groups.len()];
    let mut used_classes = vec![false; model.classes.len()];
    for flow in &model.flows {
        for n in flow.from.nodes.iter().chain(&flow.to.nodes) {
            if let Node::System(s) = n {
                used_nodes[s.index()] = true;
            }
        }
        for r in flow.from.refs.iter().chain(&flow.to.refs) {
            if let EndpointRef::Group(g) = r {
                used_groups[g.index()] = true;
            }
        }
        for s in &flow.services {
            used_services[s.index()] = true;
        }
        for c in flow.carries.iter().flat_map(|c| &c.classes).chain(flow.exports.iter().map(|e| &e.class)) {
            used_classes[c.index()] = true;
        }
    }
    for g in &model.groups {
        for m in &g.members {
            if let EndpointRef::Group(child) = m {
                used_groups[child.index()] = true;
            }
        }
    }
    for sys in &model.systems {
        for c in &sys.holds {
            used_classes[c.index()] = true;
        }
    }
    for (i, sys) in model.systems.iter().enumerate() {
        // A device's own addresses are declared for management that may come later.
        if !used_nodes[i] && sys.device.is_none() {
            out.push(finding(
                "unused",
                Subject::System(SystemId::from_index(i)),
                sys.name_span,
                format!("system `{}` takes part in no flow", sys.name),
                "a system no flow reaches needs no rules; remove it, or add the flows it needs".into(),
            ));
        }
    }
    for (i, svc) in model.services.iter().enumerate() {
        // Built-ins and inline items are not declarations a person wrote.
        let declared = svc.span.is_some_and(|_| !svc.name.contains('/'));
        if declared && !used_services[i] {
            out.push(finding(
                "unused",
                Subject::Policy,
                svc.span.unwrap_or_default(),
                format!("service `{}` is used by no flow", svc.name),
                "remove the service or use it in a flow".into(),
            ));
        }
    }
    for (i, g) in model.groups.iter().enumerate() {
        if !used_groups[i] {
            out.push(finding(
                "unused",
                Subject::Policy,
                g.name_span,
                format!("group `{}` is used by no flow or group", g.name),
                "remove the group or use it".into(),
            ));
        }
    }
    for (i, c) in model.classes.iter().enumerate() {
        if !used_classes[i] {
            out.push(finding(
                "unused",
                Subject::Policy,
                c.name_span,
                format!("data class `{}` is held by no system", c.name),
                "declare which systems hold it with `holds`, or remove it".into(),
            ));
        }
    }
    for a in assumptions {
        // A `carries` in series with another stops nothing today but is not removable.
        if !a.classes.is_empty() || !a.in_series.is_empty() {
            continue;
        }
        match a.kind {
            AssumptionKind::Carries { flow } => out.push(finding(
                "unused",
                Subject::Flow(flow),
                a.span,
                format!("the assumption `carries` on `{}` stops nothing", model.flow_title(flow)),
                "no class that the flow would otherwise carry reaches either end; the assumption changes nothing and can be removed".into(),
            )),
            // A data processing agreement also covers unconfined personal data, so it is
            // only idle when no class at all is held or received there.
            AssumptionKind::SaasSafeguards { system } => {
                let r = dense(model, Node::System(system));
                if taint.row(r).iter().all(|w| *w == 0) {
                    out.push(finding(
                        "unused",
                        Subject::System(system),
                        a.span,
                        format!("the SaaS safeguards of `{}` cover no data: it holds and receives no class", model.system(system).name),
                        "declare the classes the service processes with `holds`, or drop the safeguards that nothing relies on".into(),
                    ));
                }
            }
            // Only made for holders of a confined class: never idle.
            AssumptionKind::SaasReach { .. } | AssumptionKind::NoForging { .. } => {}
        }
    }
}

fn covers(a: &Match, b: &Match) -> bool {
    use Match::*;
    match (a, b) {
        (Any, _) => true,
        (Tcp { lo, hi }, Tcp { lo: l, hi: h }) | (Udp { lo, hi }, Udp { lo: l, hi: h }) => lo <= l && h <= hi,
        (Icmp(None), Icmp(_)) | (Icmpv6(None), Icmpv6(_)) => true,
        (Icmp(Some(x)), Icmp(Some(y))) | (Icmpv6(Some(x)), Icmpv6(Some(y))) => x == y,
        (Proto(6), Tcp { .. }) | (Proto(17), Udp { .. }) | (Proto(1), Icmp(_)) | (Proto(58), Icmpv6(_)) => true,
        (Proto(x), Proto(y)) => x == y,
        _ => false,
    }
}

fn subset(small: &[Node], big: &[Node]) -> bool {
    // Both sorted.
    let mut it = big.iter();
    small.iter().all(|x| it.by_ref().any(|y| y == x))
}

/// Flows with at most this many (from, to) node pairs are indexed by every pair.
const NARROW_PAIRS: usize = 16;

fn shadowed_flows(model: &Model, out: &mut Vec<Finding>) {
    // A covering flow contains the first FROM node and the first TO node of the covered
    // one. Narrow flows are indexed by every (from, to) pair, so a system-to-system flow
    // finds its candidates in one lookup; the few wide flows (zones, groups) are indexed
    // by node on each side, and the shorter of the two lists is searched.
    let mut pairs: HashMap<(Node, Node), Vec<FlowId>> = HashMap::new();
    let mut wide_from: HashMap<Node, Vec<FlowId>> = HashMap::new();
    let mut wide_to: HashMap<Node, Vec<FlowId>> = HashMap::new();
    for (i, f) in model.flows.iter().enumerate() {
        let id = FlowId::from_index(i);
        if f.from.nodes.len().saturating_mul(f.to.nodes.len()) <= NARROW_PAIRS {
            for a in &f.from.nodes {
                for b in &f.to.nodes {
                    pairs.entry((*a, *b)).or_default().push(id);
                }
            }
        } else {
            for n in &f.from.nodes {
                wide_from.entry(*n).or_default().push(id);
            }
            for n in &f.to.nodes {
                wide_to.entry(*n).or_default().push(id);
            }
        }
    }
    let matches: Vec<Vec<Match>> = model
        .flows
        .iter()
        .map(|f| f.services.iter().flat_map(|s| model.service(*s).matches.iter().copied()).collect())
        .collect();
    let empty = Vec::new();
    for (i, f) in model.flows.iter().enumerate() {
        let fid = FlowId::from_index(i);
        let (Some(a), Some(b)) = (f.from.nodes.first(), f.to.nodes.first()) else { continue };
        let narrow = pairs.get(&(*a, *b)).unwrap_or(&empty);
        let by_from = wide_from.get(a).unwrap_or(&empty);
        let by_to = wide_to.get(b).unwrap_or(&empty);
        let wide = if by_from.len() <= by_to.len() { by_from } else { by_to };
        let candidates = narrow.iter().chain(wide.iter());
        let mine = &matches[i];
        for &g in candidates.take(SHADOW_CANDIDATES) {
            if g == fid {
                continue;
            }
            let other = model.flow(g);
            if !subset(&f.from.nodes, &other.from.nodes) || !subset(&f.to.nodes, &other.to.nodes) {
                continue;
            }
            let theirs = &matches[g.index()];
            if !mine.iter().all(|m| theirs.iter().any(|t| covers(t, m))) {
                continue;
            }
            // Identical flows: report only the later one.
            let mutual = subset(&other.from.nodes, &f.from.nodes)
                && subset(&other.to.nodes, &f.to.nodes)
                && theirs.iter().all(|t| mine.iter().any(|m| covers(m, t)));
            if mutual && g > fid {
                continue;
            }
            out.push(
                finding(
                    "shadowed-flow",
                    Subject::Flow(fid),
                    f.header_span,
                    format!("flow `{}` is wholly covered by `{}`", model.flow_title(fid), model.flow_title(g)),
                    "the other flow already permits everything this one does; remove one, or narrow the broader flow"
                        .into(),
                )
                .with_related(other.header_span, "covered by this flow"),
            );
            break;
        }
    }
}

impl Finding {
    fn with_related(mut self, span: crate::diagnostics::Span, label: &str) -> Finding {
        self.diag = self.diag.related(span, label);
        self
    }
}

/// Apply `allow` overrides, configured severities and `--deny warnings`. Returns the
/// findings that remain and those an `allow` silenced (with its reason).
pub(crate) fn apply_overrides(
    model: &Model,
    findings: Vec<Finding>,
    options: &Options,
) -> (Vec<Diag>, Vec<(Diag, String)>) {
    let mut kept = Vec::new();
    let mut silenced = Vec::new();
    let mut used_allows: BTreeSet<(bool, usize, usize)> = BTreeSet::new();
    for f in findings {
        let allow = match f.subject {
            Subject::Flow(id) => {
                model.flow(id).allows.iter().position(|a| a.lint == f.lint).map(|k| (true, id.index(), k))
            }
            Subject::System(id) => {
                model.system(id).allows.iter().position(|a| a.lint == f.lint).map(|k| (false, id.index(), k))
            }
            Subject::Policy => None,
        };
        if let Some(key) = allow {
            used_allows.insert(key);
            let reason = if key.0 {
                &model.flows[key.1].allows[key.2].because
            } else {
                &model.systems[key.1].allows[key.2].because
            };
            silenced.push((f.diag, reason.clone()));
            continue;
        }
        let mut diag = f.diag;
        if let Some((_, sev)) = options.severities.iter().find(|(n, _)| n == f.lint) {
            match sev {
                None => continue,
                Some(s) => diag.severity = *s,
            }
        }
        kept.push(diag);
    }
    // An override that silences nothing is stale: say so, so policies stay honest.
    let stale = |lint: &str, span, what: String| {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code::LINT_UNUSED, span, format!("`allow {lint}` on {what} silences nothing"))
        }
        .help("the lint does not fire here (any more); remove the override")
    };
    for (fi, flow) in model.flows.iter().enumerate() {
        for (k, a) in flow.allows.iter().enumerate() {
            if !used_allows.contains(&(true, fi, k)) {
                kept.push(stale(&a.lint, a.span, format!("flow `{}`", model.flow_title(FlowId::from_index(fi)))));
            }
        }
    }
    for (si, sys) in model.systems.iter().enumerate() {
        for (k, a) in sys.allows.iter().enumerate() {
            if !used_allows.contains(&(false, si, k)) {
                kept.push(stale(&a.lint, a.span, format!("system `{}`", sys.name)));
            }
        }
    }
    if options.deny_warnings {
        for d in &mut kept {
            d.severity = Severity::Error;
        }
    }
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    silenced.sort_by(|a, b| a.0.sort_key().cmp(&b.0.sort_key()));
    (kept, silenced)
}
