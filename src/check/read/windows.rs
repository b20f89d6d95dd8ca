//! Windows Defender Firewall: zonecheck's PowerShell scripts ([`read_script`]) and the JSON
//! export of a live host's firewall ([`read_export`], written by [`EXPORT_COMMAND`]).
//!
//! # Evaluation
//!
//! Windows has no rule order. Within a direction a matching Block rule beats every Allow
//! rule, and a packet no rule matches gets the profile's default action. That is first
//! match over a fixed order, which is how the [`Ruleset`] encodes it: chain `inbound` holds
//! every enabled Block rule (drop), then every enabled Allow rule (accept), and is a base
//! chain at [`Hook::Input`] whose policy is `DefaultInboundAction`; chain `outbound` is the
//! same at [`Hook::Output`] with `DefaultOutboundAction`. `NotConfigured` means the Windows
//! defaults: Block inbound, Allow outbound.
//!
//! A rule's packets, inbound: path input, LocalAddress = destination, RemoteAddress =
//! source, LocalPort = destination port, RemotePort = source port. Outbound: path output,
//! LocalAddress = source, RemoteAddress = destination, LocalPort = source port, RemotePort
//! = destination port. IcmpType `t` or `t:c` is type (destination port) and code (source
//! port). Interfaces are not constrained. The protocol is matched by number only (an
//! `ICMPv6` rule without addresses matches IPv4 packets of protocol 58 as well, as a WFP
//! filter on the protocol number does). An address list holding both families becomes one
//! cube per family; an IPv4 local address with an IPv6 remote one matches nothing.
//!
//! # Profile
//!
//! Only the **Domain** profile is evaluated: municipal servers are domain joined. Rules
//! whose Profile does not include Domain (`Any`, `Domain`, or a list holding it) are
//! ignored, and the Domain profile's Enabled and default actions apply. A Domain profile
//! with the firewall disabled permits everything. Disabled rules are ignored.
//!
//! # What is a problem
//!
//! Every construct that makes a rule apply to only part of the packets it names, or whose
//! packets depend on the host's configuration, is a [`Problem`] and the rule is left out:
//! address keywords (`LocalSubnet`, `DNS`, `DHCP`, `DefaultGateway`, `Internet`,
//! `Intranet`, `PlayToDevice`…), port keywords (`RPC`, `RPC-EPMap`, `IPHTTPS`, `Teredo`…),
//! a Program, Package, Service, InterfaceType, InterfaceAlias, LocalUser, RemoteUser,
//! RemoteMachine, Owner or DynamicTarget other than `Any`, authentication or encryption
//! required, `OverrideBlockRules` (an Allow rule beating Block rules), edge traversal, ports
//! with a protocol other than TCP and UDP. A profile that ignores inbound rules
//! (`AllowInboundRules False`) or is off on some interfaces (`DisabledInterfaceAliases`) is
//! a problem too.
//!
//! # The script
//!
//! [`read_script`] reads what a script of zonecheck's shape leaves in place: the rules its
//! `New-NetFirewallRule` commands create (minus those its own later `Remove-NetFirewallRule`
//! commands remove) and the Domain profile's settings from `Set-NetFirewallProfile`. Rules
//! that existed before the script ran are outside its scope (zonecheck's script removes its
//! own group's older rules first; everything else on the host is what [`read_export`] is
//! for). The lexer follows PowerShell's quoting (the five single-quote characters, doubled
//! to escape; double-quoted strings are literal only without `$` and backtick), comments,
//! backtick line continuation, a UTF-8 BOM and CRLF. A script that does not parse is one
//! problem: PowerShell would run none of it. A value that is not a literal (a subexpression,
//! an expanding string, an unknown variable, splatting), a rule created inside a script
//! block (a condition, loop or function), other firewall-changing commands (`netsh
//! advfirewall`, `Set-NetFirewallRule` after rules were created…), and Domain profile
//! settings the script never sets are problems.
//!
//! # The export
//!
//! [`read_export`] reads the JSON written by [`EXPORT_COMMAND`]: `{ "Rules": [...],
//! "Profiles": [...] }`. It tolerates what `ConvertTo-Json` does: a one-element array as a
//! scalar, an array wrapped as `{ "value": [...], "Count": n }` (Windows PowerShell 5.1),
//! `null`, numbers and booleans for strings, a UTF-8 BOM. Enumerations given as numbers
//! (the string conversion omitted) map as Windows defines them:
//!
//! - rule `Enabled`: 1 True, 2 False;
//! - `Direction`: 1 Inbound, 2 Outbound;
//! - `Action` and the profiles' default actions: 0 NotConfigured, 2 Allow, 4 Block;
//! - rule `Profile` (flags): 0 Any, 1 Domain, 2 Private, 4 Public, summed;
//! - profile `Enabled` and `AllowInboundRules` (GpoBoolean): 0 False, 1 True,
//!   2 NotConfigured (the Windows default: True).
//!
//! A missing or `null` address, protocol, port or ICMP field is a problem for that rule (the
//! export command always fills them, with `Any` when unconstrained); a missing or `null`
//! condition field (Program, Service…) means no condition. A missing `Profiles` key, or no
//! Domain profile in it, is a problem: the default actions are unknown.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Map, Value};

use super::{Action, Base, Chain, Hook, Ifaces, Origin, Problem, Rule, Ruleset};
use crate::check::space::{Cube, Dim, Field, Path, addr_max, addr_value};

/// The PowerShell (5.1 or later, as administrator) that writes a host's active firewall
/// rules and profiles to `firewall.json` for [`read_export`]. It looks up each rule's
/// filters one by one, which takes a minute or two on a host with many rules.
pub const EXPORT_COMMAND: &str = r#"$rules = Get-NetFirewallRule -PolicyStore ActiveStore | ForEach-Object {
  $a = $_ | Get-NetFirewallAddressFilter; $p = $_ | Get-NetFirewallPortFilter
  $app = $_ | Get-NetFirewallApplicationFilter; $sec = $_ | Get-NetFirewallSecurityFilter
  [pscustomobject]@{ Name = $_.Name; DisplayName = $_.DisplayName; Description = $_.Description; Group = $_.Group;
    Enabled = "$($_.Enabled)"; Direction = "$($_.Direction)"; Action = "$($_.Action)"; Profile = "$($_.Profile)";
    EdgeTraversalPolicy = "$($_.EdgeTraversalPolicy)"; Owner = $_.Owner;
    LocalAddress = @($a.LocalAddress); RemoteAddress = @($a.RemoteAddress); Protocol = "$($p.Protocol)";
    LocalPort = @($p.LocalPort); RemotePort = @($p.RemotePort); IcmpType = @($p.IcmpType);
    Program = $app.Program; Package = $app.Package; Service = ($_ | Get-NetFirewallServiceFilter).Service;
    InterfaceType = "$(($_ | Get-NetFirewallInterfaceTypeFilter).InterfaceType)";
    InterfaceAlias = @(($_ | Get-NetFirewallInterfaceFilter).InterfaceAlias);
    LocalUser = $sec.LocalUser; RemoteUser = $sec.RemoteUser; RemoteMachine = $sec.RemoteMachine;
    Authentication = "$($sec.Authentication)"; Encryption = "$($sec.Encryption)";
    OverrideBlockRules = "$($sec.OverrideBlockRules)" }
}
$profiles = Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
  [pscustomobject]@{ Name = "$($_.Name)"; Enabled = "$($_.Enabled)";
    DefaultInboundAction = "$($_.DefaultInboundAction)"; DefaultOutboundAction = "$($_.DefaultOutboundAction)";
    AllowInboundRules = "$($_.AllowInboundRules)"; DisabledInterfaceAliases = @($_.DisabledInterfaceAliases) }
}
@{ Rules = @($rules); Profiles = @($profiles) } | ConvertTo-Json -Depth 5 | Set-Content -Encoding UTF8 firewall.json"#;

/// A rule's settings as text, whichever reader found them, before they become cubes.
#[derive(Clone, Debug)]
struct Spec {
    line: usize,
    name: Option<String>,
    display: Option<String>,
    description: Option<String>,
    group: Option<String>,
    enabled: Result<bool, String>,
    /// Does the rule's Profile include Domain?
    domain: Result<bool, String>,
    inbound: Result<bool, String>,
    allow: Result<bool, String>,
    local: Vec<String>,
    remote: Vec<String>,
    protocol: String,
    lport: Vec<String>,
    rport: Vec<String>,
    icmp: Vec<String>,
    /// Conditions beyond packets (Program, Service…), by parameter name.
    conditions: Vec<(String, Vec<String>)>,
    /// Why the rule cannot be read, if it is enabled and in the Domain profile.
    problems: Vec<String>,
}

