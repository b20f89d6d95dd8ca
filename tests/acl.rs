//! Switch ACL targets (Cisco IOS-XE, Aruba AOS-CX, Juniper Junos, Arista EOS):
//!
//! - golden output for `policies/fjordvik` and a small policy with one switch per vendor;
//! - injection: a per-vendor lexer (line shapes for the CLIs, tokens and braces for
//!   Junos) proves that no policy string, however hostile, becomes a command, an option or
//!   a rule: every policy string sits in a remark or comment, and the structure of the
//!   file is the same as for harmless strings;
//! - semantics: a per-vendor reader parses the generated text back into first-match rules
//!   per interface, and random policies with switches are checked packet by packet
//!   against an oracle computed from the policy alone: the intended forward packets, the
//!   intended answers (TCP with ACK or RST from the service port, UDP from the service
//!   port to an ephemeral port, ICMP echo-reply) and nothing else.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use proptest::prelude::*;
use zonecheck::compile::lower::{DeviceRules, HostOrDevice, lower};
use zonecheck::diagnostics::code;
use zonecheck::model::{Model, Target};
use zonecheck::targets::Templates;
use zonecheck::targets::acl::{AclOptions, render};

/// A fixed digest, so golden files do not change with every edit of the policies.
const DIGEST: &str = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";

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
                let (bytes, stats) =
                    render(model, &d, &templates, options, DIGEST).unwrap_or_else(|e| panic!("{}: {e:?}", d.name));
                Some((d.name.clone(), t, String::from_utf8(bytes).expect("utf-8"), stats.rules))
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Readers: generated text back to first-match rules per interface.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    permit: bool,
    proto: Option<u8>,
    /// Empty = any.
    src: Vec<IpNet>,
    sport: Option<(u16, u16)>,
    dst: Vec<IpNet>,
    dport: Option<(u16, u16)>,
    icmp: Option<u8>,
    established: bool,
}

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
}

impl Rule {
    fn matches(&self, p: &Pkt) -> bool {
        let l4 = matches!(p.proto, 6 | 17);
        self.proto.is_none_or(|x| x == p.proto)
            && (self.src.is_empty() || self.src.iter().any(|n| n.contains(&p.src)))
            && (self.dst.is_empty() || self.dst.iter().any(|n| n.contains(&p.dst)))
            && self.sport.is_none_or(|(lo, hi)| l4 && lo <= p.sport && p.sport <= hi)
            && self.dport.is_none_or(|(lo, hi)| l4 && lo <= p.dport && p.dport <= hi)
            && self.icmp.is_none_or(|t| matches!(p.proto, 1 | 58) && p.icmp == t)
            && (!self.established || (p.proto == 6 && (p.ack || p.rst)))
    }
}

/// What a reader gives back.
#[derive(Clone, Debug, Default)]
struct Read {
    /// ACL name → (IPv6?, rules in evaluation order).
    acls: BTreeMap<String, (bool, Vec<Rule>)>,
    /// (interface, IPv6?) → ACL name. Interfaces as the policy names them.
    bind: BTreeMap<(String, bool), String>,
    /// Free text: remarks, comments, annotations.
    free: Vec<(&'static str, String)>,
    /// The file with every free text replaced by `…`: its structure.
    skeleton: Vec<String>,
}

impl Read {
    /// First match; no match is the implicit deny.
    fn permits(&self, iface: &str, p: &Pkt) -> bool {
        let v6 = p.src.is_ipv6();
        let name = self.bind.get(&(iface.to_string(), v6)).unwrap_or_else(|| panic!("no ACL bound to {iface}"));
        let (fam, rules) = &self.acls[name];
        assert_eq!(*fam, v6, "{name} is bound to the wrong family");
        rules.iter().find(|r| r.matches(p)).is_some_and(|r| r.permit)
    }

    fn entries(&self) -> usize {
        self.acls.values().map(|(_, r)| r.len()).sum()
    }
}

struct Toks<'a> {
    t: Vec<&'a str>,
    i: usize,
}

