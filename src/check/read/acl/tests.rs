use proptest::prelude::*;

use super::{Dialect, read};
use crate::check::read::{Action, Ruleset};
use crate::check::space::{Dim, Ifaces, Packet, Path, addr_value};

/// A generated file from the golden snapshots of src/tests/acl/mod.rs (without insta's header).
fn snapshot(name: &str) -> String {
    let path = format!("{}/src/tests/acl/snapshots/zonecheck__tests__acl__{name}.snap", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body = text.splitn(3, "---\n").nth(2).unwrap_or_else(|| panic!("{path}: no front matter"));
    body.to_string()
}

/// A packet forwarded in through `iface`.
#[allow(clippy::too_many_arguments)]
fn pkt(ifaces: &mut Ifaces, iface: &str, src: &str, dst: &str, proto: u8, sport: u16, dport: u16, ack: bool) -> Packet {
    let (s, d): (std::net::IpAddr, std::net::IpAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
    Packet {
        path: Path::Forward,
        iif: ifaces.id(iface),
        oif: 0,
        v6: s.is_ipv6(),
        src: addr_value(s),
        dst: addr_value(d),
        proto,
        sport,
        dport,
        ack,
        ct: crate::check::space::Ct::New,
        hops: 64,
    }
}

fn permits(rs: &Ruleset, p: &Packet) -> bool {
    rs.trace(p).0
}

/// Entries read (not the implicit rules, which have no handle).
fn entries(rs: &Ruleset) -> usize {
    rs.chains[1..].iter().flat_map(|c| &c.rules).filter(|r| r.origin.handle.is_some()).count()
}

fn problems(rs: &Ruleset) -> Vec<(usize, String)> {
    rs.problems.iter().map(|p| (p.line, p.message.clone())).collect()
}

/// Exactly one problem, on `line`, whose message contains `what`.
#[track_caller]
fn one_problem(d: Dialect, text: &str, line: usize, what: &str) -> Ruleset {
    let rs = read(d, text, &mut Ifaces::new());
    let p = problems(&rs);
    assert!(p.len() == 1 && p[0].0 == line && p[0].1.contains(what), "{d:?}: want {what:?} on line {line}, got {p:?}");
    rs
}

#[test]
fn generated_files_of_every_vendor_read_without_problems() {
    for (name, d, ifs, n) in [
        ("vendors_sw-ios", Dialect::CiscoIos, ["Vlan10", "Vlan20", "Vlan30"], 60),
        ("vendors_sw-eos", Dialect::AristaEos, ["Vlan10", "Vlan20", "Vlan30"], 60),
        ("vendors_sw-cx", Dialect::ArubaAoscx, ["vlan10", "vlan20", "vlan30"], 60),
        ("vendors_sw-junos", Dialect::Junos, ["irb.10", "irb.20", "irb.30"], 60),
    ] {
        let mut ifaces = Ifaces::new();
        let rs = read(d, &snapshot(name), &mut ifaces);
        assert_eq!(problems(&rs), vec![], "{name}");
        assert_eq!(entries(&rs), n, "{name}");
        // One base chain dispatching three interfaces and two families to six ACLs.
        assert_eq!(rs.bases.len(), 1);
        assert_eq!(rs.chains[0].rules.len(), 6, "{name}");
        assert_eq!(rs.chains.len(), 7, "{name}");
        assert!(rs.chains[0].rules.iter().all(|r| matches!(r.action, Action::Goto(_))));
        let (v10, v20, v30) = (ifs[0], ifs[1], ifs[2]);
        let i = &mut ifaces;
        // klient -> web https, and its answer; not UDP 443, not from elsewhere.
        assert!(permits(&rs, &pkt(i, v10, "10.1.0.7", "10.2.0.2", 6, 40000, 443, false)), "{name}");
        assert!(!permits(&rs, &pkt(i, v10, "10.1.0.7", "10.2.0.2", 17, 40000, 443, false)), "{name}");
        assert!(!permits(&rs, &pkt(i, v10, "10.9.0.7", "10.2.0.2", 6, 40000, 443, false)), "{name}");
        assert!(permits(&rs, &pkt(i, v20, "10.2.0.2", "10.1.0.7", 6, 443, 40000, true)), "{name}");
        assert!(!permits(&rs, &pkt(i, v20, "10.2.0.2", "10.1.0.7", 6, 443, 40000, false)), "{name}");
        // UDP answers only to the ephemeral range.
        assert!(permits(&rs, &pkt(i, v20, "10.2.0.53", "10.1.0.7", 17, 53, 1024, false)), "{name}");
        assert!(!permits(&rs, &pkt(i, v20, "10.2.0.53", "10.1.0.7", 17, 53, 1023, false)), "{name}");
        // Ping: echo from mon, echo-reply back.
        assert!(permits(&rs, &pkt(i, v30, "10.3.0.5", "10.2.0.2", 1, 0, 8, false)), "{name}");
        assert!(!permits(&rs, &pkt(i, v30, "10.3.0.5", "10.2.0.2", 1, 0, 0, false)), "{name}");
        assert!(permits(&rs, &pkt(i, v20, "10.2.0.2", "10.3.0.5", 1, 0, 0, false)), "{name}");
        // GRE, IPv6 and neighbour discovery.
        assert!(permits(&rs, &pkt(i, v20, "10.2.0.9", "10.3.0.1", 47, 0, 0, false)), "{name}");
        assert!(permits(&rs, &pkt(i, v10, "fd00:1::5", "fd00:2::2", 6, 40000, 8005, false)), "{name}");
        assert!(!permits(&rs, &pkt(i, v10, "fd00:1::5", "fd00:2::3", 6, 40000, 8005, false)), "{name}");
        // ND on the link at hop limit 255; at 64 only where IOS-XE cannot tell; never off the link.
        let nd =
            |i: &mut Ifaces, dst: &str, hops: u8| Packet { hops, ..pkt(i, v30, "fe80::1", dst, 58, 0, 135, false) };
        assert!(permits(&rs, &nd(i, "ff02::1", 255)), "{name}");
        assert_eq!(permits(&rs, &nd(i, "ff02::1", 64)), d == Dialect::CiscoIos, "{name}");
        assert!(!permits(&rs, &nd(i, "fd00:1::5", 255)), "{name}: ND towards another segment");
        // An interface with no ACL is not filtered.
        assert!(permits(&rs, &pkt(i, "Vlan99", "10.9.0.1", "10.2.0.2", 6, 1, 2, false)), "{name}");
        // zonecheck's explicit final deny decides what no permit matches.
        let p = pkt(i, v10, "10.1.0.7", "10.4.0.9", 6, 40000, 5432, false);
        let (ok, by) = rs.trace(&p);
        let r = by[0].1.expect("a rule decided");
        assert!(!ok && rs.rule(r).action == Action::Drop && rs.rule(r).origin.handle.is_some(), "{name}");
    }
}

#[test]
fn origins_keep_line_sequence_and_comment() {
    let rs = read(Dialect::CiscoIos, &snapshot("vendors_sw-ios"), &mut Ifaces::new());
    let acl = &rs.chains[1];
    assert_eq!(acl.name, "ZC-SW-IOS-VLAN10-IN-V4-db8f63fe");
    let r = &acl.rules[0];
    assert_eq!(r.origin.line, 17);
    assert_eq!(r.origin.text, "10 permit tcp 10.1.0.0 0.0.0.255 host 10.2.0.2 eq 443");
    assert_eq!(r.origin.handle.as_deref(), Some("10"));
    assert_eq!(r.origin.comment.as_deref(), Some("zc f-e0d1700c klient -> web : https, app: Web og app for klientene"));
    // The comment carries over to the entries of the same remark.
    assert_eq!(acl.rules[2].origin.comment, r.origin.comment);
    let last = acl.rules.last().expect("implicit deny");
    assert_eq!(
        (last.action, last.origin.text.as_str()),
        (Action::Drop, "implicit deny of ACL ZC-SW-IOS-VLAN10-IN-V4-db8f63fe")
    );
    // IOS IPv6 ACLs end in the implicit ND permits before the deny.
    let v6 = &rs.chains[2].rules;
    assert_eq!(v6.len(), 13 + 3);
    assert!(v6[v6.len() - 3].origin.text.contains("nd-na") && v6[v6.len() - 2].origin.text.contains("nd-ns"));
    // Junos: the term name is the handle, the comment before the first term of a flow.
    let rs = read(Dialect::Junos, &snapshot("vendors_sw-junos"), &mut Ifaces::new());
    let r = &rs.chains[1].rules[1];
    assert_eq!(r.origin.handle.as_deref(), Some("zc-20"));
    assert!(r.origin.text.starts_with("term zc-20 { from { source-address { 10.1.0.0/24; }"), "{}", r.origin.text);
    assert_eq!(r.origin.comment.as_deref(), Some("zc f-e0d1700c klient -> web : https, app: Web og app for klientene"));
    // AOS-CX: the comment shares its entry's number.
    let rs = read(Dialect::ArubaAoscx, &snapshot("vendors_sw-cx"), &mut Ifaces::new());
    assert_eq!(
        rs.chains[1].rules[0].origin.comment.as_deref().map(|c| c.starts_with("zc f-e0d1700c klient -> web")),
        Some(true)
    );
}

#[test]
fn fjordvik_switches_read_without_problems() {
    for (name, d) in [("fjordvik_sw-core", Dialect::CiscoIos), ("fjordvik_sw-skole", Dialect::ArubaAoscx)] {
        let rs = read(d, &snapshot(name), &mut Ifaces::new());
        assert_eq!(problems(&rs), vec![], "{name}");
        assert!(entries(&rs) > 20, "{name}");
    }
}

#[test]
fn interfaces_take_the_policys_spelling() {
    // The policy wrote `vlan10` for an IOS switch; the running-config says `Vlan10`.
    let mut ifaces = Ifaces::new();
    let policy = ifaces.id("vlan10");
    let text = "ip access-list extended A\n 10 permit ip any any\ninterface Vlan10\n ip access-group A in\n";
    let rs = read(Dialect::CiscoIos, text, &mut ifaces);
    assert_eq!(rs.chains[0].rules[0].matches[0].field(Dim::Iif).first(), Some(u128::from(policy)));
    // AOS-CX `interface vlan 10` for a policy's `Vlan-10`; canonical `vlan20` otherwise.
    let mut ifaces = Ifaces::new();
    let policy = ifaces.id("Vlan-10");
    let text = "access-list ip A\n    10 permit any any any\n    exit\ninterface vlan 10\n    apply access-list ip A routed-in\ninterface vlan 20\n    apply access-list ip A routed-in\n";
    let rs = read(Dialect::ArubaAoscx, text, &mut ifaces);
    assert_eq!(problems(&rs), vec![]);
    // One rule for the ACL both interfaces share: the ACL is evaluated once for both.
    assert_eq!(rs.chains[0].rules.len(), 1);
    let iif = rs.chains[0].rules[0].matches[0].field(Dim::Iif);
    assert!(iif.contains(u128::from(policy)), "{iif:?}");
    assert!(ifaces.get("vlan20").is_some_and(|v| iif.contains(u128::from(v))), "{iif:?}");
    assert!(rs.chains[0].rules[0].origin.text.contains("also bound to vlan20"), "{:?}", rs.chains[0].rules[0].origin);
    // Junos unit 0 is the policy's bare interface name when it has one.
    let mut ifaces = Ifaces::new();
    let policy = ifaces.id("ge-0/0/1");
    let text = "firewall { filter F { term t { then accept; } } }\ninterfaces { ge-0/0/1 { unit 0 { family inet { filter { input F; } } } } }\n";
    let rs = read(Dialect::Junos, text, &mut ifaces);
    assert_eq!(problems(&rs), vec![]);
    assert_eq!(rs.chains[0].rules[0].matches[0].field(Dim::Iif).first(), Some(u128::from(policy)));
}

#[test]
fn an_acl_on_an_interface_the_policy_does_not_name_is_not_modelled() {
    // `check` seals the interfaces after naming the policy's: a port ACL on Gi1/0/1 filters
    // packets of some VLAN, and the policy does not say which.
    let mut ifaces = Ifaces::new();
    ifaces.id("vlan10");
    ifaces.seal();
    let text = "ip access-list extended A\n 10 permit ip any any\ninterface Vlan10\n ip access-group A in\ninterface GigabitEthernet1/0/1\n switchport access vlan 10\n ip access-group A in\n";
    let rs = read(Dialect::CiscoIos, text, &mut ifaces);
    let p = problems(&rs);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, 7);
    assert!(p[0].1.contains("GigabitEthernet1/0/1") && p[0].1.contains("does not name"), "{p:?}");
}

#[test]
fn ios_entries_without_sequence_numbers_sort_after_the_highest() {
    let text = "ip access-list extended A\n 20 deny tcp any any eq 22\n permit tcp any any\n 10 permit tcp any any eq 22\n\
                interface Vlan1\n ip access-group A in\n";
    let mut ifaces = Ifaces::new();
    let rs = read(Dialect::CiscoIos, text, &mut ifaces);
    assert_eq!(problems(&rs), vec![]);
    let handles: Vec<_> = rs.chains[1].rules.iter().map(|r| r.origin.handle.clone()).collect();
    assert_eq!(handles, [Some("10".into()), Some("20".into()), Some("30".into()), None]);
    assert!(permits(&rs, &pkt(&mut ifaces, "Vlan1", "10.0.0.1", "10.0.0.2", 6, 1, 22, false)));
    // What no entry matches meets the implicit deny, which says so.
    let (ok, by) = rs.trace(&pkt(&mut ifaces, "Vlan1", "10.0.0.1", "10.0.0.2", 17, 1, 22, false));
    let r = rs.rule(by[0].1.expect("a rule decided"));
    assert!(!ok && r.origin.text == "implicit deny of ACL A" && r.origin.line == 1, "{:?}", r.origin);
    // The same number twice: the device refuses the second line.
    one_problem(
        Dialect::CiscoIos,
        "ip access-list extended A\n 10 permit ip any any\n 10 deny ip any any\n",
        3,
        "already taken",
    );
}

#[test]
fn ios_keywords_wildcards_and_operators() {
    let text = "\
ip access-list extended A
 10 permit tcp 10.1.0.77 0.0.0.255 host 10.2.0.2 eq www 443
 20 permit udp any any eq domain ntp
 30 deny tcp any any neq 22
 40 permit tcp any any lt 1024
 50 permit udp any gt 60000 any
 60 permit icmp any any echo
 70 permit icmp any any port-unreachable
 80 permit icmp any any 3 4
 90 permit gre any any log-input
ipv6 access-list B
 permit icmp any any echo-request
 permit tcp any any eq telnet sequence 5
interface Vlan1
 ip access-group A in
 ipv6 traffic-filter B in
";
    let mut i = Ifaces::new();
    let rs = read(Dialect::CiscoIos, text, &mut i);
    assert_eq!(problems(&rs), vec![]);
    let ok = |i: &mut Ifaces, s: &str, d: &str, pr: u8, sp: u16, dp: u16| {
        permits(&rs, &pkt(i, "Vlan1", s, d, pr, sp, dp, false))
    };
    // The wildcard ignores the address's bits under it: 10.1.0.0/24.
    assert!(ok(&mut i, "10.1.0.1", "10.2.0.2", 6, 5, 80) && ok(&mut i, "10.1.0.255", "10.2.0.2", 6, 5, 443));
    assert!(!ok(&mut i, "10.1.1.1", "10.2.0.2", 6, 5, 80));
    assert!(ok(&mut i, "1.1.1.1", "2.2.2.2", 17, 5, 53) && ok(&mut i, "1.1.1.1", "2.2.2.2", 17, 5, 123));
    assert!(!ok(&mut i, "1.1.1.1", "2.2.2.2", 17, 5, 54));
    // neq 22 denies everything but 22; then lt 1024 permits 22.
    assert!(ok(&mut i, "1.1.1.1", "2.2.2.2", 6, 5, 22) && !ok(&mut i, "1.1.1.1", "2.2.2.2", 6, 5, 23));
    assert!(ok(&mut i, "1.1.1.1", "2.2.2.2", 17, 60001, 9) && !ok(&mut i, "1.1.1.1", "2.2.2.2", 17, 60000, 9));
    // ICMP: type in Dport, code in Sport.
    assert!(ok(&mut i, "1.1.1.1", "2.2.2.2", 1, 0, 8) && !ok(&mut i, "1.1.1.1", "2.2.2.2", 1, 0, 0));
    assert!(ok(&mut i, "1.1.1.1", "2.2.2.2", 1, 3, 3) && ok(&mut i, "1.1.1.1", "2.2.2.2", 1, 4, 3));
    assert!(!ok(&mut i, "1.1.1.1", "2.2.2.2", 1, 5, 3));
    assert!(ok(&mut i, "1.1.1.1", "2.2.2.2", 47, 0, 0));
    assert!(ok(&mut i, "fd00::1", "fd00::2", 58, 0, 128) && !ok(&mut i, "fd00::1", "fd00::2", 58, 0, 129));
    assert!(ok(&mut i, "fd00::1", "fd00::2", 6, 1, 23) && !ok(&mut i, "fd00::1", "fd00::2", 6, 1, 22));
    // The implicit ND permits of IOS IPv6 ACLs.
    assert!(ok(&mut i, "fe80::1", "fe80::2", 58, 0, 136) && !ok(&mut i, "fe80::1", "fe80::2", 58, 0, 134));
    // `sequence 5` at the end puts the telnet entry first.
    assert_eq!(rs.chains[2].rules[0].origin.handle.as_deref(), Some("5"));
}

#[test]
fn ios_numbered_and_standard_acls() {
    let text = "\
access-list 10 remark only the admin net
access-list 10 permit 10.9.0.0 0.0.0.255
access-list 10 deny   host 10.9.1.1
access-list 10 permit 10.9.1.0
access-list 101 permit tcp any host 10.0.0.1 eq 22
ip access-list standard S
 permit any
interface Vlan1
 ip access-group 10 in
interface Vlan2
 ip access-group 101 in
interface Vlan3
 ip access-group S in
";
    let mut i = Ifaces::new();
    let rs = read(Dialect::CiscoIos, text, &mut i);
    assert_eq!(problems(&rs), vec![]);
    let ok =
        |i: &mut Ifaces, f: &str, s: &str, d: &str, pr: u8, dp: u16| permits(&rs, &pkt(i, f, s, d, pr, 1, dp, false));
    assert!(ok(&mut i, "Vlan1", "10.9.0.3", "1.1.1.1", 17, 9) && !ok(&mut i, "Vlan1", "10.9.1.1", "1.1.1.1", 6, 9));
    assert!(ok(&mut i, "Vlan1", "10.9.1.0", "1.1.1.1", 6, 9) && !ok(&mut i, "Vlan1", "10.9.1.2", "1.1.1.1", 6, 9));
    assert!(ok(&mut i, "Vlan2", "1.1.1.1", "10.0.0.1", 6, 22) && !ok(&mut i, "Vlan2", "1.1.1.1", "10.0.0.1", 6, 23));
    assert!(ok(&mut i, "Vlan3", "1.1.1.1", "10.0.0.1", 6, 23));
    assert_eq!(rs.chains[1].rules[0].origin.comment.as_deref(), Some("only the admin net"));
}

#[test]
fn running_config_noise_is_skipped_but_banners_cannot_hide_or_fake_state() {
    let text = "\
Building configuration...

Current configuration : 1234 bytes
!
version 17.9
hostname sw1
banner motd ^C
ip access-list extended FAKE
 permit ip any any
^C
vlan 10
 name klient
router ospf 1
 network 10.0.0.0 0.255.255.255 area 0
access-list 5 permit 10.9.0.0 0.0.0.255
line vty 0 4
 access-class 5 in
interface Vlan10
 description klient
 ip address 10.1.0.1 255.255.255.0
 ip access-group A in
 no shutdown
ip access-list extended A
 permit tcp any any eq 22
end
";
    let rs = read(Dialect::CiscoIos, text, &mut Ifaces::new());
    assert_eq!(problems(&rs), vec![]);
    // forward, ACL A, ACL 5 and the vty lines' chain at the input hook.
    assert_eq!(rs.chains.len(), 4);
    assert_eq!(entries(&rs), 2);
}

#[test]
fn every_problem_kind() {
    use Dialect::*;
    let acl = |e: &str| format!("ip access-list extended A\n {e}\n");
    for (e, what) in [
        ("10 permit tcp any object-group WEB", "object groups"),
        ("10 permit object-group SVC any any", "service object groups"),
        ("10 permit tcp any any time-range WORK", "time-range"),
        ("10 permit ip any any fragments", "fragments"),
        ("10 permit ip any any dscp ef", "`dscp`"),
        ("10 permit ip any any tos 4", "`tos`"),
        ("10 permit ip any any precedence 5", "`precedence`"),
        ("10 permit tcp any any reflect R", "reflexive"),
        ("10 evaluate R", "reflexive"),
        ("10 dynamic D permit ip any any", "dynamic"),
        ("10 permit tcp any any syn", "TCP flag"),
        ("10 permit ip 10.0.0.0 0.0.255.0 any", "non-contiguous wildcard"),
        ("10 permit ip 10.0.0.0/8 any", "wildcard mask, not a prefix"),
        ("10 permit tcp any any eq gopherx", "unknown port name"),
        ("10 permit udp any any eq www", "unknown port name `www` for udp"),
        ("10 permit tcp any any range 90 80", "reversed"),
        ("10 permit udp any any established", "`established` without tcp"),
        ("10 permit 0 any any", "protocol 0"),
        ("10 permit foo any any", "unknown protocol"),
        ("10 permit ipv6 any any", "`ipv6` in an IPv4 ACL"),
        ("10 permit tcp any", "ends early"),
        ("10 permit ip any any bogus", "unknown keyword `bogus`"),
        ("10 frobnicate", "unknown ACL line"),
        ("99999999999999999999 permit ip any any", "out of range"),
        ("10", "without an entry"),
        ("no 10", "removing entries"),
    ] {
        one_problem(CiscoIos, &acl(e), 2, what);
    }
    // IPv6 specifics.
    one_problem(CiscoIos, "ipv6 access-list B\n permit ipv6 fd00::1/64 any\n", 2, "host bits");
    one_problem(CiscoIos, "ipv6 access-list B\n permit ipv6 10.0.0.0/8 any\n", 2, "wrong family");
    one_problem(CiscoIos, "ipv6 access-list B\n permit ipv6 any any flow-label 5\n", 2, "`flow-label`");
    // Bindings.
    one_problem(
        CiscoIos,
        &format!("{}interface Vlan1\n ip access-group A out\n", acl("permit ip any any")),
        4,
        "outbound",
    );
    one_problem(CiscoIos, "interface Vlan1\n ip access-group NOPE in\n", 2, "never defined");
    one_problem(
        CiscoIos,
        "ip access-list extended E\n remark nothing\ninterface Vlan1\n ip access-group E in\n",
        4,
        "no entries",
    );
    one_problem(CiscoIos, "interface Vlan1\n no ip access-group A in\n", 2, "removing a binding");
    one_problem(CiscoIos, "ip access-group A in\n", 1, "outside an interface");
    one_problem(CiscoIos, "interface range Gi1/0/1 - 4\n ip access-group A in\n", 1, "interface range");
    // Global state.
    one_problem(CiscoIos, "access-list 300 permit ip any any\n", 1, "not a numbered IP ACL");
    one_problem(
        CiscoIos,
        "ip access-list role-based R\n permit ip any any\ninterface V1\n ip access-group R in\n",
        1,
        "role-based",
    );
    one_problem(CiscoIos, "vlan access-map M 10\n match ip address A\n", 1, "VACL");
    one_problem(CiscoIos, "no ip access-list extended A\n", 1, "removing ACLs");
    one_problem(CiscoIos, "permit ip any any\n", 1, "outside an ACL");
    one_problem(CiscoIos, "ip access-list standard S\n permit any eq 80\n", 2, "standard ACL");
    // EOS.
    let eos = |e: &str| format!("ip access-list A\n   {e}\n");
    one_problem(AristaEos, &eos("10 permit ip 10.0.0.0 0.0.0.255 any"), 2, "not an address");
    one_problem(AristaEos, &eos("10 permit ip any any ttl ge 3"), 2, "hop-limit comparison");
    one_problem(CiscoIos, "ip access-list extended A\n 10 permit ip any any ttl eq 3\n", 2, "`ttl`");
    one_problem(AristaEos, &eos("10 remark x\n   10 permit ip any any"), 3, "already taken");
    one_problem(AristaEos, "hostname x\n", 1, "unknown line");
    one_problem(AristaEos, "abort\n", 1, "abort");
    one_problem(AristaEos, "ip access-list standard S\n", 1, "standard ACL");
    one_problem(AristaEos, "interface Vlan1\n   description x\n", 2, "unknown interface command");
    one_problem(
        AristaEos,
        &format!("{}interface Vlan1\n   ip access-group A out\n", eos("permit ip any any")),
        4,
        "outbound",
    );
    // AOS-CX.
    let cx = |e: &str| format!("access-list ip A\n    {e}\n");
    one_problem(ArubaAoscx, &cx("10 permit any 10.0.0.0/255.0.255.0 any"), 2, "non-contiguous mask");
    one_problem(ArubaAoscx, &cx("10 permit tcp any any eq 1 2"), 2, "unknown keyword `2`");
    one_problem(ArubaAoscx, &cx("10 permit any any any vlan 5"), 2, "`vlan`");
    one_problem(ArubaAoscx, &cx("10 permit tcp any group G any"), 2, "port groups");
    one_problem(ArubaAoscx, "access-list mac M\n    10 permit any any\n", 1, "MAC ACL");
    one_problem(ArubaAoscx, "interface vlan 1\n    apply access-list ip A routed-out\n", 2, "outbound");
    one_problem(ArubaAoscx, "vlan 10\n", 1, "unknown line");
    // Junos.
    let term = |from: &str| {
        format!("firewall {{ family inet {{ filter F {{ term t {{ from {{ {from} }} then accept; }} }} }} }}\n")
    };
    for (from, what) in [
        ("source-address { 10.0.0.0/8; 10.1.0.0/16 except; }", "except"),
        ("source-prefix-list P;", "source-prefix-list"),
        ("destination-port 80;", "without `protocol tcp`"),
        ("protocol tcp; destination-port 80-70;", "reversed"),
        ("protocol udp; icmp-type 8;", "ICMP type or code"),
        ("tcp-established;", "tcp-established"),
        ("protocol tcp; tcp-flags syn;", "tcp-flags"),
        ("protocol frob;", "unknown protocol"),
        ("source-address 10.0.0.1/8;", "host bits"),
        ("next-header tcp;", "next-header"),
        ("is-fragment;", "is-fragment"),
    ] {
        one_problem(Junos, &term(from), 1, what);
    }
    one_problem(Junos, "firewall { filter F { term t { then { policer P; } } } }\n", 1, "policer");
    one_problem(Junos, "firewall { filter F { term t { then { accept; discard; } } } }\n", 1, "two terminating");
    one_problem(Junos, "firewall { policer P { } }\n", 1, "policer");
    one_problem(Junos, "system { host-name x; }\n", 1, "unknown statement");
    one_problem(Junos, "firewall { filter F {\n", 1, "unclosed");
    one_problem(Junos, "firewall { } }\n", 1, "without `{`");
    one_problem(Junos, "/* open\n", 1, "unterminated comment");
    one_problem(Junos, "x \"open\n", 1, "unterminated string");
    one_problem(Junos, "firewall { filter F [ }\n", 1, "list");
    one_problem(Junos, &format!("{}x", "a {".repeat(100)), 1, "too deep");
    let bind = |s: &str| {
        format!(
            "firewall {{ filter F {{ term t {{ then accept; }} }} }}\ninterfaces {{ irb {{ unit 1 {{ family inet {{ filter {{ {s} }} }} }} }} }}\n"
        )
    };
    one_problem(Junos, &bind("output F;"), 2, "filter `output F;`");
    one_problem(Junos, &bind("input-list [ F ];"), 2, "input-list");
    one_problem(Junos, &bind("input G;"), 2, "never defined");
    one_problem(
        Junos,
        "interfaces { irb { unit 1 { family ethernet-switching { filter { input F; } } } } }\n",
        1,
        "ethernet-switching",
    );
}

#[test]
fn junos_lists_next_term_and_inactive() {
    let text = "\
firewall {
    family inet {
        filter F {
            term a { from { protocol [ tcp udp ]; destination-port [ 53 ssh ]; } then { count a; next term; } }
            inactive: term b { then discard; }
            term c { from { source-address 10.0.0.0/8; protocol tcp; destination-port 1000-2000; } then reject; }
            term d { from { protocol tcp; destination-port [ 53 ssh ]; } }
            term e { from { protocol icmp; icmp-type echo-request; } then accept; }
        }
    }
}
interfaces { irb { unit 5 { family inet { filter { input F; } } } } }
";
    let mut i = Ifaces::new();
    let rs = read(Dialect::Junos, text, &mut i);
    assert_eq!(problems(&rs), vec![]);
    assert_eq!(entries(&rs), 4);
    assert_eq!(rs.chains[1].rules[0].action, Action::Continue);
    let ok = |i: &mut Ifaces, s: &str, pr: u8, dp: u16| permits(&rs, &pkt(i, "irb.5", s, "1.1.1.1", pr, 1, dp, false));
    assert!(ok(&mut i, "11.0.0.1", 6, 22) && ok(&mut i, "11.0.0.1", 6, 53) && !ok(&mut i, "11.0.0.1", 17, 53));
    assert!(!ok(&mut i, "10.0.0.1", 6, 1500) && ok(&mut i, "11.0.0.1", 1, 8) && !ok(&mut i, "11.0.0.1", 1, 0));
}

