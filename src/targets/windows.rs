//! Windows Defender Firewall: one PowerShell script per `windows` system (targets.md §2).
//!
//! Windows Firewall has no rule order and any block rule beats every allow rule, so the
//! script sets every profile to default Block inbound (and outbound for hosts in a closed
//! zone) and creates allow rules only. All rules live in one dedicated `-Group`; the
//! script first removes that group's rules and then recreates them, so re-running it is
//! idempotent and never touches rules made by hand or by Windows.
//!
//! A Windows rule matches the product RemoteAddress × LocalAddress × ports (or ICMP
//! types). Lowering gives a set of (source, destination, service) permits; this module
//! groups them per (flows, direction, protocol kind) and decomposes each group exactly
//! into such products, so the rules permit the lowered permits and nothing else. Pairs of
//! an IPv4 and an IPv6 address in one product match no packet, which lets one rule carry
//! both families. A rule holds at most [`MAX_ADDRESSES`] addresses (remote and local
//! together); larger products are split.
//!
//! Every policy string reaches the script as a single-quoted literal (see
//! [`super::powershell`]); strings that cannot be quoted are rejected with
//! `zonecheck::compile::unsafe-string`. The script is written as UTF-8 with a BOM (Windows
//! PowerShell 5.1 reads BOM-less scripts as ANSI) and CRLF line endings.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use serde::Serialize;

use super::nftables::flow_ref;
use super::powershell::{Problem, firewall_text, ps_quote, ps_quote_generated, unsafe_char};
use super::{Stats, Templates};
use crate::diagnostics::{Diag, Span, code};
use crate::lower::{ChainKind, DeviceRules, Svc};
use crate::model::Enforcer;
use crate::model::{FlowId, Model};

/// The most addresses (RemoteAddress and LocalAddress together) in one rule. Users report
/// about 1,000 entries per rule scope (targets.md §2.2).
pub(crate) const MAX_ADDRESSES: usize = 1000;

/// The built-in template's name.
pub(crate) const TEMPLATE: &str = "windows/host.ps1.j2";

/// ICMPv6 types of neighbour discovery: router solicitation and advertisement, neighbour
/// solicitation and advertisement.
pub(crate) const ND_TYPES: [u8; 4] = [133, 134, 135, 136];

/// Settings from zonecheck.toml's `[windows]`.
#[derive(Clone, Debug)]
pub struct WindowsOptions {
    /// The rule group the script owns: its rules are removed and recreated on every run.
    pub group: String,
}

impl Default for WindowsOptions {
    fn default() -> Self {
        WindowsOptions { group: "zonecheck".into() }
    }
}

/// Why a group name cannot be used, if it cannot. `Get-NetFirewallRule -Group` reads
/// `*`, `?`, `[`, `]` and `` ` `` as wildcards, and a leading `@` names a resource string,
/// so the name is kept to a plain alphabet.
pub(crate) fn group_problem(group: &str) -> Option<String> {
    if group.is_empty() {
        return Some("it is empty".into());
    }
    if group.len() > 64 {
        return Some(format!("it is {} characters long; use at most 64", group.len()));
    }
    if !group.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("it must start with a letter or digit".into());
    }
    if let Some(c) = group.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Some(format!(
            "it contains `{}`; use ASCII letters, digits, `.`, `_` and `-` (Get-NetFirewallRule -Group reads `*`, `?`, `[`, `]` and the backtick as wildcards)",
            c.escape_debug()
        ));
    }
    None
}

/// What a rule matches above the addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// TCP or UDP with ports.
    Ports(u8),
    /// ICMP (false) or ICMPv6 (true) with types.
    Icmp(bool),
    /// Every packet of one protocol.
    Proto(u8),
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Range(u16, u16),
    Type(u8),
    All,
}

fn kind_item(svc: Svc) -> (Kind, Item) {
    match svc {
        Svc::Ports { proto, lo, hi } => (Kind::Ports(proto), Item::Range(lo, hi)),
        Svc::IcmpType { v6, ty } => (Kind::Icmp(v6), Item::Type(ty)),
        Svc::Proto(p) => (Kind::Proto(p), Item::All),
        Svc::Any => (Kind::Any, Item::All),
    }
}

fn protocol(kind: Kind) -> String {
    match kind {
        Kind::Ports(6) | Kind::Proto(6) => "TCP".into(),
        Kind::Ports(17) | Kind::Proto(17) => "UDP".into(),
        Kind::Icmp(false) | Kind::Proto(1) => "ICMPv4".into(),
        Kind::Icmp(true) | Kind::Proto(58) => "ICMPv6".into(),
        Kind::Ports(p) | Kind::Proto(p) => p.to_string(),
        Kind::Any => "Any".into(),
    }
}

