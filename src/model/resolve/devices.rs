//! Firewalls and switches: target, interfaces, TCAM budget, and the node of a device's
//! own addresses.

use super::*;

impl Resolver {
    pub(super) fn fill_device(&mut self, item: &Item) {
        let Some(id) = Self::item_id(&self.device_names, item, |id| self.devices[id.index()].name_span) else { return };
        let mut seen = Seen::default();
        let mut target = None;
        let mut tcam = None;
        let mut interfaces: Vec<Interface> = Vec::new();
        let mut zone_at: HashMap<ZoneId, (Span, String)> = HashMap::new();
        let mut names_at: HashMap<String, Span> = HashMap::new();
        let mut addresses: Vec<&ast::AddrLit> = Vec::new();
        for p in item.props() {
            match &p.kind {
                PropKind::Target(t) if seen.once(&mut self.diags, "target", p.span) => target = Some(t.node),
                PropKind::Tcam(n) if seen.once(&mut self.diags, "tcam", p.span) => tcam = Some(n.node),
                PropKind::Address(list) => addresses.extend(list.iter()),
                PropKind::Interface { name, zones, .. } => {
                    if let Some(first) = names_at.get(&name.node) {
                        self.diags.push(
                            Diag::error(
                                code::RESOLVE_DUPLICATE_INTERFACE,
                                name.span,
                                format!("interface `{}` is declared twice", name.node),
                            )
                            .label("declared again here")
                            .related(*first, "first declared here")
                            .help("list all zones behind an interface in one `interface NAME zone A, B`"),
                        );
                        continue;
                    }
                    names_at.insert(name.node.clone(), name.span);
                    let mut ids = Vec::new();
                    // Zones named on this interface so far, kept or not.
                    let mut here: HashMap<ZoneId, Span> = HashMap::new();
                    for z in zones {
                        let Some(zid) = self.zone_ref(z) else { continue };
                        if let Some(first) = here.get(&zid) {
                            self.diags.push(
                                Diag::error(
                                    code::RESOLVE_INTERFACE_ZONE_TWICE,
                                    z.span,
                                    format!("zone `{}` is listed twice on interface `{}`", z.name, name.node),
                                )
                                .label("listed again here")
                                .related(*first, "first listed here")
                                .help("remove the repeated zone"),
                            );
                            continue;
                        }
                        here.insert(zid, z.span);
                        if let Some((first, other_if)) = zone_at.get(&zid) {
                            let message =
                                format!("zone `{}` is on two interfaces, `{other_if}` and `{}`", z.name, name.node);
                            self.diags.push(
                                Diag::error(code::RESOLVE_INTERFACE_ZONE_TWICE, z.span, message)
                                    .related(*first, "first placed here")
                                    .help("a device reaches each zone through one interface; remove one of them"),
                            );
                            continue;
                        }
                        zone_at.insert(zid, (z.span, name.node.clone()));
                        ids.push(zid);
                    }
                    interfaces.push(Interface { name: name.node.clone(), zones: ids, span: p.span });
                }
                _ => {}
            }
        }
        let dev = &mut self.devices[id.index()];
        if target.is_none() && !item.damaged {
            let example = if dev.kind == DeviceKind::Firewall { "target nftables" } else { "target cisco-ios" };
            self.diags.push(missing(dev.name_span, item.kind.noun(), &dev.name, "target", example));
        }
        dev.target = target.unwrap_or(Target::Nftables);
        dev.tcam = tcam;
        dev.interfaces = interfaces;
        if !addresses.is_empty() {
            self.device_node(id, &addresses);
        }
    }

    /// The node of a device's own addresses: a system of the zone the first address
    /// belongs to (by longest prefix), checked like a system's addresses, so that a flow
    /// can name the device (management) and the proof sees where that data goes.
    pub(super) fn device_node(&mut self, id: DeviceId, addresses: &[&ast::AddrLit]) {
        let dev = &self.devices[id.index()];
        let Some((zone, _, _)) = self.owner_of(&addresses[0].net, ZoneId(u32::MAX)) else {
            let a = addresses[0];
            self.diags.push(
                Diag::error(
                    code::RESOLVE_ADDRESS_OUTSIDE_ZONE,
                    a.span,
                    format!("`{}` of `{}` lies in no zone", crate::syntax::fmt::addr_text(a), dev.name),
                )
                .help("a device's own address belongs to a zone like a system's: add a `net` that holds it"),
            );
            return;
        };
        let sys = System {
            addresses: addresses.iter().map(|a| a.net).collect(),
            device: Some(id),
            ..System::bare(dev.name.clone(), dev.label.clone(), zone, dev.span, dev.name_span)
        };
        if !self.damaged_zones.contains(&zone) {
            for a in addresses {
                self.check_address(&sys, zone, a);
            }
        }
        let node = SystemId::from_index(self.systems.len());
        for a in addresses {
            self.address_spans.entry((node, a.net)).or_insert(a.span);
        }
        self.zones[zone.index()].systems.push(node);
        self.systems.push(sys);
        self.devices[id.index()].node = Some(node);
    }
}
