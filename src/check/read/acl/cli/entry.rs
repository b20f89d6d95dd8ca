//! One access-list entry of the line-oriented CLIs, after its sequence number: action,
//! protocol, addresses (host, prefix, wildcard), ports, TCP flags, hop limit, ICMP type.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::super::{Dialect, Match, names};
use super::number;
use crate::check::space::{Field, addr_value};

struct Toks<'a> {
    w: &'a [&'a str],
    i: usize,
}

impl<'a> Toks<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.w.get(self.i).copied()
    }

    fn next(&mut self) -> Result<&'a str, String> {
        let t = self.peek().ok_or("the entry ends early")?;
        self.i += 1;
        Ok(t)
    }
}

fn action(w: &str) -> Result<bool, String> {
    match w {
        "permit" => Ok(true),
        "deny" => Ok(false),
        x => Err(format!("`{x}` is not permit or deny")),
    }
}

/// An extended entry after its sequence number: (permit, match, a trailing `sequence N`).
pub(super) fn entry(d: Dialect, v6: bool, w: &[&str]) -> Result<(bool, Match, Option<u64>), String> {
    let mut t = Toks { w, i: 0 };
    let permit = action(t.next()?)?;
    let mut m = Match::new(v6);
    let proto = protocol(d, v6, t.next()?)?;
    m.protos = proto.map(|p| Field::point(u128::from(p)));
    let ports = matches!(proto, Some(6 | 17));
    m.src = addr(d, v6, &mut t)?;
    if ports {
        m.sport = port_match(d, proto, &mut t)?;
    }
    m.dst = addr(d, v6, &mut t)?;
    if ports {
        m.dport = port_match(d, proto, &mut t)?;
    }
    if proto == Some(if v6 { 58 } else { 1 }) {
        icmp(d, v6, &mut t, &mut m)?;
    }
    let mut seq = None;
    while let Some(x) = t.peek() {
        t.i += 1;
        match x {
            "established" if proto == Some(6) => m.established = true,
            "established" => return Err("`established` without tcp".into()),
            // EOS: `ttl eq N` (IPv4), `hop-limit eq N` (IPv6); AOS-CX: `ttl N` (both).
            "ttl" | "hop-limit" if d == Dialect::AristaEos && (x == "hop-limit") == v6 => {
                m.hops = Some(hop_match(&mut t)?)
            }
            "ttl" if d == Dialect::ArubaAoscx => {
                m.hops = Some(Field::point(u128::from(number::<u8>(t.next()?, "TTL")?)))
            }
            "log" => {}
            "log-input" if d == Dialect::CiscoIos => {}
            "count" if d == Dialect::ArubaAoscx => {}
            "sequence" if d == Dialect::CiscoIos && v6 => seq = Some(number(t.next()?, "sequence number")?),
            "fragments" | "fragment" => return Err("`fragments` (matching fragments only) is not modelled".into()),
            "time-range" => return Err("`time-range` (entries active part of the time) is not modelled".into()),
            "dscp" | "tos" | "precedence" => return Err(format!("`{x}` matches are not modelled")),
            "reflect" => return Err("reflexive ACLs (`reflect`) are not modelled".into()),
            "ack" | "fin" | "psh" | "rst" | "syn" | "urg" | "match-all" | "match-any" => {
                return Err(format!("TCP flag matches (`{x}`) are not modelled"));
            }
            "option"
            | "ttl"
            | "flow-label"
            | "routing"
            | "hbh"
            | "dest-option"
            | "mobility"
            | "tracked"
            | "vlan"
            | "undetermined-transport"
            | "nexthop-group"
            | "ip-length" => {
                return Err(format!("`{x}` matches are not modelled"));
            }
            other => return Err(format!("unknown keyword `{other}`")),
        }
    }
    Ok((permit, m, seq))
}

/// An IOS standard entry: `permit|deny {any | host A | A [W]} [log]`.
pub(super) fn standard(w: &[&str]) -> Result<(bool, Match, Option<u64>), String> {
    let mut t = Toks { w, i: 0 };
    let permit = action(t.next()?)?;
    let mut m = Match::new(false);
    m.src = match t.next()? {
        "any" => None,
        "host" => Some(host(t.next()?, false)?),
        a => match t.peek().and_then(|x| x.parse::<Ipv4Addr>().ok()) {
            Some(_) => Some(wildcard(a, t.next()?)?),
            None => Some(host(a, false)?),
        },
    };
    while let Ok(x) = t.next() {
        if x != "log" {
            return Err(format!("unknown keyword `{x}` in a standard ACL"));
        }
    }
    Ok((permit, m, None))
}

