//! The export reader (`read_export`) on hand-written exports of a live host and of what a
//! Fjordvik script leaves there; every profile counts (issue 18).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use crate::check::read::windows::{profile_interface, read_export, read_script};
use crate::check::read::{Ifaces, Ruleset};
use crate::check::space::{Packet, Path as ZPath, addr_value};

use super::round_trip::{intended, profile_defaults, witness, written};
use super::{decode, render, windows_hosts};

// ---------------------------------------------------------------------------------------
// The export reader
// ---------------------------------------------------------------------------------------

pub(super) const FIXTURES: &str = "tests/fixtures/check/windows";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn packet(path: ZPath, src: &str, dst: &str, proto: u8, sport: u16, dport: u16) -> Packet {
    let (s, d): (IpAddr, IpAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
    Packet {
        path,
        iif: 0,
        oif: 0,
        v6: s.is_ipv6(),
        src: addr_value(s),
        dst: addr_value(d),
        proto,
        sport,
        dport,
        ack: false,
        ct: crate::check::space::Ct::New,
        hops: 64,
    }
}

/// The packet on the interface that stands for a profile (in `ifaces`, as the reader named
/// it).
fn on(ifaces: &Ifaces, profile: &str, mut p: Packet) -> Packet {
    let id = ifaces.get(&profile_interface(profile)).expect("the reader names every profile");
    if p.path == ZPath::Input {
        p.iif = id
    } else {
        p.oif = id
    }
    p
}

/// The verdict, and the handle of the rule that decided (`None`: the default action).
fn verdict(rs: &Ruleset, p: &Packet) -> (bool, Option<String>) {
    let (ok, deciders) = rs.trace(p);
    assert_eq!(deciders.len(), 1, "one base chain per path");
    (ok, deciders[0].1.and_then(|r| rs.rule(r).origin.handle.clone()))
}

#[test]
fn export_block_beats_allow_and_conditions_are_problems() {
    let mut ifaces = Ifaces::new();
    let rs = read_export(&fixture("mixed-export.json"), &mut ifaces);
    // Exactly the enabled rules that packets cannot express: a program, a keyword address
    // (and a program) and a keyword port. Disabled rules are not read at all, whatever
    // their conditions.
    let expect = [
        ("Fagapp-Lytter", "Program"),
        ("WINRM-HTTP-In-TCP", "LocalSubnet"),
        ("WINRM-HTTP-In-TCP", "Program"),
        ("RemoteTask-RPCSS-In-TCP", "RPCEPMap"),
    ];
    assert_eq!(rs.problems.len(), expect.len(), "{:#?}", rs.problems);
    for (name, what) in expect {
        assert!(
            rs.problems.iter().any(|p| p.message.contains(&format!("`{name}`")) && p.message.contains(what)),
            "{name} {what}: {:#?}",
            rs.problems
        );
    }
    // Block rules first, then Allow rules, in the file's order within each; every profile's
    // rules (the Private and Public ones too).
    let handles = |c: usize| -> Vec<String> {
        rs.chains[c]
            .rules
            .iter()
            .filter(|r| !r.origin.implicit)
            .map(|r| r.origin.handle.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(
        handles(0),
        [
            "Block-RDP-Gjestenett",
            "{6A1F2C3E-1B7D-4C8E-9F00-2D3A4B5C6D7E}",
            "HTTPS-In",
            "Ping-In",
            "Fildeling-Privat",
            "Offentlig-UDP"
        ]
    );
    assert_eq!(handles(1), ["Block-Telnet-Ut"]);
    // Origins: display name and summary (with the profiles when not all three),
    // description or group.
    let rdp = &rs.chains[0].rules[2].origin;
    assert!(rdp.text.starts_with("Fjernskrivebord for drift [allow in profile Domain,Private TCP"), "{}", rdp.text);
    assert_eq!(rdp.comment.as_deref(), Some("RDP fra driftsnettet"));
    assert_eq!(rs.chains[0].rules[3].origin.comment.as_deref(), Some("Fagsystem"));
    // Public is off (Enabled False): its packets pass before any rule.
    assert_eq!(rs.chains[0].rules[0].origin.text, "Public profile: firewall off");
    assert!(rs.chains[0].rules[0].origin.implicit);
    // The profiles' defaults, NotConfigured read as Windows' defaults (Block inbound, Allow
    // outbound), in every chain's last rules.
    assert_eq!(
        profile_defaults(&rs),
        [
            "Domain profile: DefaultInboundAction Block",
            "Domain profile: DefaultOutboundAction Allow",
            "Private profile: DefaultInboundAction Allow",
            "Private profile: DefaultOutboundAction Allow",
            "Public profile: DefaultInboundAction Block",
            "Public profile: DefaultOutboundAction Allow",
            "Public profile: firewall off",
        ]
        .map(String::from)
        .into_iter()
        .collect::<BTreeSet<_>>()
    );

    let rdp_allow = Some("{6A1F2C3E-1B7D-4C8E-9F00-2D3A4B5C6D7E}".to_string());
    let block = Some("Block-RDP-Gjestenett".to_string());
    let https = Some("HTTPS-In".to_string());
    let ping = Some("Ping-In".to_string());
    let (i, o) = (ZPath::Input, ZPath::Output);
    // The Domain profile.
    let cases = [
        // The Allow rule (listed first) admits the management net's RDP ...
        (packet(i, "10.20.60.5", "10.20.50.20", 6, 50000, 3389), (true, rdp_allow)),
        // ... but the Block rule listed after it wins for the guest range, on every port.
        (packet(i, "10.20.60.200", "10.20.50.20", 6, 50000, 3389), (false, block.clone())),
        (packet(i, "10.20.60.128", "10.20.50.20", 6, 50000, 443), (false, block.clone())),
        (packet(i, "10.20.61.5", "10.20.50.20", 6, 50000, 3389), (false, None)),
        // Mixed-family local addresses, ports from a wrapped array, numeric enums.
        (packet(i, "2001:db8::1", "fd20:20:0:50::20", 6, 50000, 9005), (true, https.clone())),
        (packet(i, "2001:db8::1", "fd20:20:0:50::20", 6, 50000, 9011), (false, None)),
        (packet(i, "192.0.2.1", "10.20.50.20", 6, 50000, 8443), (true, https)),
        (packet(i, "192.0.2.1", "10.20.50.21", 6, 50000, 443), (false, None)),
        (packet(i, "192.0.2.1", "10.20.50.20", 17, 50000, 443), (false, None)),
        // ICMP type 8 code 0 from 10/8 only.
        (packet(i, "10.1.2.3", "10.20.50.20", 1, 0, 8), (true, ping)),
        (packet(i, "10.1.2.3", "10.20.50.20", 1, 1, 8), (false, None)),
        (packet(i, "10.1.2.3", "10.20.50.20", 1, 0, 0), (false, None)),
        (packet(i, "192.0.2.1", "10.20.50.20", 1, 0, 8), (false, None)),
        // Disabled, Private-only and Public-only rules, and rules left out, admit nothing
        // in the Domain profile.
        (packet(i, "10.20.60.5", "10.20.50.20", 6, 50000, 445), (false, None)),
        (packet(i, "10.20.60.5", "10.20.50.20", 17, 50000, 5353), (false, None)),
        (packet(i, "10.20.60.5", "10.20.50.20", 6, 50000, 8080), (false, None)),
        (packet(i, "10.20.60.5", "10.20.50.20", 6, 50000, 5985), (false, None)),
        // Outbound: the numeric Block rule on remote port 23, else the default Allow.
        (packet(o, "10.20.50.20", "192.0.2.10", 6, 50000, 23), (false, Some("Block-Telnet-Ut".into()))),
        (packet(o, "10.20.50.20", "192.0.2.10", 6, 23, 80), (true, None)),
    ];
    for (p, want) in cases {
        let p = on(&ifaces, "Domain", p);
        assert_eq!(verdict(&rs, &p), want, "{}", p.describe(&ifaces));
    }
    // Private: default Allow inbound, yet Block rules still win; its own rule is read.
    let private = [
        (packet(i, "10.20.60.200", "10.20.50.20", 6, 50000, 3389), (false, block)),
        (packet(i, "10.20.60.5", "10.20.50.20", 6, 50000, 445), (true, Some("Fildeling-Privat".into()))),
        (packet(i, "10.20.61.5", "10.20.50.20", 6, 50000, 8080), (true, None)),
        (packet(o, "10.20.50.20", "192.0.2.10", 6, 50000, 23), (false, Some("Block-Telnet-Ut".into()))),
    ];
    for (p, want) in private {
        let p = on(&ifaces, "Private", p);
        assert_eq!(verdict(&rs, &p), want, "{}", p.describe(&ifaces));
    }
    // Public: the firewall is off, so even the guest range's RDP and outbound telnet pass;
    // so do packets on interfaces nobody named (unidentified networks are Public).
    for p in
        [packet(i, "10.20.60.200", "10.20.50.20", 6, 50000, 3389), packet(o, "10.20.50.20", "192.0.2.10", 6, 50000, 23)]
    {
        for q in [on(&ifaces, "Public", p), p] {
            let (ok, deciders) = rs.trace(&q);
            assert!(ok, "{}", q.describe(&ifaces));
            let rule = deciders[0].1.map(|r| rs.rule(r).origin.text.clone());
            assert_eq!(rule.as_deref(), Some("Public profile: firewall off"));
        }
    }
}

/// Fjordvik's ddc export as JSON (see below).
fn ddc_export() -> serde_json::Value {
    serde_json::from_str(fixture("ddc-export.json").trim_start_matches('\u{FEFF}')).expect("json")
}

/// What zonecheck's script does to a closed host's other rules: every enabled Allow rule
/// outside its group is disabled.
fn disable_foreign_allows(json: &mut serde_json::Value) {
    for r in json["Rules"].as_array_mut().expect("rules") {
        if r["Group"] != "zonecheck" && r["Action"] == "Allow" {
            r["Enabled"] = "False".into();
        }
    }
}

/// `check` of Fjordvik's ddc against an export.
fn check_ddc(json: &serde_json::Value) -> crate::check::DeviceCheck {
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let d = windows_hosts(&model).into_iter().find(|d| d.name == "ddc").expect("ddc");
    crate::check::check_device(
        &model,
        &model.enforcement_point(&d.name).expect("ddc is enforced"),
        crate::check::Format::WindowsExport,
        "ddc.json",
        &json.to_string(),
        &crate::targets::acl::AclOptions::default(),
    )
}

/// An enabled rule of the export's shape: no conditions, every field filled.
fn export_rule(name: &str, group: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let mut r = ddc_export()["Rules"][0].clone();
    for (k, v) in [
        ("Name", name),
        ("DisplayName", name),
        ("Group", group),
        ("Enabled", "True"),
        ("Profile", "Any"),
        ("LocalAddress", "Any"),
        ("RemoteAddress", "Any"),
        ("Protocol", "Any"),
        ("LocalPort", "Any"),
        ("RemotePort", "Any"),
        ("IcmpType", "Any"),
        ("Program", "Any"),
        ("Service", "Any"),
    ]
    .iter()
    .chain(fields)
    {
        r[*k] = serde_json::Value::String((*v).into());
    }
    r
}

#[test]
fn export_of_a_fjordvik_host_permits_what_its_script_does() {
    // ddc.ps1 is zonecheck's script for Fjordvik's ddc (closed zone: both directions
    // filtered, IPv4 and IPv6); ddc-export.json is a Windows Server's effective store with
    // those rules, as PowerShell 5.1 exports it: Windows' own rules are disabled, except two
    // enabled Allow rules outside the Domain profile (network discovery for Private and
    // Public, WinRM for Public).
    let bytes = std::fs::read(Path::new(FIXTURES).join("ddc.ps1")).expect("script");
    let script = decode(&bytes);
    let from_script = read_script(&script, &mut Ifaces::new());
    assert!(from_script.problems.is_empty(), "{:#?}", from_script.problems);

    // As exported: every profile is evaluated, so the two foreign rules count, and they
    // hold conditions packets cannot express (LocalSubnet, a program): cannot decide.
    let mut json = ddc_export();
    let as_found = read_export(&json.to_string(), &mut Ifaces::new());
    let named: Vec<&str> = ["NETDIS-SSDPSrv-In-UDP", "WINRM-HTTP-In-TCP-PUBLIC"]
        .into_iter()
        .filter(|n| as_found.problems.iter().any(|p| p.message.contains(&format!("`{n}`"))))
        .collect();
    assert_eq!(named.len(), 2, "{:#?}", as_found.problems);
    assert_eq!(check_ddc(&json).verdict(), "cannot-decide");

    // After zonecheck's script disabled them, the export permits what the script does, in
    // every profile, and `check` says equal.
    disable_foreign_allows(&mut json);
    let from_export = read_export(&json.to_string(), &mut Ifaces::new());
    assert!(from_export.problems.is_empty(), "{:#?}", from_export.problems);
    assert_eq!((written(&from_script), written(&from_export)), (13, 13));
    let paths = [ZPath::Input, ZPath::Output];
    let a = from_script.permitted(&paths).expect("script").permitted;
    let b = from_export.permitted(&paths).expect("export").permitted;
    assert_eq!(witness(&a, &b).expect("diff"), None);
    assert_eq!(witness(&b, &a).expect("diff"), None);
    let check = check_ddc(&json);
    assert_eq!(check.verdict(), "equal", "{:#?}", check.differences);
    // So does an export that holds zonecheck's group only, the three profiles alike.
    let mut only = json.clone();
    only["Rules"].as_array_mut().expect("rules").retain(|r| r["Group"] == "zonecheck");
    assert_eq!(only["Rules"].as_array().map(Vec::len), Some(13));
    let check = check_ddc(&only);
    assert_eq!(check.verdict(), "equal", "{:#?}", check.differences);
    for rs in [&from_script, &from_export] {
        let defaults = profile_defaults(rs);
        assert_eq!(defaults.len(), 6, "{defaults:?}");
        assert!(defaults.iter().all(|d| d.ends_with("Block")), "closed zone: Block both ways: {defaults:?}");
    }

    // The fixture is the policy's current script for ddc, as far as packets go.
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let d = windows_hosts(&model).into_iter().find(|d| d.name == "ddc").expect("ddc");
    let (current, _) = render(&model, &d);
    let now = read_script(&current, &mut Ifaces::new()).permitted(&paths).expect("current").permitted;
    assert_eq!(witness(&a, &now).expect("diff"), None);
    assert_eq!(witness(&now, &a).expect("diff"), None);
    assert_eq!(witness(&now, &intended(&model, &d)).expect("diff"), None);
}

#[test]
fn export_with_a_block_rule_differs_from_the_script() {
    // The comparison above is not vacuous: one enabled Block rule in the export (here
    // against the monitoring host's ping) shows up as a lost packet.
    let mut json = ddc_export();
    disable_foreign_allows(&mut json);
    let block = export_rule(
        "Block-Ping",
        "",
        &[("Action", "Block"), ("Direction", "Inbound"), ("Protocol", "ICMPv4"), ("RemoteAddress", "10.20.60.30")],
    );
    json["Rules"].as_array_mut().expect("rules").push(block);
    let mut ifaces = Ifaces::new();
    let rs = read_export(&json.to_string(), &mut ifaces);
    assert!(rs.problems.is_empty(), "{:#?}", rs.problems);
    let p = on(&ifaces, "Domain", packet(ZPath::Input, "10.20.60.30", "10.20.11.5", 1, 0, 8));
    assert_eq!(verdict(&rs, &p), (false, Some("Block-Ping".into())));
    let script = decode(&std::fs::read(Path::new(FIXTURES).join("ddc.ps1")).expect("script"));
    let mut ifaces = Ifaces::new();
    let from_script = read_script(&script, &mut ifaces);
    let p = on(&ifaces, "Domain", packet(ZPath::Input, "10.20.60.30", "10.20.11.5", 1, 0, 8));
    assert_eq!(verdict(&from_script, &p), (true, Some("zonecheck-42-flows-felles.zc:70-in-1".into())));
    let check = check_ddc(&json);
    assert_eq!(check.verdict(), "different");
    assert!(check.differences.iter().all(|d| d.direction == crate::check::Direction::Less));
}

#[test]
fn a_profile_off_with_an_allow_all_rule_for_private_and_public_is_a_difference() {
    // Issue 18: the Domain profile exactly as the script leaves it, but the Public profile
    // off and an Allow-everything outbound rule for Private and Public. Checking the Domain
    // profile alone said "equal"; a closed host that cannot reach a domain controller is on
    // Private or Public.
    let mut json = ddc_export();
    disable_foreign_allows(&mut json);
    for p in json["Profiles"].as_array_mut().expect("profiles") {
        if p["Name"] == "Public" {
            p["Enabled"] = "False".into();
        }
    }
    let allow_all =
        export_rule("Alt-ut", "", &[("Action", "Allow"), ("Direction", "Outbound"), ("Profile", "Private, Public")]);
    json["Rules"].as_array_mut().expect("rules").push(allow_all);
    let check = check_ddc(&json);
    assert!(check.problems.is_empty(), "{:#?}", check.problems);
    assert_eq!(check.verdict(), "different");
    let more: Vec<&crate::check::Difference> =
        check.differences.iter().filter(|d| d.direction == crate::check::Direction::More).collect();
    assert!(!more.is_empty());
    // Every extra packet is on Private or Public (interfaces of those profiles), none on
    // Domain; the witnesses name the profile or the rule that lets them through.
    let text: Vec<String> = more
        .iter()
        .map(|d| format!("{} | {}", d.witness_text, d.rule.as_ref().map_or("", |r| r.text.as_str())))
        .collect();
    assert!(text.iter().all(|t| !t.contains("Domain profile")), "{text:#?}");
    assert!(text.iter().any(|t| t.contains("Private profile") && t.contains("Alt-ut")), "{text:#?}");
    assert!(text.iter().any(|t| t.contains("Public profile: firewall off")), "{text:#?}");
    // Both directions of the Public profile are wide open.
    assert!(more.iter().any(|d| d.witness.path == ZPath::Input), "{text:#?}");
    assert!(more.iter().any(|d| d.witness.path == ZPath::Output), "{text:#?}");

    // The same rule for the Domain profile only, with Public on: equal is impossible too.
    let mut json = ddc_export();
    disable_foreign_allows(&mut json);
    json["Rules"].as_array_mut().expect("rules").push(export_rule(
        "Alt-ut",
        "",
        &[("Action", "Allow"), ("Direction", "Outbound"), ("Profile", "Domain")],
    ));
    assert_eq!(check_ddc(&json).verdict(), "different");
    // Profiles that differ only in a default action differ as well.
    let mut json = ddc_export();
    disable_foreign_allows(&mut json);
    json["Profiles"][1]["DefaultOutboundAction"] = "Allow".into();
    let check = check_ddc(&json);
    assert_eq!(check.verdict(), "different");
    assert!(
        check
            .differences
            .iter()
            .all(|d| d.rule.as_ref().is_some_and(|r| r.text == "Private profile: DefaultOutboundAction Allow")),
        "{:#?}",
        check.differences
    );
}

#[test]
fn foreign_allow_rules_on_a_closed_host_are_reported() {
    // Windows' Core Networking rules, left enabled beside zonecheck's group. DNS out is
    // tied to a service (svchost, Dnscache): packets cannot express it, so `check` cannot
    // decide, and names the rule. IPv6-in-IPv4 out has no condition: a difference.
    let mut json = ddc_export();
    disable_foreign_allows(&mut json);
    let dns = export_rule(
        "CoreNet-DNS-Out-UDP",
        "@FirewallAPI.dll,-25000",
        &[
            ("DisplayName", "Core Networking - DNS (UDP-Out)"),
            ("Direction", "Outbound"),
            ("Protocol", "UDP"),
            ("RemotePort", "53"),
            ("Program", "%SystemRoot%\\system32\\svchost.exe"),
            ("Service", "dnscache"),
        ],
    );
    let ipv6 = export_rule(
        "CoreNet-IPv6-Out",
        "@FirewallAPI.dll,-25000",
        &[("DisplayName", "Core Networking - IPv6 (IPv6-Out)"), ("Direction", "Outbound"), ("Protocol", "41")],
    );
    let mut with_dns = json.clone();
    with_dns["Rules"].as_array_mut().expect("rules").push(dns);
    let check = check_ddc(&with_dns);
    assert_eq!(check.verdict(), "cannot-decide");
    assert!(
        check.problems.iter().any(|p| p.message.contains("CoreNet-DNS-Out-UDP") && p.message.contains("Service")),
        "{:#?}",
        check.problems
    );
    json["Rules"].as_array_mut().expect("rules").push(ipv6);
    let check = check_ddc(&json);
    assert_eq!(check.verdict(), "different", "{:#?}", check.problems);
    let rules: BTreeSet<String> =
        check.differences.iter().filter_map(|d| d.rule.as_ref()).filter_map(|r| r.handle.clone()).collect();
    assert_eq!(rules, BTreeSet::from(["CoreNet-IPv6-Out".to_string()]));
    assert!(check.differences.iter().all(|d| d.witness.proto == 41 && d.witness.path == ZPath::Output));
}
