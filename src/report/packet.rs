//! `zonecheck explain PATH SRC DST SERVICE`: one packet through the policy and the network.
//!
//! The packet is the first packet of a connection from SRC to DST (source port 49152 for
//! TCP and UDP). It says where each address belongs (longest prefix over system addresses
//! and zone nets, as devices read them), which flows permit it, which classes travel over
//! those flows each way, and which enforcement points carry it by the lowering (firewalls
//! by interface pair, switches by SVI, host firewalls by direction). Given the files of a
//! bundle, each carrying device's file is read and the packet traced through it: the rule
//! that decides it, or the chain policy.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::check::space::{Ifaces, Packet, Path, addr_value};
use crate::lower::{ChainKind, DeviceRules, Svc, UPLINK};
use crate::model::HostOrDevice;
use crate::model::{ClassId, FlowId, Match, Model, Node};
use crate::verify::Verdict;
use crate::verify::taint::masks;

/// What the packet is above IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp(u16),
    Udp(u16),
    /// ICMP (v4 or v6) type.
    Icmp {
        v6: bool,
        ty: u8,
    },
    Other(u8),
}

const ICMP_NAMES: &[(&str, u8, u8)] =
    &[("echo-request", 8, 128), ("echo-reply", 0, 129), ("destination-unreachable", 3, 1), ("time-exceeded", 11, 3)];