fn protocol(d: Dialect, v6: bool, w: &str) -> Result<Option<u8>, String> {
    let cx = d == Dialect::ArubaAoscx;
    Ok(Some(match w {
        "ip" if !v6 && !cx => return Ok(None),
        "ipv6" if v6 && !cx => return Ok(None),
        "any" if cx => return Ok(None),
        "ip" | "ipv6" => return Err(format!("`{w}` in an {} ACL", if v6 { "IPv6" } else { "IPv4" })),
        "tcp" => 6,
        "udp" => 17,
        "icmp" if !v6 => 1,
        "icmp" if d == Dialect::CiscoIos => 58,
        "icmpv6" if v6 && d != Dialect::CiscoIos => 58,
        "object-group" => return Err("service object groups are not modelled".into()),
        // Releases differ on whether protocol 0 means `ip`.
        "0" => return Err("protocol 0 is not modelled (some releases read it as any protocol)".into()),
        n if n.bytes().all(|b| b.is_ascii_digit()) => number(n, "protocol")?,
        n => names::ip_proto(n).ok_or_else(|| format!("unknown protocol `{n}`"))?,
    }))
}

fn host(s: &str, v6: bool) -> Result<Field, String> {
    let a: IpAddr = s.parse().map_err(|_| format!("`{s}` is not an address"))?;
    if a.is_ipv6() != v6 {
        return Err(format!("`{s}` is of the wrong family"));
    }
    Ok(Field::point(addr_value(a)))
}

fn prefix(s: &str, v6: bool) -> Result<Field, String> {
    let n: IpNet = s.parse().map_err(|_| format!("`{s}` is not a prefix"))?;
    if n.addr().is_ipv6() != v6 {
        return Err(format!("`{s}` is of the wrong family"));
    }
    if n.addr() != n.network() {
        return Err(format!("`{s}` has host bits set (devices differ in what they make of it)"));
    }
    Ok(Field::prefix(&n))
}

/// `A W`: the addresses equal to A outside the wildcard bits. Contiguous wildcards only
/// (a prefix); the device ignores the bits of A under the wildcard.
fn wildcard(a: &str, w: &str) -> Result<Field, String> {
    let a: Ipv4Addr = a.parse().map_err(|_| format!("`{a}` is not an IPv4 address"))?;
    let w: Ipv4Addr = w.parse().map_err(|_| format!("`{w}` is not a wildcard mask"))?;
    let w = u32::from(w);
    if w.checked_add(1).is_some_and(|x| !x.is_power_of_two()) {
        return Err(format!("the non-contiguous wildcard {} is not modelled", Ipv4Addr::from(w)));
    }
    let lo = u32::from(a) & !w;
    Ok(Field::range(u128::from(lo), u128::from(lo | w)))
}

fn addr(d: Dialect, v6: bool, t: &mut Toks) -> Result<Option<Field>, String> {
    let a = t.next()?;
    Ok(Some(match a {
        "any" => return Ok(None),
        "host" if d != Dialect::ArubaAoscx => host(t.next()?, v6)?,
        "object-group" | "addrgroup" | "group" => return Err(format!("object groups (`{a}`) are not modelled")),
        _ => match a.split_once('/') {
            // AOS-CX: `A/255.255.255.0`.
            Some((x, mask)) if d == Dialect::ArubaAoscx && !v6 && mask.contains('.') => {
                let m: Ipv4Addr = mask.parse().map_err(|_| format!("`{mask}` is not a mask"))?;
                let w = !u32::from(m);
                if w.checked_add(1).is_some_and(|x| !x.is_power_of_two()) {
                    return Err(format!("the non-contiguous mask {mask} is not modelled"));
                }
                prefix(&format!("{x}/{}", w.leading_zeros()), false)?
            }
            Some(_) if d == Dialect::CiscoIos && !v6 => {
                return Err(format!("`{a}`: IOS IPv4 entries take a wildcard mask, not a prefix length"));
            }
            Some(_) => prefix(a, v6)?,
            None if d == Dialect::CiscoIos && !v6 => wildcard(a, t.next()?)?,
            None if d == Dialect::ArubaAoscx => host(a, v6)?,
            None => return Err(format!("`{a}` is not an address")),
        },
    }))
}

