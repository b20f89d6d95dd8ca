//! Stage 3: the proof of DESIGN.md §4 — confined classes stay where they are allowed.
//!
//! 1. `taint::propagate` computes, to a fixpoint, which classes every data node holds or
//!    receives over the two-way channels of the flows, limited by `carries`.
//! 2. For every confined class and node where it is not allowed, a violation exists when
//!    the node holds the class or receives it over a channel that is not an export of it.
//!    Its counterexample is a shortest path from a holder whose last hop is such a channel.
//! 3. Assumptions (`carries`, SaaS safeguards) are listed with what they stopped or
//!    admitted; lints run over the model and the taint.
//!
//! No I/O happens here; [`crate::report`] renders the [`Verdict`].

pub(crate) mod enforce;
pub mod expiry;
pub mod explain;
pub(crate) mod forging;
pub(crate) mod lints;
pub(crate) mod taint;

use std::collections::BTreeSet;

use petgraph::Direction::{Incoming, Outgoing};
use petgraph::graph::NodeIndex;

use crate::diagnostics::{Diag, Severity, Span};
use crate::model::{ClassId, Confinement, FlowId, GraphNode, Model, Node, SystemId, Trust, ZoneId};
pub use enforce::{Enforcement, Gap};
use taint::{Bfs, dense};
pub use taint::{Bits, Hop};

/// Settings that change what counts as failure.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Treat warnings as errors (`--deny warnings`).
    pub deny_warnings: bool,
    /// Per-lint severity overrides from zonecheck.toml (lint name → severity).
    pub severities: Vec<(String, Option<Severity>)>,
}

#[derive(Clone, Debug)]
pub struct Violation {
    pub class: ClassId,
    pub node: Node,
    /// Hops from a holder to `node`; empty when the node itself holds the class.
    pub path: Vec<Hop>,
    /// A concrete suggestion.
    pub fix: String,
}

