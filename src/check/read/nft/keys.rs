//! The left sides of nft matches (keys: the dimension read and what it implies) and their
//! values: addresses, prefixes, numbers and the names nft prints for them.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Addr(bool),
    Proto,
    Port,
    IcmpType(bool),
    IcmpCode(bool),
    Iface,
    /// `meta nfproto`: ipv4, ipv6.
    Family,
    /// `ip ttl`, `ip6 hoplimit`.
    Hops,
    /// `meta protocol`: the ethertype, ip or ip6 here.
    Ether,
}

pub(super) fn kind_max(k: Kind) -> u128 {
    match k {
        Kind::Addr(v6) => addr_max(v6),
        Kind::Proto | Kind::IcmpType(_) | Kind::IcmpCode(_) | Kind::Hops => 255,
        Kind::Port => 65535,
        Kind::Iface => dim_max(Dim::Iif),
        Kind::Family | Kind::Ether => 1,
    }
}

/// A left side: the dimension it reads, and what it implies (nft adds a dependency: `tcp
/// dport` only matches TCP, `ip saddr` only IPv4).
#[derive(Clone, Debug)]
pub(super) struct Key {
    pub(super) dim: Dim,
    pub(super) v6: Option<bool>,
    pub(super) proto: Option<u128>,
    pub(super) kind: Kind,
    /// `th sport/dport`: meaningful only for protocols with ports.
    pub(super) th: bool,
    pub(super) text: String,
}

/// `tcp option maxseg size set …`: the MSS clamping of fw4's `mtu_fix`.
pub(super) fn is_mss_clamp(body: &Value) -> bool {
    body.get("key").and_then(|k| k.get("tcp option")).is_some_and(|o| {
        o.get("name").and_then(Value::as_str) == Some("maxseg")
            && o.get("field").and_then(Value::as_str) == Some("size")
    })
}

/// Why `fib` is refused: a reverse-path filter (`fib saddr . iif oif missing drop`) or an
/// address-type test (`fib daddr type local`) decides by the routing table and the
/// addresses of the device, which a ruleset dump does not hold.
pub(crate) const FIB_WHY: &str = "fib expressions (reverse-path filter, address type) are not modelled: they decide by the routing table and the device's addresses, which the ruleset does not hold";

pub(super) fn key_of(left: &Value) -> Result<Key, String> {
    if left.get("fib").is_some() {
        return Err(format!("{FIB_WHY}: `{}`", render(left)));
    }
    let text = render(left);
    let mk = |dim, v6, proto, kind| Key { dim, v6, proto, kind, th: false, text: text.clone() };
    if let Some(p) = left.get("payload") {
        let (proto, field) = (str_of(p, "protocol"), str_of(p, "field"));
        let port_proto = match proto {
            "tcp" => Some(6),
            "udp" => Some(17),
            "dccp" => Some(33),
            "sctp" => Some(132),
            "udplite" => Some(136),
            _ => None,
        };
        return Ok(match (proto, field) {
            ("ip", "saddr") => mk(Dim::Src, Some(false), None, Kind::Addr(false)),
            ("ip", "daddr") => mk(Dim::Dst, Some(false), None, Kind::Addr(false)),
            ("ip", "protocol") => mk(Dim::Proto, Some(false), None, Kind::Proto),
            ("ip6", "saddr") => mk(Dim::Src, Some(true), None, Kind::Addr(true)),
            ("ip6", "daddr") => mk(Dim::Dst, Some(true), None, Kind::Addr(true)),
            // Packets here carry no extension headers: the next header is the protocol.
            ("ip6", "nexthdr") => mk(Dim::Proto, Some(true), None, Kind::Proto),
            ("ip", "ttl") => mk(Dim::Hops, Some(false), None, Kind::Hops),
            ("ip6", "hoplimit") => mk(Dim::Hops, Some(true), None, Kind::Hops),
            ("th", "sport") => Key { th: true, ..mk(Dim::Sport, None, None, Kind::Port) },
            ("th", "dport") => Key { th: true, ..mk(Dim::Dport, None, None, Kind::Port) },
            (_, "sport") if port_proto.is_some() => mk(Dim::Sport, None, port_proto, Kind::Port),
            (_, "dport") if port_proto.is_some() => mk(Dim::Dport, None, port_proto, Kind::Port),
            ("icmp", "type") => mk(Dim::Dport, Some(false), Some(1), Kind::IcmpType(false)),
            ("icmp", "code") => mk(Dim::Sport, Some(false), Some(1), Kind::IcmpCode(false)),
            ("icmpv6", "type") => mk(Dim::Dport, Some(true), Some(58), Kind::IcmpType(true)),
            ("icmpv6", "code") => mk(Dim::Sport, Some(true), Some(58), Kind::IcmpCode(true)),
            _ => return Err(format!("match on {text} is not modelled")),
        });
    }
    if let Some(m) = left.get("meta") {
        return Ok(match str_of(m, "key") {
            "l4proto" => mk(Dim::Proto, None, None, Kind::Proto),
            "nfproto" => mk(Dim::Family, None, None, Kind::Family),
            "protocol" => mk(Dim::Family, None, None, Kind::Ether),
            "iifname" | "iif" => mk(Dim::Iif, None, None, Kind::Iface),
            "oifname" | "oif" => mk(Dim::Oif, None, None, Kind::Iface),
            _ => return Err(format!("match on {text} is not modelled")),
        });
    }
    Err(format!("match on {text} is not modelled"))
}

