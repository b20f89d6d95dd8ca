//! The intended space of an enforcement point: the packets the policy says it must permit.
//!
//! Stated here from the model alone (DESIGN.md §4a, §5), on check's own terms: zone spaces
//! by longest-prefix match (`addresses.rs`), each flow as cubes per interface pair, and the
//! protocol facts below. Neither the lowering nor any renderer is consulted, so a mistake
//! in either (a zone space cut wrongly, a flow given to the wrong interface pair, an answer
//! too wide) shows up as a difference in compile's self-check and in `check`.
//!
//! Stateless targets (switch ACLs) see both directions: the forward packets of each flow and
//! its exact answers (TCP from the service port with ACK or RST, UDP from the service port
//! to the client's ephemeral range, ICMP echo and timestamp replies). Each target also
//! permits a fixed baseline that is not a policy flow: loopback on Linux hosts and IPv6
//! neighbour discovery.

pub(crate) mod addresses;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::model::{
    AclOptions, DeviceId, DeviceKind, EnforcementPoint, Enforcer, FlowId, HostOrDevice, Match, Model, Node, SystemId,
    Target, ZoneId,
};
use addresses::{Addrs, AddrsBuilder, side, zone_spaces};

use super::space::{Ct, Cube, Dim, Field, Ifaces, Path};

// The protocol facts below are check's own statement, not the renderers': a renderer's
// mistake about them shows up as a difference.

/// The ICMP answer to an ICMP request type, if the type has one (echo, timestamp).
fn icmp_reply(v6: bool, ty: u8) -> Option<u8> {
    match (v6, ty) {
        (false, 8) => Some(0),
        (false, 13) => Some(14),
        (true, 128) => Some(129),
        _ => None,
    }
}

/// ICMP's protocol number in a family.
fn icmp_proto(v6: bool) -> u128 {
    if v6 { 58 } else { 1 }
}

/// Neighbour and router discovery a host accepts (RS, RA, NS, NA).
const HOST_ND_TYPES: [u8; 4] = [133, 134, 135, 136];

/// The neighbour discovery a switch's SVI passes: neighbour solicitation and advertisement,
/// router solicitation (hosts send no router advertisements).
const SWITCH_ND_TYPES: [u8; 3] = [133, 135, 136];

/// SSH and telnet: the switch's own management plane that its management ACL guards.
const TERMINAL_PORTS: (u16, u16) = (22, 23);

/// Where neighbour discovery may go on a segment besides the segment's own space.
const ND_LINK_PREFIXES: [&str; 2] = ["fe80::/10", "ff02::/16"];

/// The packets of one service item in its own direction, narrowed from `c` (a cube of
/// family `v6`); `None` when the item cannot occur in the family (ICMP over IPv6).
fn request(c: Cube, m: Match, v6: bool) -> Option<Cube> {
    match m {
        Match::Tcp { lo, hi } => c.with_value(Dim::Proto, 6)?.with_range(Dim::Dport, u128::from(lo), u128::from(hi)),
        Match::Udp { lo, hi } => c.with_value(Dim::Proto, 17)?.with_range(Dim::Dport, u128::from(lo), u128::from(hi)),
        Match::Icmp(ty) if !v6 => icmp_of(c, false, ty),
        Match::Icmpv6(ty) if v6 => icmp_of(c, true, ty),
        Match::Icmp(_) | Match::Icmpv6(_) => None,
        Match::Proto(p) => c.with_value(Dim::Proto, u128::from(p)),
        Match::Any => Some(c),
    }
}

fn icmp_of(c: Cube, v6: bool, ty: Option<u8>) -> Option<Cube> {
    let c = c.with_value(Dim::Proto, icmp_proto(v6))?;
    match ty {
        Some(t) => c.with_value(Dim::Dport, u128::from(t)),
        None => Some(c),
    }
}

