//! A proptest generator of random *valid* policy texts, for property tests of the parser,
//! the resolver and `fmt`.
//!
//! Generation has two halves. A [`Spec`] says what the policy declares: zones, systems,
//! classes, services, groups, flows and devices, with every cross-reference stored as a
//! plain index that rendering takes modulo the number of candidates, so any shrunk value
//! stays valid. A vector of layout dice then decides how the text looks: one-line or
//! multi-line blocks, `;` or newlines, lists broken after commas, blank lines, tabs, CRLF,
//! and comments on their own lines or trailing code. Every die at zero means the plainest
//! layout, so shrinking a failure also simplifies its layout.
//!
//! Every comment carries a unique `cN` tag, so a test can count comments one by one.
//!
//! Use it from a test file with
//! `#[path = "common/gen.rs"] mod generator;` (`gen` is a keyword in Rust 2024).

#![allow(dead_code)]

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::string::string_regex;

const TRUSTS: &[&str] = &["closed", "internal", "dmz", "partner", "external"];
const PLATFORMS: &[&str] = &["linux", "windows", "appliance", "saas"];
const ROLES: &[&str] = &["backup", "siem", "ad", "print", "archive", "jump", "proxy", "vdi", "mail"];
const TARGETS: &[&str] = &["nftables", "cisco-ios", "aruba-aoscx", "junos", "arista-eos"];
const AUTHS: &[&str] = &["mfa", "certificate"];
const ICMP_NAMES: &[&str] = &["echo-request", "echo-reply", "destination-unreachable", "time-exceeded", "redirect"];
const ICMPV6_NAMES: &[&str] = &["echo-request", "echo-reply", "packet-too-big", "nd-neighbor-solicit", "time-exceeded"];
/// Built-in services a flow may name (DESIGN.md §2).
const BUILTIN_SERVICES: &[&str] =
    &["https", "ssh", "rdp", "smb", "dns", "ntp", "smtp", "syslog", "ica", "ipp", "ldap", "kerberos", "any", "ping"];

/// Free text for labels: Unicode, `#`, quotes and backslashes (escaped when rendered);
/// now and then long enough to push a declaration past `fmt`'s one-line width.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => string_regex("[a-zA-Z0-9 æøåÆØÅ🏥🔒–§#\"\\\\{};:,./-]{0,16}").expect("valid regex"),
        1 => string_regex("[a-zA-Z0-9 æøåÆØÅ🏥🔒–§#\"\\\\{};:,./-]{30,70}").expect("valid regex"),
    ]
}

/// Text that may not be empty: descriptions, reasons, legal bases.
fn reason() -> impl Strategy<Value = String> {
    string_regex("[a-zA-Zæøå0-9§🏥][a-zA-Z0-9 æøå🏥#\"\\\\.,§-]{0,16}").expect("valid regex")
}

/// What follows a name's kind letter and index, so names stay unique but vary in shape.
fn suffix() -> impl Strategy<Value = String> {
    string_regex("([-_][a-z0-9_-]{0,4})?").expect("valid regex")
}

#[derive(Clone, Debug)]
pub struct PolicySpec {
    pub label: Option<String>,
    pub owner: Option<String>,
    pub contact: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ZoneSpec {
    pub suffix: String,
    pub label: Option<String>,
    pub trust: usize,
    pub v4: bool,
    pub extra_v4: bool,
    pub v6: bool,
}

#[derive(Clone, Debug)]
pub struct ClassSpec {
    pub suffix: String,
    pub label: Option<String>,
    pub special: bool,
    /// 0 tracked, 1 `confined`, 2 `confined to` the zones below.
    pub confined: u8,
    pub to: Vec<usize>,
    /// Write `{}` even when the block is empty.
    pub empty_block: bool,
}

#[derive(Clone, Debug)]
pub enum ItemSpec {
    Tcp(u16),
    Udp(u16),
    TcpRange(u16, u16),
    UdpRange(u16, u16),
    Icmp(Option<usize>),
    IcmpNumber(u8),
    Icmpv6(Option<usize>),
    Icmpv6Number(u8),
    Proto(u8),
    Any,
}

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub suffix: String,
    /// Redefine this built-in instead of declaring a new name.
    pub builtin: Option<usize>,
    pub label: Option<String>,
    /// One property per inner vector (`tcp/80, tcp/443` is one property).
    pub items: Vec<Vec<ItemSpec>>,
    pub encrypted: bool,
}

