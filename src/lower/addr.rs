//! Prefix arithmetic: zone address spaces by longest-prefix match, exactly.
//!
//! An address belongs to the zone that owns its longest matching prefix. So a zone's space
//! is, for each of its prefixes, that prefix minus every strictly more specific prefix
//! (of any zone) inside it; the more specific ones contribute their own terms. Every
//! address lies in exactly one term: the one of its longest matching prefix.

use std::collections::BTreeSet;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::model::{EndpointRef, Model, ZoneId};

/// `a` minus `b`, as prefixes (empty if `b` covers `a`; `a` if they are disjoint).
pub(crate) fn subtract(a: IpNet, b: IpNet) -> Vec<IpNet> {
    if !a.contains(&b) {
        return if b.contains(&a) { Vec::new() } else { vec![a] };
    }
    // Walk down from `a` towards `b`, keeping the sibling half at each step.
    let mut out = Vec::new();
    let mut cur = a;
    while cur.prefix_len() < b.prefix_len() {
        let Some((lo, hi)) = halves(cur) else { break };
        if lo.contains(&b) {
            out.push(hi);
            cur = lo;
        } else {
            out.push(lo);
            cur = hi;
        }
    }
    out
}

fn halves(n: IpNet) -> Option<(IpNet, IpNet)> {
    let len = n.prefix_len().checked_add(1)?;
    let mut subnets = n.subnets(len).ok()?;
    Some((subnets.next()?, subnets.next()?))
}

/// Subtract every prefix in `holes` from `base`.
pub(crate) fn subtract_all(base: IpNet, holes: &[IpNet]) -> Vec<IpNet> {
    let mut pieces = vec![base];
    for h in holes {
        let mut next = Vec::with_capacity(pieces.len() + 8);
        for p in pieces {
            if p.contains(h) || h.contains(&p) {
                next.extend(subtract(p, *h));
            } else {
                next.push(p);
            }
        }
        pieces = next;
    }
    pieces
}

/// Merge sibling prefixes and drop covered ones; sorted, IPv4 before IPv6.
pub(crate) fn aggregate(nets: impl IntoIterator<Item = IpNet>) -> Vec<IpNet> {
    let (v4, v6): (Vec<IpNet>, Vec<IpNet>) = nets.into_iter().partition(|n| matches!(n, IpNet::V4(_)));
    let v4: Vec<Ipv4Net> = v4.into_iter().filter_map(|n| if let IpNet::V4(x) = n { Some(x) } else { None }).collect();
    let v6: Vec<Ipv6Net> = v6.into_iter().filter_map(|n| if let IpNet::V6(x) = n { Some(x) } else { None }).collect();
    let mut out: Vec<IpNet> = Ipv4Net::aggregate(&v4).into_iter().map(IpNet::V4).collect();
    out.extend(Ipv6Net::aggregate(&v6).into_iter().map(IpNet::V6));
    out
}

/// IPv6 link-local addresses: never routed, so no zone covers them by a broad prefix.
/// A rule meant for the Internet (`::/0`) must not admit a neighbour on the same link.
pub(crate) const LINK_LOCAL: IpNet =
    IpNet::V6(Ipv6Net::new_assert(std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10));

/// Each zone's exact address space by longest-prefix match. fe80::/10 belongs to no zone
/// unless one declares a prefix inside it (DESIGN.md §4a).
pub(crate) fn zone_spaces(model: &Model) -> Vec<Vec<IpNet>> {
    let all: Vec<(IpNet, ZoneId)> = model
        .zones
        .iter()
        .enumerate()
        .flat_map(|(i, z)| z.nets.iter().map(move |n| (*n, ZoneId::from_index(i))))
        .collect();
    model
        .zones
        .iter()
        .map(|z| {
            let mut pieces = Vec::new();
            for n in &z.nets {
                let mut holes: Vec<IpNet> =
                    all.iter().map(|(m, _)| *m).filter(|m| m.prefix_len() > n.prefix_len() && n.contains(m)).collect();
                if n.prefix_len() < LINK_LOCAL.prefix_len() && n.contains(&LINK_LOCAL) {
                    holes.push(LINK_LOCAL);
                }
                pieces.extend(subtract_all(*n, &holes));
            }
            aggregate(pieces)
        })
        .collect()
}

/// The addresses an endpoint reference stands for in compiled rules: a system's
/// addresses, a zone's whole space (SaaS addresses included: the rules permit them), a
/// group's members.
pub(crate) fn ref_space(model: &Model, spaces: &[Vec<IpNet>], r: EndpointRef, out: &mut BTreeSet<(ZoneId, IpNet)>) {
    let mut stack = vec![r];
    let mut seen_groups = BTreeSet::new();
    while let Some(r) = stack.pop() {
        match r {
            EndpointRef::System(s) => {
                let sys = model.system(s);
                out.extend(sys.addresses.iter().map(|a| (sys.zone, *a)));
            }
            EndpointRef::Zone(z) => out.extend(spaces.get(z.index()).into_iter().flatten().map(|n| (z, *n))),
            EndpointRef::Group(g) => {
                if seen_groups.insert(g) {
                    stack.extend(model.group(g).members.iter().copied());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    #[test]
    fn subtract_leaves_the_rest() {
        assert_eq!(subtract(n("10.0.0.0/24"), n("10.0.0.0/25")), vec![n("10.0.0.128/25")]);
        let rest = subtract(n("0.0.0.0/0"), n("10.0.0.0/8"));
        assert_eq!(rest.len(), 8);
        assert!(rest.iter().all(|r| !r.contains(&n("10.1.2.3/32"))));
        assert_eq!(aggregate(rest.into_iter().chain([n("10.0.0.0/8")])), vec![n("0.0.0.0/0")]);
        assert_eq!(subtract(n("10.0.0.0/8"), n("11.0.0.0/8")), vec![n("10.0.0.0/8")]);
        assert!(subtract(n("10.0.0.0/24"), n("10.0.0.0/8")).is_empty());
    }

    #[test]
    fn zone_space_is_longest_prefix_match() {
        let model = crate::load_str(
            "t.zc",
            "zone inet { trust external; net 0.0.0.0/0, ::/0 }\nzone k { trust internal; net 10.0.0.0/8 }\nzone s { trust closed; net 10.20.10.0/24 }\n",
        )
        .expect("resolves");
        let spaces = zone_spaces(&model);
        let owner = |addr: &str| {
            let a = n(addr);
            spaces.iter().position(|sp| sp.iter().any(|p| p.contains(&a))).map(|i| model.zones[i].name.clone())
        };
        assert_eq!(owner("8.8.8.8/32").as_deref(), Some("inet"));
        assert_eq!(owner("10.1.1.1/32").as_deref(), Some("k"));
        assert_eq!(owner("10.20.10.5/32").as_deref(), Some("s"));
        assert_eq!(owner("2001:db8::1/128").as_deref(), Some("inet"));
        // Link-local IPv6 is nobody's: `::/0` does not cover it.
        assert_eq!(owner("fe80::1/128"), None);
        assert_eq!(owner("febf:ffff::1/128"), None);
        assert_eq!(owner("fec0::1/128").as_deref(), Some("inet"));
        // Exactly one owner for every probe.
        for a in ["0.0.0.1/32", "9.255.255.255/32", "10.20.9.255/32", "10.20.11.0/32", "255.255.255.255/32"] {
            let owners = spaces.iter().filter(|sp| sp.iter().any(|p| p.contains(&n(a)))).count();
            assert_eq!(owners, 1, "{a}");
        }
    }
}
