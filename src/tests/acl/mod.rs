//! Switch ACL targets (Cisco IOS-XE, Aruba AOS-CX, Juniper Junos, Arista EOS).
//!
//! This file holds what the parts share (the templates, a small policy with one switch per
//! vendor, every switch of a model rendered) and the golden output for `policies/fjordvik`
//! and that policy, with the tests that every vendor implements the same ACLs (here, so
//! that the snapshots keep their names `tests__acl__…`). The parts, one file each:
//!
//! - `read_back`: the library's reader (`check::read::acl`) reads the generated text back
//!   into a ruleset; a lexer of the file's structure (lines for the CLIs, tokens for
//!   Junos); the reader sees what the templates never emit, and reads a hand-written
//!   `show running-config` (`ios_running_config_fixture`);
//! - `injection`: no policy string, however hostile, becomes a command, an option or a
//!   rule: every policy string sits in a remark or comment, the structure of the file is
//!   the same as for harmless strings, and the library's reader finds the same rules;
//! - `semantics`: random policies with switches are checked packet by packet with
//!   `Ruleset::trace` against an oracle computed from the policy alone: the intended
//!   forward packets, the intended answers (TCP with ACK or RST from the service port, UDP
//!   from the service port to an ephemeral port, ICMP echo-reply) and nothing else.
//!
//! The reader's own tests (every problem, hand-written configurations) are in
//! `src/check/read/acl/tests.rs` and `read_back::ios_running_config_fixture`.

mod injection;
mod read_back;
mod semantics;

use std::path::Path;

use crate::check::space::{Cube, Dim, Field};
use crate::diagnostics::code;
use crate::lower::{DeviceRules, lower};
use crate::model::{HostOrDevice, Model, Target};
use crate::targets::Templates;
use crate::targets::acl::{AclOptions, render};

use read_back::{Acls, Entry, Read, policy_ifaces, structure};

/// A fixed digest, so golden files do not change with every edit of the policies.
/// No previous bundle: the rollback steps name no earlier ACL.
fn no_previous() -> crate::targets::acl::PreviousAcls {
    Default::default()
}

/// One switch per vendor, with every kind of service.
const VENDORS_POLICY: &str = r#"
policy "ACL-test – \"leverandører\"" { owner "IT" }
zone klient "Klienter – æøå" { trust internal; net 10.1.0.0/24, fd00:1::/64 }
zone srv "Servere" { trust internal; net 10.2.0.0/24, fd00:2::/64 }
zone drift "Drift" { trust internal; net 10.3.0.0/28 }
zone data "Databaser" { trust internal; net 10.4.0.0/24 }
system web "Web" { zone srv; address 10.2.0.2, fd00:2::2 }
system dns { zone srv; address 10.2.0.53 }
system db "Database" { zone data; address 10.4.0.9 }
system mon { zone drift; address 10.3.0.5 }
service pg { tcp/5432 }
service app "App" { tcp/8000-8010, udp/9000-9001 }
service gre { proto/47 }
flow klient -> web : https, app "Web og app for klientene"
flow klient -> dns : dns "Navneoppslag"
flow web -> db : pg "Webappen leser databasen"
flow mon -> [web, db] : ping, ssh "Overvåking og drift"
flow mon -> klient : any "Fjernhjelp"
flow srv -> drift : gre "Tunnel"
switch sw-ios "Catalyst" { target cisco-ios; interface Vlan10 zone klient; interface Vlan20 zone srv; interface Vlan30 zone drift, data }
switch sw-eos "Arista" { target arista-eos; interface Vlan10 zone klient; interface Vlan20 zone srv; interface Vlan30 zone drift, data; tcam 20 }
switch sw-cx "CX" { target aruba-aoscx; interface vlan10 zone klient; interface vlan20 zone srv; interface vlan30 zone drift, data }
switch sw-junos "EX" { target junos; interface irb.10 zone klient; interface irb.20 zone srv; interface irb.30 zone drift, data }
"#;

fn templates() -> Templates {
    Templates::builtin().expect("templates")
}

