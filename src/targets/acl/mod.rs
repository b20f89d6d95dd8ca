//! Stateless switch ACLs (Cisco IOS-XE, Aruba AOS-CX, Juniper Junos, Arista EOS).
//!
//! A switch enforces the flows leaving the SVIs it routes (DESIGN.md §5, targets.md §3–4).
//! Every interface of the device gets one inbound ACL per address family, holding
//!
//! 1. a permit for every permit of every chain that enters through this interface
//!    (`iif` = this interface): source, destination, protocol, destination port;
//! 2. the exact return entries of every chain that leaves through it (`oif` = this
//!    interface), because the answers to those flows enter here: addresses swapped, TCP
//!    from the service port with `established` (ACK or RST), UDP from the service port to
//!    the client's ephemeral range (never "all UDP back"), ICMP echo-reply for an allowed
//!    echo-request, and the plain mirror for whole protocols and `any`;
//! 3. in the IPv6 ACL, neighbour discovery (NS, NA, RS) ahead of everything else, since an
//!    explicit final deny would otherwise kill ND;
//! 4. an explicit final `deny … log`.
//!
//! Entries that match the same packets are merged (their flows are listed together). The
//! vendor-neutral `Ace` list is what the TCAM budget counts; each vendor module turns it
//! into that vendor's text and a minijinja view with every policy string already made safe
//! by `cli_text`. ACL names end with a short hash of the ACL's rendered entries and
//! remarks (`ZC-SW-CORE-VLAN32-IN-V4-3f2a9c1d`), so a changed ACL gets a new name, is
//! defined beside the one in use and swapped in with one command per interface and family,
//! which is hitless, while an unchanged ACL keeps its name and its file stays byte-identical.
//! The file names how to roll back: the ACLs the previous bundle in the output directory
//! recorded for the interface ([`PreviousAcls`], from its `manifest.json`).

mod cli;
mod text;

pub(in crate::targets) use cli::*;
pub(crate) use text::{cli_text, same_as_previous, zones_text};
pub(crate) use text::{header, remark};

use std::collections::BTreeMap;

use ipnet::IpNet;

use super::{Stats, Templates};
use crate::diagnostics::{Diag, Span, code};
use crate::lower::{ChainKind, DeviceRules, Permit, Svc, TERMINAL_PORTS, carries_terminal};
use crate::model::{DeviceId, FlowId, Model, Target};
use crate::model::{Enforcer, HostOrDevice};
use crate::syntax::ast::Keyword;

pub(crate) use crate::model::AclOptions;

/// Why an entry is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum AceKind {
    /// A permitted flow, in its direction.
    Forward,
    /// The answers to a permitted flow.
    Return,
    /// IPv6 neighbour discovery.
    Nd,
    /// The explicit final deny.
    Deny,
    /// Management ACL: terminal access (SSH, telnet) no flow declares.
    TerminalDeny,
    /// Management ACL bound to the whole control plane: everything but terminal access
    /// (routing protocols, DHCP relay, neighbour discovery) passes as without it.
    ControlPlane,
}

/// One vendor-neutral ACL entry. `None` fields match everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ace {
    pub permit: bool,
    /// IP protocol (next header); `None` = any.
    pub proto: Option<u8>,
    pub src: IpNet,
    pub sport: Option<(u16, u16)>,
    pub dst: IpNet,
    pub dport: Option<(u16, u16)>,
    pub icmp_type: Option<u8>,
    /// TCP with ACK or RST set.
    pub established: bool,
    /// The IPv6 hop limit (IPv4 TTL) the packet must arrive with.
    pub hop_limit: Option<u8>,
    pub log: bool,
    pub kind: AceKind,
    /// The flows asking for this entry (empty for ND and the final deny).
    pub flows: Vec<FlowId>,
}

/// What an entry matches, for merging duplicates.
type AceKey = (bool, Option<u8>, IpNet, Option<(u16, u16)>, IpNet, Option<(u16, u16)>, Option<u8>, bool, Option<u8>);

