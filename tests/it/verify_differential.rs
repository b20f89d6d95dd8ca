//! Differential test of `verify` (DESIGN.md §4) against a deliberately naive reference.
//!
//! The reference works from the resolved [`Model`] only, never from `src/verify`:
//! every flow becomes explicit channel pairs (a → b for every a in FROM and b in TO, and
//! b → a for the answers), limited by `carries`; taint is copied over every channel until
//! nothing changes; `allowed` is written out again from §4; a violation at (class, node)
//! exists iff the class is not allowed there and the node holds it or some channel into
//! the node carries it from a tainted sender and is not an export of the class in the
//! FROM → TO direction. Shortest counterexample lengths come from a Bellman-Ford over the
//! same channels.
//!
//! Properties (on 10,000 generated policies by default, `PROPTEST_CASES` overrides):
//! per-class verdicts, the exact set of violating (class, node) pairs, the taint at every
//! node, and every reported path (a real path of minimal length) agree with the
//! reference; for proved policies (generated, repaired to proved, and the shipped ones)
//! deleting a `carries` the verdict relies on produces a violation of a relied-on class,
//! and deleting one the reference says is harmless produces none.

#[path = "../common/verify_gen.rs"]
mod verify_gen;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use zonecheck::model::{
    Carries, ClassId, Confinement, EndpointRef, FlowId, Model, Node, Platform, Region, SystemId, Trust, ZoneId,
};
use zonecheck::verify::{AssumptionKind, Options, Verdict, verify};

// ---- loading ----------------------------------------------------------------------------

fn load(name: &str, text: &str) -> Model {
    match zonecheck::load_str(name, text) {
        Ok(m) => m,
        Err(e) => panic!(
            "policy `{name}` does not resolve:\n{}\n--- text ---\n{text}",
            zonecheck::diagnostics::render(&e.diags, &e.sources, false, 100)
        ),
    }
}

fn load_path(path: &Path) -> Model {
    match zonecheck::load_policy(path) {
        Ok(m) => m,
        Err(e) => panic!(
            "`{}` does not resolve:\n{}",
            path.display(),
            zonecheck::diagnostics::render(&e.diags, &e.sources, false, 100)
        ),
    }
}

fn run_verify(model: &Model) -> Verdict {
    verify(model, &Options::default())
}

// ---- the reference ----------------------------------------------------------------------

fn bit(c: usize) -> u64 {
    1u64 << c
}

/// One direction of one flow between two concrete nodes.
#[derive(Clone, Copy, Debug)]
struct Channel {
    from: usize,
    to: usize,
    flow: usize,
    /// Classes the channel may carry.
    carries: u64,
    /// Classes an export admits over this channel: the forward channel for a plain
    /// `export`, the answers for `export … fetched`.
    exports: u64,
}

struct Reference {
    nodes: Vec<Node>,
    index: BTreeMap<Node, usize>,
    channels: Vec<Channel>,
    holds: Vec<u64>,
    taint: Vec<u64>,
    confined: Vec<usize>,
    /// (class, node) → length of the shortest counterexample.
    violations: BTreeMap<(usize, Node), u32>,
}

impl Reference {
    fn violated(&self, class: usize) -> bool {
        self.violations.keys().any(|(c, _)| *c == class)
    }