/// 0 IPv4 host, 1 IPv6 host, 2 IPv4 prefix.
pub type AddrSpec = u8;

#[derive(Clone, Debug)]
pub struct SaasSpec {
    pub vendor: Option<String>,
    pub dpa: Option<String>,
    /// `None` = no region; `Some(None)` = `eea`; `Some(Some(name))` = another region.
    pub region: Option<Option<String>>,
    pub auth: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct SystemSpec {
    pub suffix: String,
    pub label: Option<String>,
    pub zone: usize,
    pub addresses: Vec<AddrSpec>,
    /// Index into [`PLATFORMS`]; 3 is SaaS.
    pub platform: Option<usize>,
    pub holds: Vec<usize>,
    pub role: Option<usize>,
    pub owner: Option<String>,
    pub saas: SaasSpec,
    pub allows: Vec<(usize, String)>,
}

/// A reference to a system (0), zone (1) or group (2).
pub type RefSpec = (u8, usize);

#[derive(Clone, Debug)]
pub struct GroupSpec {
    pub suffix: String,
    pub label: Option<String>,
    pub members: Vec<RefSpec>,
}

#[derive(Clone, Debug)]
pub struct EndpointSpec {
    pub bracketed: bool,
    pub refs: Vec<RefSpec>,
}

#[derive(Clone, Debug)]
pub enum ServiceRefSpec {
    /// A built-in service by index.
    Builtin(usize),
    /// A declared service by index.
    Declared(usize),
    Inline(ItemSpec),
}

#[derive(Clone, Debug)]
pub struct FlowSpec {
    pub from: EndpointSpec,
    pub to: EndpointSpec,
    pub services: Vec<ServiceRefSpec>,
    pub description: String,
    /// `Some(empty)` is `carries none`.
    pub carries: Option<(Vec<usize>, String)>,
    pub exports: Vec<(usize, String)>,
    pub require_mfa: bool,
    pub require_encrypted: bool,
    pub payload: Option<String>,
    pub allows: Vec<(usize, String)>,
}

#[derive(Clone, Debug)]
pub struct DeviceSpec {
    pub switch: bool,
    pub label: Option<String>,
    pub target: usize,
    /// (name style, zones) per interface.
    pub interfaces: Vec<(u8, Vec<usize>)>,
    pub tcam: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub policy: Option<PolicySpec>,
    /// Zone 0 is `0.0.0.0/0, ::/0` (an "internet") when set.
    pub internet: bool,
    pub zones: Vec<ZoneSpec>,
    pub classes: Vec<ClassSpec>,
    pub services: Vec<ServiceSpec>,
    pub systems: Vec<SystemSpec>,
    pub groups: Vec<GroupSpec>,
    pub flows: Vec<FlowSpec>,
    pub devices: Vec<DeviceSpec>,
    pub comments: Vec<String>,
    pub dice: Vec<u8>,
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    (option::of(text()), option::of(text()), option::of(text()), option::of(text()))
        .prop_map(|(label, owner, contact, description)| PolicySpec { label, owner, contact, description })
}

fn zone_spec() -> impl Strategy<Value = ZoneSpec> {
    (suffix(), option::of(text()), 0..TRUSTS.len(), any::<bool>(), any::<bool>(), any::<bool>())
        .prop_map(|(suffix, label, trust, v4, extra_v4, v6)| ZoneSpec { suffix, label, trust, v4, extra_v4, v6 })
}

fn class_spec() -> impl Strategy<Value = ClassSpec> {
    (suffix(), option::of(text()), any::<bool>(), 0u8..3, vec(any::<usize>(), 1..3), any::<bool>()).prop_map(
        |(suffix, label, special, confined, to, empty_block)| ClassSpec {
            suffix,
            label,
            special,
            confined,
            to,
            empty_block,
        },
    )
}

fn item_spec() -> impl Strategy<Value = ItemSpec> {
    prop_oneof![
        (1u16..=65535).prop_map(ItemSpec::Tcp),
        (1u16..=65535).prop_map(ItemSpec::Udp),
        (1u16..65535, 1u16..=65535).prop_map(|(a, b)| ItemSpec::TcpRange(a.min(b), a.max(b))),
        (1u16..65535, 1u16..=65535).prop_map(|(a, b)| ItemSpec::UdpRange(a.min(b), a.max(b))),
        option::of(0..ICMP_NAMES.len()).prop_map(ItemSpec::Icmp),
        any::<u8>().prop_map(ItemSpec::IcmpNumber),
        option::of(0..ICMPV6_NAMES.len()).prop_map(ItemSpec::Icmpv6),
        any::<u8>().prop_map(ItemSpec::Icmpv6Number),
        any::<u8>().prop_map(ItemSpec::Proto),
        Just(ItemSpec::Any),
    ]
}

fn service_spec() -> impl Strategy<Value = ServiceSpec> {
    (
        suffix(),
        option::weighted(0.2, 0..BUILTIN_SERVICES.len()),
        option::of(text()),
        vec(vec(item_spec(), 1..4), 1..3),
        any::<bool>(),
    )
        .prop_map(|(suffix, builtin, label, items, encrypted)| ServiceSpec {
            suffix,
            builtin,
            label,
            items,
            encrypted,
        })
}

fn saas_spec() -> impl Strategy<Value = SaasSpec> {
    (
        option::of(text()),
        option::of(reason()),
        option::of(option::weighted(0.3, string_regex("[a-z][a-z0-9-]{0,5}").expect("valid regex"))),
        option::of(0..AUTHS.len()),
    )
        .prop_map(|(vendor, dpa, region, auth)| SaasSpec { vendor, dpa, region, auth })
}

fn allows() -> impl Strategy<Value = Vec<(usize, String)>> {
    vec((any::<usize>(), reason()), 0..2)
}

fn system_spec() -> impl Strategy<Value = SystemSpec> {
    (
        suffix(),
        option::of(text()),
        any::<usize>(),
        vec(0u8..3, 0..3),
        option::of(0..PLATFORMS.len()),
        vec(any::<usize>(), 0..3),
        option::of(0..ROLES.len()),
        option::of(text()),
        saas_spec(),
        allows(),
    )
        .prop_map(|(suffix, label, zone, addresses, platform, holds, role, owner, saas, allows)| SystemSpec {
            suffix,
            label,
            zone,
            addresses,
            platform,
            holds,
            role,
            owner,
            saas,
            allows,
        })
}

fn ref_spec() -> impl Strategy<Value = RefSpec> {
    (0u8..3, any::<usize>())
}

fn group_spec() -> impl Strategy<Value = GroupSpec> {
    (suffix(), option::of(text()), vec(ref_spec(), 1..4)).prop_map(|(suffix, label, members)| GroupSpec {
        suffix,
        label,
        members,
    })
}

fn endpoint_spec() -> impl Strategy<Value = EndpointSpec> {
    prop_oneof![
        3 => ref_spec().prop_map(|r| EndpointSpec { bracketed: false, refs: vec![r] }),
        1 => vec(ref_spec(), 1..4).prop_map(|refs| EndpointSpec { bracketed: true, refs }),
    ]
}

fn service_ref_spec() -> impl Strategy<Value = ServiceRefSpec> {
    prop_oneof![
        (0..BUILTIN_SERVICES.len()).prop_map(ServiceRefSpec::Builtin),
        any::<usize>().prop_map(ServiceRefSpec::Declared),
        item_spec().prop_map(ServiceRefSpec::Inline),
    ]
}

fn flow_spec() -> impl Strategy<Value = FlowSpec> {
    (
        endpoint_spec(),
        endpoint_spec(),
        vec(service_ref_spec(), 1..4),
        reason(),
        option::of((vec(any::<usize>(), 0..3), reason())),
        vec((any::<usize>(), reason()), 0..2),
        any::<bool>(),
        any::<bool>(),
        option::of(reason()),
        allows(),
    )
        .prop_map(
            |(from, to, services, description, carries, exports, require_mfa, require_encrypted, payload, allows)| {
                FlowSpec {
                    from,
                    to,
                    services,
                    description,
                    carries,
                    exports,
                    require_mfa,
                    require_encrypted,
                    payload,
                    allows,
                }
            },
        )
}

fn device_spec() -> impl Strategy<Value = DeviceSpec> {
    (
        any::<bool>(),
        option::of(text()),
        0..TARGETS.len(),
        vec((0u8..5, vec(any::<usize>(), 1..3)), 0..4),
        option::of(1u32..100_000),
    )
        .prop_map(|(switch, label, target, interfaces, tcam)| DeviceSpec {
            switch,
            label,
            target,
            interfaces,
            tcam,
        })
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            option::of(policy_spec()),
            any::<bool>(),
            vec(zone_spec(), 2..=8),
            vec(class_spec(), 0..=5),
            vec(service_spec(), 0..=5),
        ),
        (
            vec(system_spec(), 1..=80),
            vec(group_spec(), 0..=6),
            vec(flow_spec(), 0..=30),
            vec(device_spec(), 0..=3),
            vec(text(), 1..6),
            vec(any::<u8>(), 1..256),
        ),
    )
        .prop_map(
            |((policy, internet, zones, classes, services), (systems, groups, flows, devices, comments, dice))| Spec {
                policy,
                internet,
                zones,
                classes,
                services,
                systems,
                groups,
                flows,
                devices,
                comments,
                dice,
            },
        )
}