/// A permit as (remote address, local address, port range or ICMP type).
type Triple = (IpNet, IpNet, Item);

/// One rule before rendering: remote × local × items.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shape {
    items: Vec<Item>,
    remote: Vec<IpNet>,
    local: Vec<IpNet>,
}

fn is_v6(n: &IpNet) -> bool {
    matches!(n, IpNet::V6(_))
}

/// Decompose (remote, local, item) triples into products whose union is exactly the
/// triples (pairs of different address families match nothing and are ignored), with at
/// most `limit` addresses each.
fn decompose(triples: &[Triple], limit: usize) -> Vec<Shape> {
    let limit = limit.max(2);
    // (remote, local) → items.
    let mut by_pair: BTreeMap<(IpNet, IpNet), BTreeSet<Item>> = BTreeMap::new();
    for (r, l, i) in triples {
        by_pair.entry((*r, *l)).or_default().insert(*i);
    }
    // (remote, items) → locals.
    let mut by_remote: BTreeMap<(IpNet, BTreeSet<Item>), BTreeSet<IpNet>> = BTreeMap::new();
    for ((r, l), items) in by_pair {
        by_remote.entry((r, items)).or_default().insert(l);
    }
    // (items, locals) → remotes. Every entry is of one family: a remote's locals share it.
    let mut products: BTreeMap<(BTreeSet<Item>, BTreeSet<IpNet>), BTreeSet<IpNet>> = BTreeMap::new();
    for ((r, items), locals) in by_remote {
        products.entry((items, locals)).or_default().insert(r);
    }
    // Per item set, pair IPv4 products with IPv6 ones: the mixed pairs match nothing.
    let mut by_items: BTreeMap<BTreeSet<Item>, (Vec<Shape>, Vec<Shape>)> = BTreeMap::new();
    for ((items, locals), remotes) in products {
        let shape = Shape {
            items: items.iter().copied().collect(),
            remote: remotes.into_iter().collect(),
            local: locals.into_iter().collect(),
        };
        let entry = by_items.entry(items).or_default();
        if shape.remote.first().is_some_and(is_v6) { entry.1.push(shape) } else { entry.0.push(shape) }
    }
    let mut out = Vec::new();
    for (_, (v4, v6)) in by_items {
        let mut v6 = v6.into_iter();
        for a in v4 {
            match v6.next() {
                Some(b) if a.remote.len() + a.local.len() + b.remote.len() + b.local.len() <= limit => {
                    out.push(Shape {
                        items: a.items,
                        remote: a.remote.into_iter().chain(b.remote).collect(),
                        local: a.local.into_iter().chain(b.local).collect(),
                    });
                }
                Some(b) => {
                    out.extend(chunk(a, limit));
                    out.extend(chunk(b, limit));
                }
                None => out.extend(chunk(a, limit)),
            }
        }
        for b in v6 {
            out.extend(chunk(b, limit));
        }
    }
    out
}

/// Split a product into products of at most `limit` addresses with the same union.
fn chunk(s: Shape, limit: usize) -> Vec<Shape> {
    if s.remote.len() + s.local.len() <= limit {
        return vec![s];
    }
    let per_local = s.local.len().min(limit / 2).max(1);
    let per_remote = limit.saturating_sub(per_local).max(1);
    let mut out = Vec::new();
    for l in s.local.chunks(per_local) {
        for r in s.remote.chunks(per_remote) {
            out.push(Shape { items: s.items.clone(), remote: r.to_vec(), local: l.to_vec() });
        }
    }
    out
}

fn addr(n: &IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() { n.addr().to_string() } else { n.to_string() }
}

fn item_text(i: Item) -> String {
    match i {
        Item::Range(lo, hi) if lo == hi => lo.to_string(),
        Item::Range(lo, hi) => format!("{lo}-{hi}"),
        Item::Type(t) => t.to_string(),
        Item::All => String::new(),
    }
}

/// A list parameter's values as lines of already-quoted, comma-separated literals.
fn lines(values: impl IntoIterator<Item = String>, per_line: usize) -> Vec<String> {
    let quoted: Vec<String> = values.into_iter().map(|v| ps_quote_generated(&v)).collect();
    quoted.chunks(per_line.max(1)).map(|c| c.join(", ")).collect()
}