impl<'a> Toks<'a> {
    fn new(s: &'a str) -> Self {
        Toks { t: s.split(' ').collect(), i: 0 }
    }
    fn peek(&self) -> Option<&'a str> {
        self.t.get(self.i).copied()
    }
    fn next(&mut self) -> Result<&'a str, String> {
        let t = self.peek().ok_or("unexpected end of entry")?;
        self.i += 1;
        Ok(t)
    }
    fn num<T: std::str::FromStr>(&mut self) -> Result<T, String> {
        let t = self.next()?;
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("not a number: {t:?}"));
        }
        t.parse().map_err(|_| format!("number out of range: {t:?}"))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dialect {
    Ios,
    Eos,
    Cx,
}

fn prefix(s: &str, v6: bool) -> Result<IpNet, String> {
    let n: IpNet = s.parse().map_err(|_| format!("not a prefix: {s:?}"))?;
    if n.addr().is_ipv6() != v6 || n.addr() != n.network() {
        return Err(format!("wrong family or host bits: {s}"));
    }
    Ok(n)
}

fn host(s: &str, v6: bool) -> Result<IpNet, String> {
    let a: IpAddr = s.parse().map_err(|_| format!("not an address: {s:?}"))?;
    if a.is_ipv6() != v6 {
        return Err(format!("wrong family: {s}"));
    }
    Ok(IpNet::from(a))
}

/// `any`, `host A`, `A W` (IOS IPv4, contiguous wildcards only), `A/len`, a plain `A` (AOS-CX).
fn addr(d: Dialect, v6: bool, t: &mut Toks) -> Result<Vec<IpNet>, String> {
    let a = t.next()?;
    if a == "any" {
        return Ok(Vec::new());
    }
    if a == "host" && d != Dialect::Cx {
        return Ok(vec![host(t.next()?, v6)?]);
    }
    if d == Dialect::Ios && !v6 {
        let w: std::net::Ipv4Addr = t.next()?.parse().map_err(|_| "not a wildcard")?;
        let w = u32::from(w);
        if w.checked_add(1).is_some_and(|x| !x.is_power_of_two()) {
            return Err(format!("non-contiguous wildcard {w:#x}"));
        }
        let len = w.leading_zeros() as u8;
        return prefix(&format!("{a}/{len}"), false).map(|n| vec![n]);
    }
    if a.contains('/') {
        return prefix(a, v6).map(|n| vec![n]);
    }
    if d == Dialect::Cx {
        return Ok(vec![host(a, v6)?]);
    }
    Err(format!("not an address: {a:?}"))
}

fn ports(t: &mut Toks) -> Result<Option<(u16, u16)>, String> {
    Ok(match t.peek() {
        Some("eq") => {
            t.next()?;
            let p = t.num()?;
            Some((p, p))
        }
        Some("range") => {
            t.next()?;
            let (lo, hi) = (t.num()?, t.num()?);
            if lo > hi {
                return Err("reversed range".into());
            }
            Some((lo, hi))
        }
        Some("gt") => {
            t.next()?;
            Some((t.num::<u16>()?.checked_add(1).ok_or("gt 65535")?, 65535))
        }
        Some("lt") => {
            t.next()?;
            Some((0, t.num::<u16>()?.checked_sub(1).ok_or("lt 0")?))
        }
        _ => None,
    })
}

