//! The intended space of a device: what the lowering says it must permit, as packets.
//!
//! This is computed from [`DeviceRules`] alone, not from any target's rendering, so a
//! renderer's mistake shows up as a difference. Stateless targets (switch ACLs) see both
//! directions: the forward packets of each permit and its exact answers (TCP from the
//! service port with ACK or RST, UDP from the service port to the client's ephemeral
//! range, ICMP echo and timestamp replies), as `targets::acl` promises. Each target also
//! permits a fixed baseline that is not a policy flow: loopback on Linux hosts and IPv6
//! neighbour discovery.

use crate::lower::{AclOptions, ChainKind, DeviceRules, Enforcer, HostOrDevice, Permit, Svc};
use crate::model::{FlowId, Model, Target};

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

/// Neighbour and router discovery a host accepts (RS, RA, NS, NA).
const HOST_ND_TYPES: [u8; 4] = [133, 134, 135, 136];

/// The neighbour discovery a switch's SVI passes: neighbour solicitation and advertisement,
/// router solicitation (hosts send no router advertisements).
const SWITCH_ND_TYPES: [u8; 3] = [133, 135, 136];

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
    pub fn why(&self, p: &super::space::Packet) -> Option<&Why> {
        self.permits.iter().find(|(c, _)| c.contains(p)).map(|(_, w)| w)
    }
}

/// The packets of a permit in its own direction, narrowed to `base`.
fn forward(base: &Cube, p: &Permit) -> Option<Cube> {
    let c = base
        .clone()
        .with_value(Dim::Family, u128::from(p.src.addr().is_ipv6()))?
        .with(Dim::Src, &Field::prefix(&p.src))?
        .with(Dim::Dst, &Field::prefix(&p.dst))?;
    match p.svc {
        Svc::Ports { proto, lo, hi } => {
            c.with_value(Dim::Proto, u128::from(proto))?.with_range(Dim::Dport, u128::from(lo), u128::from(hi))
        }
        Svc::IcmpType { v6, ty } => {
            c.with_value(Dim::Proto, if v6 { 58 } else { 1 })?.with_value(Dim::Dport, u128::from(ty))
        }
        Svc::Proto(n) => c.with_value(Dim::Proto, u128::from(n)),
        Svc::Any => Some(c),
    }
}

/// ICMP errors related to a connection between the addresses of an address-pair permit.
fn related_error(path: Path, narrow: &[(Dim, u128)], p: &Permit) -> Option<Cube> {
    let v6 = p.src.addr().is_ipv6();
    let mut c = on_path(v6, path, Ct::Related)
        .with(Dim::Src, &Field::prefix(&p.src))?
        .with(Dim::Dst, &Field::prefix(&p.dst))?
        .with_value(Dim::Proto, if v6 { 58 } else { 1 })?;
    for (d, v) in narrow {
        c = c.with_value(*d, *v)?;
    }
    Some(c)
}

/// The answers to a permit through a stateless filter, narrowed to `base`.
fn answers(base: &Cube, p: &Permit, options: &AclOptions) -> Option<Cube> {
    let c = base
        .clone()
        .with_value(Dim::Family, u128::from(p.src.addr().is_ipv6()))?
        .with(Dim::Src, &Field::prefix(&p.dst))?
        .with(Dim::Dst, &Field::prefix(&p.src))?;
    match p.svc {
        Svc::Ports { proto: 6, lo, hi } => c
            .with_value(Dim::Proto, 6)?
            .with_range(Dim::Sport, u128::from(lo), u128::from(hi))?
            .with_value(Dim::Flags, 1),
        Svc::Ports { proto, lo, hi } => {
            let (elo, ehi) = options.ephemeral;
            c.with_value(Dim::Proto, u128::from(proto))?
                .with_range(Dim::Sport, u128::from(lo), u128::from(hi))?
                .with_range(Dim::Dport, u128::from(elo.min(ehi)), u128::from(elo.max(ehi)))
        }
        Svc::IcmpType { v6, ty } => {
            c.with_value(Dim::Proto, if v6 { 58 } else { 1 })?.with_value(Dim::Dport, u128::from(icmp_reply(v6, ty)?))
        }
        Svc::Proto(n) => c.with_value(Dim::Proto, u128::from(n)),
        Svc::Any => Some(c),
    }
}

