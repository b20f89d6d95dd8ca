//! nftables: one `inet` table per firewall or Linux host, replaced atomically.
//!
//! Permits become elements of concatenated interval sets, so the number of rules grows
//! with the number of interface pairs, not with the number of flows (targets.md §1.7).
//! nft rejects overlapping intervals in a concatenated set. Two prefixes overlap only if
//! one contains the other, and permits with equal addresses and protocol already had their
//! port ranges merged by lowering. So permits whose source and destination prefixes nest
//! with no other prefix of the chain share one set, and the others are split into sets of
//! one source length and one destination length (where prefixes are equal or disjoint).
//! The sets of a chain are thus overlap-free by construction.

use std::collections::BTreeMap;

use ipnet::IpNet;
use rayon::prelude::*;
use serde::Serialize;

use super::{Stats, Templates, flow_id};
use crate::diagnostics::Diag;
use crate::lower::{ChainKind, DeviceRules, Permit, Svc};
use crate::model::HostOrDevice;
use crate::model::{FlowId, Model};
use crate::targets::escape::{NFT_COMMENT_MAX, NFT_LOG_PREFIX_MAX, nft_text};

/// Settings from zonecheck.toml's `[nftables]`.
#[derive(Clone, Debug)]
pub struct NftOptions {
    pub table: String,
    pub log_rate: String,
}

impl Default for NftOptions {
    fn default() -> Self {
        NftOptions { table: "zonecheck".into(), log_rate: "10/second burst 20 packets".into() }
    }
}

#[derive(Serialize)]
struct Element {
    key: String,
    comment: String,
}

#[derive(Serialize)]
struct Set {
    name: String,
    #[serde(rename = "typeof")]
    typeof_: String,
    elements: Vec<Element>,
}

#[derive(Serialize)]
struct Rule {
    text: String,
    comment: String,
}

#[derive(Serialize)]
struct Chain {
    name: String,
    comment: String,
    /// A base chain (hook, policy drop, the fixed rules): a host's or a firewall's own
    /// input and output.
    base: bool,
    /// The hook of a base chain, or where a chain only jumped to sits (documentation).
    hook: &'static str,
    lo: &'static str,
    /// The chain that ICMP errors this base chain meets must pass (empty: all pass).
    related: String,
    /// A host's base chain: where answers of connections from an earlier ruleset are
    /// checked again (empty: nowhere; see `answers_open`).
    answers: String,
    /// A host's input chain when its output is not filtered: the host opened those
    /// connections unchecked, so their answers pass unchecked too.
    answers_open: bool,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Vmap {
    iif: String,
    oif: String,
    chain: String,
}

#[derive(Serialize)]
struct File {
    header: Vec<String>,
    /// Connections opened under this ruleset carry this mark (see [`generation`]).
    mark: String,
    /// Answers of connections from an earlier ruleset, to the chain re-checking them.
    reply_vmap: Vec<Vmap>,
    /// ICMP errors related to a connection, to the chain of their interface pair.
    related_vmap: Vec<Vmap>,
    /// Anti-spoofing sets (firewalls).
    sources: Vec<Set>,
    table: String,
    table_comment: String,
    log_prefix: String,
    log_rate: String,
    vmap: Vec<Vmap>,
    chains: Vec<Chain>,
    sets: Vec<Set>,
}

/// `file.zc:17`: where a flow is declared, for diagnostics. Generated files name flows by
/// [`super::flow_id`] instead, which an edit elsewhere in the policy does not move.
pub(crate) fn flow_ref(model: &Model, f: FlowId) -> String {
    model.flow_location(f)
}

/// The header line that points to the provenance. The file itself holds nothing that an
/// edit elsewhere in the policy changes (no policy digest, no line numbers), so it stays
/// byte-identical until its own rules change.
pub(crate) const PROVENANCE: &str =
    "Flows are named by id (f-...); manifest.json maps each to its file and line and holds the policy sha256.";

/// A comment naming the flows of an element or rule, within nft's limit.
fn flows_comment(model: &Model, flows: &[FlowId], with_title: bool) -> String {
    let text = match flows {
        [one] if with_title => format!("flow {} {}", flow_id(model, *one), model.flow_title(*one)),
        _ => {
            // Only as many references as can show: past the limit the comment is cut below
            // anyway (a rule of a big pair chain names thousands of flows).
            let mut refs: Vec<&str> = Vec::new();
            let mut len = "flows ".len();
            for f in flows {
                let r = flow_id(model, *f);
                len += r.len() + ", ".len();
                refs.push(r);
                if len > NFT_COMMENT_MAX + ", ".len() {
                    break;
                }
            }
            format!("flow{} {}", if flows.len() == 1 { "" } else { "s" }, refs.join(", "))
        }
    };
    let safe = nft_text(&text, NFT_COMMENT_MAX);
    if safe.len() < text.len() && flows.len() > 1 {
        // Cut at a whole reference and say how many more there are.
        let mut out = String::from("flows ");
        for (i, f) in flows.iter().enumerate() {
            let r = flow_id(model, *f);
            let more = format!(" +{}", flows.len() - i);
            if out.len() + r.len() + 2 + more.len() > NFT_COMMENT_MAX {
                out.push_str(&more);
                return nft_text(&out, NFT_COMMENT_MAX);
            }
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(r);
        }
        return nft_text(&out, NFT_COMMENT_MAX);
    }
    safe
}

fn addr(n: &IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() { n.addr().to_string() } else { n.to_string() }
}

fn proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "ipv6-icmp".into(),
        n => n.to_string(),
    }
}