/// `tcp/443`, `udp/53`, `icmp/echo-request`, `icmpv6/128`, `proto/47`, or the name of a
/// service of the policy (its first item that fits the address family).
pub(crate) fn parse_service(model: &Model, spec: &str, v6: bool) -> Result<Proto, String> {
    let help = "write the service as tcp/PORT, udp/PORT, icmp/TYPE, icmpv6/TYPE, proto/N or a service name";
    if let Some((kind, value)) = spec.split_once('/') {
        let port = || {
            value
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{value}` is not a port (1-65535); {help}"))
        };
        let icmp = |six: bool| {
            value
                .parse::<u8>()
                .ok()
                .or_else(|| ICMP_NAMES.iter().find(|(n, ..)| *n == value).map(|(_, a, b)| if six { *b } else { *a }))
                .map(|ty| Proto::Icmp { v6: six, ty })
                .ok_or_else(|| format!("`{value}` is not an ICMP type; {help}"))
        };
        return match kind {
            "tcp" => Ok(Proto::Tcp(port()?)),
            "udp" => Ok(Proto::Udp(port()?)),
            "icmp" if !v6 => icmp(false),
            "icmpv6" if v6 => icmp(true),
            "icmp" | "icmpv6" => Err(format!("`{kind}` does not fit the addresses' family")),
            "proto" => {
                value.parse::<u8>().map(Proto::Other).map_err(|_| format!("`{value}` is not a protocol number; {help}"))
            }
            _ => Err(format!("unknown protocol `{kind}`; {help}")),
        };
    }
    let service = model
        .services
        .iter()
        .find(|s| s.name == spec)
        .ok_or_else(|| format!("no service is named `{spec}`; {help}"))?;
    service
        .matches
        .iter()
        .find_map(|m| match *m {
            Match::Tcp { lo, .. } => Some(Proto::Tcp(lo)),
            Match::Udp { lo, .. } => Some(Proto::Udp(lo)),
            Match::Icmp(t) if !v6 => Some(Proto::Icmp { v6: false, ty: t.unwrap_or(8) }),
            Match::Icmpv6(t) if v6 => Some(Proto::Icmp { v6: true, ty: t.unwrap_or(128) }),
            Match::Proto(p) => Some(Proto::Other(p)),
            Match::Any => Some(Proto::Tcp(443)),
            Match::Icmp(_) | Match::Icmpv6(_) => None,
        })
        .ok_or_else(|| format!("service `{spec}` has nothing for this address family"))
}

fn svc_matches(svc: Svc, p: Proto) -> bool {
    match (svc, p) {
        (Svc::Any, _) => true,
        (Svc::Ports { proto: 6, lo, hi }, Proto::Tcp(port)) | (Svc::Ports { proto: 17, lo, hi }, Proto::Udp(port)) => {
            (lo..=hi).contains(&port)
        }
        (Svc::IcmpType { v6, ty }, Proto::Icmp { v6: pv6, ty: pty }) => v6 == pv6 && ty == pty,
        (Svc::Proto(n), Proto::Tcp(_)) => n == 6,
        (Svc::Proto(n), Proto::Udp(_)) => n == 17,
        (Svc::Proto(n), Proto::Icmp { v6, .. }) => n == if v6 { 58 } else { 1 },
        (Svc::Proto(n), Proto::Other(m)) => n == m,
        _ => false,
    }
}

fn match_covers(m: Match, p: Proto) -> bool {
    match (m, p) {
        (Match::Any, _) => true,
        (Match::Tcp { lo, hi }, Proto::Tcp(port)) | (Match::Udp { lo, hi }, Proto::Udp(port)) => {
            (lo..=hi).contains(&port)
        }
        (Match::Icmp(t), Proto::Icmp { v6: false, ty }) | (Match::Icmpv6(t), Proto::Icmp { v6: true, ty }) => {
            t.is_none_or(|t| t == ty)
        }
        (Match::Proto(n), Proto::Tcp(_)) => n == 6,
        (Match::Proto(n), Proto::Udp(_)) => n == 17,
        (Match::Proto(n), Proto::Icmp { v6, .. }) => n == if v6 { 58 } else { 1 },
        (Match::Proto(n), Proto::Other(m)) => n == m,
        _ => false,
    }
}

/// The node an address belongs to: the longest prefix over system addresses and zone nets
/// (a system wins a tie), or `None` when no zone claims it.
pub(crate) fn node_of(model: &Model, a: IpAddr) -> Option<Node> {
    let mut best: Option<(u8, bool, Node)> = None;
    for (i, s) in model.systems.iter().enumerate() {
        for net in s.addresses.iter().filter(|n| n.contains(&a)) {
            let cand = (net.prefix_len(), true, Node::System(crate::model::SystemId::from_index(i)));
            if best.is_none_or(|b| (cand.0, cand.1) > (b.0, b.1)) {
                best = Some(cand);
            }
        }
    }
    for (i, z) in model.zones.iter().enumerate() {
        for net in z.nets.iter().filter(|n| n.contains(&a)) {
            let cand = (net.prefix_len(), false, Node::ZoneRest(crate::model::ZoneId::from_index(i)));
            if best.is_none_or(|b| (cand.0, cand.1) > (b.0, b.1)) {
                best = Some(cand);
            }
        }
    }
    best.map(|b| b.2)
}

/// One enforcement point that permits the packet by the lowering.
#[derive(Clone, Debug)]
pub(crate) struct Carrier {
    pub device: String,
    pub kind: &'static str,
    /// `forward eth1 -> eth2`, `input`, `output`.
    pub way: String,
    pub flows: Vec<FlowId>,
    /// The interfaces by the policy's names (forward only; the uplink is `(uplink)`).
    pub iif: Option<String>,
    pub oif: Option<String>,
    /// The packet on this path, interfaces not yet numbered.
    pub packet: Packet,
}

/// A device file the packet was traced through.
#[derive(Clone, Debug)]
pub(crate) struct Traced {
    pub device: String,
    pub file: String,
    pub accepted: bool,
    /// The deciding rules, one per base chain passed (`None`: the chain's policy).
    pub rules: Vec<(String, Option<crate::check::ruleset::Origin>)>,
    pub problems: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct PacketExplanation {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Proto,
    pub from: Option<Node>,
    pub to: Option<Node>,
    /// Flows whose FROM side holds the source and TO side the destination, whose services
    /// cover the packet; and flows only the compiled rules name (a SaaS reached through its
    /// zone).
    pub flows: Vec<FlowId>,
    /// Per flow: classes that travel forward (source to destination) and back.
    pub classes: Vec<(FlowId, Vec<ClassId>, Vec<ClassId>)>,
    pub carriers: Vec<Carrier>,
    pub traced: Vec<Traced>,
}

impl PacketExplanation {
    pub(crate) fn permitted(&self) -> bool {
        !self.flows.is_empty()
    }
}

fn kind_of(model: &Model, r: &DeviceRules) -> &'static str {
    match (r.enforcer, r.target) {
        (crate::model::Enforcer::Device(d), _) => match model.devices.get(d.index()).map(|d| d.kind) {
            Some(crate::model::DeviceKind::Firewall) => "firewall",
            _ => "switch",
        },
        (_, HostOrDevice::WindowsHost) => "windows host",
        _ => "linux host",
    }
}

/// The packet through the policy and the lowered rules of every enforcement point.
pub(crate) fn explain(model: &Model, verdict: &Verdict, src: IpAddr, dst: IpAddr, proto: Proto) -> PacketExplanation {
    let from = node_of(model, src);
    let to = node_of(model, dst);
    let mut flows: BTreeSet<FlowId> = BTreeSet::new();
    if let (Some(a), Some(b)) = (from, to) {
        for (i, f) in model.flows.iter().enumerate() {
            let covers = f.services.iter().any(|s| model.service(*s).matches.iter().any(|m| match_covers(*m, proto)));
            if covers && f.from.nodes.contains(&a) && f.to.nodes.contains(&b) {
                flows.insert(FlowId::from_index(i));
            }
        }
    }
    let v6 = src.is_ipv6();
    let (proto_no, sport, dport) = match proto {
        Proto::Tcp(p) => (6, 49152, p),
        Proto::Udp(p) => (17, 49152, p),
        Proto::Icmp { v6, ty } => (if v6 { 58 } else { 1 }, 0, u16::from(ty)),
        Proto::Other(n) => (n, 0, 0),
    };
    let mut carriers = Vec::new();
    for rules in crate::lower::lower(model) {
        for chain in &rules.chains {
            let hits: BTreeSet<FlowId> = chain
                .permits
                .iter()
                .filter(|p| p.src.contains(&src) && p.dst.contains(&dst) && svc_matches(p.svc, proto))
                .flat_map(|p| p.flows.iter().copied())
                .collect();
            if hits.is_empty() {
                continue;
            }
            let (path, way, iif, oif) = match &chain.kind {
                ChainKind::Forward { iif, oif, .. } => {
                    let shown = if oif == UPLINK { "the uplink".to_string() } else { oif.clone() };
                    (Path::Forward, format!("forward {iif} -> {shown}"), iif.clone(), oif.clone())
                }
                ChainKind::Input => (Path::Input, "input".to_string(), String::new(), String::new()),
                ChainKind::Output => (Path::Output, "output".to_string(), String::new(), String::new()),
                // Errors quoting a connection, not connections: a packet names none.
                ChainKind::Related { .. } | ChainKind::RelatedOutput => continue,
            };
            flows.extend(hits.iter().copied());
            let packet = Packet {
                path,
                iif: 0,
                oif: 0,
                v6,
                src: addr_value(src),
                dst: addr_value(dst),
                proto: proto_no,
                sport,
                dport,
                ack: false,
                ct: crate::check::space::Ct::New,
                hops: 64,
            };
            carriers.push(Carrier {
                device: rules.name.clone(),
                kind: kind_of(model, &rules),
                way,
                flows: hits.into_iter().collect(),
                iif: (!iif.is_empty()).then_some(iif),
                oif: (!oif.is_empty()).then_some(oif),
                packet,
            });
        }
    }
    let m = masks(model);
    let classes_at = |n: Option<Node>| -> Vec<ClassId> { n.map(|n| verdict.classes_at(model, n)).unwrap_or_default() };
    let (at_src, at_dst) = (classes_at(from), classes_at(to));
    let classes = flows
        .iter()
        .map(|f| {
            let keep = |cs: &[ClassId]| cs.iter().copied().filter(|c| m.get(f.index(), *c)).collect::<Vec<_>>();
            (*f, keep(&at_src), keep(&at_dst))
        })
        .collect();
    PacketExplanation {
        src,
        dst,
        proto,
        from,
        to,
        flows: flows.into_iter().collect(),
        classes,
        carriers,
        traced: Vec::new(),
    }
}

/// Trace the packet through one device's file (the carrier's view of it).
pub(crate) fn trace(carrier: &Carrier, format: crate::check::Format, file: &str, text: &str) -> Traced {
    let mut ifaces = Ifaces::new();
    let ruleset = crate::check::read(format, text, &mut ifaces);
    let mut p = carrier.packet;
    // A host's packet comes in or goes out on an interface its rules do not name (not
    // loopback); a device's on the interfaces of its chain.
    p.iif = match (&carrier.iif, p.path) {
        (Some(i), _) => ifaces.id(i),
        (None, Path::Input) => ifaces.id("zc-explain0"),
        _ => 0,
    };
    p.oif = match (&carrier.oif, p.path) {
        (Some(o), _) => ifaces.id(o),
        (None, Path::Output) => ifaces.id("zc-explain0"),
        _ => 0,
    };
    let (accepted, deciders) = ruleset.trace(&p);
    let rules = deciders
        .into_iter()
        .map(|(base, rule)| {
            // The chain of the deciding rule (a jump target), else the base chain.
            let chain = rule.map_or(base, |r| r.chain);
            let name = ruleset.chains.get(chain).map_or_else(String::new, |c| c.name.clone());
            (name, rule.map(|r| ruleset.rule(r).origin.clone()))
        })
        .collect();
    Traced { device: carrier.device.clone(), file: file.to_string(), accepted, rules, problems: ruleset.problems.len() }
}

fn proto_text(p: Proto) -> String {
    match p {
        Proto::Tcp(port) => format!("tcp/{port}"),
        Proto::Udp(port) => format!("udp/{port}"),
        Proto::Icmp { v6: false, ty } => format!("icmp type {ty}"),
        Proto::Icmp { v6: true, ty } => format!("icmpv6 type {ty}"),
        Proto::Other(n) => format!("proto {n}"),
    }
}

fn node_text(model: &Model, n: Option<Node>) -> String {
    match n {
        Some(Node::System(s)) => {
            format!("system {} in zone {}", model.system(s).name, model.zone(model.system(s).zone).name)
        }
        Some(Node::ZoneRest(z)) => format!("zone {} (an address no system declares)", model.zone(z).name),
        None => "no zone".to_string(),
    }
}

fn flow_ref(model: &Model, f: FlowId) -> String {
    let flow = model.flow(f);
    let name = model.sources.name(flow.header_span.file);
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    format!(
        "`{}` \"{}\" ({base}:{})",
        model.flow_title(f),
        flow.description,
        model.sources.line_col(flow.header_span).0
    )
}

fn class_list(model: &Model, cs: &[ClassId]) -> String {
    if cs.is_empty() {
        "nothing".to_string()
    } else {
        cs.iter()
            .map(|c| {
                let class = model.class(*c);
                if class.confined() { format!("{} (confined)", class.name) } else { class.name.clone() }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The explanation as text.
pub(crate) fn render(model: &Model, e: &PacketExplanation) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "explain {} {} -> {}", proto_text(e.proto), e.src, e.dst);
    let _ = writeln!(o, "  from {}", node_text(model, e.from));
    let _ = writeln!(o, "  to   {}", node_text(model, e.to));
    if e.flows.is_empty() {
        let _ = writeln!(o, "\nnot permitted: no flow allows it, so every enforcement point on the way drops it");
    } else {
        let _ = writeln!(o, "\npermitted by");
        for (f, fwd, back) in &e.classes {
            let _ = writeln!(o, "  flow {}", flow_ref(model, *f));
            let _ = writeln!(o, "    classes towards {}: {}", e.dst, class_list(model, fwd));
            let _ = writeln!(o, "    classes back to {}: {}", e.src, class_list(model, back));
        }
    }
    let _ = writeln!(o, "\ncarried by");
    if e.carriers.is_empty() {
        let _ = writeln!(o, "  no enforcement point has a rule for it");
    }
    for c in &e.carriers {
        let flows: Vec<String> = c.flows.iter().map(|f| format!("`{}`", model.flow_title(*f))).collect();
        let _ = writeln!(o, "  {} {}: {} (rule for {})", c.kind, c.device, c.way, flows.join(", "));
        for t in e.traced.iter().filter(|t| t.device == c.device && !t.file.is_empty()) {
            let verdict = if t.accepted { "accepts" } else { "DROPS" };
            let _ = writeln!(o, "    {}: {verdict}", t.file);
            for (chain, rule) in &t.rules {
                match rule {
                    Some(r) => {
                        let line = if r.line > 0 { format!("line {}: ", r.line) } else { String::new() };
                        let _ = writeln!(o, "      chain {chain}: {line}{}", r.text);
                    }
                    None => {
                        let _ = writeln!(o, "      chain {chain}: the chain's policy");
                    }
                }
            }
            if t.problems > 0 {
                let _ = writeln!(
                    o,
                    "      ({} construct(s) the reader could not model; see `zonecheck check`)",
                    t.problems
                );
            }
        }
    }
    o
}