impl Ace {
    fn key(&self) -> AceKey {
        (
            self.permit,
            self.proto,
            self.src,
            self.sport,
            self.dst,
            self.dport,
            self.icmp_type,
            self.established,
            self.hop_limit,
        )
    }
}

/// How a vendor spells the parts of an entry. IOS-XE, EOS and AOS-CX share one entry
/// shape, `permit|deny PROTO SRC[ SPORT] DST[ DPORT][ ICMP][ established][ log]`, and
/// differ only in these words.
pub(crate) struct Spelling {
    /// The protocol word for "any IP" in an IPv4 and an IPv6 ACL.
    pub any: [&'static str; 2],
    /// The protocol word for ICMPv6 in an IPv6 ACL.
    pub icmpv6: &'static str,
    pub addr: fn(&IpNet) -> String,
    pub icmp: fn(u8, bool) -> String,
    /// The hop-limit (TTL) match, if the vendor's ACLs have one (IOS-XE's IPv6 ACLs do not).
    pub hop_limit: Option<fn(u8, bool) -> String>,
}

impl Spelling {
    fn proto(&self, p: Option<u8>, v6: bool) -> String {
        match p {
            None => self.any[usize::from(v6)].into(),
            Some(6) => "tcp".into(),
            Some(17) => "udp".into(),
            Some(1) if !v6 => "icmp".into(),
            Some(58) if v6 => self.icmpv6.into(),
            Some(n) => n.to_string(),
        }
    }
}

/// One entry in the shared shape (see [`Spelling`]).
pub(crate) fn ace_line(a: &Ace, v6: bool, spelling: &Spelling) -> String {
    let mut s = format!(
        "{} {} {}{} {}{}",
        if a.permit { "permit" } else { "deny" },
        spelling.proto(a.proto, v6),
        (spelling.addr)(&a.src),
        ports(a.sport),
        (spelling.addr)(&a.dst),
        ports(a.dport)
    );
    if let Some(t) = a.icmp_type {
        s.push(' ');
        s.push_str(&(spelling.icmp)(t, v6));
    }
    if a.established {
        s.push_str(" established");
    }
    if let (Some(h), Some(spell)) = (a.hop_limit, spelling.hop_limit) {
        s.push(' ');
        s.push_str(&spell(h, v6));
    }
    if a.log {
        s.push_str(" log");
    }
    s
}

/// One ACL: an interface, a family, its entries in order (first match wins).
#[derive(Clone, Debug)]
pub(crate) struct Acl {
    pub name: String,
    pub v6: bool,
    pub entries: Vec<Ace>,
}

/// What a vendor's management ACL is bound to, which decides how it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MgmtBinding {
    /// Terminal sessions only (IOS-XE `line vty … access-class`, EOS `management ssh`):
    /// the ACL ends in an explicit deny.
    Terminal,
    /// Every packet to the switch (AOS-CX `control-plane`, Junos `lo0` input filter): the
    /// ACL denies the terminal access no flow declares and passes the rest, so routing,
    /// DHCP relay and neighbour discovery to the switch keep working.
    ControlPlane,
}

/// The policy name of the management ACLs' "interface" in `manifest.json`.
pub(crate) const MANAGEMENT: &str = "(management)";

/// The two inbound ACLs of one interface.
#[derive(Clone, Debug)]
pub(crate) struct SviAcls {
    /// Index into `model.devices[id].interfaces`.
    pub iface: usize,
    /// The interface as the policy names it.
    pub name: String,
    pub v4: Acl,
    pub v6: Acl,
}

/// The IPv6 neighbour discovery types every IPv6 ACL permits first: NS, NA, RS.
pub(crate) const ND_TYPES: [u8; 3] = [135, 136, 133];
/// Remarks and comments hold at most this many characters (Cisco's limit, targets.md §3).
pub(crate) const REMARK_MAX: usize = 100;
/// ACL and filter names hold at most this many characters (Junos' limit is 64).
pub(crate) const NAME_MAX: usize = 63;
/// Hex digits of the content hash at the end of every ACL name.
pub(crate) const VERSION_LEN: usize = 8;

