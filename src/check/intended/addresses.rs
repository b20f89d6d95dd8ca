//! Addresses as check reads the policy: each zone's space by longest-prefix match, and the
//! addresses each side of a flow stands for, per zone. Stated here on check's own terms
//! (interval sets painted shortest prefix first), not taken from the lowering, so that a
//! mistake in how the lowering cuts zone spaces shows as a difference.

use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::check::space::{Field, net_bounds};
use crate::model::{EndpointRef, Model, ZoneId};

/// A set of addresses of both families.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Addrs {
    pub v4: Field,
    pub v6: Field,
}

impl Addrs {
    pub(crate) fn family(&self, v6: bool) -> &Field {
        if v6 { &self.v6 } else { &self.v4 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// Addresses gathered as intervals, made a set once ([`Field::from_ranges`] sorts and
/// merges), so that a side of thousands of systems is not merged one address at a time.
#[derive(Default)]
pub(crate) struct AddrsBuilder {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl AddrsBuilder {
    pub(crate) fn net(&mut self, n: &IpNet) {
        let part = if matches!(n, IpNet::V6(_)) { &mut self.v6 } else { &mut self.v4 };
        part.push(net_bounds(n));
    }

    pub(crate) fn addrs(&mut self, a: &Addrs) {
        self.v4.extend_from_slice(&a.v4.intervals());
        self.v6.extend_from_slice(&a.v6.intervals());
    }

    pub(crate) fn build(self) -> Addrs {
        Addrs { v4: Field::from_ranges(self.v4), v6: Field::from_ranges(self.v6) }
    }
}

/// IPv6 link-local (fe80::/10): no zone's broader prefix covers it (DESIGN.md §4a); a zone
/// that declares a prefix inside it, or fe80::/10 itself, owns that.
fn link_local() -> IpNet {
    "fe80::/10".parse().expect("prefix")
}

/// An interval map of one family: start → (end, owner). Painting a prefix gives it every
/// address it covers; painting shorter prefixes first leaves each address with the owner of
/// its longest matching prefix.
#[derive(Default)]
struct Canvas(BTreeMap<u128, (u128, Option<ZoneId>)>);

impl Canvas {
    fn paint(&mut self, lo: u128, hi: u128, owner: Option<ZoneId>) {
        // An interval that starts before `lo` and reaches into it keeps its part before.
        if let Some((&start, &(end, was))) = self.0.range(..lo).next_back()
            && end >= lo
        {
            self.0.insert(start, (lo - 1, was));
            if end > hi {
                self.0.insert(hi + 1, (end, was));
            }
        }
        let inside: Vec<u128> = self.0.range(lo..=hi).map(|(k, _)| *k).collect();
        for k in inside {
            if let Some((end, was)) = self.0.remove(&k)
                && end > hi
            {
                self.0.insert(hi + 1, (end, was));
            }
        }
        self.0.insert(lo, (hi, owner));
    }
}

/// Each zone's address space, in zone order.
pub(crate) fn zone_spaces(model: &Model) -> Vec<Addrs> {
    // (family, prefix length, zone or none) — none (link-local) before a zone's prefix of the
    // same length, so that a zone declaring fe80::/10 owns it.
    let mut prefixes: Vec<(bool, u8, Option<ZoneId>, IpNet)> = model
        .zones
        .iter()
        .enumerate()
        .flat_map(|(i, z)| {
            z.nets.iter().map(move |n| (n.addr().is_ipv6(), n.prefix_len(), Some(ZoneId::from_index(i)), *n))
        })
        .collect();
    let ll = link_local();
    prefixes.push((true, ll.prefix_len(), None, ll));
    prefixes.sort_by_key(|(v6, len, zone, _)| (*v6, *len, zone.is_some()));
    let mut canvas = [Canvas::default(), Canvas::default()];
    for (v6, _, zone, net) in &prefixes {
        let (lo, hi) = net_bounds(net);
        canvas[usize::from(*v6)].paint(lo, hi, *zone);
    }
    let mut out: Vec<AddrsBuilder> = model.zones.iter().map(|_| AddrsBuilder::default()).collect();
    for (v6, c) in canvas.iter().enumerate() {
        for (&lo, &(hi, owner)) in &c.0 {
            if let Some(z) = owner {
                let b = &mut out[z.index()];
                if v6 == 1 { b.v6.push((lo, hi)) } else { b.v4.push((lo, hi)) }
            }
        }
    }
    out.into_iter().map(AddrsBuilder::build).collect()
}

/// The addresses a flow's side (its endpoint references) stands for, per zone: a system
/// its own addresses (in its zone), a zone its whole space, a group its members. Sorted by
/// zone; a vector, not a map, as a policy holds two per flow (a map node is a kilobyte).
pub(crate) fn side(model: &Model, spaces: &[Addrs], refs: &[EndpointRef]) -> Vec<(ZoneId, Addrs)> {
    let mut parts: BTreeMap<ZoneId, AddrsBuilder> = BTreeMap::new();
    let mut stack: Vec<EndpointRef> = refs.to_vec();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(r) = stack.pop() {
        match r {
            EndpointRef::System(s) => {
                let sys = model.system(s);
                let b = parts.entry(sys.zone).or_default();
                sys.addresses.iter().for_each(|a| b.net(a));
            }
            EndpointRef::Zone(z) => {
                if let Some(space) = spaces.get(z.index()) {
                    parts.entry(z).or_default().addrs(space);
                }
            }
            EndpointRef::Group(g) => {
                if seen.insert(g) {
                    stack.extend(model.group(g).members.iter().copied());
                }
            }
        }
    }
    parts.into_iter().map(|(z, b)| (z, b.build())).filter(|(_, a)| !a.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(model: &Model, spaces: &[Addrs], addr: &str) -> Option<String> {
        let a: std::net::IpAddr = addr.parse().expect("address");
        let v = crate::check::space::addr_value(a);
        let owners: Vec<usize> = (0..spaces.len()).filter(|&i| spaces[i].family(a.is_ipv6()).contains(v)).collect();
        assert!(owners.len() <= 1, "{addr} has owners {owners:?}");
        owners.first().map(|&i| model.zones[i].name.clone())
    }

    #[test]
    fn zone_space_is_the_longest_matching_prefix() {
        let model = crate::load_str(
            "t.zc",
            "zone inet { trust external; net 0.0.0.0/0, ::/0 }\n\
             zone k { trust internal; net 10.0.0.0/8 }\n\
             zone s { trust closed; net 10.20.10.0/24, 10.20.10.128/25 }\n\
             zone h { trust closed; net 10.20.10.192/26 }\n\
             zone ll { trust internal; net fe80::/64 }\n",
        );
        let model = model.expect("resolves");
        let spaces = zone_spaces(&model);
        for (addr, zone) in [
            ("8.8.8.8", Some("inet")),
            ("10.1.1.1", Some("k")),
            ("10.20.10.5", Some("s")),
            ("10.20.10.130", Some("s")),
            ("10.20.10.200", Some("h")),
            ("10.20.11.0", Some("k")),
            ("255.255.255.255", Some("inet")),
            ("0.0.0.0", Some("inet")),
            ("2001:db8::1", Some("inet")),
            ("fe80::1", Some("ll")),
            ("fe80:0:0:1::1", None),
            ("febf:ffff::1", None),
            ("fec0::1", Some("inet")),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some("inet")),
        ] {
            assert_eq!(owner(&model, &spaces, addr).as_deref(), zone, "{addr}");
        }
    }

    #[test]
    fn a_zone_that_declares_link_local_owns_it() {
        let model = crate::load_str(
            "t.zc",
            "zone inet { trust external; net ::/0 }\nzone ll { trust internal; net fe80::/10 }\n",
        )
        .expect("resolves");
        let spaces = zone_spaces(&model);
        assert_eq!(owner(&model, &spaces, "fe80::1").as_deref(), Some("ll"));
        assert_eq!(owner(&model, &spaces, "2001:db8::1").as_deref(), Some("inet"));
    }
}
