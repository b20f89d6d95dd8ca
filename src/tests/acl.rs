//! Switch ACL targets (Cisco IOS-XE, Aruba AOS-CX, Juniper Junos, Arista EOS):
//!
//! - golden output for `policies/fjordvik` and a small policy with one switch per vendor;
//! - injection: a per-vendor lexer (lines for the CLIs, tokens for Junos) proves that no
//!   policy string, however hostile, becomes a command, an option or a rule: every policy
//!   string sits in a remark or comment, the structure of the file is the same as for
//!   harmless strings, and the library's reader finds the same rules;
//! - semantics: the library's reader (`check::read::acl`) reads the generated text back
//!   into a ruleset, and random policies with switches are checked packet by packet with
//!   `Ruleset::trace` against an oracle computed from the policy alone: the intended
//!   forward packets, the intended answers (TCP with ACK or RST from the service port, UDP
//!   from the service port to an ephemeral port, ICMP echo-reply) and nothing else.
//!
//! The reader's own tests (every problem, hand-written configurations) are in
//! `src/check/read/acl/tests.rs` and `ios_running_config_fixture` below.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use crate::check::read::acl::{self, Dialect};
use crate::check::read::{Action, Ruleset};
use crate::check::space::{Cube, Dim, Field, Ifaces, Packet, Path as PathDim, addr_max, dim_max};
use crate::diagnostics::code;
use crate::lower::{DeviceRules, lower};
use crate::model::HostOrDevice;
use crate::model::{Model, Target};
use crate::targets::Templates;
use crate::targets::acl::{AclOptions, render};
use ipnet::IpNet;
use proptest::prelude::*;

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
    Templates::load(None).expect("templates")
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
// Reading back: the library's reader (`check::read::acl`) for the semantics; the file's
// structure (lines, tokens, free text) by a lexer of its own here.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pkt {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
    icmp: u8,
    ack: bool,
    rst: bool,
    /// The hop limit (TTL) it arrives with.
    hops: u8,
}

fn dialect(t: Target) -> Dialect {
    match t {
        Target::CiscoIos => Dialect::CiscoIos,
        Target::AristaEos => Dialect::AristaEos,
        Target::ArubaAoscx => Dialect::ArubaAoscx,
        Target::Junos => Dialect::Junos,
        Target::Nftables | Target::Windows => panic!("not a switch target"),
    }
}

/// The interfaces of a device as the policy names them.
fn policy_ifaces(model: &Model, device: &str) -> Vec<String> {
    let d = model.devices.iter().find(|d| d.name == device).expect("device");
    d.interfaces.iter().map(|i| i.name.clone()).collect()
}

/// One entry of an ACL as the library reads it: its packets and its verdict.
type Entry = (Vec<Cube>, Action);

/// (interface, IPv6?) → the written entries of the ACL bound there.
type Acls = BTreeMap<(String, bool), Vec<Entry>>;

/// A switch file read by the library, with the policy's interface names numbered first
/// (as `check` does).
struct Read {
    rs: Ruleset,
    ifaces: Ifaces,
}

impl Read {
    fn new(target: Target, text: &str, policy_ifaces: &[String]) -> Result<Read, String> {
        let mut ifaces = Ifaces::new();
        for n in policy_ifaces {
            ifaces.id(n);
        }
        let rs = acl::read(dialect(target), text, &mut ifaces);
        if !rs.problems.is_empty() {
            return Err(format!("problems: {:?}", rs.problems));
        }
        Ok(Read { rs, ifaces })
    }

    /// The entries written in the file (the implicit rules have no handle).
    fn entries(&self) -> usize {
        self.rs.chains[1..].iter().flat_map(|c| &c.rules).filter(|r| r.origin.handle.is_some()).count()
    }

    /// (interface, IPv6?) → the written entries of the ACL bound there.
    fn acls(&self) -> Acls {
        let mut out = BTreeMap::new();
        for r in &self.rs.chains[0].rules {
            let (Some(c), Action::Goto(chain)) = (r.matches.first(), r.action) else { panic!("not a dispatch: {r:?}") };
            let iif = c.field(Dim::Iif).first().expect("an interface") as u32;
            let rules = self.rs.chains[chain].rules.iter().filter(|r| r.origin.handle.is_some());
            out.insert((self.ifaces.name(iif), c.v6()), rules.map(|r| (r.matches.clone(), r.action)).collect());
        }
        out
    }

    /// Does the device let `p` in through `iface` (the policy's name)?
    fn permits(&self, iface: &str, p: &Pkt) -> bool {
        let icmp = matches!(p.proto, 1 | 58);
        let packet = Packet {
            path: PathDim::Forward,
            iif: self.ifaces.get(iface).expect("a policy interface"),
            oif: 0,
            v6: p.src.is_ipv6(),
            src: to_u128(p.src),
            dst: to_u128(p.dst),
            proto: p.proto,
            sport: if icmp { 0 } else { p.sport },
            dport: if icmp { u16::from(p.icmp) } else { p.dport },
            ack: p.ack || p.rst,
            ct: crate::check::space::Ct::New,
            hops: p.hops,
        };
        self.rs.trace(&packet).0
    }
}

/// The file's structure: each line (CLIs) or token (Junos), with every free text (remark,
/// comment, string) replaced by `…`; and the free texts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Structure {
    skeleton: Vec<String>,
    free: Vec<(&'static str, String)>,
}

