//! DESIGN.md §4a: does the network the bundle configures close every path the proof does
//! not declare?
//!
//! The data proof (§4) follows the declared flows. Packets between two places can also
//! travel where no flow is declared, unless an enforcement point on their way drops them.
//! The enforcement points and what each filters:
//!
//! - a **firewall** (stateful) filters connections opened in either direction between zones
//!   on *different* interfaces; zones on one interface are one segment, and a zone on no
//!   interface is not behind it at all;
//! - a **switch** (stateless ACLs inbound on each SVI) filters every packet leaving an SVI's
//!   zones for anywhere but that SVI, answers included — but not packets arriving there;
//! - a **host firewall** (platform `linux` or `windows`) filters connections to its host,
//!   and for a host in a closed zone also connections from it (answers pass: stateful).
//!
//! Data leaves node `a` for node `b` when `a` opens a connection to `b` (or just sends),
//! or when `b` opens one to `a` and `a`'s answers come back. So the pair is a **gap** when
//! `a → b` opens unfiltered, or `b → a` opens unfiltered and no stateless filter stops
//! `a`'s answers.
//!
//! Only the zone pair, whether each node runs a host firewall, and the zones' trust decide
//! that, so nodes are bucketed by (zone, host firewall) and the predicate is evaluated per
//! bucket pair: linear in the nodes, quadratic only in the zones.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{ClassId, DeviceId, DeviceKind, Model, Node, Platform, ZoneId};
use crate::verify::allowed;
use crate::verify::taint::{Bits, dense};

/// A zone pair between which a confined class can leave its allowed places unfiltered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The zone where the classes may be.
    pub inside: ZoneId,
    /// The zone where they may not.
    pub outside: ZoneId,
    pub classes: Vec<ClassId>,
    /// Nodes of `inside` that have one of the classes and nothing shields (sorted).
    pub from: Vec<Node>,
    /// Nodes of `outside` they can exchange packets with (sorted).
    pub to: Vec<Node>,
    /// Why no enforcement point filters the pair.
    pub reason: String,
    /// What would close it.
    pub fix: String,
}

/// The enforcement verdict: gaps, one per zone pair.
#[derive(Clone, Debug, Default)]
pub struct Enforcement {
    pub gaps: Vec<Gap>,
}

impl Enforcement {
    pub fn enforced(&self) -> bool {
        self.gaps.is_empty()
    }
}

/// Which device interface each zone sits behind.
pub(crate) struct Topology {
    /// Per zone: (firewall, interface index).
    firewalls: Vec<Vec<(DeviceId, usize)>>,
    /// Per zone: (switch, SVI index).
    switches: Vec<Vec<(DeviceId, usize)>>,
}

impl Topology {
    pub(crate) fn of(model: &Model) -> Topology {
        let mut firewalls = vec![Vec::new(); model.zones.len()];
        let mut switches = vec![Vec::new(); model.zones.len()];
        for (d, device) in model.devices.iter().enumerate() {
            for (i, iface) in device.interfaces.iter().enumerate() {
                for z in &iface.zones {
                    let list = match device.kind {
                        DeviceKind::Firewall => &mut firewalls,
                        DeviceKind::Switch => &mut switches,
                    };
                    if let Some(l) = list.get_mut(z.index()) {
                        l.push((DeviceId::from_index(d), i));
                    }
                }
            }
        }
        Topology { firewalls, switches }
    }

    /// A firewall with the two zones on different interfaces (filters both directions).
    pub(crate) fn firewall_between(&self, a: ZoneId, b: ZoneId) -> Option<DeviceId> {
        let fb = self.firewalls.get(b.index())?;
        self.firewalls.get(a.index())?.iter().find(|(d, i)| fb.iter().any(|(e, j)| e == d && i != j)).map(|(d, _)| *d)
    }

    /// A switch that routes `from` out of one of its SVIs, with `to` not on that SVI:
    /// its inbound ACL filters every packet from `from` to `to`.
    pub(crate) fn switch_from(&self, from: ZoneId, to: ZoneId) -> Option<DeviceId> {
        let tb = self.switches.get(to.index());
        self.switches
            .get(from.index())?
            .iter()
            .find(|(d, i)| !tb.is_some_and(|t| t.iter().any(|(e, j)| e == d && i == j)))
            .map(|(d, _)| *d)
    }

