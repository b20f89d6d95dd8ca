//! A proptest generator of random, *valid* zonecheck policies aimed at `verify`
//! (used by `tests/it/verify_differential/`).
//!
//! The strategy draws a [`PolicySpec`] — plain vectors of small numbers, so that proptest
//! shrinks a failing case by dropping systems, flows, groups, zones or classes — and
//! [`render`] turns it into policy text. Every cross-reference in the spec is an index
//! taken modulo the current number of targets, so any shrunk spec still renders to a
//! policy that parses and resolves.
//!
//! What the texts contain (DESIGN.md §2):
//! - 2–8 zones of mixed trust with disjoint IPv4 prefixes (`10.Z.0.0/16`, sometimes a
//!   second `172.16.Z.0/24`); optionally one of them is the internet, `0.0.0.0/0`.
//! - 1–5 classes: `special; confined`, `confined to …`, or tracked only.
//! - 1–80 systems holding random classes (wherever they are, so some holders sit in
//!   zones their class does not permit); SaaS systems sit in an external zone when there
//!   is one, with random subsets of vendor / dpa / region eea|us / auth mfa|certificate.
//! - 0–6 groups, nested but acyclic (a group only names earlier groups).
//! - 0–150 flows whose endpoints are a system, a zone, a group or a `[a, b]` list, with
//!   built-in or inline services and random `carries`, `export` (some `fetched`), `require mfa`, `allow`.
//! - 0–3 firewalls or switches with 1–5 interfaces of 1–3 zones each (shared segments,
//!   zones behind no device, zones behind both a firewall and a switch).
//!
//! Sizes are skewed towards small policies (5 in 9 have at most 12 systems and 20 flows,
//! 3 in 9 at most 35 and 60, 1 in 9 up to 80 and 150): small cases find most bugs, shrink
//! fast and keep 10,000 cases within the time budget.

#![allow(dead_code)]

use std::fmt::{self, Write as _};

use proptest::prelude::*;

/// Built-in services a flow may name (DESIGN.md §2; see src/model/builtin.rs).
pub const SERVICES: &[&str] = &[
    "https",
    "smb",
    "ssh",
    "rdp",
    "dns",
    "ntp",
    "smtp",
    "syslog",
    "ica",
    "ipp",
    "ldap",
    "kerberos",
    "mssql",
    "any",
    "ping",
    "tcp/8443",
    "udp/5000-5010",
];

const TRUSTS: &[&str] = &["closed", "internal", "dmz", "partner", "external"];

#[derive(Clone, Debug)]
pub struct ZoneSpec {
    /// Index into [`TRUSTS`].
    pub trust: u8,
    pub extra_net: bool,
    pub label: bool,
}

#[derive(Clone, Debug)]
pub struct ClassSpec {
    /// 0: `confined` (closed zones), 1: `confined to …`, 2: tracked only.
    pub kind: u8,
    pub special: bool,
    /// Zone indices for `confined to` (modulo the zone count).
    pub to: Vec<u8>,
    pub label: bool,
}

#[derive(Clone, Debug)]
pub struct SystemSpec {
    pub zone: u8,
    pub holds: Vec<u8>,
    /// 0 none, 1 linux, 2 windows, 3 appliance, 4 saas.
    pub platform: u8,
    pub vendor: bool,
    pub dpa: bool,
    /// 0 none, 1 eea, 2 us.
    pub region: u8,
    /// 0 none, 1 mfa, 2 certificate.
    pub auth: u8,
    pub address: bool,
    pub label: bool,
}

/// A reference to a system, zone or group, by index modulo the number of each.
#[derive(Clone, Debug)]
pub enum RefSpec {
    System(u16),
    Zone(u8),
    Group(u8),
}

#[derive(Clone, Debug)]
pub struct GroupSpec {
    pub members: Vec<RefSpec>,
}

#[derive(Clone, Debug)]
pub enum EndSpec {
    One(RefSpec),
    List(Vec<RefSpec>),
}

#[derive(Clone, Debug)]
pub enum CarriesSpec {
    Unlimited,
    Nothing,
    Classes(Vec<u8>),
}

