//! The checker against the lowering, on random policies: two statements of what each
//! enforcement point must permit, written independently (DESIGN.md §4a, §5).
//!
//! `lower` + `targets` render a bundle; `check::intended` states from the model alone what
//! each device and host must permit. On thousands of generated policies with odd
//! topologies — nested zones on different interfaces, `0.0.0.0/0` and `::/0` zones, IPv6
//! link-local zones, zones on no interface, switches with routed uplinks, devices with
//! their own addresses, groups of groups, Linux and Windows hosts in closed and open zones,
//! services of every kind — every file of every bundle must check equal. A disagreement
//! is a bug in one of the two, and the case is kept.
//!
//! And the checker must not trust the lowering: each single change to a device's lowered
//! rules (a permit dropped, widened, moved to another interface pair, or added), rendered
//! by the real renderer, is reported as a difference whenever it changes what the device
//! permits.

use crate::check::intended::Expectations;
use crate::check::space::{Ifaces, Space};
use crate::check::{Format, check_bundle, check_expected, read};
use crate::lower::{ChainKind, DeviceRules, Svc, lower};
use crate::model::{AclOptions, Model};
use proptest::prelude::*;

/// IPv4 prefixes zones take, each at most once. Nested ones start where their parent
/// starts, so the last addresses of each (where systems live) lie in no child.
const V4: [&str; 7] =
    ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24", "10.0.0.0/25", "172.16.0.0/12", "192.168.1.0/24"];
const V6: [&str; 7] = ["::/0", "fd00::/8", "fd00::/16", "fd00::/32", "fe80::/64", "2001:db8::/32", "fe80::/10"];

#[derive(Clone, Copy, Debug)]
enum Ref {
    Zone(usize),
    Sys(usize),
    Group(usize),
    Firewall,
    Switch,
}

