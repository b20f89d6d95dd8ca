//! Names to ids, addresses to zones, endpoints to data nodes.
//!
//! Resolution runs even when parsing found errors, so one run reports every independent
//! problem; items the parser marked damaged are resolved as far as they go, without
//! complaints about what is missing from them.

mod addresses;
mod devices;
mod endpoints;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::IpNet;
use petgraph::graph::DiGraph;

use super::builtin::{BUILTINS, ICMP_TYPES, ICMPV6_TYPES};
use super::*;
use crate::diagnostics::{Diag, Sources, Span, code, did_you_mean};
use crate::syntax::Parsed;
use crate::syntax::ast::{self, DeclKind, Header, IcmpType, Item, PropKind, ServiceItem};
use crate::syntax::fmt::item_text;

/// Resolution failed: every diagnostic, syntax and resolution alike, sorted by position.
#[derive(Debug)]
pub struct Errors {
    pub sources: Sources,
    pub diags: Vec<Diag>,
}

/// Diagnostics reported by one resolution (syntax errors included), first in source order.
pub(crate) const MAX_REPORTED_DIAGS: usize = 200;

/// Resolve a parsed policy into a [`Model`], or report every error found.
pub fn resolve(parsed: Parsed) -> Result<Model, Errors> {
    let Parsed { sources, files, diags } = parsed;
    let items: Vec<&Item> = files.iter().flat_map(|f| f.items.iter()).collect();
    let mut r = Resolver { diags, ..Resolver::default() };
    r.declare(&items);
    r.fill(&items);
    let mut diags = r.diags;
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup();
    // Bounded: rendering costs errors × file size (100,000 duplicate names took minutes).
    crate::syntax::cap_diags(&mut diags, MAX_REPORTED_DIAGS);
    if diags.iter().any(|d| d.severity == crate::diagnostics::Severity::Error) {
        return Err(Errors { sources, diags });
    }
    let mut model = Model {
        sources,
        meta: r.meta,
        classes: r.classes,
        zones: r.zones,
        services: r.services,
        systems: r.systems,
        groups: r.groups,
        flows: r.flows,
        devices: r.devices,
        graph: DiGraph::new(),
        node_index: BTreeMap::new(),
        flow_index: Vec::new(),
        flow_ids: std::sync::OnceLock::new(),
    };
    build_graph(&mut model);
    Ok(model)
}

fn build_graph(model: &mut Model) {
    let mut graph = DiGraph::with_capacity(model.systems.len() + model.zones.len() + model.flows.len(), 0);
    let mut node_index = BTreeMap::new();
    // INVARIANT: data nodes come first, systems then zones in id order, so that a node's
    // petgraph index is computable (`verify::taint::dense`) without a lookup.
    for node in model.nodes().collect::<Vec<_>>() {
        node_index.insert(node, graph.add_node(GraphNode::Data(node)));
    }
    let mut flow_index = Vec::with_capacity(model.flows.len());
    for (i, flow) in model.flows.iter().enumerate() {
        let hub = graph.add_node(GraphNode::Flow(FlowId::from_index(i)));
        for n in &flow.from.nodes {
            if let Some(&ix) = node_index.get(n) {
                graph.add_edge(ix, hub, ());
            }
        }
        for n in &flow.to.nodes {
            if let Some(&ix) = node_index.get(n) {
                graph.add_edge(hub, ix, ());
            }
        }
        flow_index.push(hub);
    }
    model.graph = graph;
    model.node_index = node_index;
    model.flow_index = flow_index;
}

