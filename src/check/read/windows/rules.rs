//! Rules and profiles to a ruleset.

use super::*;

/// What became of one rule.
pub(super) enum Outcome {
    /// Disabled, or in no profile.
    Ignored,
    Read {
        inbound: bool,
        allow: bool,
        rule: Rule,
    },
    Problems(Vec<String>),
}

/// The interface numbers that stand for each profile (see the module's "Profiles"):
/// Domain and Private one each, Public every other number.
pub(super) fn profile_fields(ifaces: &mut Ifaces) -> [Field; 3] {
    let ids = PROFILES.map(|p| u128::from(ifaces.id(&profile_interface(p))));
    let domain = Field::point(ids[0]);
    let private = Field::point(ids[1]);
    let public = Ifaces::all().subtract(&domain).subtract(&private);
    [domain, private, public]
}

/// The interfaces of the profiles whose bits are set.
fn bits_field(fields: &[Field; 3], bits: u8) -> Field {
    (0..3).filter(|k| bits & (1 << k) != 0).fold(Field::empty(), |f, k| f.union(&fields[k]))
}

/// Profile names of the bits, `Domain, Public`.
fn bits_names(bits: u8) -> String {
    (0..3).filter(|k| bits & (1 << k) != 0).map(|k| PROFILES[k]).collect::<Vec<_>>().join(", ")
}

/// The first three values, then how many more.
fn push_shortened(out: &mut String, values: &[String]) {
    for (i, v) in values.iter().take(3).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(v.trim());
    }
    if values.len() > 3 {
        out.push_str(&format!(",… (+{})", values.len() - 3));
    }
}

pub(super) fn is_any(values: &[String]) -> bool {
    values.iter().any(|v| eq(v, "Any"))
}

/// The rule as findings show it. Written into one string: it is made for every rule read,
/// thousands per bundle, and shown for few.
pub(super) fn summary(s: &Spec, inbound: bool, allow: bool, bits: u8) -> String {
    let mut out = String::with_capacity(96);
    if let Some(d) = &s.display {
        out.push_str(d);
        out.push(' ');
    }
    out.push('[');
    out.push_str(if allow { "allow" } else { "block" });
    out.push_str(if inbound { " in" } else { " out" });
    if bits != ALL_PROFILES {
        out.push_str(" profile ");
        out.push_str(&bits_names(bits).replace(' ', ""));
    }
    out.push(' ');
    out.push_str(s.protocol.trim());
    for (label, v) in [("local", &s.local), ("remote", &s.remote), ("lport", &s.lport), ("rport", &s.rport)] {
        if !is_any(v) {
            out.push(' ');
            out.push_str(label);
            out.push(' ');
            push_shortened(&mut out, v);
        }
    }
    if !is_any(&s.icmp) {
        out.push_str(" icmp ");
        push_shortened(&mut out, &s.icmp);
    }
    out.push(']');
    out
}

