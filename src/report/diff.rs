//! `zonecheck diff OLD NEW`: what a change to the policy means (DESIGN.md §7).
//!
//! Two resolved policies are compared by meaning, not text: per confined class, the places
//! its data reaches, its holders, exports, the assumptions its proof relies on and its
//! processors; the `allow` exceptions; the verdict; and per enforcement point the packets
//! the device must permit (the intended spaces of `check::intended`, compared with the
//! packet-space engine of `check::space`), each difference with one witness packet and the
//! flows responsible. Reordering, comments and layout change none of these, so they give
//! an empty diff. Nodes, flows and devices are matched by name across the two policies.
//!
//! The result is data ([`Diff`], serialised as the JSON of `docs/json.md`) rendered as text
//! or as Markdown for a pull-request comment.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::check::intended::{Expectations, Intended, Why};
use crate::check::space::{Cube, Ifaces, Packet, Space};
use crate::model::{Auth, ClassId, Confinement, Model, Node, Region, SystemId};
use crate::model::{EnforcementPoint, HostOrDevice};
use crate::targets::acl::AclOptions;
use crate::verify::taint::{Bfs, dense, masks};
use crate::verify::{AssumptionKind, Verdict};

/// Bump when a field changes meaning or disappears.
pub(crate) const VERSION: u32 = 1;

/// At most this many findings per device and direction; the rest are counted.
pub(crate) const MAX_DEVICE_FINDINGS: usize = 50;

/// One policy to compare: the model and its verdict.
pub struct Side<'a> {
    pub model: &'a Model,
    pub verdict: &'a Verdict,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Diff {
    pub version: u32,
    /// `"same"` or `"changed"`.
    pub meaning: &'static str,
    /// `"proved"` / `"violated"` before and after.
    pub verdict: Change<&'static str>,
    pub classes: Vec<ClassDiff>,
    pub allows: Added<AllowOut>,
    pub devices: Vec<DeviceDiff>,
}

impl Diff {
    /// Nothing that matters changed.
    pub fn is_same(&self) -> bool {
        self.meaning == "same"
    }