impl Violation {
    /// The holder the path starts at.
    pub(crate) fn source(&self) -> Node {
        self.path.first().map_or(self.node, |h| h.from)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssumptionKind {
    /// A flow's `carries` kept these classes off its channels.
    Carries { flow: FlowId },
    /// A SaaS system's vendor, dpa, region and auth admitted these classes there.
    SaasSafeguards { system: SystemId },
    /// A SaaS holder whose addresses these zone-level flows reach: only its own login
    /// (`auth`) keeps its data from them (DESIGN.md §4a).
    SaasReach { system: SystemId, flows: Vec<FlowId> },
    /// Other nodes on a system's segment could send with its address and use these flows
    /// of it; only a guard against address forging stops them (DESIGN.md §4a).
    NoForging { system: SystemId, forgers: Vec<Node>, flows: Vec<FlowId> },
}

#[derive(Clone, Debug)]
pub struct Assumption {
    pub kind: AssumptionKind,
    /// Classes stopped (carries) or admitted (SaaS).
    pub classes: Vec<ClassId>,
    /// Confined classes whose proof depends on this directly: without it, the class would
    /// be delivered to a node where it is not allowed.
    pub relied_on: Vec<ClassId>,
    /// Confined classes whose proof depends on this together with other `carries` in
    /// series: some path from a holder to a place the class may not be crosses this flow,
    /// and every such path is stopped by one `carries` or another. Contains `relied_on`.
    /// A `carries` that stops nothing today because an earlier one already does is still
    /// counted here, and is not removable on its own.
    pub in_series: Vec<ClassId>,
    pub justification: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ExportUse {
    pub flow: FlowId,
    /// The FROM side fetches the class (it moves with the answers).
    pub fetched: bool,
    pub basis: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ClassVerdict {
    pub class: ClassId,
    pub proved: bool,
    pub holders: Vec<Node>,
    /// Zones the class may live in.
    pub allowed_zones: Vec<ZoneId>,
    /// SaaS systems admitted by their safeguards.
    pub allowed_saas: Vec<SystemId>,
    pub exports: Vec<ExportUse>,
    /// Indices into [`Verdict::assumptions`] this class relies on.
    pub assumptions: Vec<usize>,
    /// Number of nodes the class reaches.
    pub reach: usize,
}

#[derive(Clone, Debug)]
pub struct Verdict {
    /// One per confined class, in declaration order.
    pub classes: Vec<ClassVerdict>,
    pub violations: Vec<Violation>,
    pub assumptions: Vec<Assumption>,
    /// Lint findings after `allow` overrides and severity settings.
    pub lints: Vec<Diag>,
    /// Findings silenced by `allow`, with the override's reason (for reports).
    pub allowed: Vec<(Diag, String)>,
    /// Whether the network closes every undeclared path (DESIGN.md §4a).
    pub enforcement: enforce::Enforcement,
    pub taint: Bits,
}

impl Verdict {
    pub fn proved(&self) -> bool {
        self.classes.iter().all(|c| c.proved)
    }

    pub fn lint_errors(&self) -> usize {
        self.lints.iter().filter(|d| d.severity == Severity::Error).count()
    }

    /// The policy passes: every confined class proved, the network enforces it, and no
    /// error-severity lint fires.
    pub fn passes(&self) -> bool {
        self.proved() && self.enforcement.enforced() && self.lint_errors() == 0
    }

    pub fn classes_at(&self, model: &Model, node: Node) -> Vec<ClassId> {
        let r = dense(model, node);
        (0..model.classes.len()).map(ClassId::from_index).filter(|c| self.taint.get(r, *c)).collect()
    }
}

/// Does the class's confinement permit the zone? (Unconfined classes are allowed anywhere.)
pub(crate) fn zone_permits(model: &Model, class: ClassId, zone: ZoneId) -> bool {
    match &model.class(class).confinement {
        Confinement::None => true,
        Confinement::Closed => model.zone(zone).trust == Trust::Closed,
        Confinement::To(zones) => zones.contains(&zone),
    }
}

/// Is `class` allowed at `node`? (DESIGN.md §4: permitted zones, or a safeguarded SaaS
/// that holds it.)
pub(crate) fn allowed(model: &Model, class: ClassId, node: Node) -> bool {
    zone_permits(model, class, model.node_zone(node)) || saas_admits(model, class, node)
}

fn saas_admits(model: &Model, class: ClassId, node: Node) -> bool {
    match node {
        Node::System(s) => {
            let sys = model.system(s);
            sys.saas_safeguarded() && sys.holds.contains(&class)
        }
        Node::ZoneRest(_) => false,
    }
}

/// Allowed only thanks to SaaS safeguards (an assumption), not by zone.
fn saas_admits_only(model: &Model, class: ClassId, node: Node) -> bool {
    !zone_permits(model, class, model.node_zone(node)) && saas_admits(model, class, node)
}

fn hub_flow(model: &Model, hub: NodeIndex) -> Option<FlowId> {
    match model.graph.node_weight(hub)? {
        GraphNode::Flow(f) => Some(*f),
        GraphNode::Data(_) => None,
    }
}

/// A policy that passed verify: every confined class proved, the network enforcing it, no
/// error-severity finding (expired exceptions included). Only [`prove`] makes one, and
/// [`crate::compile::compile`] takes one: no configuration is ever written for a policy
/// that does not pass (DESIGN.md §5), and the type says so.
#[derive(Debug)]
pub struct Proved<'m> {
    model: &'m Model,
    verdict: Verdict,
}

impl<'m> Proved<'m> {
    pub(crate) fn model(&self) -> &'m Model {
        self.model
    }

    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }
}

/// A [`Proved`] for a policy that was not verified: for tests that render a policy that
/// fails verify on purpose (the kernel tests of enforcement gaps). Nothing in `src/` calls
/// it but this module (tests/it/architecture.rs checks).
#[doc(hidden)]
pub fn unverified(model: &Model) -> Proved<'_> {
    Proved { model, verdict: verify(model, &Options::default()) }
}

/// Verify `model` as of `today` (an `allow … until` before it is an error): the proof, or
/// the verdict that refuses it.
///
/// ```
/// let model = zonecheck::load_str("p.zc", "zone a { trust internal; net 10.0.0.0/24 }").expect("resolves");
/// let today = zonecheck::syntax::date::Date::parse("2026-12-07").expect("date");
/// let proved = zonecheck::verify::prove(&model, &Default::default(), today).expect("passes");
/// assert!(proved.verdict().violations.is_empty());
/// ```
pub fn prove<'m>(
    model: &'m Model,
    options: &Options,
    today: crate::syntax::date::Date,
) -> Result<Proved<'m>, Box<Verdict>> {
    let mut verdict = verify(model, options);
    expiry::apply(model, &mut verdict, today);
    if verdict.passes() { Ok(Proved { model, verdict }) } else { Err(Box::new(verdict)) }
}