/// A CLI remark line: (what precedes the text, the text). IOS ` remark X`, EOS
/// `   N remark X`, AOS-CX `    N comment X`.
fn remark(target: Target, line: &str) -> Option<(String, String)> {
    let (ind, kw) = match target {
        Target::CiscoIos => (" ", "remark "),
        Target::AristaEos => ("   ", "remark "),
        _ => ("    ", "comment "),
    };
    let body = line.strip_prefix(ind)?;
    if target == Target::CiscoIos {
        return Some((format!("{ind}{kw}"), body.strip_prefix(kw)?.to_string()));
    }
    let (n, rest) = body.split_once(' ')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((format!("{ind}{n} {kw}"), rest.strip_prefix(kw)?.to_string()))
}

/// `s` with every `-` and 8 lowercase hex digits at the end of a name (the version of an ACL
/// or configuration session, a hash of the rendered entries and remarks) as `-<version>`:
/// remarks differ between policies with other strings, so the names do too.
fn unversioned(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).is_some_and(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        let name_end = |j: usize| b.get(j).is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'-');
        if b[i] == b'-' && (1..=8).all(|k| hex(i + k)) && name_end(i + 9) {
            out.push_str("-<version>");
            i += 9;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn structure(target: Target, text: &str) -> Result<Structure, String> {
    let mut s = structure_versioned(target, text)?;
    s.skeleton = s.skeleton.iter().map(|l| unversioned(l)).collect();
    Ok(s)
}

fn structure_versioned(target: Target, text: &str) -> Result<Structure, String> {
    let mut s = Structure::default();
    if target == Target::Junos {
        for t in lex_junos(text)? {
            match t {
                Tok::Comment(c) => {
                    s.free.push(("comment", c));
                    s.skeleton.push("/* … */".into());
                }
                Tok::Str(x) => {
                    s.free.push(("string", x));
                    s.skeleton.push("\"…\"".into());
                }
                other => s.skeleton.push(format!("{other:?}")),
            }
        }
        return Ok(s);
    }
    let body = text.strip_suffix('\n').ok_or("the file does not end with a newline")?;
    for line in body.split('\n') {
        if let Some(c) = line.strip_prefix("! ") {
            s.free.push(("comment", c.to_string()));
            s.skeleton.push("! …".into());
        } else if let Some((head, r)) = remark(target, line) {
            s.free.push(("remark", r));
            s.skeleton.push(format!("{head}…"));
        } else {
            s.skeleton.push(line.to_string());
        }
    }
    Ok(s)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Comment(String),
    Open,
    Close,
    Semi,
    LBr,
    RBr,
}

/// Junos configuration text as tokens: `/* */` and `#` comments, `"…"` strings (with `\`
/// escapes, on one line), braces, brackets, `;`, and words.
fn lex_junos(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            let start = i + 2;
            let mut j = start;
            while j + 1 < b.len() && !(b[j] == '*' && b[j + 1] == '/') {
                j += 1;
            }
            if j + 1 >= b.len() {
                return Err("unterminated comment".into());
            }
            out.push(Tok::Comment(b[start..j].iter().collect()));
            i = j + 2;
        } else if c == '#' {
            let j = b[i..].iter().position(|&c| c == '\n').map_or(b.len(), |p| i + p);
            out.push(Tok::Comment(b[i + 1..j].iter().collect()));
            i = j;
        } else if c == '"' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None | Some('\n') => return Err("unterminated string".into()),
                    Some('"') => break,
                    Some('\\') => {
                        s.push(*b.get(j + 1).ok_or("escape at the end")?);
                        j += 2;
                    }
                    Some(&c) => {
                        s.push(c);
                        j += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
            i = j + 1;
        } else {
            let t = match c {
                '{' => Some(Tok::Open),
                '}' => Some(Tok::Close),
                ';' => Some(Tok::Semi),
                '[' => Some(Tok::LBr),
                ']' => Some(Tok::RBr),
                _ => None,
            };
            if let Some(t) = t {
                out.push(t);
                i += 1;
                continue;
            }
            let mut j = i;
            let ends = |j: usize| {
                j >= b.len()
                    || b[j].is_whitespace()
                    || "{};[]\"".contains(b[j])
                    || b[j] == '/' && b.get(j + 1) == Some(&'*')
            };
            while !ends(j) {
                j += 1;
            }
            out.push(Tok::Word(b[i..j].iter().collect()));
            i = j;
        }
    }
    Ok(out)
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

// ---------------------------------------------------------------------------------------
// Injection.
// ---------------------------------------------------------------------------------------

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => "\\PC{0,120}",
        1 => prop::sample::select(vec![
            "x\npermit ip any any",
            "x\r\nend",
            "\r\nno ip access-list extended ZC",
            "\" ; set firewall family inet filter F term t then accept ; \"",
            "x } } firewall { family inet { filter EVIL { term t { then accept; } } } }",
            "*/ term evil { then accept; } /*",
            "{ ; # ! ’ ‘ “ ” ? \\ \t",
            "ok\u{2028}permit ip any any\u{85}deny\u{0}\u{1b}[2J",
            "! comment\n 5 permit ip any any",
            "remark x\n interface Vlan1\n ip access-group NONE in",
            "æøå ÆØÅ – § 45 🏥 🔒",
        ])
        .prop_map(String::from),
        1 => (any::<String>(), prop::sample::select(vec!["\npermit ip any any\n", "\r\nend\r\n", "*/}", "\"", "?"]))
            .prop_map(|(a, b)| format!("{a}{b}{a}")),
    ]
}