    /// Channels into `n` that deliver `class` and are not an export of it.
    fn leaking_into(&self, class: usize, n: usize) -> impl Iterator<Item = &Channel> + '_ {
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
fn expand_refs(model: &Model, refs: &[EndpointRef], depth: usize, out: &mut BTreeSet<Node>) {
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

fn reference(model: &Model) -> Reference {
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
fn compare_in_series(model: &Model, verdict: &Verdict, r: &Reference, probe: usize) -> Result<(), String> {
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

fn compare_gaps(model: &Model, verdict: &Verdict, r: &Reference) -> Result<(), String> {
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

// ---- comparing verify with the reference --------------------------------------------------

/// Every property of one (model, verdict) pair against the reference.
fn compare(model: &Model, verdict: &Verdict, r: &Reference) -> Result<(), String> {
    // The model's endpoint expansion matches DESIGN §3 (the reference trusts it otherwise).
    for (f, flow) in model.flows.iter().enumerate() {
        for (side, e) in [("FROM", &flow.from), ("TO", &flow.to)] {
            let mut want = BTreeSet::new();
            expand_refs(model, &e.refs, 0, &mut want);
            let got: BTreeSet<Node> = e.nodes.iter().copied().collect();
            if want != got || got.len() != e.nodes.len() {
                return Err(format!(
                    "flow {f} `{}`: {side} expands to {got:?}, DESIGN §3 says {want:?}",
                    model.flow_title(FlowId::from_index(f))
                ));
            }
        }
    }

    // Taint at every node.
    for (i, node) in r.nodes.iter().enumerate() {
        let got = verdict.classes_at(model, *node).iter().fold(0u64, |m, c| m | bit(c.index()));
        if got != r.taint[i] {
            return Err(format!("taint at `{}`: verify {got:#b}, reference {:#b}", model.node_name(*node), r.taint[i]));
        }
    }

    // Per-class verdicts.
    let classes: Vec<usize> = verdict.classes.iter().map(|cv| cv.class.index()).collect();
    if classes != r.confined {
        return Err(format!("verdict covers classes {classes:?}, the confined classes are {:?}", r.confined));
    }
    for cv in &verdict.classes {
        let c = cv.class.index();
        let name = &model.classes[c].name;
        if cv.proved == r.violated(c) {
            return Err(format!(
                "class `{name}`: verify says proved={}, reference says proved={}",
                cv.proved,
                !r.violated(c)
            ));
        }
        let reach = r.taint.iter().filter(|t| *t & bit(c) != 0).count();
        if cv.reach != reach {
            return Err(format!("class `{name}`: verify reach {}, reference {reach}", cv.reach));
        }
        let holders: BTreeSet<Node> = cv.holders.iter().copied().collect();
        let want: BTreeSet<Node> =
            r.nodes.iter().enumerate().filter(|(i, _)| r.holds[*i] & bit(c) != 0).map(|(_, n)| *n).collect();
        if holders != want {
            return Err(format!("class `{name}`: verify holders {holders:?}, reference {want:?}"));
        }
    }
    if verdict.proved() != r.violations.is_empty() {
        return Err("overall verdict differs".into());
    }

    // The exact set of violations.
    let mut got: BTreeSet<(usize, Node)> = BTreeSet::new();
    for v in &verdict.violations {
        if !got.insert((v.class.index(), v.node)) {
            return Err(format!(
                "violation of `{}` at `{}` reported twice",
                model.classes[v.class.index()].name,
                model.node_name(v.node)
            ));
        }
    }
    let want: BTreeSet<(usize, Node)> = r.violations.keys().copied().collect();
    if got != want {
        let show = |s: &BTreeSet<(usize, Node)>| -> Vec<String> {
            s.iter().map(|(c, n)| format!("{}@{}", model.classes[*c].name, model.node_name(*n))).collect()
        };
        return Err(format!(
            "violations differ:\n  only verify:    {:?}\n  only reference: {:?}",
            show(&got.difference(&want).copied().collect()),
            show(&want.difference(&got).copied().collect())
        ));
    }

    // Every path is real and of minimal length.
    for v in &verdict.violations {
        let c = v.class.index();
        let what = format!("violation of `{}` at `{}`", model.classes[c].name, model.node_name(v.node));
        let holder = |n: Node| r.holds[r.index[&n]] & bit(c) != 0;
        let want_len = r.violations[&(c, v.node)];
        if v.path.len() != want_len as usize {
            return Err(format!("{what}: path of {} hops, the shortest has {want_len}: {:?}", v.path.len(), v.path));
        }
        let Some(first) = v.path.first() else {
            if !holder(v.node) {
                return Err(format!("{what}: empty path, but the node does not hold the class"));
            }
            continue;
        };
        if !holder(first.from) {
            return Err(format!(
                "{what}: path starts at `{}`, which does not hold the class",
                model.node_name(first.from)
            ));
        }
        for (k, hop) in v.path.iter().enumerate() {
            let flow = &model.flows[hop.flow.index()];
            let (senders, receivers) =
                if hop.forward { (&flow.from.nodes, &flow.to.nodes) } else { (&flow.to.nodes, &flow.from.nodes) };
            if !senders.contains(&hop.from) || !receivers.contains(&hop.to) {
                return Err(format!(
                    "{what}: hop {k} {hop:?} is not a channel of flow `{}`",
                    model.flow_title(hop.flow)
                ));
            }
            if flow.carries.as_ref().is_some_and(|cr| !cr.classes.contains(&v.class)) {
                return Err(format!(
                    "{what}: hop {k} uses flow `{}`, whose `carries` excludes the class",
                    model.flow_title(hop.flow)
                ));
            }
            if let Some(next) = v.path.get(k + 1)
                && next.from != hop.to
            {
                return Err(format!("{what}: hops {k} and {} are not connected: {:?}", k + 1, v.path));
            }
        }
        let last = v.path.last().unwrap_or(first);
        if last.to != v.node {
            return Err(format!("{what}: path ends at `{}`", model.node_name(last.to)));
        }
        if model.flows[last.flow.index()].exports.iter().any(|e| e.class == v.class && e.fetched != last.forward) {
            return Err(format!(
                "{what}: the last hop is an export of the class over `{}`",
                model.flow_title(last.flow)
            ));
        }
    }
    Ok(())
}

// ---- mutation: deleting `carries` ---------------------------------------------------------

#[derive(Default)]
struct Stats {
    cases: AtomicUsize,
    proved_natural: AtomicUsize,
    repaired: AtomicUsize,
    violations: AtomicUsize,
    hops: AtomicUsize,
    /// Enforcement gaps compared, and cases without any.
    gaps: AtomicUsize,
    enforced: AtomicUsize,
    mutants: AtomicUsize,
    relied_mutants: AtomicUsize,
    harmless_mutants: AtomicUsize,
    /// Deleting a `carries` made a class leak that its assumption's `relied_on` omits (the
    /// proof relied on it only indirectly).
    indirect: AtomicUsize,
}

/// The flows with `carries` to delete: all of them, or at most `limit` spread evenly, half
/// of them among those the verdict relies on.
fn mutation_targets(model: &Model, verdict: &Verdict, limit: Option<usize>) -> Vec<usize> {
    let with: Vec<usize> = (0..model.flows.len()).filter(|f| model.flows[*f].carries.is_some()).collect();
    let Some(limit) = limit else { return with };
    let relied = |f: &usize| {
        verdict
            .assumptions
            .iter()
            .any(|a| a.kind == AssumptionKind::Carries { flow: FlowId::from_index(*f) } && !a.relied_on.is_empty())
    };
    let (yes, no): (Vec<usize>, Vec<usize>) = with.into_iter().partition(relied);
    let spread = |v: &[usize], k: usize| -> Vec<usize> {
        if v.len() <= k { v.to_vec() } else { (0..k).map(|i| v[i * v.len() / k]).collect() }
    };
    let half = limit.div_ceil(2);
    let mut out = spread(&yes, half.max(limit.saturating_sub(no.len())));
    out.extend(spread(&no, limit - out.len().min(limit)));
    out.sort_unstable();
    out
}

/// Delete the `carries` of flows (see [`mutation_targets`]) one at a time and check the
/// consequences against the verdict's assumptions and the reference.
fn mutation_check(
    model: &Model,
    verdict: &Verdict,
    r: &Reference,
    stats: &Stats,
    limit: Option<usize>,
) -> Result<(), String> {
    let mut m = model.clone();
    let base: BTreeSet<(usize, Node)> = r.violations.keys().copied().collect();
    let base_verify: BTreeSet<(ClassId, Node)> = verdict.violations.iter().map(|v| (v.class, v.node)).collect();
    for f in mutation_targets(model, verdict, limit) {
        let title = model.flow_title(FlowId::from_index(f));
        let Some(a) =
            verdict.assumptions.iter().find(|a| a.kind == AssumptionKind::Carries { flow: FlowId::from_index(f) })
        else {
            return Err(format!("the `carries` of `{title}` is not listed as an assumption"));
        };
        if let Some(c) = a.relied_on.iter().find(|c| !a.classes.contains(c)) {
            return Err(format!(
                "`{title}`: relied on `{}`, which it does not list as stopped",
                model.classes[c.index()].name
            ));
        }
        let saved = m.flows[f].carries.take();
        let v2 = run_verify(&m);
        let r2 = reference(&m);
        stats.mutants.fetch_add(1, Relaxed);
        compare(&m, &v2, &r2).map_err(|e| format!("after deleting the `carries` of `{title}`: {e}"))?;
        if !a.relied_on.is_empty() {
            stats.relied_mutants.fetch_add(1, Relaxed);
            if !v2
                .violations
                .iter()
                .any(|v| a.relied_on.contains(&v.class) && !base_verify.contains(&(v.class, v.node)))
            {
                let names: Vec<&str> = a.relied_on.iter().map(|c| model.classes[c.index()].name.as_str()).collect();
                return Err(format!(
                    "deleting the `carries` of `{title}` (relied on for {names:?}) creates no violation of those classes"
                ));
            }
        }
        let after: BTreeSet<(usize, Node)> = r2.violations.keys().copied().collect();
        if after == base {
            stats.harmless_mutants.fetch_add(1, Relaxed);
            let got: BTreeSet<(ClassId, Node)> = v2.violations.iter().map(|v| (v.class, v.node)).collect();
            if got != base_verify {
                return Err(format!("deleting the harmless `carries` of `{title}` changes verify's violations"));
            }
        } else if after
            .iter()
            .any(|(c, n)| !base.contains(&(*c, *n)) && !a.relied_on.contains(&ClassId::from_index(*c)))
        {
            stats.indirect.fetch_add(1, Relaxed);
        }
        // On a proved policy, `relied_on` is exact: it names precisely the classes that
        // deleting the `carries` makes leak, directly or further down the graph.
        if base.is_empty() {
            let leaked: BTreeSet<ClassId> = after.iter().map(|(c, _)| ClassId::from_index(*c)).collect();
            let relied: BTreeSet<ClassId> = a.relied_on.iter().copied().collect();
            if leaked != relied {
                let names =
                    |s: &BTreeSet<ClassId>| s.iter().map(|c| model.classes[c.index()].name.clone()).collect::<Vec<_>>();
                return Err(format!(
                    "`{title}`: relied_on {:?}, but deleting the `carries` leaks {:?}",
                    names(&relied),
                    names(&leaked)
                ));
            }
        }
        m.flows[f].carries = saved;
    }
    Ok(())
}

/// Make a model provable by the reference's lights: drop `holds` where a class is not
/// allowed and narrow `carries` on every channel that leaks, until nothing leaks.
fn repair(model: &Model) -> Model {
    let mut m = model.clone();
    let all: Vec<ClassId> = (0..m.classes.len()).map(ClassId::from_index).collect();
    loop {
        let r = reference(&m);
        if r.violations.is_empty() {
            return m;
        }
        for &(c, node) in r.violations.keys() {
            let class = ClassId::from_index(c);
            if let Node::System(s) = node
                && m.systems[s.index()].holds.contains(&class)
            {
                m.systems[s.index()].holds.retain(|x| *x != class);
                continue;
            }
            let flows: BTreeSet<usize> = r.leaking_into(c, r.index[&node]).map(|ch| ch.flow).collect();
            for f in flows {
                let flow = &mut m.flows[f];
                let mut classes = flow.carries.as_ref().map_or_else(|| all.clone(), |cr| cr.classes.clone());
                classes.retain(|x| *x != class);
                flow.carries =
                    Some(Carries { classes, because: "repaired by the test".into(), span: flow.header_span });
            }
        }
    }
}

fn check_case(text: &str, stats: &Stats) -> Result<(), String> {
    let model = load("gen.zc", text);
    let verdict = run_verify(&model);
    let r = reference(&model);
    compare(&model, &verdict, &r)?;
    compare_gaps(&model, &verdict, &r)?;
    compare_in_series(&model, &verdict, &r, text.len())?;
    stats.cases.fetch_add(1, Relaxed);
    stats.gaps.fetch_add(verdict.enforcement.gaps.len(), Relaxed);
    if verdict.enforcement.enforced() {
        stats.enforced.fetch_add(1, Relaxed);
    }
    stats.violations.fetch_add(verdict.violations.len(), Relaxed);
    stats.hops.fetch_add(verdict.violations.iter().map(|v| v.path.len()).sum::<usize>(), Relaxed);
    if r.violations.is_empty() {
        stats.proved_natural.fetch_add(1, Relaxed);
        mutation_check(&model, &verdict, &r, stats, MUTANTS_PER_CASE)?;
    } else {
        let fixed = repair(&model);
        let v = run_verify(&fixed);
        let rf = reference(&fixed);
        compare(&fixed, &v, &rf).map_err(|e| format!("repaired model: {e}"))?;
        compare_in_series(&fixed, &v, &rf, text.len()).map_err(|e| format!("repaired model: {e}"))?;
        if !v.proved() {
            return Err("the repaired model is not proved".into());
        }
        stats.repaired.fetch_add(1, Relaxed);
        mutation_check(&fixed, &v, &rf, stats, MUTANTS_PER_CASE).map_err(|e| format!("repaired model: {e}"))?;
    }
    Ok(())
}

/// Deleted `carries` per generated case (the shipped policies get all of theirs).
const MUTANTS_PER_CASE: Option<usize> = Some(4);

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

#[test]
fn verify_agrees_with_naive_reference() {
    let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases()) };
    let stats = Stats::default();
    let start = Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&verify_gen::policy(), |p| check_case(&p.text, &stats).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{e}");
    }
    let n = |a: &AtomicUsize| a.load(Relaxed);
    eprintln!(
        "verify_differential: {} cases in {:.1?}: {} proved as generated, {} repaired to proved; {} violations ({} hops) compared; \
         {} enforcement gaps compared, {} cases enforced; {} carries deleted ({} relied on, {} harmless, {} leaked a class their relied_on omits)",
        n(&stats.cases),
        start.elapsed(),
        n(&stats.proved_natural),
        n(&stats.repaired),
        n(&stats.violations),
        n(&stats.hops),
        n(&stats.gaps),
        n(&stats.enforced),
        n(&stats.mutants),
        n(&stats.relied_mutants),
        n(&stats.harmless_mutants),
        n(&stats.indirect),
    );
}

/// The shipped policies: the same comparison, and the mutation check on every `carries`.
#[test]
fn shipped_policies_agree_and_rely_on_their_carries() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut paths = vec![root.join("fjordvik")];
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("policies/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "zc"))
        .collect();
    files.sort();
    paths.extend(files);
    let stats = Stats::default();
    for path in &paths {
        let model = load_path(path);
        let verdict = run_verify(&model);
        let r = reference(&model);
        compare(&model, &verdict, &r).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compare_gaps(&model, &verdict, &r).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for probe in 0..r.confined.len() {
            compare_in_series(&model, &verdict, &r, probe).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        assert!(verdict.enforcement.enforced(), "{}: shipped policies are enforced", path.display());
        mutation_check(&model, &verdict, &r, &stats, None).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Enforcement mutants: take one interface off a device, or one host's platform away;
        // verify and the reference must agree on the gaps that opens.
        let mut mutants = Vec::new();
        for (d, device) in model.devices.iter().enumerate() {
            for i in 0..device.interfaces.len() {
                let mut m = model.clone();
                m.devices[d].interfaces.remove(i);
                mutants.push(m);
            }
        }
        for (s, sys) in model.systems.iter().enumerate() {
            if matches!(sys.platform, Some(Platform::Linux | Platform::Windows)) {
                let mut m = model.clone();
                m.systems[s].platform = Some(Platform::Appliance);
                mutants.push(m);
            }
        }
        for m in &mutants {
            let v = run_verify(m);
            let rm = reference(m);
            compare_gaps(m, &v, &rm).unwrap_or_else(|e| panic!("{} (mutant): {e}", path.display()));
            stats.gaps.fetch_add(usize::from(!v.enforcement.enforced()), Relaxed);
            stats.enforced.fetch_add(1, Relaxed);
        }
    }
    let n = |a: &AtomicUsize| a.load(Relaxed);
    eprintln!(
        "shipped policies: {} policies, {} enforcement mutants ({} open a gap), {} carries deleted ({} relied on, {} harmless, {} leaked a class their relied_on omits)",
        paths.len(),
        n(&stats.enforced),
        n(&stats.gaps),
        n(&stats.mutants),
        n(&stats.relied_mutants),
        n(&stats.harmless_mutants),
        n(&stats.indirect)
    );
    assert!(n(&stats.relied_mutants) > 0, "the shipped policies rely on some `carries`");
    assert!(n(&stats.gaps) > 0, "taking an interface or a host firewall away opens some gap");
}

// ---- hand-written cases -------------------------------------------------------------------

const BASE: &str = r#"
class helse "Helseopplysninger" { special; confined }
class barnevern { special; confined to sikker }
class sak
zone sikker { trust closed; net 10.1.0.0/16 }
zone adm { trust internal; net 10.2.0.0/16 }
zone nhn { trust partner; net 10.3.0.0/16 }
zone internet { trust external; net 0.0.0.0/0 }
system epj { zone sikker; address 10.1.0.10; platform windows; holds helse }
system client { zone adm; address 10.2.0.20; platform windows }
system edi { zone nhn; address 10.3.0.30 }
"#;

/// A hop as (from, to, flow index, forward).
type NamedHop = (String, String, usize, bool);
/// A violation as (class, node, path).
type NamedViolation = (String, String, Vec<NamedHop>);

fn violations_of(text: &str) -> (Model, Verdict, Vec<NamedViolation>) {
    let model = load("smoke.zc", text);
    let verdict = run_verify(&model);
    compare(&model, &verdict, &reference(&model)).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let list = verdict
        .violations
        .iter()
        .map(|v| {
            let hops = v
                .path
                .iter()
                .map(|h| (model.node_name(h.from), model.node_name(h.to), h.flow.index(), h.forward))
                .collect();
            (model.classes[v.class.index()].name.clone(), model.node_name(v.node), hops)
        })
        .collect();
    (model, verdict, list)
}

fn hop(from: &str, to: &str, flow: usize, forward: bool) -> NamedHop {
    (from.into(), to.into(), flow, forward)
}

#[test]
fn smoke_two_way_channel_leaks_the_answer() {
    let text = format!("{BASE}flow client -> epj : https \"Klienten bruker EPJ\"\n");
    let (_, verdict, v) = violations_of(&text);
    assert_eq!(v, vec![("helse".to_string(), "client".to_string(), vec![hop("epj", "client", 0, false)])]);
    assert!(!verdict.proved());

    // `carries none` closes both directions, and the proof relies on it.
    let text = format!(
        "{BASE}flow client -> epj : https \"Klienten bruker EPJ\" {{ carries none because \"bare innlogging\" }}\n"
    );
    let (model, verdict, v) = violations_of(&text);
    assert!(v.is_empty() && verdict.proved());
    let helse = model.class_by_name("helse").unwrap();
    let a = &verdict.assumptions[0];
    assert_eq!((a.kind.clone(), a.relied_on.clone()), (AssumptionKind::Carries { flow: FlowId(0) }, vec![helse]));
}

#[test]
fn smoke_export_admits_only_from_to() {
    // The export itself is fine: edi may receive helse over msh -> edi.
    let export = "flow epj -> edi : smtp \"PLO\" { export helse basis \"Hpl § 45\" }\n";
    let (_, verdict, v) = violations_of(&format!("{BASE}{export}"));
    assert!(v.is_empty() && verdict.proved(), "{v:?}");

    // The same data reaching edi over the answer direction of another flow is a leak.
    let back = "flow edi -> epj : https \"Kvittering\"\n";
    let (_, _, v) = violations_of(&format!("{BASE}{export}{back}"));
    assert_eq!(v, vec![("helse".to_string(), "edi".to_string(), vec![hop("epj", "edi", 1, false)])]);

    // An export written in the other direction admits nothing towards edi.
    let wrong = "flow edi -> epj : smtp \"PLO\" { export helse basis \"Hpl § 45\" }\n";
    let (_, _, v) = violations_of(&format!("{BASE}{wrong}"));
    assert_eq!(v, vec![("helse".to_string(), "edi".to_string(), vec![hop("epj", "edi", 0, false)])]);

    // What edi received keeps spreading: a flow on from edi leaks to the client, and the
    // client's answers carry it back to edi over a channel that is not the export.
    let onward = "flow edi -> client : https \"Videre\"\n";
    let (_, _, v) = violations_of(&format!("{BASE}{export}{onward}"));
    assert_eq!(
        v,
        vec![
            (
                "helse".to_string(),
                "client".to_string(),
                vec![hop("epj", "edi", 0, true), hop("edi", "client", 1, true)]
            ),
            (
                "helse".to_string(),
                "edi".to_string(),
                vec![hop("epj", "edi", 0, true), hop("edi", "client", 1, true), hop("client", "edi", 1, false)]
            ),
        ]
    );
}

#[test]
fn smoke_saas_safeguards() {
    let saas = |props: &str| {
        format!(
            "{BASE}system flyt {{ zone internet; address 203.0.113.10; platform saas; holds barnevern; vendor \"Visma\"; {props} }}\n\
             system bv {{ zone sikker; address 10.1.0.11; holds barnevern }}\n\
             flow bv -> flyt : https \"Saksbehandling i skyen\"\n"
        )
    };
    // Fully safeguarded and holding the class: allowed.
    let (model, verdict, v) = violations_of(&saas("dpa \"DBA-1\"; region eea; auth mfa"));
    assert!(v.is_empty() && verdict.proved(), "{v:?}");
    let flyt = model.system_by_name("flyt").unwrap();
    assert!(verdict.assumptions.iter().any(|a| a.kind == AssumptionKind::SaasSafeguards { system: flyt }));

    // Without a dpa the SaaS holder itself is a violation (no path).
    let (_, _, v) = violations_of(&saas("region eea; auth mfa"));
    assert_eq!(v, vec![("barnevern".to_string(), "flyt".to_string(), vec![])]);

    // Storage in the US: same.
    let (_, _, v) = violations_of(&saas("dpa \"DBA-1\"; region us; auth mfa"));
    assert_eq!(v, vec![("barnevern".to_string(), "flyt".to_string(), vec![])]);

    // A safeguarded SaaS that does not hold the class may not receive it.
    let text = format!(
        "{BASE}system skole {{ zone internet; address 203.0.113.11; platform saas; vendor \"V\"; dpa \"D\"; region eea; auth mfa }}\n\
         flow epj -> skole : https \"Feil\"\n"
    );
    let (_, _, v) = violations_of(&text);
    assert_eq!(v, vec![("helse".to_string(), "skole".to_string(), vec![hop("epj", "skole", 0, true)])]);

    // A flow to the internet zone reaches the zone's remaining space, not the SaaS's data.
    let text = format!(
        "{BASE}system skole {{ zone internet; address 203.0.113.11; platform saas }}\n\
         flow epj -> internet : https \"Oppdateringer\"\n"
    );
    let (_, _, v) = violations_of(&text);
    assert_eq!(v, vec![("helse".to_string(), "internet".to_string(), vec![hop("epj", "internet", 0, true)])]);
}

#[test]
fn smoke_holder_in_wrong_zone_and_shortest_path() {
    // barnevern is confined to `sikker`; a holder in adm is a violation by itself. helse
    // reaches the client over two routes; the shortest one is reported.
    let text = format!(
        "{BASE}system bv-adm {{ zone adm; address 10.2.0.21; holds barnevern }}\n\
         system mid {{ zone sikker; address 10.1.0.12 }}\n\
         flow epj -> mid : smb \"Fil\"\n\
         flow mid -> client : smb \"Fil\"\n\
         flow [epj, edi] -> client : smb \"Fil\" {{ carries sak because \"bare saker\" }}\n"
    );
    let (_, _, v) = violations_of(&text);
    assert_eq!(
        v,
        vec![
            (
                "helse".to_string(),
                "client".to_string(),
                vec![hop("epj", "mid", 0, true), hop("mid", "client", 1, true)]
            ),
            ("barnevern".to_string(), "bv-adm".to_string(), vec![]),
        ]
    );
}

// ---- addresses as devices read them (DESIGN.md §4a) ---------------------------------------

/// Random zones and systems with nested and overlapping IPv4 ranges. Either resolution
/// refuses the policy with `address-overlap` — and then some system range really contains
/// another system's address or another zone's prefix — or every address has one owner, the
/// same for the proof (the system whose range holds it, else the zone by longest prefix) as
/// for a device (longest-prefix match over every zone prefix and system range together).
#[test]
fn system_ranges_mean_what_longest_prefix_routing_means() {
    use proptest::prelude::*;
    let net = |bits: u32, len: u8| -> ipnet::Ipv4Net {
        let addr = std::net::Ipv4Addr::from(0x0a00_0000 | (bits & 0x00ff_ffff));
        ipnet::Ipv4Net::new(addr, len).expect("valid length").trunc()
    };
    let strategy = (
        prop::collection::vec((any::<u32>(), 8u8..=26), 1..=5),
        prop::collection::vec((any::<u32>(), 16u8..=32, any::<u8>()), 1..=8),
    );
    let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases().min(2_000)) };
    let (refused, accepted) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |(zones, systems)| {
        let mut zone_nets: Vec<ipnet::Ipv4Net> = zones.iter().map(|(b, l)| net(*b, *l)).collect();
        zone_nets.sort();
        zone_nets.dedup();
        let mut text = String::from("zone world { trust external; net 0.0.0.0/0 }\n");
        for (i, n) in zone_nets.iter().enumerate() {
            text.push_str(&format!("zone z{i} {{ trust internal; net {n} }}\n"));
        }
        // Each system lies in the zone owning its network address by longest prefix, so
        // only the range checks can refuse it.
        let mut sys_nets: Vec<ipnet::Ipv4Net> = Vec::new();
        for (b, l, pick) in &systems {
            // Half of the ranges start inside a zone prefix, so nesting is common.
            let b = match zone_nets.get(usize::from(*pick) % zone_nets.len().max(1)) {
                Some(z) if pick % 2 == 0 => {
                    (u32::from(z.network()) & !u32::from(z.hostmask())) | (b & u32::from(z.hostmask()))
                }
                _ => *b,
            };
            let n = net(b, *l);
            if !sys_nets.contains(&n) {
                sys_nets.push(n);
            }
        }
        // The zone of a whole range: the longest zone prefix containing all of it.
        let owner_zone = |r: &ipnet::Ipv4Net| -> String {
            zone_nets
                .iter()
                .enumerate()
                .filter(|(_, n)| n.contains(r))
                .max_by_key(|(_, n)| n.prefix_len())
                .map_or("world".to_string(), |(i, _)| format!("z{i}"))
        };
        for (i, n) in sys_nets.iter().enumerate() {
            text.push_str(&format!("system s{i} {{ zone {}; address {n} }}\n", owner_zone(n)));
        }
        let really_overlaps = sys_nets.iter().enumerate().any(|(i, a)| {
            sys_nets.iter().enumerate().any(|(j, b)| i != j && a.contains(b))
                || zone_nets.iter().any(|z| a.contains(z) && a != z)
        });
        match zonecheck::load_str("ranges.zc", &text) {
            Err(e) => {
                let overlap = e.diags.iter().any(|d| d.code == zonecheck::diagnostics::code::RESOLVE_ADDRESS_OVERLAP);
                prop_assert!(overlap && really_overlaps, "refused without an overlap:\n{text}");
                refused.fetch_add(1, Relaxed);
            }
            Ok(model) => {
                prop_assert!(!really_overlaps, "accepted with an overlap:\n{text}");
                accepted.fetch_add(1, Relaxed);
                // Probe every prefix's first and last address and their neighbours.
                let mut probes = Vec::new();
                for n in zone_nets.iter().chain(&sys_nets) {
                    let (lo, hi) = (u32::from(n.network()), u32::from(n.broadcast()));
                    probes.extend([lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)]);
                }
                for p in probes {
                    let a = std::net::Ipv4Addr::from(p);
                    let a_net = ipnet::IpNet::V4(ipnet::Ipv4Net::new(a, 32).expect("/32"));
                    // The proof's owner: a system whose range holds it, else the zone.
                    let holders: Vec<&zonecheck::model::System> =
                        model.systems.iter().filter(|s| s.addresses.iter().any(|r| r.contains(&a_net))).collect();
                    prop_assert!(holders.len() <= 1, "{a} has {} system owners", holders.len());
                    // A device's owner: longest prefix over zones and systems together.
                    let mut best: Option<(u8, String, String)> = None;
                    for z in &model.zones {
                        for n in z.nets.iter().filter(|n| n.contains(&a_net)) {
                            if best.as_ref().is_none_or(|b| n.prefix_len() > b.0) {
                                best = Some((n.prefix_len(), z.name.clone(), String::new()));
                            }
                        }
                    }
                    for s in &model.systems {
                        for n in s.addresses.iter().filter(|n| n.contains(&a_net)) {
                            if best.as_ref().is_none_or(|b| n.prefix_len() >= b.0) {
                                best = Some((n.prefix_len(), model.zone(s.zone).name.clone(), s.name.clone()));
                            }
                        }
                    }
                    let (_, zone, system) = best.expect("world covers everything");
                    match holders.first() {
                        Some(s) => {
                            prop_assert_eq!(&s.name, &system, "{} owner differs", a);
                            prop_assert_eq!(&model.zone(s.zone).name, &zone, "{} zone differs", a);
                        }
                        None => prop_assert!(system.is_empty(), "{a}: a device routes it to `{system}`"),
                    }
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("system ranges: {} refused, {} accepted and probed", refused.load(Relaxed), accepted.load(Relaxed));
    assert!(refused.load(Relaxed) > 0 && accepted.load(Relaxed) > 0);
}

// ---- fix hints, applied ---------------------------------------------------------------------

/// Every fix a violation prints, applied mechanically to the model, removes the finding it
/// was printed for. For a delivery over a flow: each remedy the hint names — `carries`
/// without the class on that flow, `export CLASS` (forward) or `export CLASS fetched`
/// (answers) where the hint offers it — makes that flow stop delivering the class to the
/// node in that direction. For a SaaS: declaring `holds` with the safeguards admits the
/// class there. For a holder: dropping `holds` ends the holding.
#[test]
fn every_fix_hint_applied_removes_its_finding() {
    use proptest::prelude::*;
    use zonecheck::model::{Auth, Export};
    let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases().min(2_000)) };
    let applied = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&verify_gen::policy(), |p| {
        let model = load("fix.zc", &p.text);
        let verdict = run_verify(&model);
        for v in verdict.violations.iter().take(6) {
            let class = &model.classes[v.class.index()].name;
            let mut fixes: Vec<(String, Model)> = Vec::new();
            match v.path.last() {
                None => {
                    let Node::System(s) = v.node else { continue };
                    let mut m = model.clone();
                    if m.systems[s.index()].platform == Some(Platform::Saas) && v.fix.contains("declare vendor") {
                        let sys = &mut m.systems[s.index()];
                        sys.vendor = Some("Leverandør".into());
                        sys.dpa = Some("DBA-1".into());
                        sys.region = Some(Region::Eea);
                        sys.auth = Some(Auth::Mfa);
                        fixes.push(("safeguards".into(), m));
                    } else {
                        prop_assert!(v.fix.contains("stop declaring `holds"), "{}", v.fix);
                        m.systems[s.index()].holds.retain(|c| *c != v.class);
                        fixes.push(("drop holds".into(), m));
                    }
                }
                Some(last) => {
                    let f = last.flow.index();
                    if v.fix.contains("`carries") {
                        let mut m = model.clone();
                        let flow = &mut m.flows[f];
                        let mut keep: Vec<ClassId> = match &flow.carries {
                            Some(c) => c.classes.clone(),
                            None => (0..model.classes.len()).map(ClassId::from_index).collect(),
                        };
                        keep.retain(|c| *c != v.class);
                        flow.carries = Some(Carries { classes: keep, because: "fix".into(), span: flow.header_span });
                        fixes.push(("carries".into(), m));
                    }
                    let fetched = v.fix.contains(&format!("export {class} fetched"));
                    let sent = v.fix.contains(&format!("export {class} basis"));
                    if fetched || sent {
                        prop_assert_eq!(fetched, !last.forward, "{}: the export offered fits the direction", &v.fix);
                        let mut m = model.clone();
                        let flow = &mut m.flows[f];
                        flow.exports.push(Export {
                            class: v.class,
                            fetched,
                            basis: "fix".into(),
                            span: flow.header_span,
                        });
                        fixes.push(("export".into(), m));
                    }
                    if v.fix.contains("declare `holds")
                        && let Node::System(s) = v.node
                    {
                        let mut m = model.clone();
                        let sys = &mut m.systems[s.index()];
                        sys.holds.push(v.class);
                        sys.vendor = Some("Leverandør".into());
                        sys.dpa = Some("DBA-1".into());
                        sys.region = Some(Region::Eea);
                        sys.auth = Some(Auth::Mfa);
                        fixes.push(("saas holds".into(), m));
                    }
                    prop_assert!(!fixes.is_empty(), "a hint names no remedy: {}", v.fix);
                }
            }
            for (what, m) in fixes {
                let after = run_verify(&m);
                let violated = after.violations.iter().any(|w| w.class == v.class && w.node == v.node);
                let still = violated
                    && match v.path.last() {
                        None => {
                            after.violations.iter().any(|w| w.class == v.class && w.node == v.node && w.path.is_empty())
                        }
                        Some(a) => {
                            // The same channel still delivers the class to the node as a leak.
                            let flow = &m.flows[a.flow.index()];
                            let carries = flow.carries.as_ref().is_none_or(|c| c.classes.contains(&v.class));
                            let senders = if a.forward { &flow.from.nodes } else { &flow.to.nodes };
                            let sent = senders.iter().any(|n| after.classes_at(&m, *n).contains(&v.class));
                            carries && !flow.exports_class(v.class, a.forward) && sent
                        }
                    };
                prop_assert!(
                    !still,
                    "applying `{}` ({}) to the violation of {} at {} left it:\n{}",
                    what,
                    v.fix,
                    class,
                    model.node_name(v.node),
                    p.text
                );
                applied.fetch_add(1, Relaxed);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("fix hints: {} applied, each removed its finding", applied.load(Relaxed));
    assert!(applied.load(Relaxed) > 0);
}