/// A random valid policy text.
pub fn policy_text() -> impl Strategy<Value = String> {
    spec().prop_map(|s| render(&s))
}

/// The spec and its text, for tests that want to know what was generated.
pub fn policy_spec_and_text() -> impl Strategy<Value = (Spec, String)> {
    spec().prop_map(|s| {
        let t = render(&s);
        (s, t)
    })
}

// ---- rendering ---------------------------------------------------------------------

/// A string literal with `"` and `\` escaped.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

struct Writer<'a> {
    dice: &'a [u8],
    next_die: usize,
    comments: &'a [String],
    next_comment: usize,
}

impl Writer<'_> {
    /// A number below `n`; 0 when the dice are all zero.
    fn roll(&mut self, n: u8) -> u8 {
        let die = self.dice.get(self.next_die % self.dice.len().max(1)).copied().unwrap_or(0);
        self.next_die += 1;
        die % n.max(1)
    }

    /// True with probability 1/n (never for zero dice).
    fn one_in(&mut self, n: u8) -> bool {
        self.roll(n) == n.max(1) - 1 && n > 1
    }

    fn comment(&mut self) -> String {
        let text = self.comments.get(self.next_comment % self.comments.len().max(1)).cloned().unwrap_or_default();
        self.next_comment += 1;
        let space = if self.one_in(3) { "" } else { " " };
        format!("#{space}c{} {text}", self.next_comment)
    }

    /// Horizontal space between tokens.
    fn sp(&mut self) -> &'static str {
        match self.roll(12) {
            10 => "  ",
            11 => "\t",
            _ => " ",
        }
    }

    /// Optional space (where the grammar allows none), e.g. around `->`.
    fn opt_sp(&mut self) -> &'static str {
        if self.one_in(6) { "" } else { self.sp() }
    }

    fn indent(&mut self) -> &'static str {
        match self.roll(10) {
            7 => "",
            8 => "    ",
            9 => "\t",
            _ => "  ",
        }
    }

    /// The end of a line: maybe a trailing comment, then a newline, then maybe blank lines
    /// and own-line comments (indented by `indent`).
    fn line_end(&mut self, indent: &str) -> String {
        let mut s = String::new();
        if self.one_in(8) {
            s.push_str(self.sp());
        }
        if self.one_in(5) {
            s.push_str(self.sp());
            s.push_str(&self.comment());
        }
        s.push('\n');
        // Bounded: the dice repeat, so a loop on them alone might never end.
        for _ in 0..2 {
            if !self.one_in(4) {
                break;
            }
            if self.one_in(2) {
                s.push_str(indent);
                s.push_str(&self.comment());
            }
            s.push('\n');
        }
        s
    }

    /// The separator after a comma in a list: a space, or a line break.
    fn list_sep(&mut self, indent: &str) -> String {
        if self.one_in(6) {
            let mut s = String::from(",");
            s.push_str(&self.line_end(indent));
            s.push_str(indent);
            s.push_str("  ");
            s
        } else {
            format!(",{}", self.sp())
        }
    }

    fn list(&mut self, items: &[String], indent: &str) -> String {
        let mut s = String::new();
        for (k, item) in items.iter().enumerate() {
            if k > 0 {
                s.push_str(&self.list_sep(indent));
            }
            s.push_str(item);
        }
        s
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for k in (1..v.len()).rev() {
            let j = usize::from(self.roll(255)) % (k + 1);
            v.swap(k, j);
        }
    }

    /// A header and a block of properties, laid out one-line or multi-line.
    fn block(&mut self, header: &str, props: &[Vec<String>], group: bool, empty_block: bool) -> String {
        if props.is_empty() {
            if !empty_block {
                return header.to_string();
            }
            if self.one_in(3) {
                let comment = self.comment();
                return format!("{header}{}{{{}{comment}\n}}", self.sp(), self.opt_sp());
            }
            return format!("{header}{}{{{}}}", self.sp(), self.opt_sp());
        }
        let mut s = String::from(header);
        s.push_str(self.sp());
        s.push('{');
        if self.one_in(3) {
            // One line: `{ a; b }` (lists inside may still break across lines).
            s.push_str(self.sp());
            for (k, prop) in props.iter().enumerate() {
                if k > 0 {
                    if group {
                        s.push_str(&self.list_sep("  "));
                    } else {
                        s.push(';');
                        s.push_str(self.sp());
                    }
                }
                s.push_str(&self.list(prop, "  "));
            }
            if !group && self.one_in(5) {
                s.push(';');
            }
            s.push_str(self.sp());
            s.push('}');
            return s;
        }
        let indent = self.indent();
        s.push_str(&self.line_end(indent));
        for (k, prop) in props.iter().enumerate() {
            s.push_str(indent);
            s.push_str(&self.list(prop, indent));
            let last = k + 1 == props.len();
            if group && !last && !self.one_in(4) {
                s.push(',');
            } else if !group && self.one_in(4) {
                s.push(';');
            }
            if last && self.one_in(6) {
                s.push_str(self.sp());
                s.push('}');
                return s;
            }
            s.push_str(&self.line_end(indent));
        }
        if self.one_in(8) {
            s.push_str(indent);
        }
        s.push('}');
        s
    }
}

