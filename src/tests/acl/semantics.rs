//! Semantics: random policies with switches, every ACL read back and traced packet by
//! packet against an oracle from the policy alone (the flows and their answers, no more).

use std::net::IpAddr;

use crate::check::space::{Dim, Field, addr_max, dim_max};
use crate::model::Target;
use crate::targets::acl::AclOptions;
use ipnet::IpNet;
use proptest::prelude::*;

use super::read_back::{Pkt, Read, to_u128};
use super::render_all;

// ---------------------------------------------------------------------------------------
// Semantics: random policies with switches against an oracle.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct GZone {
    len4: u8,
    len6: Option<u8>,
    iface: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GItem {
    Tcp(u16, u16),
    Udp(u16, u16),
    Icmp(Option<u8>),
    Icmp6(Option<u8>),
    Proto(u8),
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GRef {
    Zone(usize),
    Sys(usize),
}

#[derive(Clone, Debug)]
struct GFlow {
    from: Vec<GRef>,
    to: Vec<GRef>,
    svcs: Vec<usize>,
}

#[derive(Clone, Debug)]
struct GPolicy {
    target: Target,
    zones: Vec<GZone>,
    /// (zone, offset in the zone, has IPv6).
    systems: Vec<(usize, u8, bool)>,
    services: Vec<Vec<GItem>>,
    flows: Vec<GFlow>,
    eph: (u16, u16),
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![Just(1u16), Just(22), Just(53), Just(443), 1000u16..1006, Just(1023), Just(1024), Just(65535)]
}

fn item() -> impl Strategy<Value = GItem> {
    prop_oneof![
        4 => (port(), 0u16..4).prop_map(|(lo, n)| GItem::Tcp(lo, lo.saturating_add(n))),
        4 => (port(), 0u16..4).prop_map(|(lo, n)| GItem::Udp(lo, lo.saturating_add(n))),
        2 => prop::option::of(prop::sample::select(vec![0u8, 3, 8, 13])).prop_map(GItem::Icmp),
        2 => prop::option::of(prop::sample::select(vec![128u8, 129, 2])).prop_map(GItem::Icmp6),
        1 => prop::sample::select(vec![47u8, 50, 6, 17, 1, 58]).prop_map(GItem::Proto),
        1 => Just(GItem::Any),
    ]
}

fn gpolicy() -> impl Strategy<Value = GPolicy> {
    let target = prop::sample::select(vec![Target::CiscoIos, Target::AristaEos, Target::ArubaAoscx, Target::Junos]);
    let zone = (16u8..=32, prop::option::of(32u8..=128), prop::option::weighted(0.85, 0usize..4));
    let flow = (
        prop::collection::vec((any::<bool>(), 0usize..8), 1..=2),
        prop::collection::vec((any::<bool>(), 0usize..8), 1..=2),
        prop::collection::vec(0usize..3, 1..=2),
    );
    let eph = prop::sample::select(vec![(1024u16, 65535u16), (49152, 65535), (32768, 60999)]);
    (
        target,
        2usize..=4,
        prop::collection::vec(zone, 2..=5),
        prop::collection::vec((0usize..5, any::<bool>()), 0..=5),
        prop::collection::vec(prop::collection::vec(item(), 1..=3), 1..=3),
        prop::collection::vec(flow, 1..=4),
        eph,
    )
        .prop_map(|(target, n_if, zones, systems, services, flows, eph)| {
            let zones: Vec<GZone> = zones
                .into_iter()
                .map(|(len4, len6, iface)| GZone { len4, len6, iface: iface.map(|i| i % n_if) })
                .collect();
            let mut count = vec![0u8; zones.len()];
            let mut sys = Vec::new();
            for (z, v6) in systems {
                let z = z % zones.len();
                // Systems at offsets 1 and 2 need a zone of four addresses or more.
                if count[z] < 2 && zones[z].len4 <= 30 {
                    count[z] += 1;
                    sys.push((z, count[z], v6 && zones[z].len6.is_some_and(|l| l <= 126)));
                }
            }
            let nsvc = services.len();
            let r = |(s, i): (bool, usize)| {
                if s && !sys.is_empty() { GRef::Sys(i % sys.len()) } else { GRef::Zone(i % zones.len()) }
            };
            let flows = flows
                .into_iter()
                .map(|(from, to, svcs)| {
                    let mut from: Vec<GRef> = from.into_iter().map(r).collect();
                    let mut to: Vec<GRef> = to.into_iter().map(r).collect();
                    let mut svcs: Vec<usize> = svcs.into_iter().map(|s| s % nsvc).collect();
                    from.sort();
                    from.dedup();
                    to.sort();
                    to.dedup();
                    svcs.sort();
                    svcs.dedup();
                    GFlow { from, to, svcs }
                })
                .collect();
            GPolicy { target, zones, systems: sys, services, flows, eph }
        })
}

impl GPolicy {
    fn zone_nets(&self, z: usize) -> Vec<IpNet> {
        let g = &self.zones[z];
        let mut v = vec![format!("10.{z}.0.0/{}", g.len4).parse().expect("v4")];
        if let Some(l) = g.len6 {
            v.push(format!("fd00:{z}::/{l}").parse().expect("v6"));
        }
        v
    }

    fn sys_addrs(&self, s: usize) -> Vec<IpNet> {
        let (z, o, v6) = self.systems[s];
        let mut v = vec![format!("10.{z}.0.{o}/32").parse().expect("v4")];
        if v6 {
            v.push(format!("fd00:{z}::{o}/128").parse().expect("v6"));
        }
        v
    }

    fn side(&self, refs: &[GRef]) -> Vec<(usize, IpNet)> {
        refs.iter()
            .flat_map(|r| match *r {
                GRef::Zone(z) => self.zone_nets(z).into_iter().map(|n| (z, n)).collect::<Vec<_>>(),
                GRef::Sys(s) => self.sys_addrs(s).into_iter().map(|n| (self.systems[s].0, n)).collect(),
            })
            .collect()
    }

    fn iface_name(&self, k: usize) -> String {
        let n = 10 * (k + 1);
        match self.target {
            Target::ArubaAoscx => format!("vlan{n}"),
            Target::Junos => format!("irb.{n}"),
            _ => format!("Vlan{n}"),
        }
    }

    fn ifaces(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.zones.iter().filter_map(|z| z.iface).collect();
        v.sort();
        v.dedup();
        v
    }

    fn text(&self) -> String {
        let mut s = String::new();
        for (i, z) in self.zones.iter().enumerate() {
            let nets: Vec<String> = self.zone_nets(i).iter().map(|n| n.to_string()).collect();
            s.push_str(&format!("zone z{i} {{ trust internal; net {} }}\n", nets.join(", ")));
            let _ = z;
        }
        for (i, (z, _, _)) in self.systems.iter().enumerate() {
            let addrs: Vec<String> = self.sys_addrs(i).iter().map(|n| n.addr().to_string()).collect();
            s.push_str(&format!("system s{i} {{ zone z{z}; address {} }}\n", addrs.join(", ")));
        }
        for (i, items) in self.services.iter().enumerate() {
            let items: Vec<String> = items
                .iter()
                .map(|it| match *it {
                    GItem::Tcp(lo, hi) if lo == hi => format!("tcp/{lo}"),
                    GItem::Tcp(lo, hi) => format!("tcp/{lo}-{hi}"),
                    GItem::Udp(lo, hi) if lo == hi => format!("udp/{lo}"),
                    GItem::Udp(lo, hi) => format!("udp/{lo}-{hi}"),
                    GItem::Icmp(None) => "icmp".into(),
                    GItem::Icmp(Some(t)) => format!("icmp/{t}"),
                    GItem::Icmp6(None) => "icmpv6".into(),
                    GItem::Icmp6(Some(t)) => format!("icmpv6/{t}"),
                    GItem::Proto(p) => format!("proto/{p}"),
                    GItem::Any => "any".into(),
                })
                .collect();
            s.push_str(&format!("service v{i} {{ {} }}\n", items.join(", ")));
        }
        let refs = |r: &[GRef]| {
            let names: Vec<String> = r
                .iter()
                .map(|r| match r {
                    GRef::Zone(z) => format!("z{z}"),
                    GRef::Sys(x) => format!("s{x}"),
                })
                .collect();
            if names.len() == 1 { names.concat() } else { format!("[{}]", names.join(", ")) }
        };
        for (i, f) in self.flows.iter().enumerate() {
            let svcs: Vec<String> = f.svcs.iter().map(|v| format!("v{v}")).collect();
            s.push_str(&format!("flow {} -> {} : {} \"flow {i}\"\n", refs(&f.from), refs(&f.to), svcs.join(", ")));
        }
        let target = match self.target {
            Target::CiscoIos => "cisco-ios",
            Target::AristaEos => "arista-eos",
            Target::ArubaAoscx => "aruba-aoscx",
            _ => "junos",
        };
        s.push_str(&format!("switch sw {{\n  target {target}\n"));
        for k in self.ifaces() {
            let zones: Vec<String> =
                (0..self.zones.len()).filter(|z| self.zones[*z].iface == Some(k)).map(|z| format!("z{z}")).collect();
            s.push_str(&format!("  interface {} zone {}\n", self.iface_name(k), zones.join(", ")));
        }
        s.push_str("}\n");
        s
    }

    /// Does the ACL of interface `k` permit `p`? Computed from the policy alone.
    fn oracle(&self, k: usize, p: &Pkt) -> bool {
        let v6 = p.src.is_ipv6();
        // Neighbour discovery stays on the link: towards link-local addresses, link-scoped
        // multicast or the segment's own space, at hop limit 255 where the vendor can say so
        // (IOS-XE's IPv6 ACLs cannot). Other ND is decided like any ICMPv6 below.
        if v6 && p.proto == 58 && [133, 135, 136].contains(&p.icmp) {
            let link = ["fe80::/10", "ff02::/16"].map(|n| n.parse::<IpNet>().expect("prefix"));
            let own = (0..self.zones.len()).filter(|z| self.zones[*z].iface == Some(k)).flat_map(|z| self.zone_nets(z));
            let on_link = link.into_iter().chain(own).any(|n| n.contains(&p.dst));
            if on_link && (self.target == Target::CiscoIos || p.hops == 255) {
                return true;
            }
        }
        let eph = |port: u16| self.eph.0 <= port && port <= self.eph.1;
        let established = p.proto == 6 && (p.ack || p.rst);
        for f in &self.flows {
            let from = self.side(&f.from);
            let to = self.side(&f.to);
            for &(za, a) in &from {
                for &(zb, b) in &to {
                    // Zones on no SVI are behind the switch's uplink. Traffic crosses the
                    // switch unless both ends are off it, or both are in one zone.
                    const UPLINK: usize = usize::MAX;
                    let (ia, ib) = (self.zones[za].iface.unwrap_or(UPLINK), self.zones[zb].iface.unwrap_or(UPLINK));
                    let crosses = (ia != UPLINK || ib != UPLINK) && (ia != ib || za != zb);
                    if !crosses || a.addr().is_ipv6() != v6 || b.addr().is_ipv6() != v6 {
                        continue;
                    }
                    for it in f.svcs.iter().flat_map(|s| self.services[*s].iter()) {
                        // Forward: from a (behind k) to b.
                        if ia == k && a.contains(&p.src) && b.contains(&p.dst) {
                            let ok = match *it {
                                GItem::Tcp(lo, hi) => p.proto == 6 && (lo..=hi).contains(&p.dport),
                                GItem::Udp(lo, hi) => p.proto == 17 && (lo..=hi).contains(&p.dport),
                                GItem::Icmp(t) => !v6 && p.proto == 1 && t.is_none_or(|t| t == p.icmp),
                                GItem::Icmp6(t) => v6 && p.proto == 58 && t.is_none_or(|t| t == p.icmp),
                                GItem::Proto(n) => p.proto == n,
                                GItem::Any => true,
                            };
                            if ok {
                                return true;
                            }
                        }
                        // Answers: from b (behind k) back to a.
                        if ib == k && b.contains(&p.src) && a.contains(&p.dst) {
                            let ok = match *it {
                                GItem::Tcp(lo, hi) => p.proto == 6 && (lo..=hi).contains(&p.sport) && established,
                                GItem::Udp(lo, hi) => p.proto == 17 && (lo..=hi).contains(&p.sport) && eph(p.dport),
                                GItem::Icmp(None) => !v6 && p.proto == 1,
                                GItem::Icmp(Some(8)) => !v6 && p.proto == 1 && p.icmp == 0,
                                GItem::Icmp(Some(13)) => !v6 && p.proto == 1 && p.icmp == 14,
                                GItem::Icmp(Some(_)) => false,
                                GItem::Icmp6(None) => v6 && p.proto == 58,
                                GItem::Icmp6(Some(128)) => v6 && p.proto == 58 && p.icmp == 129,
                                GItem::Icmp6(Some(_)) => false,
                                GItem::Proto(n) => p.proto == n,
                                GItem::Any => true,
                            };
                            if ok {
                                return true;
                            }
                        }
                    }
                }
            }
        }
        false
    }
}

fn from_u128(v6: bool, x: u128) -> Option<IpAddr> {
    if v6 { Some(IpAddr::V6(x.into())) } else { u32::try_from(x).ok().map(|x| IpAddr::V4(x.into())) }
}

/// Addresses inside a prefix (first, last) and just outside it.
fn addr_samples(n: &IpNet) -> Vec<IpAddr> {
    let v6 = n.addr().is_ipv6();
    let (lo, hi) = (to_u128(n.network()), to_u128(n.broadcast()));
    let mut v = vec![n.network(), n.broadcast()];
    v.extend(lo.checked_sub(1).and_then(|x| from_u128(v6, x)));
    v.extend(hi.checked_add(1).and_then(|x| from_u128(v6, x)));
    v
}

fn port_samples(r: Option<(u16, u16)>, extra: &[u16]) -> Vec<u16> {
    let mut v = extra.to_vec();
    if let Some((lo, hi)) = r {
        v.extend([lo, hi]);
        v.extend(lo.checked_sub(1));
        v.extend(hi.checked_add(1));
    }
    v.sort();
    v.dedup();
    v
}

/// The value of a one-value field.
fn single(f: &Field) -> Option<u128> {
    match &*f.intervals() {
        [(a, b)] if a == b => Some(*a),
        _ => None,
    }
}

/// A field of addresses as prefixes; empty for every address of the family.
fn nets(f: &Field, v6: bool) -> Vec<IpNet> {
    if *f == Field::range(0, addr_max(v6)) {
        return Vec::new();
    }
    let bits: u32 = if v6 { 128 } else { 32 };
    let mut out = Vec::new();
    for &(lo, hi) in f.intervals().iter() {
        let mut lo = lo;
        loop {
            // The largest aligned block from `lo` that stays within `hi`.
            let mut k = if lo == 0 { bits } else { lo.trailing_zeros().min(bits) }.min(127);
            while k > 0 && lo.checked_add((1u128 << k) - 1).is_none_or(|e| e > hi) {
                k -= 1;
            }
            let end = lo + ((1u128 << k) - 1);
            let addr = from_u128(v6, lo).expect("an address of the family");
            out.push(IpNet::new(addr, (bits - k) as u8).expect("a prefix"));
            if end >= hi {
                break;
            }
            lo = end + 1;
        }
    }
    out
}

/// A box of packets: a rule or an intended flow. Empty address lists mean any.
struct Probe<'a> {
    src: &'a [IpNet],
    dst: &'a [IpNet],
    v6: bool,
    proto: Option<u8>,
    sport: Option<(u16, u16)>,
    dport: Option<(u16, u16)>,
    icmp: Option<u8>,
}

