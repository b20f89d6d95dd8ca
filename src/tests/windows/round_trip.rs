//! The library's script reader against the lowering: every script read back into a packet
//! space equals the lowered permits (converted to packets here), on random policies too.

use std::collections::BTreeSet;

use crate::check::read::windows::read_script;
use crate::check::read::{Ifaces, Ruleset};
use crate::check::space::{Cube, Dim, Field, Path as ZPath, Space};
use crate::lower::{ChainKind, DeviceRules, Svc};
use crate::model::Model;
use crate::targets::windows::{self, WindowsOptions};
use ipnet::IpNet;
use proptest::prelude::*;

use super::lexer::{Tok, check_structure};
use super::{TEMPLATES, decode, digest, render, windows_hosts};

// ---------------------------------------------------------------------------------------
// The library reader against the lowering
// ---------------------------------------------------------------------------------------

/// The packets of one permit (or of neighbour discovery, with no addresses): one cube per
/// family the addresses allow. ICMP types are matched by protocol number, as the reader
/// reads Windows rules.
fn svc_cubes(path: ZPath, src: Option<IpNet>, dst: Option<IpNet>, svc: Svc) -> Vec<Cube> {
    let v6 = |n: &IpNet| matches!(n, IpNet::V6(_));
    let families: Vec<bool> = match (src.as_ref().map(v6), dst.as_ref().map(v6)) {
        (Some(a), Some(b)) if a != b => vec![],
        (Some(a), _) | (None, Some(a)) => vec![a],
        (None, None) => vec![false, true],
    };
    let mut out = Vec::new();
    for fam in families {
        let mut c = Some(Cube::on_path(fam, path));
        if let Some(s) = src {
            c = c.and_then(|c| c.with(Dim::Src, &Field::prefix(&s)));
        }
        if let Some(d) = dst {
            c = c.and_then(|c| c.with(Dim::Dst, &Field::prefix(&d)));
        }
        c = match svc {
            Svc::Ports { proto, lo, hi } => c
                .and_then(|c| c.with_value(Dim::Proto, u128::from(proto)))
                .and_then(|c| c.with_range(Dim::Dport, u128::from(lo), u128::from(hi))),
            Svc::IcmpType { v6, ty } => c
                .and_then(|c| c.with_value(Dim::Proto, if v6 { 58 } else { 1 }))
                .and_then(|c| c.with_value(Dim::Dport, u128::from(ty))),
            Svc::Proto(p) => c.and_then(|c| c.with_value(Dim::Proto, u128::from(p))),
            Svc::Any => c,
        };
        out.extend(c);
    }
    out
}

/// What the lowering says the host permits, plus the neighbour discovery the target adds,
/// as packets; every outbound packet when the host's outbound default is Allow.
pub(super) fn intended(model: &Model, d: &DeviceRules) -> Space {
    let mut out = Space::new();
    for c in &d.chains {
        let path = match c.kind {
            ChainKind::Input => ZPath::Input,
            ChainKind::Output => ZPath::Output,
            ChainKind::Forward { .. } | ChainKind::Related { .. } | ChainKind::RelatedOutput => {
                panic!("a Windows host with a forward or related chain")
            }
        };
        for p in &c.permits {
            out.extend(svc_cubes(path, Some(p.src), Some(p.dst), p.svc));
        }
    }
    let sys = model.system(model.system_by_name(&d.name).expect("system"));
    if sys.addresses.iter().any(|a| matches!(a, IpNet::V6(_))) {
        // IPv6 only: the rule's `-RemoteAddress ::/0` keeps protocol 58 in IPv4 out.
        let any6: IpNet = "::/0".parse().expect("prefix");
        for ty in windows::ND_TYPES {
            out.extend(svc_cubes(ZPath::Input, Some(any6), None, Svc::IcmpType { v6: true, ty }));
            if d.filter_output {
                out.extend(svc_cubes(ZPath::Output, None, Some(any6), Svc::IcmpType { v6: true, ty }));
            }
        }
    }
    if !d.filter_output {
        out.extend([false, true].map(|v6| Cube::on_path(v6, ZPath::Output)));
    }
    out
}