/// One ACL of a switch file, as `manifest.json` records it: the interface (as the policy
/// names it), the family, the ACL's name, and the ACL it replaces (to roll back to), if the
/// previous bundle recorded one.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AclRecord {
    pub interface: String,
    /// `ipv4` or `ipv6`.
    pub family: String,
    pub name: String,
    pub rollback: Option<String>,
}

/// A device's ACLs in the previous bundle: base name (the name without its version) →
/// (name, the ACL that one replaced).
pub(crate) type PreviousAcls = BTreeMap<String, (String, Option<String>)>;

/// Whether `name` is an ACL name zonecheck writes: `ZC-`, uppercase letters, digits and
/// `-`, `-IN-V4-` or `-IN-V6-` and [`VERSION_LEN`] lowercase hex digits, at most
/// [`NAME_MAX`] characters. Names read back from a previous bundle's manifest go into the
/// rollback comments only if they are, so an edited manifest cannot put a line break (a
/// command) or a `*/` into a switch file.
pub(crate) fn is_acl_name(name: &str) -> bool {
    let Some((base, version)) = name.rsplit_once('-') else { return false };
    name.len() <= NAME_MAX
        && version.len() == VERSION_LEN
        && version.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && base.starts_with("ZC-")
        && (base.ends_with("-IN-V4") || base.ends_with("-IN-V6"))
        && base.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// An ACL name without its `-<version>`.
pub(crate) fn base_of(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(b, _)| b)
}

/// Whether a device's ACLs are exactly those of the previous bundle (same names).
pub(crate) fn unchanged(previous: &PreviousAcls, records: &[AclRecord]) -> bool {
    !previous.is_empty()
        && previous.len() == records.len()
        && records.iter().all(|r| previous.get(base_of(&r.name)).is_some_and(|(n, _)| *n == r.name))
}

/// What each ACL of a device rolls back to. When none of the device's ACLs changed, what
/// the previous bundle recorded (so the file stays byte-identical); otherwise, for each
/// ACL that changed, the previous bundle's ACL of the same interface and family, and
/// nothing for those this version leaves as they are (re-applying them changes nothing,
/// and removing them on rollback would leave the interface without its ACL).
pub(crate) fn fill_rollbacks(previous: &PreviousAcls, records: &mut [AclRecord]) {
    let same = unchanged(previous, records);
    for r in records.iter_mut() {
        let prev = previous.get(base_of(&r.name));
        r.rollback = match prev {
            Some((_, rollback)) if same => rollback.clone(),
            Some((name, _)) if *name != r.name => Some(name.clone()),
            _ => None,
        };
    }
}

/// Collects entries in order, merging those that match the same packets.
#[derive(Default)]
struct Entries {
    list: Vec<Ace>,
    index: BTreeMap<AceKey, usize>,
}

impl Entries {
    fn push(&mut self, ace: Ace) {
        match self.index.get(&ace.key()) {
            Some(&i) => {
                let flows = &mut self.list[i].flows;
                flows.extend(ace.flows);
                flows.sort();
                flows.dedup();
            }
            None => {
                self.index.insert(ace.key(), self.list.len());
                self.list.push(ace);
            }
        }
    }
}

fn any_net(v6: bool) -> IpNet {
    if v6 { IpNet::V6(ipnet::Ipv6Net::default()) } else { IpNet::V4(ipnet::Ipv4Net::default()) }
}

fn ace(kind: AceKind, src: IpNet, dst: IpNet, flows: &[FlowId]) -> Ace {
    Ace {
        permit: true,
        proto: None,
        src,
        sport: None,
        dst,
        dport: None,
        icmp_type: None,
        established: false,
        hop_limit: None,
        log: false,
        kind,
        flows: flows.to_vec(),
    }
}

/// The entry for a permit, in its own direction.
pub(crate) fn forward(p: &Permit) -> Ace {
    let mut a = ace(AceKind::Forward, p.src, p.dst, &p.flows);
    match p.svc {
        Svc::Ports { proto, lo, hi } => {
            a.proto = Some(proto);
            a.dport = Some((lo, hi));
        }
        Svc::IcmpType { v6, ty } => {
            a.proto = Some(if v6 { 58 } else { 1 });
            a.icmp_type = Some(ty);
        }
        Svc::Proto(n) => a.proto = Some(n),
        Svc::Any => {}
    }
    a
}