    /// Are two zones one segment: the same zone, or behind one interface of a firewall or
    /// one SVI of a switch, so that no device checks addresses between them?
    pub(crate) fn one_segment(&self, a: ZoneId, b: ZoneId) -> bool {
        let shared = |l: &[Vec<(DeviceId, usize)>]| {
            let (Some(x), Some(y)) = (l.get(a.index()), l.get(b.index())) else { return false };
            x.iter().any(|p| y.contains(p))
        };
        a == b || shared(&self.firewalls) || shared(&self.switches)
    }

    /// The firewall interface a zone sits behind, if any (the first firewall's).
    fn firewall_of(&self, z: ZoneId) -> Option<(DeviceId, usize)> {
        self.firewalls.get(z.index()).and_then(|l| l.first().copied())
    }
}

/// What shields one node: its host firewall's input and output filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Host {
    /// Connections to the node are filtered (a Linux or Windows host).
    pub filters_in: bool,
    /// Connections from the node are filtered (such a host in a closed zone).
    pub filters_out: bool,
}

pub(crate) fn host(model: &Model, node: Node) -> Host {
    match node {
        Node::System(s) => {
            let (filters_in, filters_out) = model.own_filters(s);
            Host { filters_in, filters_out }
        }
        Node::ZoneRest(_) => Host { filters_in: false, filters_out: false },
    }
}

/// Can data leave `a` (in zone `za`) for `b` (in zone `zb`) outside the declared flows?
pub(crate) fn leaks(topo: &Topology, za: ZoneId, a: Host, zb: ZoneId, b: Host) -> bool {
    if za == zb {
        // One segment: only the hosts' own filters stand between them.
        let open_ab = !(a.filters_out || b.filters_in);
        let open_ba = !(b.filters_out || a.filters_in);
        return open_ab || open_ba;
    }
    let firewall = topo.firewall_between(za, zb).is_some();
    let switch_ab = topo.switch_from(za, zb).is_some();
    let switch_ba = topo.switch_from(zb, za).is_some();
    let open_ab = !(a.filters_out || b.filters_in || firewall || switch_ab);
    let open_ba = !(b.filters_out || a.filters_in || firewall || switch_ba);
    // After `b` opens, `a`'s answers pass every stateful filter; only a switch's
    // stateless ACL on `a`'s side stops them.
    open_ab || (open_ba && !switch_ab)
}

/// Nodes no gap can involve: SaaS systems sit outside every device, behind their own login.
fn outside_every_device(model: &Model, node: Node) -> bool {
    matches!(node, Node::System(s) if model.system(s).is_saas())
}

/// Find every gap (DESIGN.md §4a). `taint` is the data proof's fixpoint.
pub(crate) fn analyse(model: &Model, taint: &Bits) -> Enforcement {
    let topo = Topology::of(model);
    // (inside, outside) → (classes, from nodes, to nodes)
    type Pair = (BTreeSet<ClassId>, BTreeSet<Node>, BTreeSet<Node>);
    let mut pairs: BTreeMap<(ZoneId, ZoneId), Pair> = BTreeMap::new();
    for ci in 0..model.classes.len() {
        let c = ClassId::from_index(ci);
        if !model.class(c).confined() {
            continue;
        }
        // Export recipients of the class are declared exits, never gaps.
        let recipients: BTreeSet<Node> = model.flows.iter().flat_map(|f| f.export_recipients(c).copied()).collect();
        let mut inside: BTreeMap<(ZoneId, Host), Vec<Node>> = BTreeMap::new();
        let mut outside: BTreeMap<(ZoneId, Host), Vec<Node>> = BTreeMap::new();
        for n in model.nodes() {
            if outside_every_device(model, n) {
                continue;
            }
            let key = (model.node_zone(n), host(model, n));
            if allowed(model, c, n) {
                if taint.get(dense(model, n), c) {
                    inside.entry(key).or_default().push(n);
                }
            } else if !recipients.contains(&n) {
                outside.entry(key).or_default().push(n);
            }
        }
        for ((za, ha), from) in &inside {
            for ((zb, hb), to) in &outside {
                if !leaks(&topo, *za, *ha, *zb, *hb) {
                    continue;
                }
                let entry = pairs.entry((*za, *zb)).or_default();
                entry.0.insert(c);
                entry.1.extend(from.iter().copied());
                entry.2.extend(to.iter().copied());
            }
        }
    }
    let gaps = pairs
        .into_iter()
        .map(|((za, zb), (classes, from, to))| {
            let from: Vec<Node> = from.into_iter().collect();
            let to: Vec<Node> = to.into_iter().collect();
            let (reason, fix) = explain(model, &topo, za, zb, &from);
            Gap { inside: za, outside: zb, classes: classes.into_iter().collect(), from, to, reason, fix }
        })
        .collect();
    Enforcement { gaps }
}

