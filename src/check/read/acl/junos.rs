//! Junos stateless firewall filters in the curly-brace configuration syntax: `firewall {
//! family inet|inet6 { filter F { term T { from {…} then {…} } } } }` and the `input`
//! filters of `interfaces { IFD { unit N { family inet|inet6 { filter { input F; } } } } }`.
//!
//! Terms run in order and a filter ends in an implicit discard. A term without a
//! terminating action accepts; `next term` goes on with the next term.

use ipnet::IpNet;

use super::{Builder, Match, names, one_line};
use crate::check::read::{Action, Origin, Rule};
use crate::check::space::Field;

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

/// Tokens with their 1-based line; `Err((line, message))` for an unterminated comment or
/// string.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, (usize, String)> {
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        let c = b[i];
        let start = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            let mut j = i + 2;
            while j + 1 < b.len() && !(b[j] == '*' && b[j + 1] == '/') {
                if b[j] == '\n' {
                    line += 1;
                }
                j += 1;
            }
            if j + 1 >= b.len() {
                return Err((start, "unterminated comment".into()));
            }
            out.push((Tok::Comment(b[i + 2..j].iter().collect()), start));
            i = j + 2;
        } else if c == '#' {
            let j = b[i..].iter().position(|&c| c == '\n').map_or(b.len(), |p| i + p);
            out.push((Tok::Comment(b[i + 1..j].iter().collect()), start));
            i = j;
        } else if c == '"' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None | Some('\n') => return Err((start, "unterminated string".into())),
                    Some('"') => break,
                    Some('\\') => {
                        match b.get(j + 1) {
                            Some('\n') | None => return Err((start, "unterminated string".into())),
                            Some(&e) => s.push(e),
                        }
                        j += 2;
                    }
                    Some(&c) => {
                        s.push(c);
                        j += 1;
                    }
                }
            }
            out.push((Tok::Str(s), start));
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
                out.push((t, start));
                i += 1;
                continue;
            }
            let ends = |j: usize| {
                j >= b.len()
                    || b[j].is_whitespace()
                    || "{};[]\"".contains(b[j])
                    || b[j] == '/' && b.get(j + 1) == Some(&'*')
            };
            let mut j = i;
            while !ends(j) {
                j += 1;
            }
            out.push((Tok::Word(b[i..j].iter().collect()), start));
            i = j;
        }
    }
    Ok(out)
}

/// A statement: words, and a block or `;`.
#[derive(Clone, Debug)]
struct Stmt {
    words: Vec<String>,
    block: Option<Vec<Stmt>>,
    line: usize,
    /// The comment just before the statement.
    comment: Option<String>,
}

/// Blocks nested deeper than this are refused (no configuration needs more).
const MAX_DEPTH: usize = 64;

fn parse(toks: &[(Tok, usize)], i: &mut usize, depth: usize) -> Result<Vec<Stmt>, (usize, String)> {
    let mut out = Vec::new();
    let mut words = Vec::new();
    let mut comment: Option<String> = None;
    let mut line = 0;
    while let Some((t, l)) = toks.get(*i) {
        *i += 1;
        match t {
            Tok::Comment(c) if words.is_empty() => comment = Some(c.trim().to_string()),
            Tok::Comment(_) => {}
            Tok::Word(w) | Tok::Str(w) => {
                if words.is_empty() {
                    line = *l;
                }
                words.push(w.clone());
            }
            Tok::LBr => loop {
                match toks.get(*i) {
                    Some((Tok::Word(w) | Tok::Str(w), _)) => words.push(w.clone()),
                    Some((Tok::RBr, _)) => {
                        *i += 1;
                        break;
                    }
                    _ => return Err((*l, "unterminated or malformed list `[ … ]`".into())),
                }
                *i += 1;
            },
            Tok::RBr => return Err((*l, "`]` without `[`".into())),
            Tok::Semi if words.is_empty() => return Err((*l, "empty statement".into())),
            Tok::Semi => {
                out.push(Stmt { words: std::mem::take(&mut words), block: None, line, comment: comment.take() })
            }
            Tok::Open if words.is_empty() => return Err((*l, "block without a name".into())),
            Tok::Open if depth >= MAX_DEPTH => return Err((*l, "blocks nested too deep".into())),
            Tok::Open => {
                let block = parse(toks, i, depth + 1)?;
                out.push(Stmt { words: std::mem::take(&mut words), block: Some(block), line, comment: comment.take() });
            }
            Tok::Close if depth == 0 => return Err((*l, "`}` without `{`".into())),
            Tok::Close if !words.is_empty() => return Err((*l, "statement without `;` before `}`".into())),
            Tok::Close => return Ok(out),
        }
    }
    if depth > 0 {
        return Err((toks.last().map_or(1, |t| t.1), "unclosed block at the end".into()));
    }
    if !words.is_empty() {
        return Err((line, "statement without `;` at the end".into()));
    }
    Ok(out)
}

