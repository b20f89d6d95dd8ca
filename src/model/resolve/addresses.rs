//! Addresses as devices read them (DESIGN.md §4a): zone prefixes, the zone each system
//! address belongs to by longest prefix, and the conflicts and overlaps that are refused.

use super::*;

impl Resolver {
    pub(super) fn check_zone_prefixes(&mut self) {
        let mut first: HashMap<IpNet, (ZoneId, Span)> = HashMap::new();
        for (net, zone, span) in &self.zone_nets {
            match first.get(net) {
                Some((other, other_span)) => {
                    let msg = if other == zone {
                        format!("prefix `{net}` is listed twice in zone `{}`", self.zones[zone.index()].name)
                    } else {
                        format!(
                            "zones `{}` and `{}` both claim `{net}`",
                            self.zones[other.index()].name,
                            self.zones[zone.index()].name
                        )
                    };
                    self.diags.push(
                        Diag::error(code::RESOLVE_DUPLICATE_PREFIX, *span, msg)
                            .label("claimed again here")
                            .related(*other_span, "first claimed here")
                            .help("every address belongs to exactly one zone: give the prefix to one zone only"),
                    );
                }
                None => {
                    first.insert(*net, (*zone, *span));
                }
            }
        }
    }

    /// The zone that owns an address by longest-prefix match, with the declaring span.
    /// When two zones claim the same prefix (already an error), `prefer` wins the tie, so
    /// that one mistake is not reported again for every address in the prefix.
    pub(super) fn owner_of(&self, addr: &IpNet, prefer: ZoneId) -> Option<(ZoneId, IpNet, Span)> {
        self.zone_nets
            .iter()
            .filter(|(net, _, _)| net.contains(addr))
            .max_by_key(|(net, z, _)| (net.prefix_len(), *z == prefer))
            .map(|(net, z, s)| (*z, *net, *s))
    }

    pub(super) fn check_address(&mut self, sys: &System, zone: ZoneId, a: &ast::AddrLit) {
        if a.net.trunc() != a.net {
            self.diags.push(
                Diag::error(code::RESOLVE_HOST_BITS, a.span, format!("prefix `{}` has host bits set", a.net))
                    .help(format!("write the host `{}` or the prefix `{}`", a.net.addr(), a.net.trunc())),
            );
            return;
        }
        let zone_name = &self.zones[zone.index()].name;
        let written = crate::syntax::fmt::addr_text(a);
        match self.owner_of(&a.net, zone) {
            None => self.diags.push(
                Diag::error(
                    code::RESOLVE_ADDRESS_OUTSIDE_ZONE,
                    a.span,
                    format!("`{written}` of `{}` is outside its zone `{zone_name}`", sys.name),
                )
                .related(self.zones[zone.index()].name_span, "the zone")
                .help(format!("use an address inside a `net` of `{zone_name}`, or add a prefix for it there")),
            ),
            Some((owner, net, span)) if owner != zone => {
                let inside_own = self.zones[zone.index()].nets.iter().any(|n| n.contains(&a.net));
                let owner_name = &self.zones[owner.index()].name;
                let (code, msg) = if inside_own {
                    (
                        code::RESOLVE_ADDRESS_IN_OTHER_ZONE,
                        format!("`{written}` of `{}` lies in the more specific zone `{owner_name}`", sys.name),
                    )
                } else {
                    (
                        code::RESOLVE_ADDRESS_OUTSIDE_ZONE,
                        format!(
                            "`{written}` of `{}` is outside its zone `{zone_name}` (it belongs to `{owner_name}`)",
                            sys.name
                        ),
                    )
                };
                self.diags.push(
                    Diag::error(code, a.span, msg)
                        .related(span, format!("`{net}` of zone `{owner_name}`"))
                        .help(format!("an address belongs to the zone with the longest matching prefix: move `{}` to zone `{owner_name}` or change the address", sys.name)),
                );
            }
            Some(_) => {}
        }
    }