/// Why nothing filters between the zones, and the change that would.
fn explain(model: &Model, topo: &Topology, za: ZoneId, zb: ZoneId, from: &[Node]) -> (String, String) {
    let (a, b) = (&model.zone(za).name, &model.zone(zb).name);
    let unshielded: Vec<String> = from
        .iter()
        .filter(|n| !host(model, **n).filters_out)
        .take(3)
        .map(|n| match n {
            Node::System(s) => {
                let p = match model.system(*s).platform {
                    _ if model.system(*s).device.is_some() => "a switch's own addresses, which its ACLs do not guard",
                    Some(Platform::Appliance) => "platform appliance",
                    Some(Platform::Linux | Platform::Windows) => "a host firewall that filters only what reaches it",
                    Some(Platform::Saas) | None => "no platform",
                };
                format!("`{}` ({p})", model.node_name(*n))
            }
            Node::ZoneRest(_) => format!("the rest of `{a}` (undeclared hosts)"),
        })
        .collect();
    let hosts =
        if unshielded.is_empty() { String::new() } else { format!("; {} cannot filter it", unshielded.join(", ")) };
    let device = |d: DeviceId| &model.devices[d.index()];
    let (reason, fix) = match (topo.firewall_of(za), topo.firewall_of(zb)) {
        (Some((d, i)), Some((e, j))) if d == e && i == j => {
            let dev = device(d);
            let iface = dev.interfaces.get(i).map_or("?", |x| x.name.as_str());
            (
                format!("`{a}` and `{b}` share interface `{iface}` of `{}` (one segment)", dev.name),
                format!("give `{b}` an interface of its own on `{}` (`interface NAME zone {b}`)", dev.name),
            )
        }
        (Some((d, _)), _) => (
            format!(
                "`{b}` is behind no interface of `{}`, and no other device separates it from `{a}`",
                device(d).name
            ),
            format!("put `{b}` behind an interface of `{}` (`interface NAME zone {b}`)", device(d).name),
        ),
        (None, Some((e, _))) => (
            format!(
                "`{a}` is behind no interface of `{}`, and no other device separates it from `{b}`",
                device(e).name
            ),
            format!("put `{a}` behind an interface of `{}` (`interface NAME zone {a}`)", device(e).name),
        ),
        (None, None) => {
            // Undeclared hosts cannot be given a host firewall: only a device closes that.
            let hosts_can_fix = from.iter().all(|n| matches!(n, Node::System(_)));
            let alternative = if hosts_can_fix {
                format!(
                    ", or run every system of `{a}` that has the class with a host firewall (platform linux or windows)"
                )
            } else {
                String::new()
            };
            (
                format!("no firewall or switch declared in the policy has `{a}` and `{b}` behind different interfaces"),
                format!("declare a `firewall` with `{a}` and `{b}` on different interfaces{alternative}"),
            )
        }
    };
    (format!("{reason}{hosts}"), fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(text: &str) -> Vec<(String, String)> {
        let model = crate::load_str("t.zc", text).expect("resolves");
        let v = crate::verify::verify(&model, &crate::verify::Options::default());
        v.enforcement
            .gaps
            .iter()
            .map(|g| (model.zone(g.inside).name.clone(), model.zone(g.outside).name.clone()))
            .collect()
    }

    const BASE: &str = "class helse { special; confined }\n\
        zone lukket { trust closed; net 10.0.10.0/24 }\n\
        zone adm { trust internal; net 10.0.32.0/24 }\n\
        zone internet { trust external; net 0.0.0.0/0 }\n";

    fn with(rest: &str) -> String {
        format!("{BASE}{rest}")
    }

    #[test]
    fn an_appliance_with_no_device_in_front_is_a_gap_to_every_zone() {
        let g = gaps(&with("system epj { zone lukket; address 10.0.10.10; platform appliance; holds helse }\n"));
        assert_eq!(g, vec![("lukket".into(), "adm".into()), ("lukket".into(), "internet".into())]);
    }

    #[test]
    fn closed_host_firewalls_enforce_without_a_device() {
        for p in ["linux", "windows"] {
            let g =
                gaps(&with(&format!("system epj {{ zone lukket; address 10.0.10.10; platform {p}; holds helse }}\n")));
            assert!(g.is_empty(), "{p}: {g:?}");
        }
    }

    #[test]
    fn a_firewall_between_every_pair_enforces() {
        let g = gaps(&with(
            "system epj { zone lukket; address 10.0.10.10; platform appliance; holds helse }\n\
             firewall fw { target nftables; interface eth1 zone lukket; interface eth2 zone adm; interface eth0 zone internet }\n",
        ));
        assert!(g.is_empty(), "{g:?}");
    }

    #[test]
    fn one_interface_is_one_segment() {
        let g = gaps(&with(
            "system epj { zone lukket; address 10.0.10.10; platform appliance; holds helse }\n\
             firewall fw { target nftables; interface eth1 zone lukket, adm; interface eth0 zone internet }\n",
        ));
        assert_eq!(g, vec![("lukket".into(), "adm".into())]);
    }

    #[test]
    fn a_zone_on_no_interface_is_not_behind_the_firewall() {
        let g = gaps(&with(
            "system epj { zone lukket; address 10.0.10.10; platform appliance; holds helse }\n\
             firewall fw { target nftables; interface eth1 zone lukket; interface eth0 zone internet }\n",
        ));
        assert_eq!(g, vec![("lukket".into(), "adm".into())]);
    }

    #[test]
    fn a_switch_filters_what_leaves_its_svis_only() {
        // The closed zone behind an SVI: everything it sends is filtered, answers too.
        let behind = gaps(&with(
            "system epj { zone lukket; address 10.0.10.10; platform appliance; holds helse }\n\
             switch sw { target cisco-ios; interface Vlan10 zone lukket }\n",
        ));
        assert!(behind.is_empty(), "{behind:?}");
        // The other zones behind SVIs, the closed one not: it can still send to them.
        let other = gaps(&with(
            "system epj { zone lukket; address 10.0.10.10; platform appliance; holds helse }\n\
             switch sw { target cisco-ios; interface Vlan32 zone adm; interface Vlan1 zone internet }\n",
        ));
        assert_eq!(other, vec![("lukket".into(), "adm".into()), ("lukket".into(), "internet".into())]);
    }

    #[test]
    fn only_places_the_class_reaches_count() {
        // The closed zone's rest holds nothing: no gap from it.
        let g = gaps(&with("system epj { zone lukket; address 10.0.10.10; platform linux; holds helse }\n"));
        assert!(g.is_empty(), "{g:?}");
    }

    #[test]
    fn open_host_firewalls_filter_only_inbound() {
        let model = crate::load_str("t.zc", BASE).expect("resolves");
        let topo = Topology::of(&model);
        let (lukket, adm) = (ZoneId(0), ZoneId(1));
        let appliance = Host { filters_in: false, filters_out: false };
        let open_host = Host { filters_in: true, filters_out: false };
        let closed_host = Host { filters_in: true, filters_out: true };
        // The appliance sends to the open host: filtered; the open host fetches from the
        // appliance: not filtered, and the answers carry the data.
        assert!(leaks(&topo, lukket, appliance, adm, open_host));
        // A closed host filters both ways; the open host's inbound filter is then moot.
        assert!(!leaks(&topo, lukket, closed_host, adm, appliance));
        // Two open hosts: each filters what reaches it, so neither can open to the other.
        assert!(!leaks(&topo, lukket, open_host, adm, open_host));
        // In one zone too.
        assert!(leaks(&topo, lukket, appliance, lukket, open_host));
        assert!(!leaks(&topo, lukket, closed_host, lukket, appliance));
    }
}