/// Packets around a box: one inside it, and variants that move one field at a time to
/// the edges and just past them (addresses, ports, protocol, ICMP type), each TCP packet
/// with no flags, with ACK and with RST.
fn box_samples(b: &Probe, eph: (u16, u16)) -> Vec<Pkt> {
    let any: IpNet = if b.v6 { "fd00:7::/32".parse().expect("v6") } else { "10.7.0.0/16".parse().expect("v4") };
    let srcs = if b.src.is_empty() { vec![any] } else { b.src.to_vec() };
    let dsts = if b.dst.is_empty() { vec![any] } else { b.dst.to_vec() };
    let protos: Vec<u8> = match b.proto {
        Some(p) => vec![p, p.wrapping_add(1)],
        None => vec![6, 17, if b.v6 { 58 } else { 1 }, 47],
    };
    let mut out = Vec::new();
    for &pr in &protos {
        for sn in &srcs {
            for dn in &dsts {
                let base = Pkt {
                    src: sn.network(),
                    dst: dn.network(),
                    proto: pr,
                    sport: b.sport.map_or(40000, |r| r.0),
                    dport: b.dport.map_or(40000, |r| r.0),
                    icmp: b.icmp.unwrap_or(if b.v6 { 128 } else { 8 }),
                    ack: false,
                    rst: false,
                    hops: 64,
                };
                let mut variants = vec![base];
                variants.extend(addr_samples(sn).into_iter().map(|a| Pkt { src: a, ..base }));
                variants.extend(addr_samples(dn).into_iter().map(|a| Pkt { dst: a, ..base }));
                if matches!(pr, 6 | 17) {
                    let sports = port_samples(b.sport, &[eph.0, eph.1, 80]);
                    variants.extend(sports.into_iter().map(|p| Pkt { sport: p, ..base }));
                    let dports = port_samples(b.dport, &[eph.0, eph.0.saturating_sub(1), eph.1, 443]);
                    variants.extend(dports.into_iter().map(|p| Pkt { dport: p, ..base }));
                }
                if matches!(pr, 1 | 58) {
                    let mut types = vec![0u8, 8, 13, 14, 128, 129, 133, 134, 135, 136, 3];
                    if let Some(t) = b.icmp {
                        types.extend([t.wrapping_add(1), t.wrapping_sub(1)]);
                    }
                    variants.extend(
                        types.into_iter().flat_map(|t| [Pkt { icmp: t, ..base }, Pkt { icmp: t, hops: 255, ..base }]),
                    );
                }
                for v in variants {
                    if v.src.is_ipv6() != b.v6 || v.dst.is_ipv6() != b.v6 {
                        continue;
                    }
                    if pr == 6 {
                        out.extend([v, Pkt { ack: true, ..v }, Pkt { rst: true, ..v }]);
                    } else {
                        out.push(v);
                    }
                }
            }
        }
    }
    out
}