/// Every packet of a family on a path in one connection-tracking state.
fn on_path(v6: bool, path: Path, ct: Ct) -> Cube {
    let c = Cube::on_path(v6, path);
    c.clone().with_value(Dim::Ct, ct as u128).unwrap_or(c)
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

/// A permit's cube, of either family: `forward` needs a base holding both.
fn permit_cubes(path: Path, narrow: &[(Dim, u128)], p: &Permit, reverse: Option<&AclOptions>) -> Option<Cube> {
    let v6 = p.src.addr().is_ipv6();
    let mut base = on_path(v6, path, Ct::New);
    for (d, v) in narrow {
        base = base.with_value(*d, *v)?;
    }
    match reverse {
        Some(options) => answers(&base, p, options),
        None => forward(&base, p),
    }
}

/// The intended space of one device or host.
pub fn intended(model: &Model, rules: &DeviceRules, ifaces: &mut Ifaces, acl: &AclOptions) -> Intended {
    let mut out = Intended::default();
    match rules.target {
        HostOrDevice::Device(Target::Nftables) => {
            // New connections, and ICMP errors conntrack relates to one (which any host can
            // forge): both are decided by the ruleset packet by packet.
            out.scope = both(Path::Forward, None);
            out.scope.extend([false, true].map(|v6| on_path(v6, Path::Forward, Ct::Related)));
            for chain in &rules.chains {
                let (iif, oif, related) = match &chain.kind {
                    ChainKind::Forward { iif, oif, .. } => (iif, oif, false),
                    ChainKind::Related { iif, oif } => (iif, oif, true),
                    _ => continue,
                };
                let narrow = [(Dim::Iif, u128::from(ifaces.id(iif))), (Dim::Oif, u128::from(ifaces.id(oif)))];
                for p in &chain.permits {
                    let cube = if related {
                        related_error(Path::Forward, &narrow, p).map(|c| (c, Why::Related(p.flows.clone())))
                    } else {
                        permit_cubes(Path::Forward, &narrow, p, None).map(|c| (c, Why::Flows(p.flows.clone())))
                    };
                    out.permits.extend(cube);
                }
            }
            // The firewall itself (DESIGN.md §4a): what reaches it and what it sends.
            own_traffic(&mut out, rules, ifaces, true, true);
        }
        HostOrDevice::Device(_) => {
            // One inbound ACL per SVI: forward entries of the flows entering there, answers
            // to the flows leaving there, neighbour discovery.
            let Enforcer::Device(id) = rules.enforcer else { return out };
            let device = model.device(id);
            let link = ["fe80::/10", "ff02::/16"].map(|p| p.parse::<ipnet::IpNet>().expect("prefix"));
            for iface in &device.interfaces {
                let id = ifaces.id(&iface.name);
                out.scope.extend(both(Path::Forward, Some((Dim::Iif, Field::point(u128::from(id))))));
                let narrow = [(Dim::Iif, u128::from(id))];
                for chain in &rules.chains {
                    let ChainKind::Forward { iif, oif, .. } = &chain.kind else { continue };
                    for p in &chain.permits {
                        if *iif == iface.name
                            && let Some(c) = permit_cubes(Path::Forward, &narrow, p, None)
                        {
                            out.permits.push((c, Why::Flows(p.flows.clone())));
                        }
                        if *oif == iface.name
                            && let Some(c) = permit_cubes(Path::Forward, &narrow, p, Some(acl))
                        {
                            out.permits.push((c, Why::Answers(p.flows.clone())));
                        }
                    }
                }
                // Neighbour discovery stays on the link: towards link-local addresses and
                // the segment's own space only, and (where the vendor can match it) at hop
                // limit 255. IOS-XE's IPv6 ACLs cannot match the hop limit.
                let Some(nd) = icmpv6_types(Path::Forward, &SWITCH_ND_TYPES, Some(id)) else { continue };
                let nd = if device.target == Target::CiscoIos { Some(nd) } else { nd.with_value(Dim::Hops, 255) };
                let space = rules.sources.iter().find(|(n, _)| *n == iface.name).map_or(&[][..], |(_, s)| &s[..]);
                for dst in link.iter().chain(space.iter().filter(|n| matches!(n, ipnet::IpNet::V6(_)))) {
                    out.permits.extend(
                        nd.as_ref()
                            .and_then(|c| c.clone().with(Dim::Dst, &Field::prefix(dst)))
                            .map(|c| (c, Why::Baseline("IPv6 neighbour discovery (NS, NA, RS) on the link"))),
                    );
                }
            }
            if device.node.is_some() {
                terminal_access(&mut out, rules, device.target);
            }
        }
        HostOrDevice::LinuxHost | HostOrDevice::WindowsHost => {
            let linux = rules.target == HostOrDevice::LinuxHost;
            let v6_host = match rules.enforcer {
                Enforcer::Host(id) => model.system(id).addresses.iter().any(|a| matches!(a, ipnet::IpNet::V6(_))),
                Enforcer::Device(_) => false,
            };
            own_traffic(&mut out, rules, ifaces, linux || v6_host, linux);
        }
    }
    // Kept for the whole check: no slack from growing.
    out.permits.shrink_to_fit();
    out
}

/// SSH and telnet: the switch's own management plane that its management ACL guards.
const TERMINAL_PORTS: (u16, u16) = (22, 23);

/// A switch's terminal access (DESIGN.md §4a, devices guard themselves): new TCP
/// connections to SSH or telnet on the switch itself, of which exactly the flows to it
/// pass. IOS-XE may match only the source of a terminal session (CSCuw89081), and every
/// packet a vty line sees is to the switch, so there a flow's destination is any address.
fn terminal_access(out: &mut Intended, rules: &DeviceRules, target: Target) {
    let (lo, hi) = TERMINAL_PORTS;
    let terminal =
        |c: Cube| c.with_value(Dim::Proto, 6).and_then(|c| c.with_range(Dim::Dport, u128::from(lo), u128::from(hi)));
    out.scope.extend([false, true].into_iter().filter_map(|v6| terminal(on_path(v6, Path::Input, Ct::New))));
    for chain in rules.chains.iter().filter(|c| c.kind == ChainKind::Input) {
        for p in &chain.permits {
            let mut p = p.clone();
            if target == Target::CiscoIos {
                p.dst = if p.dst.addr().is_ipv6() { "::/0" } else { "0.0.0.0/0" }.parse().expect("prefix");
            }
            out.permits.extend(
                permit_cubes(Path::Input, &[], &p, None).and_then(terminal).map(|c| (c, Why::Flows(p.flows.clone()))),
            );
        }
    }
}

/// The packets to and from a host (or a firewall itself): its input and output chains, its
/// related ICMP errors, and the baseline every such ruleset has (loopback on Linux, IPv6
/// neighbour discovery where `nd`). `linux`: an nftables ruleset (loopback, ND only with
/// hop limit 255).
fn own_traffic(out: &mut Intended, rules: &DeviceRules, ifaces: &mut Ifaces, nd: bool, linux: bool) {
    for chain in &rules.chains {
        let path = match chain.kind {
            ChainKind::Input => Path::Input,
            ChainKind::Output => Path::Output,
            ChainKind::RelatedOutput => {
                // ICMP errors the host sends, decided packet by packet: towards the
                // peers of its flows, and on loopback.
                let lo = Field::point(u128::from(ifaces.id("lo")));
                for v6 in [false, true] {
                    let related = on_path(v6, Path::Output, Ct::Related);
                    out.scope.push(related.clone());
                    out.permits.extend(related.with(Dim::Oif, &lo).map(|c| (c, Why::Baseline("loopback (oif lo)"))));
                }
                for p in &chain.permits {
                    out.permits.extend(related_error(Path::Output, &[], p).map(|c| (c, Why::Related(p.flows.clone()))));
                }
                continue;
            }
            ChainKind::Forward { .. } | ChainKind::Related { .. } => continue,
        };
        out.scope.extend(both(path, None));
        for p in &chain.permits {
            out.permits.extend(permit_cubes(path, &[], p, None).map(|c| (c, Why::Flows(p.flows.clone()))));
        }
        if linux {
            let (dim, label) = match path {
                Path::Output => (Dim::Oif, "loopback (oif lo)"),
                _ => (Dim::Iif, "loopback (iif lo)"),
            };
            let lo = Field::point(u128::from(ifaces.id("lo")));
            out.permits.extend(both(path, Some((dim, lo))).into_iter().map(|c| (c, Why::Baseline(label))));
        }
        if nd {
            // On Linux only from on-link (hop limit 255): the ruleset says so. Windows
            // rules cannot, and its stack drops other ND itself (RFC 4861).
            let nd = icmpv6_types(path, &HOST_ND_TYPES, None)
                .and_then(|c| if linux { c.with_value(Dim::Hops, 255) } else { Some(c) });
            out.permits.extend(nd.map(|c| (c, Why::Baseline("IPv6 neighbour and router discovery (types 133-136)"))));
        }
    }
}