/// Run the proof and the lints.
pub fn verify(model: &Model, options: &Options) -> Verdict {
    let masks = taint::masks(model);
    let taint = taint::propagate(model, &masks);
    let confined: Vec<ClassId> =
        (0..model.classes.len()).map(ClassId::from_index).filter(|c| model.class(*c).confined()).collect();

    let mut violations = Vec::new();
    let mut classes = Vec::new();
    for &c in &confined {
        let holders: Vec<Node> = model
            .systems
            .iter()
            .enumerate()
            .filter(|(_, s)| s.holds.contains(&c))
            .map(|(i, _)| Node::System(SystemId::from_index(i)))
            .collect();
        let reached: Vec<Node> = model.nodes().filter(|n| taint.get(dense(model, *n), c)).collect();
        let leaking: Vec<Node> = reached.iter().copied().filter(|n| !allowed(model, c, *n)).collect();
        let mut class_violations = Vec::new();
        if !leaking.is_empty() {
            let bfs = Bfs::run(model, &masks, Some(c), holders.iter().map(|n| dense(model, *n)));
            for &n in &leaking {
                if let Some(v) = violation_at(model, &masks, &bfs, c, n) {
                    class_violations.push(v);
                }
            }
        }
        let allowed_zones: Vec<ZoneId> = match &model.class(c).confinement {
            Confinement::To(z) => z.clone(),
            _ => (0..model.zones.len())
                .map(ZoneId::from_index)
                .filter(|z| model.zone(*z).trust == Trust::Closed)
                .collect(),
        };
        let allowed_saas: Vec<SystemId> = (0..model.systems.len())
            .map(SystemId::from_index)
            .filter(|s| saas_admits_only(model, c, Node::System(*s)))
            .collect();
        let exports: Vec<ExportUse> = model
            .flows
            .iter()
            .enumerate()
            .flat_map(|(f, flow)| {
                flow.exports.iter().filter(|e| e.class == c).map(move |e| ExportUse {
                    flow: FlowId::from_index(f),
                    fetched: e.fetched,
                    basis: e.basis.clone(),
                    span: e.span,
                })
            })
            .collect();
        classes.push(ClassVerdict {
            class: c,
            proved: class_violations.is_empty(),
            holders,
            allowed_zones,
            allowed_saas,
            exports,
            assumptions: Vec::new(),
            reach: reached.len(),
        });
        violations.extend(class_violations);
    }

    let mut assumptions = assumptions(model, &masks, &taint);
    assumptions.extend(forging::assumptions(model, &taint));
    for cv in &mut classes {
        cv.assumptions = assumptions
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.in_series.contains(&cv.class)
                    || (matches!(a.kind, AssumptionKind::SaasSafeguards { .. }) && a.classes.contains(&cv.class))
            })
            .map(|(i, _)| i)
            .collect();
    }
    let findings = lints::run(model, &taint, &masks, &assumptions);
    let (lints, allowed) = lints::apply_overrides(model, findings, options);
    let enforcement = enforce::analyse(model, &taint);
    Verdict { classes, violations, assumptions, lints, allowed, enforcement, taint }
}