#[derive(Clone, Debug)]
pub struct FlowSpec {
    pub from: EndSpec,
    pub to: EndSpec,
    pub services: Vec<u8>,
    pub carries: CarriesSpec,
    pub exports: Vec<u8>,
    pub require_mfa: bool,
    pub allow: bool,
}

/// A firewall or switch: interfaces, each a list of zone indices (modulo the zone count).
/// A zone already behind an earlier interface of the same device is skipped when rendered
/// (resolve refuses a zone on two interfaces of one device).
#[derive(Clone, Debug)]
pub struct DeviceSpec {
    pub firewall: bool,
    pub interfaces: Vec<Vec<u8>>,
    /// Its own address (in the zone of this index) and the flows naming it: a peer that
    /// manages it (`peer -> dN : ssh`) and, when `outbound`, `dN -> peer : syslog`.
    pub own: Option<(u8, RefSpec, bool)>,
}

#[derive(Clone, Debug)]
pub struct PolicySpec {
    pub zones: Vec<ZoneSpec>,
    /// The last zone is the internet (`0.0.0.0/0`, trust external).
    pub internet: bool,
    pub classes: Vec<ClassSpec>,
    pub systems: Vec<SystemSpec>,
    pub groups: Vec<GroupSpec>,
    pub flows: Vec<FlowSpec>,
    pub devices: Vec<DeviceSpec>,
    pub with_header: bool,
}

/// A generated policy: its text (printed verbatim when a case fails) and its spec.
#[derive(Clone)]
pub struct GenPolicy {
    pub text: String,
    pub spec: PolicySpec,
}

impl fmt::Debug for GenPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n----- generated policy -----\n{}----------------------------\n", self.text)
    }
}

fn zone_spec() -> impl Strategy<Value = ZoneSpec> {
    (0u8..5, prop::bool::weighted(0.2), any::<bool>()).prop_map(|(trust, extra_net, label)| ZoneSpec {
        trust,
        extra_net,
        label,
    })
}

fn class_spec() -> impl Strategy<Value = ClassSpec> {
    (
        prop_oneof![4 => Just(0u8), 3 => Just(1u8), 2 => Just(2u8)],
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 1..=3),
        any::<bool>(),
    )
        .prop_map(|(kind, special, to, label)| ClassSpec { kind, special, to, label })
}

fn system_spec() -> impl Strategy<Value = SystemSpec> {
    (
        any::<u8>(),
        prop_oneof![6 => Just(Vec::new()), 3 => prop::collection::vec(any::<u8>(), 1..=1), 1 => prop::collection::vec(any::<u8>(), 2..=3)],
        prop_oneof![1 => Just(0u8), 3 => Just(1u8), 3 => Just(2u8), 1 => Just(3u8), 2 => Just(4u8)],
        prop::bool::weighted(0.85),
        prop::bool::weighted(0.75),
        prop_oneof![1 => Just(0u8), 6 => Just(1u8), 2 => Just(2u8)],
        prop_oneof![1 => Just(0u8), 4 => Just(1u8), 3 => Just(2u8)],
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(zone, holds, platform, vendor, dpa, region, auth, address, label)| SystemSpec {
            zone,
            holds,
            platform,
            vendor,
            dpa,
            region,
            auth,
            address,
            label,
        })
}

fn ref_spec() -> impl Strategy<Value = RefSpec> {
    prop_oneof![
        6 => any::<u16>().prop_map(RefSpec::System),
        3 => any::<u8>().prop_map(RefSpec::Zone),
        2 => any::<u8>().prop_map(RefSpec::Group),
    ]
}

fn end_spec() -> impl Strategy<Value = EndSpec> {
    prop_oneof![4 => ref_spec().prop_map(EndSpec::One), 1 => prop::collection::vec(ref_spec(), 2..=3).prop_map(EndSpec::List)]
}

