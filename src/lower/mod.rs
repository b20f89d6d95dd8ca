//! Lowering: the model to a per-device rule model, independent of any target syntax.
//!
//! Each enforcement point gets exactly its part (DESIGN.md §5): a firewall the flows
//! between zones on its different interfaces, grouped by interface pair; a Linux or Windows
//! host the flows to it (and, in a closed zone, from it). Endpoints become address
//! prefixes (zones by exact longest-prefix match), services become protocol/port atoms,
//! and permits with the same addresses and protocol have their port ranges merged, so the
//! result is a set of non-overlapping, deduplicated permits, each naming its flows.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use rayon::prelude::*;

pub(crate) mod addr;

use crate::model::{
    DeviceId, DeviceKind, Enforcer, FlowId, HostOrDevice, Match, Model, Node, Platform, SystemId, Trust, ZoneId,
};
use addr::{aggregate, ref_space, zone_spaces};

/// The interface name of a switch's routed uplink: everything not behind one of its SVIs.
/// It is not a valid interface name, so no target mistakes it for a declared one.
pub(crate) const UPLINK: &str = "(uplink)";

/// The terminal ports (SSH, telnet): the part of a switch's own management plane that its
/// management ACL guards (DESIGN.md §4a), since every vendor can bind an ACL to it.
pub(crate) const TERMINAL_PORTS: (u16, u16) = (22, 23);

/// Whether a permit's service can carry terminal access ([`TERMINAL_PORTS`]).
pub(crate) fn carries_terminal(svc: Svc) -> bool {
    let (lo, hi) = TERMINAL_PORTS;
    match svc {
        Svc::Ports { proto: 6, lo: a, hi: b } => a <= hi && b >= lo,
        Svc::Proto(6) | Svc::Any => true,
        Svc::Ports { .. } | Svc::IcmpType { .. } | Svc::Proto(_) => false,
    }
}

/// What a permit matches above the addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Svc {
    /// TCP (6) or UDP (17) with a destination port range.
    Ports { proto: u8, lo: u16, hi: u16 },
    /// ICMP (v4) or ICMPv6 of one type.
    IcmpType { v6: bool, ty: u8 },
    /// Every packet of one IP protocol.
    Proto(u8),
    /// Every packet.
    Any,
}

/// One permitted (source, destination, service), with the flows that ask for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permit {
    pub src: IpNet,
    pub dst: IpNet,
    pub svc: Svc,
    pub flows: Vec<FlowId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainKind {
    /// Forwarded from interface `iif` to `oif`.
    Forward { iif: String, oif: String, from_zones: Vec<ZoneId>, to_zones: Vec<ZoneId> },
    /// ICMP errors that connection tracking relates to a connection, forwarded from `iif`
    /// to `oif` (stateful firewalls). Conntrack relates an error to whichever connection it
    /// quotes, and any host can quote any connection, so an error passes only between an
    /// address pair of a permit of this interface pair or, reversed, of the opposite one:
    /// its permits are address pairs ([`Svc::Any`]) with the flows they come from.
    Related { iif: String, oif: String },
    /// To the host.
    Input,
    /// From the host (closed-zone hosts only).
    Output,
    /// ICMP errors a closed-zone Linux host sends that conntrack relates to a connection.
    /// A process can quote any connection in one and address it anywhere, so it leaves only
    /// towards a peer of the host's flows: the address pairs (host, peer) of its output
    /// permits and, reversed, of its input permits ([`Svc::Any`]). Errors *to* the host stay
    /// accepted: path MTU discovery needs those from routers on the way. (Windows relates
    /// and passes ICMP errors itself; its firewall has no rule for them.)
    RelatedOutput,
}

#[derive(Clone, Debug)]
pub struct Chain {
    pub kind: ChainKind,
    pub permits: Vec<Permit>,
}

/// The rules one enforcement point must implement.
#[derive(Clone, Debug)]
pub struct DeviceRules {
    pub enforcer: Enforcer,
    pub name: String,
    /// Which kind of enforcement point, and for devices their target.
    pub target: HostOrDevice,
    pub chains: Vec<Chain>,
    /// Outbound traffic is filtered too (closed-zone hosts).
    pub filter_output: bool,
    /// Each interface of a device with the address space behind it (empty for hosts). A
    /// firewall drops a forwarded packet whose source lies outside its input interface's
    /// space before anything else (anti-spoofing), so no inside host can speak for another
    /// zone; a switch accepts neighbour discovery on an SVI only towards link-local
    /// addresses and this space, so that ND never leaves the segment.
    pub sources: Vec<(String, Vec<IpNet>)>,
}