/// A service item as (protocol, destination ports, ICMP type).
type Shape = (Option<u8>, Option<(u16, u16)>, Option<u8>);

fn item_box(it: GItem, v6: bool) -> Option<Shape> {
    Some(match it {
        GItem::Tcp(lo, hi) => (Some(6), Some((lo, hi)), None),
        GItem::Udp(lo, hi) => (Some(17), Some((lo, hi)), None),
        GItem::Icmp(t) if !v6 => (Some(1), None, t),
        GItem::Icmp6(t) if v6 => (Some(58), None, t),
        GItem::Icmp(_) | GItem::Icmp6(_) => return None,
        GItem::Proto(p) => (Some(p), None, None),
        GItem::Any => (None, None, None),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn each_acl_permits_exactly_the_flows_and_their_answers(g in gpolicy()) {
        let text = g.text();
        let model = crate::load_str("gen.zc", &text)
            .map_err(|e| TestCaseError::fail(format!("{}\n{text}", crate::diagnostics::render(&e.diags, &e.sources, false, 100))))?;
        let options = AclOptions { ephemeral: g.eph };
        let out = render_all(&model, &options);
        prop_assert_eq!(out.len(), 1);
        let (_, target, acl_text, entries) = &out[0];
        let ifaces = g.ifaces();
        let names: Vec<String> = ifaces.iter().map(|&k| g.iface_name(k)).collect();
        let r = Read::new(*target, acl_text, &names).map_err(|e| TestCaseError::fail(format!("{e}\n{acl_text}")))?;
        prop_assert_eq!(r.entries(), *entries);
        // Every interface has both ACLs bound.
        let acls = r.acls();
        for n in &names {
            prop_assert!(acls.contains_key(&(n.clone(), false)) && acls.contains_key(&(n.clone(), true)), "{}", n);
        }
        // Sample packets: around every intended flow box (both directions) and around every
        // rule the reader found.
        let mut samples = Vec::new();
        for f in &g.flows {
            let from = g.side(&f.from);
            let to = g.side(&f.to);
            for &(_, a) in &from {
                for &(_, b) in &to {
                    let v6 = a.addr().is_ipv6();
                    if b.addr().is_ipv6() != v6 {
                        continue;
                    }
                    for it in f.svcs.iter().flat_map(|s| g.services[*s].iter()) {
                        let Some((proto, ports, icmp)) = item_box(*it, v6) else { continue };
                        let fwd = Probe { src: &[a], dst: &[b], v6, proto, sport: None, dport: ports, icmp };
                        let back = Probe { src: &[b], dst: &[a], v6, proto, sport: ports, dport: Some(g.eph), icmp };
                        samples.extend(box_samples(&fwd, g.eph));
                        samples.extend(box_samples(&back, g.eph));
                    }
                }
            }
        }
        for c in r.rs.chains[1..].iter().flat_map(|ch| &ch.rules).flat_map(|rule| &rule.matches) {
            let v6 = c.v6();
            let (src, dst) = (nets(c.field(Dim::Src), v6), nets(c.field(Dim::Dst), v6));
            let proto = single(c.field(Dim::Proto)).map(|p| p as u8);
            let icmp = matches!(proto, Some(1 | 58));
            let hull = |d: Dim| {
                let f = c.field(d);
                (*f != Field::range(0, dim_max(d)) && !icmp).then(|| f.hull()).flatten().map(|(a, b)| (a as u16, b as u16))
            };
            let icmp_type = single(c.field(Dim::Dport)).filter(|_| icmp).map(|t| t as u8);
            let b = Probe { src: &src, dst: &dst, v6, proto, sport: hull(Dim::Sport), dport: hull(Dim::Dport), icmp: icmp_type };
            samples.extend(box_samples(&b, g.eph));
        }
        samples.sort_by_key(|p| (to_u128(p.src), to_u128(p.dst), p.proto, p.sport, p.dport, p.icmp, p.ack, p.rst, p.src.is_ipv6()));
        samples.dedup();
        // A switch whose generated SVIs carry nothing to sample (no flows, no IPv6) is a
        // valid policy with nothing to compare here.
        prop_assume!(!samples.is_empty());
        for p in &samples {
            for &k in &ifaces {
                let got = r.permits(&g.iface_name(k), p);
                let want = g.oracle(k, p);
                if got != want {
                    return Err(TestCaseError::fail(format!(
                        "{}: ACL {} {} {p:?} (oracle: {want})\npolicy:\n{text}\nconfig:\n{acl_text}",
                        g.iface_name(k),
                        if got { "permits" } else { "denies" },
                        if p.src.is_ipv6() { "v6" } else { "v4" },
                    )));
                }
            }
        }
    }
}
