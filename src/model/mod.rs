//! Stage 2: the resolved model (DESIGN.md §3).
//!
//! Only [`resolve()`] builds a [`Model`]: every name is an id, every address belongs to
//! exactly one zone, every endpoint is expanded. The data-flow graph is a petgraph
//! incidence graph: data nodes (systems and each zone's remaining address space) and one
//! hub node per flow, with an edge from every node the flow's FROM side expands to into
//! the hub, and from the hub to every node of its TO side. A flow is one hyperedge, so the
//! graph stays linear in the size of the policy even when flows name whole zones.

mod builtin;
mod points;
pub(crate) mod resolve;

use std::collections::BTreeMap;

use ipnet::IpNet;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostics::{Sources, Span};
pub use crate::syntax::ast::{Auth, Platform, Region, Role, Target, Trust};
pub use points::{AclOptions, EnforcementPoint, Enforcer, HostOrDevice};
pub use resolve::resolve;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
            pub fn from_index(i: usize) -> Self { Self(u32::try_from(i).unwrap_or(u32::MAX)) }
        }
    )*};
}
id_type!(ClassId, ZoneId, ServiceId, SystemId, GroupId, FlowId, DeviceId);

/// A place data can be: a system, or the part of a zone's space no system declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    System(SystemId),
    ZoneRest(ZoneId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GraphNode {
    Data(Node),
    Flow(FlowId),
}

#[derive(Clone, Debug, Default)]
pub struct PolicyMeta {
    pub name: Option<String>,
    pub owner: Option<String>,
    pub contact: Option<String>,
    pub description: Option<String>,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confinement {
    /// Tracked, no obligation.
    None,
    /// Allowed in every zone of trust `closed`.
    Closed,
    /// Allowed in the listed zones.
    To(Vec<ZoneId>),
}

#[derive(Clone, Debug)]
pub struct Class {
    pub name: String,
    pub label: Option<String>,
    pub special: bool,
    pub confinement: Confinement,
    pub span: Span,
    pub name_span: Span,
}

impl Class {
    pub fn confined(&self) -> bool {
        self.confinement != Confinement::None
    }
}

#[derive(Clone, Debug)]
pub struct Zone {
    pub name: String,
    pub label: Option<String>,
    pub trust: Trust,
    pub nets: Vec<IpNet>,
    /// Systems whose `zone` is this one, sorted.
    pub systems: Vec<SystemId>,
    pub span: Span,
    pub name_span: Span,
}

/// One resolved service item: what packets it matches (layer 4 and above).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Match {
    Tcp {
        lo: u16,
        hi: u16,
    },
    Udp {
        lo: u16,
        hi: u16,
    },
    /// ICMP type, or every type.
    Icmp(Option<u8>),
    Icmpv6(Option<u8>),
    Proto(u8),
    Any,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub label: Option<String>,
    pub matches: Vec<Match>,
    pub encrypted: bool,
    /// `None` for a built-in service.
    pub span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Allow {
    pub lint: String,
    pub because: String,
    /// Who answers for the exception (`owner "…"`).
    pub owner: Option<String>,
    /// The last day the exception holds (`until 2027-06-30`).
    pub until: Option<crate::syntax::date::Date>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct System {
    pub name: String,
    pub label: Option<String>,
    pub zone: ZoneId,
    pub addresses: Vec<IpNet>,
    pub platform: Option<Platform>,
    pub holds: Vec<ClassId>,
    pub role: Option<Role>,
    pub owner: Option<String>,
    pub vendor: Option<String>,
    pub dpa: Option<String>,
    pub region: Option<Region>,
    pub auth: Option<Auth>,
    pub allows: Vec<Allow>,
    /// `Some` for the node standing for a firewall's or switch's own addresses (its
    /// management plane, DESIGN.md §4a "devices guard themselves"): declared with the
    /// device's `address`, named in flows by the device's name, never in `system_names`.
    pub device: Option<DeviceId>,
    pub span: Span,
    pub name_span: Span,
}

impl System {
    /// A system with a name and a zone and nothing else yet: resolution fills the rest.
    pub(crate) fn bare(name: String, label: Option<String>, zone: ZoneId, span: Span, name_span: Span) -> System {
        System {
            name,
            label,
            zone,
            addresses: Vec::new(),
            platform: None,
            holds: Vec::new(),
            role: None,
            owner: None,
            vendor: None,
            dpa: None,
            region: None,
            auth: None,
            allows: Vec::new(),
            device: None,
            span,
            name_span,
        }
    }

    pub fn is_saas(&self) -> bool {
        self.platform == Some(Platform::Saas)
    }

    /// SaaS with vendor, data processing agreement, EEA storage and authentication.
    pub(crate) fn saas_safeguarded(&self) -> bool {
        self.is_saas()
            && self.vendor.is_some()
            && self.dpa.is_some()
            && self.region == Some(Region::Eea)
            && self.auth.is_some()
    }
}

/// What an endpoint or group member names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointRef {
    System(SystemId),
    Zone(ZoneId),
    Group(GroupId),
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub label: Option<String>,
    pub members: Vec<EndpointRef>,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub refs: Vec<EndpointRef>,
    /// The data nodes this side stands for (sorted, no duplicates).
    pub nodes: Vec<Node>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Carries {
    /// Empty for `carries none`.
    pub classes: Vec<ClassId>,
    pub because: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Export {
    pub class: ClassId,
    /// `fetched`: the FROM side fetches the class, so it is admitted over the answers
    /// (TO → FROM); otherwise over the requests (FROM → TO).
    pub fetched: bool,
    pub basis: String,
    pub span: Span,
}

impl Flow {
    /// Does the flow export `class` over its FROM → TO channel (`forward`) or its answers?
    pub fn exports_class(&self, class: ClassId, forward: bool) -> bool {
        self.exports.iter().any(|e| e.class == class && e.fetched != forward)
    }

    /// The nodes that receive `class` over an export of this flow.
    pub(crate) fn export_recipients(&self, class: ClassId) -> impl Iterator<Item = &Node> + '_ {
        let to = self.exports_class(class, true).then_some(self.to.nodes.iter());
        let from = self.exports_class(class, false).then_some(self.from.nodes.iter());
        to.into_iter().flatten().chain(from.into_iter().flatten())
    }
}

#[derive(Clone, Debug)]
pub struct Flow {
    pub from: Endpoint,
    pub to: Endpoint,
    pub services: Vec<ServiceId>,
    pub description: String,
    pub carries: Option<Carries>,
    pub exports: Vec<Export>,
    pub require_mfa: bool,
    pub require_encrypted: bool,
    pub encrypted_payload: Option<String>,
    pub allows: Vec<Allow>,
    pub span: Span,
    /// The header line (`flow a -> b : s "…"`), for pointing at the flow as a whole.
    pub header_span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceKind {
    Firewall,
    Switch,
}

impl DeviceKind {
    pub(crate) fn noun(self) -> &'static str {
        match self {
            DeviceKind::Firewall => "firewall",
            DeviceKind::Switch => "switch",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Interface {
    pub name: String,
    pub zones: Vec<ZoneId>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Device {
    pub name: String,
    pub label: Option<String>,
    pub kind: DeviceKind,
    pub target: Target,
    pub interfaces: Vec<Interface>,
    pub tcam: Option<u64>,
    /// The node of the device's own addresses (`address …`), if it declares any.
    pub node: Option<SystemId>,
    pub span: Span,
    pub name_span: Span,
}

/// A resolved policy.
#[derive(Clone, Debug)]
pub struct Model {
    pub sources: Sources,
    pub meta: PolicyMeta,
    pub classes: Vec<Class>,
    pub zones: Vec<Zone>,
    pub services: Vec<Service>,
    pub systems: Vec<System>,
    pub groups: Vec<Group>,
    pub flows: Vec<Flow>,
    pub devices: Vec<Device>,
    pub graph: DiGraph<GraphNode, ()>,
    /// Graph index of every data node.
    pub node_index: BTreeMap<Node, NodeIndex>,
    /// Graph index of every flow's hub.
    pub flow_index: Vec<NodeIndex>,
    /// Every flow's stable id (`Model::flow_id`), computed once on first use: generated
    /// files name flows in every rule and element, and each id is a sha256.
    pub flow_ids: std::sync::OnceLock<Vec<String>>,
}

impl Model {
    pub fn node_name(&self, node: Node) -> String {
        match node {
            Node::System(s) => self.system(s).name.clone(),
            Node::ZoneRest(z) => self.zone(z).name.clone(),
        }
    }

    /// Which of a system's own connections its own filter decides: (to it, from it). A
    /// Linux or Windows host filters what reaches it, and in a closed zone what it sends; a
    /// firewall filters both to and from its own addresses (DESIGN.md §4a); a switch's
    /// management plane, an appliance or a SaaS nothing.
    pub(crate) fn own_filters(&self, s: SystemId) -> (bool, bool) {
        let sys = self.system(s);
        if let Some(d) = sys.device {
            let fw = self.device(d).kind == DeviceKind::Firewall;
            return (fw, fw);
        }
        let host = matches!(sys.platform, Some(Platform::Linux | Platform::Windows));
        (host, host && self.zone(sys.zone).trust == Trust::Closed)
    }

    /// The flow's stable name in generated files: `f-` and 8 hex digits of a sha256 over the
    /// base name of the file it is declared in, its title (`a -> b : https`) and its
    /// description. Unlike a line number it does not move when the policy is edited
    /// elsewhere, so a device file changes only when its own rules do (DESIGN.md §7);
    /// `manifest.json` maps every id back to its file and line. Two flows with the same
    /// ends, services and description in one file share an id (the manifest lists both).
    pub(crate) fn flow_id(&self, f: FlowId) -> &str {
        let ids = self.flow_ids.get_or_init(|| {
            use sha2::{Digest, Sha256};
            (0..self.flows.len())
                .map(|i| {
                    let f = FlowId::from_index(i);
                    let flow = self.flow(f);
                    let name = self.sources.name(flow.header_span.file);
                    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
                    let mut h = Sha256::new();
                    for part in [base, &self.flow_title(f), &flow.description] {
                        h.update((part.len() as u64).to_le_bytes());
                        h.update(part.as_bytes());
                    }
                    let digest = h.finalize();
                    format!("f-{}", digest.iter().take(4).map(|b| format!("{b:02x}")).collect::<String>())
                })
                .collect()
        });
        &ids[f.index()]
    }

    /// `file.zc:17`: where a flow is declared, for diagnostics.
    pub(crate) fn flow_location(&self, f: FlowId) -> String {
        let flow = self.flow(f);
        let (line, _) = self.sources.line_col(flow.header_span);
        let name = self.sources.name(flow.header_span.file);
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        format!("{base}:{line}")
    }

    /// The zone a node lies in.
    pub fn node_zone(&self, node: Node) -> ZoneId {
        match node {
            Node::System(s) => self.system(s).zone,
            Node::ZoneRest(z) => z,
        }
    }

    pub(crate) fn class(&self, id: ClassId) -> &Class {
        &self.classes[id.index()]
    }
    pub fn zone(&self, id: ZoneId) -> &Zone {
        &self.zones[id.index()]
    }
    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.index()]
    }
    pub fn system(&self, id: SystemId) -> &System {
        &self.systems[id.index()]
    }
    pub(crate) fn device(&self, id: DeviceId) -> &Device {
        &self.devices[id.index()]
    }
    pub fn group(&self, id: GroupId) -> &Group {
        &self.groups[id.index()]
    }
    pub fn flow(&self, id: FlowId) -> &Flow {
        &self.flows[id.index()]
    }

    pub fn class_by_name(&self, name: &str) -> Option<ClassId> {
        self.classes.iter().position(|c| c.name == name).map(ClassId::from_index)
    }
    pub fn system_by_name(&self, name: &str) -> Option<SystemId> {
        self.systems.iter().position(|c| c.name == name).map(SystemId::from_index)
    }
    pub(crate) fn zone_by_name(&self, name: &str) -> Option<ZoneId> {
        self.zones.iter().position(|c| c.name == name).map(ZoneId::from_index)
    }
    pub(crate) fn group_by_name(&self, name: &str) -> Option<GroupId> {
        self.groups.iter().position(|c| c.name == name).map(GroupId::from_index)
    }

    /// Every data node, systems first, in id order.
    pub fn nodes(&self) -> impl Iterator<Item = Node> + '_ {
        (0..self.systems.len())
            .map(|i| Node::System(SystemId::from_index(i)))
            .chain((0..self.zones.len()).map(|i| Node::ZoneRest(ZoneId::from_index(i))))
    }

    /// The names of an endpoint as written (`a`, or `[a, b]`).
    pub(crate) fn endpoint_text(&self, e: &Endpoint) -> String {
        let mut out = String::new();
        self.push_endpoint(&mut out, e);
        out
    }

    /// `name`, or `[a, b]` for several.
    fn push_endpoint(&self, out: &mut String, e: &Endpoint) {
        let several = e.refs.len() != 1;
        if several {
            out.push('[');
        }
        for (i, r) in e.refs.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(self.ref_str(*r));
        }
        if several {
            out.push(']');
        }
    }

    fn ref_str(&self, r: EndpointRef) -> &str {
        match r {
            EndpointRef::System(s) => &self.system(s).name,
            EndpointRef::Zone(z) => &self.zone(z).name,
            EndpointRef::Group(g) => &self.group(g).name,
        }
    }

    /// `a -> b : https`, for messages. Written into one string: compile writes it into
    /// the comment of every element and rule a flow gives (hundreds of thousands).
    pub fn flow_title(&self, id: FlowId) -> String {
        let f = self.flow(id);
        let mut out = String::with_capacity(64);
        self.push_endpoint(&mut out, &f.from);
        out.push_str(" -> ");
        self.push_endpoint(&mut out, &f.to);
        out.push_str(" : ");
        for (i, s) in f.services.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&self.service(*s).name);
        }
        out
    }

    /// A span-free, order-stable text rendering of the whole model. Two policies with the
    /// same meaning render identically; used to test that `fmt` keeps the model.
    pub fn canonical(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "policy {:?} {:?} {:?} {:?}",
            self.meta.name, self.meta.owner, self.meta.contact, self.meta.description
        );
        for c in &self.classes {
            let _ = writeln!(s, "class {} {:?} special={} {:?}", c.name, c.label, c.special, c.confinement);
        }
        for z in &self.zones {
            let _ = writeln!(s, "zone {} {:?} {:?} {:?} {:?}", z.name, z.label, z.trust, z.nets, z.systems);
        }
        for v in self.services.iter().filter(|v| v.span.is_some()) {
            let _ = writeln!(s, "service {} {:?} {:?} enc={}", v.name, v.label, v.matches, v.encrypted);
        }
        for y in &self.systems {
            let allows: Vec<_> = y.allows.iter().map(|a| (&a.lint, &a.because, &a.owner, a.until)).collect();
            let _ = writeln!(
                s,
                "system {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                y.name,
                y.label,
                y.zone,
                y.addresses,
                y.platform,
                y.holds,
                y.role,
                y.owner,
                y.vendor,
                y.dpa,
                y.region,
                y.auth,
                allows
            );
        }
        for g in &self.groups {
            let _ = writeln!(s, "group {} {:?} {:?}", g.name, g.label, g.members);
        }
        for f in &self.flows {
            let carries = f.carries.as_ref().map(|c| (&c.classes, &c.because));
            let exports: Vec<(ClassId, bool, &str)> =
                f.exports.iter().map(|e| (e.class, e.fetched, e.basis.as_str())).collect();
            let allows: Vec<_> = f.allows.iter().map(|a| (&a.lint, &a.because, &a.owner, a.until)).collect();
            let _ = writeln!(
                s,
                "flow {:?} -> {:?} : {:?} {:?} {:?} {:?} mfa={} enc={} {:?} {:?}",
                f.from.refs,
                f.to.refs,
                f.services.iter().map(|v| (&self.service(*v).name, &self.service(*v).matches)).collect::<Vec<_>>(),
                f.description,
                carries,
                exports,
                f.require_mfa,
                f.require_encrypted,
                f.encrypted_payload,
                allows
            );
        }
        for d in &self.devices {
            let ifs: Vec<(&str, &Vec<ZoneId>)> = d.interfaces.iter().map(|i| (i.name.as_str(), &i.zones)).collect();
            let _ = writeln!(s, "device {} {:?} {:?} {:?} {:?} {:?}", d.name, d.label, d.kind, d.target, ifs, d.tcam);
        }
        s
    }
}