fn item_text(item: &ItemSpec) -> String {
    match item {
        ItemSpec::Tcp(p) => format!("tcp/{p}"),
        ItemSpec::Udp(p) => format!("udp/{p}"),
        ItemSpec::TcpRange(a, b) => format!("tcp/{a}-{b}"),
        ItemSpec::UdpRange(a, b) => format!("udp/{a}-{b}"),
        ItemSpec::Icmp(None) => "icmp".into(),
        ItemSpec::Icmp(Some(t)) => format!("icmp/{}", ICMP_NAMES[t % ICMP_NAMES.len()]),
        ItemSpec::IcmpNumber(n) => format!("icmp/{n}"),
        ItemSpec::Icmpv6(None) => "icmpv6".into(),
        ItemSpec::Icmpv6(Some(t)) => format!("icmpv6/{}", ICMPV6_NAMES[t % ICMPV6_NAMES.len()]),
        ItemSpec::Icmpv6Number(n) => format!("icmpv6/{n}"),
        ItemSpec::Proto(n) => format!("proto/{n}"),
        ItemSpec::Any => "any".into(),
    }
}

fn labelled(kw: &str, name: &str, label: &Option<String>, w: &mut Writer<'_>) -> String {
    match label {
        Some(l) => format!("{kw}{}{name}{}{}", w.sp(), w.sp(), quote(l)),
        None => format!("{kw}{}{name}", w.sp()),
    }
}