/// The violation of `class` at `node`, if the node holds it or receives it over a channel
/// that is not an export of it; with the shortest such path.
fn violation_at(model: &Model, masks: &Bits, bfs: &Bfs, class: ClassId, node: Node) -> Option<Violation> {
    let n = dense(model, node);
    let class_name = &model.class(class).name;
    let node_name = model.node_name(node);
    if let Node::System(s) = node
        && model.system(s).holds.contains(&class)
    {
        let zone = &model.zone(model.system(s).zone).name;
        let fix = if model.system(s).is_saas() {
            format!(
                "`{node_name}` holds `{class_name}` but lacks the SaaS safeguards: declare vendor, dpa, region eea and auth"
            )
        } else {
            format!(
                "move `{node_name}` out of zone `{zone}` into a zone where `{class_name}` is allowed, or stop declaring `holds {class_name}`"
            )
        };
        return Some(Violation { class, node, path: Vec::new(), fix });
    }
    // Best last hop: (distance of the sender, flow, sender, forward).
    let mut best: Option<(u32, FlowId, usize, bool)> = None;
    let ix = NodeIndex::new(n);
    // node on the TO side of incoming hubs (forward channel), FROM side of outgoing hubs.
    for (dir, forward) in [(Incoming, true), (Outgoing, false)] {
        for hub in model.graph.neighbors_directed(ix, dir) {
            let Some(f) = hub_flow(model, hub) else { continue };
            if !masks.get(f.index(), class) {
                continue;
            }
            if model.flow(f).exports_class(class, forward) {
                continue;
            }
            // The senders are the other side: a hub's Incoming neighbours are its FROM
            // nodes, its Outgoing neighbours its TO nodes.
            for m in model.graph.neighbors_directed(hub, dir) {
                let d = bfs.dist.get(m.index()).copied().unwrap_or(u32::MAX);
                if d == u32::MAX {
                    continue;
                }
                let cand = (d, f, m.index(), forward);
                if best.is_none_or(|b| (cand.0, cand.1, cand.2) < (b.0, b.1, b.2)) {
                    best = Some(cand);
                }
            }
        }
    }
    let (_, flow, sender, forward) = best?;
    let mut path = bfs.path_to(model, sender);
    let from = taint::node_at(model, sender)?;
    path.push(Hop { from, to: node, flow, forward });
    let f = model.flow(flow);
    let fix = if node_is_saas(model, node) {
        format!(
            "`{node_name}` is a SaaS: declare `holds {class_name}` with vendor, dpa, region eea and auth if its agreement covers `{class_name}`, or restrict the flow `{}` with `carries`",
            model.flow_title(flow)
        )
    } else if forward && f.exports.is_empty() {
        format!(
            "restrict the flow `{}` with `carries … because \"…\"` if it cannot carry `{class_name}`, declare `export {class_name} basis \"…\"` if the transfer is lawful, or remove the flow",
            model.flow_title(flow)
        )
    } else if forward {
        format!(
            "the flow `{}` exports other classes but not `{class_name}`: add `export {class_name} basis \"…\"` or restrict it with `carries`",
            model.flow_title(flow)
        )
    } else {
        format!(
            "answers on `{}` travel back to `{node_name}`: restrict it with `carries … because \"…\"`, declare `export {class_name} fetched basis \"…\"` if `{node_name}` lawfully fetches it, or move `{node_name}` into a zone where `{class_name}` is allowed",
            model.flow_title(flow)
        )
    };
    Some(Violation { class, node, path, fix })
}

fn node_is_saas(model: &Model, node: Node) -> bool {
    matches!(node, Node::System(s) if model.system(s).is_saas())
}

/// Nodes that would cause a violation of `class` if they had it: from each, a chain of
/// channels that carry the class ends in a delivery to a node where it is not allowed,
/// over a channel that is not an export of it. A backward search over the flow hubs, so
/// linear in the graph; taint is monotone, so having the class means causing that leak.
fn would_leak(model: &Model, masks: &Bits, class: ClassId, receives: &Receives) -> Vec<bool> {
    let nodes = model.systems.len() + model.zones.len();
    let mut bad = vec![false; nodes];
    let mut queue = std::collections::VecDeque::new();
    let mut done = vec![[false; 2]; model.flows.len()];
    let mark = |side: &[Node], bad: &mut Vec<bool>, queue: &mut std::collections::VecDeque<usize>| {
        for n in side {
            let i = dense(model, *n);
            if let Some(b) = bad.get_mut(i)
                && !*b
            {
                *b = true;
                queue.push_back(i);
            }
        }
    };
    // Where the class may be, per node, decided once rather than per flow side.
    let systems = model.systems.len();
    let may_be: Vec<bool> = (0..nodes)
        .map(|i| {
            let node = if i < systems {
                Node::System(SystemId::from_index(i))
            } else {
                Node::ZoneRest(ZoneId::from_index(i - systems))
            };
            allowed(model, class, node)
        })
        .collect();
    let not_allowed = |n: &Node| !may_be[dense(model, *n)];
    for (fi, flow) in model.flows.iter().enumerate() {
        if !masks.get(fi, class) {
            continue;
        }
        if !flow.exports_class(class, true) && flow.to.nodes.iter().any(not_allowed) {
            done[fi][0] = true;
            mark(&flow.from.nodes, &mut bad, &mut queue);
        }
        if !flow.exports_class(class, false) && flow.from.nodes.iter().any(not_allowed) {
            done[fi][1] = true;
            mark(&flow.to.nodes, &mut bad, &mut queue);
        }
    }
    while let Some(m) = queue.pop_front() {
        // m receives over flows where it is on the TO side (forward) or FROM side (answers).
        for &(f, k) in receives.of(m) {
            let (f, k) = (f as usize, usize::from(k));
            if !masks.get(f, class) || std::mem::replace(&mut done[f][k], true) {
                continue;
            }
            let flow = &model.flows[f];
            let senders = if k == 0 { &flow.from.nodes } else { &flow.to.nodes };
            mark(senders, &mut bad, &mut queue);
        }
    }
    bad
}