/// The ICMP answer to an ICMP request type, if the type has one.
pub(crate) fn icmp_reply(v6: bool, ty: u8) -> Option<u8> {
    match (v6, ty) {
        (false, 8) => Some(0),   // echo-request → echo-reply
        (false, 13) => Some(14), // timestamp-request → timestamp-reply
        (true, 128) => Some(129),
        _ => None,
    }
}

/// The exact stateless return entry for a permit, if its service has answers.
pub(crate) fn reverse(p: &Permit, options: &AclOptions) -> Option<Ace> {
    let mut a = ace(AceKind::Return, p.dst, p.src, &p.flows);
    match p.svc {
        Svc::Ports { proto: 6, lo, hi } => {
            a.proto = Some(6);
            a.sport = Some((lo, hi));
            a.established = true;
        }
        Svc::Ports { proto, lo, hi } => {
            let (elo, ehi) = options.ephemeral;
            a.proto = Some(proto);
            a.sport = Some((lo, hi));
            a.dport = Some((elo.min(ehi), elo.max(ehi)));
        }
        Svc::IcmpType { v6, ty } => {
            a.proto = Some(if v6 { 58 } else { 1 });
            a.icmp_type = Some(icmp_reply(v6, ty)?);
        }
        Svc::Proto(n) => a.proto = Some(n),
        Svc::Any => {}
    }
    Some(a)
}

fn final_deny(v6: bool) -> Ace {
    Ace { permit: false, log: true, ..ace(AceKind::Deny, any_net(v6), any_net(v6), &[]) }
}

/// Neighbour discovery of one type towards `dst`, at hop limit 255 where the vendor can
/// match it (RFC 4861: a router forwards none with 255, so it comes from the link).
fn nd(ty: u8, dst: IpNet, hop_limit: bool) -> Ace {
    Ace {
        proto: Some(58),
        icmp_type: Some(ty),
        hop_limit: hop_limit.then_some(255),
        ..ace(AceKind::Nd, any_net(true), dst, &[])
    }
}

/// Where neighbour discovery may go from an SVI: link-local unicast, link-scoped multicast
/// (solicited-node, all-routers) and the segment's own space (the switch's addresses on
/// it). ND to anywhere else would be routed off the link, carrying whatever it holds.
fn nd_destinations(space: &[IpNet]) -> Vec<IpNet> {
    let link: [IpNet; 2] = ["fe80::/10".parse().expect("prefix"), "ff02::/16".parse().expect("prefix")];
    let mut out: Vec<IpNet> = link.to_vec();
    out.extend(space.iter().filter(|n| matches!(n, IpNet::V6(_))).copied());
    out
}

/// The uppercase name part for a device or interface: letters and digits, other runs as `-`.
fn name_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// A short, stable hash of a string (FNV-1a), for names that had to be shortened.
fn short_hash(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08X}")[..6].to_string()
}