/// The exact answers to one service item through a stateless filter, narrowed from `c`
/// (addresses already reversed): TCP from the service port with ACK or RST, UDP from the
/// service port to the ephemeral range, the ICMP reply type; a protocol or `any` whole.
fn answer(c: Cube, m: Match, v6: bool, options: &AclOptions) -> Option<Cube> {
    match m {
        Match::Tcp { lo, hi } => c
            .with_value(Dim::Proto, 6)?
            .with_range(Dim::Sport, u128::from(lo), u128::from(hi))?
            .with_value(Dim::Flags, 1),
        Match::Udp { lo, hi } => {
            let (elo, ehi) = options.ephemeral;
            c.with_value(Dim::Proto, 17)?.with_range(Dim::Sport, u128::from(lo), u128::from(hi))?.with_range(
                Dim::Dport,
                u128::from(elo.min(ehi)),
                u128::from(elo.max(ehi)),
            )
        }
        Match::Icmp(Some(ty)) if !v6 => icmp_of(c, false, Some(icmp_reply(false, ty)?)),
        Match::Icmpv6(Some(ty)) if v6 => icmp_of(c, true, Some(icmp_reply(true, ty)?)),
        Match::Icmp(None) if !v6 => icmp_of(c, false, None),
        Match::Icmpv6(None) if v6 => icmp_of(c, true, None),
        Match::Icmp(_) | Match::Icmpv6(_) => None,
        Match::Proto(p) => c.with_value(Dim::Proto, u128::from(p)),
        Match::Any => Some(c),
    }
}

/// Why a packet is intended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// These flows ask for it (in the forward direction).
    Flows(Vec<FlowId>),
    /// The answers to these flows, through a stateless ACL.
    Answers(Vec<FlowId>),
    /// An ICMP error between the addresses of these flows, related to a connection.
    Related(Vec<FlowId>),
    /// Not a flow: what every ruleset of the target permits (loopback, neighbour discovery).
    Baseline(&'static str),
}

/// The packets one device's check covers, and those of them it must permit.
#[derive(Clone, Debug, Default)]
pub struct Intended {
    /// The packets the device is responsible for; everything else is not compared.
    pub scope: Vec<Cube>,
    pub permits: Vec<(Cube, Why)>,
}

impl Intended {
    /// The paths the scope covers.
    pub fn paths(&self) -> Vec<Path> {
        let mut p: Vec<Path> = Path::ALL
            .iter()
            .copied()
            .filter(|p| self.scope.iter().any(|c| c.field(Dim::Path).contains(*p as u128)))
            .collect();
        p.dedup();
        p
    }

    /// Why a packet is intended (the first reason found).
    pub(crate) fn why(&self, p: &super::space::Packet) -> Option<&Why> {
        self.permits.iter().find(|(c, _)| c.contains(p)).map(|(_, w)| w)
    }
}

/// One side of a flow: the addresses it stands for, per zone.
type Side = Vec<(ZoneId, Addrs)>;

/// What check reads from the policy once for all the enforcement points it checks: each
/// flow's sides and service items, and which flows reach or leave each system. Read-only,
/// shared by the threads that check devices.
pub struct Expectations<'m> {
    model: &'m Model,
    /// Each zone's address space.
    spaces: Vec<Addrs>,
    /// Per flow: (from, to).
    sides: Vec<(Side, Side)>,
    /// Per flow: the addresses of each side over all its zones, made when a host or device
    /// first needs them (a flow from a zone reaches many hosts).
    wholes: Vec<OnceLock<[Addrs; 2]>>,
    /// Per flow: its service items, sorted and without repeats.
    matches: Vec<Vec<Match>>,
    /// Per flow: does a service item of it open connections in IPv4, in IPv6?
    connects: Vec<[bool; 2]>,
    /// The flows whose `to` (`from`) side holds a system or device node.
    to_node: HashMap<SystemId, Vec<FlowId>>,
    from_node: HashMap<SystemId, Vec<FlowId>>,
}

/// The intended space of one enforcement point (reads the whole policy: to check many,
/// make the [`Expectations`] once).
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for benches, fuzz targets, tests
pub fn intended(model: &Model, point: &EnforcementPoint, ifaces: &mut Ifaces, acl: &AclOptions) -> Intended {
    Expectations::of(model).intended(point, ifaces, acl)
}

