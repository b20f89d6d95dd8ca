//! The expected outcome of every probe, computed from the resolved model alone (never from
//! the compiler's output).
//!
//! A flow `A -> B : S` permits a packet when its source lies in A's address space, its
//! destination in B's, and a match of S covers its protocol and port. A system's space is
//! its addresses; a zone's space is every address whose longest matching zone prefix is
//! that zone (its systems, SaaS included, and its undeclared rest, DESIGN.md §2–§3); a group
//! is the union of its members. A firewall sees a packet when the source and destination
//! zones sit behind different interfaces; a host firewall sees packets to (and, in a closed
//! zone, from) the host.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use zonecheck::Model;
use zonecheck::model::{DeviceKind, EndpointRef, Match, Node, SystemId, Target, Trust, ZoneId};

use crate::netns::Proto;

/// One expected outcome.
#[derive(Clone, Debug)]
pub struct Probe {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Proto,
    pub port: u16,
    pub expect_pass: bool,
    /// Why this outcome is expected (the flow, or why no flow applies).
    pub why: String,
}

/// The zone an address belongs to: the longest matching prefix.
pub fn zone_of(m: &Model, ip: IpAddr) -> Option<ZoneId> {
    let mut best: Option<(u8, ZoneId)> = None;
    for (i, z) in m.zones.iter().enumerate() {
        for net in &z.nets {
            if net.contains(&ip) && best.is_none_or(|(len, _)| net.prefix_len() > len) {
                best = Some((net.prefix_len(), ZoneId::from_index(i)));
            }
        }
    }
    best.map(|(_, z)| z)
}

/// The data node an address belongs to: the system with the most specific address
/// containing it, else the rest of its zone.
pub fn owner(m: &Model, ip: IpAddr) -> Option<Node> {
    let mut best: Option<(u8, SystemId)> = None;
    for (i, s) in m.systems.iter().enumerate() {
        for net in &s.addresses {
            if net.contains(&ip) && best.is_none_or(|(len, _)| net.prefix_len() > len) {
                best = Some((net.prefix_len(), SystemId::from_index(i)));
            }
        }
    }
    match best {
        Some((_, s)) => Some(Node::System(s)),
        None => zone_of(m, ip).map(Node::ZoneRest),
    }
}

fn in_ref(m: &Model, r: EndpointRef, ip: IpAddr, depth: usize) -> bool {
    match r {
        EndpointRef::System(s) => m.system(s).addresses.iter().any(|n| n.contains(&ip)),
        EndpointRef::Zone(z) => zone_of(m, ip) == Some(z),
        EndpointRef::Group(g) => depth < 64 && m.group(g).members.iter().any(|r| in_ref(m, *r, ip, depth + 1)),
    }
}

fn touches_zone(m: &Model, r: EndpointRef, zone: ZoneId, depth: usize) -> bool {
    match r {
        EndpointRef::System(s) => m.system(s).zone == zone,
        EndpointRef::Zone(z) => z == zone,
        EndpointRef::Group(g) => depth < 64 && m.group(g).members.iter().any(|r| touches_zone(m, *r, zone, depth + 1)),
    }
}

/// Whether `m` covers `proto`/`port` (for ping: an echo request of the given family).
pub fn covers(m: &Match, proto: Proto, port: u16, v6: bool) -> bool {
    match (m, proto) {
        (Match::Any, _) => true,
        (Match::Tcp { lo, hi }, Proto::Tcp) | (Match::Udp { lo, hi }, Proto::Udp) => (*lo..=*hi).contains(&port),
        (Match::Proto(6), Proto::Tcp) | (Match::Proto(17), Proto::Udp) => true,
        (Match::Icmp(t), Proto::Ping) => !v6 && t.is_none_or(|t| t == 8),
        (Match::Icmpv6(t), Proto::Ping) => v6 && t.is_none_or(|t| t == 128),
        (Match::Proto(1), Proto::Ping) => !v6,
        (Match::Proto(58), Proto::Ping) => v6,
        _ => false,
    }
}

