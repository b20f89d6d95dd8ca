//! Juniper Junos stateless firewall filters (targets.md §4), in hierarchical form for
//! `load merge terminal`: one `family inet` and one `family inet6` filter per interface,
//! one term per entry (first match wins), `protocol tcp` beside every `tcp-established`
//! (which checks ACK|RST but not the protocol), and a final term that counts, logs and
//! discards. `filter { input NAME; }` holds one name, so merging replaces the filter in
//! use, and `commit` applies the whole change atomically. Junos has no description for
//! filters or terms, so the flow trace is a `/* … */` annotation, which `load merge`
//! keeps; its text never holds `*` (so it cannot end the comment) or `"`.

use ipnet::IpNet;
use serde::Serialize;

use super::Templates;
use super::acl::{
    Ace, AceKind, Acl, AclRecord, MANAGEMENT, PreviousAcls, REMARK_MAX, SviAcls, cli_text, file_version,
    fill_rollbacks, header, ifaces, name_acl, remark, rollbacks, same_as_previous, seq, zones_text,
};
use crate::diagnostics::Diag;
use crate::lower::DeviceRules;
use crate::model::{DeviceId, Model};

#[derive(Serialize)]
struct Term {
    name: String,
    comment: String,
    from: Vec<String>,
    then: Vec<String>,
}

#[derive(Serialize)]
struct Filter {
    name: String,
    zones: String,
    terms: Vec<Term>,
}

#[derive(Serialize)]
struct Unit {
    unit: String,
    zones: String,
    v4: String,
    v6: String,
    /// The filters to roll back to (from the previous bundle), if it recorded them.
    v4_rollback: Option<String>,
    v6_rollback: Option<String>,
    /// The interface's place in the device's ACL list.
    #[serde(skip)]
    index: usize,
}

#[derive(Serialize)]
struct Ifd {
    name: String,
    units: Vec<Unit>,
}

#[derive(Serialize)]
struct File {
    header: Vec<String>,
    version: String,
    inet: Vec<Filter>,
    inet6: Vec<Filter>,
    interfaces: Vec<Ifd>,
}

/// `irb.10` → (`irb`, `10`); `ge-0/0/1` → (`ge-0/0/1`, `0`).
fn iface(name: &str) -> Result<(String, String), String> {
    let (ifd, unit) = name.rsplit_once('.').unwrap_or((name, "0"));
    if !ifd.starts_with(|c: char| c.is_ascii_lowercase())
        || !ifd.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '/')
    {
        return Err("Junos interfaces are lowercase, like `irb.32`, `vlan.32` or `ge-0/0/1.0`".into());
    }
    if unit.is_empty() || unit.len() > 10 || !unit.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the unit after `.` must be a number".into());
    }
    Ok((ifd.to_string(), unit.to_string()))
}

fn proto(p: u8, v6: bool) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 if !v6 => "icmp".into(),
        58 if v6 => "icmp6".into(),
        n => n.to_string(),
    }
}

fn port(p: (u16, u16)) -> String {
    if p.0 == p.1 { p.0.to_string() } else { format!("{}-{}", p.0, p.1) }
}

fn from(a: &Ace, v6: bool) -> Vec<String> {
    let mut out = Vec::new();
    let prefix = |n: &IpNet| n.trunc().to_string();
    if a.src.prefix_len() > 0 {
        out.push(format!("source-address {{ {}; }}", prefix(&a.src)));
    }
    if a.dst.prefix_len() > 0 {
        out.push(format!("destination-address {{ {}; }}", prefix(&a.dst)));
    }
    if let Some(p) = a.proto {
        out.push(format!("{} {};", if v6 { "next-header" } else { "protocol" }, proto(p, v6)));
    }
    if let Some(p) = a.sport {
        out.push(format!("source-port {};", port(p)));
    }
    if let Some(p) = a.dport {
        out.push(format!("destination-port {};", port(p)));
    }
    if let Some(t) = a.icmp_type {
        out.push(format!("icmp-type {t};"));
    }
    if a.established {
        out.push("tcp-established;".into());
    }
    if let Some(h) = a.hop_limit {
        out.push(format!("{} {h};", if v6 { "hop-limit" } else { "ttl" }));
    }
    out
}