/// The words of a statement without the `protect:`/`replace:` tags; `None` for an
/// `inactive:` statement, which is not in effect.
fn words(s: &Stmt) -> Option<Vec<&str>> {
    let mut w: Vec<&str> = s.words.iter().map(String::as_str).collect();
    while let Some(&f) = w.first() {
        match f {
            "inactive:" => return None,
            "protect:" | "replace:" => {
                w.remove(0);
            }
            _ => break,
        }
    }
    Some(w)
}

/// A statement on one line, for origins.
fn render(s: &Stmt) -> String {
    let mut t = s.words.join(" ");
    match &s.block {
        None => t.push(';'),
        Some(b) => {
            t.push_str(" {");
            for x in b {
                t.push(' ');
                t.push_str(&render(x));
            }
            t.push_str(" }");
        }
    }
    t
}

pub(super) fn read(text: &str, b: &mut Builder) {
    let toks = match lex(text) {
        Ok(t) => t,
        Err((line, e)) => return b.problem(line, format!("{e}; nothing read")),
    };
    let top = match parse(&toks, &mut 0, 0) {
        Ok(t) => t,
        Err((line, e)) => return b.problem(line, format!("{e}; nothing read")),
    };
    for s in &top {
        let Some(w) = words(s) else { continue };
        match (w.as_slice(), &s.block) {
            (["firewall"], Some(block)) => firewall(block, b),
            (["interfaces"], Some(block)) => interfaces(block, b),
            _ => b.problem(s.line, format!("unknown statement `{}`", one_line(&render(s)))),
        }
    }
}

fn firewall(block: &[Stmt], b: &mut Builder) {
    for s in block {
        let Some(w) = words(s) else { continue };
        match (w.as_slice(), &s.block) {
            (["family", fam @ ("inet" | "inet6")], Some(inner)) => {
                for f in inner {
                    let Some(w) = words(f) else { continue };
                    match (w.as_slice(), &f.block) {
                        (["filter", name], Some(terms)) => filter(name, *fam == "inet6", f.line, terms, b),
                        _ => b.problem(f.line, format!("`{}` is not modelled", one_line(&render(f)))),
                    }
                }
            }
            // The old form without a family is IPv4.
            (["filter", name], Some(terms)) => filter(name, false, s.line, terms, b),
            _ => b.problem(s.line, format!("`{}` is not modelled", one_line(&render(s)))),
        }
    }
}

fn filter(name: &str, v6: bool, line: usize, terms: &[Stmt], b: &mut Builder) {
    let idx = b.acl(name, v6, line);
    let mut comment: Option<String> = None;
    for s in terms {
        let Some(w) = words(s) else { continue };
        if s.comment.is_some() {
            comment.clone_from(&s.comment);
        }
        match (w.as_slice(), &s.block) {
            (["term", tname], Some(body)) => match term(body, v6) {
                Ok((action, m)) => {
                    let Some(seq) = b.seq(idx, None, s.line) else { continue };
                    let origin = Origin {
                        line: s.line,
                        text: one_line(&render(s)),
                        handle: Some(tname.to_string()),
                        comment: comment.clone(),
                        implicit: false,
                        approximate: false,
                    };
                    b.entry(idx, seq, Rule { matches: m.cubes(), action, origin });
                }
                Err((l, e)) => b.problem(l, format!("{e}; term {tname} of filter {name} left out")),
            },
            // Counters per interface: no filtering difference.
            (["interface-specific"], None) => {}
            _ => b.problem(s.line, format!("`{}` in filter {name} is not modelled", one_line(&render(s)))),
        }
    }
}

/// The values of a match: `key v;`, `key [ v w ];` or `key { v; w; }`.
fn values<'a>(s: &'a Stmt, w: &[&'a str]) -> Result<Vec<&'a str>, (usize, String)> {
    let mut v: Vec<&str> = w[1..].to_vec();
    for x in s.block.iter().flatten() {
        match (words(x).as_deref(), &x.block) {
            (None, _) => {}
            (Some([one]), None) => v.push(one),
            (Some([_, "except"]), None) => return Err((x.line, "`except` in an address list is not modelled".into())),
            _ => return Err((x.line, format!("`{}` is not a value", one_line(&render(x))))),
        }
    }
    if v.is_empty() {
        return Err((s.line, format!("`{}` without values", w[0])));
    }
    Ok(v)
}

fn union(old: Option<Field>, new: Field) -> Option<Field> {
    Some(match old {
        Some(o) => o.union(&new),
        None => new,
    })
}

fn num_or<T: std::str::FromStr>(s: &str, named: impl Fn(&str) -> Option<T>, what: &str) -> Result<T, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| format!("{what} `{s}` is out of range"));
    }
    named(s).ok_or_else(|| format!("unknown {what} `{s}`"))
}