/// The flows (by index) that permit a new connection `src -> dst proto/port`.
pub fn permitting(m: &Model, src: IpAddr, dst: IpAddr, proto: Proto, port: u16) -> Vec<usize> {
    m.flows
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.from.refs.iter().any(|r| in_ref(m, *r, src, 0))
                && f.to.refs.iter().any(|r| in_ref(m, *r, dst, 0))
                && f.services
                    .iter()
                    .any(|s| m.service(*s).matches.iter().any(|x| covers(x, proto, port, dst.is_ipv6())))
        })
        .map(|(i, _)| i)
        .collect()
}

pub fn permits(m: &Model, src: IpAddr, dst: IpAddr, proto: Proto, port: u16) -> bool {
    !permitting(m, src, dst, proto, port).is_empty()
}

/// The first line of a flow, for messages: `flow a -> b : s (file:line)`.
pub fn flow_name(m: &Model, i: usize) -> String {
    let f = &m.flows[i];
    let (line, _) = m.sources.line_col(f.header_span);
    let file = m.sources.name(f.header_span.file);
    let file = file.rsplit('/').next().unwrap_or(file);
    let line = format!(" ({file}:{line})");
    format!("flow {}{line}", m.flow_title(zonecheck::model::FlowId::from_index(i)))
}

/// Addresses that are fine to put on an interface and route: no unspecified, loopback,
/// link-local, multicast or broadcast space.
fn usable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(o[0] == 0 || o[0] == 127 || o[0] >= 224 || (o[0] == 169 && o[1] == 254))
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            !(s[0] < 0x0100 || (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xff00) == 0xff00)
        }
    }
}

/// Candidate host addresses inside `net`, in a fixed order: the first few, then a few
/// from the middle and the quarters (so `0.0.0.0/0` yields `128.0.0.1`).
fn candidates(net: IpNet) -> Vec<IpAddr> {
    let (base, width): (u128, u32) = match net.network() {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    let host_bits = width - u32::from(net.prefix_len());
    if host_bits == 0 {
        return vec![net.network()];
    }
    let last = if host_bits >= 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
    let mut offsets: Vec<u128> = (1..=40).collect();
    let quarter = (last >> 2) + 1;
    for part in [2 * quarter, quarter, 3 * quarter] {
        offsets.extend((1..=5).map(|k| part + k));
    }
    offsets
        .into_iter()
        .filter(|o| *o < last || host_bits == 1 && *o <= last)
        .map(|o| match net.network() {
            IpAddr::V4(_) => {
                IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(base + o).expect("inside an IPv4 prefix")))
            }
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(base + o)),
        })
        .collect()
}

/// A host address standing for `node` in one family: a system's own address, or an address
/// of the zone that no system and no more specific zone owns.
pub fn sample(m: &Model, node: Node, v6: bool) -> Option<IpAddr> {
    let nets: &[IpNet] = match node {
        Node::System(s) => &m.system(s).addresses,
        Node::ZoneRest(z) => &m.zone(z).nets,
    };
    nets.iter()
        .filter(|n| matches!(n, IpNet::V6(_)) == v6)
        .flat_map(|n| candidates(*n))
        .find(|ip| usable(*ip) && owner(m, *ip) == Some(node))
}

/// A host address inside `net` that belongs to `zone`'s undeclared space.
fn sample_in(m: &Model, zone: ZoneId, net: IpNet) -> Option<IpAddr> {
    candidates(net).into_iter().find(|ip| usable(*ip) && owner(m, *ip) == Some(Node::ZoneRest(zone)))
}

/// Samples of a node in both families.
fn samples(m: &Model, node: Node) -> Vec<IpAddr> {
    [false, true].into_iter().filter_map(|v6| sample(m, node, v6)).collect()
}

