//! Single-rule mutations of generated artifacts, for mutation testing `check`.
//!
//! Each mutant changes one rule of the text the way a person editing a device would: delete
//! a rule, widen or narrow a prefix, change a port, flip an action, add a set element or an
//! entry, reorder two rules. Sites are sampled evenly so a large file gives a bounded number
//! of mutants. Text-level on purpose: the mutants are what a device would really hold, and
//! the nftables ones can be loaded into the kernel.

#![allow(dead_code)]

use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// zonecheck's nft text.
    Nft,
    /// IOS-XE, EOS, AOS-CX: numbered entries.
    Cli,
    /// zonecheck's PowerShell script.
    Windows,
}

#[derive(Clone, Debug)]
pub struct Mutant {
    pub op: &'static str,
    /// 1-based line of the site in the original.
    pub line: usize,
    pub text: String,
}

/// Where rules and set elements sit in a text.
struct Sites {
    /// Lines that are rules (nft rules and vmap elements, numbered ACL entries).
    rules: Vec<usize>,
    /// nft set element lines.
    elements: Vec<usize>,
    /// Windows: (first, last) line of each `New-NetFirewallRule` command.
    commands: Vec<(usize, usize)>,
}

fn sites(kind: Kind, lines: &[&str]) -> Sites {
    let mut s = Sites { rules: Vec::new(), elements: Vec::new(), commands: Vec::new() };
    match kind {
        Kind::Nft => {
            let (mut in_chain, mut in_elements) = (false, false);
            for (i, l) in lines.iter().enumerate() {
                let t = l.trim();
                if t.starts_with("chain ") && t.ends_with('{') {
                    in_chain = true;
                } else if t.starts_with("elements = {") {
                    in_elements = true;
                } else if t == "}" {
                    // The end of an element list, a vmap or a chain.
                    in_elements = false;
                    if l.starts_with("\t}") && !l.starts_with("\t\t") {
                        in_chain = false;
                    }
                } else if in_elements && !t.is_empty() {
                    s.elements.push(i);
                } else if in_chain
                    && !t.is_empty()
                    && !t.starts_with('#')
                    && !t.starts_with("type ")
                    && !t.starts_with("comment ")
                    && !t.ends_with('{')
                    && !t.starts_with("limit ")
                {
                    s.rules.push(i);
                }
            }
        }
        Kind::Cli => {
            for (i, l) in lines.iter().enumerate() {
                let mut w = l.split_whitespace();
                let first = w.next().unwrap_or("");
                let first = if first == "sequence" { w.next().unwrap_or("") } else { first };
                let action = w.next().unwrap_or("");
                if first.parse::<u32>().is_ok() && (action == "permit" || action == "deny") {
                    s.rules.push(i);
                }
            }
        }
        Kind::Windows => {
            let mut start = None;
            for (i, l) in lines.iter().enumerate() {
                if l.trim_start().starts_with("New-NetFirewallRule") {
                    start = Some(i);
                }
                if let Some(a) = start
                    && l.trim_end().ends_with("| Out-Null")
                {
                    s.commands.push((a, i));
                    start = None;
                }
            }
        }
    }
    s
}

/// Up to `n` items spread evenly over `v`.
fn sample<T: Copy>(v: &[T], n: usize) -> Vec<T> {
    if v.len() <= n {
        return v.to_vec();
    }
    (0..n).map(|k| v[k * v.len() / n]).collect()
}

fn join(lines: &[String], crlf: bool) -> String {
    let mut s = lines.join(if crlf { "\r\n" } else { "\n" });
    s.push_str(if crlf { "\r\n" } else { "\n" });
    s
}

/// Delete line `i` of an nft brace list, keeping commas valid (the last element has none).
fn delete_element(lines: &mut Vec<String>, i: usize) {
    let last = !lines[i].trim_end().ends_with(',');
    lines.remove(i);
    if last && i > 0 && lines[i - 1].trim_end().ends_with(',') {
        let t = lines[i - 1].trim_end().trim_end_matches(',').to_string();
        lines[i - 1] = t;
    }
}

/// The first word of `line` that parses as an address or prefix, with its byte range.
fn find_prefix(line: &str) -> Option<(usize, usize, IpAddr, Option<u8>)> {
    let mut start = 0;
    for word in line.split(|c: char| c.is_whitespace() || c == ',' || c == '\'' || c == '(' || c == ')') {
        let at = line[start..].find(word).map(|p| p + start)?;
        start = at + word.len();
        let (a, len) = match word.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().ok()),
            None => (word, None),
        };
        if let Ok(ip) = a.parse::<IpAddr>()
            && (word.contains('.') || word.contains(':'))
        {
            return Some((at, at + word.len(), ip, len));
        }
    }
    None
}