/// Render a spec as policy text.
pub fn render(spec: &Spec) -> String {
    let mut w = Writer { dice: &spec.dice, next_die: 0, comments: &spec.comments, next_comment: 0 };
    let zone_names: Vec<String> = spec.zones.iter().enumerate().map(|(k, z)| format!("z{k}{}", z.suffix)).collect();
    let class_names: Vec<String> = spec.classes.iter().enumerate().map(|(k, c)| format!("c{k}{}", c.suffix)).collect();
    let system_names: Vec<String> = spec.systems.iter().enumerate().map(|(k, s)| format!("s{k}{}", s.suffix)).collect();
    let group_names: Vec<String> = spec.groups.iter().enumerate().map(|(k, g)| format!("g{k}{}", g.suffix)).collect();
    let service_names: Vec<String> = spec
        .services
        .iter()
        .enumerate()
        .map(|(k, v)| match v.builtin {
            Some(b) => BUILTIN_SERVICES[b % BUILTIN_SERVICES.len()].to_string(),
            None => format!("v{k}{}", v.suffix),
        })
        .collect();
    let nz = zone_names.len();
    let internet = |z: usize| spec.internet && z == 0;
    let lints: Vec<&str> = zonecheck::diagnostics::Lint::names().collect();

    // A system, zone or group by reference; groups only name earlier groups (no cycles).
    let endpoint = |r: &RefSpec, before_group: Option<usize>| -> String {
        let (kind, idx) = *r;
        match kind {
            1 => zone_names[idx % nz].clone(),
            2 => {
                let limit = before_group.unwrap_or(group_names.len());
                if limit == 0 {
                    system_names[idx % system_names.len()].clone()
                } else {
                    group_names[idx % limit].clone()
                }
            }
            _ => system_names[idx % system_names.len()].clone(),
        }
    };

    let mut items: Vec<String> = Vec::new();

    if let Some(p) = &spec.policy {
        let header = match &p.label {
            Some(l) => format!("policy{}{}", w.sp(), quote(l)),
            None => "policy".to_string(),
        };
        let mut props = Vec::new();
        if let Some(o) = &p.owner {
            props.push(vec![format!("owner {}", quote(o))]);
        }
        if let Some(c) = &p.contact {
            props.push(vec![format!("contact {}", quote(c))]);
        }
        if let Some(d) = &p.description {
            props.push(vec![format!("description {}", quote(d))]);
        }
        w.shuffle(&mut props);
        items.push(w.block(&header, &props, false, false));
    }

    for (k, z) in spec.zones.iter().enumerate() {
        let mut nets = Vec::new();
        if internet(k) {
            nets.push("0.0.0.0/0".to_string());
            nets.push("::/0".to_string());
        } else {
            if z.v4 || !z.v6 {
                nets.push(format!("10.{k}.0.0/16"));
            }
            if z.extra_v4 {
                nets.push(format!("172.16.{k}.0/24"));
            }
            if z.v6 {
                nets.push(format!("fd20:{k:x}::/48"));
            }
        }
        w.shuffle(&mut nets);
        nets[0] = format!("net {}", nets[0]);
        let trust = if internet(k) { "external" } else { TRUSTS[z.trust % TRUSTS.len()] };
        let mut props = vec![vec![format!("trust {trust}")], nets];
        w.shuffle(&mut props);
        let header = labelled("zone", &zone_names[k], &z.label, &mut w);
        items.push(w.block(&header, &props, false, false));
    }

    for (k, c) in spec.classes.iter().enumerate() {
        let mut props = Vec::new();
        if c.special {
            props.push(vec!["special".to_string()]);
        }
        match c.confined {
            1 => props.push(vec!["confined".to_string()]),
            2 => {
                let mut zones: Vec<String> = c.to.iter().map(|z| zone_names[z % nz].clone()).collect();
                zones.dedup();
                zones[0] = format!("confined to {}", zones[0]);
                props.push(zones);
            }
            _ => {}
        }
        w.shuffle(&mut props);
        let header = labelled("class", &class_names[k], &c.label, &mut w);
        items.push(w.block(&header, &props, false, c.empty_block));
    }

    let mut seen_builtins = std::collections::BTreeSet::new();
    for (k, v) in spec.services.iter().enumerate() {
        // A built-in may be redefined once; a second redefinition becomes a new name.
        let name = if v.builtin.is_some() && !seen_builtins.insert(service_names[k].clone()) {
            format!("v{k}{}", v.suffix)
        } else {
            service_names[k].clone()
        };
        let mut props: Vec<Vec<String>> = v.items.iter().map(|prop| prop.iter().map(item_text).collect()).collect();
        if v.encrypted {
            props.push(vec!["encrypted".to_string()]);
        }
        w.shuffle(&mut props);
        let header = labelled("service", &name, &v.label, &mut w);
        items.push(w.block(&header, &props, false, false));
    }
    // Redefinitions that were renamed above are referred to by their final names.
    let mut declared_services = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in spec.services.iter().enumerate() {
        if v.builtin.is_some() && !seen.insert(service_names[k].clone()) {
            declared_services.push(format!("v{k}{}", v.suffix));
        } else {
            declared_services.push(service_names[k].clone());
        }
    }

    for (k, s) in spec.systems.iter().enumerate() {
        let zone = s.zone % nz;
        let z = &spec.zones[zone];
        let mut props = vec![vec![format!("zone {}", zone_names[zone])]];
        let mut addrs: Vec<String> = s
            .addresses
            .iter()
            .map(|a| {
                if internet(zone) {
                    match a {
                        0 => format!("203.0.113.{}", k + 1),
                        1 => format!("2001:db8::{:x}", k + 1),
                        _ => format!("198.51.{k}.0/24"),
                    }
                } else {
                    let v4 = z.v4 || !z.v6;
                    match (a, v4, z.v6) {
                        (1, _, true) | (_, false, _) => format!("fd20:{zone:x}::{:x}", k + 1),
                        (2, _, _) => format!("10.{zone}.{}.0/24", 128 + k),
                        _ => format!("10.{zone}.{}.{}", k / 200, k % 200 + 1),
                    }
                }
            })
            .collect();
        addrs.sort();
        addrs.dedup();
        w.shuffle(&mut addrs);
        if !addrs.is_empty() {
            addrs[0] = format!("address {}", addrs[0]);
            props.push(addrs);
        }
        let saas = s.platform == Some(3);
        if let Some(p) = s.platform {
            props.push(vec![format!("platform {}", PLATFORMS[p % PLATFORMS.len()])]);
        }
        if !class_names.is_empty() && !s.holds.is_empty() {
            let mut holds: Vec<String> = s.holds.iter().map(|c| class_names[c % class_names.len()].clone()).collect();
            holds[0] = format!("holds {}", holds[0]);
            props.push(holds);
        }
        if let Some(r) = s.role {
            props.push(vec![format!("role {}", ROLES[r % ROLES.len()])]);
        }
        if let Some(o) = &s.owner {
            props.push(vec![format!("owner {}", quote(o))]);
        }
        if saas {
            if let Some(v) = &s.saas.vendor {
                props.push(vec![format!("vendor {}", quote(v))]);
            }
            if let Some(d) = &s.saas.dpa {
                props.push(vec![format!("dpa {}", quote(d))]);
            }
            match &s.saas.region {
                Some(None) => props.push(vec!["region eea".to_string()]),
                Some(Some(r)) => props.push(vec![format!("region {r}")]),
                None => {}
            }
            if let Some(a) = s.saas.auth {
                props.push(vec![format!("auth {}", AUTHS[a % AUTHS.len()])]);
            }
        }
        for (lint, because) in &s.allows {
            props.push(vec![format!("allow {} because {}", lints[lint % lints.len()], quote(because))]);
        }
        w.shuffle(&mut props);
        let header = labelled("system", &system_names[k], &s.label, &mut w);
        items.push(w.block(&header, &props, false, false));
    }

    for (k, g) in spec.groups.iter().enumerate() {
        let mut members: Vec<String> = g.members.iter().map(|m| endpoint(m, Some(k))).collect();
        members.sort();
        members.dedup();
        w.shuffle(&mut members);
        let props: Vec<Vec<String>> = members.into_iter().map(|m| vec![m]).collect();
        let header = labelled("group", &group_names[k], &g.label, &mut w);
        items.push(w.block(&header, &props, true, false));
    }

    for f in &spec.flows {
        let side = |e: &EndpointSpec, w: &mut Writer<'_>| -> String {
            if e.bracketed {
                let names: Vec<String> = e.refs.iter().map(|r| endpoint(r, None)).collect();
                let open = if w.one_in(5) { " " } else { "" };
                format!("[{open}{}{open}]", w.list(&names, "  "))
            } else {
                endpoint(&e.refs[0], None)
            }
        };
        let from = side(&f.from, &mut w);
        let to = side(&f.to, &mut w);
        let services: Vec<String> = f
            .services
            .iter()
            .map(|s| match s {
                ServiceRefSpec::Builtin(b) => BUILTIN_SERVICES[b % BUILTIN_SERVICES.len()].to_string(),
                ServiceRefSpec::Declared(d) if !declared_services.is_empty() => {
                    declared_services[d % declared_services.len()].clone()
                }
                ServiceRefSpec::Declared(_) => "https".to_string(),
                ServiceRefSpec::Inline(i) => item_text(i),
            })
            .collect();
        let header = format!(
            "flow{}{from}{}->{}{to}{}:{}{}{}{}",
            w.sp(),
            w.opt_sp(),
            w.opt_sp(),
            w.opt_sp(),
            w.sp(),
            w.list(&services, "  "),
            w.sp(),
            quote(&f.description)
        );
        let mut props = Vec::new();
        if let Some((classes, because)) = &f.carries {
            if classes.is_empty() || class_names.is_empty() {
                props.push(vec![format!("carries none because {}", quote(because))]);
            } else {
                let mut names: Vec<String> =
                    classes.iter().map(|c| class_names[c % class_names.len()].clone()).collect();
                let last = names.len() - 1;
                names[0] = format!("carries {}", names[0]);
                names[last] = format!("{} because {}", names[last], quote(because));
                props.push(names);
            }
        }
        if !class_names.is_empty() {
            for (c, basis) in &f.exports {
                props.push(vec![format!("export {} basis {}", class_names[c % class_names.len()], quote(basis))]);
            }
        }
        if f.require_mfa {
            props.push(vec!["require mfa".to_string()]);
        }
        if f.require_encrypted {
            props.push(vec!["require encrypted".to_string()]);
        }
        if let Some(p) = &f.payload {
            props.push(vec![format!("encrypted payload {}", quote(p))]);
        }
        for (lint, because) in &f.allows {
            props.push(vec![format!("allow {} because {}", lints[lint % lints.len()], quote(because))]);
        }
        w.shuffle(&mut props);
        items.push(w.block(&header, &props, false, false));
    }

    for (k, d) in spec.devices.iter().enumerate() {
        let kw = if d.switch { "switch" } else { "firewall" };
        let name = format!("{}{k}", if d.switch { "sw" } else { "fw" });
        let mut props = vec![vec![format!("target {}", TARGETS[d.target % TARGETS.len()])]];
        let mut used = std::collections::BTreeSet::new();
        for (j, (style, zones)) in d.interfaces.iter().enumerate() {
            let zones: Vec<String> =
                zones.iter().map(|z| z % nz).filter(|z| used.insert(*z)).map(|z| zone_names[z].clone()).collect();
            if zones.is_empty() {
                continue;
            }
            let if_name = match style {
                0 => format!("eth{j}"),
                1 => format!("Vlan{}", 10 * (j + 1)),
                2 => format!("GigabitEthernet1/0/{j}"),
                3 => quote(&format!("Gi 1/0/{j}")),
                _ => quote(&format!("port {j} – «æ» \"x\" #{j}")),
            };
            let mut list = zones;
            list[0] = format!("interface {if_name} zone {}", list[0]);
            props.push(list);
        }
        if let Some(t) = d.tcam {
            props.push(vec![format!("tcam {t}")]);
        }
        w.shuffle(&mut props);
        let header = labelled(kw, &name, &d.label, &mut w);
        items.push(w.block(&header, &props, false, false));
    }

    // Declaration order does not matter.
    w.shuffle(&mut items);
    let mut out = String::new();
    for _ in 0..2 {
        if !w.one_in(4) {
            break;
        }
        out.push_str(&w.comment());
        out.push('\n');
    }
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            if w.one_in(12) {
                out.push(';');
                out.push_str(w.sp());
            } else {
                out.push_str(&w.line_end(""));
                if w.one_in(3) {
                    out.push('\n');
                }
            }
        }
        if w.one_in(10) {
            out.push_str(w.indent());
        }
        out.push_str(item);
    }
    out.push_str(&w.line_end(""));
    if w.one_in(10) {
        // No newline at the end of the file.
        out.truncate(out.trim_end_matches('\n').len());
    }
    if w.one_in(8) {
        out = out.replace('\n', "\r\n");
    }
    out
}