/// The (protocol, port) pairs a flow's services permit: tcp and udp with one port per range
/// (the middle of the range, or its top for odd flows), and ping for an echo request of
/// either family; without duplicates.
pub fn flow_ports(m: &Model, flow: usize) -> Vec<(Proto, u16)> {
    let mut out = Vec::new();
    let pick = |lo: u16, hi: u16| {
        if lo == hi {
            lo
        } else if flow.is_multiple_of(2) {
            lo + (hi - lo) / 2
        } else {
            hi
        }
    };
    for s in &m.flows[flow].services {
        for x in &m.service(*s).matches {
            let item = match *x {
                Match::Tcp { lo, hi } => Some((Proto::Tcp, pick(lo, hi))),
                Match::Udp { lo, hi } => Some((Proto::Udp, pick(lo, hi))),
                Match::Any => {
                    for item in [(Proto::Tcp, 4000), (Proto::Udp, 4000), (Proto::Ping, 0)] {
                        if !out.contains(&item) {
                            out.push(item);
                        }
                    }
                    None
                }
                Match::Proto(6) => Some((Proto::Tcp, 4000)),
                Match::Proto(17) => Some((Proto::Udp, 4000)),
                Match::Icmp(None | Some(8)) | Match::Icmpv6(None | Some(128)) | Match::Proto(1 | 58) => {
                    Some((Proto::Ping, 0))
                }
                _ => None,
            };
            if let Some(item) = item
                && !out.contains(&item)
            {
                out.push(item);
            }
        }
    }
    out
}

/// A port on which no flow permits `src -> dst`.
fn other_port(m: &Model, src: IpAddr, dst: IpAddr, proto: Proto, port: u16) -> Option<u16> {
    if proto == Proto::Ping {
        return None;
    }
    [port.wrapping_add(1), port.wrapping_sub(1), 1, 7, 9, 4242, 31337, 65001, 23, 12345]
        .into_iter()
        .find(|p| *p != 0 && !permits(m, src, dst, proto, *p))
}

/// `count` indices spread evenly over `0..len`.
fn spread(len: usize, count: usize) -> Vec<usize> {
    if len <= count { (0..len).collect() } else { (0..count).map(|k| k * len / count).collect() }
}

/// Caps on the number of probes per category.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub pass: usize,
    pub reverse: usize,
    pub other_port: usize,
    pub unconnected: usize,
    pub saas: usize,
    pub nested: usize,
}

impl Budget {
    /// At most 60 probes.
    pub const DEFAULT: Budget = Budget { pass: 22, reverse: 11, other_port: 11, unconnected: 6, saas: 3, nested: 7 };
}

/// Everything needed to build the firewall's namespaces and probe them.
#[derive(Clone, Debug)]
pub struct FirewallPlan {
    pub device: String,
    /// Interface names, as the policy writes them.
    pub interfaces: Vec<String>,
    /// Each zone's prefixes and the interface (index) behind which it sits.
    pub routes: Vec<(IpNet, usize)>,
    pub probes: Vec<Probe>,
}

impl FirewallPlan {
    /// The interface (index) behind which an address sits, by the kernel's own rule.
    pub fn interface_of(&self, ip: IpAddr) -> Option<usize> {
        self.routes.iter().filter(|(net, _)| net.contains(&ip)).max_by_key(|(net, _)| net.prefix_len()).map(|(_, i)| *i)
    }
}

/// The zone → interface map of a firewall.
pub fn zone_interfaces(m: &Model, device: &str) -> BTreeMap<ZoneId, usize> {
    let d = m.devices.iter().find(|d| d.name == device).unwrap_or_else(|| panic!("no device {device}"));
    let mut map = BTreeMap::new();
    for (i, iface) in d.interfaces.iter().enumerate() {
        for z in &iface.zones {
            map.entry(*z).or_insert(i);
        }
    }
    map
}

/// The nftables firewalls of a policy.
pub fn nftables_firewalls(m: &Model) -> Vec<String> {
    m.devices
        .iter()
        .filter(|d| d.kind == DeviceKind::Firewall && d.target == Target::Nftables)
        .map(|d| d.name.clone())
        .collect()
}