/// The family and protocol every match of these keys implies: at most two cubes.
pub(super) fn base_cubes(keys: &[Key]) -> Vec<Cube> {
    let mut cubes: Vec<Cube> = Cube::universe().to_vec();
    for k in keys {
        if let Some(v6) = k.v6 {
            cubes.retain(|c| c.v6() == v6);
        }
        if let Some(p) = k.proto {
            cubes = cubes.into_iter().filter_map(|c| c.with_value(Dim::Proto, p)).collect();
        }
    }
    cubes
}

pub(super) fn prefix_field(v6: bool, addr: &str, len: u64) -> Result<Field, String> {
    let a: IpAddr = addr.parse().map_err(|_| format!("{addr} is not an address"))?;
    let bits: u64 = if v6 { 128 } else { 32 };
    if a.is_ipv6() != v6 || len > bits {
        return Err(format!("{addr}/{len} is not an IPv{} prefix", if v6 { 6 } else { 4 }));
    }
    let lo = addr_value(a);
    let host_bits = (bits - len) as u32;
    let mask = if host_bits >= 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
    // nft masks host bits away too.
    Ok(Field::range(lo & !mask, (lo & !mask) | mask))
}

pub(super) fn parse_addr(v6: bool, s: &str) -> Result<u128, String> {
    let a: IpAddr = s.parse().map_err(|_| format!("{s} is not an address"))?;
    if a.is_ipv6() != v6 {
        return Err(format!("{s} is not an IPv{} address", if v6 { 6 } else { 4 }));
    }
    Ok(addr_value(a))
}

/// A string value under a key: a name nft prints, a number, `a-b` or (addresses) `a/len`.
pub(super) fn parse_value(k: &Key, s: &str) -> Result<Field, String> {
    let bad = || format!("{s:?} is not a value of {}", k.text);
    match k.kind {
        Kind::Iface => return Err(bad()),
        Kind::Addr(v6) => {
            if let Some((a, len)) = s.split_once('/') {
                let len: u64 = len.parse().map_err(|_| bad())?;
                return prefix_field(v6, a, len);
            }
            if s.parse::<IpAddr>().is_ok() {
                return parse_addr(v6, s).map(Field::point);
            }
            if let Some((a, b)) = s.split_once('-') {
                let (a, b) = (parse_addr(v6, a.trim())?, parse_addr(v6, b.trim())?);
                return if a <= b { Ok(Field::range(a, b)) } else { Err(bad()) };
            }
            return Err(bad());
        }
        _ => {}
    }
    if let Some(v) = named_value(k.kind, s).or_else(|| parse_num(s)) {
        return Ok(Field::point(v));
    }
    if let Some((a, b)) = s.split_once('-') {
        let one = |x: &str| named_value(k.kind, x.trim()).or_else(|| parse_num(x.trim()));
        if let (Some(a), Some(b)) = (one(a), one(b))
            && a <= b
        {
            return Ok(Field::range(a, b));
        }
    }
    Err(bad())
}