#[derive(Default)]
struct Resolver {
    diags: Vec<Diag>,
    meta: PolicyMeta,
    classes: Vec<Class>,
    zones: Vec<Zone>,
    services: Vec<Service>,
    systems: Vec<System>,
    groups: Vec<Group>,
    flows: Vec<Flow>,
    devices: Vec<Device>,
    class_names: HashMap<String, ClassId>,
    zone_names: HashMap<String, ZoneId>,
    service_names: HashMap<String, ServiceId>,
    system_names: HashMap<String, SystemId>,
    group_names: HashMap<String, GroupId>,
    device_names: HashMap<String, DeviceId>,
    /// Zones' prefixes with the span that declared them, for longest-prefix match.
    zone_nets: Vec<(IpNet, ZoneId, Span)>,
    /// Zone of each zone item index (items are visited in the same order in both passes).
    group_members_raw: Vec<Vec<ast::Ident>>,
    zone_nodes: Vec<Vec<Node>>,
    /// Where each system wrote each of its addresses, to point at a conflict.
    address_spans: HashMap<(SystemId, IpNet), Span>,
    /// Zones the parser could not read whole: their prefixes may be missing, so the
    /// addresses of their systems are not checked against them.
    damaged_zones: BTreeSet<ZoneId>,
    group_nodes: Vec<Vec<Node>>,
}