/// Texts to mutate: every generated file, and a hand-written running-config.
fn seeds() -> Vec<(Dialect, String)> {
    let fixture = format!("{}/tests/fixtures/check/acl/ios-running-config.txt", env!("CARGO_MANIFEST_DIR"));
    vec![
        (Dialect::CiscoIos, snapshot("vendors_sw-ios")),
        (Dialect::AristaEos, snapshot("vendors_sw-eos")),
        (Dialect::ArubaAoscx, snapshot("vendors_sw-cx")),
        (Dialect::Junos, snapshot("vendors_sw-junos")),
        (Dialect::CiscoIos, std::fs::read_to_string(fixture).expect("fixture")),
    ]
}

const DIALECTS: [Dialect; 4] = [Dialect::CiscoIos, Dialect::AristaEos, Dialect::ArubaAoscx, Dialect::Junos];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_text_never_panics(d in prop::sample::select(DIALECTS.to_vec()), text in "\\PC{0,400}") {
        let _ = read(d, &text, &mut Ifaces::new());
    }

    #[test]
    fn random_lines_of_acl_words_never_panic(
        d in prop::sample::select(DIALECTS.to_vec()),
        lines in prop::collection::vec(prop::collection::vec(prop::sample::select(vec![
            "ip", "ipv6", "access-list", "extended", "standard", "10", "permit", "deny", "tcp", "udp", "icmp", "any",
            "host", "10.0.0.1", "0.0.0.255", "fd00::/64", "eq", "range", "65535", "0", "lt", "gt", "neq", "www",
            "established", "log", "interface", "Vlan10", "vlan", "access-group", "traffic-filter", "in", "out",
            "apply", "routed-in", "remark", "comment", "{", "}", ";", "[", "]", "term", "from", "then", "filter",
            "family", "inet", "inet6", "unit", "input", "accept", "/*", "*/", "\"", "banner", "^C", "!", "sequence",
        ]), 0..12), 0..30),
    ) {
        let text: String = lines.iter().map(|l| format!("{}{}\n", if l.len() % 2 == 0 { " " } else { "" }, l.join(" "))).collect();
        let _ = read(d, &text, &mut Ifaces::new());
    }

    #[test]
    fn mutated_configs_never_panic(
        k in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, "\\PC{0,12}"), 1..6),
    ) {
        let (d, text) = &seeds()[k];
        let mut t: Vec<char> = text.chars().collect();
        for (at, op, s) in edits {
            let i = at.index(t.len() + 1);
            match op {
                0 => { t.splice(i..i, s.chars()); }
                1 => { t.drain(i..(i + s.len()).min(t.len())); }
                2 => { t.truncate(i); }
                _ => { let j = (i + 40).min(t.len()); let piece: Vec<char> = t[i..j].to_vec(); t.splice(i..i, piece); }
            }
        }
        let text: String = t.into_iter().collect();
        let rs = read(*d, &text, &mut Ifaces::new());
        // Whatever was read is a valid ruleset: evaluating it neither fails nor panics.
        prop_assert!(rs.permitted(&[Path::Forward]).is_ok());
    }
}

