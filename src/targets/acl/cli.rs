//! The line-oriented CLIs (IOS-XE, EOS, AOS-CX): one vendor description each, and the one
//! renderer that numbers entries, names each ACL by its content and fills the template.

use super::*;

/// `COMPILE_INTERFACE_NAME` for an interface a vendor cannot take.
pub(in crate::targets) fn bad_iface(
    model: &Model,
    id: DeviceId,
    k: usize,
    vendor: &str,
    why: &str,
    example: &str,
) -> Diag {
    let i = &model.devices[id.index()].interfaces[k];
    Diag::error(
        code::COMPILE_INTERFACE_NAME,
        i.span,
        format!("`{}` cannot be a {vendor} interface name: {why}", i.name.escape_debug()),
    )
    .help(format!("write the interface as the switch names it, e.g. {example}"))
}

/// The problem with a CLI interface name in general (spaces, quotes, control characters).
pub(in crate::targets) fn cli_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > 64 {
        return Some(format!("it is {} bytes long", name.len()));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | ':' | '-' | '_')))
        .map(|c| format!("it contains `{}`; use letters, digits, `/`, `.`, `:`, `-` and `_`", c.escape_debug()))
}

/// Sequence numbers: 10, 20, ….
pub(in crate::targets) fn seq(i: usize) -> usize {
    (i + 1) * 10
}

/// Port match text for the Cisco-like CLIs: `eq 443`, `range 1024 65535`.
pub(in crate::targets) fn ports(p: Option<(u16, u16)>) -> String {
    match p {
        None => String::new(),
        Some((lo, hi)) if lo == hi => format!(" eq {lo}"),
        Some((lo, hi)) => format!(" range {lo} {hi}"),
    }
}

/// How a Cisco-like, line-oriented CLI (IOS-XE, EOS, AOS-CX) writes ACLs.
pub(in crate::targets) struct CliVendor {
    /// For messages: `Cisco IOS-XE`.
    pub name: &'static str,
    pub template: &'static str,
    /// How to load the file, for the header.
    pub how: &'static str,
    /// Example interface names, for the diagnostic.
    pub example: &'static str,
    /// The interface as the CLI writes it after `interface `, or why it cannot be one.
    pub iface: fn(&str) -> Result<String, String>,
    /// An entry after its sequence number: `permit tcp any host 10.0.0.1 eq 443`.
    pub ace: fn(&Ace, bool) -> String,
    /// Remarks have their own sequence numbers (EOS) rather than none or the entry's.
    pub remark_own_seq: bool,
    /// AOS-CX applies ACLs on VLAN interfaces as `routed-in`.
    pub direction: fn(&str) -> &'static str,
}

#[derive(serde::Serialize)]
pub(super) struct CliEntry {
    seq: usize,
    remark_seq: usize,
    remark: String,
    text: String,
}

#[derive(serde::Serialize)]
pub(super) struct CliAcl {
    name: String,
    v6: bool,
    entries: Vec<CliEntry>,
}

#[derive(serde::Serialize)]
pub(super) struct CliIface {
    /// As written after `interface `.
    name: String,
    direction: &'static str,
    /// The zones behind it (safe free text).
    zones: String,
    v4: String,
    v6: String,
    /// The ACLs to roll back to (from the previous bundle), if it recorded them.
    v4_rollback: Option<String>,
    v6_rollback: Option<String>,
}

/// The management ACLs (switches with an `address`) and what they roll back to.
#[derive(serde::Serialize)]
pub(super) struct CliMgmt {
    v4: String,
    v6: String,
    v4_rollback: Option<String>,
    v6_rollback: Option<String>,
}

#[derive(serde::Serialize)]
pub(super) struct CliFile {
    header: Vec<String>,
    device: String,
    /// A hash of the file's ACL names: changes exactly when one of them does.
    version: String,
    session: String,
    acls: Vec<CliAcl>,
    interfaces: Vec<CliIface>,
    management: Option<CliMgmt>,
}

/// Names one rendered ACL: appends the version of its `lines` to its base name and records
/// it for the manifest (its rollback is filled in by [`fill_rollbacks`] once the device's
/// ACLs are all named).
pub(in crate::targets) fn name_acl<'a>(
    iface: &str,
    acl: &Acl,
    lines: impl IntoIterator<Item = &'a str>,
    records: &mut Vec<AclRecord>,
) -> String {
    let name = versioned(&acl.name, &content_version(lines));
    records.push(AclRecord {
        interface: iface.to_string(),
        family: if acl.v6 { "ipv6" } else { "ipv4" }.into(),
        name: name.clone(),
        rollback: None,
    });
    name
}