/// One entry after its sequence number.
fn parse_ace(d: Dialect, v6: bool, text: &str) -> Result<Rule, String> {
    let mut t = Toks::new(text);
    let permit = match t.next()? {
        "permit" => true,
        "deny" => false,
        x => return Err(format!("not an action: {x:?}")),
    };
    let proto = match (d, t.next()?) {
        (Dialect::Ios | Dialect::Eos, "ip") if !v6 => None,
        (Dialect::Ios | Dialect::Eos, "ipv6") if v6 => None,
        (Dialect::Cx, "any") => None,
        (_, "tcp") => Some(6),
        (_, "udp") => Some(17),
        (_, "icmp") if !v6 => Some(1),
        (Dialect::Ios, "icmp") => Some(58),
        (Dialect::Eos | Dialect::Cx, "icmpv6") if v6 => Some(58),
        (_, n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            Some(n.parse().map_err(|_| format!("protocol {n}"))?)
        }
        (_, x) => return Err(format!("not a protocol: {x:?}")),
    };
    let l4 = matches!(proto, Some(6 | 17));
    let src = addr(d, v6, &mut t)?;
    let sport = if l4 { ports(&mut t)? } else { None };
    let dst = addr(d, v6, &mut t)?;
    let dport = if l4 { ports(&mut t)? } else { None };
    let mut icmp = None;
    if matches!(proto, Some(1 | 58)) {
        if d == Dialect::Cx {
            if t.peek() == Some("icmp-type") {
                t.next()?;
                icmp = Some(t.num()?);
            }
        } else {
            icmp = match t.peek() {
                Some("nd-ns") if d == Dialect::Ios && v6 => Some(135),
                Some("nd-na") if d == Dialect::Ios && v6 => Some(136),
                Some("router-solicitation") if d == Dialect::Ios && v6 => Some(133),
                Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    Some(n.parse().map_err(|_| format!("icmp type {n}"))?)
                }
                _ => None,
            };
            if icmp.is_some() {
                t.next()?;
            }
        }
    }
    let mut established = false;
    while let Some(x) = t.peek() {
        match x {
            "established" if proto == Some(6) => established = true,
            "log" => {}
            _ => return Err(format!("unexpected {x:?} in {text:?}")),
        }
        t.next()?;
    }
    Ok(Rule { permit, proto, src, sport, dst, dport, icmp, established })
}

/// A name: letters, digits, `-`, `.`, `/`, `_`, `:`.
fn word(s: &str) -> Result<&str, String> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-./_:".contains(c)) {
        return Err(format!("not a name: {s:?}"));
    }
    Ok(s)
}

/// Collects one ACL's entries by sequence number (the device sorts them so).
#[derive(Default)]
struct Seqs(BTreeMap<String, (bool, BTreeMap<u32, Rule>)>);

impl Seqs {
    fn start(&mut self, name: &str, v6: bool) -> Result<(), String> {
        if self.0.insert(name.to_string(), (v6, BTreeMap::new())).is_some() {
            return Err(format!("ACL {name} defined twice"));
        }
        Ok(())
    }
    fn add(&mut self, acl: &Option<(String, bool)>, seq: u32, rule: Rule) -> Result<(), String> {
        let (name, _) = acl.as_ref().ok_or("entry outside an ACL")?;
        let (_, m) = self.0.get_mut(name).ok_or("no such ACL")?;
        if m.insert(seq, rule).is_some() {
            return Err(format!("duplicate sequence {seq} in {name}"));
        }
        Ok(())
    }
    fn finish(self) -> BTreeMap<String, (bool, Vec<Rule>)> {
        self.0.into_iter().map(|(k, (v6, m))| (k, (v6, m.into_values().collect()))).collect()
    }
}