impl<'m> Expectations<'m> {
    pub fn of(model: &'m Model) -> Expectations<'m> {
        let spaces = zone_spaces(model);
        let sides: Vec<(Side, Side)> = model
            .flows
            .par_iter()
            .map(|f| (side(model, &spaces, &f.from.refs), side(model, &spaces, &f.to.refs)))
            .collect();
        let wholes = sides.iter().map(|_| OnceLock::new()).collect();
        let matches: Vec<Vec<Match>> = model
            .flows
            .iter()
            .map(|f| {
                let mut m: Vec<Match> =
                    f.services.iter().flat_map(|s| model.service(*s).matches.iter().copied()).collect();
                m.sort();
                m.dedup();
                m
            })
            .collect();
        let connects = matches
            .iter()
            .map(|m| [false, true].map(|v6| m.iter().any(|m| request(Cube::any(v6), *m, v6).is_some())))
            .collect();
        let mut to_node: HashMap<SystemId, Vec<FlowId>> = HashMap::new();
        let mut from_node: HashMap<SystemId, Vec<FlowId>> = HashMap::new();
        for (i, f) in model.flows.iter().enumerate() {
            for (nodes, index) in [(&f.from.nodes, &mut from_node), (&f.to.nodes, &mut to_node)] {
                for n in nodes {
                    if let Node::System(s) = n {
                        index.entry(*s).or_default().push(FlowId::from_index(i));
                    }
                }
            }
        }
        Expectations { model, spaces, sides, wholes, matches, connects, to_node, from_node }
    }

    pub(crate) fn model(&self) -> &'m Model {
        self.model
    }

    /// The intended space of one enforcement point. Names its interfaces in `ifaces` (the
    /// device's in declaration order, `lo` for an nftables ruleset).
    pub fn intended(&self, point: &EnforcementPoint, ifaces: &mut Ifaces, acl: &AclOptions) -> Intended {
        let mut out = Intended::default();
        // Evaluated by conntrack: a firewall's ruleset and a Linux host's (nftables). Switch
        // ACLs are stateless and Windows keeps its state out of its rules.
        let stateful = match (point.enforcer, point.target) {
            (Enforcer::Device(id), _) => self.model.device(id).kind == DeviceKind::Firewall,
            (Enforcer::Host(_), target) => target == HostOrDevice::LinuxHost,
        };
        match (point.enforcer, point.target) {
            (Enforcer::Device(id), HostOrDevice::Device(target)) => {
                let device = self.model.device(id);
                let ids: Vec<u32> = device.interfaces.iter().map(|i| ifaces.id(&i.name)).collect();
                match device.kind {
                    DeviceKind::Firewall => {
                        self.firewall(&mut out, id, &ids);
                        // The firewall itself (DESIGN.md §4a): what reaches it and what it
                        // sends, the flows that name it only; nftables like a Linux host.
                        let lo = ifaces.id("lo");
                        self.own_traffic(
                            &mut out,
                            device.node,
                            (true, true),
                            OwnRuleset::Nftables { lo, related: false },
                        );
                    }
                    DeviceKind::Switch => {
                        self.switch(&mut out, id, &ids, target, acl);
                        if let Some(node) = device.node {
                            self.terminal_access(&mut out, node, target);
                        }
                    }
                }
            }
            (Enforcer::Host(s), HostOrDevice::LinuxHost) => {
                let lo = ifaces.id("lo");
                let filters = self.model.own_filters(s);
                // A closed-zone Linux host decides its related ICMP errors packet by packet.
                self.own_traffic(&mut out, Some(s), filters, OwnRuleset::Nftables { lo, related: filters.1 });
            }
            (Enforcer::Host(s), _) => {
                let v6 = self.model.system(s).addresses.iter().any(|a| a.addr().is_ipv6());
                self.own_traffic(&mut out, Some(s), self.model.own_filters(s), OwnRuleset::Windows { v6 });
            }
            // A device point is always of a device target; nothing to intend otherwise.
            (Enforcer::Device(_), _) => {}
        }
        if stateful {
            // Conntrack's invalid packets belong to no connection, so to no flow: a stateful
            // ruleset must drop them all. Accepted, they let a host send any bytes to any
            // address a raw socket listens on (a TCP segment out of window is invalid), out
            // of a closed zone too. Compared over the packets new ones are.
            let new = Field::point(Ct::New as u128);
            let invalid: Vec<Cube> = out.scope.iter().filter(|c| *c.field(Dim::Ct) == new).map(as_invalid).collect();
            out.scope.extend(invalid);
        }
        // Kept for the whole check: no slack from growing.
        out.permits.shrink_to_fit();
        out
    }

