//! HPE Aruba AOS-CX ACLs (targets.md §4): `access-list ip|ipv6 NAME` with numbered entries,
//! `comment` lines that share their entry's sequence number, plain addresses for hosts and
//! prefixes otherwise, `established` for TCP answers. `apply access-list … routed-in` on a
//! VLAN interface (plain `in` on a routed port or LAG) replaces the ACL of the same type
//! and direction, so the versioned-name swap is atomic.

use ipnet::IpNet;

use super::acl::{Ace, CliVendor, Spelling, ace_line};

pub(super) const VENDOR: CliVendor = CliVendor {
    name: "Aruba AOS-CX",
    template: "aruba-aoscx/switch.j2",
    how: "Paste in configuration mode (configure terminal); steps below.",
    example: "`vlan32`, `1/1/10` or `lag5`",
    iface,
    ace,
    remark_own_seq: false,
    direction: |cli| if cli.starts_with("vlan ") { "routed-in" } else { "in" },
};

/// `vlan32` → `vlan 32`, `lag5` → `lag 5`, `1/1/10` stays.
fn iface(name: &str) -> Result<String, String> {
    let lower = name.to_ascii_lowercase();
    for kind in ["vlan", "lag"] {
        if let Some(n) = lower.strip_prefix(kind) {
            let n = n.trim_start_matches(['-', '_']);
            if !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(format!("{kind} {n}"));
            }
        }
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(name.to_string());
    }
    Err("AOS-CX interfaces are `vlanN`, `lagN` or a port `M/S/P`".into())
}

fn addr(n: &IpNet) -> String {
    match n {
        _ if n.prefix_len() == 0 => "any".into(),
        _ if n.prefix_len() == n.max_prefix_len() => n.addr().to_string(),
        n => format!("{}/{}", n.network(), n.prefix_len()),
    }
}

fn ace(a: &Ace, v6: bool) -> String {
    ace_line(
        a,
        v6,
        &Spelling {
            any: ["any", "any"],
            icmpv6: "icmpv6",
            addr,
            icmp: |t, _| format!("icmp-type {t}"),
            hop_limit: Some(|h, _| format!("ttl {h}")),
        },
    )
}