/// Cisco IOS-XE, Arista EOS and Aruba AOS-CX: every line must be one of the shapes the
/// templates emit; remarks, comments and `!` lines carry the only free text.
fn read_cli(d: Dialect, text: &str) -> Result<Read, String> {
    let mut r = Read::default();
    let mut seqs = Seqs::default();
    let mut acl: Option<(String, bool)> = None;
    let mut iface: Option<String> = None;
    let mut ended = false;
    let (ind, acl4, acl6) = match d {
        Dialect::Ios => (" ", "ip access-list extended ", "ipv6 access-list "),
        Dialect::Eos => ("   ", "ip access-list ", "ipv6 access-list "),
        Dialect::Cx => ("    ", "access-list ip ", "access-list ipv6 "),
    };
    for (n, line) in text.split('\n').enumerate() {
        let err = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if ended {
            return Err(err("text after the end".into()));
        }
        let mut skel = line.to_string();
        if line.is_empty() {
            // Only the end of the file.
            ended = true;
            continue;
        } else if line == "!" {
        } else if let Some(c) = line.strip_prefix("! ") {
            r.free.push(("comment", c.to_string()));
            skel = "! …".into();
        } else if let Some(name) = line.strip_prefix(acl4) {
            word(name).map_err(err)?;
            seqs.start(name, false).map_err(err)?;
            acl = Some((name.to_string(), false));
            iface = None;
        } else if let Some(name) = line.strip_prefix(acl6) {
            word(name).map_err(err)?;
            seqs.start(name, true).map_err(err)?;
            acl = Some((name.to_string(), true));
            iface = None;
        } else if let Some(name) = line.strip_prefix("interface ") {
            let name = match d {
                Dialect::Cx => match name.split_once(' ') {
                    Some((k @ ("vlan" | "lag"), n)) if n.bytes().all(|b| b.is_ascii_digit()) => format!("{k}{n}"),
                    None => word(name).map_err(err)?.to_string(),
                    _ => return Err(err("bad interface".into())),
                },
                _ => word(name).map_err(err)?.to_string(),
            };
            iface = Some(name);
            acl = None;
        } else if d == Dialect::Eos && line.starts_with("configure session ") {
            word(&line["configure session ".len()..]).map_err(err)?;
        } else if d == Dialect::Eos && line == "commit"
            || d == Dialect::Ios && line == "end"
            || d == Dialect::Cx && line == "    exit"
        {
            acl = None;
            iface = None;
        } else if let Some(body) = line.strip_prefix(ind).filter(|_| acl.is_some()) {
            // Inside an ACL: a remark or an entry.
            let v6 = acl.as_ref().is_some_and(|a| a.1);
            let (seq, rest) = match (d, body.strip_prefix("remark ")) {
                (Dialect::Ios, Some(text)) => {
                    r.free.push(("remark", text.to_string()));
                    r.skeleton.push(format!("{ind}remark …"));
                    continue;
                }
                (Dialect::Ios, None) if v6 => {
                    let b = body.strip_prefix("sequence ").ok_or_else(|| err("no `sequence`".into()))?;
                    b.split_once(' ').ok_or_else(|| err("no entry".into()))?
                }
                _ => body.split_once(' ').ok_or_else(|| err("no entry".into()))?,
            };
            let seq: u32 = seq.parse().map_err(|_| err("no sequence number".into()))?;
            let kw = if d == Dialect::Cx { "comment " } else { "remark " };
            if let Some(text) = rest.strip_prefix(kw).filter(|_| d != Dialect::Ios) {
                r.free.push(("remark", text.to_string()));
                skel = format!("{ind}{seq} {kw}…");
            } else {
                let rule = parse_ace(d, v6, rest).map_err(err)?;
                seqs.add(&acl, seq, rule).map_err(err)?;
            }
        } else if let Some(body) = line.strip_prefix(ind).filter(|_| iface.is_some()) {
            let iface = iface.clone().unwrap_or_default();
            let mut t = Toks::new(body);
            let (v6, name, dir) = match d {
                Dialect::Ios | Dialect::Eos => {
                    let v6 = match (t.next()?, t.next()?) {
                        ("ip", "access-group") => false,
                        ("ipv6", "traffic-filter") if d == Dialect::Ios => true,
                        ("ipv6", "access-group") if d == Dialect::Eos => true,
                        _ => return Err(err("unknown interface command".into())),
                    };
                    (v6, t.next()?, t.next()?)
                }
                Dialect::Cx => {
                    let v6 = match (t.next()?, t.next()?, t.next()?) {
                        ("apply", "access-list", "ip") => false,
                        ("apply", "access-list", "ipv6") => true,
                        _ => return Err(err("unknown interface command".into())),
                    };
                    (v6, t.next()?, t.next()?)
                }
            };
            let dir_ok = dir == "in" || d == Dialect::Cx && dir == "routed-in";
            if !dir_ok || t.peek().is_some() {
                return Err(err("bad direction".into()));
            }
            r.bind.insert((iface, v6), word(name).map_err(err)?.to_string());
        } else {
            return Err(err("not a line the template emits".into()));
        }
        r.skeleton.push(skel);
    }
    if !ended {
        return Err("the file does not end with a newline".into());
    }
    r.acls = seqs.finish();
    for ((i, _), name) in &r.bind {
        if !r.acls.contains_key(name) {
            return Err(format!("{i} is bound to undefined {name}"));
        }
    }
    Ok(r)
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

#[derive(Clone, Debug)]
struct Stmt {
    words: Vec<String>,
    block: Option<Vec<Stmt>>,
}

/// Statements until `}` (or the end, at depth 0). Braces must balance.
fn parse_junos(toks: &[Tok], i: &mut usize, depth: usize) -> Result<Vec<Stmt>, String> {
    let mut out = Vec::new();
    let mut words = Vec::new();
    while *i < toks.len() {
        let t = &toks[*i];
        *i += 1;
        match t {
            Tok::Comment(_) => {}
            Tok::Word(w) | Tok::Str(w) => words.push(w.clone()),
            Tok::LBr => loop {
                match toks.get(*i) {
                    Some(Tok::Word(w)) | Some(Tok::Str(w)) => words.push(w.clone()),
                    Some(Tok::RBr) => {
                        *i += 1;
                        break;
                    }
                    _ => return Err("bad list".into()),
                }
                *i += 1;
            },
            Tok::RBr => return Err("stray ]".into()),
            Tok::Semi => {
                if words.is_empty() {
                    return Err("empty statement".into());
                }
                out.push(Stmt { words: std::mem::take(&mut words), block: None });
            }
            Tok::Open => {
                if words.is_empty() {
                    return Err("block without a name".into());
                }
                let block = parse_junos(toks, i, depth + 1)?;
                out.push(Stmt { words: std::mem::take(&mut words), block: Some(block) });
            }
            Tok::Close => {
                if depth == 0 || !words.is_empty() {
                    return Err("unbalanced }".into());
                }
                return Ok(out);
            }
        }
    }
    if depth > 0 || !words.is_empty() {
        return Err("unclosed block or statement at the end".into());
    }
    Ok(out)
}

fn block<'a>(s: &'a [Stmt], words: &[&str]) -> Result<&'a [Stmt], String> {
    s.iter().find(|x| x.words == words).and_then(|x| x.block.as_deref()).ok_or_else(|| format!("no block {words:?}"))
}