/// A zone: (v4 pool index, v6 pool index, trust, firewall interface, switch SVI).
type ZoneSpec = (usize, Option<usize>, &'static str, Option<usize>, Option<usize>);

#[derive(Clone, Debug)]
struct Spec {
    zones: Vec<ZoneSpec>,
    /// (zone, platform, with IPv6)
    systems: Vec<(usize, &'static str, bool)>,
    groups: Vec<Vec<Ref>>,
    services: Vec<Vec<String>>,
    flows: Vec<(Vec<Ref>, Vec<Ref>, Vec<usize>)>,
    firewall_address: Option<usize>,
    switch: Option<(&'static str, Option<usize>)>,
}

fn item() -> impl Strategy<Value = String> {
    let port = prop_oneof![Just(22u16), Just(53), Just(443), 1000u16..1004, Just(1023), Just(65535)];
    prop_oneof![
        4 => (port.clone(), 0u16..3).prop_map(|(p, n)| format!("tcp/{p}-{}", p.saturating_add(n))),
        3 => port.prop_map(|p| format!("udp/{p}")),
        1 => prop::sample::select(vec!["icmp", "icmp/8", "icmp/3", "icmpv6", "icmpv6/128", "icmpv6/1"]).prop_map(String::from),
        1 => prop::sample::select(vec!["proto/47", "proto/6", "proto/58", "any"]).prop_map(String::from),
    ]
}

fn reference(zones: usize, systems: usize, groups: usize) -> impl Strategy<Value = Ref> {
    prop_oneof![
        3 => (0..zones).prop_map(Ref::Zone),
        4 => (0..systems.max(1)).prop_map(move |s| if systems == 0 { Ref::Zone(0) } else { Ref::Sys(s) }),
        1 => (0..groups.max(1)).prop_map(move |g| if groups == 0 { Ref::Zone(0) } else { Ref::Group(g) }),
        1 => prop_oneof![Just(Ref::Firewall), Just(Ref::Switch)],
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    let zone = (
        prop::option::weighted(0.6, 0usize..7),
        prop::sample::select(vec!["closed", "internal", "dmz", "external"]),
        prop::option::weighted(0.8, 0usize..3),
        prop::option::weighted(0.4, 0usize..3),
    );
    (
        prop::collection::vec(zone, 3..=6),
        Just((0..7).collect::<Vec<usize>>()).prop_shuffle(),
        Just((0..7).collect::<Vec<usize>>()).prop_shuffle(),
        prop::collection::vec(
            (0usize..6, prop::sample::select(vec!["", "linux", "windows", "appliance"]), any::<bool>()),
            0..=6,
        ),
        0usize..=2,
        // Each service has a TCP or UDP item, so no flow is refused for carrying nothing.
        prop::collection::vec(
            (prop::sample::select(vec!["tcp/443", "udp/53", "tcp/1000-1003"]), prop::collection::vec(item(), 0..=2))
                .prop_map(|(first, rest)| std::iter::once(first.to_string()).chain(rest).collect::<Vec<_>>()),
            3,
        ),
        prop::option::of(0usize..6),
        prop::option::weighted(
            0.6,
            (
                prop::sample::select(vec!["cisco-ios", "arista-eos", "aruba-aoscx", "junos"]),
                prop::option::of(0usize..6),
            ),
        ),
    )
        .prop_flat_map(|(zones, p4, p6, systems, groups, services, fw_addr, switch)| {
            let n = zones.len();
            let zones: Vec<_> =
                zones.into_iter().enumerate().map(|(i, (v6, t, f, s))| (p4[i], v6.map(|_| p6[i]), t, f, s)).collect();
            let firewall_address = fw_addr.map(|z| z % n);
            let switch = switch.map(|(t, a)| (t, a.map(|z| z % n)));
            // At most three systems per zone: their addresses are the last three of the zone.
            let mut per_zone = vec![0; n];
            let systems: Vec<_> = systems
                .into_iter()
                .filter_map(|(z, p, v6)| {
                    let z = z % n;
                    per_zone[z] += 1;
                    (per_zone[z] <= 3).then_some((z, p, v6))
                })
                .collect();
            let ns = systems.len();
            let group = prop::collection::vec(reference(n, ns, 0), 1..=3);
            let flow = (
                prop::collection::vec(reference(n, ns, groups), 1..=2),
                prop::collection::vec(reference(n, ns, groups), 1..=2),
                prop::collection::vec(0usize..3, 1..=2),
            );
            (
                Just(zones),
                Just(systems),
                prop::collection::vec(group, groups),
                Just(services),
                prop::collection::vec(flow, 1..=7),
                Just(firewall_address),
                Just(switch),
            )
        })
        .prop_map(|(zones, systems, mut groups, services, flows, firewall_address, switch)| {
            // A later group may hold an earlier one: groups of groups, no cycles.
            for (g, members) in groups.iter_mut().enumerate() {
                if g > 0 && members.len() < 3 {
                    members.push(Ref::Group(g - 1));
                }
            }
            Spec { zones, systems, groups, services, flows, firewall_address, switch }
        })
}

/// The `k`-th last address of a prefix (`k` ≥ 1), as text.
fn last_but(prefix: &str, k: u128) -> String {
    let net: ipnet::IpNet = prefix.parse().expect("prefix");
    match net {
        ipnet::IpNet::V4(n) => std::net::Ipv4Addr::from(u32::from(n.broadcast()) - k as u32).to_string(),
        ipnet::IpNet::V6(n) => std::net::Ipv6Addr::from(u128::from(n.broadcast()) - k).to_string(),
    }
}

impl Spec {
    /// Addresses of the `k`-th last host of zone `z`: systems take 1-3, the firewall 4,
    /// the switch 5.
    fn host(&self, z: usize, k: u128, v6: bool) -> Vec<String> {
        let (p4, p6, ..) = self.zones[z];
        let mut a = vec![last_but(V4[p4], k)];
        if let Some(p) = p6.filter(|_| v6) {
            a.push(last_but(V6[p], k));
        }
        a
    }

    fn switch_iface(&self, k: usize) -> String {
        match self.switch.map(|s| s.0) {
            Some("aruba-aoscx") => format!("vlan{}", 10 * (k + 1)),
            Some("junos") => format!("irb.{}", 10 * (k + 1)),
            _ => format!("Vlan{}", 10 * (k + 1)),
        }
    }

    /// The policy text; `None` where a reference names a device without an address.
    fn text(&self) -> Option<String> {
        let mut s = String::new();
        for (i, (p4, p6, trust, ..)) in self.zones.iter().enumerate() {
            let nets: Vec<&str> = std::iter::once(V4[*p4]).chain(p6.map(|p| V6[p])).collect();
            s += &format!("zone z{i} {{ trust {trust}; net {} }}\n", nets.join(", "));
        }
        let mut count = vec![0u128; self.zones.len()];
        for (i, (z, platform, v6)) in self.systems.iter().enumerate() {
            count[*z] += 1;
            let platform = if platform.is_empty() { String::new() } else { format!("; platform {platform}") };
            s += &format!(
                "system s{i} {{ zone z{z}; address {}{platform} }}\n",
                self.host(*z, count[*z], *v6).join(", ")
            );
        }
        for (i, items) in self.services.iter().enumerate() {
            s += &format!("service v{i} {{ {} }}\n", items.join(", "));
        }
        let name = |r: &Ref| -> Option<String> {
            Some(match *r {
                Ref::Zone(z) => format!("z{z}"),
                Ref::Sys(x) => format!("s{x}"),
                Ref::Group(g) => format!("g{g}"),
                // A device without an address is no endpoint: its first zone stands in.
                Ref::Firewall if self.firewall_address.is_some() && self.zones.iter().any(|z| z.3.is_some()) => {
                    "fw".into()
                }
                Ref::Switch if self.switch.is_some_and(|s| s.1.is_some()) => "sw".into(),
                Ref::Firewall | Ref::Switch => "z0".into(),
            })
        };
        let list = |refs: &[Ref]| -> Option<String> {
            let names = refs.iter().map(name).collect::<Option<Vec<_>>>()?;
            Some(if names.len() == 1 { names.concat() } else { format!("[{}]", names.join(", ")) })
        };
        for (i, members) in self.groups.iter().enumerate() {
            let names = members.iter().map(name).collect::<Option<Vec<_>>>()?;
            s += &format!("group g{i} {{ {} }}\n", names.join(", "));
        }
        for (i, (from, to, svcs)) in self.flows.iter().enumerate() {
            let svcs: Vec<String> = svcs.iter().map(|v| format!("v{v}")).collect();
            s += &format!("flow {} -> {} : {} \"flow {i}\"\n", list(from)?, list(to)?, svcs.join(", "));
        }
        let interfaces = |pick: &dyn Fn(usize) -> Option<usize>, name: &dyn Fn(usize) -> String| {
            let mut out = String::new();
            for k in 0..3 {
                let zones: Vec<String> =
                    (0..self.zones.len()).filter(|z| pick(*z) == Some(k)).map(|z| format!("z{z}")).collect();
                if !zones.is_empty() {
                    out += &format!("  interface {} zone {}\n", name(k), zones.join(", "));
                }
            }
            out
        };
        let fw_ifaces = interfaces(&|z| self.zones[z].3, &|k| format!("eth{k}"));
        if !fw_ifaces.is_empty() {
            s += "firewall fw {\n  target nftables\n";
            if let Some(z) = self.firewall_address {
                s += &format!("  address {}\n", self.host(z, 4, true).join(", "));
            }
            s += &fw_ifaces;
            s += "}\n";
        } else if self.firewall_address.is_some() {
            return None;
        }
        if let Some((target, address)) = self.switch {
            let svis = interfaces(&|z| self.zones[z].4, &|k| self.switch_iface(k));
            if svis.is_empty() {
                return None;
            }
            s += &format!("switch sw {{\n  target {target}\n");
            if let Some(z) = address {
                s += &format!("  address {}\n", self.host(z, 5, true).join(", "));
            }
            s += &svis;
            s += "}\n";
        }
        Some(s)
    }
}

fn load(text: &str) -> Result<Model, TestCaseError> {
    crate::load_str("gen.zc", text).map_err(|e| {
        TestCaseError::fail(format!("{}\n{text}", crate::diagnostics::render(&e.diags, &e.sources, false, 100)))
    })
}

/// Every enforcement point's file, rendered from the lowering (verify's verdict aside:
/// a policy that leaks still has rules to check).
fn bundle(model: &Model) -> Result<crate::compile::Bundle, TestCaseError> {
    let templates = crate::targets::Templates::builtin().expect("built-in templates");
    let proved = crate::verify::unverified(model);
    crate::compile::build(&proved, &Default::default(), &templates)
        .map(|(b, _)| b)
        .map_err(|d| TestCaseError::fail(crate::diagnostics::render(&d, &model.sources, false, 100)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(600)
    ))]
    #[test]
    fn check_and_lowering_agree_on_every_device(s in spec()) {
        let Some(text) = s.text() else { return Ok(()) };
        let model = load(&text)?;
        let bundle = bundle(&model)?;
        let files = bundle.generated();
        prop_assert!(!files.is_empty() || model.enforcement_points().is_empty());
        let differing = check_bundle(&model, &files, &AclOptions::default());
        if std::env::var("ZC_STATS").is_ok() {
            let kinds: Vec<String> = files.iter().map(|f| format!("{}:{}", f.path, f.bytes.len())).collect();
            eprintln!("STAT {} flows {} | {}", model.flows.len(), files.len(), kinds.join(" "));
        }
        let shown: Vec<String> = differing
            .iter()
            .map(|d| format!("{} ({}): {:#?} {:?} {:?}", d.device, d.file, d.differences.first(), d.problems, d.inconclusive))
            .collect();
        prop_assert!(differing.is_empty(), "{}\n{text}", shown.join("\n"));
    }
}

/// Single changes to one device's lowered rules: (what, the changed rules). At most `per_op`
/// of each kind, spread over the chains.
fn lowering_mutants(rules: &DeviceRules, per_op: usize) -> Vec<(String, DeviceRules)> {
    let mut out = Vec::new();
    let positions: Vec<(usize, usize)> =
        rules.chains.iter().enumerate().flat_map(|(c, chain)| (0..chain.permits.len()).map(move |p| (c, p))).collect();
    let step = (positions.len() / per_op).max(1);
    let sample: Vec<(usize, usize)> = positions.iter().copied().step_by(step).take(per_op).collect();
    let mut push = |what: String, f: &dyn Fn(&mut DeviceRules)| {
        let mut m = rules.clone();
        f(&mut m);
        out.push((what, m));
    };
    for &(c, p) in &sample {
        push(format!("drop permit {p} of chain {c}"), &|m| {
            m.chains[c].permits.remove(p);
        });
        push(format!("widen the destination of permit {p} of chain {c}"), &|m| {
            let d = &mut m.chains[c].permits[p].dst;
            *d = d.supernet().and_then(|s| s.supernet()).unwrap_or(*d).trunc();
        });
        push(format!("widen the ports of permit {p} of chain {c}"), &|m| {
            let svc = &mut m.chains[c].permits[p].svc;
            *svc = match *svc {
                Svc::Ports { proto, lo, hi } if hi < 65535 => Svc::Ports { proto, lo, hi: hi + 1 },
                Svc::Ports { proto, lo, hi } => Svc::Ports { proto, lo: lo - 1, hi },
                Svc::IcmpType { v6, .. } => Svc::Proto(if v6 { 58 } else { 1 }),
                Svc::Proto(_) | Svc::Any => Svc::Any,
            };
        });
        if let ChainKind::Forward { iif, oif, from_zones, to_zones } = &rules.chains[c].kind {
            let swapped = ChainKind::Forward {
                iif: oif.clone(),
                oif: iif.clone(),
                from_zones: from_zones.clone(),
                to_zones: to_zones.clone(),
            };
            push(format!("move permit {p} of chain {c} to the opposite interface pair"), &|m| {
                let permit = m.chains[c].permits.remove(p);
                match m.chains.iter_mut().find(|ch| ch.kind == swapped) {
                    Some(ch) => ch.permits.push(permit),
                    None => m.chains.push(crate::lower::Chain { kind: swapped.clone(), permits: vec![permit] }),
                }
            });
        }
    }
    out
}

/// Render one device's (possibly changed) rules with the real renderer.
fn render(model: &Model, rules: &DeviceRules) -> Option<String> {
    let templates = crate::targets::Templates::builtin().expect("built-in templates");
    match rules.target {
        crate::model::HostOrDevice::Device(crate::model::Target::Nftables) | crate::model::HostOrDevice::LinuxHost => {
            crate::targets::nftables::render(model, rules, &templates, &Default::default()).ok().map(|r| r.0)
        }
        crate::model::HostOrDevice::Device(_) => {
            crate::targets::acl::render(model, rules, &templates, &AclOptions::default(), &Default::default())
                .ok()
                .map(|r| String::from_utf8(r.0).expect("UTF-8"))
        }
        crate::model::HostOrDevice::WindowsHost => None,
    }
}

/// What a rendering permits within the device's scope (read and evaluated as check does,
/// without the intended permits).
fn permitted(expected: &Expectations, point: &crate::model::EnforcementPoint, format: Format, text: &str) -> Space {
    let mut ifaces = Ifaces::new();
    let scope = expected.intended(point, &mut ifaces, &AclOptions::default()).scope;
    let rs = read(format, text, &mut ifaces);
    let paths = crate::check::space::Path::ALL;
    rs.evaluate_within(&paths, Some(&scope), ifaces.count(), false).expect("evaluates").permitted
}

#[test]
fn a_mistake_in_the_lowering_is_a_difference() {
    let model = crate::load_policy(std::path::Path::new("policies/fjordvik")).expect("resolves");
    let expected = Expectations::of(&model);
    let lowered = lower(&model);
    let mut report = Vec::new();
    for (device, format) in [
        ("fw-kjerne", Format::NftText),
        ("sw-core", Format::CiscoIos),
        ("sw-skole", Format::ArubaAoscx),
        ("backup-repo", Format::NftText),
    ] {
        let rules = lowered.iter().find(|d| d.name == device).unwrap_or_else(|| panic!("{device}"));
        let point = model.enforcement_point(device).expect("point");
        let original = render(&model, rules).expect("renders");
        let baseline = check_expected(&expected, &point, format, device, &original, &AclOptions::default());
        assert!(baseline.equal(), "{device}: {baseline:#?}");
        let before = permitted(&expected, &point, format, &original);
        let (mut killed, mut equivalent) = (0, 0);
        for (what, mutant) in lowering_mutants(rules, 12) {
            let Some(text) = render(&model, &mutant) else { continue };
            let after = permitted(&expected, &point, format, &text);
            let same = before.difference(&after).expect("difference").is_empty()
                && after.difference(&before).expect("difference").is_empty();
            let result = check_expected(&expected, &point, format, device, &text, &AclOptions::default());
            assert!(result.problems.is_empty() && result.inconclusive.is_none(), "{device}, {what}: {result:#?}");
            assert_eq!(
                result.equal(),
                same,
                "{device}, {what}: check says {}, but the rendering {} what the original permits",
                result.verdict(),
                if same { "permits exactly" } else { "no longer permits exactly" }
            );
            if same { equivalent += 1 } else { killed += 1 }
        }
        assert!(killed >= 10, "{device}: only {killed} mutants change the device");
        report.push(format!("{device}: {killed} changes found, {equivalent} equivalent"));
    }
    eprintln!("{}", report.join("\n"));
}