    /// A firewall's forwarded packets (DESIGN.md §5: flows between zones on different
    /// interfaces): new connections of each flow from each interface its source side lies
    /// behind to each its destination side lies behind, and the ICMP errors conntrack
    /// relates to them, which any host can forge: accepted between a flow's address pairs
    /// only, both ways.
    fn firewall(&self, out: &mut Intended, id: DeviceId, ids: &[u32]) {
        out.scope = both(Path::Forward, None);
        out.scope.extend([false, true].map(|v6| on_path(v6, Path::Forward, Ct::Related)));
        let iface_of = self.interface_of_zone(id);
        let behind = |side: &Side| -> BTreeMap<u32, Addrs> {
            let mut by: BTreeMap<u32, AddrsBuilder> = BTreeMap::new();
            for (z, a) in side {
                if let Some(&k) = iface_of.get(z) {
                    by.entry(ids[k]).or_default().addrs(a);
                }
            }
            by.into_iter().map(|(k, b)| (k, b.build())).collect()
        };
        // Flows are independent: in parallel, in chunks, collected in flow order.
        let chunks: Vec<Vec<(Cube, Why)>> = self
            .sides
            .par_chunks(FLOW_CHUNK)
            .enumerate()
            .map(|(chunk, sides)| {
                let mut permits = Vec::new();
                for (k, (from, to)) in sides.iter().enumerate() {
                    let fi = chunk * FLOW_CHUNK + k;
                    self.firewall_flow(&mut permits, fi, behind(from), behind(to));
                }
                permits
            })
            .collect();
        out.permits.extend(chunks.into_iter().flatten());
    }

    /// One flow through a firewall: its requests per interface pair and the ICMP errors
    /// related to them both ways.
    fn firewall_flow(
        &self,
        permits: &mut Vec<(Cube, Why)>,
        fi: usize,
        from: BTreeMap<u32, Addrs>,
        to: BTreeMap<u32, Addrs>,
    ) {
        let f = FlowId::from_index(fi);
        for (&ia, a) in &from {
            for (&ib, b) in to.iter().filter(|(ib, _)| **ib != ia) {
                for v6 in [false, true] {
                    let (src, dst) = (a.family(v6), b.family(v6));
                    let on_pair = |ct: Ct, i: u32, o: u32| {
                        on_path(v6, Path::Forward, ct)
                            .with_value(Dim::Iif, u128::from(i))?
                            .with_value(Dim::Oif, u128::from(o))
                    };
                    let Some(base) = on_pair(Ct::New, ia, ib).and_then(|c| c.with(Dim::Src, src)?.with(Dim::Dst, dst))
                    else {
                        continue;
                    };
                    let before = permits.len();
                    for m in &self.matches[fi] {
                        permits.extend(request(base.clone(), *m, v6).map(|c| (c, Why::Flows(vec![f]))));
                    }
                    if permits.len() == before {
                        continue;
                    }
                    let icmp = |c: Cube| c.with_value(Dim::Proto, icmp_proto(v6));
                    for (i, o, s, d) in [(ia, ib, src, dst), (ib, ia, dst, src)] {
                        let related =
                            on_pair(Ct::Related, i, o).and_then(|c| icmp(c.with(Dim::Src, s)?.with(Dim::Dst, d)?));
                        permits.extend(related.map(|c| (c, Why::Related(vec![f]))));
                    }
                }
            }
        }
    }

    /// Which interface (by position) each zone of a device lies behind.
    fn interface_of_zone(&self, id: DeviceId) -> HashMap<ZoneId, usize> {
        let mut of = HashMap::new();
        for (k, i) in self.model.device(id).interfaces.iter().enumerate() {
            for z in &i.zones {
                of.insert(*z, k);
            }
        }
        of
    }