pub(super) fn build_rule(s: &Spec, fields: &[Field; 3]) -> Outcome {
    let mut problems = Vec::new();
    match &s.enabled {
        Ok(false) => return Outcome::Ignored,
        Ok(true) => {}
        Err(e) => problems.push(e.clone()),
    }
    let bits = match &s.profiles {
        Ok(0) => return Outcome::Ignored,
        Ok(b) => *b,
        Err(e) => {
            problems.push(e.clone());
            ALL_PROFILES
        }
    };
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
            // Only on the interfaces of the rule's profiles.
            let iface = if inbound { Dim::Iif } else { Dim::Oif };
            let matches = narrow(matches, iface, &bits_field(fields, bits));
            let origin = Origin {
                line: s.line,
                text: summary(s, inbound, allow, bits),
                handle: s.name.clone(),
                comment: s.description.clone().filter(|d| !d.is_empty()).or_else(|| s.group.clone()),
                implicit: false,
                approximate: false,
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
pub(super) fn cubes(s: &Spec, inbound: bool) -> Result<Vec<Cube>, String> {
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

/// A rule the firewall applies without being told in a rule: a profile's default action,
/// or a profile whose firewall is off.
fn profile_rule(field: &Field, inbound: bool, accept: bool, text: String) -> Rule {
    let (path, iface) = if inbound { (Path::Input, Dim::Iif) } else { (Path::Output, Dim::Oif) };
    let matches = [false, true]
        .into_iter()
        .filter_map(|v6| Cube::any(v6).with_value(Dim::Path, path as u128)?.with(iface, field));
    Rule {
        matches: matches.collect(),
        action: if accept { Action::Accept } else { Action::Drop },
        origin: Origin { line: 0, text, handle: None, comment: None, implicit: true, approximate: false },
    }
}

/// The ruleset of the rules and the three profiles: per direction, the profiles whose
/// firewall is off (accept), Block rules, Allow rules, then each profile's default action.
pub(super) fn assemble(
    specs: &[Spec],
    profiles: &[ProfileSettings; 3],
    mut problems: Vec<Problem>,
    ifaces: &mut Ifaces,
) -> Ruleset {
    let fields = profile_fields(ifaces);
    let mut chains = [
        (Vec::new(), Vec::new()), // inbound: (blocks, allows)
        (Vec::new(), Vec::new()), // outbound
    ];
    for s in specs {
        match build_rule(s, &fields) {
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
    // Per profile: (enabled, inbound Allow, outbound Allow), the Windows defaults where
    // unknown (a problem).
    let settings: Vec<(bool, bool, bool)> = PROFILES
        .iter()
        .zip(profiles)
        .map(|(name, p)| {
            let mut missing = |what: &str, assumed: &str| {
                problems.push(Problem {
                    line: 0,
                    message: format!(
                        "the {name} profile's {what} is not known; evaluated as {assumed} (the Windows default), \
                         but the host may differ"
                    ),
                })
            };
            let enabled = p.enabled.unwrap_or_else(|| {
                missing("Enabled setting", "enabled");
                true
            });
            let inbound = p.inbound_allow.unwrap_or_else(|| {
                missing("DefaultInboundAction", "Block");
                false
            });
            let outbound = p.outbound_allow.unwrap_or_else(|| {
                missing("DefaultOutboundAction", "Allow");
                true
            });
            (enabled, inbound, outbound)
        })
        .collect();
    let [(ib, ia), (ob, oa)] = chains;
    let chain = |inbound: bool, blocks: Vec<Rule>, allows: Vec<Rule>| {
        let mut rules = Vec::new();
        // A profile whose firewall is off applies no rule and permits everything.
        for (k, (enabled, _, _)) in settings.iter().enumerate() {
            if !enabled {
                rules.push(profile_rule(&fields[k], inbound, true, format!("{} profile: firewall off", PROFILES[k])));
            }
        }
        rules.extend(blocks);
        rules.extend(allows);
        for (k, (_, i, o)) in settings.iter().enumerate() {
            let (allow, what) = if inbound { (*i, "DefaultInboundAction") } else { (*o, "DefaultOutboundAction") };
            let action = if allow { "Allow" } else { "Block" };
            rules.push(profile_rule(&fields[k], inbound, allow, format!("{} profile: {what} {action}", PROFILES[k])));
        }
        rules
    };
    Ruleset {
        chains: vec![
            Chain { name: "inbound".into(), rules: chain(true, ib, ia) },
            Chain { name: "outbound".into(), rules: chain(false, ob, oa) },
        ],
        // Every packet meets its profile's default rule: the policies are never reached.
        bases: vec![
            Base { chain: 0, hook: Hook::Input, priority: 0, family: None, policy_accept: false },
            Base { chain: 1, hook: Hook::Output, priority: 0, family: None, policy_accept: false },
        ],
        problems,
        incomplete: None,
    }
}

/// What an unreadable input gives: its problem, and chains that drop everything (so even a
/// caller that ignored the problem would see nothing permitted).
pub(super) fn unreadable(p: Problem, ifaces: &mut Ifaces) -> Ruleset {
    let closed = ProfileSettings { enabled: Some(true), inbound_allow: Some(false), outbound_allow: Some(false) };
    assemble(&[], &[closed.clone(), closed.clone(), closed], vec![p], ifaces)
}

/// Apply one setting (by name) to a profile's settings. Shared by the script's
/// `Set-NetFirewallProfile` and the export.
pub(super) fn profile_setting(p: &mut ProfileSettings, key: &str, value: &str) -> Result<(), String> {
    match key.to_ascii_lowercase().as_str() {
        "enabled" => p.enabled = Some(parse_gpo_bool("Enabled", value, true)?),
        "defaultinboundaction" => p.inbound_allow = Some(parse_default_action("DefaultInboundAction", value, false)?),
        "defaultoutboundaction" => p.outbound_allow = Some(parse_default_action("DefaultOutboundAction", value, true)?),
        "allowinboundrules" if !parse_gpo_bool("AllowInboundRules", value, true)? => {
            return Err("AllowInboundRules False: the profile ignores inbound rules, which is not modelled".into());
        }
        "allowlocalfirewallrules" if !parse_gpo_bool("AllowLocalFirewallRules", value, true)? => {
            return Err("AllowLocalFirewallRules False: rules of the host's own store do not apply in this profile, \
                 and which rules those are is not modelled"
                .into());
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