fn svcs(m: Match, v6: bool) -> Option<Svc> {
    Some(match m {
        Match::Tcp { lo, hi } => Svc::Ports { proto: 6, lo, hi },
        Match::Udp { lo, hi } => Svc::Ports { proto: 17, lo, hi },
        Match::Icmp(Some(ty)) if !v6 => Svc::IcmpType { v6: false, ty },
        Match::Icmp(None) if !v6 => Svc::Proto(1),
        Match::Icmpv6(Some(ty)) if v6 => Svc::IcmpType { v6: true, ty },
        Match::Icmpv6(None) if v6 => Svc::Proto(58),
        Match::Icmp(_) | Match::Icmpv6(_) => return None,
        Match::Proto(p) => Svc::Proto(p),
        Match::Any => Svc::Any,
    })
}

/// Port ranges asked for one (source, destination, protocol), with the flow asking.
type PortRanges = Vec<(u16, u16, FlowId)>;
/// A flow side as (zone, prefix) pairs.
type Side = BTreeSet<(ZoneId, IpNet)>;
/// One interface pair's permits with the zones behind each end.
type PairRules = (Permits, BTreeSet<ZoneId>, BTreeSet<ZoneId>);

/// Collects permits and merges port ranges per (src, dst, protocol).
#[derive(Default)]
struct Permits {
    /// Exact permits: (src, dst, svc) → flows.
    exact: BTreeMap<(IpNet, IpNet, Svc), BTreeSet<FlowId>>,
    /// Port ranges: (src, dst, proto) → [(lo, hi, flow)].
    ports: BTreeMap<(IpNet, IpNet, u8), PortRanges>,
}

impl Permits {
    fn add(&mut self, src: IpNet, dst: IpNet, m: Match, flow: FlowId) {
        let v6 = matches!(src, IpNet::V6(_));
        if v6 != matches!(dst, IpNet::V6(_)) {
            return;
        }
        match svcs(m, v6) {
            Some(Svc::Ports { proto, lo, hi }) => self.ports.entry((src, dst, proto)).or_default().push((lo, hi, flow)),
            Some(svc) => {
                self.exact.entry((src, dst, svc)).or_default().insert(flow);
            }
            None => {}
        }
    }

    /// Every (source, destination) asked for, with the flows asking.
    fn pairs(&self) -> BTreeMap<(IpNet, IpNet), BTreeSet<FlowId>> {
        let mut out: BTreeMap<(IpNet, IpNet), BTreeSet<FlowId>> = BTreeMap::new();
        for ((s, d, _), flows) in &self.exact {
            out.entry((*s, *d)).or_default().extend(flows.iter().copied());
        }
        for ((s, d, _), ranges) in &self.ports {
            out.entry((*s, *d)).or_default().extend(ranges.iter().map(|r| r.2));
        }
        out
    }

    /// Address pairs as [`Svc::Any`] permits (what related ICMP may pass between), each
    /// reversed when `reversed` (the opposite direction's pairs, seen from this one).
    fn add_pairs(&mut self, pairs: &BTreeMap<(IpNet, IpNet), BTreeSet<FlowId>>, reversed: bool) {
        for (&(a, b), flows) in pairs {
            let (src, dst) = if reversed { (b, a) } else { (a, b) };
            flows.iter().for_each(|f| self.add(src, dst, Match::Any, *f));
        }
    }

    fn finish(self) -> Vec<Permit> {
        let mut out: Vec<Permit> = self
            .exact
            .into_iter()
            .map(|((src, dst, svc), flows)| Permit { src, dst, svc, flows: flows.into_iter().collect() })
            .collect();
        for ((src, dst, proto), mut ranges) in self.ports {
            ranges.sort();
            let mut cur: Option<(u16, u16, BTreeSet<FlowId>)> = None;
            for (lo, hi, f) in ranges {
                match &mut cur {
                    // Overlapping or adjacent ranges become one interval.
                    Some((_, chi, flows)) if u32::from(lo) <= u32::from(*chi) + 1 => {
                        *chi = (*chi).max(hi);
                        flows.insert(f);
                    }
                    _ => {
                        if let Some((l, h, flows)) = cur.take() {
                            out.push(Permit {
                                src,
                                dst,
                                svc: Svc::Ports { proto, lo: l, hi: h },
                                flows: flows.into_iter().collect(),
                            });
                        }
                        cur = Some((lo, hi, BTreeSet::from([f])));
                    }
                }
            }
            if let Some((l, h, flows)) = cur {
                out.push(Permit {
                    src,
                    dst,
                    svc: Svc::Ports { proto, lo: l, hi: h },
                    flows: flows.into_iter().collect(),
                });
            }
        }
        out.sort_by_key(|p| (p.src, p.dst, p.svc));
        out
    }
}