#[derive(Serialize)]
struct Param {
    name: &'static str,
    lines: Vec<String>,
}

#[derive(Serialize)]
struct Rule {
    name: String,
    display_name: String,
    description: String,
    direction: &'static str,
    protocol: String,
    params: Vec<Param>,
}

#[derive(Serialize)]
struct Script {
    /// Comment lines: generated text only (no policy string).
    header: Vec<String>,
    /// The script's file name, for the usage comment (an identifier, or `HOST.ps1`).
    file: String,
    /// Already-quoted literals printed when the script starts.
    intro: Vec<String>,
    group: String,
    closed: bool,
    outbound: &'static str,
    has_v6: bool,
    inbound_rules: usize,
    outbound_rules: usize,
    rules: Vec<Rule>,
}

/// `file.zc:17` with characters a script cannot carry replaced (file names are not policy
/// text, so they are made safe instead of rejected).
fn flow_ref_text(model: &Model, f: FlowId) -> String {
    flow_ref(model, f).chars().map(|c| if unsafe_char(c).is_some() { '_' } else { c }).collect()
}

/// The flow's stable id (`f-3a9c1d0e`, ASCII) for rule names and descriptions: unlike
/// `file.zc:17` it does not move when the policy is edited elsewhere.
fn flow_ref_name(model: &Model, f: FlowId) -> String {
    super::flow_id(model, f).to_string()
}

fn unsafe_diag(span: Span, what: String, host: &str, p: &Problem) -> Diag {
    Diag::error(
        code::COMPILE_UNSAFE_STRING,
        span,
        format!("{what} cannot be written into the PowerShell script of Windows host `{host}`: it holds {p}"),
    )
    .label(format!("{what} holds {}", p.why))
    .help(
        "remove the character: PowerShell scripts carry policy text only in single-quoted strings, \
         which cannot hold line breaks, control characters or bidirectional controls",
    )
}

/// Render one Windows host with the default address limit. Returns the script's bytes
/// (UTF-8 with BOM, CRLF) and its counts (`rules` is the number of firewall rules).
pub(crate) fn render(
    model: &Model,
    rules: &DeviceRules,
    templates: &Templates,
    options: &WindowsOptions,
    policy_digest: &str,
) -> Result<(Vec<u8>, Stats), Vec<Diag>> {
    render_with_limit(model, rules, templates, options, policy_digest, MAX_ADDRESSES)
}