fn masked(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

/// A prefix one bit wider or narrower (a host address widens to its pair).
fn reprefix(line: &str, wider: bool) -> Option<String> {
    let (a, b, ip, len) = find_prefix(line)?;
    let bits = if ip.is_ipv6() { 128 } else { 32 };
    let len = len.unwrap_or(bits);
    let new = if wider { len.checked_sub(1)? } else { (len < bits).then_some(len + 1)? };
    Some(format!("{}{}/{new}{}", &line[..a], masked(ip, new), &line[b..]))
}

/// The port of an entry moved by one (the first `eq N`, `range A B`, ` . N` before a
/// comment, or `Port @('N'`).
fn change_port(kind: Kind, line: &str) -> Option<String> {
    let bump = |n: &str| n.parse::<u16>().ok().map(|p| if p == 65535 { 65534 } else { p + 1 }.to_string());
    match kind {
        Kind::Cli => {
            let words: Vec<&str> = line.split(' ').collect();
            let i = words.iter().position(|w| *w == "eq" || *w == "range")?;
            let mut out = words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
            let j = if words[i] == "range" { i + 2 } else { i + 1 };
            let n: u16 = words.get(j)?.parse().ok()?;
            out[j] = if words[i] == "range" { n.saturating_sub(1).to_string() } else { bump(words[j])? };
            Some(out.join(" "))
        }
        Kind::Nft => {
            let cut = line.find(" comment").unwrap_or(line.len());
            let dot = line[..cut].rfind(" . ")?;
            let port = line[dot + 3..cut].trim().trim_end_matches(',');
            let (lo, rest) = match port.split_once('-') {
                Some((a, b)) => (a, format!("-{b}")),
                None => (port, String::new()),
            };
            if lo.parse::<u16>().is_err() {
                return None;
            }
            Some(format!("{} . {}{rest}{}", &line[..dot], bump(lo)?, &line[dot + 3 + port.len()..]))
        }
        Kind::Windows => {
            let at = line.find("Port @('")? + "Port @('".len();
            let end = at + line[at..].find('\'')?;
            let port = &line[at..end];
            let lo = port.split('-').next()?;
            Some(format!("{}{}{}", &line[..at], bump(lo)?, &line[at + lo.len()..]))
        }
    }
}

/// Every mutant of one text, at most `per_op` per operator.
pub fn mutants(kind: Kind, text: &str, per_op: usize) -> Vec<Mutant> {
    let crlf = text.contains("\r\n");
    let lines: Vec<&str> = text.lines().collect();
    let owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let s = sites(kind, &lines);
    let mut out = Vec::new();
    let mut push = |op: &'static str, line: usize, v: Vec<String>| {
        let text = join(&v, crlf);
        out.push(Mutant { op, line: line + 1, text });
    };
    match kind {
        Kind::Nft | Kind::Cli => {
            for &i in &sample(&s.rules, per_op) {
                let mut v = owned.clone();
                if owned[i].contains(" : jump ") || owned[i].contains(" : goto ") {
                    delete_element(&mut v, i);
                } else {
                    v.remove(i);
                }
                push("delete rule", i, v);
            }
            for &i in &sample(&s.rules, per_op) {
                let l = &owned[i];
                let flipped = if kind == Kind::Cli {
                    if l.contains(" permit ") {
                        l.replacen(" permit ", " deny ", 1)
                    } else {
                        l.replacen(" deny ", " permit ", 1)
                    }
                } else if l.contains(" accept") {
                    l.replacen(" accept", " drop", 1)
                } else if l.contains(" drop") {
                    l.replacen(" drop", " accept", 1)
                } else if let Some(p) = l.find(": jump ") {
                    format!("{}: accept{}", &l[..p], if l.trim_end().ends_with(',') { "," } else { "" })
                } else {
                    continue;
                };
                let mut v = owned.clone();
                v[i] = flipped;
                push("flip action", i, v);
            }
            for w in sample(&s.rules.windows(2).filter(|w| w[1] == w[0] + 1).map(|w| w[0]).collect::<Vec<_>>(), per_op)
            {
                let mut v = owned.clone();
                if kind == Kind::Cli {
                    // Entries run by sequence number: swap the rest of the lines, keep numbers.
                    let split = |l: &str| {
                        let t = l.trim_start();
                        let indent = &l[..l.len() - t.len()];
                        let (num, rest) = if let Some(r) = t.strip_prefix("sequence ") {
                            let (n, rest) = r.split_once(' ').unwrap_or((r, ""));
                            (format!("{indent}sequence {n}"), rest.to_string())
                        } else {
                            let (n, rest) = t.split_once(' ').unwrap_or((t, ""));
                            (format!("{indent}{n}"), rest.to_string())
                        };
                        (num, rest)
                    };
                    let ((na, ra), (nb, rb)) = (split(&owned[w]), split(&owned[w + 1]));
                    v[w] = format!("{na} {rb}");
                    v[w + 1] = format!("{nb} {ra}");
                } else {
                    if owned[w].contains(" : ") {
                        continue; // vmap elements have no order
                    }
                    v.swap(w, w + 1);
                }
                push("reorder rules", w, v);
            }
            let prefixed: Vec<usize> = s.rules.iter().chain(&s.elements).copied().collect();
            for (op, wider) in [("widen prefix", true), ("narrow prefix", false)] {
                for &i in &sample(&prefixed, per_op) {
                    if kind == Kind::Cli && !owned[i].contains('/') {
                        continue; // IOS wildcards: host/wildcard forms are covered by other ops
                    }
                    if let Some(m) = reprefix(&owned[i], wider) {
                        let mut v = owned.clone();
                        v[i] = m;
                        push(op, i, v);
                    }
                }
            }
            let ported: Vec<usize> = s.rules.iter().chain(&s.elements).copied().collect();
            for &i in &sample(&ported, per_op) {
                if let Some(m) = change_port(kind, &owned[i]) {
                    let mut v = owned.clone();
                    v[i] = m;
                    push("change port", i, v);
                }
            }
            for &i in &sample(&s.elements, per_op) {
                // A new element: a copy of one with another port, or for ICMP another type.
                let Some(copy) = change_port(kind, &owned[i]) else { continue };
                let copy = if copy == owned[i] { continue } else { copy };
                let mut v = owned.clone();
                let with_comma =
                    if owned[i].trim_end().ends_with(',') { owned[i].clone() } else { format!("{},", owned[i]) };
                v[i] = with_comma;
                let copy = copy.trim_end().trim_end_matches(',').to_string();
                let copy = if owned[i].trim_end().ends_with(',') { format!("{copy},") } else { copy };
                v.insert(i + 1, copy);
                push("add set element", i, v);
            }
            if kind == Kind::Cli {
                for &i in &sample(&s.rules, per_op) {
                    // A new entry right after this one: same match, port 23 or another ICMP type.
                    let Some(copy) = change_port(kind, &owned[i]) else { continue };
                    let t = copy.trim_start();
                    let indent = &copy[..copy.len() - t.len()];
                    let (pre, rest) = t.strip_prefix("sequence ").map_or(("", t), |r| ("sequence ", r));
                    let Some((n, tail)) = rest.split_once(' ') else { continue };
                    let Ok(n) = n.parse::<u32>() else { continue };
                    let mut v = owned.clone();
                    v.insert(i + 1, format!("{indent}{pre}{} {tail}", n + 1));
                    push("add entry", i, v);
                }
            }
        }
        Kind::Windows => {
            let allow: Vec<(usize, usize)> = s
                .commands
                .iter()
                .copied()
                .filter(|(a, b)| (*a..=*b).any(|k| owned[k].contains("-Action Allow")))
                .collect();
            for &(a, b) in &sample(&allow, per_op) {
                let mut v = owned.clone();
                v.drain(a..=b);
                push("delete rule", a, v);
            }
            for &(a, b) in &sample(&allow, per_op) {
                let mut v = owned.clone();
                for line in v.iter_mut().take(b + 1).skip(a) {
                    *line = line.replace("-Action Allow", "-Action Block");
                }
                push("flip action", a, v);
            }
            for &(a, b) in &sample(&allow, per_op) {
                let Some(k) = (a..=b).find(|k| owned[*k].contains("Port @('")) else { continue };
                if let Some(m) = change_port(kind, &owned[k]) {
                    let mut v = owned.clone();
                    v[k] = m;
                    push("change port", k, v);
                }
            }
            for (op, wider) in [("widen prefix", true), ("narrow prefix", false)] {
                for &(a, b) in &sample(&allow, per_op) {
                    let Some(k) = (a..=b).find(|k| owned[*k].contains("Address @(")) else { continue };
                    if let Some(m) = reprefix(&owned[k], wider) {
                        let mut v = owned.clone();
                        v[k] = m;
                        push(op, k, v);
                    }
                }
            }
        }
    }
    out
}