/// Tracks single-valued properties of one item to report repeats.
#[derive(Default)]
struct Seen(HashMap<&'static str, Span>);

impl Seen {
    fn once(&mut self, diags: &mut Vec<Diag>, keyword: &'static str, span: Span) -> bool {
        if let Some(first) = self.0.get(keyword) {
            diags.push(
                Diag::error(code::RESOLVE_DUPLICATE_PROPERTY, span, format!("`{keyword}` is given twice"))
                    .label("repeated here")
                    .related(*first, "first given here")
                    .help(format!("a declaration has one `{keyword}`; remove one of them")),
            );
            false
        } else {
            self.0.insert(keyword, span);
            true
        }
    }
}

fn empty_reason(diags: &mut Vec<Diag>, s: &ast::Str, what: &str) {
    if s.value.trim().is_empty() {
        diags.push(
            Diag::error(code::RESOLVE_EMPTY_REASON, s.span, format!("the {what} is empty"))
                .help(format!("write the {what}: it is what an auditor reads")),
        );
    }
}

impl Resolver {
    // ---- pass 1: names ---------------------------------------------------------

    fn declare(&mut self, items: &[&Item]) {
        for b in BUILTINS {
            let id = ServiceId::from_index(self.services.len());
            self.services.push(Service {
                name: b.name.to_string(),
                label: Some(b.label.to_string()),
                matches: b.matches.to_vec(),
                encrypted: b.encrypted,
                span: None,
            });
            self.service_names.insert(b.name.to_string(), id);
        }
        let mut user_services: HashMap<String, Span> = HashMap::new();
        let mut policy_span: Option<Span> = None;
        for item in items {
            let label = item.label().map(|l| l.value.clone());
            if item.kind == DeclKind::Policy {
                if let Some(first) = policy_span {
                    self.diags.push(
                        Diag::error(code::RESOLVE_NO_POLICY, item.span, "the `policy` header is given twice")
                            .label("second header")
                            .related(first, "first header here")
                            .help("merge the two headers into one"),
                    );
                } else {
                    policy_span = Some(item.span);
                    self.meta.name = label;
                    self.meta.span = Some(item.span);
                }
                continue;
            }
            let Some(name) = item.name() else { continue };
            let first = match item.kind {
                DeclKind::Class => {
                    if name.name == "none" {
                        self.diags.push(
                            Diag::error(code::RESOLVE_RESERVED_NAME, name.span, "`none` cannot name a data class")
                                .help("`carries none` means no class at all; choose another name"),
                        );
                    }
                    first_span(&self.class_names, &name.name, |id| self.classes[id.index()].name_span).or_else(|| {
                        self.class_names.insert(name.name.clone(), ClassId::from_index(self.classes.len()));
                        self.classes.push(Class {
                            name: name.name.clone(),
                            label,
                            special: false,
                            confinement: Confinement::None,
                            span: item.span,
                            name_span: name.span,
                        });
                        None
                    })
                }
                DeclKind::Zone => first_span(&self.zone_names, &name.name, |id| self.zones[id.index()].name_span)
                    .or_else(|| {
                        self.zone_names.insert(name.name.clone(), ZoneId::from_index(self.zones.len()));
                        self.zones.push(Zone {
                            name: name.name.clone(),
                            label,
                            trust: Trust::Internal,
                            nets: Vec::new(),
                            systems: Vec::new(),
                            span: item.span,
                            name_span: name.span,
                        });
                        None
                    }),
                DeclKind::Service => {
                    if let Some(first) = user_services.get(&name.name) {
                        Some(*first)
                    } else {
                        user_services.insert(name.name.clone(), name.span);
                        let service = Service {
                            name: name.name.clone(),
                            label,
                            matches: Vec::new(),
                            encrypted: false,
                            span: Some(item.span),
                        };
                        // A user definition replaces a built-in of the same name.
                        match self.service_names.get(&name.name) {
                            Some(id) => self.services[id.index()] = service,
                            None => {
                                self.service_names
                                    .insert(name.name.clone(), ServiceId::from_index(self.services.len()));
                                self.services.push(service);
                            }
                        }
                        None
                    }
                }
                DeclKind::System => first_span(&self.system_names, &name.name, |id| self.systems[id.index()].name_span)
                    .or_else(|| {
                        self.system_names.insert(name.name.clone(), SystemId::from_index(self.systems.len()));
                        self.systems.push(System::bare(
                            name.name.clone(),
                            label,
                            ZoneId(u32::MAX),
                            item.span,
                            name.span,
                        ));
                        None
                    }),
                DeclKind::Group => first_span(&self.group_names, &name.name, |id| self.groups[id.index()].name_span)
                    .or_else(|| {
                        self.group_names.insert(name.name.clone(), GroupId::from_index(self.groups.len()));
                        self.groups.push(Group {
                            name: name.name.clone(),
                            label,
                            members: Vec::new(),
                            span: item.span,
                            name_span: name.span,
                        });
                        self.group_members_raw.push(Vec::new());
                        None
                    }),
                DeclKind::Firewall | DeclKind::Switch => first_span(&self.device_names, &name.name, |id| {
                    self.devices[id.index()].name_span
                })
                .or_else(|| {
                    self.device_names.insert(name.name.clone(), DeviceId::from_index(self.devices.len()));
                    self.devices.push(Device {
                        name: name.name.clone(),
                        label,
                        kind: if item.kind == DeclKind::Firewall { DeviceKind::Firewall } else { DeviceKind::Switch },
                        target: Target::Nftables,
                        interfaces: Vec::new(),
                        tcam: None,
                        node: None,
                        span: item.span,
                        name_span: name.span,
                    });
                    None
                }),
                DeclKind::Policy | DeclKind::Flow => None,
            };
            if let Some(first) = first {
                self.diags.push(
                    Diag::error(
                        code::RESOLVE_DUPLICATE,
                        name.span,
                        format!("the {} `{}` is defined twice", item.kind.noun(), name.name),
                    )
                    .label("defined again here")
                    .related(first, "first defined here")
                    .help(format!("names of each kind are unique; rename or remove one `{}`", name.name)),
                );
            }
        }
        // Names shared between endpoint kinds would make a flow's endpoint ambiguous.
        for (name, sys) in &self.system_names {
            let mut others = Vec::new();
            if let Some(z) = self.zone_names.get(name) {
                others.push((self.zones[z.index()].name_span, "zone"));
            }
            if let Some(g) = self.group_names.get(name) {
                others.push((self.groups[g.index()].name_span, "group"));
            }
            if let Some(d) = self.device_names.get(name) {
                others.push((self.devices[d.index()].name_span, "device"));
            }
            for (span, kind) in others {
                self.diags.push(
                    Diag::error(
                        code::RESOLVE_AMBIGUOUS,
                        self.systems[sys.index()].name_span,
                        format!("`{name}` names both a system and a {kind}"),
                    )
                    .related(span, format!("the {kind}"))
                    .help(if kind == "device" {
                        "a system and a device share one namespace (a bundle names its files, tables and checks by \
                         them); name the firewall's own host `NAME-host`, say"
                    } else {
                        "systems, zones and groups are all flow endpoints, so their names must differ"
                    }),
                );
            }
        }
        for (name, z) in &self.zone_names {
            if let Some(g) = self.group_names.get(name) {
                self.diags.push(
                    Diag::error(
                        code::RESOLVE_AMBIGUOUS,
                        self.zones[z.index()].name_span,
                        format!("`{name}` names both a zone and a group"),
                    )
                    .related(self.groups[g.index()].name_span, "the group")
                    .help("systems, zones and groups are all flow endpoints, so their names must differ"),
                );
            }
        }
    }

    // ---- pass 2: contents ------------------------------------------------------

    fn fill(&mut self, items: &[&Item]) {
        // Order matters: zones before systems (addresses), systems before groups and flows.
        let of = |k: DeclKind| items.iter().copied().filter(move |i| i.kind == k);
        for item in of(DeclKind::Policy).take(1) {
            self.fill_policy(item);
        }
        for item in of(DeclKind::Zone) {
            self.fill_zone(item);
        }
        self.check_zone_prefixes();
        for item in of(DeclKind::Class) {
            self.fill_class(item);
        }
        for item in of(DeclKind::Service) {
            self.fill_service(item);
        }
        for item in of(DeclKind::System) {
            self.fill_system(item);
        }
        // Devices before the address checks: a device's own addresses are a node like a
        // system's, and may not overlap one either.
        for item in of(DeclKind::Firewall).chain(of(DeclKind::Switch)) {
            self.fill_device(item);
        }
        self.check_address_conflicts();
        self.check_address_overlaps();
        for zone in &mut self.zones {
            zone.systems.sort();
        }
        self.zone_nodes = (0..self.zones.len())
            .map(|z| {
                let zone = &self.zones[z];
                // A device's own node is reached by the flows that name it, never through
                // its zone (DESIGN.md §4a: a device accepts only the flows that name it).
                let mut nodes: Vec<Node> = zone
                    .systems
                    .iter()
                    .filter(|s| !self.systems[s.index()].is_saas() && self.systems[s.index()].device.is_none())
                    .map(|s| Node::System(*s))
                    .collect();
                nodes.push(Node::ZoneRest(ZoneId::from_index(z)));
                nodes
            })
            .collect();
        for item in of(DeclKind::Group) {
            self.fill_group(item);
        }
        self.expand_groups();
        for item in of(DeclKind::Flow) {
            self.fill_flow(item);
        }
    }

    fn fill_policy(&mut self, item: &Item) {
        let mut seen = Seen::default();
        for p in item.props() {
            match &p.kind {
                PropKind::Owner(s) if seen.once(&mut self.diags, "owner", p.span) => {
                    self.meta.owner = Some(s.value.clone())
                }
                PropKind::Contact(s) if seen.once(&mut self.diags, "contact", p.span) => {
                    self.meta.contact = Some(s.value.clone())
                }
                PropKind::Description(s) if seen.once(&mut self.diags, "description", p.span) => {
                    self.meta.description = Some(s.value.clone())
                }
                _ => {}
            }
        }
    }

    fn item_id<T: Copy>(map: &HashMap<String, T>, item: &Item, expected_span: impl Fn(T) -> Span) -> Option<T> {
        // Only the item that won the name (the first definition) is filled in.
        let name = item.name()?;
        let id = *map.get(&name.name)?;
        (expected_span(id) == name.span).then_some(id)
    }

    fn fill_zone(&mut self, item: &Item) {
        let Some(id) = Self::item_id(&self.zone_names, item, |id| self.zones[id.index()].name_span) else { return };
        let mut seen = Seen::default();
        let mut trust = None;
        let mut nets = Vec::new();
        for p in item.props() {
            match &p.kind {
                PropKind::Trust(t) if seen.once(&mut self.diags, "trust", p.span) => trust = Some(t.node),
                PropKind::Net(list) => {
                    for a in list {
                        if a.net.trunc() != a.net {
                            self.diags.push(
                                Diag::error(
                                    code::RESOLVE_HOST_BITS,
                                    a.span,
                                    format!("prefix `{}` has host bits set", a.net),
                                )
                                .help(format!("did you mean `{}`?", a.net.trunc())),
                            );
                        }
                        nets.push(a.net.trunc());
                        self.zone_nets.push((a.net.trunc(), id, a.span));
                    }
                }
                _ => {}
            }
        }
        if item.damaged {
            self.damaged_zones.insert(id);
        }
        let zone = &mut self.zones[id.index()];
        let name_span = zone.name_span;
        if !item.damaged {
            if trust.is_none() {
                self.diags.push(missing(
                    name_span,
                    "zone",
                    &zone.name,
                    "trust",
                    "trust closed|internal|dmz|partner|external",
                ));
            }
            if nets.is_empty() {
                self.diags.push(missing(name_span, "zone", &zone.name, "net", "net 10.20.10.0/24, fd20:20:10::/64"));
            }
        }
        zone.trust = trust.unwrap_or(Trust::Internal);
        zone.nets = nets;
    }

    fn fill_class(&mut self, item: &Item) {
        let Some(id) = Self::item_id(&self.class_names, item, |id| self.classes[id.index()].name_span) else { return };
        let mut seen = Seen::default();
        let mut special = false;
        let mut confinement = Confinement::None;
        for p in item.props() {
            match &p.kind {
                PropKind::Special if seen.once(&mut self.diags, "special", p.span) => special = true,
                PropKind::Confined { to } if seen.once(&mut self.diags, "confined", p.span) => {
                    confinement = if to.is_empty() {
                        Confinement::Closed
                    } else {
                        let zones: Vec<ZoneId> = to.iter().filter_map(|z| self.zone_ref(z)).collect();
                        Confinement::To(zones)
                    };
                }
                _ => {}
            }
        }
        let class = &mut self.classes[id.index()];
        class.special = special;
        class.confinement = confinement;
    }

    fn fill_service(&mut self, item: &Item) {
        let Some(name) = item.name() else { return };
        let Some(&id) = self.service_names.get(&name.name) else { return };
        if self.services[id.index()].span != Some(item.span) {
            return;
        }
        let mut seen = Seen::default();
        let mut matches = Vec::new();
        let mut encrypted = false;
        for p in item.props() {
            match &p.kind {
                PropKind::Encrypted if seen.once(&mut self.diags, "encrypted", p.span) => encrypted = true,
                PropKind::Items(list) => {
                    for it in list {
                        if let Some(m) = self.service_match(&it.node, it.span) {
                            matches.push(m);
                        }
                    }
                }
                _ => {}
            }
        }
        let has_items = item.props().iter().any(|p| matches!(p.kind, PropKind::Items(_)));
        if !has_items && !item.damaged {
            self.diags.push(
                Diag::error(
                    code::RESOLVE_MISSING_PROPERTY,
                    name.span,
                    format!("the service `{}` lists no ports or protocols", name.name),
                )
                .help("add service items, for example `tcp/443` or `udp/53, tcp/53`"),
            );
        }
        matches.sort();
        matches.dedup();
        let service = &mut self.services[id.index()];
        service.matches = matches;
        service.encrypted = encrypted;
    }

    fn service_match(&mut self, item: &ServiceItem, span: Span) -> Option<Match> {
        let ports = |diags: &mut Vec<Diag>, p: &ast::PortRange| -> Option<(u16, u16)> {
            if p.lo == 0 || p.hi == 0 {
                diags.push(
                    Diag::error(code::RESOLVE_PORT_ZERO, span, "port 0 is not a port a service can use")
                        .help("ports are 1 to 65535; use `any` or a range such as `tcp/1-65535` for every port"),
                );
                return None;
            }
            if p.lo > 65535 || p.hi > 65535 {
                diags.push(
                    Diag::error(code::RESOLVE_PORT_RANGE, span, format!("port {} is above 65535", p.lo.max(p.hi)))
                        .help("ports are 1 to 65535"),
                );
                return None;
            }
            if p.lo > p.hi {
                diags.push(
                    Diag::error(code::RESOLVE_PORT_RANGE, span, format!("port range {}-{} runs backwards", p.lo, p.hi))
                        .help(format!("write the low port first: `{}-{}`", p.hi, p.lo)),
                );
                return None;
            }
            Some((u16::try_from(p.lo).ok()?, u16::try_from(p.hi).ok()?))
        };
        let icmp = |diags: &mut Vec<Diag>,
                    t: &Option<IcmpType>,
                    table: &[(&str, u8)],
                    family: &str|
         -> Option<Option<u8>> {
            match t {
                None => Some(None),
                Some(IcmpType::Number(n)) => match u8::try_from(*n) {
                    Ok(v) => Some(Some(v)),
                    Err(_) => {
                        diags.push(
                            Diag::error(code::RESOLVE_INVALID_ICMP, span, format!("{family} type {n} is above 255"))
                                .help("ICMP types are 0 to 255"),
                        );
                        None
                    }
                },
                Some(IcmpType::Named(name)) => match table.iter().find(|(n, _)| n == name) {
                    Some((_, v)) => Some(Some(*v)),
                    None => {
                        let mut hint = did_you_mean(name, table.iter().map(|(n, _)| *n));
                        // ICMPv6 prefixes some names: `redirect` is `nd-redirect` there.
                        if let (true, Some((full, _))) =
                            (hint.is_empty(), table.iter().find(|(n, _)| n.ends_with(&format!("-{name}"))))
                        {
                            hint = format!("did you mean `{full}`?");
                        }
                        diags.push(
                            Diag::error(code::RESOLVE_INVALID_ICMP, span, format!("unknown {family} type `{name}`"))
                                .help(if hint.is_empty() { format!("use a number or one of the {family} type names nft knows, such as `echo-request`") } else { hint }),
                        );
                        None
                    }
                },
            }
        };
        let d = &mut self.diags;
        Some(match item {
            ServiceItem::Tcp(p) => {
                let (lo, hi) = ports(d, p)?;
                Match::Tcp { lo, hi }
            }
            ServiceItem::Udp(p) => {
                let (lo, hi) = ports(d, p)?;
                Match::Udp { lo, hi }
            }
            ServiceItem::Icmp(t) => Match::Icmp(icmp(d, t, ICMP_TYPES, "ICMP")?),
            ServiceItem::Icmpv6(t) => Match::Icmpv6(icmp(d, t, ICMPV6_TYPES, "ICMPv6")?),
            ServiceItem::Proto(n) => match u8::try_from(*n) {
                Ok(v) => Match::Proto(v),
                Err(_) => {
                    d.push(
                        Diag::error(code::RESOLVE_INVALID_PROTOCOL, span, format!("protocol number {n} is above 255"))
                            .help("IP protocol numbers are 0 to 255"),
                    );
                    return None;
                }
            },
            ServiceItem::Any => Match::Any,
        })
    }

    fn fill_system(&mut self, item: &Item) {
        let Some(id) = Self::item_id(&self.system_names, item, |id| self.systems[id.index()].name_span) else { return };
        let mut seen = Seen::default();
        let mut sys = self.systems[id.index()].clone();
        let mut zone_decl: Option<(ZoneId, Span)> = None;
        let mut addresses: Vec<&ast::AddrLit> = Vec::new();
        let mut saas_props: Vec<(Span, &str)> = Vec::new();
        for p in item.props() {
            match &p.kind {
                PropKind::Zone(z) if seen.once(&mut self.diags, "zone", p.span) => {
                    zone_decl = self.zone_ref(z).map(|id| (id, z.span));
                    if zone_decl.is_none() {
                        sys.zone = ZoneId(u32::MAX - 1); // unknown, already reported
                    }
                }
                PropKind::Address(list) => addresses.extend(list.iter()),
                PropKind::Platform(v) if seen.once(&mut self.diags, "platform", p.span) => sys.platform = Some(v.node),
                PropKind::Holds(list) => sys.holds.extend(list.iter().filter_map(|c| self.class_ref(c))),
                PropKind::Role(v) if seen.once(&mut self.diags, "role", p.span) => sys.role = Some(v.node),
                PropKind::Owner(s) if seen.once(&mut self.diags, "owner", p.span) => sys.owner = Some(s.value.clone()),
                PropKind::Vendor(s) if seen.once(&mut self.diags, "vendor", p.span) => {
                    sys.vendor = Some(s.value.clone());
                    saas_props.push((p.span, "vendor"));
                }
                PropKind::Dpa(s) if seen.once(&mut self.diags, "dpa", p.span) => {
                    empty_reason(&mut self.diags, s, "data processing agreement reference");
                    sys.dpa = Some(s.value.clone());
                    saas_props.push((p.span, "dpa"));
                }
                PropKind::Region(r) if seen.once(&mut self.diags, "region", p.span) => {
                    sys.region = Some(r.node.clone());
                    saas_props.push((p.span, "region"));
                }
                PropKind::Auth(a) if seen.once(&mut self.diags, "auth", p.span) => {
                    sys.auth = Some(a.node);
                    saas_props.push((p.span, "auth"));
                }
                PropKind::Allow { lint, because, owner, until } => {
                    if let Some(a) = self.allow(lint, because, owner.as_ref(), until.as_ref()) {
                        sys.allows.push(a);
                    }
                }
                _ => {}
            }
        }
        sys.holds.sort();
        sys.holds.dedup();
        if !sys.is_saas() {
            for (span, what) in saas_props {
                self.diags.push(
                    Diag::error(code::RESOLVE_SAAS_PROPERTY, span, format!("`{what}` is for SaaS systems, and `{}` is not one", sys.name))
                        .help("vendor, dpa, region and auth describe a cloud service's safeguards: add `platform saas` or remove the property"),
                );
            }
        }
        match zone_decl {
            Some((zone, _)) => {
                sys.zone = zone;
                self.zones[zone.index()].systems.push(id);
                if !self.damaged_zones.contains(&zone) {
                    for a in &addresses {
                        self.check_address(&sys, zone, a);
                    }
                }
            }
            None => {
                if !item.damaged && !seen.0.contains_key("zone") {
                    self.diags.push(missing(sys.name_span, "system", &sys.name, "zone", "zone sikker-srv"));
                }
            }
        }
        for a in &addresses {
            self.address_spans.entry((id, a.net)).or_insert(a.span);
        }
        sys.addresses = addresses.iter().map(|a| a.net).collect();
        self.systems[id.index()] = sys;
    }

    fn allow(
        &mut self,
        lint: &ast::Ident,
        because: &ast::Str,
        owner: Option<&ast::Str>,
        until: Option<&ast::Spanned<crate::syntax::date::Date>>,
    ) -> Option<Allow> {
        empty_reason(&mut self.diags, because, "reason for the exception");
        if let Some(o) = owner {
            empty_reason(&mut self.diags, o, "owner of the exception");
        }
        if crate::diagnostics::Lint::named(&lint.name).is_none() {
            let hint = did_you_mean(&lint.name, crate::diagnostics::Lint::names());
            self.diags.push(
                Diag::error(code::RESOLVE_UNKNOWN_LINT, lint.span, format!("unknown lint `{}`", lint.name)).help(
                    if hint.is_empty() {
                        format!("lints are {}", crate::diagnostics::Lint::names().collect::<Vec<_>>().join(", "))
                    } else {
                        hint
                    },
                ),
            );
            return None;
        }
        let end = [Some(because.span), owner.map(|o| o.span), until.map(|u| u.span)]
            .into_iter()
            .flatten()
            .max_by_key(|s| s.end)
            .unwrap_or(because.span);
        Some(Allow {
            lint: lint.name.clone(),
            because: because.value.clone(),
            owner: owner.map(|o| o.value.clone()),
            until: until.map(|u| u.node),
            span: lint.span.to(end),
        })
    }

    fn fill_flow(&mut self, item: &Item) {
        let Header::Flow { from, to, services, description } = &item.header else { return };
        empty_reason(&mut self.diags, description, "flow's description (its documented need)");
        let from_refs: Vec<EndpointRef> = from.names.iter().filter_map(|n| self.endpoint_ref(n)).collect();
        let to_refs: Vec<EndpointRef> = to.names.iter().filter_map(|n| self.endpoint_ref(n)).collect();
        let mut service_ids = Vec::new();
        for s in services {
            match s {
                ast::ServiceRef::Named(n) => match self.service_names.get(&n.name) {
                    Some(id) => service_ids.push(*id),
                    None => {
                        let hint = did_you_mean(&n.name, self.services.iter().map(|s| s.name.as_str()));
                        self.diags.push(
                            Diag::error(code::RESOLVE_UNKNOWN_SERVICE, n.span, format!("unknown service `{}`", n.name))
                                .help(if hint.is_empty() { "declare it with `service NAME { tcp/PORT }`, or write the item inline, e.g. `tcp/8443`".to_string() } else { hint }),
                        );
                    }
                },
                ast::ServiceRef::Inline(it) => {
                    let name = item_text(&it.node);
                    if let Some(id) = self.service_names.get(&name) {
                        service_ids.push(*id);
                    } else if let Some(m) = self.service_match(&it.node, it.span) {
                        let id = ServiceId::from_index(self.services.len());
                        self.services.push(Service {
                            name: name.clone(),
                            label: None,
                            matches: vec![m],
                            encrypted: false,
                            span: Some(it.span),
                        });
                        self.service_names.insert(name, id);
                        service_ids.push(id);
                    }
                }
            }
        }
        let mut flow = Flow {
            from: Endpoint { nodes: self.expand(&from_refs), refs: from_refs, span: from.span },
            to: Endpoint { nodes: self.expand(&to_refs), refs: to_refs, span: to.span },
            services: service_ids,
            description: description.value.clone(),
            carries: None,
            exports: Vec::new(),
            require_mfa: false,
            require_encrypted: false,
            encrypted_payload: None,
            allows: Vec::new(),
            span: item.span,
            header_span: from.span.to(description.span),
        };
        let mut seen = Seen::default();
        for p in item.props() {
            match &p.kind {
                PropKind::Carries { classes, because, .. } if seen.once(&mut self.diags, "carries", p.span) => {
                    empty_reason(&mut self.diags, because, "justification of `carries`");
                    let mut ids: Vec<ClassId> = classes.iter().filter_map(|c| self.class_ref(c)).collect();
                    ids.sort();
                    ids.dedup();
                    flow.carries = Some(Carries { classes: ids, because: because.value.clone(), span: p.span });
                }
                PropKind::Export { class, fetched, basis } => {
                    empty_reason(&mut self.diags, basis, "legal basis of the export");
                    if let Some(c) = self.class_ref(class) {
                        flow.exports.push(Export {
                            class: c,
                            fetched: *fetched,
                            basis: basis.value.clone(),
                            span: p.span,
                        });
                    }
                }
                PropKind::RequireMfa if seen.once(&mut self.diags, "require mfa", p.span) => flow.require_mfa = true,
                PropKind::RequireEncrypted if seen.once(&mut self.diags, "require encrypted", p.span) => {
                    flow.require_encrypted = true
                }
                PropKind::EncryptedPayload(s) if seen.once(&mut self.diags, "encrypted payload", p.span) => {
                    empty_reason(&mut self.diags, s, "description of the payload encryption");
                    flow.encrypted_payload = Some(s.value.clone());
                }
                PropKind::Allow { lint, because, owner, until } => {
                    if let Some(a) = self.allow(lint, because, owner.as_ref(), until.as_ref()) {
                        flow.allows.push(a);
                    }
                }
                _ => {}
            }
        }
        self.flows.push(flow);
    }
}

/// An address as people write it: `10.0.0.1`, not `10.0.0.1/32`.
fn host_text(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() { net.addr().to_string() } else { net.to_string() }
}

fn first_span<T: Copy>(map: &HashMap<String, T>, name: &str, span_of: impl Fn(T) -> Span) -> Option<Span> {
    map.get(name).map(|id| span_of(*id))
}

fn missing(span: Span, noun: &str, name: &str, prop: &str, example: &str) -> Diag {
    Diag::error(code::RESOLVE_MISSING_PROPERTY, span, format!("the {noun} `{name}` has no `{prop}`"))
        .help(format!("add it, for example `{example}`"))
}