/// Plans the firewall probes of `device` (see the module comment and `Budget`).
pub fn firewall_plan(m: &Model, device: &str, budget: Budget) -> FirewallPlan {
    let d = m.devices.iter().find(|d| d.name == device).unwrap_or_else(|| panic!("no device {device}"));
    let iface = zone_interfaces(m, device);
    let mut routes = Vec::new();
    for (z, i) in &iface {
        for net in &m.zone(*z).nets {
            routes.push((*net, *i));
        }
    }
    let behind = |ip: IpAddr| zone_of(m, ip).and_then(|z| iface.get(&z).copied());

    // PASS candidates, per flow: one (source, destination) pair per (from zone, to zone)
    // on different interfaces and family, every port; interleaved so that the first few
    // cover different zone pairs.
    let mut per_flow: Vec<(usize, Vec<Probe>)> = Vec::new();
    for (fi, f) in m.flows.iter().enumerate() {
        let by_zone = |nodes: &[Node]| {
            let mut map: BTreeMap<ZoneId, Vec<Node>> = BTreeMap::new();
            for n in nodes {
                let z = m.node_zone(*n);
                if iface.contains_key(&z) {
                    map.entry(z).or_default().push(*n);
                }
            }
            map
        };
        let (from, to) = (by_zone(&f.from.nodes), by_zone(&f.to.nodes));
        let ports = flow_ports(m, fi);
        let mut lists: Vec<Vec<Probe>> = Vec::new();
        for (zf, nf) in &from {
            for (zt, nt) in &to {
                if iface[zf] == iface[zt] {
                    continue;
                }
                let mut list = Vec::new();
                for v6 in [false, true] {
                    let pick = |nodes: &[Node]| {
                        (0..nodes.len()).map(|j| nodes[(fi + j) % nodes.len()]).find_map(|n| sample(m, n, v6))
                    };
                    let (Some(src), Some(dst)) = (pick(nf), pick(nt)) else { continue };
                    for (k, (proto, port)) in ports.iter().enumerate() {
                        if permits(m, src, dst, *proto, *port) {
                            // Families alternate: the v4 and v6 probes of a port sit side by side.
                            list.push((
                                k,
                                Probe {
                                    src,
                                    dst,
                                    proto: *proto,
                                    port: *port,
                                    expect_pass: true,
                                    why: flow_name(m, fi),
                                },
                            ));
                        }
                    }
                }
                list.sort_by_key(|(k, _)| *k);
                lists.push(list.into_iter().map(|(_, p)| p).collect());
            }
        }
        let mut interleaved = Vec::new();
        for k in 0..lists.iter().map(Vec::len).max().unwrap_or(0) {
            interleaved.extend(lists.iter().filter_map(|l| l.get(k).cloned()));
        }
        if !interleaved.is_empty() {
            per_flow.push((fi, interleaved));
        }
    }
    let chosen: Vec<&(usize, Vec<Probe>)> =
        spread(per_flow.len(), budget.pass).into_iter().map(|k| &per_flow[k]).collect();
    let mut pass: Vec<Probe> = Vec::new();
    let mut firsts: Vec<Probe> = Vec::new();
    'rounds: for round in 0.. {
        let mut any = false;
        for (_, list) in &chosen {
            if let Some(p) = list.get(round) {
                any = true;
                if round == 0 {
                    firsts.push(p.clone());
                }
                if pass.len() == budget.pass {
                    break 'rounds;
                }
                pass.push(p.clone());
            }
        }
        if !any {
            break;
        }
    }
    for p in &pass {
        assert!(permits(m, p.src, p.dst, p.proto, p.port), "oracle: {} does not permit {} -> {}", p.why, p.src, p.dst);
    }

    // BLOCK: the reverse of each probed flow, and another port for the same pair.
    let mut reverse = Vec::new();
    let mut other = Vec::new();
    for p in &firsts {
        if !permits(m, p.dst, p.src, p.proto, p.port) {
            reverse.push(Probe {
                src: p.dst,
                dst: p.src,
                proto: p.proto,
                port: p.port,
                expect_pass: false,
                why: format!("reverse of {}", p.why),
            });
        }
        if let Some(port) = other_port(m, p.src, p.dst, p.proto, p.port) {
            other.push(Probe {
                port,
                expect_pass: false,
                why: format!("no flow on this port ({} permits {})", p.why, p.port),
                ..p.clone()
            });
        }
    }
    let reverse: Vec<Probe> = spread(reverse.len(), budget.reverse).into_iter().map(|k| reverse[k].clone()).collect();
    let other: Vec<Probe> = spread(other.len(), budget.other_port).into_iter().map(|k| other[k].clone()).collect();

    // BLOCK: zone pairs on different interfaces that no flow connects.
    let mut unconnected = Vec::new();
    let zones: Vec<ZoneId> = iface.keys().copied().collect();
    for a in &zones {
        for b in &zones {
            if iface[a] == iface[b] {
                continue;
            }
            let connected = m.flows.iter().any(|f| {
                f.from.refs.iter().any(|r| touches_zone(m, *r, *a, 0))
                    && f.to.refs.iter().any(|r| touches_zone(m, *r, *b, 0))
            });
            if connected {
                continue;
            }
            let node_sample = |z: ZoneId, v6: bool| {
                std::iter::once(Node::ZoneRest(z))
                    .chain(m.zone(z).systems.iter().map(|s| Node::System(*s)))
                    .find_map(|n| sample(m, n, v6))
            };
            for v6 in [false, true] {
                if let (Some(src), Some(dst)) = (node_sample(*a, v6), node_sample(*b, v6)) {
                    let why = format!("no flow from zone {} to zone {}", m.zone(*a).name, m.zone(*b).name);
                    let proto = if unconnected.len().is_multiple_of(2) { Proto::Tcp } else { Proto::Udp };
                    let port = if proto == Proto::Tcp { 443 } else { 53 };
                    assert!(!permits(m, src, dst, proto, port), "oracle: {why}, yet {src} -> {dst} is permitted");
                    unconnected.push(Probe { src, dst, proto, port, expect_pass: false, why });
                    break;
                }
            }
        }
    }
    let unconnected: Vec<Probe> =
        spread(unconnected.len(), budget.unconnected).into_iter().map(|k| unconnected[k].clone()).collect();

    // PASS: a flow to a whole zone reaches the addresses of the SaaS systems in it
    // (DESIGN.md §3), though the model's nodes leave them out.
    let mut saas = Vec::new();
    for (fi, f) in m.flows.iter().enumerate() {
        for r in &f.to.refs {
            let EndpointRef::Zone(z) = r else { continue };
            let Some(to_if) = iface.get(z) else { continue };
            for s in &m.zone(*z).systems {
                if !m.system(*s).is_saas() {
                    continue;
                }
                let Some(dst) = sample(m, Node::System(*s), false) else { continue };
                let src = f
                    .from
                    .nodes
                    .iter()
                    .filter_map(|n| sample(m, *n, false))
                    .find(|ip| behind(*ip).is_some_and(|i| i != *to_if));
                let Some(src) = src else { continue };
                let Some((proto, port)) = flow_ports(m, fi).into_iter().find(|(pr, po)| permits(m, src, dst, *pr, *po))
                else {
                    continue;
                };
                if saas.iter().any(|p: &Probe| p.dst == dst) {
                    continue;
                }
                saas.push(Probe {
                    src,
                    dst,
                    proto,
                    port,
                    expect_pass: true,
                    why: format!("{} reaches SaaS {}'s address (DESIGN §3)", flow_name(m, fi), m.system(*s).name),
                });
            }
        }
    }
    saas.truncate(budget.saas);

    // A flow naming a whole zone does not reach the more specific zones inside its
    // prefixes (an address belongs to the longest match). Those behind the same interface
    // as the named zone come first: there only the rule's prefixes can tell them apart.
    let mut nested: Vec<(bool, Probe)> = Vec::new();
    for (fi, f) in m.flows.iter().enumerate() {
        let Some((proto, port)) = flow_ports(m, fi).into_iter().find(|(p, _)| *p != Proto::Ping) else { continue };
        for named_is_to in [true, false] {
            let (named, other) = if named_is_to { (&f.to, &f.from) } else { (&f.from, &f.to) };
            for r in &named.refs {
                let EndpointRef::Zone(z) = r else { continue };
                let Some(z_if) = iface.get(z) else { continue };
                for (yi, y) in m.zones.iter().enumerate() {
                    let y_id = ZoneId::from_index(yi);
                    let Some(y_if) = iface.get(&y_id) else { continue };
                    if y_id == *z {
                        continue;
                    }
                    let inner_nets = y.nets.iter().filter(|ny| {
                        m.zone(*z).nets.iter().any(|nz| nz.prefix_len() < ny.prefix_len() && nz.contains(&ny.network()))
                    });
                    let Some(inner) = inner_nets.filter_map(|ny| sample_in(m, y_id, *ny)).next() else { continue };
                    let far = other
                        .nodes
                        .iter()
                        .filter_map(|n| sample(m, *n, inner.is_ipv6()))
                        .find(|ip| behind(*ip).is_some_and(|i| i != *y_if));
                    let Some(far) = far else { continue };
                    let (src, dst) = if named_is_to { (far, inner) } else { (inner, far) };
                    let expect_pass = permits(m, src, dst, proto, port);
                    let why = format!(
                        "{} names zone {}, but {inner} belongs to the more specific zone {}{}",
                        flow_name(m, fi),
                        m.zone(*z).name,
                        y.name,
                        if expect_pass { " (which another flow permits)" } else { "" }
                    );
                    nested.push((y_if == z_if, Probe { src, dst, proto, port, expect_pass, why }));
                }
            }
        }
    }
    nested.sort_by_key(|(same_interface, _)| !*same_interface);
    let same = nested.iter().filter(|(s, _)| *s).count().min(budget.nested);
    let rest: Vec<Probe> = nested[same..].iter().map(|(_, p)| p.clone()).collect();
    let mut nested: Vec<Probe> = nested[..same].iter().map(|(_, p)| p.clone()).collect();
    nested.extend(spread(rest.len(), budget.nested - same).into_iter().map(|k| rest[k].clone()));

    let mut probes = pass;
    probes.extend(saas);
    probes.extend(reverse);
    probes.extend(other);
    probes.extend(unconnected);
    probes.extend(nested);
    for p in &probes {
        let (a, b) = (behind(p.src), behind(p.dst));
        assert!(a.is_some() && b.is_some() && a != b, "oracle: {} -> {} does not cross {device}", p.src, p.dst);
    }
    FirewallPlan {
        device: device.to_string(),
        interfaces: d.interfaces.iter().map(|i| i.name.clone()).collect(),
        routes,
        probes,
    }
}