/// A running-config with one construct beyond ACLs: a problem on its line naming it.
#[test]
fn ios_constructs_that_change_forwarding_are_not_modelled() {
    let head = "version 17.9\nhostname sw\n!\nip access-list extended A\n 10 permit ip any any\n!\n";
    let cases: [(&str, usize, &str); 12] = [
        ("zone security INSIDE\n!\ninterface Vlan10\n ip access-group A in\n!\nend\n", 7, "zone-based firewall"),
        ("interface Vlan10\n ip access-group A in\n zone-member security INSIDE\n!\nend\n", 9, "zone-member security"),
        (
            "zone-pair security IN-OUT source INSIDE destination OUTSIDE\n service-policy type inspect P\n!\nend\n",
            7,
            "zone-pair",
        ),
        ("interface Vlan10\n ip inspect FW in\n ip access-group A in\n!\nend\n", 8, "ip inspect"),
        (
            "policy-map LIMIT\n class class-default\n  police 1000000 conform-action transmit exceed-action drop\n!\ninterface Vlan10\n ip access-group A in\n service-policy input LIMIT\n!\nend\n",
            13,
            "polices",
        ),
        (
            "policy-map BLOCK\n class SCAVENGER\n  drop\n!\ninterface Vlan10\n service-policy output BLOCK\n!\nend\n",
            12,
            "drops",
        ),
        ("interface Vlan10\n service-policy input NOWHERE\n!\nend\n", 8, "not in the file"),
        ("ip nat inside source static 10.0.0.5 192.0.2.5\n!\nend\n", 7, "NAT"),
        ("interface Vlan10\n ip verify unicast source reachable-via rx\n!\nend\n", 8, "unicast RPF"),
        ("interface Vlan10\n ip policy route-map PBR\n!\nend\n", 8, "policy-based routing"),
        ("interface GigabitEthernet1/0/5\n authentication port-control auto\n!\nend\n", 8, "802.1X"),
        ("template ACCESS\n ip access-group A in\n!\nend\n", 8, "template ACCESS"),
    ];
    for (tail, line, what) in cases {
        let text = format!("{head}{tail}");
        let rs = read(Dialect::CiscoIos, &text, &mut Ifaces::new());
        let p = problems(&rs);
        assert!(p.iter().any(|(l, m)| *l == line && m.contains(what)), "{tail}: want line {line} `{what}`: {p:?}");
        assert!(rs.incomplete.is_none(), "{tail}");
    }
}