/// Per `New-NetFirewallRule`, the number of addresses (LocalAddress and RemoteAddress
/// literals), from the test lexer's tokens.
fn address_counts(toks: &[Tok]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut counting = false;
    for t in toks {
        match t {
            Tok::Word { text, command: true } if text == "New-NetFirewallRule" => {
                out.push(0);
                counting = false;
            }
            Tok::Word { text, .. } if text.starts_with('-') => {
                counting = text == "-LocalAddress" || text == "-RemoteAddress";
            }
            Tok::Op("|") => counting = false,
            Tok::Single { .. } if counting => {
                if let Some(n) = out.last_mut() {
                    *n += 1;
                }
            }
            _ => {}
        }
    }
    out
}

/// A packet of `a \ b`, described, if there is one.
pub(super) fn witness(a: &Space, b: &Space) -> Result<Option<String>, String> {
    let diff = a.difference(b).map_err(|_| "too fragmented".to_string())?;
    Ok(diff.first().map(|c| c.witness().describe(&Ifaces::new())))
}

/// The rules of a ruleset that were written as rules (not a profile's default or a profile
/// whose firewall is off).
pub(super) fn written(rs: &Ruleset) -> usize {
    rs.chains.iter().flat_map(|c| &c.rules).filter(|r| !r.origin.implicit).count()
}

/// The profiles' default actions as the reader words them.
pub(super) fn profile_defaults(rs: &Ruleset) -> BTreeSet<String> {
    rs.chains.iter().flat_map(|c| &c.rules).filter(|r| r.origin.implicit).map(|r| r.origin.text.clone()).collect()
}

/// Render with `limit`, read back with the library reader, compare with the lowering.
pub(super) fn round_trip(model: &Model, d: &DeviceRules, limit: usize) -> Result<usize, String> {
    let (bytes, stats) =
        windows::render_with_limit(model, d, &TEMPLATES, &WindowsOptions::default(), &digest(model), limit)
            .map_err(|e| format!("{e:?}"))?;
    let text = decode(&bytes);
    let toks = check_structure(&text).map_err(|e| format!("{}: {e}\n{text}", d.name))?;
    // The script owns its group and removes the group's old rules first.
    let removes = toks.windows(3).any(|w| {
        matches!(w, [Tok::Word { text: a, .. }, Tok::Word { text: b, .. }, Tok::Var(v)]
            if a == "Get-NetFirewallRule" && b == "-Group" && v == "$group")
    });
    let owns = toks.windows(3).any(|w| {
        matches!(w, [Tok::Var(v), Tok::Op("="), Tok::Single { value, .. }] if v == "$group" && value == "zonecheck")
    });
    if !removes || !owns {
        return Err("the group's old rules are not removed".into());
    }
    let counts = address_counts(&toks);
    if let Some(most) = counts.iter().max()
        && *most > limit.max(2)
    {
        return Err(format!("{}: a rule holds {most} addresses, limit {limit}", d.name));
    }
    let rs = read_script(&text, &mut Ifaces::new());
    if !rs.problems.is_empty() {
        return Err(format!("{}: problems {:?}\n{text}", d.name, rs.problems));
    }
    let rules = written(&rs);
    if stats.rules != rules || counts.len() != rules {
        return Err(format!(
            "stats say {} rules, the script has {}, the reader read {rules}",
            stats.rules,
            counts.len()
        ));
    }
    // Every profile's defaults: Block inbound, Block outbound on closed hosts.
    let defaults = profile_defaults(&rs);
    let want = if d.filter_output { "Block" } else { "Allow" };
    for p in ["Domain", "Private", "Public"] {
        let expect =
            [format!("{p} profile: DefaultInboundAction Block"), format!("{p} profile: DefaultOutboundAction {want}")];
        if expect.iter().any(|e| !defaults.contains(e)) {
            return Err(format!("{}: defaults read as {defaults:?}", d.name));
        }
    }
    let got = rs.permitted(&[ZPath::Input, ZPath::Output]).map_err(|e| format!("{e:?}"))?.permitted;
    let want = intended(model, d);
    let lost = witness(&want, &got)?;
    let added = witness(&got, &want)?;
    if lost.is_some() || added.is_some() {
        return Err(format!("{}: lost {lost:?}, added {added:?}\n{text}", d.name));
    }
    // Logging is not part of the permitted space; the script must still turn it on.
    let outbound = if d.filter_output { "Block" } else { "Allow" };
    let profile = format!(
        "Set-NetFirewallProfile -Profile @('Domain', 'Private', 'Public') -PolicyStore PersistentStore -Enabled True \
         -DefaultInboundAction Block -DefaultOutboundAction {outbound} -LogBlocked True"
    );
    if !text.contains(&profile) {
        return Err(format!("{}: no `{profile}`", d.name));
    }
    Ok(rules)
}