fn jport(s: &str) -> Result<(u16, u16), String> {
    let (lo, hi) = s.split_once('-').unwrap_or((s, s));
    let p = |x: &str| x.parse::<u16>().map_err(|_| format!("port {x:?}"));
    Ok((p(lo)?, p(hi)?))
}

fn jproto(s: &str, v6: bool) -> Result<u8, String> {
    Ok(match s {
        "tcp" => 6,
        "udp" => 17,
        "icmp" if !v6 => 1,
        "icmp6" if v6 => 58,
        n => n.parse().map_err(|_| format!("protocol {n:?}"))?,
    })
}

fn read_term(stmts: &[Stmt], v6: bool) -> Result<Rule, String> {
    let mut r = Rule {
        permit: true,
        proto: None,
        src: Vec::new(),
        sport: None,
        dst: Vec::new(),
        dport: None,
        icmp: None,
        established: false,
    };
    let mut action = None;
    for s in stmts {
        let w: Vec<&str> = s.words.iter().map(String::as_str).collect();
        match (w.as_slice(), &s.block) {
            (["from"], Some(from)) => {
                for c in from {
                    let w: Vec<&str> = c.words.iter().map(String::as_str).collect();
                    match (w.as_slice(), &c.block) {
                        ([k @ ("source-address" | "destination-address")], Some(list)) => {
                            let mut nets = Vec::new();
                            for p in list {
                                match (p.words.as_slice(), &p.block) {
                                    ([p], None) => nets.push(prefix(p, v6)?),
                                    _ => return Err("bad address list".into()),
                                }
                            }
                            if nets.is_empty() {
                                return Err("empty address list".into());
                            }
                            if *k == "source-address" { r.src = nets } else { r.dst = nets }
                        }
                        (["protocol", p], None) if !v6 => r.proto = Some(jproto(p, v6)?),
                        (["next-header", p], None) if v6 => r.proto = Some(jproto(p, v6)?),
                        (["source-port", p], None) => r.sport = Some(jport(p)?),
                        (["destination-port", p], None) => r.dport = Some(jport(p)?),
                        (["icmp-type", t], None) => r.icmp = Some(t.parse().map_err(|_| format!("icmp-type {t}"))?),
                        (["tcp-established"], None) => r.established = true,
                        _ => return Err(format!("unknown match {w:?}")),
                    }
                }
            }
            (["then"], Some(then)) => {
                for c in then {
                    let w: Vec<&str> = c.words.iter().map(String::as_str).collect();
                    match (w.as_slice(), &c.block) {
                        (["count", n], None) => {
                            word(n)?;
                        }
                        (["syslog"] | ["log"], None) => {}
                        (["accept"], None) => action = Some(true),
                        (["discard"] | ["reject"], None) => action = Some(false),
                        _ => return Err(format!("unknown action {w:?}")),
                    }
                }
            }
            _ => return Err(format!("unknown term statement {w:?}")),
        }
    }
    // `tcp-established` checks the flags, not the protocol: it must come with `protocol tcp`.
    if r.established && r.proto != Some(6) {
        return Err("tcp-established without protocol tcp".into());
    }
    if (r.sport.is_some() || r.dport.is_some()) && !matches!(r.proto, Some(6 | 17)) {
        return Err("ports without tcp or udp".into());
    }
    r.permit = action.unwrap_or(true);
    Ok(r)
}