#[test]
fn ios_qos_that_only_marks_is_left_aside() {
    let text = "version 17.9\nip access-list extended A\n 10 permit ip any any\npolicy-map MARK\n class VOICE\n  set dscp ef\n class class-default\n  bandwidth remaining percent 50\n!\ncontrol-plane\n service-policy input COPP\n!\ninterface Vlan10\n ip access-group A in\n service-policy input MARK\n ip nat inside\n!\nend\n";
    let rs = read(Dialect::CiscoIos, text, &mut Ifaces::new());
    assert_eq!(problems(&rs), vec![]);
    assert!(rs.incomplete.is_none());
}

#[test]
fn running_configs_cut_off_before_end_are_refused() {
    let whole = "Building configuration...\n\nCurrent configuration : 100 bytes\n!\nip access-list extended A\n 10 permit ip any any\n!\ninterface Vlan10\n ip access-group A in\n!\nend\n";
    assert!(read(Dialect::CiscoIos, whole, &mut Ifaces::new()).incomplete.is_none());
    let cut = &whole[..whole.find(" ip access-group").expect("cut")];
    let rs = read(Dialect::CiscoIos, cut, &mut Ifaces::new());
    let inc = rs.incomplete.expect("refused");
    assert_eq!(inc.line, 8, "the last line read");
    assert!(inc.message.contains("`end`"), "{inc:?}");
    // Lines to paste (no running-config marks) have no end to miss.
    let paste = "ip access-list extended A\n 10 permit ip any any\n";
    assert!(read(Dialect::CiscoIos, paste, &mut Ifaces::new()).incomplete.is_none());
    // EOS: a running-config ends with `end`, a session with `commit`.
    let eos = "! Command: show running-config\n! device: sw (DCS-7050)\n!\nip access-list A\n   10 permit ip any any\n   counters per-entry\n!\nend\n";
    let rs = read(Dialect::AristaEos, eos, &mut Ifaces::new());
    assert_eq!(problems(&rs), vec![], "counters per-entry is an ACL line");
    assert!(rs.incomplete.is_none());
    let rs = read(Dialect::AristaEos, &eos[..eos.len() - 4], &mut Ifaces::new());
    assert!(rs.incomplete.is_some());
    let session = "configure session zc\nip access-list A\n   10 permit ip any any\n";
    assert!(read(Dialect::AristaEos, session, &mut Ifaces::new()).incomplete.is_some());
    let committed = format!("{session}commit\n");
    assert!(read(Dialect::AristaEos, &committed, &mut Ifaces::new()).incomplete.is_none());
}