impl Spec {
    /// New-NetFirewallRule's defaults: enabled, every profile, inbound, allow, any packet.
    fn new(line: usize) -> Spec {
        let any = || vec!["Any".to_string()];
        Spec {
            line,
            name: None,
            display: None,
            description: None,
            group: None,
            enabled: Ok(true),
            domain: Ok(true),
            inbound: Ok(true),
            allow: Ok(true),
            local: any(),
            remote: any(),
            protocol: "Any".into(),
            lport: any(),
            rport: any(),
            icmp: any(),
            conditions: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or("(no name)");
        match &self.display {
            Some(d) if d != name => format!("rule `{name}` ({d})"),
            _ => format!("rule `{name}`"),
        }
    }
}

/// The Domain profile's settings, as far as known.
#[derive(Clone, Debug, Default)]
struct ProfileSettings {
    enabled: Option<bool>,
    inbound_allow: Option<bool>,
    outbound_allow: Option<bool>,
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

fn eq(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b)
}

/// A PowerShell enum as `ConvertTo-Json` writes it: by name, or by number when the export
/// left out the string conversion. `values` are (name, number, meaning).
fn parse_enum<T: Copy>(what: &str, s: &str, values: &[(&str, &str, T)]) -> Result<T, String> {
    let t = s.trim().to_ascii_lowercase();
    values.iter().find(|(name, number, _)| t == name.to_ascii_lowercase() || t == *number).map(|v| v.2).ok_or_else(
        || {
            let names: Vec<&str> = values.iter().map(|v| v.0).collect();
            format!("{what} `{s}` is not one of {}", names.join(", "))
        },
    )
}

/// Rule `Enabled`: True (1) or False (2).
fn parse_enabled(s: &str) -> Result<bool, String> {
    parse_enum("Enabled", s, &[("True", "1", true), ("False", "2", false)])
}

/// A profile's GpoBoolean: False (0), True (1), NotConfigured (2: the Windows default).
fn parse_gpo_bool(what: &str, s: &str, default: bool) -> Result<bool, String> {
    parse_enum(what, s, &[("True", "1", true), ("False", "0", false), ("NotConfigured", "2", default)])
}

/// `Direction`: Inbound (1) is true, Outbound (2) false.
fn parse_direction(s: &str) -> Result<bool, String> {
    parse_enum("Direction", s, &[("Inbound", "1", true), ("Outbound", "2", false)])
}

/// A rule's action: Allow (2) or Block (4).
fn parse_action(s: &str) -> Result<bool, String> {
    parse_enum("Action", s, &[("Allow", "2", true), ("Block", "4", false)])
}

/// A default action: Allow (2), Block (4), NotConfigured (0: `default`).
fn parse_default_action(what: &str, s: &str, default: bool) -> Result<bool, String> {
    parse_enum(what, s, &[("Allow", "2", true), ("Block", "4", false), ("NotConfigured", "0", default)])
}

/// Does a rule's Profile include Domain? Names (`Any`, `Domain`, `Domain, Private`) or the
/// flags number (0 Any, 1 Domain, 2 Private, 4 Public).
fn profile_has_domain(values: &[String]) -> Result<bool, String> {
    let mut domain = false;
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
            domain |= n == 0 || n & 1 == 1;
            continue;
        }
        match v.to_ascii_lowercase().as_str() {
            "any" | "domain" => domain = true,
            "private" | "public" | "notapplicable" => {}
            _ => return Err(format!("Profile `{v}` is not Any, Domain, Private or Public")),
        }
    }
    if !any_value {
        return Err("Profile is empty".into());
    }
    Ok(domain)
}

/// Addresses per family (index 0 IPv4, 1 IPv6); `None` where the list has none of that
/// family.
type Addrs = [Option<Field>; 2];

