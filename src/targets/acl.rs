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
//! vendor-neutral [`Ace`] list is what the TCAM budget counts; each vendor module turns it
//! into that vendor's text and a minijinja view with every policy string already made safe
//! by [`cli_text`]. ACL names end with a short hash of the ACL's rendered entries and
//! remarks (`ZC-SW-CORE-VLAN32-IN-V4-3f2a9c1d`), so a changed ACL gets a new name, is
//! defined beside the one in use and swapped in with one command per interface and family,
//! which is hitless, while an unchanged ACL keeps its name and its file stays byte-identical.
//! The file names how to roll back: the ACLs the previous bundle in the output directory
//! recorded for the interface ([`PreviousAcls`], from its `manifest.json`).

use std::collections::BTreeMap;

use ipnet::IpNet;

use super::{Stats, Templates};
use crate::diagnostics::{Diag, Span, code};
use crate::lower::{ChainKind, DeviceRules, Enforcer, HostOrDevice, Permit, Svc, TERMINAL_PORTS, carries_terminal};
use crate::model::{DeviceId, FlowId, Model, Target};
use crate::syntax::ast::Keyword;

pub use crate::lower::AclOptions;

/// Why an entry is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AceKind {
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
pub struct Ace {
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
pub struct Spelling {
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
pub fn ace_line(a: &Ace, v6: bool, spelling: &Spelling) -> String {
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
pub struct Acl {
    pub name: String,
    pub v6: bool,
    pub entries: Vec<Ace>,
}

/// What a vendor's management ACL is bound to, which decides how it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MgmtBinding {
    /// Terminal sessions only (IOS-XE `line vty … access-class`, EOS `management ssh`):
    /// the ACL ends in an explicit deny.
    Terminal,
    /// Every packet to the switch (AOS-CX `control-plane`, Junos `lo0` input filter): the
    /// ACL denies the terminal access no flow declares and passes the rest, so routing,
    /// DHCP relay and neighbour discovery to the switch keep working.
    ControlPlane,
}

/// The policy name of the management ACLs' "interface" in `manifest.json`.
pub const MANAGEMENT: &str = "(management)";

/// The two inbound ACLs of one interface.
#[derive(Clone, Debug)]
pub struct SviAcls {
    /// Index into `model.devices[id].interfaces`.
    pub iface: usize,
    /// The interface as the policy names it.
    pub name: String,
    pub v4: Acl,
    pub v6: Acl,
}

/// The IPv6 neighbour discovery types every IPv6 ACL permits first: NS, NA, RS.
pub const ND_TYPES: [u8; 3] = [135, 136, 133];
/// Remarks and comments hold at most this many characters (Cisco's limit, targets.md §3).
pub const REMARK_MAX: usize = 100;
/// ACL and filter names hold at most this many characters (Junos' limit is 64).
pub const NAME_MAX: usize = 63;
/// Hex digits of the content hash at the end of every ACL name.
pub const VERSION_LEN: usize = 8;

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
pub type PreviousAcls = BTreeMap<String, (String, Option<String>)>;

/// Whether `name` is an ACL name zonecheck writes: `ZC-`, uppercase letters, digits and
/// `-`, `-IN-V4-` or `-IN-V6-` and [`VERSION_LEN`] lowercase hex digits, at most
/// [`NAME_MAX`] characters. Names read back from a previous bundle's manifest go into the
/// rollback comments only if they are, so an edited manifest cannot put a line break (a
/// command) or a `*/` into a switch file.
pub fn is_acl_name(name: &str) -> bool {
    let Some((base, version)) = name.rsplit_once('-') else { return false };
    name.len() <= NAME_MAX
        && version.len() == VERSION_LEN
        && version.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && base.starts_with("ZC-")
        && (base.ends_with("-IN-V4") || base.ends_with("-IN-V6"))
        && base.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// An ACL name without its `-<version>`.
pub fn base_of(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(b, _)| b)
}

/// Whether a device's ACLs are exactly those of the previous bundle (same names).
pub fn unchanged(previous: &PreviousAcls, records: &[AclRecord]) -> bool {
    !previous.is_empty()
        && previous.len() == records.len()
        && records.iter().all(|r| previous.get(base_of(&r.name)).is_some_and(|(n, _)| *n == r.name))
}

/// What each ACL of a device rolls back to. When none of the device's ACLs changed, what
/// the previous bundle recorded (so the file stays byte-identical); otherwise, for each
/// ACL that changed, the previous bundle's ACL of the same interface and family, and
/// nothing for those this version leaves as they are (re-applying them changes nothing,
/// and removing them on rollback would leave the interface without its ACL).
pub fn fill_rollbacks(previous: &PreviousAcls, records: &mut [AclRecord]) {
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
pub fn forward(p: &Permit) -> Ace {
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
pub fn icmp_reply(v6: bool, ty: u8) -> Option<u8> {
    match (v6, ty) {
        (false, 8) => Some(0),   // echo-request → echo-reply
        (false, 13) => Some(14), // timestamp-request → timestamp-reply
        (true, 128) => Some(129),
        _ => None,
    }
}

/// The exact stateless return entry for a permit, if its service has answers.
pub fn reverse(p: &Permit, options: &AclOptions) -> Option<Ace> {
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
pub fn content_version<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for l in lines {
        h.update((l.len() as u64).to_le_bytes());
        h.update(l.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>()[..VERSION_LEN].to_string()
}

/// `base-version`: the name the switch gets.
pub fn versioned(base: &str, version: &str) -> String {
    format!("{base}-{version}")
}

/// The base name `ZC-<DEVICE>-<IFACE>-IN-V4`, short enough that `-<version>` keeps it
/// within [`NAME_MAX`] characters; `unique` tells apart interfaces whose names differ only
/// in case or punctuation.
pub fn acl_name(device: &str, iface: &str, unique: Option<usize>, v6: bool) -> String {
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
pub fn build_management(model: &Model, rules: &DeviceRules, binding: MgmtBinding, dst_any: bool) -> Option<[Acl; 2]> {
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
/// `hop_limit`: the vendor's ACLs can match the hop limit (see [`Spelling::hop_limit`]).
pub fn build(model: &Model, rules: &DeviceRules, options: &AclOptions, hop_limit: bool) -> Vec<SviAcls> {
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

/// ASCII free text for a remark, comment or annotation, at most `max` bytes.
///
/// Switch CLIs take the rest of the line as the text, so the one danger is a line break;
/// beyond that they differ (`?` opens context help when pasted, `"` may open a quoted
/// argument, a Junos `/* */` comment ends at `*/`, some firmware chokes on non-ASCII). So
/// the text is reduced to printable ASCII: Norwegian and other common letters are
/// transliterated (æ → ae, ø → oe, å → aa), typographic quotes and dashes become ASCII,
/// control characters and other whitespace become spaces, `?`, `"` and `\` are dropped —
/// and `*` too when `junos` — and anything else outside ASCII is dropped.
pub fn cli_text(s: &str, max: usize, junos: bool) -> String {
    fn push(t: &str, out: &mut String) {
        for c in t.chars() {
            if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            out.push(c);
        }
    }
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        let t: &str = match c {
            'æ' | 'ä' => "ae",
            'Æ' | 'Ä' => "AE",
            'ø' | 'ö' => "oe",
            'Ø' | 'Ö' => "OE",
            'å' => "aa",
            'Å' => "AA",
            'ü' => "ue",
            'Ü' => "UE",
            'ß' => "ss",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'É' | 'È' | 'Ê' | 'Ë' => "E",
            'á' | 'à' | 'â' => "a",
            'Á' | 'À' | 'Â' => "A",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' => "o",
            'ú' | 'ù' | 'û' => "u",
            'ñ' => "n",
            'ç' => "c",
            '§' => "par.",
            '‘' | '’' | '‚' | '‛' | '′' | '`' => "'",
            '–' | '—' | '‐' | '‑' | '−' => "-",
            '…' => "...",
            '→' => "->",
            '?' | '"' | '\\' => "",
            '*' if junos => "",
            c if c.is_control() || c.is_whitespace() => " ",
            c if c.is_ascii_graphic() => {
                let mut buf = [0u8; 4];
                let t: &str = c.encode_utf8(&mut buf);
                push(t, &mut out);
                continue;
            }
            _ => "",
        };
        push(t, &mut out);
    }
    let mut out = out.trim().to_string();
    out.truncate(max);
    out.trim_end().to_string()
}

/// Whether entry `i` serves the same flows in the same way as the one before it: a remark
/// then covers both (a remark describes the entries that follow it).
pub fn same_as_previous(entries: &[Ace], i: usize) -> bool {
    i > 0 && entries[i - 1].kind == entries[i].kind && entries[i - 1].flows == entries[i].flows
}

/// A remark naming an entry's flows by their stable ids: `zc f-3a9c1d0e a -> b : https:
/// description` (`manifest.json` maps the id to its file and line).
pub fn remark(model: &Model, a: &Ace, max: usize, junos: bool) -> String {
    let prefix = match a.kind {
        AceKind::Forward => "zc",
        AceKind::Return => "zc return",
        AceKind::Nd => return "zc IPv6 neighbour discovery".into(),
        AceKind::Deny => return "zc default deny".into(),
        AceKind::TerminalDeny => return "zc terminal access (SSH, telnet) that no flow declares".into(),
        AceKind::ControlPlane => return "zc the rest of the control plane (routing, DHCP relay, ND) as before".into(),
    };
    let text = match a.flows.as_slice() {
        [one] => format!(
            "{prefix} {} {}: {}",
            super::flow_id(model, *one),
            model.flow_title(*one),
            model.flow(*one).description
        ),
        flows => {
            let mut out = format!("{prefix} flows");
            for (i, f) in flows.iter().enumerate() {
                let r = cli_text(&super::flow_id(model, *f), max, junos);
                let more = format!(" +{}", flows.len() - i);
                if out.len() + 2 + r.len() + more.len() > max && i + 1 < flows.len() {
                    out.push_str(&more);
                    break;
                }
                out.push_str(if i == 0 { " " } else { ", " });
                out.push_str(&r);
            }
            out
        }
    };
    cli_text(&text, max, junos)
}

/// The zones behind an interface, for comments: `adm-klient (Administrativt nett)`.
pub fn zones_text(model: &Model, id: DeviceId, iface: usize) -> String {
    let i = &model.devices[id.index()].interfaces[iface];
    let zones: Vec<String> = i
        .zones
        .iter()
        .map(|z| {
            let z = model.zone(*z);
            match &z.label {
                Some(l) => format!("{} ({l})", z.name),
                None => z.name.clone(),
            }
        })
        .collect();
    zones.join(", ")
}

/// Comment lines at the top of every switch file (already safe free text). Nothing in them
/// changes when the policy is edited elsewhere: the provenance is in `manifest.json`.
pub fn header(model: &Model, rules: &DeviceRules, how: &str, junos: bool) -> Vec<String> {
    let (label, target) = match rules.enforcer {
        Enforcer::Device(id) => {
            let d = &model.devices[id.index()];
            (d.label.clone(), d.target.word())
        }
        Enforcer::Host(_) => (None, "?"),
    };
    let policy = model.meta.name.clone().unwrap_or_else(|| "policy".into());
    let what = match label {
        Some(l) => format!("switch {} ({l})", rules.name),
        None => format!("switch {}", rules.name),
    };
    let lines = [
        format!("zonecheck {} - {target} - {what} - {policy}", env!("CARGO_PKG_VERSION")),
        format!("Generated: do not edit by hand. {how}"),
        super::nftables::PROVENANCE.to_string(),
    ];
    lines.iter().map(|l| cli_text(l, 200, junos)).collect()
}

/// The TCAM budget a device's entries exceed, if any: `(budget, entries)`.
pub fn over_budget(model: &Model, rules: &DeviceRules, stats: &Stats) -> Option<(u64, usize)> {
    let Enforcer::Device(id) = rules.enforcer else { return None };
    let budget = model.devices[id.index()].tcam?;
    (stats.rules as u64 > budget).then_some((budget, stats.rules))
}

/// `COMPILE_INTERFACE_NAME` for an interface a vendor cannot take.
pub(super) fn bad_iface(model: &Model, id: DeviceId, k: usize, vendor: &str, why: &str, example: &str) -> Diag {
    let i = &model.devices[id.index()].interfaces[k];
    Diag::error(
        code::COMPILE_INTERFACE_NAME,
        i.span,
        format!("`{}` cannot be a {vendor} interface name: {why}", i.name.escape_debug()),
    )
    .help(format!("write the interface as the switch names it, e.g. {example}"))
}

/// The problem with a CLI interface name in general (spaces, quotes, control characters).
pub(super) fn cli_name_problem(name: &str) -> Option<String> {
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
pub(super) fn seq(i: usize) -> usize {
    (i + 1) * 10
}

/// Port match text for the Cisco-like CLIs: `eq 443`, `range 1024 65535`.
pub(super) fn ports(p: Option<(u16, u16)>) -> String {
    match p {
        None => String::new(),
        Some((lo, hi)) if lo == hi => format!(" eq {lo}"),
        Some((lo, hi)) => format!(" range {lo} {hi}"),
    }
}

/// How a Cisco-like, line-oriented CLI (IOS-XE, EOS, AOS-CX) writes ACLs.
pub(super) struct CliVendor {
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
struct CliEntry {
    seq: usize,
    remark_seq: usize,
    remark: String,
    text: String,
}

#[derive(serde::Serialize)]
struct CliAcl {
    name: String,
    v6: bool,
    entries: Vec<CliEntry>,
}

#[derive(serde::Serialize)]
struct CliIface {
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
struct CliMgmt {
    v4: String,
    v6: String,
    v4_rollback: Option<String>,
    v6_rollback: Option<String>,
}

#[derive(serde::Serialize)]
struct CliFile {
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
pub(super) fn name_acl<'a>(
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
pub(super) fn rollbacks(records: &[AclRecord], k: usize) -> (Option<String>, Option<String>) {
    let at = |i: usize| records.get(i).and_then(|r| r.rollback.clone());
    (at(2 * k), at(2 * k + 1))
}

/// The version of a whole switch file (its configuration session): a hash of its ACL names.
pub(super) fn file_version(records: &[AclRecord]) -> String {
    content_version(records.iter().map(|r| r.name.as_str()))
}

/// Interface names a vendor cannot take, as diagnostics; otherwise the names it writes.
pub(super) fn ifaces(
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
pub(super) fn render_cli(
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

/// Render one switch: the device's ACLs in its vendor's syntax, its counts (`rules` = ACL
/// entries, what a TCAM budget counts; `chains` = ACLs) and its ACLs' names for the
/// manifest. `previous` is what the previous bundle recorded for the device (for the
/// rollback steps; empty for none).
pub fn render(
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