/// Two SVIs: clients on Vlan10 may open HTTPS (TCP) and a UDP service on the server VLAN;
/// the server VLAN's ACL lets nothing back by itself.
const CBAC: &str = "version 17.9\nhostname sw\n\
ip inspect name FW tcp\nip inspect name FW udp\n\
ip access-list extended KLIENT\n 10 permit tcp 10.1.0.0 0.0.0.255 host 10.2.0.2 eq 443\n 20 permit udp 10.1.0.0 0.0.0.255 host 10.2.0.2 eq 9000\n\
ip access-list extended SRV\n 10 permit icmp any any echo-reply\n\
interface Vlan10\n ip access-group KLIENT in\n!\ninterface Vlan20\n ip inspect FW out\n ip access-group SRV in\n!\nend\n";

/// CBAC: the answers to the permitted connections through an inspected interface pass;
/// the symbolic evaluation and the packet trace agree on every packet of a grid.
#[test]
fn inspection_lets_the_answers_back_and_trace_agrees() {
    let mut ifaces = Ifaces::new();
    let (v10, v20) = (ifaces.id("Vlan10"), ifaces.id("Vlan20"));
    ifaces.seal();
    // An interface the policy does not name (and without an ACL): connections entering
    // there are outside the comparison and not inspected.
    let other = ifaces.id("Vlan30");
    let rs = read(Dialect::CiscoIos, CBAC, &mut ifaces);
    assert!(rs.problems.is_empty(), "{:?}", problems(&rs));
    assert_eq!(rs.stateful().len(), 1);
    let ev = rs.permitted(&[Path::Forward]).expect("evaluates");
    let addr = |s: &str| addr_value(s.parse().expect("address"));
    let p = |iif, oif, src: &str, dst: &str, proto, sport, dport, ack| Packet {
        path: Path::Forward,
        iif,
        oif,
        v6: false,
        src: addr(src),
        dst: addr(dst),
        proto,
        sport,
        dport,
        ack,
        ct: crate::check::space::Ct::New,
        hops: 64,
    };
    // The HTTPS answer, to the client's port, with ACK: passes, named by the inspection.
    let answer = p(v20, v10, "10.2.0.2", "10.1.0.9", 6, 443, 50000, true);
    let (ok, deciders) = rs.trace(&answer);
    assert!(ok && ev.permitted.contains(&answer));
    let rule = rs.rule(deciders[0].1.expect("a rule"));
    assert_eq!((rule.action, rule.origin.line), (Action::Inspect, 14), "{:?}", rule.origin);
    // A SYN from the server (no ACK) is no answer; nor is one from another port, or to a
    // host that could not have opened the connection.
    for q in [
        p(v20, v10, "10.2.0.2", "10.1.0.9", 6, 443, 50000, false),
        p(v20, v10, "10.2.0.2", "10.1.0.9", 6, 22, 50000, true),
        p(v20, v10, "10.2.0.2", "10.3.0.9", 6, 443, 50000, true),
    ] {
        assert!(!rs.trace(&q).0 && !ev.permitted.contains(&q), "{q:?}");
    }
    // UDP answers come back to whatever port the client sent from.
    assert!(rs.trace(&p(v20, v10, "10.2.0.2", "10.1.0.9", 17, 9000, 53, false)).0);
    // Trace and evaluation agree on a grid of packets.
    let ifs = [v10, v20, other];
    let hosts = ["10.1.0.9", "10.2.0.2", "10.3.0.9"];
    let mut checked = 0;
    for iif in ifs {
        for oif in ifs {
            for src in hosts {
                for dst in hosts {
                    for (proto, sport, dport) in
                        [(6, 443, 50000), (6, 50000, 443), (17, 9000, 53), (17, 53, 9000), (1, 0, 0), (1, 0, 8)]
                    {
                        for ack in [false, true] {
                            let q = p(iif, oif, src, dst, proto, sport, dport, ack && proto == 6);
                            assert_eq!(rs.trace(&q).0, ev.permitted.contains(&q), "{q:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 900);
    // Without the inspection, no answer passes.
    let plain = read(Dialect::CiscoIos, &CBAC.replace(" ip inspect FW out\n", ""), &mut ifaces.clone());
    assert!(!plain.trace(&answer).0);
}

#[test]
fn inspections_that_are_not_modelled_are_problems() {
    one_problem(
        Dialect::CiscoIos,
        &CBAC.replace("ip inspect name FW udp\n", "ip inspect name FW ftp\n"),
        14,
        "inspection of ftp",
    );
    one_problem(
        Dialect::CiscoIos,
        &CBAC.replace(" ip inspect FW out\n", " ip inspect NOPE out\n"),
        14,
        "not in the file",
    );
    one_problem(Dialect::CiscoIos, &CBAC.replace(" ip inspect FW out\n", " ipv6 inspect FW out\n"), 14, "not modelled");
    // With a QoS policy that drops, the answers would still meet it: not modelled.
    let with_qos = CBAC
        .replace("interface Vlan10\n", "class-map match-any UDP\n match access-group name SRV\npolicy-map DROP\n class UDP\n  drop\ninterface Vlan10\n")
        .replace(" ip access-group SRV in\n", " ip access-group SRV in\n service-policy input DROP\n");
    one_problem(Dialect::CiscoIos, &with_qos, 19, "together with a QoS policy");
}

/// A QoS class that drops what an ACL permits: its denies do not match, earlier classes
/// shield their packets, and the drop is on the interface's input only.
#[test]
fn qos_drop_classes_deny_their_acl() {
    let text = "version 17.9\nhostname sw\n\
class-map match-any BLOCK\n match access-group name QOS\n\
class-map match-all MGMT\n match access-group 150\n\
policy-map IN\n class MGMT\n  set dscp cs6\n class BLOCK\n  drop\n class class-default\n  set dscp default\n\
ip access-list extended QOS\n 10 deny tcp host 10.1.0.5 any eq 445\n 20 permit tcp any any eq 445\n 30 permit udp any any\n\
access-list 150 permit udp host 10.1.0.6 any eq 161\n\
ip access-list extended ALL\n 10 permit ip any any\n\
interface Vlan10\n service-policy input IN\n ip access-group ALL in\n!\ninterface Vlan20\n ip access-group ALL in\n!\nend\n";
    let mut ifaces = Ifaces::new();
    for i in ["Vlan10", "Vlan20"] {
        ifaces.id(i);
    }
    ifaces.seal();
    let rs = read(Dialect::CiscoIos, text, &mut ifaces);
    assert!(rs.problems.is_empty(), "{:?}", problems(&rs));
    let ev = rs.permitted(&[Path::Forward]).expect("evaluates");
    let mut i = ifaces.clone();
    let mut q = |iface: &str, src: &str, proto, dport| {
        let mut p = pkt(&mut i, iface, src, "10.2.0.2", proto, 50000, dport, false);
        p.oif = 1;
        let pass = permits(&rs, &p);
        assert_eq!(pass, ev.permitted.contains(&p), "{p:?}");
        pass
    };
    assert!(!q("Vlan10", "10.1.0.9", 6, 445), "SMB dropped by class BLOCK");
    assert!(q("Vlan10", "10.1.0.5", 6, 445), "a deny in the class ACL does not match");
    assert!(!q("Vlan10", "10.1.0.9", 17, 53), "all UDP dropped");
    assert!(q("Vlan10", "10.1.0.6", 17, 161), "class MGMT takes it first");
    assert!(q("Vlan10", "10.1.0.9", 6, 443), "class-default passes");
    assert!(q("Vlan20", "10.1.0.9", 6, 445), "no policy on Vlan20");
    // Refused: policing, a drop on output, a DSCP match before the drop, an undefined class.
    one_problem(Dialect::CiscoIos, &text.replace("  drop\n", "  police 8000\n"), 22, "polices");
    one_problem(
        Dialect::CiscoIos,
        &text.replace("service-policy input IN", "service-policy output IN"),
        22,
        "on output",
    );
    one_problem(
        Dialect::CiscoIos,
        &text.replace(" match access-group 150\n", " match dscp cs6\n"),
        22,
        "match dscp cs6",
    );
    one_problem(
        Dialect::CiscoIos,
        &text.replace("class-map match-any BLOCK\n", "class-map match-any OTHER\n"),
        22,
        "class-map BLOCK",
    );
}

/// Hop-limit (TTL) matches as each vendor writes them: the neighbour discovery entries
/// zonecheck compiles, and comparisons people write.
#[test]
fn hop_limits_of_every_vendor() {
    use crate::check::space::{Dim, Field};
    use Dialect::*;
    let hops = |d: Dialect, text: &str| -> Vec<Field> {
        let mut ifaces = Ifaces::new();
        let rs = read(d, text, &mut ifaces);
        assert!(rs.problems.is_empty(), "{d:?}: {:?}", problems(&rs));
        rs.chains
            .iter()
            .flat_map(|c| c.rules.iter())
            .filter(|r| !r.origin.implicit)
            .flat_map(|r| r.matches.iter().map(|c| c.field(Dim::Hops).clone()))
            .collect()
    };
    let only = |v: u128| vec![Field::point(v)];
    assert_eq!(
        hops(
            AristaEos,
            "ipv6 access-list A\n   10 permit icmpv6 any fe80::/10 neighbor-solicitation hop-limit eq 255\n"
        ),
        only(255)
    );
    assert_eq!(
        hops(AristaEos, "ip access-list A\n   10 permit ip any any ttl neq 1\n"),
        vec![Field::range(0, 0).union(&Field::range(2, 255))]
    );
    assert_eq!(hops(AristaEos, "ip access-list A\n   10 permit ip any any ttl gt 254\n"), only(255));
    assert_eq!(
        hops(ArubaAoscx, "access-list ipv6 A\n    10 permit icmpv6 any fe80::/10 icmp-type 135 ttl 255\n"),
        only(255)
    );
    let junos = "firewall {\n family inet6 {\n  filter F {\n   term nd {\n    from {\n     next-header icmp6;\n     icmp-type 135;\n     hop-limit 255;\n    }\n    then accept;\n   }\n   term low {\n    from {\n     hop-limit [ 1-10 64 ];\n    }\n    then discard;\n   }\n  }\n }\n}\n";
    assert_eq!(hops(Junos, junos), vec![Field::point(255), Field::range(1, 10).union(&Field::point(64))]);
    // `ttl` is IPv4's word, `hop-limit` IPv6's: the other one is a problem.
    one_problem(AristaEos, "ipv6 access-list A\n   10 permit ipv6 any any ttl eq 3\n", 2, "`ttl`");
}

/// A new TCP connection to the switch itself.
fn to_switch(src: &str, dst: &str, dport: u16) -> Packet {
    let (s, d): (std::net::IpAddr, std::net::IpAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
    Packet {
        path: Path::Input,
        iif: 1,
        oif: 0,
        v6: s.is_ipv6(),
        src: addr_value(s),
        dst: addr_value(d),
        proto: 6,
        sport: 40000,
        dport,
        ack: false,
        ct: crate::check::space::Ct::New,
        hops: 64,
    }
}

/// The management plane as running-configs print it: IOS vty lines in two ranges with a
/// numbered standard ACL (what most switches carry), EOS `management ssh`, AOS-CX's
/// control-plane ACL and Junos' lo0 filter. Terminal access is what the ACL says; other
/// packets to the switch pass where the binding is terminal-only (vty, `management ssh`).
#[test]
fn management_acls_guard_terminal_access_to_the_switch() {
    let ios = "hostname sw\n!\naccess-list 10 permit 10.0.60.0 0.0.0.255\naccess-list 10 deny any log\n!\n\
               line con 0\n exec-timeout 5 0\nline vty 0 4\n access-class 10 in\n transport input ssh\n\
               line vty 5 15\n access-class 10 in vrf-also\n transport input ssh\n!\nend\n";
    let eos = "ip access-list MGMT\n   10 permit tcp 10.0.60.0/24 any eq ssh\n!\nmanagement ssh\n   idle-timeout 60\n   ip access-group MGMT in\n!\nend\n";
    let cx = "access-list ip MGMT\n    10 permit tcp 10.0.60.0/255.255.255.0 any eq 22\n    20 deny tcp any any range 22 23\n    30 permit any any any\n    exit\napply access-list ip MGMT control-plane vrf default\n";
    let junos = "firewall {\n    family inet {\n        filter MGMT {\n            term ssh {\n                from {\n                    source-address { 10.0.60.0/24; }\n                    protocol tcp;\n                    destination-port 22;\n                }\n                then accept;\n            }\n            term no-ssh {\n                from {\n                    protocol tcp;\n                    destination-port [ 22 23 ];\n                }\n                then discard;\n            }\n            term rest {\n                then accept;\n            }\n        }\n    }\n}\ninterfaces {\n    lo0 {\n        unit 0 {\n            family inet {\n                filter {\n                    input MGMT;\n                }\n            }\n        }\n    }\n}\n";
    for (d, text, other_port_passes) in [
        (Dialect::CiscoIos, ios, true),
        (Dialect::AristaEos, eos, true),
        (Dialect::ArubaAoscx, cx, true),
        (Dialect::Junos, junos, true),
    ] {
        let rs = read(d, text, &mut Ifaces::new());
        assert_eq!(problems(&rs), vec![], "{d:?}");
        assert!(rs.bases.iter().any(|b| b.hook == crate::check::read::Hook::Input), "{d:?}: bound to the input hook");
        assert!(permits(&rs, &to_switch("10.0.60.7", "10.0.60.2", 22)), "{d:?}: ssh from the management net");
        assert!(!permits(&rs, &to_switch("10.0.32.7", "10.0.60.2", 22)), "{d:?}: ssh from elsewhere");
        assert_eq!(permits(&rs, &to_switch("10.0.32.7", "10.0.60.2", 179)), other_port_passes, "{d:?}: BGP");
        // Forwarded packets never meet a management ACL.
        let mut fwd = to_switch("10.0.32.7", "10.0.60.2", 22);
        (fwd.path, fwd.oif) = (Path::Forward, 2);
        assert!(permits(&rs, &fwd), "{d:?}: forwarded");
    }
}

#[test]
fn vty_lines_that_disagree_or_name_a_destination_cannot_be_decided() {
    // One range without an access-class: a session on it is not filtered.
    let mixed = "access-list 10 permit 10.0.60.0 0.0.0.255\nline vty 0 4\n access-class 10 in\nline vty 5 15\n transport input ssh\n";
    one_problem(Dialect::CiscoIos, mixed, 4, "vty lines differ");
    // Before CSCuw89081, IOS compares only the source of a vty session.
    let dst = "ip access-list extended M\n 10 permit tcp any host 10.0.60.2 eq 22\nline vty 0 15\n access-class M in\n";
    one_problem(Dialect::CiscoIos, dst, 2, "CSCuw89081");
    // A control-plane ACL of another VRF (the out-of-band port) is outside the policy.
    let vrf = "access-list ip M\n    10 permit any any any\n    exit\napply access-list ip M control-plane vrf mgmt\n";
    one_problem(Dialect::ArubaAoscx, vrf, 4, "another VRF");
    // Bound but never defined.
    one_problem(Dialect::AristaEos, "management ssh\n   ip access-group NOPE in\n", 2, "never defined");
}

/// An ACL with no entries bound to the switch's own input: the device may treat it as
/// absent and let every session in, so the verdict cannot rest on its implicit deny —
/// as on an interface.
#[test]
fn an_empty_acl_on_the_terminal_lines_or_the_control_plane_cannot_be_decided() {
    let ios = "ip access-list standard VTY\n!\nline vty 0 15\n access-class VTY in\n transport input ssh\n";
    one_problem(Dialect::CiscoIos, ios, 4, "has no entries");
    let cx = "access-list ip MGMT\n    exit\napply access-list ip MGMT control-plane vrf default\n";
    one_problem(Dialect::ArubaAoscx, cx, 3, "has no entries");
    let eos = "ip access-list SSH\n!\nmanagement ssh\n   ip access-group SSH in\n";
    one_problem(Dialect::AristaEos, eos, 4, "has no entries");
    // With one entry it is an ordinary ACL: no problem.
    let one = "ip access-list standard VTY\n 10 permit 10.0.60.0 0.0.0.255\n!\nline vty 0 15\n access-class VTY in\n";
    assert!(problems(&read(Dialect::CiscoIos, one, &mut Ifaces::new())).is_empty());
}
