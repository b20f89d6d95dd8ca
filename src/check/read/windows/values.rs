//! Values of rule and profile settings, as text, to fields and flags.

use super::*;

pub(super) fn eq(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b)
}

/// A PowerShell enum as `ConvertTo-Json` writes it: by name, or by number when the export
/// left out the string conversion. `values` are (name, number, meaning).
pub(super) fn parse_enum<T: Copy>(what: &str, s: &str, values: &[(&str, &str, T)]) -> Result<T, String> {
    let t = s.trim().to_ascii_lowercase();
    values.iter().find(|(name, number, _)| t == name.to_ascii_lowercase() || t == *number).map(|v| v.2).ok_or_else(
        || {
            let names: Vec<&str> = values.iter().map(|v| v.0).collect();
            format!("{what} `{s}` is not one of {}", names.join(", "))
        },
    )
}

/// Rule `Enabled`: True (1) or False (2).
pub(super) fn parse_enabled(s: &str) -> Result<bool, String> {
    parse_enum("Enabled", s, &[("True", "1", true), ("False", "2", false)])
}

/// A profile's GpoBoolean: False (0), True (1), NotConfigured (2: the Windows default).
pub(super) fn parse_gpo_bool(what: &str, s: &str, default: bool) -> Result<bool, String> {
    parse_enum(what, s, &[("True", "1", true), ("False", "0", false), ("NotConfigured", "2", default)])
}

/// `Direction`: Inbound (1) is true, Outbound (2) false.
pub(super) fn parse_direction(s: &str) -> Result<bool, String> {
    parse_enum("Direction", s, &[("Inbound", "1", true), ("Outbound", "2", false)])
}

/// A rule's action: Allow (2) or Block (4).
pub(super) fn parse_action(s: &str) -> Result<bool, String> {
    parse_enum("Action", s, &[("Allow", "2", true), ("Block", "4", false)])
}

/// A default action: Allow (2), Block (4), NotConfigured (0: `default`).
pub(super) fn parse_default_action(what: &str, s: &str, default: bool) -> Result<bool, String> {
    parse_enum(what, s, &[("Allow", "2", true), ("Block", "4", false), ("NotConfigured", "0", default)])
}

/// The profiles a rule's Profile names, as bits (1 Domain, 2 Private, 4 Public): names
/// (`Any`, `Domain`, `Domain, Private`) or the flags number (0 Any).
pub(super) fn profile_bits(values: &[String]) -> Result<u8, String> {
    let mut bits = 0u8;
    let mut any_value = false;
    for v in values.iter().flat_map(|v| v.split(',')) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        any_value = true;
        if let Ok(n) = v.parse::<u32>() {
            if n > 7 {
                return Err(format!("Profile `{v}` is not a combination of Domain (1), Private (2), Public (4)"));
            }
            bits |= if n == 0 { ALL_PROFILES } else { n as u8 };
            continue;
        }
        match v.to_ascii_lowercase().as_str() {
            "any" | "*" => bits |= ALL_PROFILES,
            "domain" => bits |= 1,
            "private" => bits |= 2,
            "public" => bits |= 4,
            "notapplicable" => {}
            _ => return Err(format!("Profile `{v}` is not Any, Domain, Private or Public")),
        }
    }
    if !any_value {
        return Err("Profile is empty".into());
    }
    Ok(bits)
}

/// Addresses per family (index 0 IPv4, 1 IPv6); `None` where the list has none of that
/// family.
pub(super) type Addrs = [Option<Field>; 2];

pub(super) fn addresses(param: &str, values: &[String]) -> Result<Addrs, String> {
    if values.is_empty() {
        return Err(format!("{param} is empty"));
    }
    if values.iter().any(|v| eq(v, "Any") || v.trim() == "*") {
        return Ok([Some(Field::range(0, addr_max(false))), Some(Field::range(0, addr_max(true)))]);
    }
    let mut ranges: [Vec<(u128, u128)>; 2] = Default::default();
    for v in values {
        let (v6, lo, hi) = address(v).map_err(|e| format!("{param} {e}"))?;
        ranges[usize::from(v6)].push((lo, hi));
    }
    let [r4, r6] = ranges;
    let f = |r: Vec<(u128, u128)>| (!r.is_empty()).then(|| Field::from_ranges(r));
    Ok([f(r4), f(r6)])
}

/// One address entry: `a`, `a/len`, `a/dotted-mask`, `a-b`.
pub(super) fn address(s: &str) -> Result<(bool, u128, u128), String> {
    let t = s.trim();
    let ip = |x: &str| x.trim().parse::<IpAddr>().ok();
    if let Some((a, b)) = t.split_once('-') {
        let (Some(a), Some(b)) = (ip(a), ip(b)) else { return Err(not_an_address(s)) };
        if a.is_ipv6() != b.is_ipv6() {
            return Err(format!("range `{s}` mixes IPv4 and IPv6"));
        }
        let (lo, hi) = (addr_value(a), addr_value(b));
        if lo > hi {
            return Err(format!("range `{s}` ends before it starts"));
        }
        return Ok((a.is_ipv6(), lo, hi));
    }
    if let Some((a, m)) = t.split_once('/') {
        let Some(a) = ip(a) else { return Err(not_an_address(s)) };
        let bits: u32 = if a.is_ipv6() { 128 } else { 32 };
        let len = if let Ok(n) = m.trim().parse::<u32>() {
            n
        } else if let (false, Ok(mask)) = (a.is_ipv6(), m.trim().parse::<Ipv4Addr>()) {
            let m = u32::from(mask);
            // A dotted mask must be contiguous ones.
            if m.leading_ones() + m.trailing_zeros() != 32 {
                return Err(format!("`{s}` has a non-contiguous mask"));
            }
            m.leading_ones()
        } else {
            return Err(format!("`{s}` has an invalid prefix length or mask"));
        };
        if len > bits {
            return Err(format!("`{s}` has a prefix longer than {bits} bits"));
        }
        let v = addr_value(a);
        // Host bits as a mask; 128 of them (::/0) would overflow a shift.
        let host = if len == bits { 0 } else { u128::MAX >> (128 - (bits - len)) };
        return Ok((a.is_ipv6(), v & !host, v | host));
    }
    match ip(t) {
        Some(a) => Ok((a.is_ipv6(), addr_value(a), addr_value(a))),
        None => Err(not_an_address(s)),
    }
}

