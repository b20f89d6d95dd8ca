//! The naive reference, from the resolved model only: explicit channels, taint to a fixed
//! point, `carries` in series and the enforcement gaps (DESIGN.md §4a), with their checks.

use std::collections::{BTreeMap, BTreeSet};

use zonecheck::model::{ClassId, Confinement, EndpointRef, Model, Node, Platform, Region, SystemId, Trust, ZoneId};
use zonecheck::verify::{AssumptionKind, Verdict};

// ---- the reference ----------------------------------------------------------------------

pub(super) fn bit(c: usize) -> u64 {
    1u64 << c
}

/// One direction of one flow between two concrete nodes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Channel {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) flow: usize,
    /// Classes the channel may carry.
    pub(super) carries: u64,
    /// Classes an export admits over this channel: the forward channel for a plain
    /// `export`, the answers for `export … fetched`.
    pub(super) exports: u64,
}

pub(super) struct Reference {
    pub(super) nodes: Vec<Node>,
    pub(super) index: BTreeMap<Node, usize>,
    pub(super) channels: Vec<Channel>,
    pub(super) holds: Vec<u64>,
    pub(super) taint: Vec<u64>,
    pub(super) confined: Vec<usize>,
    /// (class, node) → length of the shortest counterexample.
    pub(super) violations: BTreeMap<(usize, Node), u32>,
}

impl Reference {
    pub(super) fn violated(&self, class: usize) -> bool {
        self.violations.keys().any(|(c, _)| *c == class)
    }

    /// Channels into `n` that deliver `class` and are not an export of it.
    pub(super) fn leaking_into(&self, class: usize, n: usize) -> impl Iterator<Item = &Channel> + '_ {
        self.channels.iter().filter(move |ch| {
            ch.to == n
                && self.taint[ch.from] & bit(class) != 0
                && ch.carries & bit(class) != 0
                && ch.exports & bit(class) == 0
        })
    }
}

/// The zone a node lies in, read from the model's fields.
fn zone_of(model: &Model, node: Node) -> ZoneId {
    match node {
        Node::System(s) => model.systems[s.index()].zone,
        Node::ZoneRest(z) => z,
    }
}

/// DESIGN.md §4, written out again: a confined class is allowed in the zones its
/// confinement permits (closed trust, or the listed zones), and at a SaaS system that holds
/// the class and declares vendor, dpa, region eea and auth. Unconfined classes: anywhere.
fn ref_allowed(model: &Model, class: usize, node: Node) -> bool {
    let zone = zone_of(model, node);
    let by_zone = match &model.classes[class].confinement {
        Confinement::None => true,
        Confinement::Closed => model.zones[zone.index()].trust == Trust::Closed,
        Confinement::To(zones) => zones.contains(&zone),
    };
    let by_saas = match node {
        Node::System(s) => {
            let y = &model.systems[s.index()];
            y.platform == Some(Platform::Saas)
                && y.holds.contains(&ClassId::from_index(class))
                && y.vendor.is_some()
                && y.dpa.is_some()
                && y.region == Some(Region::Eea)
                && y.auth.is_some()
        }
        Node::ZoneRest(_) => false,
    };
    by_zone || by_saas
}

/// DESIGN.md §3, written out again from the endpoint references: a system stands for
/// itself, a zone for its non-SaaS systems (not the devices' own addresses: only a flow
/// naming a device reaches it, §4a) and its remaining space, a group for its members.
pub(super) fn expand_refs(model: &Model, refs: &[EndpointRef], depth: usize, out: &mut BTreeSet<Node>) {
    assert!(depth < 64, "group nesting does not terminate");
    for r in refs {
        match *r {
            EndpointRef::System(s) => {
                out.insert(Node::System(s));
            }
            EndpointRef::Zone(z) => {
                for (i, y) in model.systems.iter().enumerate() {
                    if y.zone == z && y.platform != Some(Platform::Saas) && y.device.is_none() {
                        out.insert(Node::System(SystemId::from_index(i)));
                    }
                }
                out.insert(Node::ZoneRest(z));
            }
            EndpointRef::Group(g) => expand_refs(model, &model.groups[g.index()].members, depth + 1, out),
        }
    }
}