/// `N` or `N-M`, numbers or names.
fn range<T: Into<u128> + Copy + std::str::FromStr>(
    s: &str,
    named: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<Field, String> {
    let (lo, hi) = match s.split_once('-').filter(|(a, _)| a.bytes().all(|b| b.is_ascii_digit())) {
        Some((a, b)) => (num_or(a, &named, what)?, num_or(b, &named, what)?),
        None => {
            let x = num_or(s, &named, what)?;
            (x, x)
        }
    };
    let (lo, hi) = (lo.into(), hi.into());
    if lo > hi {
        return Err(format!("reversed {what} range `{s}`"));
    }
    Ok(Field::range(lo, hi))
}

fn term(body: &[Stmt], v6: bool) -> Result<(Action, Match), (usize, String)> {
    let mut m = Match::new(v6);
    let mut action = None;
    let mut ports_at = None;
    let mut icmp_at = None;
    for s in body {
        let Some(w) = words(s) else { continue };
        // `from protocol tcp;` and `then accept;` are one-statement blocks.
        let inline;
        let inner: &[Stmt] = match (&s.block, w.len()) {
            (Some(b), 1) => b,
            (None, n) if n > 1 => {
                inline = [Stmt {
                    words: s.words[s.words.len() - n + 1..].to_vec(),
                    block: None,
                    line: s.line,
                    comment: None,
                }];
                &inline
            }
            _ => return Err((s.line, format!("`{}` is not modelled", one_line(&render(s))))),
        };
        match w[0] {
            "from" => {
                for c in inner {
                    from(c, v6, &mut m, &mut ports_at, &mut icmp_at)?;
                }
            }
            "then" => {
                for c in inner {
                    let Some(cw) = words(c) else { continue };
                    let a = match cw.as_slice() {
                        ["accept"] => Some(Action::Accept),
                        ["discard"] | ["reject"] | ["reject", _] => Some(Action::Drop),
                        ["next", "term"] => Some(Action::Continue),
                        ["count", _] | ["log"] | ["syslog"] => None,
                        _ => return Err((c.line, format!("action `{}` is not modelled", one_line(&render(c))))),
                    };
                    if let Some(a) = a {
                        if action.is_some_and(|x| x != a) {
                            return Err((c.line, "two terminating actions".into()));
                        }
                        action = Some(a);
                    }
                }
            }
            _ => return Err((s.line, format!("`{}` is not modelled", one_line(&render(s))))),
        }
    }
    let l4 = Field::from_ranges([(6, 6), (17, 17)]);
    if let Some(line) = ports_at
        && !m.protos.as_ref().is_some_and(|p| p.is_subset(&l4))
    {
        // Without the protocol, Junos compares whatever bytes sit where ports would be.
        return Err((line, "port match without `protocol tcp` or `udp`".into()));
    }
    let icmp = Field::point(if v6 { 58 } else { 1 });
    if let Some(line) = icmp_at
        && m.protos.as_ref() != Some(&icmp)
    {
        return Err((line, "ICMP type or code without the ICMP protocol alone".into()));
    }
    if m.established && m.protos.as_ref() != Some(&Field::point(6)) {
        // `tcp-established` tests flag bits and not the protocol.
        return Err((body.first().map_or(0, |s| s.line), "`tcp-established` without `protocol tcp`".into()));
    }
    Ok((action.unwrap_or(Action::Accept), m))
}

fn from(
    c: &Stmt,
    v6: bool,
    m: &mut Match,
    ports_at: &mut Option<usize>,
    icmp_at: &mut Option<usize>,
) -> Result<(), (usize, String)> {
    let Some(w) = words(c) else { return Ok(()) };
    let Some(&key) = w.first() else { return Err((c.line, "empty match".into())) };
    let at = |e: String| (c.line, e);
    match key {
        "source-address" | "destination-address" => {
            let mut f = Field::empty();
            for v in values(c, &w)? {
                let n: IpNet = v.parse().map_err(|_| at(format!("`{v}` is not a prefix")))?;
                if n.addr().is_ipv6() != v6 {
                    return Err(at(format!("`{v}` is of the wrong family")));
                }
                if n.addr() != n.network() {
                    return Err(at(format!("`{v}` has host bits set")));
                }
                f = f.union(&Field::prefix(&n));
            }
            let slot = if key == "source-address" { &mut m.src } else { &mut m.dst };
            *slot = union(slot.take(), f);
        }
        "protocol" if !v6 => m.protos = proto_list(c, &w, v6, m.protos.take())?,
        "next-header" if v6 => m.protos = proto_list(c, &w, v6, m.protos.take())?,
        "source-port" | "destination-port" => {
            let mut f = Field::empty();
            for v in values(c, &w)? {
                f = f.union(&range(v, names::junos_port, "port").map_err(at)?);
            }
            let slot = if key == "source-port" { &mut m.sport } else { &mut m.dport };
            *slot = union(slot.take(), f);
            *ports_at = Some(c.line);
        }
        "icmp-type" | "icmp-code" => {
            let mut f = Field::empty();
            for v in values(c, &w)? {
                let named = |s: &str| if key == "icmp-type" { names::junos_icmp(s, v6) } else { None };
                f = f.union(&range(v, named, key).map_err(at)?);
            }
            let slot = if key == "icmp-type" { &mut m.icmp_type } else { &mut m.icmp_code };
            *slot = union(slot.take(), f);
            *icmp_at = Some(c.line);
        }
        "tcp-established" if w.len() == 1 && c.block.is_none() => m.established = true,
        // `hop-limit 255;` (inet6), `ttl 1-254;` (inet): values and ranges.
        "hop-limit" | "ttl" if (key == "hop-limit") == v6 => {
            let mut f = Field::empty();
            for v in values(c, &w)? {
                f = f.union(&range::<u8>(v, |_| None, "hop limit").map_err(at)?);
            }
            m.hops = union(m.hops.take(), f);
        }
        _ => return Err(at(format!("match `{}` is not modelled", one_line(&render(c))))),
    }
    Ok(())
}

fn proto_list(c: &Stmt, w: &[&str], v6: bool, old: Option<Field>) -> Result<Option<Field>, (usize, String)> {
    let mut f = Field::empty();
    for v in values(c, w)? {
        let p = num_or(v, |s| names::junos_proto(s, v6), "protocol").map_err(|e| (c.line, e))?;
        f = f.union(&Field::point(u128::from(p)));
    }
    Ok(union(old, f))
}

fn interfaces(block: &[Stmt], b: &mut Builder) {
    for ifd in block {
        let Some(w) = words(ifd) else { continue };
        let (name, units) = match (w.as_slice(), &ifd.block) {
            ([name], Some(units)) if *name != "interface-range" => (*name, units),
            _ => {
                b.problem(ifd.line, format!("`{}` is not modelled", one_line(&ifd.words.join(" "))));
                continue;
            }
        };
        for u in units {
            let Some(w) = words(u) else { continue };
            match (w.as_slice(), &u.block) {
                (["unit", n], Some(fams)) if n.bytes().all(|b| b.is_ascii_digit()) => unit(name, n, fams, b),
                (["description", ..], None) => {}
                _ => b.problem(u.line, format!("`{}` under interface {name} is not modelled", one_line(&render(u)))),
            }
        }
    }
}

fn unit(ifd: &str, n: &str, fams: &[Stmt], b: &mut Builder) {
    let mut spellings = vec![format!("{ifd}.{n}")];
    if n == "0" {
        // `ge-0/0/1` in the policy is unit 0.
        spellings.push(ifd.to_string());
    }
    for f in fams {
        let Some(w) = words(f) else { continue };
        let (v6, inner) = match (w.as_slice(), &f.block) {
            (["family", fam @ ("inet" | "inet6")], Some(inner)) => (*fam == "inet6", inner),
            (["description" | "vlan-id", ..], None) => continue,
            _ => {
                b.problem(f.line, format!("`{}` under {ifd}.{n} is not modelled", one_line(&render(f))));
                continue;
            }
        };
        for s in inner {
            let Some(w) = words(s) else { continue };
            match (w.as_slice(), &s.block) {
                (["filter"], Some(fl)) => {
                    for x in fl {
                        let Some(xw) = words(x) else { continue };
                        match (xw.as_slice(), &x.block) {
                            (["input", name], None) => {
                                let origin = Origin {
                                    line: x.line,
                                    text: one_line(&format!(
                                        "interfaces {ifd} unit {n} family {}: {}",
                                        w0(v6),
                                        render(x)
                                    )),
                                    handle: None,
                                    comment: None,
                                    implicit: false,
                                    approximate: false,
                                };
                                // lo0's input filter sees every packet to the routing engine.
                                if ifd == "lo0" {
                                    b.bind_input(super::InputPoint::ControlPlane, v6, name, origin);
                                } else {
                                    b.bind(spellings.clone(), v6, name, origin);
                                }
                            }
                            _ => b.problem(x.line, format!("filter `{}` is not modelled", one_line(&render(x)))),
                        }
                    }
                }
                (["address", ..] | ["mtu", _], _) => {}
                _ => b.problem(s.line, format!("`{}` under {ifd}.{n} is not modelled", one_line(&render(s)))),
            }
        }
    }
}

fn w0(v6: bool) -> &'static str {
    if v6 { "inet6" } else { "inet" }
}