// ---------------------------------------------------------------------------------------
// The reader against the lowering, on random policies
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct RZone {
    closed: bool,
    v6: bool,
    /// A more specific zone inside, so this zone's space is not one prefix.
    nested: bool,
}

#[derive(Clone, Debug)]
struct RSys {
    zone: usize,
    v6: bool,
    windows: bool,
}

#[derive(Clone, Debug)]
struct RFlow {
    from: (u8, usize, usize),
    to: (u8, usize, usize),
    services: Vec<usize>,
}

#[derive(Clone, Debug)]
struct RPolicy {
    zones: Vec<RZone>,
    internet: bool,
    systems: Vec<RSys>,
    groups: Vec<Vec<(bool, usize)>>,
    flows: Vec<RFlow>,
}

const SERVICES: &[&str] = &[
    "service s0 { tcp/80, tcp/81 }",
    "service s1 { tcp/1000-2000, udp/53 }",
    "service s2 { icmp/echo-request, icmpv6/echo-request }",
    "service s3 { icmp }",
    "service s4 { proto/47 }",
    "service s5 { any }",
    "service s6 { tcp/1500-1600, tcp/8080, udp/54 }",
    "service s7 { tcp/443 }",
];

fn rpolicy() -> impl Strategy<Value = RPolicy> {
    let zone = (any::<bool>(), any::<bool>(), prop::bool::weighted(0.3)).prop_map(|(closed, v6, nested)| RZone {
        closed,
        v6,
        nested,
    });
    let sys = (0usize..8, any::<bool>(), prop::bool::weighted(0.85)).prop_map(|(zone, v6, windows)| RSys {
        zone,
        v6,
        windows,
    });
    let ep = (0u8..4, 0usize..16, 0usize..16);
    let flow = (ep.clone(), ep, prop::collection::vec(0..SERVICES.len(), 1..3))
        .prop_map(|(from, to, services)| RFlow { from, to, services });
    (
        prop::collection::vec(zone, 1..4),
        prop::bool::weighted(0.3),
        prop::collection::vec(sys, 1..6),
        prop::collection::vec(prop::collection::vec((any::<bool>(), 0usize..16), 1..3), 0..3),
        prop::collection::vec(flow, 1..7),
    )
        .prop_map(|(zones, internet, systems, groups, flows)| RPolicy { zones, internet, systems, groups, flows })
}