fn addresses(param: &str, values: &[String]) -> Result<Addrs, String> {
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
fn address(s: &str) -> Result<(bool, u128, u128), String> {
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

fn not_an_address(s: &str) -> String {
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
fn protocol(s: &str) -> Result<Option<u8>, String> {
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
fn ports(param: &str, values: &[String]) -> Result<Option<Field>, String> {
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
fn icmp_types(values: &[String]) -> Result<Option<Vec<(Field, Field)>>, String> {
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
fn condition_problem(param: &str, values: &[String], allow: bool) -> Option<String> {
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

// ---------------------------------------------------------------------------------------
// Rules to a ruleset
// ---------------------------------------------------------------------------------------

/// What became of one rule.
enum Outcome {
    /// Disabled or not in the Domain profile.
    Ignored,
    Read {
        inbound: bool,
        allow: bool,
        rule: Rule,
    },
    Problems(Vec<String>),
}

fn shorten(values: &[String]) -> String {
    let mut s = values.iter().take(3).map(|v| v.trim()).collect::<Vec<_>>().join(",");
    if values.len() > 3 {
        s.push_str(&format!(",… (+{})", values.len() - 3));
    }
    s
}

fn is_any(values: &[String]) -> bool {
    values.iter().any(|v| eq(v, "Any"))
}

fn summary(s: &Spec, inbound: bool, allow: bool) -> String {
    let mut parts =
        vec![if allow { "allow" } else { "block" }.to_string(), if inbound { "in" } else { "out" }.to_string()];
    parts.push(s.protocol.trim().to_string());
    for (label, v) in [("local", &s.local), ("remote", &s.remote), ("lport", &s.lport), ("rport", &s.rport)] {
        if !is_any(v) {
            parts.push(format!("{label} {}", shorten(v)));
        }
    }
    if !is_any(&s.icmp) {
        parts.push(format!("icmp {}", shorten(&s.icmp)));
    }
    let body = parts.join(" ");
    match &s.display {
        Some(d) => format!("{d} [{body}]"),
        None => format!("[{body}]"),
    }
}

fn build_rule(s: &Spec) -> Outcome {
    let mut problems = Vec::new();
    match &s.enabled {
        Ok(false) => return Outcome::Ignored,
        Ok(true) => {}
        Err(e) => problems.push(e.clone()),
    }
    match &s.domain {
        Ok(false) => return Outcome::Ignored,
        Ok(true) => {}
        Err(e) => problems.push(e.clone()),
    }
    let inbound = s.inbound.clone().unwrap_or_else(|e| {
        problems.push(e);
        true
    });
    let allow = s.allow.clone().unwrap_or_else(|e| {
        problems.push(e);
        true
    });
    problems.extend(s.problems.iter().cloned());
    for (p, v) in &s.conditions {
        problems.extend(condition_problem(p, v, allow));
    }
    // Every reason is reported, not just the first.
    match cubes(s, inbound) {
        Ok(matches) if problems.is_empty() => {
            let origin = Origin {
                line: s.line,
                text: summary(s, inbound, allow),
                handle: s.name.clone(),
                comment: s.description.clone().filter(|d| !d.is_empty()).or_else(|| s.group.clone()),
                implicit: false,
            };
            let action = if allow { Action::Accept } else { Action::Drop };
            return Outcome::Read { inbound, allow, rule: Rule { matches, action, origin } };
        }
        Ok(_) => {}
        Err(e) => problems.push(e),
    }
    Outcome::Problems(problems)
}

/// The packets a rule matches, one cube per family (and per ICMP type:code).
fn cubes(s: &Spec, inbound: bool) -> Result<Vec<Cube>, String> {
    let local = addresses("LocalAddress", &s.local)?;
    let remote = addresses("RemoteAddress", &s.remote)?;
    let proto = protocol(&s.protocol)?;
    let lport = ports("LocalPort", &s.lport)?;
    let rport = ports("RemotePort", &s.rport)?;
    if (lport.is_some() || rport.is_some()) && !matches!(proto, Some(6 | 17)) {
        return Err(format!("ports with Protocol {}: ports exist only for TCP and UDP", s.protocol.trim()));
    }
    let icmp = icmp_types(&s.icmp)?;
    if icmp.is_some() && !matches!(proto, Some(1 | 58)) {
        return Err(format!("IcmpType with Protocol {}: types exist only for ICMPv4 and ICMPv6", s.protocol.trim()));
    }
    let (path, ld, rd, lpd, rpd) = if inbound {
        (Path::Input, Dim::Dst, Dim::Src, Dim::Dport, Dim::Sport)
    } else {
        (Path::Output, Dim::Src, Dim::Dst, Dim::Sport, Dim::Dport)
    };
    let mut out = Vec::new();
    for v6 in [false, true] {
        let (Some(l), Some(r)) = (&local[usize::from(v6)], &remote[usize::from(v6)]) else { continue };
        let mut c =
            Cube::any(v6).with_value(Dim::Path, path as u128).and_then(|c| c.with(ld, l)).and_then(|c| c.with(rd, r));
        if let Some(p) = proto {
            c = c.and_then(|c| c.with_value(Dim::Proto, u128::from(p)));
        }
        if let Some(f) = &lport {
            c = c.and_then(|c| c.with(lpd, f));
        }
        if let Some(f) = &rport {
            c = c.and_then(|c| c.with(rpd, f));
        }
        let Some(c) = c else { continue };
        match &icmp {
            None => out.push(c),
            Some(types) => {
                out.extend(types.iter().filter_map(|(t, code)| c.clone().with(Dim::Dport, t)?.with(Dim::Sport, code)))
            }
        }
    }
    Ok(out)
}

/// The ruleset of the rules and the Domain profile: Block rules before Allow rules per
/// direction, the defaults as policies.
fn assemble(specs: &[Spec], profile: &ProfileSettings, mut problems: Vec<Problem>) -> Ruleset {
    let mut chains = [
        (Vec::new(), Vec::new()), // inbound: (blocks, allows)
        (Vec::new(), Vec::new()), // outbound
    ];
    for s in specs {
        match build_rule(s) {
            Outcome::Ignored => {}
            Outcome::Read { inbound, allow, rule } => {
                let c = &mut chains[usize::from(!inbound)];
                if allow { c.1.push(rule) } else { c.0.push(rule) }
            }
            Outcome::Problems(ps) => {
                for p in ps {
                    problems
                        .push(Problem { line: s.line, message: format!("{}: {p}; the rule is left out", s.label()) });
                }
            }
        }
    }
    let mut missing = |what: &str, assumed: &str| {
        problems.push(Problem {
            line: 0,
            message: format!(
                "the Domain profile's {what} is not known; evaluated as {assumed} (the Windows default), \
                 but the host may differ"
            ),
        })
    };
    let enabled = profile.enabled.unwrap_or_else(|| {
        missing("Enabled setting", "enabled");
        true
    });
    let inbound_allow = profile.inbound_allow.unwrap_or_else(|| {
        missing("DefaultInboundAction", "Block");
        false
    });
    let outbound_allow = profile.outbound_allow.unwrap_or_else(|| {
        missing("DefaultOutboundAction", "Allow");
        true
    });
    let [(ib, ia), (ob, oa)] = chains;
    // A disabled firewall applies no rule and permits everything.
    let rules = |b: Vec<Rule>, a: Vec<Rule>| if enabled { b.into_iter().chain(a).collect() } else { Vec::new() };
    Ruleset {
        chains: vec![
            Chain { name: "inbound".into(), rules: rules(ib, ia) },
            Chain { name: "outbound".into(), rules: rules(ob, oa) },
        ],
        bases: vec![
            Base { chain: 0, hook: Hook::Input, priority: 0, family: None, policy_accept: !enabled || inbound_allow },
            Base { chain: 1, hook: Hook::Output, priority: 0, family: None, policy_accept: !enabled || outbound_allow },
        ],
        problems,
        incomplete: None,
    }
}

/// What an unreadable input gives: its problem, and chains that drop everything (so even a
/// caller that ignored the problem would see nothing permitted).
fn unreadable(p: Problem) -> Ruleset {
    let closed = ProfileSettings { enabled: Some(true), inbound_allow: Some(false), outbound_allow: Some(false) };
    assemble(&[], &closed, vec![p])
}

/// Apply one profile's settings (by name) to the Domain settings, if it is the Domain
/// profile. Shared by the script's `Set-NetFirewallProfile` and the export.
fn profile_setting(p: &mut ProfileSettings, key: &str, value: &str) -> Result<(), String> {
    match key.to_ascii_lowercase().as_str() {
        "enabled" => p.enabled = Some(parse_gpo_bool("Enabled", value, true)?),
        "defaultinboundaction" => p.inbound_allow = Some(parse_default_action("DefaultInboundAction", value, false)?),
        "defaultoutboundaction" => p.outbound_allow = Some(parse_default_action("DefaultOutboundAction", value, true)?),
        "allowinboundrules" if !parse_gpo_bool("AllowInboundRules", value, true)? => {
            return Err("AllowInboundRules False: the profile ignores inbound rules, which is not modelled".into());
        }
        "disabledinterfacealiases" => {
            let v = value.trim();
            if !(v.is_empty() || eq(v, "NotConfigured")) {
                return Err(format!("DisabledInterfaceAliases {v}: the firewall is off on those interfaces"));
            }
        }
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The export
// ---------------------------------------------------------------------------------------

/// The JSON export of a live host's firewall, as written by [`EXPORT_COMMAND`].
pub fn read_export(text: &str, _ifaces: &mut Ifaces) -> Ruleset {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let fail = |message: String| unreadable(Problem { line: 0, message });
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        // An export cut off before its closing brace: refused.
        Err(e) if e.is_eof() => {
            let mut rs = unreadable(Problem { line: e.line(), message: format!("the export stops early: {e}") });
            rs.incomplete = rs.problems.pop();
            return rs;
        }
        Err(e) => return fail(format!("the export is not JSON: {e}")),
    };
    let Some(root) = root.as_object() else {
        return fail("the export is not an object with Rules and Profiles; write it with the export command".into());
    };
    let mut problems = Vec::new();
    let mut specs = Vec::new();
    match get(root, "Rules") {
        None => problems
            .push(Problem { line: 0, message: "the export has no Rules; write it with the export command".into() }),
        Some(rules) => {
            for (k, r) in elements(rules).into_iter().enumerate() {
                match r.as_object() {
                    Some(o) => specs.push(export_spec(o)),
                    None if r.is_null() => {}
                    None => problems.push(Problem { line: 0, message: format!("Rules entry {k} is not an object") }),
                }
            }
        }
    }
    let mut profile = ProfileSettings::default();
    match get(root, "Profiles") {
        None => problems
            .push(Problem { line: 0, message: "the export has no Profiles: the default actions are unknown".into() }),
        Some(ps) => {
            let domain = elements(ps).into_iter().find_map(|p| {
                let o = p.as_object()?;
                get(o, "Name").and_then(text_of).filter(|n| eq(n, "Domain")).map(|_| o)
            });
            match domain {
                None => problems.push(Problem {
                    line: 0,
                    message: "the export's Profiles have no Domain profile: the default actions are unknown".into(),
                }),
                Some(o) => {
                    for key in [
                        "Enabled",
                        "DefaultInboundAction",
                        "DefaultOutboundAction",
                        "AllowInboundRules",
                        "DisabledInterfaceAliases",
                    ] {
                        let Some(v) = get(o, key) else { continue };
                        let value = texts_of(v).unwrap_or_default().join(", ");
                        if let Err(e) = profile_setting(&mut profile, key, &value) {
                            problems.push(Problem { line: 0, message: format!("Domain profile: {e}") });
                        }
                    }
                }
            }
        }
    }
    assemble(&specs, &profile, problems)
}

/// A key, case-insensitively (PowerShell's property names are).
fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The elements of what should be an array: a scalar is one element, `{ "value": [...] }`
/// (Windows PowerShell 5.1's wrapped arrays) its value, `null` none.
fn elements(v: &Value) -> Vec<&Value> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match get(o, "value") {
            Some(inner) if !inner.is_object() => elements(inner),
            _ => vec![v],
        },
        _ => vec![v],
    }
}

/// A scalar as text; a one-element array as its element.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Value::Array(a) if a.len() == 1 => text_of(&a[0]),
        Value::Object(o) => get(o, "value").filter(|x| !x.is_object()).and_then(text_of),
        _ => None,
    }
}

/// A list of texts, flattening nested arrays; `None` for null. Nulls inside are skipped.
fn texts_of(v: &Value) -> Option<Vec<String>> {
    if v.is_null() {
        return None;
    }
    let mut out = Vec::new();
    let mut stack = vec![v];
    let mut steps = 0usize;
    while let Some(x) = stack.pop() {
        steps += 1;
        if steps > 1_000_000 {
            break;
        }
        match x {
            Value::Array(a) => stack.extend(a.iter().rev()),
            Value::Object(o) => match get(o, "value") {
                Some(inner) if !inner.is_object() => stack.push(inner),
                _ => {}
            },
            Value::Null => {}
            other => out.extend(text_of(other)),
        }
    }
    Some(out)
}

/// The export's condition fields (no condition when absent or null).
const CONDITIONS: &[&str] = &[
    "Program",
    "Package",
    "Service",
    "InterfaceType",
    "InterfaceAlias",
    "LocalUser",
    "RemoteUser",
    "RemoteMachine",
    "Owner",
    "Authentication",
    "Encryption",
    "OverrideBlockRules",
    "EdgeTraversalPolicy",
];

fn export_spec(o: &Map<String, Value>) -> Spec {
    let mut s = Spec::new(0);
    let text = |k: &str| get(o, k).and_then(text_of);
    s.name = text("Name");
    s.display = text("DisplayName");
    s.description = text("Description");
    s.group = text("Group").filter(|g| !g.is_empty());
    let required = |k: &str| text(k).ok_or_else(|| format!("{k} is missing or not a single value"));
    s.enabled = required("Enabled").and_then(|v| parse_enabled(&v));
    s.domain = get(o, "Profile")
        .and_then(texts_of)
        .ok_or_else(|| "Profile is missing".to_string())
        .and_then(|v| profile_has_domain(&v));
    s.inbound = required("Direction").and_then(|v| parse_direction(&v));
    s.allow = required("Action").and_then(|v| parse_action(&v));
    let mut problems = Vec::new();
    let mut list = |k: &str| match get(o, k).and_then(texts_of) {
        Some(v) => v,
        None => {
            problems.push(format!("{k} is missing or null in the export"));
            Vec::new()
        }
    };
    s.local = list("LocalAddress");
    s.remote = list("RemoteAddress");
    s.lport = list("LocalPort");
    s.rport = list("RemotePort");
    s.icmp = list("IcmpType");
    match text("Protocol") {
        Some(p) => s.protocol = p,
        None => problems.push("Protocol is missing or not a single value".into()),
    }
    for k in CONDITIONS {
        if let Some(v) = get(o, k).and_then(texts_of) {
            s.conditions.push((k.to_string(), v));
        }
    }
    s.problems = problems;
    s
}

// ---------------------------------------------------------------------------------------
// The script: lexer
// ---------------------------------------------------------------------------------------

/// The five characters PowerShell reads as a single quote, and the four it reads as a
/// double quote.
const SQ: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
const DQ: [char; 4] = ['"', '\u{201C}', '\u{201D}', '\u{201E}'];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A literal string (single-quoted, or double-quoted without expansion).
    Str(String),
    /// A value the reader cannot know (an expanding string, splatting).
    Opaque(&'static str),
    Word(String),
    /// A variable, lower case, with any `.member` access.
    Var(String),
    /// `(`, `{`, `a` for `@(`, `s` for `$(`, `h` for `@{`.
    Open(char),
    Close(char),
    Comma,
    Pipe,
    Assign,
    /// Newline or `;`.
    End,
    /// Any other operator.
    Other,
}

fn word_end(c: char) -> bool {
    c.is_whitespace() || "(){};,|".contains(c) || SQ.contains(&c) || DQ.contains(&c)
}

/// Tokens with their 1-based lines, or where and why the script does not parse.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, (usize, String)> {
    let cs: Vec<char> = text.chars().collect();
    let at = |i: usize| cs.get(i).copied();
    let mut out = Vec::new();
    let mut stack: Vec<char> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while let Some(c) = at(i) {
        let start = line;
        let next = at(i + 1);
        if c == '\n' {
            out.push((Tok::End, line));
            line += 1;
            i += 1;
            continue;
        }
        if c == '`' && matches!(next, Some('\n' | '\r')) {
            // Line continuation.
            i += if next == Some('\r') && at(i + 2) == Some('\n') { 3 } else { 2 };
            line += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == ';' {
            out.push((Tok::End, line));
            i += 1;
            continue;
        }
        if c == '#' {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
            continue;
        }
        if c == '<' && next == Some('#') {
            i += 2;
            loop {
                match at(i) {
                    None => return Err((start, "unterminated block comment".into())),
                    Some('#') if at(i + 1) == Some('>') => {
                        i += 2;
                        break;
                    }
                    Some(ch) => {
                        line += usize::from(ch == '\n');
                        i += 1;
                    }
                }
            }
            continue;
        }
        if c == '@' && next.is_some_and(|q| SQ.contains(&q) || DQ.contains(&q)) {
            let mut j = i + 2;
            while at(j).is_some_and(|c| c == ' ' || c == '\t') {
                j += 1;
            }
            if at(j) == Some('\r') {
                j += 1;
            }
            if at(j) == Some('\n') {
                // A here-string: up to a line starting with the quote and `@`.
                let single = next.is_some_and(|q| SQ.contains(&q));
                line += 1;
                let body_start = j + 1;
                let mut k = body_start;
                let end = loop {
                    match at(k) {
                        None => return Err((start, "unterminated here-string".into())),
                        Some('\n') => {
                            line += 1;
                            let q = at(k + 1);
                            if q.is_some_and(|q| if single { SQ.contains(&q) } else { DQ.contains(&q) })
                                && at(k + 2) == Some('@')
                            {
                                break k;
                            }
                            k += 1;
                        }
                        Some(_) => k += 1,
                    }
                };
                let body: String = cs[body_start..end].iter().collect();
                let body = body.strip_suffix('\r').unwrap_or(&body).to_string();
                let tok =
                    if single || !body.contains(['$', '`']) { Tok::Str(body) } else { Tok::Opaque("here-string") };
                out.push((tok, start));
                i = end + 3;
                continue;
            }
        }
        if SQ.contains(&c) {
            let mut value = String::new();
            i += 1;
            loop {
                match at(i) {
                    None => return Err((start, "unterminated single-quoted string".into())),
                    Some(q) if SQ.contains(&q) => {
                        if let Some(q2) = at(i + 1).filter(|q2| SQ.contains(q2)) {
                            value.push(q2);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(ch) => {
                        line += usize::from(ch == '\n');
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(value), start));
            continue;
        }
        if DQ.contains(&c) {
            let mut value = String::new();
            let mut expands = false;
            i += 1;
            loop {
                match at(i) {
                    None => return Err((start, "unterminated double-quoted string".into())),
                    Some('`') => {
                        // Escapes other than a quote or backtick are not worth modelling.
                        match at(i + 1) {
                            Some(e) if e == '`' || DQ.contains(&e) || e == '$' => value.push(e),
                            Some(e) => {
                                line += usize::from(e == '\n');
                                expands = true;
                            }
                            None => return Err((start, "unterminated double-quoted string".into())),
                        }
                        i += 2;
                    }
                    Some('$') => {
                        if at(i + 1).is_some_and(|n| n.is_alphanumeric() || "_({?^:$".contains(n)) {
                            expands = true;
                        }
                        value.push('$');
                        i += 1;
                    }
                    Some(q) if DQ.contains(&q) => {
                        if let Some(q2) = at(i + 1).filter(|q2| DQ.contains(q2)) {
                            value.push(q2);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(ch) => {
                        line += usize::from(ch == '\n');
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((if expands { Tok::Opaque("an expanding double-quoted string") } else { Tok::Str(value) }, start));
            continue;
        }
        if c == '$' {
            match next {
                Some('(') => {
                    out.push((Tok::Open('s'), line));
                    stack.push('s');
                    i += 2;
                }
                Some('{') => {
                    let mut name = String::new();
                    i += 2;
                    loop {
                        match at(i) {
                            None => return Err((start, "unterminated ${…} variable".into())),
                            Some('}') => {
                                i += 1;
                                break;
                            }
                            Some(ch) => {
                                line += usize::from(ch == '\n');
                                name.push(ch);
                                i += 1;
                            }
                        }
                    }
                    out.push((Tok::Var(name.to_lowercase()), start));
                }
                _ => {
                    let mut name = String::new();
                    i += 1;
                    if at(i).is_some_and(|c| "?^$".contains(c)) {
                        name.push(cs[i]);
                        i += 1;
                    } else {
                        while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                            name.push(cs[i]);
                            i += 1;
                        }
                        // Member access.
                        while at(i) == Some('.') && at(i + 1).is_some_and(|c| c.is_alphabetic() || c == '_') {
                            name.push('.');
                            i += 1;
                            while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                                name.push(cs[i]);
                                i += 1;
                            }
                        }
                    }
                    out.push((Tok::Var(name.to_lowercase()), start));
                }
            }
            continue;
        }
        if c == '@' && next.is_some_and(|n| n.is_alphanumeric() || n == '_') {
            i += 1;
            while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                i += 1;
            }
            out.push((Tok::Opaque("splatting"), start));
            continue;
        }
        let open = match (c, next) {
            ('@', Some('(')) => Some(('a', 2)),
            ('@', Some('{')) => Some(('h', 2)),
            ('(', _) => Some(('(', 1)),
            ('{', _) => Some(('{', 1)),
            _ => None,
        };
        if let Some((k, n)) = open {
            out.push((Tok::Open(k), line));
            stack.push(k);
            i += n;
            continue;
        }
        if c == ')' || c == '}' {
            let ok = match stack.pop() {
                Some('(' | 'a' | 's') => c == ')',
                Some('{' | 'h') => c == '}',
                _ => false,
            };
            if !ok {
                return Err((line, format!("unbalanced `{c}`")));
            }
            out.push((Tok::Close(c), line));
            i += 1;
            continue;
        }
        match c {
            ',' => {
                out.push((Tok::Comma, line));
                i += 1;
                continue;
            }
            '|' => {
                out.push((if next == Some('|') { Tok::Other } else { Tok::Pipe }, line));
                i += if next == Some('|') { 2 } else { 1 };
                continue;
            }
            '=' => {
                out.push((if next == Some('=') { Tok::Other } else { Tok::Assign }, line));
                i += if next == Some('=') { 2 } else { 1 };
                continue;
            }
            '[' => {
                // A type literal or attribute: skip it.
                let mut depth = 0usize;
                loop {
                    match at(i) {
                        None => return Err((start, "unterminated `[`".into())),
                        Some('[') => depth += 1,
                        Some(']') => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        Some('\n') => return Err((start, "unterminated `[`".into())),
                        Some(_) => {}
                    }
                    i += 1;
                }
                out.push((Tok::Other, start));
                continue;
            }
            '&' | '>' | '<' | '!' | '+' | '*' | '%' => {
                out.push((Tok::Other, line));
                i += 1;
                continue;
            }
            _ => {}
        }
        // A bareword.
        let mut word = String::new();
        let mut opaque = false;
        while let Some(ch) = at(i) {
            if word_end(ch) {
                break;
            }
            if ch == '`' {
                match at(i + 1) {
                    None | Some('\n' | '\r') => break,
                    Some(e) => {
                        word.push(e);
                        i += 2;
                        continue;
                    }
                }
            }
            if ch == '$' {
                // `-Param:$value`: the value is its own token.
                if word.starts_with('-') && word.ends_with(':') {
                    break;
                }
                opaque = true;
            }
            word.push(ch);
            i += 1;
        }
        if word.is_empty() {
            // A lone backtick at the end of the text: nothing to escape.
            i += 1;
            continue;
        }
        out.push((if opaque { Tok::Opaque("a bareword with a variable") } else { Tok::Word(word) }, start));
    }
    if let Some(k) = stack.last() {
        let what = match k {
            'a' => "@(",
            's' => "$(",
            'h' => "@{",
            '(' => "(",
            _ => "{",
        };
        return Err((line, format!("`{what}` is never closed")));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The script: commands
// ---------------------------------------------------------------------------------------

/// An argument value: a literal, or something the reader cannot know.
#[derive(Clone, Debug)]
enum Val {
    Text(String),
    Unknown(String),
}

#[derive(Clone, Debug, Default)]
struct Args {
    /// (name as written without `-`, values, line).
    params: Vec<(String, Vec<Val>, usize)>,
    positional: Vec<Val>,
}

/// What a variable holds.
#[derive(Clone, Debug)]
enum VarVal {
    Text(String),
    /// The rules (indexes into the created rules) a `Get-NetFirewallRule` returned.
    Rules(BTreeSet<usize>),
}

/// Rules a selection names: the created rules' indexes, or why it is not known.
#[derive(Clone, Debug)]
enum Sel {
    Rules(BTreeSet<usize>),
    Unknown(String),
}

const COMMON: &[&str] = &[
    "Verbose",
    "Debug",
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "ErrorVariable",
    "WarningVariable",
    "InformationVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
    "Confirm",
    "WhatIf",
    "AsJob",
    "ThrottleLimit",
    "CimSession",
];

const NEW_RULE: &[&str] = &[
    "Name",
    "DisplayName",
    "Description",
    "Group",
    "Enabled",
    "Profile",
    "Platform",
    "Direction",
    "Action",
    "EdgeTraversalPolicy",
    "LooseSourceMapping",
    "LocalOnlyMapping",
    "Owner",
    "LocalAddress",
    "RemoteAddress",
    "Protocol",
    "LocalPort",
    "RemotePort",
    "IcmpType",
    "DynamicTarget",
    "Program",
    "Package",
    "Service",
    "InterfaceAlias",
    "InterfaceType",
    "LocalUser",
    "RemoteUser",
    "RemoteMachine",
    "Authentication",
    "Encryption",
    "OverrideBlockRules",
    "RemoteDynamicKeywordAddresses",
    "PolicyStore",
    "GPOSession",
];

const SET_PROFILE: &[&str] = &[
    "Name",
    "Profile",
    "All",
    "Enabled",
    "DefaultInboundAction",
    "DefaultOutboundAction",
    "AllowInboundRules",
    "DisabledInterfaceAliases",
    "AllowLocalFirewallRules",
    "AllowLocalIPsecRules",
    "AllowUserApps",
    "AllowUserPorts",
    "AllowUnicastResponseToMulticast",
    "NotifyOnListen",
    "EnableStealthModeForIPsec",
    "LogFileName",
    "LogMaxSizeKilobytes",
    "LogAllowed",
    "LogBlocked",
    "LogIgnored",
    "PolicyStore",
    "GPOSession",
];

const SELECT_RULES: &[&str] = &[
    "Name",
    "DisplayName",
    "Group",
    "All",
    "PolicyStore",
    "Description",
    "DisplayGroup",
    "Enabled",
    "Direction",
    "Action",
    "InputObject",
    "GPOSession",
];

/// A parameter name as PowerShell binds it: exact, else a unique prefix (case-insensitive).
fn resolve(written: &str, known: &[&'static str]) -> Option<&'static str> {
    let all = known.iter().chain(COMMON);
    if let Some(k) = all.clone().find(|k| k.eq_ignore_ascii_case(written)) {
        return Some(k);
    }
    let w = written.to_ascii_lowercase();
    let mut hits = all.filter(|k| k.to_ascii_lowercase().starts_with(&w));
    match (hits.next(), hits.next()) {
        (Some(k), None) if !w.is_empty() => Some(k),
        _ => None,
    }
}

fn texts(vals: &[Val]) -> Result<Vec<String>, String> {
    vals.iter()
        .map(|v| match v {
            Val::Text(s) => Ok(s.clone()),
            Val::Unknown(why) => Err(why.clone()),
        })
        .collect()
}

fn one(param: &str, vals: &[Val]) -> Result<String, String> {
    match texts(vals).map_err(|e| format!("-{param} is {e}, not a literal"))?.as_slice() {
        [v] => Ok(v.clone()),
        [] => Err(format!("-{param} has no value")),
        _ => Err(format!("-{param} has several values")),
    }
}

/// PowerShell wildcard matching (`*`, `?`), case-insensitive; `None` for patterns with
/// `[` or a backtick, which are not modelled.
fn wildcard(pattern: &str, s: &str) -> Option<bool> {
    if pattern.contains(['[', '`']) {
        return None;
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = s.to_lowercase().chars().collect();
    // Iterative matching with one backtrack point: linear in practice, never recursive.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return Some(false);
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    Some(i == p.len())
}

/// One rule the script creates.
struct Created {
    spec: Spec,
    alive: bool,
}

struct Interp<'a> {
    toks: &'a [(Tok, usize)],
    vars: HashMap<String, VarVal>,
    rules: Vec<Created>,
    profile: ProfileSettings,
    problems: Vec<Problem>,
}

fn is_end(t: &Tok) -> bool {
    matches!(t, Tok::End | Tok::Pipe | Tok::Close(_))
}

impl Interp<'_> {
    fn tok(&self, i: usize) -> Option<&Tok> {
        self.toks.get(i).map(|t| &t.0)
    }

    fn line(&self, i: usize) -> usize {
        self.toks.get(i).or(self.toks.last()).map_or(0, |t| t.1)
    }

    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem { line, message });
    }

    fn var(&self, name: &str) -> Val {
        match name {
            "true" => Val::Text("True".into()),
            "false" => Val::Text("False".into()),
            "null" => Val::Unknown("$null".into()),
            _ => match self.vars.get(name) {
                Some(VarVal::Text(s)) => Val::Text(s.clone()),
                _ => Val::Unknown(format!("${name}")),
            },
        }
    }

    /// The values of an `@(…)` or `(…)` group starting after its opening token; the index
    /// after its closing token.
    fn group(&self, mut i: usize, out: &mut Vec<Val>) -> usize {
        let mut statement_start = true;
        while let Some(t) = self.tok(i) {
            match t {
                Tok::Close(_) => return i + 1,
                Tok::Comma => statement_start = false,
                Tok::End => statement_start = true,
                Tok::Str(s) => {
                    out.push(Val::Text(s.clone()));
                    statement_start = false;
                }
                Tok::Var(v) => {
                    out.push(self.var(v));
                    statement_start = false;
                }
                Tok::Word(w) if !statement_start && w.parse::<i64>().is_ok() => out.push(Val::Text(w.clone())),
                Tok::Open('a' | '(') => {
                    i = self.group(i + 1, out);
                    statement_start = false;
                    continue;
                }
                Tok::Open(_) => {
                    out.push(Val::Unknown("a script block, subexpression or hashtable".into()));
                    i = self.skip_group(i + 1);
                    continue;
                }
                Tok::Word(w) if statement_start => out.push(Val::Unknown(format!("the output of command `{w}`"))),
                Tok::Word(w) => out.push(Val::Unknown(format!("an expression with `{w}`"))),
                Tok::Opaque(why) => out.push(Val::Unknown((*why).into())),
                Tok::Pipe | Tok::Assign | Tok::Other => out.push(Val::Unknown("an expression".into())),
            }
            i += 1;
        }
        i
    }

    /// The index after the group's closing token.
    fn skip_group(&self, mut i: usize) -> usize {
        let mut depth = 1usize;
        while let Some(t) = self.tok(i) {
            match t {
                Tok::Open(_) => depth += 1,
                Tok::Close(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        i
    }

    /// A command's arguments from `i` up to the end of its pipeline element (the index of
    /// the token that ends it, not consumed).
    fn args(&self, mut i: usize) -> (Args, usize) {
        let mut a = Args::default();
        // Where values go: a parameter, or the positional list.
        let mut cur: Option<usize> = None;
        while let Some(t) = self.tok(i) {
            if is_end(t) {
                break;
            }
            let mut vals = Vec::new();
            match t {
                Tok::Word(w) if w.len() > 1 && w.starts_with('-') && w.parse::<i64>().is_err() => {
                    let body = &w[1..];
                    let (name, inline) = match body.split_once(':') {
                        Some((n, v)) => (n, Some(v)),
                        None => (body, None),
                    };
                    a.params.push((name.to_string(), Vec::new(), self.line(i)));
                    cur = Some(a.params.len() - 1);
                    if let Some(v) = inline.filter(|v| !v.is_empty()) {
                        vals.push(Val::Text(v.to_string()));
                    }
                }
                Tok::Word(w) | Tok::Str(w) => vals.push(Val::Text(w.clone())),
                Tok::Var(v) => vals.push(self.var(v)),
                Tok::Comma => {}
                Tok::Open('a' | '(') => {
                    i = self.group(i + 1, &mut vals);
                    self.push_vals(&mut a, cur, vals);
                    continue;
                }
                Tok::Open(_) => {
                    vals.push(Val::Unknown("a script block, subexpression or hashtable".into()));
                    i = self.skip_group(i + 1);
                    self.push_vals(&mut a, cur, vals);
                    continue;
                }
                Tok::Opaque(why) => vals.push(Val::Unknown((*why).into())),
                _ => vals.push(Val::Unknown("an expression".into())),
            }
            self.push_vals(&mut a, cur, vals);
            // A comma continues the list onto the next line.
            if matches!(t, Tok::Comma) {
                while self.tok(i + 1) == Some(&Tok::End) {
                    i += 1;
                }
            }
            i += 1;
        }
        (a, i)
    }

    fn push_vals(&self, a: &mut Args, cur: Option<usize>, vals: Vec<Val>) {
        match cur {
            Some(k) => a.params[k].1.extend(vals),
            None => a.positional.extend(vals),
        }
    }

    /// The rules a Get-/Remove-NetFirewallRule selects by its own parameters; `None` when
    /// it has no selecting parameter.
    fn select(&self, args: &Args) -> Option<Sel> {
        let mut filters: Vec<(&str, Vec<String>)> = Vec::new();
        let mut all = false;
        if !args.positional.is_empty() {
            return Some(Sel::Unknown("with positional arguments".into()));
        }
        for (p, vals, _) in &args.params {
            match resolve(p, SELECT_RULES) {
                Some(k @ ("Name" | "DisplayName" | "Group")) => match texts(vals) {
                    Ok(v) => filters.push((k, v)),
                    Err(e) => return Some(Sel::Unknown(format!("-{k} {e}"))),
                },
                Some("All") => all = true,
                Some("PolicyStore") => match one("PolicyStore", vals) {
                    Ok(s) if ["PersistentStore", "localhost", "ActiveStore"].iter().any(|x| eq(&s, x)) => {}
                    _ => return Some(Sel::Unknown("in another policy store".into())),
                },
                Some(k) if COMMON.contains(&k) && k != "WhatIf" && k != "CimSession" => {}
                Some(k) => return Some(Sel::Unknown(format!("with -{k}"))),
                None => return Some(Sel::Unknown(format!("with -{p}"))),
            }
        }
        if filters.is_empty() && !all {
            return None;
        }
        let mut set = BTreeSet::new();
        for (k, r) in self.rules.iter().enumerate().filter(|(_, r)| r.alive) {
            let mut matched = true;
            for (f, patterns) in &filters {
                let value = match *f {
                    "Name" => r.spec.name.as_deref(),
                    "DisplayName" => r.spec.display.as_deref(),
                    _ => r.spec.group.as_deref(),
                };
                let mut any = false;
                for p in patterns {
                    match value.map(|v| wildcard(p, v)) {
                        Some(None) => return Some(Sel::Unknown(format!("with the pattern `{p}`"))),
                        Some(Some(true)) => any = true,
                        _ => {}
                    }
                }
                matched &= any;
            }
            if matched {
                set.insert(k);
            }
        }
        Some(Sel::Rules(set))
    }

    fn in_block(stack: &[char]) -> bool {
        stack.contains(&'{')
    }

    fn run(&mut self) {
        let mut i = 0;
        let mut stack: Vec<char> = Vec::new();
        let mut cmd_pos = true;
        // The output of the previous pipeline element, and the input of the next one.
        let mut output: Option<Sel> = None;
        let mut input: Option<Sel> = None;
        // The variable this statement assigns, and whether a command is its whole value.
        let mut assign: Option<(String, usize)> = None;
        while let Some(t) = self.tok(i).cloned() {
            let line = self.line(i);
            let mut produced = None;
            match &t {
                Tok::End => {
                    cmd_pos = stack.last() != Some(&'h');
                    input = None;
                    assign = None;
                }
                Tok::Open(k) => {
                    stack.push(*k);
                    cmd_pos = *k != 'h';
                }
                Tok::Close(c) => {
                    stack.pop();
                    cmd_pos = *c == '}';
                }
                Tok::Pipe => {
                    input = Some(output.take().unwrap_or(Sel::Unknown("from an expression".into())));
                    cmd_pos = true;
                    while self.tok(i + 1) == Some(&Tok::End) {
                        i += 1;
                    }
                }
                Tok::Var(v) if cmd_pos => {
                    if self.tok(i + 1) == Some(&Tok::Assign) {
                        self.vars.remove(v);
                        match (self.tok(i + 2), self.tok(i + 3)) {
                            (Some(Tok::Str(s)), next) if next.is_none_or(is_end) => {
                                self.vars.insert(v.clone(), VarVal::Text(s.clone()));
                                i += 3;
                                continue;
                            }
                            _ => {}
                        }
                        assign = Some((v.clone(), i + 2));
                        i += 2;
                        while self.tok(i) == Some(&Tok::End) {
                            i += 1;
                        }
                        cmd_pos = true;
                        continue;
                    }
                    produced = Some(match self.vars.get(v) {
                        Some(VarVal::Rules(set)) => Sel::Rules(set.clone()),
                        _ => Sel::Unknown(format!("from ${v}")),
                    });
                    cmd_pos = false;
                }
                Tok::Word(w) if cmd_pos => {
                    let (args, end) = self.args(i + 1);
                    let conditional = Self::in_block(&stack);
                    let input = input.take();
                    // Is this command the whole value of an assignment (`$x = @(cmd)`)?
                    let assigned = assign.as_ref().and_then(|(v, at)| {
                        let direct = *at == i || (*at + 1 == i && self.tok(*at) == Some(&Tok::Open('a')));
                        direct.then(|| v.clone())
                    });
                    let handled = self.command(w, &args, line, conditional, input);
                    match handled {
                        Some(sel) => {
                            if let (Some(v), Sel::Rules(set)) = (&assigned, &sel) {
                                self.vars.insert(v.clone(), VarVal::Rules(set.clone()));
                            }
                            produced = Some(sel);
                            i = end;
                            cmd_pos = false;
                            output = produced;
                            continue;
                        }
                        None if is_firewall_command(w) => {
                            i = end;
                            cmd_pos = false;
                            output = None;
                            continue;
                        }
                        None => cmd_pos = false,
                    }
                }
                Tok::Assign => cmd_pos = true,
                _ => cmd_pos = false,
            }
            output = produced;
            i += 1;
        }
    }

    /// Run one command. Returns the rules it outputs (Get-NetFirewallRule), if any.
    fn command(&mut self, name: &str, args: &Args, line: usize, conditional: bool, input: Option<Sel>) -> Option<Sel> {
        let lower = name.to_ascii_lowercase();
        let any_alive = self.rules.iter().any(|r| r.alive);
        match lower.as_str() {
            "new-netfirewallrule" => self.new_rule(args, line, conditional, input.is_some()),
            "set-netfirewallprofile" => self.set_profile(args, line, conditional, input.is_some()),
            "get-netfirewallrule" => {
                return Some(match input {
                    Some(_) => Sel::Unknown("from pipeline input".into()),
                    None => self.select(args).unwrap_or_else(|| {
                        Sel::Rules(self.rules.iter().enumerate().filter(|r| r.1.alive).map(|r| r.0).collect())
                    }),
                });
            }
            "remove-netfirewallrule" => {
                let sel = match (self.select(args), input) {
                    (Some(s), None) => s,
                    (None, Some(s)) => s,
                    (None, None) => Sel::Rules(BTreeSet::new()),
                    (Some(_), Some(_)) => Sel::Unknown("with both pipeline input and parameters".into()),
                };
                match sel {
                    Sel::Rules(set) => {
                        let hit: Vec<usize> = set.into_iter().filter(|k| self.rules[*k].alive).collect();
                        if !hit.is_empty() && conditional {
                            self.problem(
                                line,
                                "Remove-NetFirewallRule inside a script block removes rules created above it; \
                                 whether it runs is not known"
                                    .into(),
                            );
                        } else {
                            for k in hit {
                                self.rules[k].alive = false;
                            }
                        }
                    }
                    Sel::Unknown(why) if any_alive => self.problem(
                        line,
                        format!(
                            "Remove-NetFirewallRule {why}: which of the rules created above it it removes is not known"
                        ),
                    ),
                    Sel::Unknown(_) => {}
                }
            }
            "netsh" | "netsh.exe" => {
                let words = texts(&args.positional).unwrap_or_default();
                if words.iter().any(|w| w.to_ascii_lowercase().contains("firewall")) {
                    self.problem(
                        line,
                        "netsh changes the firewall; the reader models New-NetFirewallRule and Set-NetFirewallProfile only"
                            .into(),
                    );
                }
            }
            "invoke-expression" | "iex" => {
                self.problem(line, format!("`{name}` runs code the reader cannot see"));
            }
            _ if lower.contains("netfirewall") && !lower.starts_with("get-") => {
                // Changes to rules before any rule was created touch only other rules.
                let rules_only = lower.ends_with("netfirewallrule") || lower.ends_with("filter");
                if !rules_only || any_alive {
                    self.problem(line, format!("`{name}` changes firewall settings the reader does not model"));
                }
            }
            _ => {}
        }
        None
    }

    fn new_rule(&mut self, args: &Args, line: usize, conditional: bool, piped: bool) {
        let mut s = Spec::new(line);
        if conditional {
            s.problems.push(
                "created inside a script block (a condition, loop or function): whether and how often it runs \
                 is not known"
                    .into(),
            );
        }
        if piped {
            s.problems.push("New-NetFirewallRule with pipeline input".into());
        }
        if !args.positional.is_empty() {
            s.problems.push("New-NetFirewallRule with positional arguments".into());
        }
        let mut seen = BTreeSet::new();
        for (p, vals, _) in &args.params {
            let Some(k) = resolve(p, NEW_RULE) else {
                s.problems.push(format!("unknown parameter -{p}"));
                continue;
            };
            if !seen.insert(k) {
                s.problems.push(format!("-{k} given twice (PowerShell refuses the command)"));
                continue;
            }
            let list = |s: &mut Spec| match texts(vals) {
                Ok(v) => v,
                Err(e) => {
                    s.problems.push(format!("-{k} is {e}, not a literal"));
                    Vec::new()
                }
            };
            match k {
                "Name" | "Group" => match one(k, vals) {
                    Ok(v) if k == "Name" => s.name = Some(v),
                    Ok(v) => s.group = Some(v),
                    Err(e) => s.problems.push(e),
                },
                "DisplayName" => s.display = one(k, vals).ok(),
                "Description" => s.description = one(k, vals).ok(),
                "Enabled" => s.enabled = one(k, vals).and_then(|v| parse_enabled(&v)),
                "Profile" => {
                    s.domain = texts(vals).map_err(|e| format!("-Profile is {e}")).and_then(|v| profile_has_domain(&v))
                }
                "Direction" => s.inbound = one(k, vals).and_then(|v| parse_direction(&v)),
                "Action" => s.allow = one(k, vals).and_then(|v| parse_action(&v)),
                "Protocol" => match one(k, vals) {
                    Ok(v) => s.protocol = v,
                    Err(e) => s.problems.push(e),
                },
                "LocalAddress" => s.local = list(&mut s),
                "RemoteAddress" => s.remote = list(&mut s),
                "LocalPort" => s.lport = list(&mut s),
                "RemotePort" => s.rport = list(&mut s),
                "IcmpType" => s.icmp = list(&mut s),
                "PolicyStore" => match one(k, vals) {
                    Ok(v) if eq(&v, "PersistentStore") || eq(&v, "localhost") => {}
                    Ok(v) => s.problems.push(format!(
                        "-PolicyStore {v}: the rule goes into a Group Policy object, which applies only where and when \
                         Group Policy says"
                    )),
                    Err(e) => s.problems.push(e),
                },
                "GPOSession" | "CimSession" => {
                    s.problems.push(format!("-{k}: the rule is not created on this host by this command"))
                }
                "RemoteDynamicKeywordAddresses" => {
                    s.problems.push("-RemoteDynamicKeywordAddresses: the addresses are resolved at run time".into())
                }
                "WhatIf" => {
                    if !matches!(texts(vals).as_deref(), Ok([v]) if eq(v, "False")) {
                        s.problems.push("-WhatIf: the command creates nothing".into());
                    }
                }
                _ if COMMON.contains(&k) => {}
                _ => {
                    let v = list(&mut s);
                    s.conditions.push((k.to_string(), if vals.is_empty() { vec!["True".into()] } else { v }));
                }
            }
        }
        if let Some(n) = &s.name
            && self.rules.iter().any(|r| r.alive && r.spec.name.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(n)))
        {
            s.problems.push(format!("a rule named `{n}` was already created above; New-NetFirewallRule fails"));
        }
        self.rules.push(Created { spec: s, alive: true });
    }

    fn set_profile(&mut self, args: &Args, line: usize, conditional: bool, piped: bool) {
        let mut fail =
            |m: String| self.problems.push(Problem { line, message: format!("Set-NetFirewallProfile: {m}") });
        if conditional {
            fail("inside a script block (a condition, loop or function): whether it runs is not known".into());
            return;
        }
        let mut domain = None;
        let mut settings = Vec::new();
        for (p, vals, _) in &args.params {
            match resolve(p, SET_PROFILE) {
                None => {
                    fail(format!("unknown parameter -{p}"));
                    return;
                }
                Some("Name" | "Profile") => match texts(vals) {
                    Ok(v) => {
                        domain = Some(
                            v.iter()
                                .flat_map(|x| x.split(','))
                                .any(|x| eq(x, "Domain") || eq(x, "Any") || x.trim() == "*"),
                        )
                    }
                    Err(e) => {
                        fail(format!("-{p} is {e}: which profiles it sets is not known"));
                        return;
                    }
                },
                Some("All") => domain = Some(true),
                Some("PolicyStore") => match one("PolicyStore", vals) {
                    Ok(v) if eq(&v, "PersistentStore") || eq(&v, "localhost") => {}
                    Ok(v) => {
                        fail(format!("-PolicyStore {v}: the settings go into Group Policy"));
                        return;
                    }
                    Err(e) => {
                        fail(e);
                        return;
                    }
                },
                Some(k @ ("GPOSession" | "CimSession" | "WhatIf")) => {
                    fail(format!("-{k}: the settings are not made on this host by this command"));
                    return;
                }
                Some(k @ ("Enabled" | "DefaultInboundAction" | "DefaultOutboundAction" | "AllowInboundRules")) => {
                    match one(k, vals) {
                        Ok(v) => settings.push((k, v)),
                        Err(e) => {
                            fail(e);
                            return;
                        }
                    }
                }
                Some("DisabledInterfaceAliases") => {
                    let v = texts(vals).unwrap_or_else(|_| vec!["(not a literal)".into()]);
                    settings.push(("DisabledInterfaceAliases", v.join(", ")));
                }
                Some(_) => {}
            }
        }
        match domain {
            None if piped => fail("the profiles come from pipeline input: which profiles it sets is not known".into()),
            None => fail("no -Profile or -All: which profiles it sets is not known".into()),
            Some(false) => {}
            Some(true) => {
                for (k, v) in settings {
                    if let Err(e) = profile_setting(&mut self.profile, k, &v) {
                        fail(format!("Domain profile: {e}"));
                    }
                }
            }
        }
    }
}

/// Commands whose arguments the interpreter reads (so their tokens are not statements).
fn is_firewall_command(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.contains("netfirewall") || l == "netsh" || l == "netsh.exe"
}

/// zonecheck's own PowerShell script, or any script of the same shape: the rules its
/// `New-NetFirewallRule` commands leave in place and its `Set-NetFirewallProfile`
/// settings of the Domain profile.
pub fn read_script(text: &str, _ifaces: &mut Ifaces) -> Ruleset {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let toks = match lex(text) {
        Ok(t) => t,
        Err((line, why)) => {
            return unreadable(Problem {
                line,
                message: format!("the script does not parse ({why}); PowerShell would run none of it"),
            });
        }
    };
    let mut interp = Interp {
        toks: &toks,
        vars: HashMap::new(),
        rules: Vec::new(),
        profile: ProfileSettings::default(),
        problems: Vec::new(),
    };
    interp.run();
    let specs: Vec<Spec> = interp.rules.into_iter().filter(|r| r.alive).map(|r| r.spec).collect();
    let mut problems = interp.problems;
    problems.sort_by_key(|p| p.line);
    let mut rs = assemble(&specs, &interp.profile, problems);
    rs.problems.sort_by_key(|p| p.line);
    rs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::space::Packet;

    const PROFILE: &str = "Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True \
                           -DefaultInboundAction Block -DefaultOutboundAction Allow\n";

    fn script(body: &str) -> Ruleset {
        read_script(&format!("\u{FEFF}{body}\r\n{PROFILE}").replace('\n', "\r\n"), &mut Ifaces::new())
    }

    fn tcp_in(src: &str, dst: &str, dport: u16) -> Packet {
        let (s, d): (IpAddr, IpAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
        Packet {
            path: Path::Input,
            iif: 0,
            oif: 0,
            v6: s.is_ipv6(),
            src: addr_value(s),
            dst: addr_value(d),
            proto: 6,
            sport: 50000,
            dport,
            ack: false,
            ct: crate::check::space::Ct::New,
            hops: 64,
        }
    }

    fn names(rs: &Ruleset) -> Vec<String> {
        rs.chains.iter().flat_map(|c| &c.rules).filter_map(|r| r.origin.handle.clone()).collect()
    }

    #[test]
    fn whole_family_prefixes_do_not_overflow() {
        assert_eq!(address("::/0"), Ok((true, 0, u128::MAX)));
        assert_eq!(address("0.0.0.0/0"), Ok((false, 0, u128::from(u32::MAX))));
        assert_eq!(address("10.0.0.0/8"), Ok((false, 0x0a00_0000, 0x0aff_ffff)));
        assert_eq!(address("fd00::/128"), Ok((true, 0xfd00 << 112, 0xfd00 << 112)));
    }

    #[test]
    fn later_removal_removes_created_rules() {
        let rs = script(
            "$g = 'zc'\n\
             $old = @(Get-NetFirewallRule -Group $g -PolicyStore PersistentStore)\n\
             New-NetFirewallRule -Name 'a' -Group $g -LocalPort 80 -Protocol TCP | Out-Null\n\
             New-NetFirewallRule -Name 'b' -Group 'other' -LocalPort 81 -Protocol TCP\n\
             $old | Remove-NetFirewallRule\n\
             Get-NetFirewallRule -Group 'z*' | Remove-NetFirewallRule\n",
        );
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        // $old was taken before `a` existed; the pipeline with a wildcard removes it.
        assert_eq!(names(&rs), ["b"]);
        let rs = script("New-NetFirewallRule -Name 'a' -LocalPort 80 -Protocol TCP\nRemove-NetFirewallRule -Name A\n");
        assert!(names(&rs).is_empty() && rs.problems.is_empty(), "{:?}", rs.problems);
        let rs = script("New-NetFirewallRule -Name 'a' -Protocol TCP\n$x | Remove-NetFirewallRule\n");
        assert_eq!(rs.problems.len(), 1, "{:?}", rs.problems);
        assert_eq!(rs.problems[0].line, 2);
    }

    #[test]
    fn parameters_bind_like_powershell() {
        // Prefixes, `-P:value`, case, barewords, comma lists over lines, $true, a
        // double-quoted literal, a here-string-free comment block.
        let rs = script(
            "<# comment\n spanning lines #>\n\
             new-netfirewallrule -name:'r1' -DisplayName \"Web\" -dir Inbound -Act Allow -Enabled:$true `\n\
               -Protocol tcp -LocalPort 80, `\n 443 -RemoteAddress 10.0.0.0/255.255.255.0,\n '10.0.1.7-10.0.1.9' # trailing\n",
        );
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        assert_eq!(rs.chains[0].rules.len(), 1);
        let r = &rs.chains[0].rules[0];
        assert_eq!(r.origin.line, 3);
        assert_eq!(r.origin.text, "Web [allow in tcp remote 10.0.0.0/255.255.255.0,10.0.1.7-10.0.1.9 lport 80,443]");
        assert!(rs.trace(&tcp_in("10.0.0.9", "10.9.9.9", 443)).0);
        assert!(rs.trace(&tcp_in("10.0.1.9", "10.9.9.9", 80)).0);
        assert!(!rs.trace(&tcp_in("10.0.1.10", "10.9.9.9", 80)).0);
        assert!(!rs.trace(&tcp_in("10.0.0.9", "10.9.9.9", 8080)).0);
    }

    #[test]
    fn what_packets_cannot_express_is_a_problem() {
        for (rule, what) in [
            ("-Program 'C:\\x.exe'", "Program"),
            ("-Service 'dnscache'", "Service"),
            ("-InterfaceType Wireless", "InterfaceType"),
            ("-RemoteAddress LocalSubnet", "LocalSubnet"),
            ("-RemoteAddress DefaultGateway", "DefaultGateway"),
            ("-Protocol TCP -LocalPort RPC", "RPC"),
            ("-Protocol TCP -LocalPort IPHTTPS", "IPHTTPS"),
            ("-OverrideBlockRules $true -Authentication Required", "OverrideBlockRules"),
            ("-LocalPort 80", "ports exist only"),
            ("-Protocol UDP -IcmpType 8", "IcmpType"),
            ("-Protocol ICMPv4 -IcmpType 8:300", "type:code"),
            ("-RemoteAddress 10.0.0.0/255.0.255.0", "non-contiguous"),
            ("-RemoteAddress '10.0.0.9-10.0.0.1'", "ends before"),
            ("-RemoteAddress '10.0.0.1-fe80::1'", "mixes"),
            ("-RemoteAddress $(Get-Content x)", "not a literal"),
            ("-RemoteAddress \"$net\"", "expanding"),
            ("@params", "splatting"),
            ("-Frobnicate 1", "unknown parameter"),
            ("-PolicyStore 'ad.example\\GPO'", "Group Policy"),
        ] {
            let rs = script(&format!("New-NetFirewallRule -Name 'r' {rule}"));
            assert!(rs.chains[0].rules.is_empty(), "{rule}: read");
            assert!(rs.problems.iter().any(|p| p.message.contains(what) && p.line == 1), "{rule}: {:?}", rs.problems);
        }
        // The same in a disabled or Private-only rule, or in a Block rule's harmless
        // OverrideBlockRules, is nothing.
        for rule in ["-Enabled False -Program 'x'", "-Profile Private,Public -RemoteAddress LocalSubnet"] {
            let rs = script(&format!("New-NetFirewallRule -Name 'r' {rule}"));
            assert!(rs.problems.is_empty() && rs.chains[0].rules.is_empty(), "{rule}: {:?}", rs.problems);
        }
        let rs = script("New-NetFirewallRule -Name r -Action Block -OverrideBlockRules $true");
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    }

    #[test]
    fn block_rules_come_first_and_families_split() {
        let rs = script(
            "New-NetFirewallRule -Name allow -Protocol TCP -LocalAddress @('10.0.0.1', 'fd00::1') -RemoteAddress 'fd01::/64'\n\
             New-NetFirewallRule -Name block -Action Block -Direction Inbound -RemoteAddress 'fd01::5'\n",
        );
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        assert_eq!(names(&rs), ["block", "allow"]);
        // The IPv4 local address has no IPv4 remote address: one IPv6 cube.
        assert_eq!(rs.chains[0].rules[1].matches.len(), 1);
        assert!(rs.chains[0].rules[1].matches[0].v6());
        assert!(rs.trace(&tcp_in("fd01::4", "fd00::1", 1)).0);
        assert!(!rs.trace(&tcp_in("fd01::5", "fd00::1", 1)).0);
        assert!(!rs.trace(&tcp_in("10.0.0.2", "10.0.0.1", 1)).0);
    }

    #[test]
    fn profile_settings_and_their_absence() {
        let rs = read_script("New-NetFirewallRule -Name r -Protocol TCP\n", &mut Ifaces::new());
        assert_eq!(rs.problems.len(), 3, "{:?}", rs.problems);
        let rs = read_script(
            "Set-NetFirewallProfile -All -Enabled True -DefaultInboundAction Allow -DefaultOutboundAction NotConfigured\n\
             Set-NetFirewallProfile -Profile Public -DefaultOutboundAction Block\n",
            &mut Ifaces::new(),
        );
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        assert!(rs.bases.iter().all(|b| b.policy_accept));
        // The Domain profile off: every packet passes, rules or not.
        let rs = read_script(
            "New-NetFirewallRule -Name b -Action Block\nSet-NetFirewallProfile -Name Domain -Enabled False \
             -DefaultInboundAction Block -DefaultOutboundAction Block\n",
            &mut Ifaces::new(),
        );
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        assert!(rs.trace(&tcp_in("10.0.0.1", "10.0.0.2", 22)).0);
        for bad in [
            "if ($x) { Set-NetFirewallProfile -All -Enabled True }",
            "Set-NetFirewallProfile -Enabled True",
            "Set-NetFirewallProfile -All -AllowInboundRules False",
            "netsh advfirewall set allprofiles state off",
            "New-NetFirewallRule -Name a\nSet-NetFirewallRule -Name a -Enabled False",
            "foreach ($i in 1..3) { New-NetFirewallRule -Name a }",
        ] {
            let rs = script(bad);
            assert!(!rs.problems.is_empty(), "{bad}");
        }
    }

    #[test]
    fn unparsable_scripts_are_one_problem() {
        for bad in ["New-NetFirewallRule -Name 'a", "@(", "}", "<# x", "@'\nx", "\"a"] {
            let rs = read_script(bad, &mut Ifaces::new());
            assert_eq!(rs.problems.len(), 1, "{bad}");
            assert!(rs.problems[0].message.contains("does not parse"), "{bad}");
            assert!(rs.chains.iter().all(|c| c.rules.is_empty()));
            assert!(rs.bases.len() == 2 && rs.bases.iter().all(|b| !b.policy_accept));
        }
    }

    #[test]
    fn export_quirks() {
        let base = r#"{"Name":"r","Enabled":1,"Direction":2,"Action":4,"Profile":1,"LocalAddress":"Any",
            "RemoteAddress":{"value":["10.0.0.0/8"],"Count":1},"Protocol":"6","LocalPort":["Any"],
            "RemotePort":"22","IcmpType":"Any","Program":null}"#;
        let profiles = r#"[{"Name":"Domain","Enabled":1,"DefaultInboundAction":4,"DefaultOutboundAction":2}]"#;
        let rs = read_export(&format!(r#"{{"Rules":{base},"Profiles":{profiles}}}"#), &mut Ifaces::new());
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        assert_eq!(rs.chains[1].rules.len(), 1, "a scalar rule, outbound");
        assert_eq!(rs.chains[1].rules[0].action, Action::Drop);
        assert_eq!(rs.bases.iter().map(|b| b.policy_accept).collect::<Vec<_>>(), [false, true]);
        let no_profiles = read_export(&format!(r#"{{"Rules":[{base}]}}"#), &mut Ifaces::new());
        assert!(no_profiles.problems.iter().any(|p| p.message.contains("no Profiles")));
        let missing = read_export(
            &format!(r#"{{"Rules":[{}],"Profiles":{profiles}}}"#, base.replace(r#""Protocol":"6","#, "")),
            &mut Ifaces::new(),
        );
        assert!(missing.problems.iter().any(|p| p.message.contains("Protocol")), "{:?}", missing.problems);
        // JSON that stops early is refused as cut off.
        for cut in ["", "{", r#"{"Rules":[{"Name":"a""#] {
            assert!(read_export(cut, &mut Ifaces::new()).incomplete.is_some(), "{cut}");
        }
        for bad in ["", "[]", "{", "null"] {
            let rs = read_export(bad, &mut Ifaces::new());
            assert!(!rs.problems.is_empty() || rs.incomplete.is_some(), "{bad}");
        }
    }
}