fn carries_spec() -> impl Strategy<Value = CarriesSpec> {
    prop_oneof![
        12 => Just(CarriesSpec::Unlimited),
        3 => Just(CarriesSpec::Nothing),
        5 => prop::collection::vec(any::<u8>(), 1..=3).prop_map(CarriesSpec::Classes),
    ]
}

fn flow_spec() -> impl Strategy<Value = FlowSpec> {
    (
        end_spec(),
        end_spec(),
        prop::collection::vec(any::<u8>(), 1..=2),
        carries_spec(),
        prop_oneof![5 => Just(Vec::new()), 1 => prop::collection::vec(any::<u8>(), 1..=2)],
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(from, to, services, carries, exports, require_mfa, allow)| FlowSpec {
            from,
            to,
            services,
            carries,
            exports,
            require_mfa,
            allow,
        })
}

fn device_spec() -> impl Strategy<Value = DeviceSpec> {
    (
        prop::bool::weighted(0.7),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 1..=3), 1..=5),
        prop::option::weighted(0.4, (any::<u8>(), ref_spec(), any::<bool>())),
    )
        .prop_map(|(firewall, interfaces, own)| DeviceSpec { firewall, interfaces, own })
}

/// Specs of every size the brief asks for (1–80 systems, 0–150 flows, …).
pub fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    (
        prop::collection::vec(zone_spec(), 2..=8),
        prop::bool::weighted(0.6),
        prop::collection::vec(class_spec(), 1..=5),
        prop::collection::vec(
            prop::collection::vec(ref_spec(), 1..=4).prop_map(|members| GroupSpec { members }),
            0..=6,
        ),
        any::<bool>(),
        prop::collection::vec(device_spec(), 0..=3),
        // Small policies are cheap and find most bugs; large ones still come up.
        prop_oneof![
            5 => (prop::collection::vec(system_spec(), 1..=12), prop::collection::vec(flow_spec(), 0..=20)),
            3 => (prop::collection::vec(system_spec(), 1..=35), prop::collection::vec(flow_spec(), 0..=60)),
            1 => (prop::collection::vec(system_spec(), 1..=80), prop::collection::vec(flow_spec(), 0..=150)),
        ],
    )
        .prop_map(|(zones, internet, classes, groups, with_header, devices, (systems, flows))| PolicySpec {
            zones,
            internet,
            classes,
            systems,
            groups,
            flows,
            devices,
            with_header,
        })
}

/// Random valid policy texts.
pub fn policy() -> impl Strategy<Value = GenPolicy> {
    policy_spec().prop_map(|spec| GenPolicy { text: render(&spec), spec })
}

fn pick<T: Copy + Into<u64>>(i: T, n: usize) -> usize {
    (i.into() % n.max(1) as u64) as usize
}

/// Trust of zone `z` as written.
fn zone_trust(spec: &PolicySpec, z: usize) -> &'static str {
    if spec.internet && z + 1 == spec.zones.len() {
        "external"
    } else {
        TRUSTS[spec.zones[z].trust as usize % TRUSTS.len()]
    }
}

/// The zone a system is placed in: SaaS systems go to an external zone when there is one.
pub fn system_zone(spec: &PolicySpec, s: usize) -> usize {
    let sys = &spec.systems[s];
    let nz = spec.zones.len();
    if sys.platform == 4 {
        let ext: Vec<usize> = (0..nz).filter(|z| zone_trust(spec, *z) == "external").collect();
        if !ext.is_empty() {
            return ext[pick(sys.zone, ext.len())];
        }
    }
    pick(sys.zone, nz)
}

fn ref_name(spec: &PolicySpec, r: &RefSpec, groups_before: usize) -> String {
    match *r {
        RefSpec::System(i) => format!("s{}", pick(i, spec.systems.len())),
        RefSpec::Zone(i) => format!("z{}", pick(i, spec.zones.len())),
        RefSpec::Group(i) if groups_before > 0 => format!("g{}", pick(i, groups_before)),
        // No group to name: fall back to a system.
        RefSpec::Group(i) => format!("s{}", pick(i, spec.systems.len())),
    }
}