/// Which set a permit goes to: (family is v6, kind, src len, dst len); the lengths are
/// `None` for permits whose prefixes nest with no other prefix of the chain.
type SetKey = (bool, u8, Option<(u8, u8)>);

/// Prefixes that contain, or are contained in, another prefix of the list.
fn nesting(mut prefixes: Vec<IpNet>) -> std::collections::HashSet<IpNet> {
    prefixes.sort_by_key(|p| (matches!(p, IpNet::V6(_)), p.network(), p.prefix_len()));
    prefixes.dedup();
    let mut out = std::collections::HashSet::new();
    let mut open: Vec<IpNet> = Vec::new();
    for p in prefixes {
        while open.last().is_some_and(|top| !top.contains(&p)) {
            open.pop();
        }
        if let Some(top) = open.last() {
            out.insert(*top);
            out.insert(p);
        }
        open.push(p);
    }
    out
}

fn set_key(
    p: &Permit,
    nested_src: &std::collections::HashSet<IpNet>,
    nested_dst: &std::collections::HashSet<IpNet>,
) -> SetKey {
    let kind = match p.svc {
        Svc::Ports { .. } => 0,
        Svc::IcmpType { .. } => 1,
        Svc::Proto(_) => 2,
        Svc::Any => 3,
    };
    // Prefixes that nest with nothing are equal or disjoint to every other one, so such
    // permits can share one set; the rest are split by prefix lengths (see the module doc).
    let lens =
        (nested_src.contains(&p.src) || nested_dst.contains(&p.dst)).then(|| (p.src.prefix_len(), p.dst.prefix_len()));
    (matches!(p.src, IpNet::V6(_)), kind, lens)
}

fn set_typeof(v6: bool, kind: u8) -> String {
    let (fam, icmp) = if v6 { ("ip6", "icmpv6") } else { ("ip", "icmp") };
    match kind {
        0 => format!("{fam} saddr . {fam} daddr . meta l4proto . th dport"),
        1 => format!("{fam} saddr . {fam} daddr . {icmp} type"),
        2 => format!("{fam} saddr . {fam} daddr . meta l4proto"),
        _ => format!("{fam} saddr . {fam} daddr"),
    }
}