/// Junos: tokens, balanced braces, the `firewall` and `interfaces` hierarchies.
fn read_junos(text: &str) -> Result<Read, String> {
    let toks = lex_junos(text)?;
    let mut r = Read::default();
    for t in &toks {
        match t {
            Tok::Comment(c) => {
                r.free.push(("comment", c.clone()));
                r.skeleton.push("/* … */".into());
            }
            Tok::Str(s) => {
                r.free.push(("string", s.clone()));
                r.skeleton.push("\"…\"".into());
            }
            other => r.skeleton.push(format!("{other:?}")),
        }
    }
    let mut i = 0;
    let top = parse_junos(&toks, &mut i, 0)?;
    for s in &top {
        let w: Vec<&str> = s.words.iter().map(String::as_str).collect();
        if !matches!(w.as_slice(), ["firewall"] | ["interfaces"]) || s.block.is_none() {
            return Err(format!("unexpected top-level statement {w:?}"));
        }
    }
    let fw = block(&top, &["firewall"])?;
    for (fam, v6) in [("inet", false), ("inet6", true)] {
        for f in block(fw, &["family", fam])? {
            let name = match (f.words.as_slice(), &f.block) {
                ([k, n], Some(_)) if k == "filter" => word(n)?.to_string(),
                _ => return Err(format!("unexpected {:?} in family {fam}", f.words)),
            };
            let mut rules = Vec::new();
            for t in f.block.as_deref().unwrap_or_default() {
                match (t.words.as_slice(), &t.block) {
                    ([k, n], Some(b)) if k == "term" => {
                        word(n)?;
                        rules.push(read_term(b, v6).map_err(|e| format!("{name} {n}: {e}"))?);
                    }
                    _ => return Err(format!("unexpected {:?} in filter {name}", t.words)),
                }
            }
            if r.acls.insert(name.clone(), (v6, rules)).is_some() {
                return Err(format!("filter {name} defined twice"));
            }
        }
    }
    for ifd in block(&top, &["interfaces"])? {
        let ifd_name = match (ifd.words.as_slice(), &ifd.block) {
            ([n], Some(_)) => word(n)?.to_string(),
            _ => return Err("bad interface".into()),
        };
        for u in ifd.block.as_deref().unwrap_or_default() {
            let unit = match (u.words.as_slice(), &u.block) {
                ([k, n], Some(_)) if k == "unit" && n.bytes().all(|b| b.is_ascii_digit()) => n.clone(),
                _ => return Err("bad unit".into()),
            };
            for f in u.block.as_deref().unwrap_or_default() {
                let v6 = match f.words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                    ["family", "inet"] => false,
                    ["family", "inet6"] => true,
                    w => return Err(format!("unexpected {w:?} in a unit")),
                };
                let filter = block(f.block.as_deref().unwrap_or_default(), &["filter"])?;
                match filter {
                    [Stmt { words, block: None }] if words.len() == 2 && words[0] == "input" => {
                        r.bind.insert((format!("{ifd_name}.{unit}"), v6), word(&words[1])?.to_string());
                    }
                    _ => return Err("bad filter statement".into()),
                }
            }
        }
    }
    for ((i, _), name) in &r.bind {
        if !r.acls.contains_key(name) {
            return Err(format!("{i} is bound to undefined filter {name}"));
        }
    }
    Ok(r)
}