/// The flows over which each data node receives: `(flow, 0)` where it is on the TO side
/// (requests), `(flow, 1)` where it is on the FROM side (answers). The graph's hub edges
/// as flat arrays, built once for every class's backward search: walking petgraph's edge
/// lists node by node was most of verify's time at 100,000 flows.
struct Receives {
    start: Vec<usize>,
    items: Vec<(u32, u8)>,
}

impl Receives {
    fn of_model(model: &Model) -> Receives {
        let nodes = model.systems.len() + model.zones.len();
        fn sides(f: &crate::model::Flow) -> [(&[Node], u8); 2] {
            [(&f.to.nodes, 0), (&f.from.nodes, 1)]
        }
        let mut start = vec![0usize; nodes + 1];
        for f in &model.flows {
            for (side, _) in sides(f) {
                for n in side {
                    start[dense(model, *n) + 1] += 1;
                }
            }
        }
        for i in 0..nodes {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut items = vec![(0u32, 0u8); start[nodes]];
        for (fi, f) in model.flows.iter().enumerate() {
            for (side, k) in sides(f) {
                for n in side {
                    let i = dense(model, *n);
                    items[fill[i]] = (fi as u32, k);
                    fill[i] += 1;
                }
            }
        }
        Receives { start, items }
    }

    fn of(&self, node: usize) -> &[(u32, u8)] {
        self.start.get(node).zip(self.start.get(node + 1)).map_or(&[], |(&a, &b)| &self.items[a..b])
    }
}

/// Every `carries` and SaaS safeguard, with what it stopped or admitted. A `carries` is
/// relied on for a confined class when, without it, the class would be delivered to a node
/// where it is not allowed — over the flow itself (either way), or further on from either end.
fn assumptions(model: &Model, masks: &Bits, taint: &Bits) -> Vec<Assumption> {
    let mut out = Vec::new();
    let classes = model.classes.len();
    let mut leak_cache: Vec<Option<Vec<bool>>> = vec![None; classes];
    let mut receives: Option<Receives> = None;
    // The world without any `carries`: where each class could get to, and from where it
    // would leak. A `carries` is in series for a class when it stands on such a path.
    let open = OpenWorld::of(model);
    for (fi, flow) in model.flows.iter().enumerate() {
        let Some(carries) = &flow.carries else { continue };
        let f = FlowId::from_index(fi);
        let mut stopped = BTreeSet::new();
        let mut relied = BTreeSet::new();
        let mut in_series = BTreeSet::new();
        for (ci, leak_entry) in leak_cache.iter_mut().enumerate() {
            let c = ClassId::from_index(ci);
            if masks.get(fi, c) {
                continue;
            }
            if model.class(c).confined()
                && crosses_to_leak(model, flow, c, |n| open.has_in(model, *n, c), |n| open.leaks_in(model, *n, c))
            {
                in_series.insert(c);
            }
            let has = |n: &Node| taint.get(dense(model, *n), c);
            let forward = flow.from.nodes.iter().any(has);
            let backward = flow.to.nodes.iter().any(has);
            if !forward && !backward {
                continue;
            }
            stopped.insert(c);
            if !model.class(c).confined() {
                continue;
            }
            let receives = receives.get_or_insert_with(|| Receives::of_model(model));
            let leaks = leak_entry.get_or_insert_with(|| would_leak(model, masks, c, receives));
            let onward = |r: &Node| leaks.get(dense(model, *r)).copied().unwrap_or(false);
            if crosses_to_leak(model, flow, c, has, onward) {
                relied.insert(c);
            }
        }
        in_series.extend(relied.iter().copied());
        out.push(Assumption {
            kind: AssumptionKind::Carries { flow: f },
            classes: stopped.into_iter().collect(),
            relied_on: relied.into_iter().collect(),
            in_series: in_series.into_iter().collect(),
            justification: carries.because.clone(),
            span: carries.span,
        });
    }
    for (si, sys) in model.systems.iter().enumerate() {
        if !sys.is_saas() || sys.dpa.is_none() && sys.vendor.is_none() && sys.region.is_none() && sys.auth.is_none() {
            continue;
        }
        let s = SystemId::from_index(si);
        let node = Node::System(s);
        let r = dense(model, node);
        let admitted: Vec<ClassId> = (0..classes)
            .map(ClassId::from_index)
            .filter(|c| model.class(*c).confined() && taint.get(r, *c) && saas_admits_only(model, *c, node))
            .collect();
        let justification = format!(
            "vendor {}, data processing agreement {}, region {}, auth {}",
            sys.vendor.as_deref().unwrap_or("?"),
            sys.dpa.as_deref().unwrap_or("?"),
            match &sys.region {
                Some(crate::model::Region::Eea) => "eea".to_string(),
                Some(crate::model::Region::Other(o)) => o.clone(),
                None => "?".into(),
            },
            match sys.auth {
                Some(crate::model::Auth::Mfa) => "mfa",
                Some(crate::model::Auth::Certificate) => "certificate",
                None => "?",
            }
        );
        out.push(Assumption {
            kind: AssumptionKind::SaasSafeguards { system: s },
            relied_on: admitted.clone(),
            in_series: admitted.clone(),
            classes: admitted,
            justification,
            span: sys.name_span,
        });
    }
    let by_zone = flows_naming_zones(model);
    for (si, sys) in model.systems.iter().enumerate() {
        let held: Vec<ClassId> = sys.holds.iter().copied().filter(|c| model.class(*c).confined()).collect();
        let Some(flows) = by_zone.get(&sys.zone) else { continue };
        if !sys.is_saas() || held.is_empty() {
            continue;
        }
        let auth = match sys.auth {
            Some(crate::model::Auth::Mfa) => "its login with MFA (auth mfa)",
            Some(crate::model::Auth::Certificate) => "client certificates (auth certificate)",
            None => "a login the policy does not declare (no `auth`)",
        };
        out.push(Assumption {
            kind: AssumptionKind::SaasReach { system: SystemId::from_index(si), flows: flows.clone() },
            classes: held.clone(),
            relied_on: held.clone(),
            in_series: held,
            justification: format!(
                "packets reach `{}` through zone `{}`, over flows that name the zone; only {auth} keeps its data from them",
                sys.name,
                model.zone(sys.zone).name
            ),
            span: sys.name_span,
        });
    }
    out
}

/// The world without any `carries`: every channel passes every class both ways, so what a
/// node could get, and whether it could leak from there, is decided by its connected
/// component of the flow graph. One union-find pass, then one pass over the flows per
/// confined class; no search per class.
struct OpenWorld {
    /// Component root of every graph node.
    roots: Vec<usize>,
    /// Per root: the classes held somewhere in the component.
    held: Bits,
    /// Per root: the confined classes some flow of the component delivers to a place they
    /// may not be, over a direction no export of theirs admits.
    leaky: Bits,
}

impl OpenWorld {
    fn of(model: &Model) -> OpenWorld {
        let n = model.graph.node_count();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for e in model.graph.edge_indices() {
            if let Some((a, b)) = model.graph.edge_endpoints(e) {
                let (ra, rb) = (find(&mut parent, a.index()), find(&mut parent, b.index()));
                if ra != rb {
                    parent[ra] = rb;
                }
            }
        }
        let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
        let classes = model.classes.len();
        let mut held = Bits::new(n, classes);
        for (s, sys) in model.systems.iter().enumerate() {
            let root = roots[dense(model, Node::System(SystemId::from_index(s)))];
            for c in &sys.holds {
                held.set(root, *c);
            }
        }
        let mut leaky = Bits::new(n, classes);
        for (fi, flow) in model.flows.iter().enumerate() {
            let Some(root) = model.flow_index.get(fi).map(|h| roots[h.index()]) else { continue };
            for ci in 0..classes {
                let c = ClassId::from_index(ci);
                if !model.class(c).confined() || leaky.get(root, c) {
                    continue;
                }
                let out = |side: &[Node]| side.iter().any(|r| !allowed(model, c, *r));
                if (!flow.exports_class(c, true) && out(&flow.to.nodes))
                    || (!flow.exports_class(c, false) && out(&flow.from.nodes))
                {
                    leaky.set(root, c);
                }
            }
        }
        OpenWorld { roots, held, leaky }
    }