fn element_key(p: &Permit) -> String {
    let (s, d) = (addr(&p.src), addr(&p.dst));
    match p.svc {
        Svc::Ports { proto, lo, hi } if lo == hi => format!("{s} . {d} . {} . {lo}", proto_name(proto)),
        Svc::Ports { proto, lo, hi } => format!("{s} . {d} . {} . {lo}-{hi}", proto_name(proto)),
        Svc::IcmpType { ty, .. } => format!("{s} . {d} . {ty}"),
        Svc::Proto(p) => format!("{s} . {d} . {}", proto_name(p)),
        Svc::Any => format!("{s} . {d}"),
    }
}

/// The lookup of a set in the other direction: the answer of a connection swaps source
/// and destination, and its source port is the service port. ICMP sets have none (an
/// echo's answer is another type); their connections are not re-checked (see the template).
fn reply_lookup(v6: bool, kind: u8) -> Option<String> {
    let fam = if v6 { "ip6" } else { "ip" };
    match kind {
        0 => Some(format!("{fam} daddr . {fam} saddr . meta l4proto . th sport")),
        2 => Some(format!("{fam} daddr . {fam} saddr . meta l4proto")),
        3 => Some(format!("{fam} daddr . {fam} saddr")),
        _ => None,
    }
}

/// A re-check chain of answers: its name, comment, and (lookup, comment) per rule.
type Reply = (String, String, Vec<(String, String)>);

