//! Unit tests of the readers.

use super::*;
use crate::check::space::Packet;

const PROFILE: &str = "Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True \
                       -DefaultInboundAction Block -DefaultOutboundAction Allow\n";

fn script(body: &str) -> Ruleset {
    read_script(&format!("\u{FEFF}{body}\r\n{PROFILE}").replace('\n', "\r\n"), &mut Ifaces::new())
}

fn tcp_in(src: &str, dst: &str, dport: u16) -> Packet {
    let (s, d): (IpAddr, IpAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
    Packet {
        path: Path::Input,
        iif: 0,
        oif: 0,
        v6: s.is_ipv6(),
        src: addr_value(s),
        dst: addr_value(d),
        proto: 6,
        sport: 50000,
        dport,
        ack: false,
        ct: crate::check::space::Ct::New,
        hops: 64,
    }
}

/// The rules a chain holds that were written as rules (not the profiles' defaults).
fn written(rs: &Ruleset, chain: usize) -> Vec<&Rule> {
    rs.chains[chain].rules.iter().filter(|r| !r.origin.implicit).collect()
}

/// Would every profile accept the packet? (`None` when the profiles disagree.)
fn all_profiles(rs: &Ruleset, p: &Packet) -> Option<bool> {
    let mut ifaces = Ifaces::new();
    let ids = PROFILES.map(|n| ifaces.id(&profile_interface(n)));
    let verdicts: Vec<bool> = ids
        .iter()
        .map(|id| {
            let mut q = *p;
            if q.path == Path::Input {
                q.iif = *id
            } else {
                q.oif = *id
            }
            rs.trace(&q).0
        })
        .collect();
    verdicts.iter().all(|v| *v == verdicts[0]).then_some(verdicts[0])
}

fn names(rs: &Ruleset) -> Vec<String> {
    rs.chains.iter().flat_map(|c| &c.rules).filter_map(|r| r.origin.handle.clone()).collect()
}

#[test]
fn whole_family_prefixes_do_not_overflow() {
    assert_eq!(address("::/0"), Ok((true, 0, u128::MAX)));
    assert_eq!(address("0.0.0.0/0"), Ok((false, 0, u128::from(u32::MAX))));
    assert_eq!(address("10.0.0.0/8"), Ok((false, 0x0a00_0000, 0x0aff_ffff)));
    assert_eq!(address("fd00::/128"), Ok((true, 0xfd00 << 112, 0xfd00 << 112)));
}

#[test]
fn later_removal_removes_created_rules() {
    let rs = script(
        "$g = 'zc'\n\
         $old = @(Get-NetFirewallRule -Group $g -PolicyStore PersistentStore)\n\
         New-NetFirewallRule -Name 'a' -Group $g -LocalPort 80 -Protocol TCP | Out-Null\n\
         New-NetFirewallRule -Name 'b' -Group 'other' -LocalPort 81 -Protocol TCP\n\
         $old | Remove-NetFirewallRule\n\
         Get-NetFirewallRule -Group 'z*' | Remove-NetFirewallRule\n",
    );
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    // $old was taken before `a` existed; the pipeline with a wildcard removes it.
    assert_eq!(names(&rs), ["b"]);
    let rs = script("New-NetFirewallRule -Name 'a' -LocalPort 80 -Protocol TCP\nRemove-NetFirewallRule -Name A\n");
    assert!(names(&rs).is_empty() && rs.problems.is_empty(), "{:?}", rs.problems);
    let rs = script("New-NetFirewallRule -Name 'a' -Protocol TCP\n$x | Remove-NetFirewallRule\n");
    assert_eq!(rs.problems.len(), 1, "{:?}", rs.problems);
    assert_eq!(rs.problems[0].line, 2);
}

#[test]
fn parameters_bind_like_powershell() {
    // Prefixes, `-P:value`, case, barewords, comma lists over lines, $true, a
    // double-quoted literal, a here-string-free comment block.
    let rs = script(
        "<# comment\n spanning lines #>\n\
         new-netfirewallrule -name:'r1' -DisplayName \"Web\" -dir Inbound -Act Allow -Enabled:$true `\n\
           -Protocol tcp -LocalPort 80, `\n 443 -RemoteAddress 10.0.0.0/255.255.255.0,\n '10.0.1.7-10.0.1.9' # trailing\n",
    );
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    assert_eq!(written(&rs, 0).len(), 1);
    let r = written(&rs, 0)[0];
    assert_eq!(r.origin.line, 3);
    assert_eq!(r.origin.text, "Web [allow in tcp remote 10.0.0.0/255.255.255.0,10.0.1.7-10.0.1.9 lport 80,443]");
    assert!(rs.trace(&tcp_in("10.0.0.9", "10.9.9.9", 443)).0);
    assert!(rs.trace(&tcp_in("10.0.1.9", "10.9.9.9", 80)).0);
    assert!(!rs.trace(&tcp_in("10.0.1.10", "10.9.9.9", 80)).0);
    assert!(!rs.trace(&tcp_in("10.0.0.9", "10.9.9.9", 8080)).0);
}

#[test]
fn what_packets_cannot_express_is_a_problem() {
    for (rule, what) in [
        ("-Program 'C:\\x.exe'", "Program"),
        ("-Service 'dnscache'", "Service"),
        ("-InterfaceType Wireless", "InterfaceType"),
        ("-RemoteAddress LocalSubnet", "LocalSubnet"),
        ("-RemoteAddress DefaultGateway", "DefaultGateway"),
        ("-Protocol TCP -LocalPort RPC", "RPC"),
        ("-Protocol TCP -LocalPort IPHTTPS", "IPHTTPS"),
        ("-OverrideBlockRules $true -Authentication Required", "OverrideBlockRules"),
        ("-LocalPort 80", "ports exist only"),
        ("-Protocol UDP -IcmpType 8", "IcmpType"),
        ("-Protocol ICMPv4 -IcmpType 8:300", "type:code"),
        ("-RemoteAddress 10.0.0.0/255.0.255.0", "non-contiguous"),
        ("-RemoteAddress '10.0.0.9-10.0.0.1'", "ends before"),
        ("-RemoteAddress '10.0.0.1-fe80::1'", "mixes"),
        ("-RemoteAddress $(Get-Content x)", "not a literal"),
        ("-RemoteAddress \"$net\"", "expanding"),
        ("@params", "splatting"),
        ("-Frobnicate 1", "unknown parameter"),
        ("-PolicyStore 'ad.example\\GPO'", "Group Policy"),
    ] {
        let rs = script(&format!("New-NetFirewallRule -Name 'r' {rule}"));
        assert!(written(&rs, 0).is_empty(), "{rule}: read");
        assert!(rs.problems.iter().any(|p| p.message.contains(what) && p.line == 1), "{rule}: {:?}", rs.problems);
    }
    // The same in a disabled rule, or in a Block rule's harmless
    // OverrideBlockRules, is nothing.
    // Every profile is evaluated: a Private or Public rule counts as much as a Domain one.
    let rs = script("New-NetFirewallRule -Name 'r' -Profile Private,Public -RemoteAddress LocalSubnet");
    assert!(rs.problems.iter().any(|p| p.message.contains("LocalSubnet")), "{:?}", rs.problems);
    let rs = script("New-NetFirewallRule -Name 'r' -Enabled False -Program 'x'");
    assert!(rs.problems.is_empty() && written(&rs, 0).is_empty(), "{:?}", rs.problems);
    let rs = script("New-NetFirewallRule -Name r -Action Block -OverrideBlockRules $true");
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
}

#[test]
fn block_rules_come_first_and_families_split() {
    let rs = script(
        "New-NetFirewallRule -Name allow -Protocol TCP -LocalAddress @('10.0.0.1', 'fd00::1') -RemoteAddress 'fd01::/64'\n\
         New-NetFirewallRule -Name block -Action Block -Direction Inbound -RemoteAddress 'fd01::5'\n",
    );
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    assert_eq!(names(&rs), ["block", "allow"]);
    // The IPv4 local address has no IPv4 remote address: one IPv6 cube.
    assert_eq!(written(&rs, 0)[1].matches.len(), 1);
    assert!(written(&rs, 0)[1].matches[0].v6());
    assert!(rs.trace(&tcp_in("fd01::4", "fd00::1", 1)).0);
    assert!(!rs.trace(&tcp_in("fd01::5", "fd00::1", 1)).0);
    assert!(!rs.trace(&tcp_in("10.0.0.2", "10.0.0.1", 1)).0);
}

#[test]
fn profile_settings_and_their_absence() {
    let rs = read_script("New-NetFirewallRule -Name r -Protocol TCP\n", &mut Ifaces::new());
    // Three settings of three profiles.
    assert_eq!(rs.problems.len(), 9, "{:?}", rs.problems);
    let rs = read_script(
        "Set-NetFirewallProfile -All -Enabled True -DefaultInboundAction Allow -DefaultOutboundAction NotConfigured\n\
         Set-NetFirewallProfile -Profile Public -DefaultOutboundAction Block\n",
        &mut Ifaces::new(),
    );
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    assert_eq!(all_profiles(&rs, &tcp_in("10.0.0.1", "10.0.0.2", 22)), Some(true));
    // Outbound: Allow (NotConfigured) in Domain and Private, Block in Public.
    let mut out = tcp_in("10.0.0.2", "10.0.0.1", 22);
    out.path = Path::Output;
    assert_eq!(all_profiles(&rs, &out), None);
    let mut ifaces = Ifaces::new();
    let rs = read_script(
        "Set-NetFirewallProfile -All -Enabled True -DefaultInboundAction Allow -DefaultOutboundAction NotConfigured\n\
         Set-NetFirewallProfile -Profile Public -DefaultOutboundAction Block\n",
        &mut ifaces,
    );
    for (profile, allowed) in [("Domain", true), ("Private", true), ("Public", false)] {
        out.oif = ifaces.get(&profile_interface(profile)).expect("named");
        assert_eq!(rs.trace(&out).0, allowed, "{profile}");
    }
    // The Domain profile off: every packet passes there, rules or not; not elsewhere.
    let mut ifaces = Ifaces::new();
    let rs = read_script(
        "New-NetFirewallRule -Name b -Action Block\nSet-NetFirewallProfile -All -Enabled True \
         -DefaultInboundAction Block -DefaultOutboundAction Block\nSet-NetFirewallProfile -Name Domain -Enabled False\n",
        &mut ifaces,
    );
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let mut p = tcp_in("10.0.0.1", "10.0.0.2", 22);
    p.iif = ifaces.get("Domain profile").expect("named");
    assert!(rs.trace(&p).0);
    p.iif = ifaces.get("Private profile").expect("named");
    assert!(!rs.trace(&p).0);
    // Settings of some profiles only leave the others unknown.
    let rs = read_script("Set-NetFirewallProfile -Profile Domain,Private -Enabled True\n", &mut Ifaces::new());
    assert!(rs.problems.iter().any(|p| p.message.contains("Public profile's Enabled")), "{:?}", rs.problems);
    assert!(!rs.problems.iter().any(|p| p.message.contains("Private profile's Enabled")), "{:?}", rs.problems);
    for bad in [
        "if ($x) { Set-NetFirewallProfile -All -Enabled True }",
        "Set-NetFirewallProfile -Enabled True",
        "Set-NetFirewallProfile -All -AllowInboundRules False",
        "netsh advfirewall set allprofiles state off",
        "New-NetFirewallRule -Name a\nSet-NetFirewallRule -Name a -Enabled False",
        "foreach ($i in 1..3) { New-NetFirewallRule -Name a }",
    ] {
        let rs = script(bad);
        assert!(!rs.problems.is_empty(), "{bad}");
    }
}

#[test]
fn unparsable_scripts_are_one_problem() {
    for bad in ["New-NetFirewallRule -Name 'a", "@(", "}", "<# x", "@'\nx", "\"a"] {
        let rs = read_script(bad, &mut Ifaces::new());
        assert_eq!(rs.problems.len(), 1, "{bad}");
        assert!(rs.problems[0].message.contains("does not parse"), "{bad}");
        assert!(written(&rs, 0).is_empty() && written(&rs, 1).is_empty());
        assert!(rs.chains.iter().flat_map(|c| &c.rules).all(|r| r.action == Action::Drop));
    }
}

#[test]
fn export_quirks() {
    let base = r#"{"Name":"r","Enabled":1,"Direction":2,"Action":4,"Profile":1,"LocalAddress":"Any",
        "RemoteAddress":{"value":["10.0.0.0/8"],"Count":1},"Protocol":"6","LocalPort":["Any"],
        "RemotePort":"22","IcmpType":"Any","Program":null}"#;
    let profile =
        |name: &str| format!(r#"{{"Name":"{name}","Enabled":1,"DefaultInboundAction":4,"DefaultOutboundAction":2}}"#);
    let profiles = format!("[{},{},{}]", profile("Domain"), profile("Private"), profile("Public"));
    let rs = read_export(&format!(r#"{{"Rules":{base},"Profiles":{profiles}}}"#), &mut Ifaces::new());
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    // A profile missing from the export is a problem.
    let two = format!("[{},{}]", profile("Domain"), profile("Public"));
    let rs = read_export(&format!(r#"{{"Rules":{base},"Profiles":{two}}}"#), &mut Ifaces::new());
    assert!(rs.problems.iter().any(|p| p.message.contains("no Private profile")), "{:?}", rs.problems);
    // Group Policy keeping the host's own rules out of a profile is a problem.
    let gpo = profiles.replacen(r#""Enabled":1,"#, r#""Enabled":1,"AllowLocalFirewallRules":"False","#, 1);
    let rs = read_export(&format!(r#"{{"Rules":{base},"Profiles":{gpo}}}"#), &mut Ifaces::new());
    assert!(rs.problems.iter().any(|p| p.message.contains("AllowLocalFirewallRules")), "{:?}", rs.problems);
    assert_eq!(written(&rs, 1).len(), 1, "a scalar rule, outbound");
    assert_eq!(written(&rs, 1)[0].action, Action::Drop);
    let no_profiles = read_export(&format!(r#"{{"Rules":[{base}]}}"#), &mut Ifaces::new());
    assert!(no_profiles.problems.iter().any(|p| p.message.contains("no Profiles")));
    let missing = read_export(
        &format!(r#"{{"Rules":[{}],"Profiles":{profiles}}}"#, base.replace(r#""Protocol":"6","#, "")),
        &mut Ifaces::new(),
    );
    assert!(missing.problems.iter().any(|p| p.message.contains("Protocol")), "{:?}", missing.problems);
    // JSON that stops early is refused as cut off.
    for cut in ["", "{", r#"{"Rules":[{"Name":"a""#] {
        assert!(read_export(cut, &mut Ifaces::new()).incomplete.is_some(), "{cut}");
    }
    for bad in ["", "[]", "{", "null"] {
        let rs = read_export(bad, &mut Ifaces::new());
        assert!(!rs.problems.is_empty() || rs.incomplete.is_some(), "{bad}");
    }
}

#[test]
fn rule_profiles_as_names_and_flags() {
    let bits = |v: &[&str]| profile_bits(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(bits(&["Any"]), Ok(7));
    assert_eq!(bits(&["0"]), Ok(7));
    assert_eq!(bits(&["1"]), Ok(1));
    assert_eq!(bits(&["6"]), Ok(6));
    assert_eq!(bits(&["Domain, Private"]), Ok(3));
    assert_eq!(bits(&["Private", "Public"]), Ok(6));
    assert_eq!(bits(&["public"]), Ok(4));
    assert_eq!(bits(&["NotApplicable"]), Ok(0));
    for bad in [&["8"][..], &["Home"], &[""], &[]] {
        assert!(bits(bad).is_err(), "{bad:?}");
    }
    // A rule of one profile matches on that profile's interface only.
    let mut ifaces = Ifaces::new();
    let rs = read_script(
        &format!(
            "New-NetFirewallRule -Name r -Profile Private -Protocol TCP -LocalPort 22\n\
             New-NetFirewallRule -Name s -Profile Public -Protocol TCP -LocalPort 23\n{PROFILE}"
        ),
        &mut ifaces,
    );
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let mut p = tcp_in("10.0.0.1", "10.0.0.2", 22);
    for (profile, allowed) in [("Domain", false), ("Private", true), ("Public", false)] {
        p.iif = ifaces.get(&profile_interface(profile)).expect("named");
        assert_eq!(rs.trace(&p).0, allowed, "{profile}");
    }
    // Interfaces nobody named are Public.
    p.iif = ifaces.count() + 7;
    assert!(!rs.trace(&p).0);
    p.dport = 23;
    assert!(rs.trace(&p).0);
    p.iif = ifaces.get(&profile_interface("Domain")).expect("named");
    assert!(!rs.trace(&p).0);
}