pub(super) fn parse_num(s: &str) -> Option<u128> {
    match s.strip_prefix("0x") {
        Some(h) => u128::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

pub(super) fn named_value(kind: Kind, s: &str) -> Option<u128> {
    let table: &[(&str, u128)] = match kind {
        Kind::Proto => PROTOCOLS,
        Kind::Port => SERVICES,
        Kind::IcmpType(false) => ICMP_TYPES,
        Kind::IcmpType(true) => ICMPV6_TYPES,
        Kind::IcmpCode(false) => ICMP_CODES,
        Kind::IcmpCode(true) => ICMPV6_CODES,
        Kind::Family => &[("ipv4", 0), ("ipv6", 1)],
        Kind::Ether => &[("ip", 0), ("ip6", 1)],
        Kind::Addr(_) | Kind::Iface | Kind::Hops => &[],
    };
    table.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
}

pub(super) const PROTOCOLS: &[(&str, u128)] = &[
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("dccp", 33),
    ("ipv6", 41),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("ospf", 89),
    ("ipip", 94),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
    ("udplite", 136),
];

/// Service names nft reads (and prints with `-S`).
pub(super) const SERVICES: &[(&str, u128)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("http", 80),
    ("kerberos", 88),
    ("pop3", 110),
    ("sunrpc", 111),
    ("ntp", 123),
    ("epmap", 135),
    ("netbios-ns", 137),
    ("netbios-dgm", 138),
    ("netbios-ssn", 139),
    ("imap2", 143),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("bgp", 179),
    ("ldap", 389),
    ("https", 443),
    ("microsoft-ds", 445),
    ("kpasswd", 464),
    ("syslog", 514),
    ("submission", 587),
    ("ldaps", 636),
    ("rsync", 873),
    ("imaps", 993),
    ("pop3s", 995),
    ("ms-sql-s", 1433),
    ("openvpn", 1194),
    ("nfs", 2049),
    ("mysql", 3306),
    ("ms-wbt-server", 3389),
    ("postgresql", 5432),
    ("http-alt", 8080),
];

pub(super) const ICMP_TYPES: &[(&str, u128)] = &[
    ("echo-reply", 0),
    ("destination-unreachable", 3),
    ("source-quench", 4),
    ("redirect", 5),
    ("echo-request", 8),
    ("router-advertisement", 9),
    ("router-solicitation", 10),
    ("time-exceeded", 11),
    ("parameter-problem", 12),
    ("timestamp-request", 13),
    ("timestamp-reply", 14),
    ("info-request", 15),
    ("info-reply", 16),
    ("address-mask-request", 17),
    ("address-mask-reply", 18),
];

pub(super) const ICMPV6_TYPES: &[(&str, u128)] = &[
    ("destination-unreachable", 1),
    ("packet-too-big", 2),
    ("time-exceeded", 3),
    ("parameter-problem", 4),
    ("echo-request", 128),
    ("echo-reply", 129),
    ("mld-listener-query", 130),
    ("mld-listener-report", 131),
    ("mld-listener-done", 132),
    ("mld-listener-reduction", 132),
    ("nd-router-solicit", 133),
    ("nd-router-advert", 134),
    ("nd-neighbor-solicit", 135),
    ("nd-neighbor-advert", 136),
    ("nd-redirect", 137),
    ("router-renumbering", 138),
    ("ind-neighbor-solicit", 141),
    ("ind-neighbor-advert", 142),
    ("mld2-listener-report", 143),
];

pub(super) const ICMP_CODES: &[(&str, u128)] = &[
    ("net-unreachable", 0),
    ("host-unreachable", 1),
    ("prot-unreachable", 2),
    ("port-unreachable", 3),
    ("frag-needed", 4),
    ("net-prohibited", 9),
    ("host-prohibited", 10),
    ("admin-prohibited", 13),
];

pub(super) const ICMPV6_CODES: &[(&str, u128)] = &[
    ("no-route", 0),
    ("admin-prohibited", 1),
    ("addr-unreachable", 3),
    ("port-unreachable", 4),
    ("policy-fail", 5),
    ("reject-route", 6),
];