/// The connection mark of a ruleset: a digest of what it permits. A connection opened or
/// re-checked under this ruleset carries it; one from an earlier ruleset that permitted
/// something else does not, and is checked again against this one. An update that
/// changes nothing keeps the mark, so it disturbs no connection.
fn generation(sets: &[Set], chains: &[Chain]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for set in sets {
        h.update(set.name.as_bytes());
        h.update(b"\n");
        for e in &set.elements {
            h.update(e.key.as_bytes());
            h.update(b"\n");
        }
    }
    for c in chains {
        h.update(c.name.as_bytes());
        for r in &c.rules {
            h.update(r.text.as_bytes());
        }
    }
    let d = h.finalize();
    format!("0x{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3])
}

/// Render one firewall or Linux host. Returns the text and its counts.
/// The chain a closed-zone host's ICMP errors pass on their way out.
const RELATED_OUTPUT: &str = "zc_output_related";
/// A host's chains re-checking answers it receives (to connections it opened) and sends
/// (to connections opened to it) of connections from an earlier ruleset.
const ANSWERS_IN: &str = "zc_input_answers";
const ANSWERS_OUT: &str = "zc_output_answers";

pub(crate) fn render(
    model: &Model,
    rules: &DeviceRules,
    templates: &Templates,
    options: &NftOptions,
) -> Result<(String, Stats), Diag> {
    let mut stats = Stats::default();
    let mut sets = Vec::new();
    let mut chains = Vec::new();
    let mut vmap = Vec::new();
    let mut reply_vmap = Vec::new();
    let mut related_vmap = Vec::new();
    // Re-check rules of each pair chain, filled in once the mark is known.
    let mut replies: Vec<Reply> = Vec::new();
    let host = !matches!(rules.target, HostOrDevice::Device(_));
    let zones =
        |z: &[crate::model::ZoneId]| z.iter().map(|z| model.zone(*z).name.as_str()).collect::<Vec<_>>().join(", ");
    let output_filtered = rules.chains.iter().any(|c| c.kind == ChainKind::Output);
    let related_output = rules.chains.iter().any(|c| c.kind == ChainKind::RelatedOutput);
    for (ci, chain) in rules.chains.iter().enumerate() {
        let (name, hook, lo, comment) = match &chain.kind {
            ChainKind::Forward { iif, oif, from_zones, to_zones } => {
                let name = format!("zc_pair_{ci}");
                vmap.push(Vmap { iif: iif.clone(), oif: oif.clone(), chain: name.clone() });
                reply_vmap.push(Vmap { iif: oif.clone(), oif: iif.clone(), chain: format!("zc_reply_{ci}") });
                (name, "forward", "", format!("{iif} to {oif}: {} to {}", zones(from_zones), zones(to_zones)))
            }
            ChainKind::Related { iif, oif } => {
                let name = format!("zc_related_{ci}");
                related_vmap.push(Vmap { iif: iif.clone(), oif: oif.clone(), chain: name.clone() });
                (name, "forward", "", format!("{iif} to {oif}: ICMP errors between permitted address pairs"))
            }
            ChainKind::RelatedOutput => (
                RELATED_OUTPUT.to_string(),
                "",
                "",
                format!("ICMP errors from {} only towards the peers of its flows", rules.name),
            ),
            // A host's own chains, or a firewall's for the firewall itself.
            ChainKind::Input => {
                let to = if host { format!("to {}", rules.name) } else { format!("to {} itself", rules.name) };
                ("zc_input".to_string(), "input", "iif lo", to)
            }
            ChainKind::Output => {
                let from = if host { "(closed zone)" } else { "itself" };
                ("zc_output".to_string(), "output", "oif lo", format!("from {} {from}", rules.name))
            }
        };
        let base = matches!(chain.kind, ChainKind::Input | ChainKind::Output);
        let forward = matches!(chain.kind, ChainKind::Forward { .. });
        // Permits whose answers are re-checked: a firewall's pairs, a host's (or the
        // firewall's own) both ways.
        let answered = forward || base;
        let nested_src = nesting(chain.permits.iter().map(|p| p.src).collect());
        let nested_dst = nesting(chain.permits.iter().map(|p| p.dst).collect());
        let mut by_set: BTreeMap<SetKey, Vec<&Permit>> = BTreeMap::new();
        for p in &chain.permits {
            by_set.entry(set_key(p, &nested_src, &nested_dst)).or_default().push(p);
        }
        let mut chain_rules = Vec::new();
        let mut reply_rules = Vec::new();
        for ((v6, kind, lens), permits) in by_set {
            let fam = if v6 { "v6" } else { "v4" };
            let kind_name = ["ports", "icmp", "proto", "any"][usize::from(kind)];
            let set_name = match lens {
                None => format!("{name}_{fam}_{kind_name}"),
                Some((sl, dl)) => format!("{name}_{fam}_{kind_name}_{sl}_{dl}"),
            };
            let typeof_ = set_typeof(v6, kind);
            let mut flows: Vec<FlowId> = permits.iter().flat_map(|p| p.flows.iter().copied()).collect();
            flows.sort();
            flows.dedup();
            stats.elements += permits.len();
            stats.rules += 1;
            let comment = flows_comment(model, &flows, false);
            if answered && let Some(lookup) = reply_lookup(v6, kind) {
                reply_rules.push((format!("{lookup} @{set_name}"), comment.clone()));
            }
            // An ICMP error of the packet's own family: conntrack relates no other.
            let only = match chain.kind {
                ChainKind::Related { .. } | ChainKind::RelatedOutput => {
                    if v6 {
                        "meta l4proto ipv6-icmp "
                    } else {
                        "meta l4proto icmp "
                    }
                }
                _ => "",
            };
            chain_rules.push(Rule { text: format!("{only}{typeof_} @{set_name}"), comment });
            sets.push(Set {
                name: set_name,
                typeof_,
                // A core firewall's set holds hundreds of thousands: in parallel, in order.
                elements: permits
                    .par_iter()
                    .with_min_len(4096)
                    .map(|p| Element { key: element_key(p), comment: flows_comment(model, &p.flows, true) })
                    .collect(),
            });
        }
        if forward {
            replies.push((
                format!("zc_reply_{ci}"),
                nft_text(&format!("answers of {comment}"), NFT_COMMENT_MAX),
                reply_rules,
            ));
        } else if answered && (chain.kind == ChainKind::Output || output_filtered) {
            // The answers to what comes in leave through output (where it is filtered), and
            // the other way round.
            let (chain, of) = if chain.kind == ChainKind::Input { (ANSWERS_OUT, "to") } else { (ANSWERS_IN, "from") };
            let comment = format!("answers of connections {of} {} opened under an earlier ruleset", rules.name);
            replies.push((chain.to_string(), nft_text(&comment, NFT_COMMENT_MAX), reply_rules));
        }
        stats.chains += 1;
        let related_restricted = chain.kind == ChainKind::Output && related_output;
        let answers = match chain.kind {
            ChainKind::Input if output_filtered => ANSWERS_IN,
            ChainKind::Output => ANSWERS_OUT,
            _ => "",
        };
        chains.push(Chain {
            name,
            comment: nft_text(&comment, NFT_COMMENT_MAX),
            base,
            hook,
            lo,
            related: if related_restricted { RELATED_OUTPUT.to_string() } else { String::new() },
            answers: answers.to_string(),
            answers_open: chain.kind == ChainKind::Input && !output_filtered,
            rules: chain_rules,
        });
    }
    // Anti-spoofing: every interface with the space behind it, one set per family.
    let mut sources = Vec::new();
    for v6 in [false, true] {
        let elements: Vec<Element> = rules
            .sources
            .iter()
            .flat_map(|(iface, space)| {
                space.iter().filter(move |n| matches!(n, IpNet::V6(_)) == v6).map(move |n| Element {
                    key: format!("\"{}\" . {}", nft_text(iface, 64), addr(n)),
                    comment: nft_text(&format!("the sources behind {iface}"), NFT_COMMENT_MAX),
                })
            })
            .collect();
        stats.elements += elements.len();
        sources.push(Set {
            name: format!("zc_sources_{}", if v6 { "v6" } else { "v4" }),
            typeof_: format!("iifname . {} saddr", if v6 { "ip6" } else { "ip" }),
            elements,
        });
    }
    let mark = generation(&sets, &chains);
    // Accepting a new connection marks it with this ruleset's mark.
    for c in &mut chains {
        let opens = c.name.starts_with("zc_pair_") || c.base;
        let stamp = if opens { format!(" ct mark set {mark}") } else { String::new() };
        for r in &mut c.rules {
            r.text = format!("{}{stamp} counter accept", r.text);
        }
    }
    for (name, comment, rules) in replies {
        stats.chains += 1;
        let hook = if name.starts_with("zc_reply_") { "forward" } else { "" };
        chains.push(Chain {
            name,
            comment,
            base: false,
            hook,
            lo: "",
            related: String::new(),
            answers: String::new(),
            answers_open: false,
            rules: rules
                .into_iter()
                .map(|(lookup, comment)| Rule { text: format!("{lookup} ct mark set {mark} counter accept"), comment })
                .collect(),
        });
    }
    let policy_name = model.meta.name.clone().unwrap_or_else(|| "policy".into());
    let what = if host { "host" } else { "firewall" };
    let file = File {
        header: vec![
            nft_text(&format!("zonecheck {} — {what} {} — {policy_name}", env!("CARGO_PKG_VERSION"), rules.name), 200),
            "Generated: do not edit by hand. Check with `nft -c -f FILE`, load with `nft -f FILE`.".into(),
            PROVENANCE.into(),
        ],
        // A firewall that is also a managed Linux host loads both files: each role has its
        // own table, so neither replaces the other.
        table: if host { format!("{}_host", options.table) } else { options.table.clone() },
        table_comment: nft_text(&format!("zonecheck {what} {}: {policy_name}", rules.name), NFT_COMMENT_MAX),
        log_prefix: nft_text(&format!("zc drop {} ", rules.name), NFT_LOG_PREFIX_MAX),
        log_rate: options.log_rate.clone(),
        vmap,
        reply_vmap,
        related_vmap,
        mark,
        sources: if host { Vec::new() } else { sources },
        chains,
        sets,
    };
    let template = if host { "nftables/host.nft.j2" } else { "nftables/firewall.nft.j2" };
    let text = templates.render(template, &file)?;
    Ok((text, stats))
}