    /// A switch: one inbound ACL per SVI. It routes between its SVIs and sends the rest to
    /// its uplink, so a flow crosses it from the side (SVI or uplink) of its source to that of
    /// its destination, unless both are the uplink; two zones behind one SVI are routed back
    /// out through it, one zone stays in its VLAN — except packets to or from the switch's
    /// own addresses, which it routes. An SVI's ACL sees the forward packets of the flows
    /// entering there and the answers of those leaving there, and neighbour discovery.
    fn switch(&self, out: &mut Intended, id: DeviceId, ids: &[u32], target: Target, acl: &AclOptions) {
        let device = self.model.device(id);
        let iface_of = self.interface_of_zone(id);
        for &i in ids {
            out.scope.extend(both(Path::Forward, Some((Dim::Iif, Field::point(u128::from(i))))));
        }
        let own = device.node.map(Node::System);
        // (the SVI's number, or None for the uplink; zone; addresses)
        let placed = |side: &'_ Side| -> Vec<(Option<u32>, ZoneId, Addrs)> {
            side.iter().map(|(z, a)| (iface_of.get(z).map(|&k| ids[k]), *z, a.clone())).collect()
        };
        for (fi, (from, to)) in self.sides.iter().enumerate() {
            let f = FlowId::from_index(fi);
            let flow = &self.model.flows[fi];
            let names_switch = own.is_some_and(|n| flow.from.nodes.contains(&n) || flow.to.nodes.contains(&n));
            let (from, to) = (placed(from), placed(to));
            for (ia, za, a) in &from {
                for (ib, zb, b) in &to {
                    let crosses = match (ia, ib) {
                        (None, None) => false,
                        (Some(x), Some(y)) if x == y => za != zb || names_switch,
                        _ => true,
                    };
                    if !crosses {
                        continue;
                    }
                    for v6 in [false, true] {
                        let (src, dst) = (a.family(v6), b.family(v6));
                        let entering = |i: u32, s: &Field, d: &Field| {
                            on_path(v6, Path::Forward, Ct::New)
                                .with_value(Dim::Iif, u128::from(i))?
                                .with(Dim::Src, s)?
                                .with(Dim::Dst, d)
                        };
                        if let Some(base) = ia.and_then(|i| entering(i, src, dst)) {
                            for m in &self.matches[fi] {
                                out.permits.extend(request(base.clone(), *m, v6).map(|c| (c, Why::Flows(vec![f]))));
                            }
                        }
                        if let Some(base) = ib.and_then(|i| entering(i, dst, src)) {
                            for m in &self.matches[fi] {
                                out.permits
                                    .extend(answer(base.clone(), *m, v6, acl).map(|c| (c, Why::Answers(vec![f]))));
                            }
                        }
                    }
                }
            }
        }
        // Neighbour discovery stays on the link: towards link-local and multicast addresses
        // and the segment's own space only, and (where the vendor can match it) at hop limit
        // 255. IOS-XE's IPv6 ACLs cannot match the hop limit.
        for (iface, &i) in device.interfaces.iter().zip(ids) {
            let mut dst = AddrsBuilder::default();
            for p in ND_LINK_PREFIXES {
                dst.net(&p.parse().expect("prefix"));
            }
            for z in &iface.zones {
                dst.addrs(&self.spaces[z.index()]);
            }
            let dst = dst.build();
            let nd = icmpv6_types(Path::Forward, &SWITCH_ND_TYPES, Some(i))
                .and_then(|c| if target == Target::CiscoIos { Some(c) } else { c.with_value(Dim::Hops, 255) })
                .and_then(|c| c.with(Dim::Dst, &dst.v6));
            out.permits.extend(nd.map(|c| (c, Why::Baseline("IPv6 neighbour discovery (NS, NA, RS) on the link"))));
        }
    }

    /// A switch's terminal access (DESIGN.md §4a, devices guard themselves): new TCP
    /// connections to SSH or telnet on the switch itself, of which exactly the flows to it
    /// pass. IOS-XE may match only the source of a terminal session (CSCuw89081), and every
    /// packet a vty line sees is to the switch, so there a flow's destination is any address.
    fn terminal_access(&self, out: &mut Intended, node: SystemId, target: Target) {
        let (lo, hi) = TERMINAL_PORTS;
        let terminal = |c: Cube| {
            c.with_value(Dim::Proto, 6).and_then(|c| c.with_range(Dim::Dport, u128::from(lo), u128::from(hi)))
        };
        out.scope.extend([false, true].into_iter().filter_map(|v6| terminal(on_path(v6, Path::Input, Ct::New))));
        let mut own = self.addresses_of(node);
        if target == Target::CiscoIos {
            // Any address of each family the switch has one of.
            for v6 in [false, true] {
                let f = if v6 { &mut own.v6 } else { &mut own.v4 };
                if !f.is_empty() {
                    *f = Field::range(0, super::space::addr_max(v6));
                }
            }
        }
        for &f in self.to_node.get(&node).into_iter().flatten() {
            let peers = self.whole(f, 0);
            self.own_permits(out, Path::Input, f, peers, &own, terminal);
        }
    }

    /// Flow `f`'s side `side` (0 from, 1 to) over all its zones.
    fn whole(&self, f: FlowId, side: usize) -> &Addrs {
        let sides = &self.sides[f.index()];
        &self.wholes[f.index()].get_or_init(|| [whole(&sides.0), whole(&sides.1)])[side]
    }

    fn addresses_of(&self, s: SystemId) -> Addrs {
        let mut b = AddrsBuilder::default();
        self.model.system(s).addresses.iter().for_each(|a| b.net(a));
        b.build()
    }

    /// The cubes of flow `f` between `peers` and a node's own addresses on `path` (to the
    /// node on input, from it on output), each passed through `narrow`.
    fn own_permits(
        &self,
        out: &mut Intended,
        path: Path,
        f: FlowId,
        peers: &Addrs,
        own: &Addrs,
        narrow: impl Fn(Cube) -> Option<Cube>,
    ) {
        for v6 in [false, true] {
            let (src, dst) = match path {
                Path::Output => (own.family(v6), peers.family(v6)),
                _ => (peers.family(v6), own.family(v6)),
            };
            let Some(base) = on_path(v6, path, Ct::New).with(Dim::Src, src).and_then(|c| c.with(Dim::Dst, dst)) else {
                continue;
            };
            for m in &self.matches[f.index()] {
                out.permits.extend(request(base.clone(), *m, v6).and_then(&narrow).map(|c| (c, Why::Flows(vec![f]))));
            }
        }
    }

    /// The packets to and from a host or a firewall itself: the flows to it (`filters.0`)
    /// and from it (`filters.1`) as its input and output, the related ICMP errors a
    /// closed-zone Linux host sends, and the baseline every such ruleset has.
    fn own_traffic(&self, out: &mut Intended, node: Option<SystemId>, filters: (bool, bool), ruleset: OwnRuleset) {
        let own = node.map(|s| self.addresses_of(s)).unwrap_or_default();
        let flows = |index: &HashMap<SystemId, Vec<FlowId>>| -> Vec<FlowId> {
            node.and_then(|s| index.get(&s)).cloned().unwrap_or_default()
        };
        let (to, from) = (flows(&self.to_node), flows(&self.from_node));
        let mut paths = Vec::new();
        if filters.0 {
            paths.push((Path::Input, &to, 0));
        }
        if let OwnRuleset::Nftables { lo, related: true } = ruleset {
            // ICMP errors the host sends, decided packet by packet: towards the peers of its
            // flows (a process can quote any connection in one), and on loopback. Errors to
            // the host stay accepted: path MTU discovery needs those from routers.
            let lo = Field::point(u128::from(lo));
            for v6 in [false, true] {
                let related = on_path(v6, Path::Output, Ct::Related);
                out.scope.push(related.clone());
                out.permits.extend(related.with(Dim::Oif, &lo).map(|c| (c, Why::Baseline("loopback (oif lo)"))));
            }
            for (flows, peer_side) in [(&from, 1), (&to, 0)] {
                for &f in flows {
                    let peers = self.whole(f, peer_side);
                    for v6 in [false, true] {
                        // Only between addresses a service of the flow can connect.
                        if !self.connects[f.index()][v6 as usize] {
                            continue;
                        }
                        let c = on_path(v6, Path::Output, Ct::Related)
                            .with(Dim::Src, own.family(v6))
                            .and_then(|c| c.with(Dim::Dst, peers.family(v6)))
                            .and_then(|c| c.with_value(Dim::Proto, icmp_proto(v6)));
                        out.permits.extend(c.map(|c| (c, Why::Related(vec![f]))));
                    }
                }
            }
        }
        if filters.1 {
            paths.push((Path::Output, &from, 1));
        }
        for (path, flows, peer_side) in paths {
            out.scope.extend(both(path, None));
            for &f in flows {
                let peers = self.whole(f, peer_side);
                self.own_permits(out, path, f, peers, &own, Some);
            }
            if let OwnRuleset::Nftables { lo, .. } = ruleset {
                let (dim, label) = match path {
                    Path::Output => (Dim::Oif, "loopback (oif lo)"),
                    _ => (Dim::Iif, "loopback (iif lo)"),
                };
                let lo = Field::point(u128::from(lo));
                // Accepted in every state, conntrack's invalid packets too (they are compared
                // on a stateful ruleset, see `intended`).
                let new = both(path, Some((dim, lo)));
                let invalid: Vec<Cube> = new.iter().map(as_invalid).collect();
                out.permits.extend(new.into_iter().chain(invalid).map(|c| (c, Why::Baseline(label))));
            }
            // IPv6 neighbour and router discovery: on Linux only from on-link (hop limit 255,
            // the ruleset says so); Windows rules cannot say it, and its stack drops other ND
            // itself (RFC 4861). A Windows host without IPv6 has none.
            let nd = match ruleset {
                OwnRuleset::Nftables { .. } => {
                    icmpv6_types(path, &HOST_ND_TYPES, None).and_then(|c| c.with_value(Dim::Hops, 255))
                }
                OwnRuleset::Windows { v6: true } => icmpv6_types(path, &HOST_ND_TYPES, None),
                OwnRuleset::Windows { v6: false } => None,
            };
            out.permits.extend(nd.map(|c| (c, Why::Baseline("IPv6 neighbour and router discovery (types 133-136)"))));
        }
    }
}