pub(super) fn not_an_address(s: &str) -> String {
    if s.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!(
            "keyword `{s}`: the addresses it stands for depend on the host's network configuration, \
             which the rule does not say"
        )
    } else {
        format!("`{s}` is not an address, prefix or range")
    }
}

/// A protocol: `None` for Any.
pub(super) fn protocol(s: &str) -> Result<Option<u8>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "any" => Ok(None),
        "tcp" => Ok(Some(6)),
        "udp" => Ok(Some(17)),
        "icmpv4" => Ok(Some(1)),
        "icmpv6" => Ok(Some(58)),
        n => n
            .parse::<u8>()
            .map(Some)
            .map_err(|_| format!("Protocol `{s}` is not TCP, UDP, ICMPv4, ICMPv6, Any or 0-255")),
    }
}

/// A port list: `None` for Any.
pub(super) fn ports(param: &str, values: &[String]) -> Result<Option<Field>, String> {
    if values.is_empty() {
        return Err(format!("{param} is empty"));
    }
    if values.iter().any(|v| eq(v, "Any")) {
        return Ok(None);
    }
    let mut ranges = Vec::new();
    for v in values {
        let t = v.trim();
        let num = |x: &str| x.trim().parse::<u16>().ok();
        let (lo, hi) = match t.split_once('-') {
            Some((a, b)) => (num(a), num(b)),
            None => (num(t), num(t)),
        };
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo <= hi => ranges.push((u128::from(lo), u128::from(hi))),
            (Some(_), Some(_)) => return Err(format!("{param} range `{v}` ends before it starts")),
            _ if t.chars().any(|c| c.is_ascii_alphabetic()) => {
                return Err(format!(
                    "{param} keyword `{v}`: the ports it stands for are chosen by Windows at run time"
                ));
            }
            _ => return Err(format!("{param} `{v}` is not a port or port range")),
        }
    }
    Ok(Some(Field::from_ranges(ranges)))
}

/// ICMP types as (type, code) fields: `None` for Any.
pub(super) fn icmp_types(values: &[String]) -> Result<Option<Vec<(Field, Field)>>, String> {
    if values.is_empty() {
        return Err("IcmpType is empty".into());
    }
    if values.iter().any(|v| eq(v, "Any")) {
        return Ok(None);
    }
    let any_code = Field::range(0, 65535);
    let mut plain = Vec::new();
    let mut out = Vec::new();
    for v in values {
        let num = |x: &str| x.trim().parse::<u8>().ok().map(u128::from);
        match v.trim().split_once(':') {
            None => plain.push((num(v).ok_or(format!("IcmpType `{v}` is not a type 0-255"))?, 0)),
            Some((t, c)) => match (num(t), num(c)) {
                (Some(t), Some(c)) => out.push((Field::point(t), Field::point(c))),
                _ => return Err(format!("IcmpType `{v}` is not type:code (0-255 each)")),
            },
        }
    }
    if !plain.is_empty() {
        out.push((Field::from_ranges(plain.into_iter().map(|(t, _)| (t, t))), any_code));
    }
    Ok(Some(out))
}

/// Why a condition beyond packets makes the rule unreadable, if it does.
pub(super) fn condition_problem(param: &str, values: &[String], allow: bool) -> Option<String> {
    let vals: Vec<&str> = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    let all = |ok: &[&str]| vals.iter().all(|v| ok.iter().any(|o| v.eq_ignore_ascii_case(o)));
    let shown = vals.join(", ");
    let p = param.to_ascii_lowercase();
    match p.as_str() {
        "authentication" | "encryption" if !all(&["NotRequired"]) => Some(format!(
            "{param} {shown}: the rule matches only IPsec-protected traffic, which packets cannot express"
        )),
        "overrideblockrules" if allow && !all(&["False", "0"]) => Some(format!(
            "OverrideBlockRules {shown}: authenticated traffic bypasses every Block rule, which packets cannot express"
        )),
        "edgetraversalpolicy" if !all(&["Block", "0"]) => {
            Some(format!("EdgeTraversalPolicy {shown}: traffic through NAT traversal (Teredo) is allowed as well"))
        }
        "loosesourcemapping" | "localonlymapping" if !all(&["False", "0"]) => {
            Some(format!("{param} {shown}: NAT mapping behaviour is not modelled"))
        }
        "platform" if !vals.is_empty() => {
            Some(format!("Platform {shown}: whether the rule applies depends on the Windows version"))
        }
        "authentication"
        | "encryption"
        | "overrideblockrules"
        | "edgetraversalpolicy"
        | "localonlymapping"
        | "loosesourcemapping"
        | "platform" => None,
        _ if all(&["Any", "*"]) => None,
        _ => Some(format!(
            "{param} {shown}: the rule applies to only part of the traffic (a program, service, user, machine or \
             interface), which packets cannot express"
        )),
    }
}