pub(super) fn render(
    model: &Model,
    id: DeviceId,
    rules: &DeviceRules,
    acls: &[SviAcls],
    mgmt: Option<&[Acl; 2]>,
    templates: &Templates,
    previous: &PreviousAcls,
) -> Result<(String, Vec<AclRecord>), Vec<Diag>> {
    let mut records = Vec::new();
    let names = ifaces(model, id, acls, "Junos", "`irb.32`, `vlan.32` or `ge-0/0/1.0`", |n| {
        iface(n).map(|(d, u)| format!("{d}.{u}"))
    })?;
    let mut inet = Vec::new();
    let mut inet6 = Vec::new();
    let mut interfaces: Vec<Ifd> = Vec::new();
    // One filter as Junos writes it, named by its content and recorded for the manifest.
    let mut filter = |iface: &str, acl: &Acl, zones: &str, records: &mut Vec<AclRecord>| {
        let terms: Vec<Term> = acl
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let name = match e.kind {
                    AceKind::Deny => "zc-deny".to_string(),
                    AceKind::TerminalDeny => "zc-terminal-deny".to_string(),
                    AceKind::ControlPlane => "zc-control-plane".to_string(),
                    _ => format!("zc-{}", seq(i)),
                };
                let then = if e.permit {
                    vec![format!("count {name};"), "accept;".into()]
                } else {
                    vec![format!("count {name};"), "syslog;".into(), "discard;".into()]
                };
                let comment =
                    if same_as_previous(&acl.entries, i) { String::new() } else { remark(model, e, REMARK_MAX, true) };
                Term { comment, from: from(e, acl.v6), then, name }
            })
            .collect();
        let lines: Vec<String> = terms
            .iter()
            .map(|t| format!("{} /* {} */ from {} then {}", t.name, t.comment, t.from.join(" "), t.then.join(" ")))
            .collect();
        let name = name_acl(iface, acl, lines.iter().map(String::as_str), records);
        let f = Filter { name: name.clone(), zones: zones.to_string(), terms };
        if acl.v6 {
            inet6.push(f)
        } else {
            inet.push(f)
        }
        name
    };
    for (index, (a, name)) in acls.iter().zip(names).enumerate() {
        let zones = cli_text(&zones_text(model, id, a.iface), 200, true);
        let v4 = filter(&a.name, &a.v4, &zones, &mut records);
        let v6 = filter(&a.name, &a.v6, &zones, &mut records);
        let (ifd, unit) = name.rsplit_once('.').map(|(d, u)| (d.to_string(), u.to_string())).unwrap_or_default();
        let unit = Unit { unit, zones, v4, v6, v4_rollback: None, v6_rollback: None, index };
        match interfaces.iter_mut().find(|d| d.name == ifd) {
            Some(d) => d.units.push(unit),
            None => interfaces.push(Ifd { name: ifd, units: vec![unit] }),
        }
    }
    // The management filters guard the routing engine: lo0's input filter sees every
    // packet to the switch.
    if let Some([v4, v6]) = mgmt {
        let zones =
            "management: terminal access (SSH, telnet) to the switch itself; replaces the input filter of lo0.0"
                .to_string();
        let v4 = filter(MANAGEMENT, v4, &zones, &mut records);
        let v6 = filter(MANAGEMENT, v6, &zones, &mut records);
        let unit = Unit { unit: "0".into(), zones, v4, v6, v4_rollback: None, v6_rollback: None, index: acls.len() };
        interfaces.push(Ifd { name: "lo0".into(), units: vec![unit] });
    }
    fill_rollbacks(previous, &mut records);
    for u in interfaces.iter_mut().flat_map(|d| d.units.iter_mut()) {
        (u.v4_rollback, u.v6_rollback) = rollbacks(&records, u.index);
    }
    let file = File {
        header: header(
            model,
            rules,
            "Load with `load merge terminal`, check `show | compare`, then `commit confirmed 5` and `commit`.",
            true,
        ),
        version: file_version(&records),
        inet,
        inet6,
        interfaces,
    };
    let text = templates.render("junos/switch.j2", &file).map_err(|e| vec![e])?;
    Ok((text, records))
}