    pub(super) fn check_address_conflicts(&mut self) {
        let mut first: HashMap<IpNet, SystemId> = HashMap::new();
        let mut found = Vec::new();
        for (i, sys) in self.systems.iter().enumerate() {
            for a in &sys.addresses {
                match first.get(a) {
                    Some(other) if other.index() != i => found.push((i, *other, *a)),
                    Some(_) => {}
                    None => {
                        first.insert(*a, SystemId::from_index(i));
                    }
                }
            }
        }
        for (i, other, a) in found {
            let sys = &self.systems[i];
            let o = &self.systems[other.index()];
            let here = self.address_spans.get(&(SystemId::from_index(i), a)).copied().unwrap_or(sys.name_span);
            let there = self.address_spans.get(&(other, a)).copied().unwrap_or(o.name_span);
            self.diags.push(
                Diag::error(
                    code::RESOLVE_ADDRESS_CONFLICT,
                    here,
                    format!("`{}` and `{}` both claim `{}`", o.name, sys.name, host_text(&a)),
                )
                .label(format!("claimed by `{}`", sys.name))
                .related(there, format!("claimed by `{}`", o.name))
                .help("an address identifies one system; a shared virtual address belongs to one system declaration"),
            );
        }
    }

    /// DESIGN.md §4a: a system's range must mean what devices do with it. A range that
    /// contains another zone's prefix or another system's address would give those packets
    /// two owners (the proof says one, longest-prefix routing another), so it is refused,
    /// naming both. Prefixes are nested or disjoint, so one sweep over the sorted prefixes
    /// with a stack of open ranges finds every containment: O(n log n).
    pub(super) fn check_address_overlaps(&mut self) {
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum Owner {
            System(SystemId),
            Zone(ZoneId),
        }
        let key = |n: &IpNet| match n {
            IpNet::V4(x) => (0u8, u128::from(u32::from(x.network())), x.prefix_len()),
            IpNet::V6(x) => (1u8, u128::from(x.network()), x.prefix_len()),
        };
        let mut all: Vec<(IpNet, Owner, Span)> = Vec::new();
        for (i, sys) in self.systems.iter().enumerate() {
            let id = SystemId::from_index(i);
            for a in &sys.addresses {
                let span = self.address_spans.get(&(id, *a)).copied().unwrap_or(sys.name_span);
                all.push((*a, Owner::System(id), span));
            }
        }
        all.extend(self.zone_nets.iter().map(|(n, z, s)| (*n, Owner::Zone(*z), *s)));
        all.sort_by_key(|(n, o, _)| (key(n), matches!(o, Owner::System(_))));
        let mut found = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        for (k, (net, owner, _)) in all.iter().enumerate() {
            while open.last().is_some_and(|&o| !all[o].0.contains(net)) {
                open.pop();
            }
            if let Owner::Zone(z) = owner {
                // A zone's prefix inside a system's range of another zone.
                for &o in &open {
                    if let (_, Owner::System(s), _) = all[o]
                        && self.systems[s.index()].zone != *z
                        && all[o].0 != *net
                    {
                        found.push((o, k));
                    }
                }
            } else if let Owner::System(s) = owner {
                // The innermost enclosing system range, if it is another system's.
                if let Some(&o) = open.iter().rev().find(|&&o| matches!(all[o].1, Owner::System(_)))
                    && all[o].1 != Owner::System(*s)
                    && all[o].0 != *net
                {
                    found.push((o, k));
                }
            }
            open.push(k);
        }
        for (outer, inner) in found {
            let (range, Owner::System(s), span) = all[outer] else { continue };
            let sys = &self.systems[s.index()];
            let (net, other, other_span) = all[inner];
            let other_name = match other {
                Owner::System(o) => format!("system `{}`", self.systems[o.index()].name),
                Owner::Zone(z) => format!("zone `{}`", self.zones[z.index()].name),
            };
            self.diags.push(
                Diag::error(
                    code::RESOLVE_ADDRESS_OVERLAP,
                    span,
                    format!("`{range}` of `{}` contains `{}` of {other_name}", sys.name, host_text(&net)),
                )
                .label(format!("`{}`'s range", sys.name))
                .related(other_span, format!("{other_name} claims `{}`", host_text(&net)))
                .help(format!(
                    "an address has one owner: write `{}`'s range as prefixes that stop short of `{}` (the proof and the compiled rules would otherwise disagree about whose those packets are)",
                    sys.name,
                    host_text(&net)
                )),
            );
        }
    }
}