/// Everything needed to probe one host's own firewall.
#[derive(Clone, Debug)]
pub struct HostPlan {
    pub system: String,
    /// The host's addresses (one per family).
    pub addresses: Vec<IpAddr>,
    pub closed: bool,
    pub probes: Vec<Probe>,
}

/// Plans the probes of a host firewall: flows to the host pass, other ports and other
/// sources do not; for a closed-zone host also flows from it pass and others do not.
pub fn host_plan(m: &Model, system: &str) -> HostPlan {
    let sid = m.system_by_name(system).unwrap_or_else(|| panic!("no system {system}"));
    let host = Node::System(sid);
    let addresses = samples(m, host);
    assert!(!addresses.is_empty(), "{system} has no usable address");
    let closed = m.zone(m.system(sid).zone).trust == Trust::Closed;
    let family = |a: IpAddr, b: IpAddr| a.is_ipv4() == b.is_ipv4();

    // For each flow that names the host on one side, a probe per port from a node of the
    // other side (inbound), or to it (outbound).
    let mut probes = Vec::new();
    let add_direction = |inbound: bool, pass_cap: usize, probes: &mut Vec<Probe>| {
        let mut pass = Vec::new();
        let mut firsts = Vec::new();
        for (fi, f) in m.flows.iter().enumerate() {
            let (near, far) = if inbound { (&f.to, &f.from) } else { (&f.from, &f.to) };
            for h in &addresses {
                if !near.refs.iter().any(|r| in_ref(m, *r, *h, 0)) {
                    continue;
                }
                let other = (0..far.nodes.len())
                    .map(|j| far.nodes[(fi + j) % far.nodes.len()])
                    .filter(|n| *n != host)
                    .find_map(|n| sample(m, n, h.is_ipv6()));
                let Some(other) = other else { continue };
                let (src, dst) = if inbound { (other, *h) } else { (*h, other) };
                let ports = flow_ports(m, fi).into_iter().filter(|(proto, port)| permits(m, src, dst, *proto, *port));
                for (k, (proto, port)) in ports.enumerate() {
                    let p = Probe { src, dst, proto, port, expect_pass: true, why: flow_name(m, fi) };
                    if k == 0 {
                        firsts.push(p.clone());
                    }
                    pass.push(p);
                }
            }
        }
        // Firsts of every flow before the other ports of any.
        let mut ordered = firsts.clone();
        ordered.extend(pass.into_iter().filter(|p| {
            !firsts.iter().any(|f| f.src == p.src && f.dst == p.dst && f.proto == p.proto && f.port == p.port)
        }));
        ordered.truncate(pass_cap);
        let mut blocks = Vec::new();
        for p in firsts.iter().take(6) {
            if let Some(port) = other_port(m, p.src, p.dst, p.proto, p.port) {
                blocks.push(Probe {
                    port,
                    expect_pass: false,
                    why: format!("no flow on this port ({} permits {})", p.why, p.port),
                    ..p.clone()
                });
            }
        }
        // Nodes with no flow to (or from) the host, on a port that is open for someone.
        let open: Vec<(Proto, u16)> = ordered.iter().map(|p| (p.proto, p.port)).collect();
        let mut strangers = 0;
        for n in m.nodes() {
            if strangers == 3 {
                break;
            }
            if n == host {
                continue;
            }
            for h in &addresses {
                let Some(other) = sample(m, n, h.is_ipv6()) else { continue };
                let (src, dst) = if inbound { (other, *h) } else { (*h, other) };
                let candidates = open.iter().copied().chain([(Proto::Tcp, 443), (Proto::Udp, 53)]);
                if let Some((proto, port)) = candidates.clone().find(|(pr, po)| !permits(m, src, dst, *pr, *po))
                    && !candidates.clone().any(|(pr, po)| permits(m, src, dst, pr, po))
                {
                    let why = if inbound {
                        format!("no flow from {} to {system}", m.node_name(n))
                    } else {
                        format!("no flow from {system} to {}", m.node_name(n))
                    };
                    blocks.push(Probe { src, dst, proto, port, expect_pass: false, why });
                    strangers += 1;
                    break;
                }
            }
        }
        probes.extend(ordered);
        probes.extend(blocks);
    };
    add_direction(true, 12, &mut probes);
    // Loopback is always open, whatever the flows.
    for lo in [IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)] {
        let why = "loopback is always permitted".to_string();
        probes.push(Probe { src: lo, dst: lo, proto: Proto::Tcp, port: 4242, expect_pass: true, why });
    }
    if closed {
        add_direction(false, 8, &mut probes);
    } else {
        // No output filter on a host outside closed zones: the host reaches anyone.
        let h = addresses[0];
        let other =
            m.nodes().filter(|n| *n != host).find_map(|n| sample(m, n, h.is_ipv6()).filter(|ip| family(*ip, h)));
        if let Some(dst) = other {
            probes.push(Probe {
                src: h,
                dst,
                proto: Proto::Tcp,
                port: 443,
                expect_pass: true,
                why: format!("{system} is not in a closed zone, so nothing filters its outbound traffic"),
            });
        }
    }
    HostPlan { system: system.to_string(), addresses, closed, probes }
}

/// The Linux systems of a policy (each gets a host ruleset).
pub fn linux_systems(m: &Model) -> Vec<String> {
    m.systems.iter().filter(|s| s.platform == Some(zonecheck::model::Platform::Linux)).map(|s| s.name.clone()).collect()
}