/// [`render`] with another address limit per rule (tests use small ones to exercise
/// splitting).
pub(crate) fn render_with_limit(
    model: &Model,
    rules: &DeviceRules,
    templates: &Templates,
    options: &WindowsOptions,
    // Not written into the script (it would change every script on any policy edit): the
    // digest is in manifest.json.
    _policy_digest: &str,
    max_addresses: usize,
) -> Result<(Vec<u8>, Stats), Vec<Diag>> {
    let mut diags = Vec::new();
    let host = rules.name.as_str();
    if let Some(problem) = group_problem(&options.group) {
        diags.push(
            Diag::error(
                code::CONFIG_INVALID,
                Span::NONE,
                format!("`{}` cannot be the Windows firewall rule group: {problem}", options.group.escape_debug()),
            )
            .help("set `[windows] group` in zonecheck.toml to a plain name such as `zonecheck`"),
        );
    }
    // The policy strings this script carries, checked one by one so each problem points at
    // its own declaration.
    let system = match rules.enforcer {
        Enforcer::Host(id) => Some(model.system(id)),
        Enforcer::Device(_) => None,
    };
    let mut check = |s: &str, span: Span, what: String| {
        if let Err(p) = ps_quote(s) {
            diags.push(unsafe_diag(span, what, host, &p));
        }
    };
    if let Some(name) = &model.meta.name {
        check(name, model.meta.span.unwrap_or(Span::NONE), "the policy name".into());
    }
    if let Some(sys) = system {
        if let Some(label) = &sys.label {
            check(label, sys.name_span, format!("the label of system `{}`", sys.name));
        }
        if let Some(owner) = &sys.owner {
            check(owner, sys.span, format!("the owner of system `{}`", sys.name));
        }
    }
    let mut used: BTreeSet<FlowId> = BTreeSet::new();
    for chain in &rules.chains {
        for p in &chain.permits {
            used.extend(p.flows.iter().copied());
        }
    }
    for f in &used {
        let flow = model.flow(*f);
        check(
            &flow.description,
            flow.header_span,
            format!("the description of flow {} ({})", flow_ref_text(model, *f), model.flow_title(*f)),
        );
    }
    if !diags.is_empty() {
        return Err(diags);
    }

    let group = options.group.as_str();
    let mut out_rules = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut counts = (0usize, 0usize);
    let mut elements = 0usize;
    let mut chains = 0usize;
    for chain in &rules.chains {
        let (inbound, direction, dir) = match chain.kind {
            ChainKind::Input => (true, "Inbound", "in"),
            ChainKind::Output => (false, "Outbound", "out"),
            // A host has no forwarding chains.
            ChainKind::Forward { .. } | ChainKind::Related { .. } | ChainKind::RelatedOutput => continue,
        };
        chains += 1;
        // (flows, kind) → (remote, local, item).
        let mut groups: BTreeMap<(Vec<FlowId>, Kind), Vec<Triple>> = BTreeMap::new();
        for p in &chain.permits {
            let (kind, item) = kind_item(p.svc);
            let (remote, local) = if inbound { (p.src, p.dst) } else { (p.dst, p.src) };
            groups.entry((p.flows.clone(), kind)).or_default().push((remote, local, item));
        }
        for ((flows, kind), triples) in groups {
            let Some(first) = flows.first().copied() else { continue };
            let shapes = decompose(&triples, max_addresses);
            let proto = protocol(kind);
            let title = model.flow_title(first);
            let more = if flows.len() > 1 { format!(" (+{} more flows)", flows.len() - 1) } else { String::new() };
            let description = flows
                .iter()
                .map(|f| {
                    format!(
                        "flow {} {}: {}",
                        flow_ref_name(model, *f),
                        model.flow_title(*f),
                        model.flow(*f).description
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let total = shapes.len();
            for (i, shape) in shapes.into_iter().enumerate() {
                let base = format!("{group}-{}-{dir}", flow_ref_name(model, first));
                let n = names.entry(base.clone()).or_insert(0);
                *n += 1;
                let name = format!("{base}-{n}");
                let part = if total > 1 { format!(" [part {}/{total}]", i + 1) } else { String::new() };
                let display = format!("zonecheck: {title}{more} ({} {proto}){part}", direction.to_lowercase());
                elements += shape.remote.len() + shape.local.len();
                let mut params = vec![
                    Param { name: "LocalAddress", lines: lines(shape.local.iter().map(addr), 4) },
                    Param { name: "RemoteAddress", lines: lines(shape.remote.iter().map(addr), 4) },
                ];
                let values: Vec<String> =
                    shape.items.iter().filter(|i| **i != Item::All).map(|i| item_text(*i)).collect();
                if !values.is_empty() {
                    let name = match kind {
                        Kind::Icmp(_) => "IcmpType",
                        _ if inbound => "LocalPort",
                        _ => "RemotePort",
                    };
                    params.push(Param { name, lines: lines(values, 8) });
                }
                out_rules.push(Rule {
                    name: ps_quote_generated(&firewall_text(&name)),
                    display_name: ps_quote_generated(&firewall_text(&display)),
                    description: ps_quote(&firewall_text(&description)).map_err(|p| {
                        vec![unsafe_diag(model.flow(first).header_span, "a rule description".into(), host, &p)]
                    })?,
                    direction,
                    protocol: proto.clone(),
                    params,
                });
                if inbound {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
            }
        }
    }
    // IPv6 neighbour discovery: without it a host cannot reach its neighbours over IPv6 at
    // all. Windows' own Core Networking rules may be disabled, so the script allows it.
    let has_v6 = system.is_some_and(|s| s.addresses.iter().any(is_v6));
    if has_v6 {
        let nd = |direction: &'static str, dir: &str| Rule {
            name: ps_quote_generated(&format!("{group}-ipv6-nd-{dir}")),
            display_name: ps_quote_generated(&format!(
                "zonecheck: IPv6 neighbour discovery ({})",
                direction.to_lowercase()
            )),
            description: ps_quote_generated(
                "Not a policy flow: ICMPv6 router and neighbour solicitation and advertisement (types 133-136), \
                 without which the host cannot reach its neighbours over IPv6.",
            ),
            direction,
            protocol: "ICMPv6".into(),
            // An address condition of one family: without it Windows would match protocol 58
            // in IPv4 packets too (found by `check`).
            params: vec![
                Param { name: "RemoteAddress", lines: lines(["::/0".to_string()], 8) },
                Param { name: "IcmpType", lines: lines(ND_TYPES.iter().map(|t| t.to_string()), 8) },
            ],
        };
        out_rules.push(nd("Inbound", "in"));
        counts.0 += 1;
        if rules.filter_output {
            out_rules.push(nd("Outbound", "out"));
            counts.1 += 1;
        }
    }

    let policy_name = model.meta.name.clone().unwrap_or_else(|| "policy".into());
    // Host names are identifiers; anything else stays out of comments.
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let host_comment = if plain(host) { host.to_string() } else { "(see below)".to_string() };
    let mut intro = vec![format!("zonecheck {}: Windows Defender Firewall for host {host}", env!("CARGO_PKG_VERSION"))];
    if let Some(label) = system.and_then(|s| s.label.as_ref()) {
        intro.push(format!("Host: {label}"));
    }
    if let Some(owner) = system.and_then(|s| s.owner.as_ref()) {
        intro.push(format!("Owner: {owner}"));
    }
    intro.push(format!("Policy: {policy_name}"));
    let intro = intro
        .into_iter()
        .map(|s| ps_quote(&s).map_err(|p| vec![unsafe_diag(Span::NONE, "the script header".into(), host, &p)]))
        .collect::<Result<Vec<_>, _>>()?;
    let header = vec![
        format!("zonecheck {} - Windows Defender Firewall for host {host_comment}", env!("CARGO_PKG_VERSION")),
        super::nftables::PROVENANCE.to_string(),
    ];
    let script = Script {
        header,
        file: if plain(host) { format!("{host}.ps1") } else { "HOST.ps1".into() },
        intro,
        group: ps_quote_generated(group),
        closed: rules.filter_output,
        outbound: if rules.filter_output { "Block" } else { "Allow" },
        has_v6,
        inbound_rules: counts.0,
        outbound_rules: counts.1,
        rules: out_rules,
    };
    let stats = Stats { chains, rules: script.rules.len(), elements };
    let text = templates.render(TEMPLATE, &script).map_err(|d| vec![d])?;
    Ok((script_bytes(&text), stats))
}

/// UTF-8 with BOM and CRLF line endings, whatever the template's line endings.
pub(crate) fn script_bytes(text: &str) -> Vec<u8> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text).replace("\r\n", "\n");
    let mut out = Vec::with_capacity(text.len() + text.len() / 20 + 3);
    out.extend_from_slice("\u{FEFF}".as_bytes());
    out.extend_from_slice(text.replace('\n', "\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        s.parse().expect("prefix")
    }

    #[test]
    fn decompose_merges_families_and_keeps_products_exact() {
        let t = vec![
            (n("10.0.0.0/24"), n("10.1.0.1/32"), Item::Range(443, 443)),
            (n("10.0.1.0/24"), n("10.1.0.1/32"), Item::Range(443, 443)),
            (n("fd00::/64"), n("fd01::1/128"), Item::Range(443, 443)),
            (n("10.0.0.0/24"), n("10.1.0.1/32"), Item::Range(9443, 9443)),
            (n("10.0.1.0/24"), n("10.1.0.1/32"), Item::Range(9443, 9443)),
            (n("fd00::/64"), n("fd01::1/128"), Item::Range(9443, 9443)),
        ];
        let shapes = decompose(&t, 1000);
        assert_eq!(shapes.len(), 1, "{shapes:?}");
        assert_eq!(shapes[0].remote.len(), 3);
        assert_eq!(shapes[0].local.len(), 2);
        // Split at 2 addresses: every rule small, same union.
        let small = decompose(&t, 2);
        assert!(small.iter().all(|s| s.remote.len() + s.local.len() <= 2));
        let expand = |shapes: &[Shape]| {
            let mut set = BTreeSet::new();
            for s in shapes {
                for r in &s.remote {
                    for l in &s.local {
                        if is_v6(r) == is_v6(l) {
                            for i in &s.items {
                                set.insert((*r, *l, *i));
                            }
                        }
                    }
                }
            }
            set
        };
        let want: BTreeSet<_> = t.iter().copied().collect();
        assert_eq!(expand(&shapes), want);
        assert_eq!(expand(&small), want);
    }

    #[test]
    fn group_names_are_plain() {
        assert!(group_problem("zonecheck").is_none());
        assert!(group_problem("zonecheck-kommune.x_1").is_none());
        for bad in ["", "zone*", "a?", "[a]", "a`b", "@FirewallAPI.dll,-28502", "a b", "ø", "-x"] {
            assert!(group_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn bytes_have_bom_and_crlf() {
        assert_eq!(script_bytes("a\nb\r\nc\n"), "\u{FEFF}a\r\nb\r\nc\r\n".as_bytes());
    }
}