/// The version of an ACL: the first [`VERSION_LEN`] hex digits of a sha256 over its lines as
/// rendered (entries and remarks, in order). It changes exactly when what the switch would
/// hold changes — also when a newer zonecheck spells an entry differently, so a changed ACL
/// never reuses the name of one already on the switch.
pub(crate) fn content_version<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for l in lines {
        h.update((l.len() as u64).to_le_bytes());
        h.update(l.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>()[..VERSION_LEN].to_string()
}

/// `base-version`: the name the switch gets.
pub(crate) fn versioned(base: &str, version: &str) -> String {
    format!("{base}-{version}")
}

/// The base name `ZC-<DEVICE>-<IFACE>-IN-V4`, short enough that `-<version>` keeps it
/// within [`NAME_MAX`] characters; `unique` tells apart interfaces whose names differ only
/// in case or punctuation.
pub(crate) fn acl_name(device: &str, iface: &str, unique: Option<usize>, v6: bool) -> String {
    let mut stem = format!("{}-{}", name_part(device), name_part(iface));
    if let Some(k) = unique {
        stem.push_str(&format!("-{k}"));
    }
    let tail = format!("-IN-V{}", if v6 { 6 } else { 4 });
    if 3 + stem.len() + tail.len() + 1 + VERSION_LEN > NAME_MAX {
        let hash = short_hash(&stem);
        let keep = NAME_MAX.saturating_sub(3 + tail.len() + 1 + VERSION_LEN + 1 + hash.len());
        stem = format!("{}-{hash}", stem.chars().take(keep).collect::<String>().trim_end_matches('-'));
    }
    format!("ZC-{stem}{tail}")
}

/// The management ACLs of a switch with an `address` (IPv4, IPv6): a permit for each flow
/// to the switch that can carry terminal access, then how the vendor's binding ends
/// ([`MgmtBinding`]). `None` for a switch without an address: nothing names it, and its
/// management plane stays as it is. `dst_any`: the vendor may not match the destination
/// of terminal sessions (IOS-XE before CSCuw89081 matches the source only), so the entries
/// name any destination — every packet a terminal line sees is to the switch anyway.
pub(crate) fn build_management(
    model: &Model,
    rules: &DeviceRules,
    binding: MgmtBinding,
    dst_any: bool,
) -> Option<[Acl; 2]> {
    let Enforcer::Device(id) = rules.enforcer else { return None };
    let device = &model.devices[id.index()];
    device.node?;
    let mut fam: [Entries; 2] = Default::default();
    for chain in rules.chains.iter().filter(|c| c.kind == ChainKind::Input) {
        for p in chain.permits.iter().filter(|p| carries_terminal(p.svc)) {
            let v6 = p.src.addr().is_ipv6();
            let mut a = forward(p);
            if dst_any {
                a.dst = any_net(v6);
            }
            fam[usize::from(v6)].push(a);
        }
    }
    let [mut v4, mut v6] = fam;
    for (v6_fam, entries) in [(false, &mut v4), (true, &mut v6)] {
        match binding {
            MgmtBinding::Terminal => entries.push(final_deny(v6_fam)),
            MgmtBinding::ControlPlane => {
                let (lo, hi) = TERMINAL_PORTS;
                let any = any_net(v6_fam);
                entries.push(Ace {
                    permit: false,
                    proto: Some(6),
                    dport: Some((lo, hi)),
                    log: true,
                    ..ace(AceKind::TerminalDeny, any, any, &[])
                });
                entries.push(ace(AceKind::ControlPlane, any, any, &[]));
            }
        }
    }
    Some([
        Acl { name: acl_name(&device.name, "MGMT", None, false), v6: false, entries: v4.list },
        Acl { name: acl_name(&device.name, "MGMT", None, true), v6: true, entries: v6.list },
    ])
}

/// Build the per-interface, per-family ACL entry lists of a switch (vendor-neutral). Their
/// names are base names; the vendor's rendering appends the version ([`versioned`]).
///
/// `hop_limit`: the vendor's ACLs can match the hop limit (see `Spelling::hop_limit`).
pub(crate) fn build(model: &Model, rules: &DeviceRules, options: &AclOptions, hop_limit: bool) -> Vec<SviAcls> {
    let Enforcer::Device(id) = rules.enforcer else { return Vec::new() };
    let device = &model.devices[id.index()];
    // `MGMT` is the management ACLs' name part: an SVI spelled so gets a number.
    let mut seen: BTreeMap<String, usize> = BTreeMap::from([("MGMT".to_string(), 1)]);
    let mut out = Vec::new();
    for (k, iface) in device.interfaces.iter().enumerate() {
        let part = name_part(&iface.name);
        let n = seen.entry(part).or_insert(0);
        let unique = (*n > 0).then_some(k);
        *n += 1;
        let mut fam: [Entries; 2] = Default::default();
        let space = rules.sources.iter().find(|(n, _)| *n == iface.name).map_or(&[][..], |(_, s)| &s[..]);
        let nd_dsts = nd_destinations(space);
        for nd_type in ND_TYPES {
            for dst in &nd_dsts {
                fam[1].push(nd(nd_type, *dst, hop_limit));
            }
        }
        // Forward entries first, then the answers to flows leaving through this interface.
        for chain in &rules.chains {
            if let ChainKind::Forward { iif, .. } = &chain.kind
                && *iif == iface.name
            {
                for p in &chain.permits {
                    fam[usize::from(p.src.addr().is_ipv6())].push(forward(p));
                }
            }
        }
        for chain in &rules.chains {
            if let ChainKind::Forward { oif, .. } = &chain.kind
                && *oif == iface.name
            {
                for p in &chain.permits {
                    if let Some(r) = reverse(p, options) {
                        fam[usize::from(p.src.addr().is_ipv6())].push(r);
                    }
                }
            }
        }
        let [mut v4, mut v6] = fam;
        v4.push(final_deny(false));
        v6.push(final_deny(true));
        out.push(SviAcls {
            iface: k,
            name: iface.name.clone(),
            v4: Acl { name: acl_name(&device.name, &iface.name, unique, false), v6: false, entries: v4.list },
            v6: Acl { name: acl_name(&device.name, &iface.name, unique, true), v6: true, entries: v6.list },
        });
    }
    out
}

/// The TCAM budget a device's entries exceed, if any: `(budget, entries)`. Nothing but the
/// tests asks yet (src/tests/acl/mod.rs; issue 15 found it unused).
#[cfg(test)]
pub(crate) fn over_budget(model: &Model, rules: &DeviceRules, stats: &Stats) -> Option<(u64, usize)> {
    let Enforcer::Device(id) = rules.enforcer else { return None };
    let budget = model.devices[id.index()].tcam?;
    (stats.rules as u64 > budget).then_some((budget, stats.rules))
}

/// Render one switch: the device's ACLs in its vendor's syntax, its counts (`rules` = ACL
/// entries, what a TCAM budget counts; `chains` = ACLs) and its ACLs' names for the
/// manifest. `previous` is what the previous bundle recorded for the device (for the
/// rollback steps; empty for none).
pub(crate) fn render(
    model: &Model,
    rules: &DeviceRules,
    templates: &Templates,
    options: &AclOptions,
    previous: &PreviousAcls,
) -> Result<(Vec<u8>, Stats, Vec<AclRecord>), Vec<Diag>> {
    let (HostOrDevice::Device(target), Enforcer::Device(id)) = (rules.target, rules.enforcer) else {
        return Err(vec![not_acl(rules)]);
    };
    // IOS-XE's IPv6 ACLs have no hop-limit match: its ND entries keep ND on the link by
    // their destinations alone.
    let acls = build(model, rules, options, target != Target::CiscoIos);
    // IOS-XE and EOS bind ACLs to terminal sessions (vty lines, `management ssh`); AOS-CX
    // and Junos only to the whole control plane.
    let binding = match target {
        Target::CiscoIos | Target::AristaEos => MgmtBinding::Terminal,
        _ => MgmtBinding::ControlPlane,
    };
    let mgmt = build_management(model, rules, binding, target == Target::CiscoIos);
    let stats = Stats {
        chains: acls.len() * 2 + mgmt.as_ref().map_or(0, |_| 2),
        rules: acls.iter().map(|a| a.v4.entries.len() + a.v6.entries.len()).sum::<usize>()
            + mgmt.iter().flatten().map(|a| a.entries.len()).sum::<usize>(),
        elements: 0,
    };
    let mgmt = mgmt.as_ref();
    let (text, records) = match target {
        Target::CiscoIos => render_cli(model, id, rules, (&acls, mgmt), templates, previous, &super::ios::VENDOR)?,
        Target::AristaEos => render_cli(model, id, rules, (&acls, mgmt), templates, previous, &super::eos::VENDOR)?,
        Target::ArubaAoscx => render_cli(model, id, rules, (&acls, mgmt), templates, previous, &super::aoscx::VENDOR)?,
        Target::Junos => super::junos::render(model, id, rules, &acls, mgmt, templates, previous)?,
        Target::Nftables | Target::Windows => return Err(vec![not_acl(rules)]),
    };
    Ok((text.into_bytes(), stats, records))
}

fn not_acl(rules: &DeviceRules) -> Diag {
    Diag::error(
        code::COMPILE_TEMPLATE,
        Span::NONE,
        format!("internal: `{}` is not a switch ACL target (cisco-ios, aruba-aoscx, junos, arista-eos)", rules.name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn cli_text_is_one_safe_ascii_line(s in any::<String>(), max in 1usize..150, junos in any::<bool>()) {
            let t = cli_text(&s, max, junos);
            prop_assert!(t.len() <= max);
            prop_assert!(t.chars().all(|c| c.is_ascii_graphic() || c == ' '));
            prop_assert!(!t.contains(['?', '"', '\\']));
            prop_assert!(!junos || !t.contains('*'));
            prop_assert!(!t.starts_with(' ') && !t.ends_with(' ') && !t.contains("  "));
        }
    }

    #[test]
    fn hostile_text_loses_its_line_breaks() {
        assert_eq!(cli_text("a\npermit ip any any", 100, false), "a permit ip any any");
        assert_eq!(cli_text("x\r\nend", 100, false), "x end");
        assert_eq!(
            cli_text("Sikker sone – servere: æøå ÆØÅ “q” ’", 100, false),
            "Sikker sone - servere: aeoeaa AEOEAA q '"
        );
        assert_eq!(cli_text("a */ b /* c", 100, true), "a / b / c");
        assert_eq!(cli_text("what? 🦀", 100, false), "what");
        assert_eq!(cli_text("abcdef", 3, false), "abc");
    }

    /// A switch routes what is behind none of its SVIs to its uplink: lowering gives it
    /// chains to and from the uplink, and each SVI gets exactly its part of them —
    /// forward entries for flows entering through it, answers for flows leaving by it.
    #[test]
    fn chains_to_the_uplink_are_served() {
        use crate::lower::{UPLINK, lower};
        let model = crate::load_str(
            "t.zc",
            "zone a { trust internal; net 10.0.0.0/24 }\nzone b { trust internal; net 10.1.0.0/24 }\n\
             flow a -> b : https \"x\"\nflow b -> a : ssh \"y\"\nswitch sw { target cisco-ios; interface Vlan10 zone a }\n",
        )
        .expect("resolves");
        let rules = lower(&model).remove(0);
        let kinds: Vec<(String, String)> = rules
            .chains
            .iter()
            .filter_map(|c| match &c.kind {
                ChainKind::Forward { iif, oif, .. } => Some((iif.clone(), oif.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, vec![("Vlan10".to_string(), UPLINK.to_string()), (UPLINK.to_string(), "Vlan10".to_string())]);
        let out = Permit {
            src: "10.0.0.0/24".parse().expect("net"),
            dst: "10.1.0.0/24".parse().expect("net"),
            svc: Svc::Ports { proto: 6, lo: 443, hi: 443 },
            flows: vec![FlowId(0)],
        };
        let inbound = Permit {
            src: "10.1.0.0/24".parse().expect("net"),
            dst: "10.0.0.0/24".parse().expect("net"),
            svc: Svc::Ports { proto: 6, lo: 22, hi: 22 },
            flows: vec![FlowId(1)],
        };
        let acls = build(&model, &rules, &AclOptions::default(), true);
        assert_eq!(acls.len(), 1, "an ACL for the declared SVI only");
        assert_eq!(
            acls[0].v4.entries,
            vec![forward(&out), reverse(&inbound, &AclOptions::default()).expect("tcp"), final_deny(false)]
        );
    }

    #[test]
    fn names_are_versioned_by_content_and_bounded() {
        assert_eq!(acl_name("sw-core", "Vlan32", None, false), "ZC-SW-CORE-VLAN32-IN-V4");
        assert_eq!(acl_name("sw-core", "irb.10", Some(3), true), "ZC-SW-CORE-IRB-10-3-IN-V6");
        let long = versioned(&acl_name(&"x".repeat(80), "GigabitEthernet1/0/1", None, false), "3f2a9c1d");
        assert!(long.len() <= NAME_MAX && long.ends_with("-IN-V4-3f2a9c1d"), "{long}");
        let v = content_version(["10 permit ip any any", "20 deny ip any any log"]);
        assert_eq!(v.len(), VERSION_LEN);
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(v, content_version(["10 permit ip any any", "20 deny ip any any log"]), "deterministic");
        assert_ne!(v, content_version(["10 permit ip any any", "20 deny ip any any"]), "an entry changed");
        // Line boundaries count: the same bytes split differently are another ACL.
        assert_ne!(content_version(["ab", "c"]), content_version(["a", "bc"]));
    }

    #[test]
    fn rollback_names_the_previous_acl_and_carries_over_when_unchanged() {
        let rec = |name: &str| AclRecord {
            interface: "Vlan10".into(),
            family: "ipv4".into(),
            name: name.into(),
            rollback: Some("stale".into()),
        };
        let rollbacks = |previous: &PreviousAcls, names: &[&str]| {
            let mut r: Vec<AclRecord> = names.iter().map(|n| rec(n)).collect();
            fill_rollbacks(previous, &mut r);
            r.into_iter().map(|r| r.rollback).collect::<Vec<_>>()
        };
        // No previous bundle: nothing to roll back to.
        assert_eq!(rollbacks(&PreviousAcls::new(), &["ZC-SW-V10-IN-V4-bbbbbbbb"]), vec![None]);
        let mut previous = PreviousAcls::new();
        previous.insert("ZC-SW-V10-IN-V4".into(), ("ZC-SW-V10-IN-V4-aaaaaaaa".into(), None));
        previous
            .insert("ZC-SW-V20-IN-V4".into(), ("ZC-SW-V20-IN-V4-cccccccc".into(), Some("ZC-SW-V20-IN-V4-0".into())));
        // One ACL changed: it rolls back to the previous one; the unchanged one to nothing.
        assert_eq!(
            rollbacks(&previous, &["ZC-SW-V10-IN-V4-bbbbbbbb", "ZC-SW-V20-IN-V4-cccccccc"]),
            vec![Some("ZC-SW-V10-IN-V4-aaaaaaaa".to_string()), None]
        );
        // Nothing changed: what the previous bundle recorded, so the file stays the same.
        assert_eq!(
            rollbacks(&previous, &["ZC-SW-V10-IN-V4-aaaaaaaa", "ZC-SW-V20-IN-V4-cccccccc"]),
            vec![None, Some("ZC-SW-V20-IN-V4-0".to_string())]
        );
        assert_eq!(base_of("ZC-SW-V10-IN-V4-aaaaaaaa"), "ZC-SW-V10-IN-V4");
    }

    #[test]
    fn only_names_zonecheck_writes_are_acl_names() {
        let name = versioned(&acl_name("sw-core", "Vlan32", None, false), &content_version(["x"]));
        assert!(is_acl_name(&name), "{name}");
        let long = versioned(&acl_name(&"x".repeat(80), "GigabitEthernet1/0/1", None, true), "0123abcd");
        assert!(is_acl_name(&long), "{long}");
        for bad in [
            "ZC-SW-VLAN10-IN-V4-aaaaaaa",
            "ZC-SW-VLAN10-IN-V4-AAAAAAAA",
            "ZC-SW-VLAN10-OUT-V4-aaaaaaaa",
            "zc-sw-vlan10-in-v4-aaaaaaaa",
            "ZC-SW\nip access-list extended X\n permit ip any any-IN-V4-aaaaaaaa",
            "ZC-SW */ x /*-IN-V4-aaaaaaaa",
            "",
        ] {
            assert!(!is_acl_name(bad), "{bad:?}");
        }
        assert!(!is_acl_name(&format!("ZC-{}-IN-V4-aaaaaaaa", "X".repeat(60))), "too long");
    }
}