/// Set every policy string that can reach a switch file (descriptions, labels, the policy
/// name, system, zone, service and group names) from `s`.
fn set_strings(model: &mut Model, s: &[String]) {
    let pick = |i: usize| s[i % s.len()].clone();
    model.meta.name = Some(pick(0));
    for (i, f) in model.flows.iter_mut().enumerate() {
        f.description = pick(i + 1);
    }
    for (i, x) in model.systems.iter_mut().enumerate() {
        x.label = Some(pick(i + 2));
        x.name = format!("{}{i}", pick(i + 3));
    }
    for (i, z) in model.zones.iter_mut().enumerate() {
        z.label = Some(pick(i + 4));
        z.name = format!("{}{i}", pick(i + 5));
    }
    for (i, v) in model.services.iter_mut().enumerate() {
        v.name = format!("{}{i}", pick(i + 6));
    }
    for (i, g) in model.groups.iter_mut().enumerate() {
        g.name = format!("{}{i}", pick(i + 7));
    }
    for (i, d) in model.devices.iter_mut().enumerate() {
        d.label = Some(pick(i + 8));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn no_policy_string_becomes_a_command_an_option_or_a_rule(strings in prop::collection::vec(hostile(), 1..6)) {
        let base = crate::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
        let mut evil = base.clone();
        set_strings(&mut evil, &strings);
        let mut tame = base;
        set_strings(&mut tame, &["x".to_string()]);
        let evil_out = render_all(&evil, &AclOptions::default());
        let tame_out = render_all(&tame, &AclOptions::default());
        for ((name, target, text, _), (_, _, tame_text, _)) in evil_out.iter().zip(&tame_out) {
            let r = structure(*target, text).map_err(|e| TestCaseError::fail(format!("{name}: {e}\n{text}")))?;
            let t = structure(*target, tame_text).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            // The same commands, options and rules as with harmless strings.
            prop_assert_eq!(&r.skeleton, &t.skeleton, "{}", name);
            let ifs = policy_ifaces(&evil, name);
            let rules = Read::new(*target, text, &ifs).map_err(|e| TestCaseError::fail(format!("{name}: {e}\n{text}")))?;
            let tame_rules = Read::new(*target, tame_text, &ifs).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            prop_assert_eq!(rules.acls(), tame_rules.acls());
            for (kind, s) in &r.free {
                prop_assert!(s.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{name}: {kind} {s:?}");
                prop_assert!(!s.contains('?') && !s.contains('"') && !s.contains('\\'), "{name}: {kind} {s:?}");
                if *kind == "remark" {
                    prop_assert!(s.len() <= 100, "{name}: {s:?}");
                }
                if *target == Target::Junos {
                    prop_assert!(!s.contains('*'), "{name}: {s:?}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Semantics: random policies with switches against an oracle.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct GZone {
    len4: u8,
    len6: Option<u8>,
    iface: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GItem {
    Tcp(u16, u16),
    Udp(u16, u16),
    Icmp(Option<u8>),
    Icmp6(Option<u8>),
    Proto(u8),
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GRef {
    Zone(usize),
    Sys(usize),
}

#[derive(Clone, Debug)]
struct GFlow {
    from: Vec<GRef>,
    to: Vec<GRef>,
    svcs: Vec<usize>,
}

#[derive(Clone, Debug)]
struct GPolicy {
    target: Target,
    zones: Vec<GZone>,
    /// (zone, offset in the zone, has IPv6).
    systems: Vec<(usize, u8, bool)>,
    services: Vec<Vec<GItem>>,
    flows: Vec<GFlow>,
    eph: (u16, u16),
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![Just(1u16), Just(22), Just(53), Just(443), 1000u16..1006, Just(1023), Just(1024), Just(65535)]
}

fn item() -> impl Strategy<Value = GItem> {
    prop_oneof![
        4 => (port(), 0u16..4).prop_map(|(lo, n)| GItem::Tcp(lo, lo.saturating_add(n))),
        4 => (port(), 0u16..4).prop_map(|(lo, n)| GItem::Udp(lo, lo.saturating_add(n))),
        2 => prop::option::of(prop::sample::select(vec![0u8, 3, 8, 13])).prop_map(GItem::Icmp),
        2 => prop::option::of(prop::sample::select(vec![128u8, 129, 2])).prop_map(GItem::Icmp6),
        1 => prop::sample::select(vec![47u8, 50, 6, 17, 1, 58]).prop_map(GItem::Proto),
        1 => Just(GItem::Any),
    ]
}

fn gpolicy() -> impl Strategy<Value = GPolicy> {
    let target = prop::sample::select(vec![Target::CiscoIos, Target::AristaEos, Target::ArubaAoscx, Target::Junos]);
    let zone = (16u8..=32, prop::option::of(32u8..=128), prop::option::weighted(0.85, 0usize..4));
    let flow = (
        prop::collection::vec((any::<bool>(), 0usize..8), 1..=2),
        prop::collection::vec((any::<bool>(), 0usize..8), 1..=2),
        prop::collection::vec(0usize..3, 1..=2),
    );
    let eph = prop::sample::select(vec![(1024u16, 65535u16), (49152, 65535), (32768, 60999)]);
    (
        target,
        2usize..=4,
        prop::collection::vec(zone, 2..=5),
        prop::collection::vec((0usize..5, any::<bool>()), 0..=5),
        prop::collection::vec(prop::collection::vec(item(), 1..=3), 1..=3),
        prop::collection::vec(flow, 1..=4),
        eph,
    )
        .prop_map(|(target, n_if, zones, systems, services, flows, eph)| {
            let zones: Vec<GZone> = zones
                .into_iter()
                .map(|(len4, len6, iface)| GZone { len4, len6, iface: iface.map(|i| i % n_if) })
                .collect();
            let mut count = vec![0u8; zones.len()];
            let mut sys = Vec::new();
            for (z, v6) in systems {
                let z = z % zones.len();
                // Systems at offsets 1 and 2 need a zone of four addresses or more.
                if count[z] < 2 && zones[z].len4 <= 30 {
                    count[z] += 1;
                    sys.push((z, count[z], v6 && zones[z].len6.is_some_and(|l| l <= 126)));
                }
            }
            let nsvc = services.len();
            let r = |(s, i): (bool, usize)| {
                if s && !sys.is_empty() { GRef::Sys(i % sys.len()) } else { GRef::Zone(i % zones.len()) }
            };
            let flows = flows
                .into_iter()
                .map(|(from, to, svcs)| {
                    let mut from: Vec<GRef> = from.into_iter().map(r).collect();
                    let mut to: Vec<GRef> = to.into_iter().map(r).collect();
                    let mut svcs: Vec<usize> = svcs.into_iter().map(|s| s % nsvc).collect();
                    from.sort();
                    from.dedup();
                    to.sort();
                    to.dedup();
                    svcs.sort();
                    svcs.dedup();
                    GFlow { from, to, svcs }
                })
                .collect();
            GPolicy { target, zones, systems: sys, services, flows, eph }
        })
}

impl GPolicy {
    fn zone_nets(&self, z: usize) -> Vec<IpNet> {
        let g = &self.zones[z];
        let mut v = vec![format!("10.{z}.0.0/{}", g.len4).parse().expect("v4")];
        if let Some(l) = g.len6 {
            v.push(format!("fd00:{z}::/{l}").parse().expect("v6"));
        }
        v
    }

    fn sys_addrs(&self, s: usize) -> Vec<IpNet> {
        let (z, o, v6) = self.systems[s];
        let mut v = vec![format!("10.{z}.0.{o}/32").parse().expect("v4")];
        if v6 {
            v.push(format!("fd00:{z}::{o}/128").parse().expect("v6"));
        }
        v
    }

    fn side(&self, refs: &[GRef]) -> Vec<(usize, IpNet)> {
        refs.iter()
            .flat_map(|r| match *r {
                GRef::Zone(z) => self.zone_nets(z).into_iter().map(|n| (z, n)).collect::<Vec<_>>(),
                GRef::Sys(s) => self.sys_addrs(s).into_iter().map(|n| (self.systems[s].0, n)).collect(),
            })
            .collect()
    }

    fn iface_name(&self, k: usize) -> String {
        let n = 10 * (k + 1);
        match self.target {
            Target::ArubaAoscx => format!("vlan{n}"),
            Target::Junos => format!("irb.{n}"),
            _ => format!("Vlan{n}"),
        }
    }

    fn ifaces(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.zones.iter().filter_map(|z| z.iface).collect();
        v.sort();
        v.dedup();
        v
    }

    fn text(&self) -> String {
        let mut s = String::new();
        for (i, z) in self.zones.iter().enumerate() {
            let nets: Vec<String> = self.zone_nets(i).iter().map(|n| n.to_string()).collect();
            s.push_str(&format!("zone z{i} {{ trust internal; net {} }}\n", nets.join(", ")));
            let _ = z;
        }
        for (i, (z, _, _)) in self.systems.iter().enumerate() {
            let addrs: Vec<String> = self.sys_addrs(i).iter().map(|n| n.addr().to_string()).collect();
            s.push_str(&format!("system s{i} {{ zone z{z}; address {} }}\n", addrs.join(", ")));
        }
        for (i, items) in self.services.iter().enumerate() {
            let items: Vec<String> = items
                .iter()
                .map(|it| match *it {
                    GItem::Tcp(lo, hi) if lo == hi => format!("tcp/{lo}"),
                    GItem::Tcp(lo, hi) => format!("tcp/{lo}-{hi}"),
                    GItem::Udp(lo, hi) if lo == hi => format!("udp/{lo}"),
                    GItem::Udp(lo, hi) => format!("udp/{lo}-{hi}"),
                    GItem::Icmp(None) => "icmp".into(),
                    GItem::Icmp(Some(t)) => format!("icmp/{t}"),
                    GItem::Icmp6(None) => "icmpv6".into(),
                    GItem::Icmp6(Some(t)) => format!("icmpv6/{t}"),
                    GItem::Proto(p) => format!("proto/{p}"),
                    GItem::Any => "any".into(),
                })
                .collect();
            s.push_str(&format!("service v{i} {{ {} }}\n", items.join(", ")));
        }
        let refs = |r: &[GRef]| {
            let names: Vec<String> = r
                .iter()
                .map(|r| match r {
                    GRef::Zone(z) => format!("z{z}"),
                    GRef::Sys(x) => format!("s{x}"),
                })
                .collect();
            if names.len() == 1 { names.concat() } else { format!("[{}]", names.join(", ")) }
        };
        for (i, f) in self.flows.iter().enumerate() {
            let svcs: Vec<String> = f.svcs.iter().map(|v| format!("v{v}")).collect();
            s.push_str(&format!("flow {} -> {} : {} \"flow {i}\"\n", refs(&f.from), refs(&f.to), svcs.join(", ")));
        }
        let target = match self.target {
            Target::CiscoIos => "cisco-ios",
            Target::AristaEos => "arista-eos",
            Target::ArubaAoscx => "aruba-aoscx",
            _ => "junos",
        };
        s.push_str(&format!("switch sw {{\n  target {target}\n"));
        for k in self.ifaces() {
            let zones: Vec<String> =
                (0..self.zones.len()).filter(|z| self.zones[*z].iface == Some(k)).map(|z| format!("z{z}")).collect();
            s.push_str(&format!("  interface {} zone {}\n", self.iface_name(k), zones.join(", ")));
        }
        s.push_str("}\n");
        s
    }

    /// Does the ACL of interface `k` permit `p`? Computed from the policy alone.
    fn oracle(&self, k: usize, p: &Pkt) -> bool {
        let v6 = p.src.is_ipv6();
        // Neighbour discovery stays on the link: towards link-local addresses, link-scoped
        // multicast or the segment's own space, at hop limit 255 where the vendor can say so
        // (IOS-XE's IPv6 ACLs cannot). Other ND is decided like any ICMPv6 below.
        if v6 && p.proto == 58 && [133, 135, 136].contains(&p.icmp) {
            let link = ["fe80::/10", "ff02::/16"].map(|n| n.parse::<IpNet>().expect("prefix"));
            let own = (0..self.zones.len()).filter(|z| self.zones[*z].iface == Some(k)).flat_map(|z| self.zone_nets(z));
            let on_link = link.into_iter().chain(own).any(|n| n.contains(&p.dst));
            if on_link && (self.target == Target::CiscoIos || p.hops == 255) {
                return true;
            }
        }
        let eph = |port: u16| self.eph.0 <= port && port <= self.eph.1;
        let established = p.proto == 6 && (p.ack || p.rst);
        for f in &self.flows {
            let from = self.side(&f.from);
            let to = self.side(&f.to);
            for &(za, a) in &from {
                for &(zb, b) in &to {
                    // Zones on no SVI are behind the switch's uplink. Traffic crosses the
                    // switch unless both ends are off it, or both are in one zone.
                    const UPLINK: usize = usize::MAX;
                    let (ia, ib) = (self.zones[za].iface.unwrap_or(UPLINK), self.zones[zb].iface.unwrap_or(UPLINK));
                    let crosses = (ia != UPLINK || ib != UPLINK) && (ia != ib || za != zb);
                    if !crosses || a.addr().is_ipv6() != v6 || b.addr().is_ipv6() != v6 {
                        continue;
                    }
                    for it in f.svcs.iter().flat_map(|s| self.services[*s].iter()) {
                        // Forward: from a (behind k) to b.
                        if ia == k && a.contains(&p.src) && b.contains(&p.dst) {
                            let ok = match *it {
                                GItem::Tcp(lo, hi) => p.proto == 6 && (lo..=hi).contains(&p.dport),
                                GItem::Udp(lo, hi) => p.proto == 17 && (lo..=hi).contains(&p.dport),
                                GItem::Icmp(t) => !v6 && p.proto == 1 && t.is_none_or(|t| t == p.icmp),
                                GItem::Icmp6(t) => v6 && p.proto == 58 && t.is_none_or(|t| t == p.icmp),
                                GItem::Proto(n) => p.proto == n,
                                GItem::Any => true,
                            };
                            if ok {
                                return true;
                            }
                        }
                        // Answers: from b (behind k) back to a.
                        if ib == k && b.contains(&p.src) && a.contains(&p.dst) {
                            let ok = match *it {
                                GItem::Tcp(lo, hi) => p.proto == 6 && (lo..=hi).contains(&p.sport) && established,
                                GItem::Udp(lo, hi) => p.proto == 17 && (lo..=hi).contains(&p.sport) && eph(p.dport),
                                GItem::Icmp(None) => !v6 && p.proto == 1,
                                GItem::Icmp(Some(8)) => !v6 && p.proto == 1 && p.icmp == 0,
                                GItem::Icmp(Some(13)) => !v6 && p.proto == 1 && p.icmp == 14,
                                GItem::Icmp(Some(_)) => false,
                                GItem::Icmp6(None) => v6 && p.proto == 58,
                                GItem::Icmp6(Some(128)) => v6 && p.proto == 58 && p.icmp == 129,
                                GItem::Icmp6(Some(_)) => false,
                                GItem::Proto(n) => p.proto == n,
                                GItem::Any => true,
                            };
                            if ok {
                                return true;
                            }
                        }
                    }
                }
            }
        }
        false
    }
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(v6: bool, x: u128) -> Option<IpAddr> {
    if v6 { Some(IpAddr::V6(x.into())) } else { u32::try_from(x).ok().map(|x| IpAddr::V4(x.into())) }
}

/// Addresses inside a prefix (first, last) and just outside it.
fn addr_samples(n: &IpNet) -> Vec<IpAddr> {
    let v6 = n.addr().is_ipv6();
    let (lo, hi) = (to_u128(n.network()), to_u128(n.broadcast()));
    let mut v = vec![n.network(), n.broadcast()];
    v.extend(lo.checked_sub(1).and_then(|x| from_u128(v6, x)));
    v.extend(hi.checked_add(1).and_then(|x| from_u128(v6, x)));
    v
}

fn port_samples(r: Option<(u16, u16)>, extra: &[u16]) -> Vec<u16> {
    let mut v = extra.to_vec();
    if let Some((lo, hi)) = r {
        v.extend([lo, hi]);
        v.extend(lo.checked_sub(1));
        v.extend(hi.checked_add(1));
    }
    v.sort();
    v.dedup();
    v
}

/// The value of a one-value field.
fn single(f: &Field) -> Option<u128> {
    match &*f.intervals() {
        [(a, b)] if a == b => Some(*a),
        _ => None,
    }
}

/// A field of addresses as prefixes; empty for every address of the family.
fn nets(f: &Field, v6: bool) -> Vec<IpNet> {
    if *f == Field::range(0, addr_max(v6)) {
        return Vec::new();
    }
    let bits: u32 = if v6 { 128 } else { 32 };
    let mut out = Vec::new();
    for &(lo, hi) in f.intervals().iter() {
        let mut lo = lo;
        loop {
            // The largest aligned block from `lo` that stays within `hi`.
            let mut k = if lo == 0 { bits } else { lo.trailing_zeros().min(bits) }.min(127);
            while k > 0 && lo.checked_add((1u128 << k) - 1).is_none_or(|e| e > hi) {
                k -= 1;
            }
            let end = lo + ((1u128 << k) - 1);
            let addr = from_u128(v6, lo).expect("an address of the family");
            out.push(IpNet::new(addr, (bits - k) as u8).expect("a prefix"));
            if end >= hi {
                break;
            }
            lo = end + 1;
        }
    }
    out
}

/// A box of packets: a rule or an intended flow. Empty address lists mean any.
struct Probe<'a> {
    src: &'a [IpNet],
    dst: &'a [IpNet],
    v6: bool,
    proto: Option<u8>,
    sport: Option<(u16, u16)>,
    dport: Option<(u16, u16)>,
    icmp: Option<u8>,
}

/// Packets around a box: one inside it, and variants that move one field at a time to
/// the edges and just past them (addresses, ports, protocol, ICMP type), each TCP packet
/// with no flags, with ACK and with RST.
fn box_samples(b: &Probe, eph: (u16, u16)) -> Vec<Pkt> {
    let any: IpNet = if b.v6 { "fd00:7::/32".parse().expect("v6") } else { "10.7.0.0/16".parse().expect("v4") };
    let srcs = if b.src.is_empty() { vec![any] } else { b.src.to_vec() };
    let dsts = if b.dst.is_empty() { vec![any] } else { b.dst.to_vec() };
    let protos: Vec<u8> = match b.proto {
        Some(p) => vec![p, p.wrapping_add(1)],
        None => vec![6, 17, if b.v6 { 58 } else { 1 }, 47],
    };
    let mut out = Vec::new();
    for &pr in &protos {
        for sn in &srcs {
            for dn in &dsts {
                let base = Pkt {
                    src: sn.network(),
                    dst: dn.network(),
                    proto: pr,
                    sport: b.sport.map_or(40000, |r| r.0),
                    dport: b.dport.map_or(40000, |r| r.0),
                    icmp: b.icmp.unwrap_or(if b.v6 { 128 } else { 8 }),
                    ack: false,
                    rst: false,
                    hops: 64,
                };
                let mut variants = vec![base];
                variants.extend(addr_samples(sn).into_iter().map(|a| Pkt { src: a, ..base }));
                variants.extend(addr_samples(dn).into_iter().map(|a| Pkt { dst: a, ..base }));
                if matches!(pr, 6 | 17) {
                    let sports = port_samples(b.sport, &[eph.0, eph.1, 80]);
                    variants.extend(sports.into_iter().map(|p| Pkt { sport: p, ..base }));
                    let dports = port_samples(b.dport, &[eph.0, eph.0.saturating_sub(1), eph.1, 443]);
                    variants.extend(dports.into_iter().map(|p| Pkt { dport: p, ..base }));
                }
                if matches!(pr, 1 | 58) {
                    let mut types = vec![0u8, 8, 13, 14, 128, 129, 133, 134, 135, 136, 3];
                    if let Some(t) = b.icmp {
                        types.extend([t.wrapping_add(1), t.wrapping_sub(1)]);
                    }
                    variants.extend(
                        types.into_iter().flat_map(|t| [Pkt { icmp: t, ..base }, Pkt { icmp: t, hops: 255, ..base }]),
                    );
                }
                for v in variants {
                    if v.src.is_ipv6() != b.v6 || v.dst.is_ipv6() != b.v6 {
                        continue;
                    }
                    if pr == 6 {
                        out.extend([v, Pkt { ack: true, ..v }, Pkt { rst: true, ..v }]);
                    } else {
                        out.push(v);
                    }
                }
            }
        }
    }
    out
}

/// A service item as (protocol, destination ports, ICMP type).
type Shape = (Option<u8>, Option<(u16, u16)>, Option<u8>);

fn item_box(it: GItem, v6: bool) -> Option<Shape> {
    Some(match it {
        GItem::Tcp(lo, hi) => (Some(6), Some((lo, hi)), None),
        GItem::Udp(lo, hi) => (Some(17), Some((lo, hi)), None),
        GItem::Icmp(t) if !v6 => (Some(1), None, t),
        GItem::Icmp6(t) if v6 => (Some(58), None, t),
        GItem::Icmp(_) | GItem::Icmp6(_) => return None,
        GItem::Proto(p) => (Some(p), None, None),
        GItem::Any => (None, None, None),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn each_acl_permits_exactly_the_flows_and_their_answers(g in gpolicy()) {
        let text = g.text();
        let model = crate::load_str("gen.zc", &text)
            .map_err(|e| TestCaseError::fail(format!("{}\n{text}", crate::diagnostics::render(&e.diags, &e.sources, false, 100))))?;
        let options = AclOptions { ephemeral: g.eph };
        let out = render_all(&model, &options);
        prop_assert_eq!(out.len(), 1);
        let (_, target, acl_text, entries) = &out[0];
        let ifaces = g.ifaces();
        let names: Vec<String> = ifaces.iter().map(|&k| g.iface_name(k)).collect();
        let r = Read::new(*target, acl_text, &names).map_err(|e| TestCaseError::fail(format!("{e}\n{acl_text}")))?;
        prop_assert_eq!(r.entries(), *entries);
        // Every interface has both ACLs bound.
        let acls = r.acls();
        for n in &names {
            prop_assert!(acls.contains_key(&(n.clone(), false)) && acls.contains_key(&(n.clone(), true)), "{}", n);
        }
        // Sample packets: around every intended flow box (both directions) and around every
        // rule the reader found.
        let mut samples = Vec::new();
        for f in &g.flows {
            let from = g.side(&f.from);
            let to = g.side(&f.to);
            for &(_, a) in &from {
                for &(_, b) in &to {
                    let v6 = a.addr().is_ipv6();
                    if b.addr().is_ipv6() != v6 {
                        continue;
                    }
                    for it in f.svcs.iter().flat_map(|s| g.services[*s].iter()) {
                        let Some((proto, ports, icmp)) = item_box(*it, v6) else { continue };
                        let fwd = Probe { src: &[a], dst: &[b], v6, proto, sport: None, dport: ports, icmp };
                        let back = Probe { src: &[b], dst: &[a], v6, proto, sport: ports, dport: Some(g.eph), icmp };
                        samples.extend(box_samples(&fwd, g.eph));
                        samples.extend(box_samples(&back, g.eph));
                    }
                }
            }
        }
        for c in r.rs.chains[1..].iter().flat_map(|ch| &ch.rules).flat_map(|rule| &rule.matches) {
            let v6 = c.v6();
            let (src, dst) = (nets(c.field(Dim::Src), v6), nets(c.field(Dim::Dst), v6));
            let proto = single(c.field(Dim::Proto)).map(|p| p as u8);
            let icmp = matches!(proto, Some(1 | 58));
            let hull = |d: Dim| {
                let f = c.field(d);
                (*f != Field::range(0, dim_max(d)) && !icmp).then(|| f.hull()).flatten().map(|(a, b)| (a as u16, b as u16))
            };
            let icmp_type = single(c.field(Dim::Dport)).filter(|_| icmp).map(|t| t as u8);
            let b = Probe { src: &src, dst: &dst, v6, proto, sport: hull(Dim::Sport), dport: hull(Dim::Dport), icmp: icmp_type };
            samples.extend(box_samples(&b, g.eph));
        }
        samples.sort_by_key(|p| (to_u128(p.src), to_u128(p.dst), p.proto, p.sport, p.dport, p.icmp, p.ack, p.rst, p.src.is_ipv6()));
        samples.dedup();
        // A switch whose generated SVIs carry nothing to sample (no flows, no IPv6) is a
        // valid policy with nothing to compare here.
        prop_assume!(!samples.is_empty());
        for p in &samples {
            for &k in &ifaces {
                let got = r.permits(&g.iface_name(k), p);
                let want = g.oracle(k, p);
                if got != want {
                    return Err(TestCaseError::fail(format!(
                        "{}: ACL {} {} {p:?} (oracle: {want})\npolicy:\n{text}\nconfig:\n{acl_text}",
                        g.iface_name(k),
                        if got { "permits" } else { "denies" },
                        if p.src.is_ipv6() { "v6" } else { "v4" },
                    )));
                }
            }
        }
    }
}

#[test]
fn the_reader_sees_what_the_templates_never_emit() {
    let model = crate::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
    for (name, target, text, _) in render_all(&model, &AclOptions::default()) {
        let ifs = policy_ifaces(&model, &name);
        let good = Read::new(target, &text, &ifs).expect("reads");
        let broken = match target {
            Target::Junos => text.replacen("accept;", "accept; }", 1),
            _ => text.replacen("!\n", "!\npermit ip any any\n", 1),
        };
        assert!(Read::new(target, &broken, &ifs).is_err(), "{name}");
        let injected = match target {
            Target::Junos => text.replacen("*/", "*/ */", 1),
            Target::ArubaAoscx => text.replacen(" comment ", " comment x\n    5 permit any any any\n    6 comment ", 1),
            _ => text.replacen(" remark ", " remark x\n 5 permit ip any any\n remark ", 1),
        };
        let r = Read::new(target, &injected, &ifs);
        assert!(r.is_err() || r.is_ok_and(|r| r.acls() != good.acls()), "{name}");
        assert_ne!(structure(target, &injected).ok(), structure(target, &text).ok(), "{name}");
    }
}

/// A hand-written `show running-config` of a Catalyst: noise skipped, an object group and
/// a time range as problems (their entries left out), vty lines that differ in their
/// `access-class` (a classic audit finding: a session on lines 5-15 is not filtered) as a
/// problem, verdicts as the switch gives them.
#[test]
fn ios_running_config_fixture() {
    let text = std::fs::read_to_string("tests/fixtures/check/acl/ios-running-config.txt").expect("fixture");
    // The policy's interfaces, numbered first as `check` does.
    let mut ifaces = Ifaces::new();
    for n in ["Vlan32", "Vlan48", "Vlan60"] {
        ifaces.id(n);
    }
    let rs = acl::read(Dialect::CiscoIos, &text, &mut ifaces);
    let problems: Vec<(usize, bool)> = rs
        .problems
        .iter()
        .map(|p| {
            let known = ["object groups", "time-range", "vty lines differ"];
            (p.line, known.iter().any(|k| p.message.contains(k)))
        })
        .collect();
    assert_eq!(problems, [(96, true), (111, true), (137, true)], "{:?}", rs.problems);
    let names: Vec<&str> = rs.chains.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["forward", "ADM-KLIENT-IN", "ADM-SRV-IN", "ADM-KLIENT-IN6"]);
    assert_eq!(rs.chains[0].rules.len(), 3);
    let r = Read { rs, ifaces };
    let pk = |src: &str, dst: &str, proto: u8, sport: u16, dport: u16, ack: bool| Pkt {
        src: src.parse().expect("src"),
        dst: dst.parse().expect("dst"),
        proto,
        sport,
        dport,
        icmp: dport as u8,
        ack,
        rst: false,
        hops: 64,
    };
    for (iface, p, want) in [
        // Named ports: domain, ntp, www; a list after eq; wildcards.
        ("Vlan32", pk("10.32.3.4", "10.48.0.10", 17, 50000, 53, false), true),
        ("Vlan32", pk("10.32.3.4", "10.48.0.10", 6, 50000, 53, false), true),
        ("Vlan32", pk("10.32.15.255", "10.48.0.11", 17, 50000, 123, false), true),
        ("Vlan32", pk("10.32.16.1", "10.48.0.11", 17, 50000, 123, false), false),
        ("Vlan32", pk("10.32.0.5", "10.48.0.11", 6, 50000, 123, false), false),
        ("Vlan32", pk("10.32.0.5", "10.48.0.99", 6, 50000, 80, false), true),
        ("Vlan32", pk("10.32.0.5", "10.48.0.99", 6, 50000, 443, false), true),
        ("Vlan32", pk("10.32.0.5", "10.48.0.99", 6, 50000, 8080, false), false),
        ("Vlan32", pk("10.32.0.5", "10.48.0.20", 6, 50000, 8010, false), true),
        // The object-group entry is left out: printing is denied by the final deny.
        ("Vlan32", pk("10.32.0.5", "10.32.0.40", 6, 50000, 9100, false), false),
        // ICMP names: echo and echo-reply.
        ("Vlan32", pk("10.32.1.1", "192.0.2.1", 1, 0, 8, false), true),
        ("Vlan32", pk("10.32.1.1", "192.0.2.1", 1, 0, 0, false), true),
        ("Vlan32", pk("10.32.1.1", "192.0.2.1", 1, 0, 3, false), false),
        // Answers: established, UDP to ports above 1023.
        ("Vlan48", pk("10.48.0.5", "10.32.0.5", 6, 443, 50000, true), true),
        ("Vlan48", pk("10.48.0.5", "10.32.0.5", 6, 443, 50000, false), false),
        ("Vlan48", pk("10.48.0.10", "10.32.0.5", 17, 53, 1024, false), true),
        ("Vlan48", pk("10.48.0.10", "10.32.0.5", 17, 53, 1023, false), false),
        ("Vlan48", pk("10.60.0.7", "10.48.0.3", 6, 50000, 23, false), true),
        ("Vlan48", pk("10.48.0.4", "10.60.0.5", 6, 50000, 25, false), true),
        ("Vlan48", pk("10.48.0.4", "10.60.0.5", 17, 50000, 162, false), true),
        ("Vlan48", pk("10.48.0.4", "10.60.0.5", 17, 50000, 514, false), true),
        ("Vlan48", pk("10.48.0.4", "10.60.0.5", 17, 50000, 161, false), false),
        // The time-range entry is left out.
        ("Vlan48", pk("10.48.0.30", "192.0.2.1", 6, 50000, 445, false), false),
        // IPv6: the explicit deny comes before the implicit ND permits.
        ("Vlan32", pk("fd00:32::5", "fd00:48::1", 6, 50000, 80, false), true),
        ("Vlan32", pk("fd00:32::5", "fd00:48::1", 6, 50000, 22, false), false),
        ("Vlan32", pk("fe80::1", "ff02::1", 58, 0, 135, false), false),
        // No ACL: not filtered.
        ("Vlan60", pk("10.60.0.5", "10.32.0.5", 6, 50000, 3389, false), true),
        ("Vlan48", pk("fd00:48::1", "fd00:32::5", 6, 50000, 22, false), true),
    ] {
        assert_eq!(r.permits(iface, &p), want, "{iface} {p:?}");
    }
    // Which entry decided, with its remark.
    let p = pk("10.32.0.5", "10.48.0.99", 6, 50000, 443, false);
    let packet = Packet {
        path: PathDim::Forward,
        iif: r.ifaces.get("Vlan32").expect("Vlan32"),
        oif: 0,
        v6: false,
        src: to_u128(p.src),
        dst: to_u128(p.dst),
        proto: 6,
        sport: 50000,
        dport: 443,
        ack: false,
        ct: crate::check::space::Ct::New,
        hops: 64,
    };
    let (_, by) = r.rs.trace(&packet);
    let rule = r.rs.rule(by[0].1.expect("an entry decided"));
    assert_eq!(rule.origin.line, 93);
    assert_eq!(rule.origin.handle.as_deref(), Some("40"));
    assert_eq!(rule.origin.comment.as_deref(), Some("Fagsystem og intranett"));
}