fn read(target: Target, text: &str) -> Result<Read, String> {
    match target {
        Target::CiscoIos => read_cli(Dialect::Ios, text),
        Target::AristaEos => read_cli(Dialect::Eos, text),
        Target::ArubaAoscx => read_cli(Dialect::Cx, text),
        Target::Junos => read_junos(text),
        Target::Nftables => Err("not a switch target".into()),
    }
}

/// The interface as the reader names it (AOS-CX prints `vlan 10` for `vlan10`).
fn iface_key(target: Target, name: &str) -> String {
    match target {
        Target::ArubaAoscx => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Golden files.
// ---------------------------------------------------------------------------------------

#[test]
fn golden_fjordvik_switches() {
    let model = zonecheck::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let all = render_all(&model, &AclOptions::default());
    let names: Vec<&str> = all.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(names, ["sw-core", "sw-skole"]);
    for (name, target, text, entries) in &all {
        let r = read(*target, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.entries(), *entries, "{name}: Stats.rules counts every entry");
        insta::assert_snapshot!(format!("fjordvik_{name}"), text);
    }
}

#[test]
fn golden_one_switch_per_vendor() {
    let model = zonecheck::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
    let all = render_all(&model, &AclOptions::default());
    assert_eq!(all.len(), 4);
    for (name, target, text, entries) in &all {
        let r = read(*target, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.entries(), *entries, "{name}");
        insta::assert_snapshot!(format!("vendors_{name}"), text);
    }
}

#[test]
fn every_vendor_implements_the_same_acls() {
    let model = zonecheck::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
    let all = render_all(&model, &AclOptions::default());
    let reads: Vec<(Target, Read)> = all.iter().map(|(_, t, text, _)| (*t, read(*t, text).expect("reads"))).collect();
    let ifaces = |t: Target| -> Vec<String> {
        match t {
            Target::Junos => vec!["irb.10".into(), "irb.20".into(), "irb.30".into()],
            Target::ArubaAoscx => vec!["vlan10".into(), "vlan20".into(), "vlan30".into()],
            _ => vec!["Vlan10".into(), "Vlan20".into(), "Vlan30".into()],
        }
    };
    let (t0, r0) = &reads[0];
    for (t, r) in &reads[1..] {
        for (a, b) in ifaces(*t0).iter().zip(ifaces(*t)) {
            for v6 in [false, true] {
                let ra = &r0.acls[&r0.bind[&(a.clone(), v6)]].1;
                let rb = &r.acls[&r.bind[&(b.clone(), v6)]].1;
                assert_eq!(ra, rb, "{t0:?} {a} vs {t:?} {b} (v6 {v6})");
            }
        }
    }
    // And the TCAM budget of sw-eos (20) is exceeded.
    let templates = templates();
    let d = lower(&model).into_iter().find(|d| d.name == "sw-eos").expect("sw-eos");
    let (_, stats) = render(&model, &d, &templates, &AclOptions::default(), DIGEST).expect("renders");
    assert_eq!(zonecheck::targets::acl::over_budget(&model, &d, &stats), Some((20, stats.rules)));
}

#[test]
fn specific_entries_are_exact() {
    let model = zonecheck::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
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
        " sequence 10 permit icmp any any nd-ns",
        " deny ip any any log",
        " deny ipv6 any any log",
        "interface Vlan10\n ip access-group ZC-SW-IOS-VLAN10-IN-V4-3f2a9c1d in\n ipv6 traffic-filter ZC-SW-IOS-VLAN10-IN-V6-3f2a9c1d in\n",
    ] {
        assert!(ios.contains(line), "missing {line:?} in\n{ios}");
    }
    // Never all UDP back, never a permit of everything.
    assert!(!ios.contains("permit udp any") && !ios.contains("permit ip any any") && !ios.contains("gt 0"));
    for (name, target, text, _) in &all {
        let r = read(*target, text).expect("reads");
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
    let mut model = zonecheck::load_str("p.zc", text).expect("resolves");
    // Names the language cannot even spell must be refused too.
    model.devices[3].interfaces[1].name = "Ethernet1\nip access-list x".into();
    let templates = templates();
    let expect = [("s1", vec![0, 2]), ("s2", vec![0, 2]), ("s3", vec![1]), ("s4", vec![0, 1])];
    for (d, (name, bad)) in lower(&model).iter().zip(expect) {
        assert_eq!(d.name, name);
        let diags = render(&model, d, &templates, &AclOptions::default(), DIGEST).expect_err("rejected");
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
        let base = zonecheck::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
        let mut evil = base.clone();
        set_strings(&mut evil, &strings);
        let mut tame = base;
        set_strings(&mut tame, &["x".to_string()]);
        let evil_out = render_all(&evil, &AclOptions::default());
        let tame_out = render_all(&tame, &AclOptions::default());
        for ((name, target, text, _), (_, _, tame_text, _)) in evil_out.iter().zip(&tame_out) {
            let r = read(*target, text).map_err(|e| TestCaseError::fail(format!("{name}: {e}\n{text}")))?;
            let t = read(*target, tame_text).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            // The same commands, options and rules as with harmless strings.
            prop_assert_eq!(&r.skeleton, &t.skeleton, "{}", name);
            prop_assert_eq!(&r.acls, &t.acls);
            prop_assert_eq!(&r.bind, &t.bind);
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
        if v6 && p.proto == 58 && [133, 135, 136].contains(&p.icmp) {
            return true;
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
                    variants.extend(types.into_iter().map(|t| Pkt { icmp: t, ..base }));
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
        let model = zonecheck::load_str("gen.zc", &text)
            .map_err(|e| TestCaseError::fail(format!("{}\n{text}", zonecheck::diagnostics::render(&e.diags, &e.sources, false, 100))))?;
        let options = AclOptions { ephemeral: g.eph };
        let out = render_all(&model, &options);
        prop_assert_eq!(out.len(), 1);
        let (_, target, acl_text, entries) = &out[0];
        let r = read(*target, acl_text).map_err(|e| TestCaseError::fail(format!("{e}\n{acl_text}")))?;
        prop_assert_eq!(r.entries(), *entries);
        let ifaces = g.ifaces();
        let key = |k: usize| iface_key(*target, &g.iface_name(k));
        // Every interface has both ACLs bound.
        for &k in &ifaces {
            prop_assert!(r.bind.contains_key(&(key(k), false)) && r.bind.contains_key(&(key(k), true)));
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
        for (v6, rules) in r.acls.values() {
            for rule in rules {
                let b = Probe {
                    src: &rule.src,
                    dst: &rule.dst,
                    v6: *v6,
                    proto: rule.proto,
                    sport: rule.sport,
                    dport: rule.dport,
                    icmp: rule.icmp,
                };
                samples.extend(box_samples(&b, g.eph));
            }
        }
        samples.sort_by_key(|p| (to_u128(p.src), to_u128(p.dst), p.proto, p.sport, p.dport, p.icmp, p.ack, p.rst, p.src.is_ipv6()));
        samples.dedup();
        prop_assert!(!samples.is_empty());
        for p in &samples {
            for &k in &ifaces {
                let got = r.permits(&key(k), p);
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
fn readers_reject_what_the_templates_never_emit() {
    let model = zonecheck::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
    for (name, target, text, _) in render_all(&model, &AclOptions::default()) {
        assert!(read(target, &text).is_ok());
        let broken = match target {
            Target::Junos => text.replacen("accept;", "accept; }", 1),
            _ => text.replacen("!\n", "!\npermit ip any any\n", 1),
        };
        assert!(read(target, &broken).is_err(), "{name}");
        let injected = match target {
            Target::Junos => text.replacen("*/", "*/ */", 1),
            Target::ArubaAoscx => text.replacen(" comment ", " comment x\n    5 permit any any any\n    6 comment ", 1),
            _ => text.replacen(" remark ", " remark x\n 5 permit ip any any\n remark ", 1),
        };
        let r = read(target, &injected);
        assert!(r.is_err() || r.is_ok_and(|r| r.skeleton != read(target, &text).expect("reads").skeleton), "{name}");
    }
}
