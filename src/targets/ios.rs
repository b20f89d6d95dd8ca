//! Cisco IOS / IOS-XE extended named ACLs (targets.md §3): `ip access-list extended` with
//! wildcard masks and `ipv6 access-list` with prefixes, `remark` lines (≤ 100 characters),
//! `established` for TCP answers, applied with `ip access-group … in` and
//! `ipv6 traffic-filter … in`, each of which replaces the ACL in use in one step.

use ipnet::IpNet;

use super::acl::{Ace, CliVendor, Spelling, ace_line};

pub(super) const VENDOR: CliVendor = CliVendor {
    name: "Cisco IOS-XE",
    template: "cisco-ios/switch.j2",
    how: "Paste in configuration mode (configure terminal); steps below.",
    example: "`Vlan32`, `GigabitEthernet1/0/1` or `Port-channel1`",
    iface,
    ace,
    remark_own_seq: false,
    direction: |_| "in",
};

/// Cisco and Arista interface names: a letter first and a number in it (`Vlan32`).
pub(super) fn iface(name: &str) -> Result<String, String> {
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) || !name.contains(|c: char| c.is_ascii_digit()) {
        return Err("it must start with a letter and hold the interface number".into());
    }
    Ok(name.to_string())
}

fn addr(n: &IpNet) -> String {
    match n {
        _ if n.prefix_len() == 0 => "any".into(),
        _ if n.prefix_len() == n.max_prefix_len() => format!("host {}", n.addr()),
        IpNet::V4(n) => format!("{} {}", n.network(), n.hostmask()),
        IpNet::V6(n) => format!("{}/{}", n.network(), n.prefix_len()),
    }
}

fn icmp(ty: u8, v6: bool) -> String {
    match (v6, ty) {
        (true, 135) => "nd-ns".into(),
        (true, 136) => "nd-na".into(),
        (true, 133) => "router-solicitation".into(),
        _ => ty.to_string(),
    }
}

fn ace(a: &Ace, v6: bool) -> String {
    ace_line(a, v6, &Spelling { any: ["ip", "ipv6"], icmpv6: "icmp", addr, icmp, hop_limit: None })
}