/// The rollbacks of the interface at `k` (its IPv4 and IPv6 ACL).
pub(in crate::targets) fn rollbacks(records: &[AclRecord], k: usize) -> (Option<String>, Option<String>) {
    let at = |i: usize| records.get(i).and_then(|r| r.rollback.clone());
    (at(2 * k), at(2 * k + 1))
}

/// The version of a whole switch file (its configuration session): a hash of its ACL names.
pub(in crate::targets) fn file_version(records: &[AclRecord]) -> String {
    content_version(records.iter().map(|r| r.name.as_str()))
}

/// Interface names a vendor cannot take, as diagnostics; otherwise the names it writes.
pub(in crate::targets) fn ifaces(
    model: &Model,
    id: DeviceId,
    acls: &[SviAcls],
    vendor: &str,
    example: &str,
    f: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, Vec<Diag>> {
    let mut names = Vec::new();
    let mut diags = Vec::new();
    for a in acls {
        match cli_name_problem(&a.name).map_or_else(|| f(&a.name), Err) {
            Ok(n) => names.push(n),
            Err(why) => diags.push(bad_iface(model, id, a.iface, vendor, &why, example)),
        }
    }
    if diags.is_empty() { Ok(names) } else { Err(diags) }
}

/// Render a switch through a line-oriented CLI vendor's template.
pub(in crate::targets) fn render_cli(
    model: &Model,
    id: DeviceId,
    rules: &DeviceRules,
    (acls, mgmt): (&[SviAcls], Option<&[Acl; 2]>),
    templates: &Templates,
    previous: &PreviousAcls,
    vendor: &CliVendor,
) -> Result<(String, Vec<AclRecord>), Vec<Diag>> {
    let names = ifaces(model, id, acls, vendor.name, vendor.example, vendor.iface)?;
    let mut records = Vec::new();
    let mut views = Vec::new();
    let mut interfaces = Vec::new();
    // One ACL as the vendor writes it, named by its content and recorded for the manifest.
    let mut view = |iface: &str, acl: &Acl, records: &mut Vec<AclRecord>| {
        // Lines numbered in order: entries only, or (EOS) remarks and entries alike.
        let mut line = 0;
        let entries = acl
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let remark =
                    if same_as_previous(&acl.entries, i) { String::new() } else { remark(model, e, REMARK_MAX, false) };
                let remark_seq = seq(line);
                if vendor.remark_own_seq && !remark.is_empty() {
                    line += 1;
                }
                let entry = CliEntry { seq: seq(line), remark_seq, remark, text: (vendor.ace)(e, acl.v6) };
                line += 1;
                entry
            })
            .collect::<Vec<CliEntry>>();
        let lines: Vec<String> = entries
            .iter()
            .map(|e| format!("{} {} {} {} {}", vendor.name, e.remark_seq, e.remark, e.seq, e.text))
            .collect();
        let name = name_acl(iface, acl, lines.iter().map(String::as_str), records);
        views.push(CliAcl { name: name.clone(), v6: acl.v6, entries });
        name
    };
    for (a, cli) in acls.iter().zip(names) {
        let v4 = view(&a.name, &a.v4, &mut records);
        let v6 = view(&a.name, &a.v6, &mut records);
        interfaces.push(CliIface {
            direction: (vendor.direction)(&cli),
            name: cli,
            zones: cli_text(&zones_text(model, id, a.iface), 200, false),
            v4,
            v6,
            v4_rollback: None,
            v6_rollback: None,
        });
    }
    let mut management = mgmt.map(|[v4, v6]| CliMgmt {
        v4: view(MANAGEMENT, v4, &mut records),
        v6: view(MANAGEMENT, v6, &mut records),
        v4_rollback: None,
        v6_rollback: None,
    });
    fill_rollbacks(previous, &mut records);
    for (k, i) in interfaces.iter_mut().enumerate() {
        (i.v4_rollback, i.v6_rollback) = rollbacks(&records, k);
    }
    if let Some(m) = &mut management {
        (m.v4_rollback, m.v6_rollback) = rollbacks(&records, acls.len());
    }
    let version = file_version(&records);
    let file = CliFile {
        header: header(model, rules, vendor.how, false),
        device: cli_text(&rules.name, 64, false),
        session: format!("zc-{}-{version}", name_part(&rules.name).to_ascii_lowercase()),
        version,
        acls: views,
        interfaces,
        management,
    };
    let text = templates.render(vendor.template, &file).map_err(|e| vec![e])?;
    Ok((text, records))
}
