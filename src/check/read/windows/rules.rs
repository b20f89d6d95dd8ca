//! Rules and profiles to a ruleset.

use super::*;

/// What became of one rule.
pub(super) enum Outcome {
    /// Disabled or not in the Domain profile.
    Ignored,
    Read {
        inbound: bool,
        allow: bool,
        rule: Rule,
    },
    Problems(Vec<String>),
}

pub(super) fn shorten(values: &[String]) -> String {
    let mut s = values.iter().take(3).map(|v| v.trim()).collect::<Vec<_>>().join(",");
    if values.len() > 3 {
        s.push_str(&format!(",… (+{})", values.len() - 3));
    }
    s
}

pub(super) fn is_any(values: &[String]) -> bool {
    values.iter().any(|v| eq(v, "Any"))
}

pub(super) fn summary(s: &Spec, inbound: bool, allow: bool) -> String {
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

pub(super) fn build_rule(s: &Spec) -> Outcome {
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

/// The ruleset of the rules and the Domain profile: Block rules before Allow rules per
/// direction, the defaults as policies.
pub(super) fn assemble(specs: &[Spec], profile: &ProfileSettings, mut problems: Vec<Problem>) -> Ruleset {
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
pub(super) fn unreadable(p: Problem) -> Ruleset {
    let closed = ProfileSettings { enabled: Some(true), inbound_allow: Some(false), outbound_allow: Some(false) };
    assemble(&[], &closed, vec![p])
}

/// Apply one profile's settings (by name) to the Domain settings, if it is the Domain
/// profile. Shared by the script's `Set-NetFirewallProfile` and the export.
pub(super) fn profile_setting(p: &mut ProfileSettings, key: &str, value: &str) -> Result<(), String> {
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