fn port(proto: Option<u8>, s: &str) -> Result<u16, String> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return number(s, "port");
    }
    let named = if proto == Some(6) { names::tcp_port(s) } else { names::udp_port(s) };
    named.ok_or_else(|| format!("unknown port name `{s}` for {}", if proto == Some(6) { "tcp" } else { "udp" }))
}

fn port_match(d: Dialect, proto: Option<u8>, t: &mut Toks) -> Result<Option<Field>, String> {
    let op = match t.peek() {
        Some(op @ ("eq" | "neq" | "lt" | "gt" | "range")) => op,
        Some(g @ ("portgroup" | "group")) => return Err(format!("port groups (`{g}`) are not modelled")),
        _ => return Ok(None),
    };
    t.i += 1;
    let p = |t: &mut Toks| -> Result<u128, String> { Ok(u128::from(port(proto, t.next()?)?)) };
    Ok(Some(match op {
        "eq" | "neq" => {
            let mut f = Field::point(p(t)?);
            // IOS and EOS take a list: `eq www 443`.
            if d != Dialect::ArubaAoscx {
                while let Some(x) = t.peek().and_then(|x| port(proto, x).ok()) {
                    t.i += 1;
                    f = f.union(&Field::point(u128::from(x)));
                }
            }
            if op == "neq" { f.complement(65535) } else { f }
        }
        "lt" => {
            let x = p(t)?;
            if x == 0 { Field::empty() } else { Field::range(0, x - 1) }
        }
        "gt" => Field::range(p(t)? + 1, 65535),
        _ => {
            let (lo, hi) = (p(t)?, p(t)?);
            if lo > hi {
                return Err(format!("reversed port range {lo} {hi}"));
            }
            Field::range(lo, hi)
        }
    }))
}

/// An EOS hop-limit or TTL comparison: `eq|neq|gt|lt N`.
fn hop_match(t: &mut Toks) -> Result<Field, String> {
    let op = t.next()?;
    let n = u128::from(number::<u8>(t.next()?, "hop limit")?);
    Ok(match op {
        "eq" => Field::point(n),
        "neq" => Field::point(n).complement(255),
        "gt" if n < 255 => Field::range(n + 1, 255),
        "lt" if n > 0 => Field::range(0, n - 1),
        "gt" | "lt" => Field::empty(),
        x => return Err(format!("unknown hop-limit comparison `{x}`")),
    })
}

/// ICMP type and code: `TYPE [CODE]` or a name (IOS, EOS); `icmp-type T [icmp-code C]` (AOS-CX).
fn icmp(d: Dialect, v6: bool, t: &mut Toks, m: &mut Match) -> Result<(), String> {
    let name = |s: &str| if v6 { names::icmp6(s) } else { names::icmp4(s) };
    let num = |s: &str| number::<u8>(s, "ICMP type or code").map(|x| Field::point(u128::from(x)));
    let set = |m: &mut Match, ty: u8, code: Option<u8>| {
        m.icmp_type = Some(Field::point(u128::from(ty)));
        m.icmp_code = code.map(|c| Field::point(u128::from(c)));
    };
    if d == Dialect::ArubaAoscx {
        while let Some(k @ ("icmp-type" | "icmp-code")) = t.peek() {
            t.i += 1;
            let v = t.next()?;
            if k == "icmp-code" {
                m.icmp_code = Some(num(v)?);
            } else if let Some((ty, code)) = name(v) {
                set(m, ty, code);
            } else {
                m.icmp_type = Some(num(v)?);
            }
        }
        return Ok(());
    }
    match t.peek() {
        Some(x) if x.bytes().all(|b| b.is_ascii_digit()) => {
            t.i += 1;
            m.icmp_type = Some(num(x)?);
            if let Some(c) = t.peek().filter(|c| c.bytes().all(|b| b.is_ascii_digit())) {
                t.i += 1;
                m.icmp_code = Some(num(c)?);
            }
        }
        Some(x) => {
            if let Some((ty, code)) = name(x) {
                t.i += 1;
                set(m, ty, code);
            }
        }
        None => {}
    }
    Ok(())
}
