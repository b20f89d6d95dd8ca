//! Reading back: the library's reader (`check::read::acl`) for the semantics, a lexer of
//! the file's structure; the reader on what the templates never emit and on a fixture.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::check::read::acl::{self, Dialect};
use crate::check::read::{Action, Ruleset};
use crate::check::space::{Cube, Dim, Ifaces, Packet, Path as PathDim};
use crate::model::{Model, Target};
use crate::targets::acl::AclOptions;

use super::{VENDORS_POLICY, render_all};

// ---------------------------------------------------------------------------------------
// Reading back: the library's reader (`check::read::acl`) for the semantics; the file's
// structure (lines, tokens, free text) by a lexer of its own here.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pkt {
    pub(super) src: IpAddr,
    pub(super) dst: IpAddr,
    pub(super) proto: u8,
    pub(super) sport: u16,
    pub(super) dport: u16,
    pub(super) icmp: u8,
    pub(super) ack: bool,
    pub(super) rst: bool,
    /// The hop limit (TTL) it arrives with.
    pub(super) hops: u8,
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
pub(super) fn policy_ifaces(model: &Model, device: &str) -> Vec<String> {
    let d = model.devices.iter().find(|d| d.name == device).expect("device");
    d.interfaces.iter().map(|i| i.name.clone()).collect()
}

/// One entry of an ACL as the library reads it: its packets and its verdict.
pub(super) type Entry = (Vec<Cube>, Action);

/// (interface, IPv6?) → the written entries of the ACL bound there.
pub(super) type Acls = BTreeMap<(String, bool), Vec<Entry>>;

/// A switch file read by the library, with the policy's interface names numbered first
/// (as `check` does).
pub(super) struct Read {
    pub(super) rs: Ruleset,
    pub(super) ifaces: Ifaces,
}

impl Read {
    pub(super) fn new(target: Target, text: &str, policy_ifaces: &[String]) -> Result<Read, String> {
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
    pub(super) fn entries(&self) -> usize {
        self.rs.chains[1..].iter().flat_map(|c| &c.rules).filter(|r| r.origin.handle.is_some()).count()
    }

    /// (interface, IPv6?) → the written entries of the ACL bound there.
    pub(super) fn acls(&self) -> Acls {
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
    pub(super) fn permits(&self, iface: &str, p: &Pkt) -> bool {
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
pub(super) struct Structure {
    pub(super) skeleton: Vec<String>,
    pub(super) free: Vec<(&'static str, String)>,
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

pub(super) fn structure(target: Target, text: &str) -> Result<Structure, String> {
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

pub(super) fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
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