/// The service matches of a flow.
fn flow_matches(model: &Model, f: FlowId) -> Vec<Match> {
    let mut m: Vec<Match> =
        model.flow(f).services.iter().flat_map(|s| model.service(*s).matches.iter().copied()).collect();
    m.sort();
    m.dedup();
    m
}

/// Lower every enforcement point of the policy.
pub fn lower(model: &Model) -> Vec<DeviceRules> {
    let spaces = zone_spaces(model);
    // Each flow's sides as (zone, prefix), computed once.
    let sides: Vec<(Side, Side)> = model
        .flows
        .par_iter()
        .map(|f| {
            let mut from = BTreeSet::new();
            let mut to = BTreeSet::new();
            for r in &f.from.refs {
                ref_space(model, &spaces, *r, &mut from);
            }
            for r in &f.to.refs {
                ref_space(model, &spaces, *r, &mut to);
            }
            (from, to)
        })
        .collect();
    let matches: Vec<Vec<Match>> =
        (0..model.flows.len()).into_par_iter().map(|i| flow_matches(model, FlowId::from_index(i))).collect();
    // Which flows reach each system (and device node), and which leave it.
    let mut to_host: BTreeMap<SystemId, Vec<FlowId>> = BTreeMap::new();
    let mut from_host: BTreeMap<SystemId, Vec<FlowId>> = BTreeMap::new();
    for (fi, f) in model.flows.iter().enumerate() {
        for n in &f.to.nodes {
            if let Node::System(s) = n {
                to_host.entry(*s).or_default().push(FlowId::from_index(fi));
            }
        }
        for n in &f.from.nodes {
            if let Node::System(s) = n {
                from_host.entry(*s).or_default().push(FlowId::from_index(fi));
            }
        }
    }
    // The permits to a node's addresses (input) and from them (output).
    let own = |s: SystemId, with_output: bool| {
        let addresses = &model.system(s).addresses;
        let mut input = Permits::default();
        for f in to_host.get(&s).into_iter().flatten() {
            for (_, src) in &sides[f.index()].0 {
                for dst in addresses {
                    for m in &matches[f.index()] {
                        input.add(*src, *dst, *m, *f);
                    }
                }
            }
        }
        let mut output = Permits::default();
        for f in from_host.get(&s).into_iter().flatten().filter(|_| with_output) {
            for src in addresses {
                for (_, dst) in &sides[f.index()].1 {
                    for m in &matches[f.index()] {
                        output.add(*src, *dst, *m, *f);
                    }
                }
            }
        }
        (input, output)
    };
    // Devices and hosts are lowered independently (in parallel, gathered in model order).
    let devices = model.devices.par_iter().enumerate().map(|(di, device)| {
        let mut iface_of: BTreeMap<ZoneId, usize> = BTreeMap::new();
        for (k, i) in device.interfaces.iter().enumerate() {
            for z in &i.zones {
                iface_of.insert(*z, k);
            }
        }
        // A switch routes between its SVIs and sends everything else to its uplink; a
        // firewall only sees traffic between zones on its interfaces.
        let switch = device.kind == DeviceKind::Switch;
        let uplink = device.interfaces.len();
        let side_of = |z: &ZoneId| iface_of.get(z).copied().or(switch.then_some(uplink));
        // The flows with the device's own node at one end (management).
        let own_node = device.node.map(Node::System);
        let names_itself: Vec<bool> = model
            .flows
            .iter()
            .map(|f| own_node.is_some_and(|n| f.from.nodes.contains(&n) || f.to.nodes.contains(&n)))
            .collect();
        let mut pairs: BTreeMap<(usize, usize), PairRules> = BTreeMap::new();
        for (fi, (from, to)) in sides.iter().enumerate() {
            let f = FlowId::from_index(fi);
            for (za, src) in from {
                let Some(ia) = side_of(za) else { continue };
                for (zb, dst) in to {
                    let Some(ib) = side_of(zb) else { continue };
                    // Off-switch to off-switch never crosses the switch. Two zones behind one
                    // SVI are routed back out through it (a switch sees that, a firewall does
                    // not); within one zone traffic stays in its VLAN.
                    // Packets to or from the switch's own addresses meet the inbound ACL of the
                    // SVI they enter by even within one zone: they are routed by the switch.
                    let crosses = if switch {
                        (ia != uplink || ib != uplink) && (ia != ib || za != zb || names_itself[fi])
                    } else {
                        ia != ib
                    };
                    if !crosses {
                        continue;
                    }
                    let entry = pairs.entry((ia, ib)).or_default();
                    entry.1.insert(*za);
                    entry.2.insert(*zb);
                    for m in &matches[fi] {
                        entry.0.add(*src, *dst, *m, f);
                    }
                }
            }
        }
        let name_of = |k: usize| device.interfaces.get(k).map_or_else(|| UPLINK.to_string(), |i| i.name.clone());
        // Related ICMP (stateful firewalls): the address pairs of each direction's permits,
        // and the reversed pairs of the opposite direction's.
        let mut related: BTreeMap<(usize, usize), Permits> = BTreeMap::new();
        if !switch {
            for ((ia, ib), (permits, _, _)) in &pairs {
                let asked = permits.pairs();
                related.entry((*ia, *ib)).or_default().add_pairs(&asked, false);
                related.entry((*ib, *ia)).or_default().add_pairs(&asked, true);
            }
        }
        let related_chains: Vec<Chain> = related
            .into_iter()
            .map(|((ia, ib), permits)| Chain {
                kind: ChainKind::Related { iif: name_of(ia), oif: name_of(ib) },
                permits: permits.finish(),
            })
            .collect();
        let sources = device
            .interfaces
            .iter()
            .map(|i| {
                let space = aggregate(i.zones.iter().flat_map(|z| spaces[z.index()].iter().copied()));
                (i.name.clone(), space)
            })
            .collect();
        let mut chains: Vec<Chain> = pairs
            .into_iter()
            .map(|((ia, ib), (permits, fz, tz))| Chain {
                kind: ChainKind::Forward {
                    iif: name_of(ia),
                    oif: name_of(ib),
                    from_zones: fz.into_iter().collect(),
                    to_zones: tz.into_iter().collect(),
                },
                permits: permits.finish(),
            })
            .collect();
        chains.extend(related_chains);
        // A firewall guards itself like a closed-zone host (DESIGN.md §4a): to and from its
        // own addresses only the flows that name it; without an address, nothing. A switch
        // with an address guards its terminal access (SSH, telnet): the flows to it are its
        // input chain, of which each vendor's management ACL takes the terminal part.
        let guards_itself = !switch;
        if guards_itself {
            let (input, output) = device.node.map(|s| own(s, true)).unwrap_or_default();
            chains.push(Chain { kind: ChainKind::Input, permits: input.finish() });
            chains.push(Chain { kind: ChainKind::Output, permits: output.finish() });
        } else if let Some(s) = device.node {
            chains.push(Chain { kind: ChainKind::Input, permits: own(s, false).0.finish() });
        }
        DeviceRules {
            enforcer: Enforcer::Device(DeviceId::from_index(di)),
            name: device.name.clone(),
            target: HostOrDevice::Device(device.target),
            chains,
            filter_output: guards_itself,
            sources,
        }
    });
    let hosts = model.systems.par_iter().enumerate().filter_map(|(si, sys)| {
        let kind = match sys.platform {
            Some(Platform::Linux) => HostOrDevice::LinuxHost,
            Some(Platform::Windows) => HostOrDevice::WindowsHost,
            _ => return None,
        };
        let s = SystemId::from_index(si);
        let closed = model.zone(sys.zone).trust == Trust::Closed;
        let (input, output) = own(s, closed);
        let mut chains = Vec::new();
        let input_pairs = input.pairs();
        chains.push(Chain { kind: ChainKind::Input, permits: input.finish() });
        if closed {
            if kind == HostOrDevice::LinuxHost {
                let mut related = Permits::default();
                related.add_pairs(&output.pairs(), false);
                related.add_pairs(&input_pairs, true);
                chains.push(Chain { kind: ChainKind::RelatedOutput, permits: related.finish() });
            }
            chains.push(Chain { kind: ChainKind::Output, permits: output.finish() });
        }
        Some(DeviceRules {
            enforcer: Enforcer::Host(s),
            name: sys.name.clone(),
            target: kind,
            chains,
            filter_output: closed,
            sources: Vec::new(),
        })
    });
    // A core firewall is one job as large as all hosts together: both at once.
    let (mut out, hosts): (Vec<DeviceRules>, Vec<DeviceRules>) = rayon::join(|| devices.collect(), || hosts.collect());
    out.extend(hosts);
    out
}