fn rrender(p: &RPolicy) -> String {
    let mut t = String::new();
    for s in SERVICES {
        t.push_str(s);
        t.push('\n');
    }
    let nz = p.zones.len();
    for (i, z) in p.zones.iter().enumerate() {
        let trust = if z.closed { "closed" } else { "internal" };
        let v6 = if z.v6 { format!(", fd00:{i}::/48") } else { String::new() };
        t.push_str(&format!("zone z{i} {{ trust {trust}; net 10.{i}.0.0/16{v6} }}\n"));
        if z.nested {
            t.push_str(&format!("zone n{i} {{ trust internal; net 10.{i}.128.0/17 }}\n"));
        }
    }
    if p.internet {
        t.push_str("zone inet { trust external; net 0.0.0.0/0, ::/0 }\n");
    }
    for (j, s) in p.systems.iter().enumerate() {
        let z = s.zone % nz;
        let v6 = if s.v6 && p.zones[z].v6 { format!(", fd00:{z}::{}", j + 1) } else { String::new() };
        let platform = if s.windows { "windows" } else { "linux" };
        t.push_str(&format!("system h{j} {{ zone z{z}; address 10.{z}.0.{}{v6}; platform {platform} }}\n", j + 1));
    }
    let member = |(sys, k): (bool, usize)| {
        if sys { format!("h{}", k % p.systems.len()) } else { format!("z{}", k % nz) }
    };
    for (g, members) in p.groups.iter().enumerate() {
        let m: Vec<String> = members.iter().map(|m| member(*m)).collect();
        t.push_str(&format!("group g{g} {{ {} }}\n", m.join(", ")));
    }
    let endpoint = |(kind, a, b): (u8, usize, usize)| match kind {
        0 => format!("h{}", a % p.systems.len()),
        1 => {
            // A zone, sometimes the nested one or the internet.
            if p.internet && b % 5 == 0 {
                "inet".to_string()
            } else if p.zones[a % nz].nested && b % 3 == 0 {
                format!("n{}", a % nz)
            } else {
                format!("z{}", a % nz)
            }
        }
        2 if !p.groups.is_empty() => format!("g{}", a % p.groups.len()),
        _ => format!("[h{}, z{}]", a % p.systems.len(), b % nz),
    };
    for (k, f) in p.flows.iter().enumerate() {
        let services: Vec<String> = f.services.iter().map(|s| format!("s{s}")).collect();
        t.push_str(&format!("flow {} -> {} : {} \"f{k}\"\n", endpoint(f.from), endpoint(f.to), services.join(", ")));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn reader_space_equals_the_lowered_permits(p in rpolicy(), limit in 2usize..7) {
        let text = rrender(&p);
        let model = crate::load_str("r.zc", &text).map_err(|e| {
            TestCaseError::fail(format!("{}\n{text}", crate::diagnostics::render(&e.diags, &e.sources, false, 100)))
        })?;
        for d in windows_hosts(&model) {
            round_trip(&model, &d, windows::MAX_ADDRESSES).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            round_trip(&model, &d, limit).map_err(|e| TestCaseError::fail(format!("limit {limit}: {e}\n{text}")))?;
        }
    }
}

#[test]
fn more_than_a_thousand_addresses_are_split() {
    let mut text = String::from(
        "zone many { trust internal; net 10.50.0.0/16 }\nzone h { trust closed; net 10.60.0.0/24, fd00:60::/64 }\n\
         system host { zone h; address 10.60.0.1, fd00:60::1; platform windows }\n",
    );
    let n = 1200;
    for i in 0..n {
        text.push_str(&format!("system s{i} {{ zone many; address 10.50.{}.{} }}\n", i / 250, i % 250 + 1));
    }
    let members: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    text.push_str(&format!("group clients {{ {} }}\n", members.join(", ")));
    text.push_str("flow clients -> host : s7 \"many clients\"\nflow host -> clients : s7 \"and back\"\n");
    text.push_str(SERVICES[7]);
    let model = crate::load_str("big.zc", &text).expect("resolves");
    let d = &windows_hosts(&model)[0];
    // 1,200 remote addresses and one local IPv4 address per direction: two rules each,
    // plus IPv6 neighbour discovery both ways.
    let rules = round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules, 2 + 2 + 2);
    let (script, _) = render(&model, d);
    assert!(script.contains("[part 2/2]"));
}