    fn root(&self, model: &Model, node: Node) -> Option<usize> {
        self.roots.get(dense(model, node)).copied()
    }

    /// Would the node have the class?
    fn has_in(&self, model: &Model, node: Node, c: ClassId) -> bool {
        self.root(model, node).is_some_and(|r| self.held.get(r, c))
    }

    /// Would the class leak from the node if it had it?
    fn leaks_in(&self, model: &Model, node: Node, c: ClassId) -> bool {
        self.root(model, node).is_some_and(|r| self.leaky.get(r, c))
    }
}

/// Would `class`, present at either end of the flow where `has` says, end up in a place
/// it may not be if the flow carried it? It crosses one way and the answers bring it back
/// the other, so every node on both sides gets it; it leaks at one not allowed (unless an
/// export admits it in that direction) or at one from which it spreads on to a leak.
fn crosses_to_leak(
    model: &Model,
    flow: &crate::model::Flow,
    class: ClassId,
    has: impl Fn(&Node) -> bool,
    onward: impl Fn(&Node) -> bool,
) -> bool {
    let (to_export, from_export) = (flow.exports_class(class, true), flow.exports_class(class, false));
    (flow.from.nodes.iter().any(&has) || flow.to.nodes.iter().any(&has))
        && (flow.to.nodes.iter().any(|r| (!to_export && !allowed(model, class, *r)) || onward(r))
            || flow.from.nodes.iter().any(|r| (!from_export && !allowed(model, class, *r)) || onward(r)))
}

/// For each zone, the flows that name it as an endpoint, directly or through a group
/// (sorted). Each group's zones are collected once.
pub(crate) fn flows_naming_zones(model: &Model) -> std::collections::BTreeMap<ZoneId, Vec<FlowId>> {
    use crate::model::EndpointRef;
    let group_zones: Vec<BTreeSet<ZoneId>> = (0..model.groups.len())
        .map(|g| {
            let mut zones = BTreeSet::new();
            let mut seen = BTreeSet::new();
            let mut stack = vec![crate::model::GroupId::from_index(g)];
            while let Some(g) = stack.pop() {
                if !seen.insert(g) {
                    continue;
                }
                for m in &model.group(g).members {
                    match *m {
                        EndpointRef::Zone(z) => {
                            zones.insert(z);
                        }
                        EndpointRef::Group(h) => stack.push(h),
                        EndpointRef::System(_) => {}
                    }
                }
            }
            zones
        })
        .collect();
    let mut out: std::collections::BTreeMap<ZoneId, Vec<FlowId>> = std::collections::BTreeMap::new();
    for (fi, f) in model.flows.iter().enumerate() {
        let mut zones = BTreeSet::new();
        for r in f.from.refs.iter().chain(&f.to.refs) {
            match *r {
                EndpointRef::Zone(z) => {
                    zones.insert(z);
                }
                EndpointRef::Group(g) => zones.extend(group_zones.get(g.index()).into_iter().flatten().copied()),
                EndpointRef::System(_) => {}
            }
        }
        for z in zones {
            out.entry(z).or_default().push(FlowId::from_index(fi));
        }
    }
    out
}