    /// The number of individual changes.
    pub fn changes(&self) -> usize {
        usize::from(self.verdict.old != self.verdict.new)
            + self.classes.iter().map(ClassDiff::changes).sum::<usize>()
            + self.allows.len()
            + self
                .devices
                .iter()
                .map(|d| usize::from(d.change != "changed") + d.added.len() + d.removed.len())
                .sum::<usize>()
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Change<T> {
    pub old: T,
    pub new: T,
}

/// What was added and what removed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Added<T> {
    pub added: Vec<T>,
    pub removed: Vec<T>,
}

impl<T> Default for Added<T> {
    fn default() -> Self {
        Added { added: Vec::new(), removed: Vec::new() }
    }
}

impl<T> Added<T> {
    pub(crate) fn len(&self) -> usize {
        self.added.len() + self.removed.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The set difference both ways of two sorted, deduplicated lists.
fn added<T: Ord + Clone>(old: &BTreeSet<T>, new: &BTreeSet<T>) -> Added<T> {
    Added { added: new.difference(old).cloned().collect(), removed: old.difference(new).cloned().collect() }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ClassDiff {
    pub name: String,
    /// `"added"`, `"removed"` (as a confined class) or `"changed"`.
    pub change: &'static str,
    /// Verdict before and after (`null` where the class is not confined).
    pub verdict: Change<Option<&'static str>>,
    /// Where the class may be, before and after, when that changed.
    pub allowed: Option<Change<Vec<String>>>,
    pub holders: Added<String>,
    /// Places the data now reaches, or no longer reaches.
    pub reach: Added<Reach>,
    pub exports: Added<ExportOut>,
    pub assumptions: Added<AssumptionOut>,
    pub processors: Added<ProcessorOut>,
}

impl ClassDiff {
    fn changes(&self) -> usize {
        usize::from(self.change != "changed")
            + usize::from(self.verdict.old != self.verdict.new)
            + usize::from(self.allowed.is_some())
            + self.holders.len()
            + self.reach.len()
            + self.exports.len()
            + self.assumptions.len()
            + self.processors.len()
    }
}

/// A place the class reaches, with the path from a holder (in the policy where it does).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reach {
    /// A system name, or a zone name for the zone's remaining address space.
    pub node: String,
    /// `"system"` or `"zone"`.
    pub kind: &'static str,
    pub zone: String,
    /// The class is allowed there (zone, SaaS safeguards or a declared export).
    pub allowed: bool,
    /// Node names from a holder.
    pub path: Vec<String>,
    /// The flows of the path, in order, without repeats.
    pub flows: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExportOut {
    pub flow: String,
    /// `"to"`: the class leaves with the requests (FROM → TO); `"fetched"`: with the
    /// answers, to a FROM side that fetches it.
    pub direction: &'static str,
    pub basis: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct AssumptionOut {
    /// `"carries"` or `"saas-safeguards"`.
    pub kind: &'static str,
    /// The flow or the SaaS system.
    pub subject: String,
    pub justification: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProcessorOut {
    pub system: String,
    pub vendor: Option<String>,
    pub dpa: Option<String>,
    pub region: Option<String>,
    pub auth: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct AllowOut {
    pub lint: String,
    /// `system NAME` or `flow FROM -> TO : SERVICES`.
    pub on: String,
    pub because: String,
    pub owner: Option<String>,
    pub until: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DeviceDiff {
    pub device: String,
    /// `firewall`, `switch`, `linux-host` or `windows-host`.
    pub kind: &'static str,
    /// `"added"`, `"removed"` or `"changed"`.
    pub change: &'static str,
    /// Packets the device must now permit that it did not.
    pub added: Vec<SpaceChange>,
    /// Packets it permitted that it must now drop.
    pub removed: Vec<SpaceChange>,
    /// The comparison could not finish exactly (counted as a change).
    pub inconclusive: Option<String>,
}

/// One group of packets with the same reason.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SpaceChange {
    pub witness: WitnessOut,
    /// Why the policy that permits these packets permits them: flows, answers to flows,
    /// or a baseline (loopback, neighbour discovery).
    pub flows: Vec<String>,
    pub reason: String,
    /// Disjoint regions of packets in this group.
    pub regions: usize,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WitnessOut {
    /// `tcp 10.0.0.2:49152 -> 10.1.0.2:443 (forward, in eth1, out eth2)`.
    pub text: String,
    pub family: &'static str,
    pub path: &'static str,
    pub protocol: u8,
    pub src: String,
    pub dst: String,
    /// Ports for TCP/UDP; for ICMP the code and type.
    pub sport: u16,
    pub dport: u16,
    #[serde(rename = "in")]
    pub iif: Option<String>,
    #[serde(rename = "out")]
    pub oif: Option<String>,
}

fn node_key(model: &Model, n: Node) -> (String, &'static str) {
    match n {
        Node::System(s) => (model.system(s).name.clone(), "system"),
        Node::ZoneRest(z) => (model.zone(z).name.clone(), "zone"),
    }
}

/// Everything the diff compares about one confined class in one policy.
#[derive(Default)]
struct ClassFacts {
    verdict: Option<&'static str>,
    allowed: Vec<String>,
    holders: BTreeSet<String>,
    /// (name, kind) → node.
    reach: BTreeMap<(String, &'static str), Node>,
    exports: BTreeSet<ExportOut>,
    assumptions: BTreeSet<AssumptionOut>,
    processors: BTreeSet<ProcessorOut>,
}

fn allowed_text(model: &Model, class: ClassId) -> Vec<String> {
    let mut v: Vec<String> = match &model.class(class).confinement {
        Confinement::None => Vec::new(),
        Confinement::Closed => {
            model.zones.iter().filter(|z| z.trust == crate::model::Trust::Closed).map(|z| z.name.clone()).collect()
        }
        Confinement::To(zones) => zones.iter().map(|z| model.zone(*z).name.clone()).collect(),
    };
    v.sort();
    v
}

fn class_facts(side: &Side, class: ClassId) -> ClassFacts {
    let (model, verdict) = (side.model, side.verdict);
    let mut f = ClassFacts { allowed: allowed_text(model, class), ..Default::default() };
    let Some(cv) = verdict.classes.iter().find(|c| c.class == class) else { return f };
    f.verdict = Some(if cv.proved { "proved" } else { "violated" });
    f.holders = cv.holders.iter().map(|n| model.node_name(*n)).collect();
    for n in model.nodes() {
        if verdict.taint.get(dense(model, n), class) {
            f.reach.insert(node_key(model, n), n);
        }
    }
    f.exports = cv
        .exports
        .iter()
        .map(|e| ExportOut {
            flow: model.flow_title(e.flow),
            direction: if e.fetched { "fetched" } else { "to" },
            basis: e.basis.clone(),
        })
        .collect();
    f.assumptions = cv
        .assumptions
        .iter()
        .filter_map(|i| verdict.assumptions.get(*i))
        .map(|a| match a.kind {
            AssumptionKind::Carries { flow } => AssumptionOut {
                kind: "carries",
                subject: model.flow_title(flow),
                justification: a.justification.clone(),
            },
            AssumptionKind::SaasReach { system, ref flows } => AssumptionOut {
                kind: "saas-reach",
                subject: model.system(system).name.clone(),
                justification: {
                    let titles: Vec<String> = flows.iter().map(|f| model.flow_title(*f)).collect();
                    format!("reached through {}", titles.join("; "))
                },
            },
            AssumptionKind::NoForging { system, ref forgers, .. } => AssumptionOut {
                kind: "no-forging",
                subject: model.system(system).name.clone(),
                justification: {
                    let names: Vec<String> = forgers.iter().map(|n| model.node_name(*n)).collect();
                    format!("could be forged by {}", names.join(", "))
                },
            },
            AssumptionKind::SaasSafeguards { system } => AssumptionOut {
                kind: "saas-safeguards",
                subject: model.system(system).name.clone(),
                justification: a.justification.clone(),
            },
        })
        .collect();
    for (i, s) in model.systems.iter().enumerate() {
        let n = Node::System(SystemId::from_index(i));
        if s.is_saas() && verdict.taint.get(dense(model, n), class) {
            f.processors.insert(ProcessorOut {
                system: s.name.clone(),
                vendor: s.vendor.clone(),
                dpa: s.dpa.clone(),
                region: s.region.as_ref().map(|r| match r {
                    Region::Eea => "eea".to_string(),
                    Region::Other(o) => o.clone(),
                }),
                auth: s.auth.map(|a| match a {
                    Auth::Mfa => "mfa".to_string(),
                    Auth::Certificate => "certificate".to_string(),
                }),
            });
        }
    }
    f
}

/// A reached node with its shortest path from a holder in `side`.
fn reach_of(side: &Side, class: ClassId, n: Node, bfs: &Bfs) -> Reach {
    let model = side.model;
    let (node, kind) = node_key(model, n);
    let path = bfs.path_to(model, dense(model, n));
    let mut nodes: Vec<String> = path.first().map(|h| model.node_name(h.from)).into_iter().collect();
    nodes.extend(path.iter().map(|h| model.node_name(h.to)));
    if nodes.is_empty() {
        nodes.push(node.clone());
    }
    let mut flows: Vec<String> = path.iter().map(|h| model.flow_title(h.flow)).collect();
    flows.dedup();
    let leak = side.verdict.violations.iter().any(|v| v.class == class && v.node == n);
    Reach { node, kind, zone: model.zone(model.node_zone(n)).name.clone(), allowed: !leak, path: nodes, flows }
}

fn class_bfs(side: &Side, class: ClassId) -> Bfs {
    let model = side.model;
    let starts: Vec<usize> = side
        .verdict
        .classes
        .iter()
        .find(|c| c.class == class)
        .map(|cv| cv.holders.iter().map(|n| dense(model, *n)).collect())
        .unwrap_or_default();
    Bfs::run(model, &masks(model), Some(class), starts)
}

fn class_diffs(old: &Side, new: &Side) -> Vec<ClassDiff> {
    // Confined classes of either policy, in the new policy's order, then removed ones.
    let mut names: Vec<String> = Vec::new();
    for side in [new, old] {
        for cv in &side.verdict.classes {
            let n = side.model.class(cv.class).name.clone();
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let ids = (old.model.class_by_name(&name), new.model.class_by_name(&name));
        let facts = |side: &Side, id: Option<ClassId>| id.map(|c| class_facts(side, c)).unwrap_or_default();
        let (a, b) = (facts(old, ids.0), facts(new, ids.1));
        let change = match (a.verdict, b.verdict) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            _ => "changed",
        };
        let reach_keys = |f: &ClassFacts| f.reach.keys().cloned().collect::<BTreeSet<_>>();
        let (ra, rb) = (reach_keys(&a), reach_keys(&b));
        let mut reach = Added::default();
        if let Some(c) = ids.1
            && rb.difference(&ra).next().is_some()
        {
            let bfs = class_bfs(new, c);
            reach.added = rb.difference(&ra).map(|k| reach_of(new, c, b.reach[k], &bfs)).collect();
        }
        if let Some(c) = ids.0
            && ra.difference(&rb).next().is_some()
        {
            let bfs = class_bfs(old, c);
            reach.removed = ra.difference(&rb).map(|k| reach_of(old, c, a.reach[k], &bfs)).collect();
        }
        let d = ClassDiff {
            name,
            change,
            verdict: Change { old: a.verdict, new: b.verdict },
            allowed: (a.allowed != b.allowed).then(|| Change { old: a.allowed.clone(), new: b.allowed.clone() }),
            holders: added(&a.holders, &b.holders),
            reach,
            exports: added(&a.exports, &b.exports),
            assumptions: added(&a.assumptions, &b.assumptions),
            processors: added(&a.processors, &b.processors),
        };
        if d.change != "changed" || d.changes() > 0 {
            out.push(d);
        }
    }
    out
}

fn allows_of(model: &Model) -> BTreeSet<AllowOut> {
    crate::verify::expiry::allows(model)
        .into_iter()
        .map(|(on, a)| AllowOut {
            lint: a.lint.clone(),
            on,
            because: a.because.clone(),
            owner: a.owner.clone(),
            until: a.until.map(|d| d.to_string()),
        })
        .collect()
}

fn device_kind(model: &Model, r: &EnforcementPoint) -> &'static str {
    match (r.enforcer, r.target) {
        (crate::model::Enforcer::Device(d), _) => match model.devices.get(d.index()).map(|d| d.kind) {
            Some(crate::model::DeviceKind::Firewall) => "firewall",
            _ => "switch",
        },
        (crate::model::Enforcer::Host(_), HostOrDevice::WindowsHost) => "windows-host",
        (crate::model::Enforcer::Host(_), _) => "linux-host",
    }
}

fn why_flows(model: &Model, why: Option<&Why>) -> (Vec<String>, String) {
    match why {
        Some(Why::Flows(fs)) => (fs.iter().map(|f| model.flow_title(*f)).collect(), "flows".to_string()),
        Some(Why::Answers(fs)) => (fs.iter().map(|f| model.flow_title(*f)).collect(), "answers to flows".to_string()),
        Some(Why::Related(fs)) => (
            fs.iter().map(|f| model.flow_title(*f)).collect(),
            "ICMP errors between the addresses of flows".to_string(),
        ),
        Some(Why::Baseline(s)) => (Vec::new(), (*s).to_string()),
        None => (Vec::new(), "not permitted".to_string()),
    }
}

fn witness_out(p: &Packet, ifaces: &Ifaces) -> WitnessOut {
    WitnessOut {
        text: p.describe(ifaces),
        family: if p.v6 { "ipv6" } else { "ipv4" },
        path: p.path.name(),
        protocol: p.proto,
        src: p.src_addr().to_string(),
        dst: p.dst_addr().to_string(),
        sport: p.sport,
        dport: p.dport,
        iif: (p.iif != 0).then(|| ifaces.name(p.iif)),
        oif: (p.oif != 0).then(|| ifaces.name(p.oif)),
    }
}

/// Regions grouped by the flows that permit them in `side`, one witness each.
/// A host's rules do not name interfaces: its witnesses name none.
fn group(model: &Model, regions: Vec<Cube>, intended: &Intended, ifaces: &Ifaces, host: bool) -> Vec<SpaceChange> {
    let mut groups: BTreeMap<(Vec<String>, String), SpaceChange> = BTreeMap::new();
    let mut overflow = 0;
    for region in regions {
        let witness = region.witness();
        let (flows, reason) = why_flows(model, intended.why(&witness));
        let key = (flows.clone(), reason.clone());
        if let Some(g) = groups.get_mut(&key) {
            g.regions += 1;
            continue;
        }
        if groups.len() >= MAX_DEVICE_FINDINGS {
            overflow += 1;
            continue;
        }
        let shown = if host { Packet { iif: 0, oif: 0, ..witness } } else { witness };
        groups.insert(key, SpaceChange { witness: witness_out(&shown, ifaces), flows, reason, regions: 1 });
    }
    let mut out: Vec<SpaceChange> = groups.into_values().collect();
    out.sort_by(|a, b| a.witness.text.cmp(&b.witness.text));
    if let Some(last) = out.last_mut() {
        last.regions += overflow;
    }
    out
}

fn device_diffs(old: &Side, new: &Side, acl: &AclOptions) -> Vec<DeviceDiff> {
    let lo = old.model.enforcement_points();
    let ln = new.model.enforcement_points();
    let (eo, en) = (Expectations::of(old.model), Expectations::of(new.model));
    let by_name = |l: &[EnforcementPoint]| -> BTreeMap<String, usize> {
        l.iter().enumerate().map(|(i, d)| (d.name.clone(), i)).collect()
    };
    let (io, inew) = (by_name(&lo), by_name(&ln));
    let names: BTreeSet<&String> = io.keys().chain(inew.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        // One interface numbering for both sides, so equal names compare equal.
        let mut ifaces = Ifaces::new();
        let a = io.get(name).map(|i| eo.intended(&lo[*i], &mut ifaces, acl));
        let b = inew.get(name).map(|i| en.intended(&ln[*i], &mut ifaces, acl));
        let kind = match (inew.get(name), io.get(name)) {
            (Some(i), _) => device_kind(new.model, &ln[*i]),
            (None, Some(i)) => device_kind(old.model, &lo[*i]),
            (None, None) => "host",
        };
        let change = match (&a, &b) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            _ => "changed",
        };
        let a = a.unwrap_or_default();
        let b = b.unwrap_or_default();
        let sa = Space::from_cubes(a.permits.iter().map(|(c, _)| c.clone()));
        let sb = Space::from_cubes(b.permits.iter().map(|(c, _)| c.clone()));
        let mut d = DeviceDiff {
            device: name.clone(),
            kind,
            change,
            added: Vec::new(),
            removed: Vec::new(),
            inconclusive: None,
        };
        match (sb.difference(&sa), sa.difference(&sb)) {
            (Ok(plus), Ok(minus)) => {
                let host = kind.ends_with("-host");
                d.added = group(new.model, plus, &b, &ifaces, host);
                d.removed = group(old.model, minus, &a, &ifaces, host);
            }
            _ => {
                d.inconclusive =
                    Some(format!("{}; they could not be compared exactly", crate::check::space::TooFragmented))
            }
        }
        if d.change != "changed" || !d.added.is_empty() || !d.removed.is_empty() || d.inconclusive.is_some() {
            out.push(d);
        }
    }
    out
}

/// Compare two policies by meaning.
pub fn diff(old: &Side, new: &Side, acl: &AclOptions) -> Diff {
    let verdict = |v: &Verdict| if v.passes() { "proved" } else { "violated" };
    let mut d = Diff {
        version: VERSION,
        meaning: "same",
        verdict: Change { old: verdict(old.verdict), new: verdict(new.verdict) },
        classes: class_diffs(old, new),
        allows: added(&allows_of(old.model), &allows_of(new.model)),
        devices: device_diffs(old, new, acl),
    };
    if d.changes() > 0 {
        d.meaning = "changed";
    }
    d
}

pub fn json(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn reach_line(r: &Reach) -> String {
    let what = if r.kind == "zone" { format!("zone {} (undeclared addresses)", r.node) } else { r.node.clone() };
    let leak = if r.allowed { "" } else { " — NOT ALLOWED (leak)" };
    format!("{what} in {}{leak}: {} via {}", r.zone, r.path.join(" → "), quote_list(&r.flows))
}

fn quote_list(v: &[String]) -> String {
    if v.is_empty() { "—".to_string() } else { v.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ") }
}

fn allow_line(a: &AllowOut) -> String {
    let mut s = format!("{} on {}: \"{}\"", a.lint, a.on, a.because);
    if let Some(o) = &a.owner {
        s.push_str(&format!(", owner {o}"));
    }
    if let Some(u) = &a.until {
        s.push_str(&format!(", until {u}"));
    }
    s
}

fn processor_line(p: &ProcessorOut) -> String {
    let f = |o: &Option<String>| o.clone().unwrap_or_else(|| "MISSING".to_string());
    format!("{}: vendor {}, dpa {}, region {}, auth {}", p.system, f(&p.vendor), f(&p.dpa), f(&p.region), f(&p.auth))
}

fn space_line(c: &SpaceChange) -> String {
    let why = if c.flows.is_empty() { c.reason.clone() } else { format!("{} {}", c.reason, quote_list(&c.flows)) };
    let more = if c.regions > 1 { format!(" (+{} more regions)", c.regions - 1) } else { String::new() };
    format!("{} — {why}{more}", c.witness.text)
}

/// Lines of one class's changes, each with its sign.
fn class_lines(c: &ClassDiff) -> Vec<(char, String)> {
    let mut l = Vec::new();
    if c.verdict.old != c.verdict.new {
        let v = |o: Option<&str>| o.unwrap_or("not confined").to_string();
        l.push(('~', format!("verdict {} → {}", v(c.verdict.old), v(c.verdict.new))));
    }
    if let Some(a) = &c.allowed {
        l.push(('~', format!("allowed in {} → {}", a.old.join(", "), a.new.join(", "))));
    }
    for (sign, list) in [('+', &c.holders.added), ('-', &c.holders.removed)] {
        l.extend(list.iter().map(|h| (sign, format!("held by {h}"))));
    }
    l.extend(c.reach.added.iter().map(|r| ('+', format!("reaches {}", reach_line(r)))));
    l.extend(c.reach.removed.iter().map(|r| ('-', format!("no longer reaches {}", reach_line(r)))));
    for (sign, list) in [('+', &c.exports.added), ('-', &c.exports.removed)] {
        l.extend(list.iter().map(|e| {
            let how = if e.direction == "fetched" { " (fetched by the FROM side)" } else { "" };
            (sign, format!("export over `{}`{how}, basis \"{}\"", e.flow, e.basis))
        }));
    }
    for (sign, list) in [('+', &c.assumptions.added), ('-', &c.assumptions.removed)] {
        l.extend(
            list.iter().map(|a| (sign, format!("assumption ({}) on {}: \"{}\"", a.kind, a.subject, a.justification))),
        );
    }
    for (sign, list) in [('+', &c.processors.added), ('-', &c.processors.removed)] {
        l.extend(list.iter().map(|p| (sign, format!("processor {}", processor_line(p)))));
    }
    l
}

fn device_title(d: &DeviceDiff) -> String {
    let what = match d.change {
        "added" => " (new)",
        "removed" => " (removed)",
        _ => "",
    };
    format!("{} {}{what}", d.kind, d.device)
}

/// Plain text for a terminal.
pub fn text(d: &Diff) -> String {
    let mut o = String::new();
    if d.is_same() {
        o.push_str("same meaning: no class reaches anything new or less; exits, assumptions, processors, exceptions and device packet spaces are unchanged\n");
        return o;
    }
    if d.verdict.old != d.verdict.new {
        o.push_str(&format!("verdict: {} → {}\n", d.verdict.old, d.verdict.new));
    }
    for c in &d.classes {
        let what = match c.change {
            "added" => " (newly confined)",
            "removed" => " (no longer confined)",
            _ => "",
        };
        o.push_str(&format!("class {}{what}\n", c.name));
        for (sign, line) in class_lines(c) {
            o.push_str(&format!("  {sign} {line}\n"));
        }
    }
    if !d.allows.is_empty() {
        o.push_str("exceptions (allow)\n");
        for a in &d.allows.added {
            o.push_str(&format!("  + {}\n", allow_line(a)));
        }
        for a in &d.allows.removed {
            o.push_str(&format!("  - {}\n", allow_line(a)));
        }
    }
    for dev in &d.devices {
        o.push_str(&format!("{}\n", device_title(dev)));
        for c in &dev.added {
            o.push_str(&format!("  + permits {}\n", space_line(c)));
        }
        for c in &dev.removed {
            o.push_str(&format!("  - no longer permits {}\n", space_line(c)));
        }
        if let Some(i) = &dev.inconclusive {
            o.push_str(&format!("  ? {i}\n"));
        }
    }
    o.push_str(&format!("{} change{}\n", d.changes(), if d.changes() == 1 { "" } else { "s" }));
    o
}

/// Markdown for a pull-request comment.
pub fn markdown(d: &Diff) -> String {
    use super::doc::md_escape as e;
    let mut o = String::from("## zonecheck diff\n\n");
    if d.is_same() {
        o.push_str("**Same meaning.** No class reaches anything new or less; exits, assumptions, processors, exceptions and device packet spaces are unchanged.\n");
        return o;
    }
    let leaks: usize = d.classes.iter().map(|c| c.reach.added.iter().filter(|r| !r.allowed).count()).sum();
    o.push_str(&format!(
        "**{} change{}** · verdict {} → {}{}\n",
        d.changes(),
        if d.changes() == 1 { "" } else { "s" },
        d.verdict.old,
        d.verdict.new,
        if leaks > 0 { format!(" · ⚠️ {leaks} new leak(s)") } else { String::new() }
    ));
    let sign = |s: char| match s {
        '+' => "➕",
        '-' => "➖",
        _ => "✏️",
    };
    if !d.classes.is_empty() {
        o.push_str("\n### Data classes\n");
        for c in &d.classes {
            let what = match c.change {
                "added" => " (newly confined)",
                "removed" => " (no longer confined)",
                _ => "",
            };
            o.push_str(&format!("\n**{}**{what}\n\n", e(&c.name)));
            for (s, line) in class_lines(c) {
                o.push_str(&format!("- {} {}\n", sign(s), md_line(&line)));
            }
        }
    }
    if !d.allows.is_empty() {
        o.push_str("\n### Exceptions (`allow`)\n\n");
        for a in &d.allows.added {
            o.push_str(&format!("- ➕ {}\n", md_line(&allow_line(a))));
        }
        for a in &d.allows.removed {
            o.push_str(&format!("- ➖ {}\n", md_line(&allow_line(a))));
        }
    }
    if !d.devices.is_empty() {
        o.push_str("\n### Enforcement points\n");
        for dev in &d.devices {
            o.push_str(&format!("\n**{}**\n\n", e(&device_title(dev))));
            if dev.added.is_empty() && dev.removed.is_empty() && dev.inconclusive.is_none() {
                o.push_str("- its packet space is unchanged (it permits nothing of the policy)\n");
            } else if !dev.added.is_empty() || !dev.removed.is_empty() {
                o.push_str("| | witness packet | why | more regions |\n|---|---|---|---|\n");
            }
            for (s, list) in [("➕ permits", &dev.added), ("➖ drops", &dev.removed)] {
                for c in list {
                    let why = if c.flows.is_empty() {
                        e(&c.reason)
                    } else {
                        format!(
                            "{} {}",
                            e(&c.reason),
                            c.flows.iter().map(|f| code_span(f)).collect::<Vec<_>>().join(", ")
                        )
                    };
                    o.push_str(&format!("| {s} | {} | {why} | {} |\n", code_span(&c.witness.text), c.regions - 1));
                }
            }
            if let Some(i) = &dev.inconclusive {
                o.push_str(&format!("\n⚠️ {}\n", e(i)));
            }
        }
    }
    o
}

/// A backtick span that holds any text (a table cell's `|` escaped).
fn code_span(s: &str) -> String {
    let ticks = if s.contains('`') { "``" } else { "`" };
    format!("{ticks}{}{ticks}", s.replace('|', "\\|").replace(['\n', '\r'], " "))
}

/// A line of the text rendering with its backtick spans kept as code and the rest escaped.
fn md_line(line: &str) -> String {
    line.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { code_span(part) } else { super::doc::md_escape(part) })
        .collect()
}