/// The switches of a model, rendered: (device name, target, text, entries).
fn render_all(model: &Model, options: &AclOptions) -> Vec<(String, Target, String, usize)> {
    let templates = templates();
    lower(model)
        .into_iter()
        .filter_map(|d: DeviceRules| match d.target {
            HostOrDevice::Device(t) if t != Target::Nftables => {
                let (bytes, stats, _) = render(model, &d, &templates, options, &no_previous())
                    .unwrap_or_else(|e| panic!("{}: {e:?}", d.name));
                Some((d.name.clone(), t, String::from_utf8(bytes).expect("utf-8"), stats.rules))
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Golden files.
// ---------------------------------------------------------------------------------------

#[test]
fn golden_fjordvik_switches() {
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let all = render_all(&model, &AclOptions::default());
    let names: Vec<&str> = all.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(names, ["sw-core", "sw-skole"]);
    for (name, target, text, entries) in &all {
        let r = Read::new(*target, text, &policy_ifaces(&model, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.entries(), *entries, "{name}: Stats.rules counts every entry");
        structure(*target, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("fjordvik_{name}"), text);
    }
}

#[test]
fn golden_one_switch_per_vendor() {
    let model = crate::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
    let all = render_all(&model, &AclOptions::default());
    assert_eq!(all.len(), 4);
    for (name, target, text, entries) in &all {
        let r = Read::new(*target, text, &policy_ifaces(&model, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.entries(), *entries, "{name}");
        // Every interface has an ACL per family.
        assert_eq!(r.acls().len(), 6, "{name}");
        structure(*target, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("vendors_{name}"), text);
    }
}

#[test]
fn every_vendor_implements_the_same_acls() {
    let model = crate::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
    let all = render_all(&model, &AclOptions::default());
    let reads: Vec<(Target, Acls)> = all
        .iter()
        .map(|(n, t, text, _)| (*t, Read::new(*t, text, &policy_ifaces(&model, n)).expect("reads").acls()))
        .collect();
    let ifaces = |t: Target| -> Vec<String> {
        match t {
            Target::Junos => vec!["irb.10".into(), "irb.20".into(), "irb.30".into()],
            Target::ArubaAoscx => vec!["vlan10".into(), "vlan20".into(), "vlan30".into()],
            _ => vec!["Vlan10".into(), "Vlan20".into(), "Vlan30".into()],
        }
    };
    // IOS-XE cannot match the hop limit of neighbour discovery; the others accept it at 255
    // only. Compared at hop limit 255, all four are the same.
    let at_255 = |entries: &Vec<Entry>| -> Vec<Entry> {
        entries
            .iter()
            .map(|(cubes, action)| {
                let nd = |c: &Cube| {
                    c.field(Dim::Proto) == &Field::point(58)
                        && c.field(Dim::Dport)
                            .intervals()
                            .iter()
                            .all(|(lo, hi)| (133..=136).contains(lo) && (133..=136).contains(hi))
                };
                let cubes = cubes
                    .iter()
                    .map(|c| if nd(c) { c.clone().with_value(Dim::Hops, 255).expect("a cube") } else { c.clone() })
                    .collect();
                (cubes, *action)
            })
            .collect()
    };
    let (t0, r0) = &reads[0];
    for (t, r) in &reads[1..] {
        for (a, b) in ifaces(*t0).iter().zip(ifaces(*t)) {
            for v6 in [false, true] {
                let ra = at_255(&r0[&(a.clone(), v6)]);
                let rb = at_255(&r[&(b.clone(), v6)]);
                assert_eq!(ra, rb, "{t0:?} {a} vs {t:?} {b} (v6 {v6})");
            }
        }
    }
    // Only IOS-XE's ND entries leave the hop limit open.
    for (t, r) in &reads {
        let nd_hops: Vec<bool> = r
            .values()
            .flatten()
            .flat_map(|(cubes, _)| cubes.iter())
            .filter(|c| c.field(Dim::Proto) == &Field::point(58) && c.field(Dim::Dport) == &Field::point(135))
            .map(|c| c.field(Dim::Hops) == &Field::point(255))
            .collect();
        assert!(!nd_hops.is_empty(), "{t:?} has ND entries");
        assert!(nd_hops.iter().all(|h| *h == (*t != Target::CiscoIos)), "{t:?}: {nd_hops:?}");
    }
    // And the TCAM budget of sw-eos (20) is exceeded.
    let templates = templates();
    let d = lower(&model).into_iter().find(|d| d.name == "sw-eos").expect("sw-eos");
    let (_, stats, _) = render(&model, &d, &templates, &AclOptions::default(), &no_previous()).expect("renders");
    assert_eq!(crate::targets::acl::over_budget(&model, &d, &stats), Some((20, stats.rules)));
}

#[test]
fn specific_entries_are_exact() {
    let model = crate::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
    let options = AclOptions { ephemeral: (49152, 65535) };
    let all = render_all(&model, &options);
    let (_, _, ios, _) = all.iter().find(|(n, ..)| n == "sw-ios").expect("ios");
    // Forward, established TCP return, UDP return to the ephemeral range only, echo-reply.
    for line in [
        " 10 permit tcp 10.1.0.0 0.0.0.255 host 10.2.0.2 eq 443",
        " permit tcp host 10.2.0.2 eq 443 10.1.0.0 0.0.0.255 established",
        " permit udp host 10.2.0.53 eq 53 10.1.0.0 0.0.0.255 range 49152 65535",
        " permit udp host 10.2.0.2 range 9000 9001 10.1.0.0 0.0.0.255 range 49152 65535",
        " permit icmp host 10.2.0.2 host 10.3.0.5 0",
        " permit 47 10.2.0.0 0.0.0.255 10.3.0.0 0.0.0.15",
        " permit 47 10.3.0.0 0.0.0.15 10.2.0.0 0.0.0.255",
        " permit ip host 10.3.0.5 10.1.0.0 0.0.0.255",
        " permit ip 10.1.0.0 0.0.0.255 host 10.3.0.5",
        " sequence 10 permit icmp any fe80::/10 nd-ns",
        " sequence 20 permit icmp any ff02::/16 nd-ns",
        " deny ip any any log",
        " deny ipv6 any any log",
    ] {
        assert!(ios.contains(line), "missing {line:?} in\n{ios}");
    }
    // Applied by name, and the name ends with the 8-hex-digit hash of the ACL's content.
    let at = ios.find("interface Vlan10\n ip access-group ZC-SW-IOS-VLAN10-IN-V4-").expect("v4 applied");
    let mut lines = ios[at..].lines().skip(1);
    for (line, family) in [
        (lines.next(), "ip access-group ZC-SW-IOS-VLAN10-IN-V4-"),
        (lines.next(), "ipv6 traffic-filter ZC-SW-IOS-VLAN10-IN-V6-"),
    ] {
        let version = line.and_then(|l| l.trim().strip_prefix(family)).and_then(|l| l.strip_suffix(" in"));
        assert!(version.is_some_and(|v| v.len() == 8 && v.bytes().all(|b| b.is_ascii_hexdigit())), "{line:?}");
    }
    // Never all UDP back, never a permit of everything.
    assert!(!ios.contains("permit udp any") && !ios.contains("permit ip any any") && !ios.contains("gt 0"));
    for (name, target, text, _) in &all {
        let r = structure(*target, text).expect("reads");
        assert!(r.free.iter().filter(|(k, _)| *k == "remark").all(|(_, t)| t.len() <= 100), "{name}");
    }
}

#[test]
fn interface_names_a_vendor_cannot_take_are_rejected_with_their_span() {
    let text = "zone a { trust internal; net 10.0.0.0/24 }\nzone b { trust internal; net 10.1.0.0/24 }\n\
                zone c { trust internal; net 10.2.0.0/24 }\n\
                flow a -> b : https \"x\"\n\
                switch s1 { target cisco-ios; interface \"Vlan 10\" zone a; interface Vlan20 zone b; interface \"Vlan\\\"30\" zone c }\n\
                switch s2 { target junos; interface Vlan10 zone a; interface irb.20 zone b; interface \"irb.x\" zone c }\n\
                switch s3 { target aruba-aoscx; interface Vlan10 zone a; interface \"GigabitEthernet1/0/1\" zone b }\n\
                switch s4 { target arista-eos; interface \"Vlan;10\" zone a; interface Ethernet1 zone b }\n";
    let mut model = crate::load_str("p.zc", text).expect("resolves");
    // Names the language cannot even spell must be refused too.
    model.devices[3].interfaces[1].name = "Ethernet1\nip access-list x".into();
    let templates = templates();
    let expect = [("s1", vec![0, 2]), ("s2", vec![0, 2]), ("s3", vec![1]), ("s4", vec![0, 1])];
    for (d, (name, bad)) in lower(&model).iter().zip(expect) {
        assert_eq!(d.name, name);
        let diags = render(&model, d, &templates, &AclOptions::default(), &no_previous()).expect_err("rejected");
        let dev = &model.devices.iter().find(|x| x.name == name).expect("device");
        let spans: Vec<_> = bad.iter().map(|k| dev.interfaces[*k].span).collect();
        assert_eq!(diags.iter().map(|d| d.span).collect::<Vec<_>>(), spans, "{name}: {diags:?}");
        assert!(diags.iter().all(|d| d.code == code::COMPILE_INTERFACE_NAME), "{diags:?}");
    }
}