/// Flows per parallel job when a firewall's flows are stated.
const FLOW_CHUNK: usize = 512;

/// The ruleset that guards a host or a firewall itself.
#[derive(Clone, Copy)]
enum OwnRuleset {
    /// nftables: loopback (interface `lo`) passes; `related`: a closed-zone Linux host's
    /// output of related ICMP errors is decided by the ruleset.
    Nftables { lo: u32, related: bool },
    /// Windows Defender Firewall; `v6`: the host has an IPv6 address (neighbour discovery).
    Windows { v6: bool },
}

/// Every address of a side, whatever its zone.
fn whole(side: &Side) -> Addrs {
    let mut b = AddrsBuilder::default();
    side.iter().for_each(|(_, a)| b.addrs(a));
    b.build()
}

/// Every packet of a family on a path in one connection-tracking state.
fn on_path(v6: bool, path: Path, ct: Ct) -> Cube {
    let c = Cube::on_path(v6, path);
    c.clone().with_value(Dim::Ct, ct as u128).unwrap_or(c)
}

/// The same packets in conntrack state invalid.
fn as_invalid(c: &Cube) -> Cube {
    c.clone().replaced(Dim::Ct, Field::point(Ct::Invalid as u128))
}

/// Both families of a path (connection-opening packets), optionally narrowed in one more
/// dimension.
fn both(path: Path, narrow: Option<(Dim, Field)>) -> Vec<Cube> {
    [false, true]
        .into_iter()
        .filter_map(|v6| {
            let c = on_path(v6, path, Ct::New);
            match &narrow {
                Some((d, f)) => c.with(*d, f),
                None => Some(c),
            }
        })
        .collect()
}

/// ICMPv6 of the given types, any code, from anywhere to anywhere.
fn icmpv6_types(path: Path, types: &[u8], iif: Option<u32>) -> Option<Cube> {
    let mut c = on_path(true, path, Ct::New).with_value(Dim::Proto, 58)?;
    c = c.with(Dim::Dport, &Field::from_ranges(types.iter().map(|t| (u128::from(*t), u128::from(*t)))))?;
    match iif {
        Some(i) => c.with_value(Dim::Iif, u128::from(i)),
        None => Some(c),
    }
}
