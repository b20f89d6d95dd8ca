//! Arista EOS ACLs (targets.md §4): Cisco-like and first-match, with native prefixes,
//! `remark` lines with their own sequence numbers, `established`, applied with
//! `ip access-group … in` / `ipv6 access-group … in` inside one `configure session`, so
//! the whole change commits atomically.

use ipnet::IpNet;

use super::acl::{Ace, CliVendor, Spelling, ace_line};

pub(super) const VENDOR: CliVendor = CliVendor {
    name: "Arista EOS",
    template: "arista-eos/switch.j2",
    how: "Paste in privileged EXEC mode: it opens a configure session and commits it.",
    example: "`Vlan32`, `Ethernet1` or `Port-Channel1`",
    iface: super::ios::iface,
    ace,
    remark_own_seq: true,
    direction: |_| "in",
};

fn addr(n: &IpNet) -> String {
    match n {
        _ if n.prefix_len() == 0 => "any".into(),
        _ if n.prefix_len() == n.max_prefix_len() => format!("host {}", n.addr()),
        n => format!("{}/{}", n.network(), n.prefix_len()),
    }
}

fn ace(a: &Ace, v6: bool) -> String {
    ace_line(
        a,
        v6,
        &Spelling {
            any: ["ip", "ipv6"],
            icmpv6: "icmpv6",
            addr,
            icmp: |t, _| t.to_string(),
            hop_limit: Some(|h, v6| format!("{} eq {h}", if v6 { "hop-limit" } else { "ttl" })),
        },
    )
}