pub(super) fn reference(model: &Model) -> Reference {
    let nclasses = model.classes.len();
    assert!(nclasses <= 64, "the reference keeps classes in a u64");
    let all = if nclasses == 64 { u64::MAX } else { bit(nclasses) - 1 };
    let nodes: Vec<Node> = (0..model.systems.len())
        .map(|i| Node::System(SystemId::from_index(i)))
        .chain((0..model.zones.len()).map(|i| Node::ZoneRest(ZoneId::from_index(i))))
        .collect();
    let index: BTreeMap<Node, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut holds = vec![0u64; nodes.len()];
    for (i, y) in model.systems.iter().enumerate() {
        for c in &y.holds {
            holds[index[&Node::System(SystemId::from_index(i))]] |= bit(c.index());
        }
    }

    // Explicit channel pairs.
    let mut channels = Vec::new();
    for (f, flow) in model.flows.iter().enumerate() {
        let carries = flow.carries.as_ref().map_or(all, |c| c.classes.iter().fold(0, |m, c| m | bit(c.index())));
        let exports = |fetched: bool| {
            flow.exports.iter().filter(|e| e.fetched == fetched).fold(0, |m, e| m | bit(e.class.index()))
        };
        let (sent, fetched) = (exports(false), exports(true));
        let to: Vec<usize> = flow.to.nodes.iter().map(|n| index[n]).collect();
        for a in &flow.from.nodes {
            let a = index[a];
            for &b in &to {
                channels.push(Channel { from: a, to: b, flow: f, carries, exports: sent });
                channels.push(Channel { from: b, to: a, flow: f, carries, exports: fetched });
            }
        }
    }

    // Copy the sender's classes to the receiver until nothing changes.
    let mut taint = holds.clone();
    loop {
        let mut changed = false;
        for ch in &channels {
            let t = taint[ch.from] & ch.carries;
            if t & !taint[ch.to] != 0 {
                taint[ch.to] |= t;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let confined: Vec<usize> = (0..nclasses).filter(|c| model.classes[*c].confinement != Confinement::None).collect();
    let mut r = Reference { nodes, index, channels, holds, taint, confined, violations: BTreeMap::new() };
    for &c in &r.confined.clone() {
        // Bellman-Ford from the holders over the channels that carry c.
        let mut dist = vec![u32::MAX; r.nodes.len()];
        for (i, h) in r.holds.iter().enumerate() {
            if h & bit(c) != 0 {
                dist[i] = 0;
            }
        }
        loop {
            let mut changed = false;
            for ch in &r.channels {
                if ch.carries & bit(c) != 0 && dist[ch.from] != u32::MAX && dist[ch.from] + 1 < dist[ch.to] {
                    dist[ch.to] = dist[ch.from] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for (i, node) in r.nodes.iter().enumerate() {
            assert_eq!(dist[i] != u32::MAX, r.taint[i] & bit(c) != 0, "reference: reachability and taint disagree");
            if ref_allowed(model, c, *node) {
                continue;
            }
            let len =
                if r.holds[i] & bit(c) != 0 { Some(0) } else { r.leaking_into(c, i).map(|ch| dist[ch.from] + 1).min() };
            if let Some(len) = len {
                r.violations.insert((c, *node), len);
            }
        }
    }
    r
}

// ---- `carries` in series --------------------------------------------------------------------

/// For every flow with `carries` and every confined class it excludes: does some path of
/// channels from a holder to a delivery where the class may not be — in a world without any
/// `carries` — cross one of the flow's channels? Written over the explicit channels.
fn reference_in_series(model: &Model, r: &Reference) -> BTreeMap<usize, BTreeSet<usize>> {
    let mut out: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for &c in &r.confined {
        let forbidden = |ch: &Channel| !(ref_allowed(model, c, r.nodes[ch.to]) || ch.exports & bit(c) != 0);
        let mut reach: Vec<bool> = r.holds.iter().map(|h| h & bit(c) != 0).collect();
        let mut bad = vec![false; r.nodes.len()];
        loop {
            let mut changed = false;
            for ch in &r.channels {
                if reach[ch.from] && !reach[ch.to] {
                    reach[ch.to] = true;
                    changed = true;
                }
                if !bad[ch.from] && (forbidden(ch) || bad[ch.to]) {
                    bad[ch.from] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for ch in &r.channels {
            let flow = &model.flows[ch.flow];
            let excludes = flow.carries.as_ref().is_some_and(|cr| !cr.classes.iter().any(|x| x.index() == c));
            if excludes && reach[ch.from] && (forbidden(ch) || bad[ch.to]) {
                out.entry(ch.flow).or_default().insert(c);
            }
        }
    }
    out
}

/// `in_series` agrees with the reference; on a proved policy, deleting every `carries` in
/// series for a class makes it leak, and deleting every other `carries` does not.
pub(super) fn compare_in_series(model: &Model, verdict: &Verdict, r: &Reference, probe: usize) -> Result<(), String> {
    let want = reference_in_series(model, r);
    for a in &verdict.assumptions {
        let AssumptionKind::Carries { flow } = a.kind else { continue };
        let got: BTreeSet<usize> = a.in_series.iter().map(|c| c.index()).collect();
        let expected = want.get(&flow.index()).cloned().unwrap_or_default();
        if got != expected {
            return Err(format!("`{}`: in_series {got:?}, the reference says {expected:?}", model.flow_title(flow)));
        }
        if a.relied_on.iter().any(|c| !a.in_series.contains(c)) {
            return Err(format!("`{}`: relied_on is not within in_series", model.flow_title(flow)));
        }
    }
    if !r.violations.is_empty() || r.confined.is_empty() {
        return Ok(());
    }
    let c = r.confined[probe % r.confined.len()];
    let in_series: BTreeSet<usize> = want.iter().filter(|(_, cs)| cs.contains(&c)).map(|(f, _)| *f).collect();
    let leaks_after = |delete: &dyn Fn(usize) -> bool| {
        let mut m = model.clone();
        for (f, flow) in m.flows.iter_mut().enumerate() {
            if flow.carries.is_some() && delete(f) {
                flow.carries = None;
            }
        }
        reference(&m).violated(c)
    };
    if !in_series.is_empty() && !leaks_after(&|f| in_series.contains(&f)) {
        return Err(format!("deleting every `carries` in series for class {c} leaks nothing"));
    }
    if leaks_after(&|f| !in_series.contains(&f)) {
        return Err(format!("deleting the `carries` not in series for class {c} makes it leak"));
    }
    Ok(())
}

// ---- the enforcement reference (DESIGN.md §4a) ----------------------------------------------

/// One filter a packet from `x` to `y` passes through.
#[derive(Clone, Copy, Debug)]
enum Filter {
    /// Connection tracking: drops what opens a connection, lets answers through.
    Stateful,
    /// An ACL without state: drops every packet not in the policy, answers included.
    Stateless,
}

/// Every filter on the way from `x` to `y`, written out per device and per host from §4a:
/// a host firewall filters what reaches its host, and in a closed zone what leaves it; a
/// firewall filters between zones on different interfaces; a switch filters what leaves the
/// zones behind one of its SVIs for anywhere but that SVI.
fn filters_on_path(model: &Model, x: Node, y: Node) -> Vec<Filter> {
    let mut out = Vec::new();
    let host = |n: Node| match n {
        Node::System(s) => {
            let sys = &model.systems[s.index()];
            matches!(sys.platform, Some(Platform::Linux | Platform::Windows))
        }
        Node::ZoneRest(_) => false,
    };
    // A firewall's own addresses: it filters to and from itself (§4a, devices guard
    // themselves); a switch's own addresses nothing.
    let firewall_itself = |n: Node| match n {
        Node::System(s) => model.systems[s.index()]
            .device
            .is_some_and(|d| model.devices[d.index()].kind == zonecheck::model::DeviceKind::Firewall),
        Node::ZoneRest(_) => false,
    };
    let (zx, zy) = (zone_of(model, x), zone_of(model, y));
    if (host(x) && model.zones[zx.index()].trust == Trust::Closed) || firewall_itself(x) {
        out.push(Filter::Stateful);
    }
    if firewall_itself(y) {
        out.push(Filter::Stateful);
    }
    if host(y) {
        out.push(Filter::Stateful);
    }
    if zx != zy {
        for d in &model.devices {
            let iface = |z: ZoneId| d.interfaces.iter().position(|i| i.zones.contains(&z));
            match (d.kind, iface(zx), iface(zy)) {
                (zonecheck::model::DeviceKind::Firewall, Some(i), Some(j)) if i != j => out.push(Filter::Stateful),
                (zonecheck::model::DeviceKind::Switch, Some(i), other) if other != Some(i) => {
                    out.push(Filter::Stateless)
                }
                _ => {}
            }
        }
    }
    out
}

/// Can data of `a` reach `b` outside the declared flows? `a` sends (or opens), or `b` opens
/// and `a`'s answers come back through every filter on the way.
fn ref_leaks(model: &Model, a: Node, b: Node) -> bool {
    let ab = filters_on_path(model, a, b);
    let ba = filters_on_path(model, b, a);
    ab.is_empty() || (ba.is_empty() && ab.iter().all(|f| matches!(f, Filter::Stateful)))
}

/// Gaps by (inside zone, outside zone): classes, inside nodes, outside nodes. Every node
/// pair is tried; SaaS systems and the class's export recipients are never outside.
type RefGaps = BTreeMap<(ZoneId, ZoneId), (BTreeSet<usize>, BTreeSet<Node>, BTreeSet<Node>)>;

fn reference_gaps(model: &Model, r: &Reference) -> RefGaps {
    let mut gaps = RefGaps::new();
    let saas = |n: Node| matches!(n, Node::System(s) if model.systems[s.index()].platform == Some(Platform::Saas));
    for &c in &r.confined {
        // Whoever receives the class over an export channel.
        let recipients: BTreeSet<Node> =
            r.channels.iter().filter(|ch| ch.exports & bit(c) != 0).map(|ch| r.nodes[ch.to]).collect();
        for (i, &a) in r.nodes.iter().enumerate() {
            if saas(a) || r.taint[i] & bit(c) == 0 || !ref_allowed(model, c, a) {
                continue;
            }
            for &b in &r.nodes {
                if saas(b) || ref_allowed(model, c, b) || recipients.contains(&b) || !ref_leaks(model, a, b) {
                    continue;
                }
                let e = gaps.entry((zone_of(model, a), zone_of(model, b))).or_default();
                e.0.insert(c);
                e.1.insert(a);
                e.2.insert(b);
            }
        }
    }
    gaps
}

pub(super) fn compare_gaps(model: &Model, verdict: &Verdict, r: &Reference) -> Result<(), String> {
    let want = reference_gaps(model, r);
    let got: RefGaps = verdict
        .enforcement
        .gaps
        .iter()
        .map(|g| {
            (
                (g.inside, g.outside),
                (
                    g.classes.iter().map(|c| c.index()).collect(),
                    g.from.iter().copied().collect(),
                    g.to.iter().copied().collect(),
                ),
            )
        })
        .collect();
    if got.len() != verdict.enforcement.gaps.len() {
        return Err("two gaps for one zone pair".into());
    }
    if got != want {
        let name = |z: &ZoneId| model.zones[z.index()].name.clone();
        let show = |g: &RefGaps| {
            g.iter()
                .map(|((a, b), (c, f, t))| format!("{}->{} classes {c:?} from {f:?} to {t:?}", name(a), name(b)))
                .collect::<Vec<_>>()
                .join("\n  ")
        };
        return Err(format!("enforcement gaps differ:\n verify:\n  {}\n reference:\n  {}", show(&got), show(&want)));
    }
    if verdict.passes() != (r.violations.is_empty() && want.is_empty() && verdict.lint_errors() == 0) {
        return Err("`passes` disagrees with violations, gaps and lint errors".into());
    }
    Ok(())
}