/// Distinct names of a list of references (first occurrence kept).
fn ref_names(spec: &PolicySpec, refs: &[RefSpec], groups_before: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in refs {
        let n = ref_name(spec, r, groups_before);
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn end_text(spec: &PolicySpec, e: &EndSpec) -> String {
    let groups = spec.groups.len();
    match e {
        EndSpec::One(r) => ref_name(spec, r, groups),
        EndSpec::List(refs) => format!("[{}]", ref_names(spec, refs, groups).join(", ")),
    }
}

fn class_names(spec: &PolicySpec, idx: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in idx {
        let n = format!("c{}", pick(*i, spec.classes.len()));
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The address of system `s` in zone `z` (unique per system).
fn address(spec: &PolicySpec, s: usize, z: usize) -> String {
    let (hi, lo) = (s / 250, s % 250 + 1);
    if spec.internet && z + 1 == spec.zones.len() { format!("198.18.{hi}.{lo}") } else { format!("10.{z}.{hi}.{lo}") }
}

/// Render a spec as policy text.
pub fn render(spec: &PolicySpec) -> String {
    let mut t = String::new();
    let nz = spec.zones.len();
    if spec.with_header {
        let _ = writeln!(
            t,
            "policy \"Generert kommune – «æøå» \\\"test\\\"\" {{ owner \"IT\"; contact \"it@example.no\" }}"
        );
    }
    let _ = writeln!(
        t,
        "# {} zones, {} classes, {} systems, {} groups, {} flows",
        nz,
        spec.classes.len(),
        spec.systems.len(),
        spec.groups.len(),
        spec.flows.len()
    );
    for (z, zs) in spec.zones.iter().enumerate() {
        let label = if zs.label { format!(" \"Sone {z} – æøå\"") } else { String::new() };
        let nets = if spec.internet && z + 1 == nz {
            "0.0.0.0/0".to_string()
        } else if zs.extra_net {
            format!("10.{z}.0.0/16, 172.16.{z}.0/24")
        } else {
            format!("10.{z}.0.0/16")
        };
        let _ = writeln!(t, "zone z{z}{label} {{ trust {}; net {nets} }}", zone_trust(spec, z));
    }
    for (c, cs) in spec.classes.iter().enumerate() {
        let label = if cs.label { format!(" \"Klasse {c}\"") } else { String::new() };
        let mut props = Vec::new();
        if cs.special {
            props.push("special".to_string());
        }
        match cs.kind {
            0 => props.push("confined".to_string()),
            1 => {
                let mut zones: Vec<String> = Vec::new();
                for i in &cs.to {
                    let n = format!("z{}", pick(*i, nz));
                    if !zones.contains(&n) {
                        zones.push(n);
                    }
                }
                props.push(format!("confined to {}", zones.join(", ")));
            }
            _ => {}
        }
        if props.is_empty() {
            let _ = writeln!(t, "class c{c}{label}");
        } else {
            let _ = writeln!(t, "class c{c}{label} {{ {} }}", props.join("; "));
        }
    }
    for (s, ss) in spec.systems.iter().enumerate() {
        let z = system_zone(spec, s);
        let label = if ss.label { format!(" \"System {s} \\\"æøå\\\" \\\\ x\"") } else { String::new() };
        let mut props = vec![format!("zone z{z}")];
        if ss.address {
            props.push(format!("address {}", address(spec, s, z)));
        }
        let saas = ss.platform == 4;
        match ss.platform {
            1 => props.push("platform linux".into()),
            2 => props.push("platform windows".into()),
            3 => props.push("platform appliance".into()),
            4 => props.push("platform saas".into()),
            _ => {}
        }
        if !ss.holds.is_empty() {
            props.push(format!("holds {}", class_names(spec, &ss.holds).join(", ")));
        }
        if saas {
            if ss.vendor {
                props.push(format!("vendor \"Leverandør {s}\""));
            }
            if ss.dpa {
                props.push(format!("dpa \"DBA-2025-{s:03}\""));
            }
            match ss.region {
                1 => props.push("region eea".into()),
                2 => props.push("region us".into()),
                _ => {}
            }
            match ss.auth {
                1 => props.push("auth mfa".into()),
                2 => props.push("auth certificate".into()),
                _ => {}
            }
        }
        let _ = writeln!(t, "system s{s}{label} {{ {} }}", props.join("; "));
    }
    for (g, gs) in spec.groups.iter().enumerate() {
        let _ = writeln!(t, "group g{g} {{ {} }}", ref_names(spec, &gs.members, g).join(", "));
    }
    for (f, fs) in spec.flows.iter().enumerate() {
        let mut services: Vec<&str> = Vec::new();
        for i in &fs.services {
            let s = SERVICES[pick(*i, SERVICES.len())];
            if !services.contains(&s) {
                services.push(s);
            }
        }
        let mut props = Vec::new();
        match &fs.carries {
            CarriesSpec::Unlimited => {}
            CarriesSpec::Nothing => props.push(format!("carries none because \"flyt {f} bærer ingen data\"")),
            CarriesSpec::Classes(cs) => {
                props.push(format!("carries {} because \"bare det som trengs\"", class_names(spec, cs).join(", ")))
            }
        }
        // Exports with the high bit set are `fetched` (the FROM side fetches the class).
        let mut exports: Vec<(String, bool)> = Vec::new();
        for i in &fs.exports {
            let e = (format!("c{}", pick(*i & 0x7f, spec.classes.len())), i & 0x80 != 0);
            if !exports.contains(&e) {
                exports.push(e);
            }
        }
        for (c, fetched) in exports {
            let dir = if fetched { " fetched" } else { "" };
            props.push(format!("export {c}{dir} basis \"Lov § {f}\""));
        }
        if fs.require_mfa {
            props.push("require mfa".into());
        }
        if fs.allow {
            props.push("allow closed-egress because \"ROS 2025-1\"".into());
        }
        let head = format!(
            "flow {} -> {} : {} \"Flyt {f}: dokumentert behov\"",
            end_text(spec, &fs.from),
            end_text(spec, &fs.to),
            services.join(", ")
        );
        if props.is_empty() {
            let _ = writeln!(t, "{head}");
        } else if f % 2 == 0 {
            let _ = writeln!(t, "{head} {{ {} }}", props.join("; "));
        } else {
            let _ = writeln!(t, "{head} {{\n  {}\n}}", props.join("\n  "));
        }
    }
    for (d, ds) in spec.devices.iter().enumerate() {
        let mut used: Vec<usize> = Vec::new();
        let mut ifaces = Vec::new();
        for (i, zones) in ds.interfaces.iter().enumerate() {
            let mut names = Vec::new();
            for z in zones {
                let z = pick(*z, nz);
                if !used.contains(&z) {
                    used.push(z);
                    names.push(format!("z{z}"));
                }
            }
            if !names.is_empty() {
                ifaces.push(format!("  interface eth{i} zone {}", names.join(", ")));
            }
        }
        let (kind, target) = if ds.firewall { ("firewall", "nftables") } else { ("switch", "cisco-ios") };
        // Its own address: after every system's (10.Z.255.D+1; systems use 10.Z.HI.LO
        // with HI < 255 and the internet 198.18.HI.LO).
        let own = ds.own.as_ref().map(|(z, peer, outbound)| {
            let z = pick(*z, nz);
            let addr = if spec.internet && z + 1 == nz {
                format!("198.18.255.{}", d + 1)
            } else {
                format!("10.{z}.255.{}", d + 1)
            };
            (addr, ref_name(spec, peer, spec.groups.len()), *outbound)
        });
        let address = own.as_ref().map(|(a, _, _)| format!("  address {a}\n")).unwrap_or_default();
        let _ = writeln!(t, "{kind} d{d} {{\n  target {target}\n{address}{}\n}}", ifaces.join("\n"));
        if let Some((_, peer, outbound)) = own {
            let _ = writeln!(t, "flow {peer} -> d{d} : ssh \"Drift av d{d}\"");
            if outbound {
                let _ = writeln!(t, "flow d{d} -> {peer} : syslog \"Logger fra d{d}\"");
            }
        }
    }
    t
}
