//! The Windows target: golden scripts, injection safety and the readers.
//!
//! - Golden snapshots of the PowerShell scripts of Fjordvik's Windows hosts and of every
//!   example policy with a Windows host.
//! - A test lexer that follows PowerShell's quoting rules (single-quoted strings end at any
//!   of the five single-quote characters unless doubled; double-quoted strings with
//!   backtick escapes and `$` expansion; `#` and `<# #>` comments; statements end at a
//!   newline or `;`). Hostile policy strings must land inside one single-quoted literal
//!   each, the script's commands must be the template's fixed set, and no string may
//!   expand anything.
//! - The library's script reader (`check::read::windows::read_script`) reads every
//!   script back into a packet space, compared with the lowered permits (converted to
//!   packets here, independently) on random policies: nothing lost or added by rendering,
//!   and splitting rules keeps the union.
//! - The export reader (`read_export`) on hand-written exports of a live host: Block beats
//!   Allow, disabled and Private-only rules are ignored, conditions and keywords are
//!   problems; and the export of what a Fjordvik script leaves on a host permits what the
//!   script reader reads from the script.
//! - Every profile counts (issue 18): an export with the Public profile off and an
//!   allow-all rule for Private and Public, or profiles that differ in a default action,
//!   is "different" under `check`; Windows' own Allow rules left enabled beside zonecheck's
//!   group (network discovery, WinRM, Core Networking DNS and IPv6 out) are reported; the
//!   export with only zonecheck's rules enabled, profiles alike, is "equal".
//! - Neither reader panics on random text or random JSON.
//! - Optionally (required with ZONECHECK_REQUIRE_TREE_SITTER), tree-sitter-powershell
//!   parses the golden scripts without ERROR nodes and finds in each the refusal beside
//!   foreign Allow rules and their disabling (closed-zone hosts, before any rule is
//!   created) and the read-back of the active store after the profiles are set.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::check::read::windows::{profile_interface, read_export, read_script};
use crate::check::read::{Ifaces, Ruleset};
use crate::check::space::{Cube, Dim, Field, Packet, Path as ZPath, Space, addr_value};
use crate::diagnostics::code;
use crate::lower::{ChainKind, DeviceRules, Svc, lower};
use crate::model::HostOrDevice;
use crate::model::Model;
use crate::targets::Templates;
use crate::targets::windows::{self, WindowsOptions};
use ipnet::IpNet;
use proptest::prelude::*;

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| Templates::load(None).expect("templates"));

/// The five characters PowerShell reads as a single quote, and the four it reads as a
/// double quote (PowerShell's `CharTraits`).
const SQ: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
const DQ: [char; 4] = ['"', '\u{201C}', '\u{201D}', '\u{201E}'];

/// Every command the template may run, and those every script runs.
const COMMANDS: &[&str] = &[
    "Set-StrictMode",
    "Write-Host",
    "Write-Warning",
    "Get-NetFirewallRule",
    "Remove-NetFirewallRule",
    "Disable-NetFirewallRule",
    "New-NetFirewallRule",
    "Out-Null",
    "Get-NetFirewallProfile",
    "Set-NetFirewallProfile",
    "Where-Object",
    "ForEach-Object",
    "if",
    "foreach",
    "throw",
];
const ALWAYS: &[&str] = &[
    "Set-StrictMode",
    "Write-Host",
    "Write-Warning",
    "Get-NetFirewallRule",
    "Remove-NetFirewallRule",
    "Get-NetFirewallProfile",
    "Set-NetFirewallProfile",
    "Where-Object",
    "ForEach-Object",
    "if",
    "foreach",
    "throw",
];
/// The variables the template uses.
const VARIABLES: &[&str] = &[
    "$ErrorActionPreference",
    "$group",
    "$old",
    "$old.Count",
    "$p",
    "$p.Name",
    "$p.Enabled",
    "$p.DefaultInboundAction",
    "$p.DefaultOutboundAction",
    "$p.LogBlocked",
    "$p.AllowInboundRules",
    "$p.AllowLocalFirewallRules",
    "$p.DisabledInterfaceAliases",
    "$_",
    "$_.Enabled",
    "$_.Action",
    "$_.Group",
    "$_.Name",
    "$_.PolicyStoreSourceType",
    "$foreign",
    "$foreign.Count",
    "$local",
    "$local.Count",
    "$r",
    "$r.Name",
    "$r.DisplayName",
    "$r.PolicyStoreSourceType",
    "$expected",
    "$expected.Count",
    "$mine",
    "$mine.Count",
    "$names",
    "$n",
    "$others",
    "$wrong",
    "$wrong.Count",
    "$w",
];

fn windows_hosts(model: &Model) -> Vec<DeviceRules> {
    lower(model).into_iter().filter(|d| d.target == HostOrDevice::WindowsHost).collect()
}

fn digest(model: &Model) -> String {
    crate::compile::policy_digest(model).0
}

/// The script as text, after checking the encoding: UTF-8 with BOM, CRLF only.
fn decode(bytes: &[u8]) -> String {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{FEFF}').expect("starts with a BOM");
    assert!(!text.contains('\u{FEFF}'), "one BOM");
    let b = text.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'\n' {
            assert!(i > 0 && b[i - 1] == b'\r', "bare LF at byte {i}");
        }
        if *c == b'\r' {
            assert!(b.get(i + 1) == Some(&b'\n'), "bare CR at byte {i}");
        }
    }
    assert!(text.ends_with("\r\n"));
    text.to_string()
}

fn render(model: &Model, d: &DeviceRules) -> (String, crate::targets::Stats) {
    let (bytes, stats) = windows::render(model, d, &TEMPLATES, &WindowsOptions::default(), &digest(model))
        .unwrap_or_else(|e| panic!("render {}: {e:?}", d.name));
    (decode(&bytes), stats)
}

// ---------------------------------------------------------------------------------------
// The lexer
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A single-quoted literal: its value and its byte range in the script (quotes included).
    Single {
        value: String,
        start: usize,
        end: usize,
    },
    /// A double-quoted string; `expands` if it holds `$` expansion.
    Double {
        expands: bool,
    },
    HereString,
    Comment(String),
    /// A bareword; `command` if it stands where PowerShell reads a command name.
    Word {
        text: String,
        command: bool,
    },
    Var(String),
    Op(&'static str),
    /// The end of a statement (newline or `;`).
    End,
}

fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

fn word_end(c: char) -> bool {
    c.is_whitespace() || "(){};,|".contains(c) || SQ.contains(&c) || DQ.contains(&c)
}

/// Lex a script the way PowerShell's tokenizer treats quotes, comments and statement ends.
/// Anything the generated scripts never contain (line continuation by backtick followed by
/// something other than a newline, `${…}`) is an error.
fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|c| c.1);
    let offset = |i: usize| chars.get(i).map_or(text.len(), |c| c.0);
    let mut out = Vec::new();
    // Open brackets: '(' (newlines inside are whitespace), 'a' for @( and $(, '{'.
    let mut stack: Vec<char> = Vec::new();
    let mut command = true;
    let mut i = 0;
    while let Some(c) = at(i) {
        // Line continuation: backtick + newline.
        if c == '`' {
            match (at(i + 1), at(i + 2)) {
                (Some('\r'), Some('\n')) => i += 3,
                (Some('\n' | '\r'), _) => i += 2,
                _ => return Err(format!("backtick not before a newline at byte {}", offset(i))),
            }
            continue;
        }
        if is_newline(c) {
            let last = out.last();
            let continues = stack.last() == Some(&'(')
                || matches!(last, Some(Tok::Op(",") | Tok::Op("|") | Tok::Op("=")) | Some(Tok::End) | None);
            if !continues {
                out.push(Tok::End);
                command = true;
            }
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == ';' {
            out.push(Tok::End);
            command = true;
            i += 1;
            continue;
        }
        if c == '<' && at(i + 1) == Some('#') {
            let start = i;
            i += 2;
            loop {
                match at(i) {
                    None => return Err("unterminated block comment".into()),
                    Some('#') if at(i + 1) == Some('>') => {
                        i += 2;
                        break;
                    }
                    _ => i += 1,
                }
            }
            out.push(Tok::Comment(text[offset(start)..offset(i)].to_string()));
            continue;
        }
        if c == '#' {
            let start = i;
            while at(i).is_some_and(|c| !is_newline(c)) {
                i += 1;
            }
            out.push(Tok::Comment(text[offset(start)..offset(i)].to_string()));
            continue;
        }
        if c == '@' && at(i + 1).is_some_and(|q| SQ.contains(&q) || DQ.contains(&q)) {
            // A here-string needs a newline right after the opening quote.
            let mut j = i + 2;
            while at(j).is_some_and(|c| c == ' ' || c == '\t') {
                j += 1;
            }
            if at(j).is_some_and(is_newline) {
                // Skip to a line starting with a quote and `@`.
                let mut k = j;
                loop {
                    match at(k) {
                        None => return Err("unterminated here-string".into()),
                        Some(n) if is_newline(n) => {
                            k += 1;
                            if at(k).is_some_and(|q| SQ.contains(&q) || DQ.contains(&q)) && at(k + 1) == Some('@') {
                                k += 2;
                                break;
                            }
                        }
                        _ => k += 1,
                    }
                }
                out.push(Tok::HereString);
                command = false;
                i = k;
                continue;
            }
        }
        if SQ.contains(&c) {
            let start = offset(i);
            let mut value = String::new();
            i += 1;
            loop {
                match at(i) {
                    None => return Err(format!("unterminated single-quoted string at byte {start}")),
                    Some(q) if SQ.contains(&q) => {
                        if let Some(q2) = at(i + 1).filter(|q2| SQ.contains(q2)) {
                            value.push(q2);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(ch) => {
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Single { value, start, end: offset(i) });
            command = false;
            continue;
        }
        if DQ.contains(&c) {
            let mut expands = false;
            i += 1;
            loop {
                match at(i) {
                    None => return Err("unterminated double-quoted string".into()),
                    Some('`') => i += 2,
                    Some('$') => {
                        if at(i + 1).is_some_and(|n| n.is_alphanumeric() || "_({?^:$".contains(n)) {
                            expands = true;
                        }
                        i += 1;
                    }
                    Some(q) if DQ.contains(&q) => {
                        if at(i + 1).is_some_and(|q2| DQ.contains(&q2)) {
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            out.push(Tok::Double { expands });
            command = false;
            continue;
        }
        if c == '$' {
            match at(i + 1) {
                Some('(') => {
                    out.push(Tok::Op("$("));
                    stack.push('a');
                    command = true;
                    i += 2;
                }
                Some('{') => return Err("${…} variable".into()),
                _ => {
                    let start = i;
                    i += 1;
                    while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == ':') {
                        i += 1;
                    }
                    out.push(Tok::Var(text[offset(start)..offset(i)].to_string()));
                    command = false;
                }
            }
            continue;
        }
        if c == '@' && at(i + 1) == Some('(') {
            out.push(Tok::Op("@("));
            stack.push('a');
            command = true;
            i += 2;
            continue;
        }
        if c == '@' && at(i + 1) == Some('{') {
            out.push(Tok::Op("@{"));
            stack.push('{');
            command = false;
            i += 2;
            continue;
        }
        let op = match c {
            '(' => Some("("),
            ')' => Some(")"),
            '{' => Some("{"),
            '}' => Some("}"),
            ',' => Some(","),
            '|' => Some("|"),
            '=' => Some("="),
            _ => None,
        };
        if let Some(op) = op {
            match op {
                "(" => stack.push('('),
                "{" => stack.push('{'),
                ")" if !matches!(stack.pop(), Some('(' | 'a')) => {
                    return Err(format!("unbalanced ) at byte {}", offset(i)));
                }
                "}" => {
                    if stack.pop() != Some('{') {
                        return Err(format!("unbalanced }} at byte {}", offset(i)));
                    }
                    out.push(Tok::End);
                }
                _ => {}
            }
            out.push(Tok::Op(op));
            command = matches!(op, "(" | "{" | "|" | "=");
            i += 1;
            continue;
        }
        // A bareword.
        let start = i;
        while at(i).is_some_and(|c| !word_end(c)) {
            if at(i) == Some('`') {
                return Err(format!("backtick inside a bareword at byte {}", offset(i)));
            }
            i += 1;
        }
        out.push(Tok::Word { text: text[offset(start)..offset(i)].to_string(), command });
        command = false;
    }
    if !stack.is_empty() {
        return Err(format!("unclosed brackets {stack:?}"));
    }
    Ok(out)
}

/// Structural checks every generated script must pass: only the template's commands and
/// variables, no double-quoted or here-strings, barewords from a plain alphabet.
fn check_structure(text: &str) -> Result<Vec<Tok>, String> {
    let toks = lex(text)?;
    let mut commands = BTreeSet::new();
    for t in &toks {
        match t {
            Tok::Word { text, command: true } => {
                commands.insert(text.clone());
            }
            Tok::Word { text, .. } if !text.chars().all(|c| c.is_ascii_alphanumeric() || "-.".contains(c)) => {
                return Err(format!("bareword {text:?}"));
            }
            Tok::Double { expands } => return Err(format!("double-quoted string (expands: {expands})")),
            Tok::HereString => return Err("here-string".into()),
            Tok::Var(v) if !VARIABLES.contains(&v.as_str()) => return Err(format!("variable {v}")),
            Tok::Op("$(") | Tok::Op("@{") => return Err("subexpression or hashtable".into()),
            _ => {}
        }
    }
    for c in &commands {
        if !COMMANDS.contains(&c.as_str()) {
            return Err(format!("command {c:?} is not one the template runs"));
        }
    }
    for c in ALWAYS {
        if !commands.contains(*c) {
            return Err(format!("command {c} is missing"));
        }
    }
    if !text.starts_with("#Requires -RunAsAdministrator\r\n") {
        return Err("does not start with #Requires -RunAsAdministrator".into());
    }
    for needle in ["Set-StrictMode -Version 3.0", "$ErrorActionPreference = 'Stop'"] {
        if !text.contains(needle) {
            return Err(format!("missing {needle}"));
        }
    }
    // No trailing whitespace: a backtick followed by a space is no line continuation.
    if text.lines().any(|l| l.ends_with(' ') || l.ends_with('\t')) {
        return Err("trailing whitespace".into());
    }
    Ok(toks)
}

// ---------------------------------------------------------------------------------------
// The library reader against the lowering
// ---------------------------------------------------------------------------------------

/// The packets of one permit (or of neighbour discovery, with no addresses): one cube per
/// family the addresses allow. ICMP types are matched by protocol number, as the reader
/// reads Windows rules.
fn svc_cubes(path: ZPath, src: Option<IpNet>, dst: Option<IpNet>, svc: Svc) -> Vec<Cube> {
    let v6 = |n: &IpNet| matches!(n, IpNet::V6(_));
    let families: Vec<bool> = match (src.as_ref().map(v6), dst.as_ref().map(v6)) {
        (Some(a), Some(b)) if a != b => vec![],
        (Some(a), _) | (None, Some(a)) => vec![a],
        (None, None) => vec![false, true],
    };
    let mut out = Vec::new();
    for fam in families {
        let mut c = Some(Cube::on_path(fam, path));
        if let Some(s) = src {
            c = c.and_then(|c| c.with(Dim::Src, &Field::prefix(&s)));
        }
        if let Some(d) = dst {
            c = c.and_then(|c| c.with(Dim::Dst, &Field::prefix(&d)));
        }
        c = match svc {
            Svc::Ports { proto, lo, hi } => c
                .and_then(|c| c.with_value(Dim::Proto, u128::from(proto)))
                .and_then(|c| c.with_range(Dim::Dport, u128::from(lo), u128::from(hi))),
            Svc::IcmpType { v6, ty } => c
                .and_then(|c| c.with_value(Dim::Proto, if v6 { 58 } else { 1 }))
                .and_then(|c| c.with_value(Dim::Dport, u128::from(ty))),
            Svc::Proto(p) => c.and_then(|c| c.with_value(Dim::Proto, u128::from(p))),
            Svc::Any => c,
        };
        out.extend(c);
    }
    out
}

/// What the lowering says the host permits, plus the neighbour discovery the target adds,
/// as packets; every outbound packet when the host's outbound default is Allow.
fn intended(model: &Model, d: &DeviceRules) -> Space {
    let mut out = Space::new();
    for c in &d.chains {
        let path = match c.kind {
            ChainKind::Input => ZPath::Input,
            ChainKind::Output => ZPath::Output,
            ChainKind::Forward { .. } | ChainKind::Related { .. } | ChainKind::RelatedOutput => {
                panic!("a Windows host with a forward or related chain")
            }
        };
        for p in &c.permits {
            out.extend(svc_cubes(path, Some(p.src), Some(p.dst), p.svc));
        }
    }
    let sys = model.system(model.system_by_name(&d.name).expect("system"));
    if sys.addresses.iter().any(|a| matches!(a, IpNet::V6(_))) {
        // IPv6 only: the rule's `-RemoteAddress ::/0` keeps protocol 58 in IPv4 out.
        let any6: IpNet = "::/0".parse().expect("prefix");
        for ty in windows::ND_TYPES {
            out.extend(svc_cubes(ZPath::Input, Some(any6), None, Svc::IcmpType { v6: true, ty }));
            if d.filter_output {
                out.extend(svc_cubes(ZPath::Output, None, Some(any6), Svc::IcmpType { v6: true, ty }));
            }
        }
    }
    if !d.filter_output {
        out.extend([false, true].map(|v6| Cube::on_path(v6, ZPath::Output)));
    }
    out
}

/// Per `New-NetFirewallRule`, the number of addresses (LocalAddress and RemoteAddress
/// literals), from the test lexer's tokens.
fn address_counts(toks: &[Tok]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut counting = false;
    for t in toks {
        match t {
            Tok::Word { text, command: true } if text == "New-NetFirewallRule" => {
                out.push(0);
                counting = false;
            }
            Tok::Word { text, .. } if text.starts_with('-') => {
                counting = text == "-LocalAddress" || text == "-RemoteAddress";
            }
            Tok::Op("|") => counting = false,
            Tok::Single { .. } if counting => {
                if let Some(n) = out.last_mut() {
                    *n += 1;
                }
            }
            _ => {}
        }
    }
    out
}

/// A packet of `a \ b`, described, if there is one.
fn witness(a: &Space, b: &Space) -> Result<Option<String>, String> {
    let diff = a.difference(b).map_err(|_| "too fragmented".to_string())?;
    Ok(diff.first().map(|c| c.witness().describe(&Ifaces::new())))
}

/// The rules of a ruleset that were written as rules (not a profile's default or a profile
/// whose firewall is off).
fn written(rs: &Ruleset) -> usize {
    rs.chains.iter().flat_map(|c| &c.rules).filter(|r| !r.origin.implicit).count()
}

/// The profiles' default actions as the reader words them.
fn profile_defaults(rs: &Ruleset) -> BTreeSet<String> {
    rs.chains.iter().flat_map(|c| &c.rules).filter(|r| r.origin.implicit).map(|r| r.origin.text.clone()).collect()
}

/// Render with `limit`, read back with the library reader, compare with the lowering.
fn round_trip(model: &Model, d: &DeviceRules, limit: usize) -> Result<usize, String> {
    let (bytes, stats) =
        windows::render_with_limit(model, d, &TEMPLATES, &WindowsOptions::default(), &digest(model), limit)
            .map_err(|e| format!("{e:?}"))?;
    let text = decode(&bytes);
    let toks = check_structure(&text).map_err(|e| format!("{}: {e}\n{text}", d.name))?;
    // The script owns its group and removes the group's old rules first.
    let removes = toks.windows(3).any(|w| {
        matches!(w, [Tok::Word { text: a, .. }, Tok::Word { text: b, .. }, Tok::Var(v)]
            if a == "Get-NetFirewallRule" && b == "-Group" && v == "$group")
    });
    let owns = toks.windows(3).any(|w| {
        matches!(w, [Tok::Var(v), Tok::Op("="), Tok::Single { value, .. }] if v == "$group" && value == "zonecheck")
    });
    if !removes || !owns {
        return Err("the group's old rules are not removed".into());
    }
    let counts = address_counts(&toks);
    if let Some(most) = counts.iter().max()
        && *most > limit.max(2)
    {
        return Err(format!("{}: a rule holds {most} addresses, limit {limit}", d.name));
    }
    let rs = read_script(&text, &mut Ifaces::new());
    if !rs.problems.is_empty() {
        return Err(format!("{}: problems {:?}\n{text}", d.name, rs.problems));
    }
    let rules = written(&rs);
    if stats.rules != rules || counts.len() != rules {
        return Err(format!(
            "stats say {} rules, the script has {}, the reader read {rules}",
            stats.rules,
            counts.len()
        ));
    }
    // Every profile's defaults: Block inbound, Block outbound on closed hosts.
    let defaults = profile_defaults(&rs);
    let want = if d.filter_output { "Block" } else { "Allow" };
    for p in ["Domain", "Private", "Public"] {
        let expect =
            [format!("{p} profile: DefaultInboundAction Block"), format!("{p} profile: DefaultOutboundAction {want}")];
        if expect.iter().any(|e| !defaults.contains(e)) {
            return Err(format!("{}: defaults read as {defaults:?}", d.name));
        }
    }
    let got = rs.permitted(&[ZPath::Input, ZPath::Output]).map_err(|e| format!("{e:?}"))?.permitted;
    let want = intended(model, d);
    let lost = witness(&want, &got)?;
    let added = witness(&got, &want)?;
    if lost.is_some() || added.is_some() {
        return Err(format!("{}: lost {lost:?}, added {added:?}\n{text}", d.name));
    }
    // Logging is not part of the permitted space; the script must still turn it on.
    let outbound = if d.filter_output { "Block" } else { "Allow" };
    let profile = format!(
        "Set-NetFirewallProfile -Profile @('Domain', 'Private', 'Public') -PolicyStore PersistentStore -Enabled True \
         -DefaultInboundAction Block -DefaultOutboundAction {outbound} -LogBlocked True"
    );
    if !text.contains(&profile) {
        return Err(format!("{}: no `{profile}`", d.name));
    }
    Ok(rules)
}

// ---------------------------------------------------------------------------------------
// Golden scripts
// ---------------------------------------------------------------------------------------

#[test]
fn golden_fjordvik_windows_hosts() {
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let hosts = windows_hosts(&model);
    // A closed-zone server, a closed-zone jump host and an internal server.
    for name in ["epj-plo-app", "jump-sikker", "fil"] {
        let d = hosts.iter().find(|d| d.name == name).expect("host");
        let (text, stats) = render(&model, d);
        check_structure(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
        let header = format!("# {name}: {} rules\n", stats.rules);
        insta::assert_snapshot!(format!("fjordvik__{name}"), format!("{header}{}", text.replace("\r\n", "\n")));
    }
    // Every Windows host of Fjordvik round-trips, and is deterministic.
    for d in &hosts {
        let a = render(&model, d).0;
        assert_eq!(a, render(&model, d).0);
        round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
        round_trip(&model, d, 3).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn zc_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            zc_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "zc") {
            out.push(p);
        }
    }
}

#[test]
fn golden_examples_with_windows_hosts() {
    let mut files = Vec::new();
    zc_files(Path::new("examples"), &mut files);
    let mut seen = 0;
    for f in files {
        // Violation examples do not pass verify; lowering does not need it.
        let model = crate::load_policy(&f).unwrap_or_else(|e| panic!("{}: {:?}", f.display(), e.diags));
        let hosts = windows_hosts(&model);
        if hosts.is_empty() {
            continue;
        }
        seen += 1;
        let mut all = String::new();
        for d in &hosts {
            let (text, stats) = render(&model, d);
            check_structure(&text).unwrap_or_else(|e| panic!("{} {}: {e}", f.display(), d.name));
            round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
            all.push_str(&format!("===== host {} ({} rules) =====\n", d.name, stats.rules));
            all.push_str(&text.replace("\r\n", "\n"));
        }
        let rel = f.strip_prefix("examples").expect("inside").with_extension("");
        let name = format!("example__{}", rel.to_string_lossy().replace(['/', '\\'], "__"));
        insta::assert_snapshot!(name, all);
    }
    assert!(seen >= 7, "every example has Windows hosts; saw {seen}");
}

// ---------------------------------------------------------------------------------------
// Injection
// ---------------------------------------------------------------------------------------

/// A policy string literal for any text: `\` and `"` escaped, control characters dropped
/// (the policy language forbids them; the target must cope with everything else).
fn quoted(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// What a policy string holds after the policy language's rules (as `quoted` writes it).
fn as_policy(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

fn marker(k: usize) -> (String, String) {
    (format!("ZQX{k}Y<"), format!(">ZQX{k}Y"))
}

fn marked(k: usize, s: &str) -> String {
    let (a, b) = marker(k);
    format!("{a}{s}{b}")
}

/// Strings 0..5: policy name, label and owner of `x`, descriptions of two flows; 5 and 6
/// label and owner of `y`.
fn hostile_policy(s: &[String; 7]) -> String {
    format!(
        "policy {}\n\
         zone a {} {{ trust closed; net 10.0.0.0/24, fd00:a::/64 }}\n\
         zone b {{ trust internal; net 10.1.0.0/24 }}\n\
         system x {} {{ zone a; address 10.0.0.1, fd00:a::1; platform windows; owner {} }}\n\
         system y {} {{ zone b; address 10.1.0.1; platform windows; owner {} }}\n\
         flow x -> y : https {}\n\
         flow b -> x : rdp, ping {}\n",
        quoted(&marked(0, &s[0])),
        quoted(&s[1]),
        quoted(&marked(1, &s[1])),
        quoted(&marked(2, &s[2])),
        quoted(&marked(5, &s[5])),
        quoted(&marked(6, &s[6])),
        quoted(&marked(3, &s[3])),
        quoted(&marked(4, &s[4])),
    )
}

/// Every marked string of `expect` lies inside one single-quoted literal, whole.
fn check_confined(text: &str, toks: &[Tok], expect: &[(usize, String)]) -> Result<(), String> {
    let singles: Vec<(usize, usize, &str)> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Single { value, start, end } => Some((*start, *end, value.as_str())),
            _ => None,
        })
        .collect();
    let inside = |pos: usize, len: usize| singles.iter().position(|(s, e, _)| *s < pos && pos + len < *e);
    for (k, s) in expect {
        let (open, close) = marker(*k);
        let opens: Vec<usize> = text.match_indices(&open).map(|m| m.0).collect();
        let closes: Vec<usize> = text.match_indices(&close).map(|m| m.0).collect();
        if opens.is_empty() {
            return Err(format!("string {k} is missing from the script"));
        }
        if opens.len() != closes.len() {
            return Err(format!("string {k}: {} openings, {} closings", opens.len(), closes.len()));
        }
        for (o, c) in opens.iter().zip(&closes) {
            let a = inside(*o, open.len()).ok_or(format!("string {k} opens outside a literal at byte {o}"))?;
            let b = inside(*c, close.len()).ok_or(format!("string {k} closes outside a literal at byte {c}"))?;
            if a != b {
                return Err(format!("string {k} spans several tokens"));
            }
        }
        // Decoded, every occurrence is the whole string (descriptions with `|` as `¦`).
        let whole = [format!("{open}{s}{close}"), format!("{open}{}{close}", s.replace('|', "\u{A6}"))];
        let found: usize = singles
            .iter()
            .map(|(_, _, v)| {
                let n = v.matches(&whole[0]).count();
                if whole[0] == whole[1] { n } else { n + v.matches(&whole[1]).count() }
            })
            .sum();
        if found != opens.len() {
            return Err(format!("string {k}: {found} whole copies of {} occurrences", opens.len()));
        }
    }
    Ok(())
}

/// Compile the hostile policy's Windows hosts and check every script; `Ok(false)` when the
/// strings were rightly rejected.
fn injection_case(s: &[String; 7]) -> Result<bool, String> {
    let text = hostile_policy(s);
    let model =
        crate::load_str("p.zc", &text).map_err(|e| crate::diagnostics::render(&e.diags, &e.sources, false, 100))?;
    let strings: Vec<String> = s.iter().map(|x| as_policy(x)).collect();
    let mut accepted = true;
    for d in windows_hosts(&model) {
        // The strings each host's script carries: x is closed, so it also gets flow 3.
        let carried: &[usize] = if d.name == "x" { &[0, 1, 2, 3, 4] } else { &[0, 3, 5, 6] };
        let rejectable =
            carried.iter().any(|k| strings[*k].chars().any(|c| crate::targets::powershell::unsafe_char(c).is_some()));
        let r = windows::render(&model, &d, &TEMPLATES, &WindowsOptions::default(), &digest(&model));
        let (bytes, _) = match r {
            Err(diags) => {
                if !rejectable {
                    return Err(format!("rejected acceptable strings: {diags:?}"));
                }
                if diags.iter().any(|d| d.code != code::COMPILE_UNSAFE_STRING) {
                    return Err(format!("wrong code: {diags:?}"));
                }
                accepted = false;
                continue;
            }
            Ok(x) => x,
        };
        if rejectable {
            return Err("a string with a line separator or control was accepted".into());
        }
        let script = decode(&bytes);
        let toks = check_structure(&script).map_err(|e| format!("{}: {e}\n{script}", d.name))?;
        let expect: Vec<(usize, String)> = carried.iter().map(|k| (*k, strings[*k].clone())).collect();
        check_confined(&script, &toks, &expect).map_err(|e| format!("{}: {e}\n{script}", d.name))?;
        round_trip(&model, &d, windows::MAX_ADDRESSES)?;
    }
    Ok(accepted)
}

const HOSTILE: &[&str] = &[
    "'; Remove-Item",
    "’ ; calc ; ’",
    "‘x‛",
    "\nRemove-Item C:\\ -Recurse",
    "\u{2028}Remove-Item C:\\ -Recurse",
    "#",
    "\"",
    "$(calc)",
    "`",
    "` \n",
    "'",
    "''",
    "‚",
    "a' + (calc) + 'b",
    "x'; Start-Process calc; #",
    "“$(calc)”",
    "<# x",
    "#> '",
    "@'",
    "'@",
    "| Out-Null; calc",
    "æøå ÆØÅ 🦀 – — §",
    "\\",
    "\u{202E}evil",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => proptest::sample::select(HOSTILE).prop_map(str::to_string),
        3 => "[‘’‚‛'\"“”„`$#;(){}@<>| a-zæ\\-]{0,24}",
    ]
}

#[test]
fn fixed_hostile_strings_stay_inside_literals() {
    let mut rejected = 0;
    for h in HOSTILE {
        for k in 0..7 {
            let mut s: [String; 7] = Default::default();
            for (i, x) in s.iter_mut().enumerate() {
                *x = format!("v{i}");
            }
            s[k] = (*h).to_string();
            match injection_case(&s) {
                Ok(true) => {}
                Ok(false) => rejected += 1,
                Err(e) => panic!("{h:?} in string {k}: {e}"),
            }
        }
    }
    // Only U+2028 and U+202E survive the policy language and must be rejected.
    assert!(rejected > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn every_policy_string_stays_inside_one_literal(
        a in hostile(), b in hostile(), c in hostile(), d in hostile(), e in hostile(), f in hostile(), g in hostile()
    ) {
        injection_case(&[a, b, c, d, e, f, g]).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn unquotable_strings_are_rejected_with_a_diagnostic() {
    // Through the policy language: U+2028 passes its control-character check.
    let text = "zone a { trust internal; net 10.0.0.0/24 }\n\
                system x { zone a; address 10.0.0.1; platform windows }\n\
                flow a -> x : https \"line one\u{2028}Remove-Item C:\\\\ -Recurse\"\n";
    let model = crate::load_str("p.zc", text).expect("resolves");
    let d = &windows_hosts(&model)[0];
    let diags =
        windows::render(&model, d, &TEMPLATES, &WindowsOptions::default(), "x").expect_err("must reject, not render");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, code::COMPILE_UNSAFE_STRING);
    assert_eq!(diags[0].span, model.flows[0].header_span);
    assert!(diags[0].message.contains("description of flow p.zc:3"), "{}", diags[0].message);

    // Strings that cannot come from the policy text but could from a future front end.
    for bad in ["a\nRemove-Item C:\\ -Recurse", "a\rb", "nul\0", "nel\u{85}", "tab\t", "\u{2029}", "\u{2066}x"] {
        let mut m = model.clone();
        m.systems[0].label = Some(bad.into());
        m.systems[0].owner = Some(format!("owner {bad}"));
        let diags = windows::render(&m, d, &TEMPLATES, &WindowsOptions::default(), "x").expect_err("rejected");
        assert_eq!(diags.len(), 3, "label, owner and description: {diags:?}");
        assert!(diags.iter().all(|d| d.code == code::COMPILE_UNSAFE_STRING));
        assert!(diags.iter().any(|d| d.span == m.systems[0].name_span && d.message.contains("label")));
        assert!(diags.iter().any(|d| d.span == m.systems[0].span && d.message.contains("owner")));
    }
    let mut m = model.clone();
    m.flows[0].description = "ok".into();
    m.meta.name = Some("name\n'; calc".into());
    let diags = windows::render(&m, d, &TEMPLATES, &WindowsOptions::default(), "x").expect_err("rejected");
    assert!(diags[0].message.contains("policy name"), "{diags:?}");

    // A group name with wildcards is refused.
    let opts = WindowsOptions { group: "zone*".into() };
    let diags = windows::render(&model, d, &TEMPLATES, &opts, "x").expect_err("rejected");
    assert_eq!(diags[0].code, code::CONFIG_INVALID);
}

// ---------------------------------------------------------------------------------------
// The reader against the lowering, on random policies
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct RZone {
    closed: bool,
    v6: bool,
    /// A more specific zone inside, so this zone's space is not one prefix.
    nested: bool,
}

#[derive(Clone, Debug)]
struct RSys {
    zone: usize,
    v6: bool,
    windows: bool,
}

#[derive(Clone, Debug)]
struct RFlow {
    from: (u8, usize, usize),
    to: (u8, usize, usize),
    services: Vec<usize>,
}

#[derive(Clone, Debug)]
struct RPolicy {
    zones: Vec<RZone>,
    internet: bool,
    systems: Vec<RSys>,
    groups: Vec<Vec<(bool, usize)>>,
    flows: Vec<RFlow>,
}

const SERVICES: &[&str] = &[
    "service s0 { tcp/80, tcp/81 }",
    "service s1 { tcp/1000-2000, udp/53 }",
    "service s2 { icmp/echo-request, icmpv6/echo-request }",
    "service s3 { icmp }",
    "service s4 { proto/47 }",
    "service s5 { any }",
    "service s6 { tcp/1500-1600, tcp/8080, udp/54 }",
    "service s7 { tcp/443 }",
];

fn rpolicy() -> impl Strategy<Value = RPolicy> {
    let zone = (any::<bool>(), any::<bool>(), prop::bool::weighted(0.3)).prop_map(|(closed, v6, nested)| RZone {
        closed,
        v6,
        nested,
    });
    let sys = (0usize..8, any::<bool>(), prop::bool::weighted(0.85)).prop_map(|(zone, v6, windows)| RSys {
        zone,
        v6,
        windows,
    });
    let ep = (0u8..4, 0usize..16, 0usize..16);
    let flow = (ep.clone(), ep, prop::collection::vec(0..SERVICES.len(), 1..3))
        .prop_map(|(from, to, services)| RFlow { from, to, services });
    (
        prop::collection::vec(zone, 1..4),
        prop::bool::weighted(0.3),
        prop::collection::vec(sys, 1..6),
        prop::collection::vec(prop::collection::vec((any::<bool>(), 0usize..16), 1..3), 0..3),
        prop::collection::vec(flow, 1..7),
    )
        .prop_map(|(zones, internet, systems, groups, flows)| RPolicy { zones, internet, systems, groups, flows })
}

fn rrender(p: &RPolicy) -> String {
    let mut t = String::new();
    for s in SERVICES {
        t.push_str(s);
        t.push('\n');
    }
    let nz = p.zones.len();
    for (i, z) in p.zones.iter().enumerate() {
        let trust = if z.closed { "closed" } else { "internal" };
        let v6 = if z.v6 { format!(", fd00:{i}::/48") } else { String::new() };
        t.push_str(&format!("zone z{i} {{ trust {trust}; net 10.{i}.0.0/16{v6} }}\n"));
        if z.nested {
            t.push_str(&format!("zone n{i} {{ trust internal; net 10.{i}.128.0/17 }}\n"));
        }
    }
    if p.internet {
        t.push_str("zone inet { trust external; net 0.0.0.0/0, ::/0 }\n");
    }
    for (j, s) in p.systems.iter().enumerate() {
        let z = s.zone % nz;
        let v6 = if s.v6 && p.zones[z].v6 { format!(", fd00:{z}::{}", j + 1) } else { String::new() };
        let platform = if s.windows { "windows" } else { "linux" };
        t.push_str(&format!("system h{j} {{ zone z{z}; address 10.{z}.0.{}{v6}; platform {platform} }}\n", j + 1));
    }
    let member = |(sys, k): (bool, usize)| {
        if sys { format!("h{}", k % p.systems.len()) } else { format!("z{}", k % nz) }
    };
    for (g, members) in p.groups.iter().enumerate() {
        let m: Vec<String> = members.iter().map(|m| member(*m)).collect();
        t.push_str(&format!("group g{g} {{ {} }}\n", m.join(", ")));
    }
    let endpoint = |(kind, a, b): (u8, usize, usize)| match kind {
        0 => format!("h{}", a % p.systems.len()),
        1 => {
            // A zone, sometimes the nested one or the internet.
            if p.internet && b % 5 == 0 {
                "inet".to_string()
            } else if p.zones[a % nz].nested && b % 3 == 0 {
                format!("n{}", a % nz)
            } else {
                format!("z{}", a % nz)
            }
        }
        2 if !p.groups.is_empty() => format!("g{}", a % p.groups.len()),
        _ => format!("[h{}, z{}]", a % p.systems.len(), b % nz),
    };
    for (k, f) in p.flows.iter().enumerate() {
        let services: Vec<String> = f.services.iter().map(|s| format!("s{s}")).collect();
        t.push_str(&format!("flow {} -> {} : {} \"f{k}\"\n", endpoint(f.from), endpoint(f.to), services.join(", ")));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn reader_space_equals_the_lowered_permits(p in rpolicy(), limit in 2usize..7) {
        let text = rrender(&p);
        let model = crate::load_str("r.zc", &text).map_err(|e| {
            TestCaseError::fail(format!("{}\n{text}", crate::diagnostics::render(&e.diags, &e.sources, false, 100)))
        })?;
        for d in windows_hosts(&model) {
            round_trip(&model, &d, windows::MAX_ADDRESSES).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            round_trip(&model, &d, limit).map_err(|e| TestCaseError::fail(format!("limit {limit}: {e}\n{text}")))?;
        }
    }
}

#[test]
fn more_than_a_thousand_addresses_are_split() {
    let mut text = String::from(
        "zone many { trust internal; net 10.50.0.0/16 }\nzone h { trust closed; net 10.60.0.0/24, fd00:60::/64 }\n\
         system host { zone h; address 10.60.0.1, fd00:60::1; platform windows }\n",
    );
    let n = 1200;
    for i in 0..n {
        text.push_str(&format!("system s{i} {{ zone many; address 10.50.{}.{} }}\n", i / 250, i % 250 + 1));
    }
    let members: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    text.push_str(&format!("group clients {{ {} }}\n", members.join(", ")));
    text.push_str("flow clients -> host : s7 \"many clients\"\nflow host -> clients : s7 \"and back\"\n");
    text.push_str(SERVICES[7]);
    let model = crate::load_str("big.zc", &text).expect("resolves");
    let d = &windows_hosts(&model)[0];
    // 1,200 remote addresses and one local IPv4 address per direction: two rules each,
    // plus IPv6 neighbour discovery both ways.
    let rules = round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules, 2 + 2 + 2);
    let (script, _) = render(&model, d);
    assert!(script.contains("[part 2/2]"));
}

// ---------------------------------------------------------------------------------------
// tree-sitter-powershell, when installed
// ---------------------------------------------------------------------------------------

const TREE_SITTER_CHECK: &str = r#"
import json, sys
from tree_sitter import Language, Parser
import tree_sitter_powershell as tsp
parser = Parser(Language(tsp.language()))
result = {}
for path in sys.argv[1:]:
    src = open(path, "rb").read()
    if src.startswith(b"\xef\xbb\xbf"):
        src = src[3:]
    tree = parser.parse(src)
    errors, commands = [], set()
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            errors.append("%s at %s" % (n.type, n.start_point))
        if n.type == "command_name":
            commands.add(src[n.start_byte:n.end_byte].decode())
        stack.extend(n.children)
    result[path] = {"errors": errors, "commands": sorted(commands)}
print(json.dumps(result))
"#;

#[test]
fn tree_sitter_powershell_parses_the_scripts() {
    let Some(python) = tree_sitter_python() else { return };
    let dir = std::env::temp_dir().join(format!("zonecheck-windows-ts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut paths = Vec::new();
    let mut write = |name: String, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        paths.push(p);
    };
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    for d in windows_hosts(&model) {
        let (bytes, _) =
            windows::render(&model, &d, &TEMPLATES, &WindowsOptions::default(), &digest(&model)).expect("r");
        write(format!("{}.ps1", d.name), bytes);
    }
    let mut s: [String; 7] = Default::default();
    for (i, h) in ["'; Remove-Item", "’ ; calc ; ’", "‘x‛", "$(calc)", "`", "#", "\""].iter().enumerate() {
        s[i] = (*h).to_string();
    }
    let hostile = crate::load_str("p.zc", &hostile_policy(&s)).expect("resolves");
    for d in windows_hosts(&hostile) {
        let (bytes, _) = windows::render(&hostile, &d, &TEMPLATES, &WindowsOptions::default(), "x").expect("r");
        write(format!("hostile-{}.ps1", d.name), bytes);
    }
    let out =
        std::process::Command::new(&python).arg("-c").arg(TREE_SITTER_CHECK).args(&paths).output().expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for p in &paths {
        let r = &result[p.to_string_lossy().as_ref()];
        assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{}: {}", p.display(), r["errors"]);
        for c in r["commands"].as_array().expect("commands") {
            let c = c.as_str().expect("str");
            assert!(COMMANDS.contains(&c), "{}: command {c}", p.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Per script, in source order: every command (name, its parameter and bare-word
/// arguments, the variable an enclosing assignment assigns, what a pipeline feeds it from
/// the left, whether it sits inside an `if`) and every `throw` (with the condition of its
/// `if`).
const TREE_SITTER_EVENTS: &str = r#"
import json, sys
from tree_sitter import Language, Parser
import tree_sitter_powershell as tsp
parser = Parser(Language(tsp.language()))
result = {}
for path in sys.argv[1:]:
    src = open(path, "rb").read()
    if src.startswith(b"\xef\xbb\xbf"):
        src = src[3:]
    text = lambda n: src[n.start_byte:n.end_byte].decode()
    tree = parser.parse(src)
    events = []
    def ancestors(n):
        n = n.parent
        while n is not None:
            yield n
            n = n.parent
    def assigned(n):
        for a in ancestors(n):
            if a.type == "assignment_expression":
                return text(a.children[0])
        return None
    def if_condition(n):
        for a in ancestors(n):
            if a.type == "if_statement":
                return text(a.children[2])
        return None
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "command":
            name = [c for c in n.children if c.type == "command_name"]
            args = []
            for e in [c for c in n.children if c.type == "command_elements"]:
                args += [text(c) for c in e.children if c.type in ("command_parameter", "generic_token")]
            left = None
            if n.parent is not None and n.parent.type == "pipeline_chain":
                kids = [c for c in n.parent.children if c.type != "|"]
                k = kids.index(n)
                if k > 0:
                    left = text(kids[k - 1]) if kids[k - 1].type != "command" else "command " + text([c for c in kids[k - 1].children if c.type == "command_name"][0])
            events.append({"at": n.start_byte, "kind": "command", "name": text(name[0]) if name else "",
                           "args": args, "assigned": assigned(n), "from": left, "if": if_condition(n)})
        if n.type == "flow_control_statement" and n.children and n.children[0].type == "throw":
            events.append({"at": n.start_byte, "kind": "throw", "name": "throw", "args": [], "assigned": None,
                           "from": None, "if": if_condition(n)})
        stack.extend(n.children)
    events.sort(key=lambda e: e["at"])
    result[path] = events
print(json.dumps(result))
"#;

/// Is tree-sitter-powershell there? (A test that needs it fails when
/// ZONECHECK_REQUIRE_TREE_SITTER is set, else is skipped.)
fn tree_sitter_python() -> Option<String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = std::process::Command::new(&python).args(["-c", "import tree_sitter, tree_sitter_powershell"]).output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Some(python);
    }
    let msg =
        "tree-sitter-powershell is not installed (pip install tree-sitter==0.26.1 tree-sitter-powershell==0.26.4)";
    assert!(std::env::var_os("ZONECHECK_REQUIRE_TREE_SITTER").is_none(), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

#[derive(Clone, Debug, serde::Deserialize)]
struct Event {
    kind: String,
    name: String,
    args: Vec<String>,
    assigned: Option<String>,
    from: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
}

impl Event {
    /// The command `name` with `-param value` among its arguments.
    fn is(&self, name: &str, param: &str, value: &str) -> bool {
        self.name == name && self.args.windows(2).any(|w| w[0] == param && w[1] == value)
    }
}

/// Where the refusal, the disabling and the read-back sit in a parsed script; what is
/// wrong, if anything.
fn refusal_and_read_back(events: &[Event], closed: bool) -> Result<(), String> {
    let find = |from: usize, f: &dyn Fn(&Event) -> bool| events.iter().skip(from).position(f).map(|k| k + from);
    let first_rule = find(0, &|e| e.name == "New-NetFirewallRule").ok_or("no New-NetFirewallRule")?;
    let profiles = find(first_rule, &|e| e.name == "Set-NetFirewallProfile").ok_or("no Set-NetFirewallProfile")?;
    let before = |k: Option<usize>| k.is_some_and(|k| k < first_rule);
    let foreign = find(0, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$foreign")
    });
    let foreign_filter = find(0, &|e| {
        e.name == "Where-Object"
            && e.assigned.as_deref() == Some("$foreign")
            && e.from.as_deref() == Some("command Get-NetFirewallRule")
    });
    let refuse = find(0, &|e| e.kind == "throw" && e.condition.as_deref() == Some("$foreign.Count -gt 0"));
    let local = find(0, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "PersistentStore") && e.assigned.as_deref() == Some("$local")
    });
    let disable = find(0, &|e| e.name == "Disable-NetFirewallRule" && e.from.as_deref() == Some("$local"));
    if closed {
        for (what, k) in [
            ("the look-up of foreign rules in the active store", foreign),
            ("its filter", foreign_filter),
            ("the refusal", refuse),
            ("the look-up of local foreign rules", local),
            ("the disabling", disable),
        ] {
            if !before(k) {
                return Err(format!("{what} is missing or not before the first rule is created"));
            }
        }
        if !(foreign < refuse && refuse < local && local < disable) {
            return Err("refusal, look-up and disabling are out of order".into());
        }
    } else if foreign.is_some() || disable.is_some() || events.iter().any(|e| e.name == "Disable-NetFirewallRule") {
        return Err("a host outside closed zones disables rules".into());
    }
    // The read-back: after the profiles are set, the active store's profiles and rules,
    // and a throw when anything differs; nothing changes the firewall after it.
    let got_profiles = find(profiles, &|e| {
        e.is("Get-NetFirewallProfile", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$wrong")
    });
    let got_rules = find(profiles, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$mine")
    });
    let others = find(profiles, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$others")
    });
    let fail = find(profiles, &|e| e.kind == "throw" && e.condition.as_deref() == Some("$wrong.Count -gt 0"));
    let (Some(p), Some(r), Some(f)) = (got_profiles, got_rules, fail) else {
        return Err(format!("read-back incomplete: profiles {got_profiles:?}, rules {got_rules:?}, throw {fail:?}"));
    };
    if !(p < f && r < f) {
        return Err("the read-back's throw comes before what it reads".into());
    }
    if closed != others.is_some_and(|o| o < f) {
        return Err(format!("closed {closed}: the read-back of foreign rules is {others:?}"));
    }
    if let Some(e) =
        events.iter().skip(profiles + 1).find(|e| e.name.contains("NetFirewall") && !e.name.starts_with("Get-"))
    {
        return Err(format!("{} after the profiles are set", e.name));
    }
    Ok(())
}

#[test]
fn tree_sitter_finds_the_refusal_the_disabling_and_the_read_back() {
    let Some(python) = tree_sitter_python() else { return };
    let dir = std::env::temp_dir().join(format!("zonecheck-windows-ts-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let mut paths = Vec::new();
    for d in windows_hosts(&model) {
        let (bytes, _) =
            windows::render(&model, &d, &TEMPLATES, &WindowsOptions::default(), &digest(&model)).expect("r");
        let p = dir.join(format!("{}.ps1", d.name));
        std::fs::write(&p, bytes).expect("write");
        paths.push((p, d.name.clone(), d.filter_output));
    }
    assert!(paths.iter().any(|p| p.2) && paths.iter().any(|p| !p.2), "closed and other hosts");
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(TREE_SITTER_EVENTS)
        .args(paths.iter().map(|p| &p.0))
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: std::collections::BTreeMap<String, Vec<Event>> = serde_json::from_slice(&out.stdout).expect("json");
    for (p, name, closed) in &paths {
        let events = &result[p.to_string_lossy().as_ref()];
        refusal_and_read_back(events, *closed).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The check is not vacuous: without the refusal's throw (closed hosts), the
        // disabling, the active store's profiles or the final throw, it fails.
        let without =
            |drop: &dyn Fn(&Event) -> bool| -> Vec<Event> { events.iter().filter(|e| !drop(e)).cloned().collect() };
        let mutants: [(&str, Vec<Event>); 4] = [
            ("refusal", without(&|e| e.condition.as_deref() == Some("$foreign.Count -gt 0"))),
            ("disabling", without(&|e| e.name == "Disable-NetFirewallRule")),
            ("profiles read back", without(&|e| e.is("Get-NetFirewallProfile", "-PolicyStore", "ActiveStore"))),
            ("final throw", without(&|e| e.condition.as_deref() == Some("$wrong.Count -gt 0"))),
        ];
        for (what, mutant) in mutants {
            let should_fail = *closed || !matches!(what, "refusal" | "disabling");
            assert_eq!(refusal_and_read_back(&mutant, *closed).is_err(), should_fail, "{name} without {what}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------
// The export reader
// ---------------------------------------------------------------------------------------

const FIXTURES: &str = "tests/fixtures/check/windows";

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

// ---------------------------------------------------------------------------------------
// The readers never panic
// ---------------------------------------------------------------------------------------

/// Every rule's cubes lie on its chain's path (inbound: input, outbound: output).
fn check_paths(rs: &Ruleset) -> Result<(), String> {
    for (name, path) in [("inbound", ZPath::Input), ("outbound", ZPath::Output)] {
        let Some(c) = rs.chain_named(name) else { continue };
        for r in &rs.chains[c].rules {
            if r.matches.iter().any(|m| m.field(Dim::Path) != &Field::point(path as u128)) {
                return Err(format!("{name} rule {:?} off its path", r.origin));
            }
        }
    }
    Ok(())
}

const PS_WORDS: &[&str] = &[
    "New-NetFirewallRule",
    "Set-NetFirewallProfile",
    "Get-NetFirewallRule",
    "Remove-NetFirewallRule",
    "Set-NetFirewallRule",
    "netsh advfirewall",
    "-Name",
    "-Name:",
    "-Group",
    "-Direction",
    "Outbound",
    "-Action",
    "Block",
    "Allow",
    "-Enabled",
    "False",
    "-Profile",
    "Domain,Private",
    "-DefaultInboundAction",
    "-LocalAddress",
    "-RemoteAddress",
    "-Protocol",
    "TCP",
    "ICMPv6",
    "-LocalPort",
    "-RemotePort",
    "-IcmpType",
    "8:0",
    "-Program",
    "-OverrideBlockRules",
    "$true",
    "$group",
    "$old",
    "=",
    "|",
    "@(",
    "(",
    ")",
    "{",
    "}",
    "@{",
    "$(",
    "'",
    "''",
    "’",
    "\"",
    "\"$x\"",
    "`",
    "`\r\n",
    "\n",
    "\r\n",
    ";",
    ",",
    "#",
    "<#",
    "#>",
    "@'\n",
    "\n'@",
    "[int]",
    "${x}",
    "@splat",
    "'10.0.0.0/255.255.0.0'",
    "'10.0.0.9-10.0.0.1'",
    "'fe80::1-10.0.0.1'",
    "'::/129'",
    "'80-70'",
    "'RPC'",
    "'LocalSubnet'",
    "'Any'",
    "'8:300'",
    "99999",
    "'zonecheck'",
];

fn ps_text() -> impl Strategy<Value = String> {
    let base =
        String::from_utf8_lossy(&std::fs::read(Path::new(FIXTURES).join("ddc.ps1")).expect("script")).into_owned();
    prop_oneof![
        any::<String>(),
        prop::collection::vec(proptest::sample::select(PS_WORDS), 0..60).prop_map(|w| w.join(" ")),
        // The real script with a slice cut out and fragments put in.
        (0usize..20000, 0usize..200, prop::collection::vec(proptest::sample::select(PS_WORDS), 0..4)).prop_map(
            move |(at, len, ins)| {
                let chars: Vec<char> = base.chars().collect();
                let at = at % (chars.len() + 1);
                let end = (at + len).min(chars.len());
                let mut s: String = chars[..at].iter().collect();
                s.push_str(&ins.join(" "));
                s.extend(&chars[end..]);
                s
            }
        ),
    ]
}

const JSON_WORDS: &[&str] = &[
    "Rules",
    "Profiles",
    "Name",
    "Domain",
    "Enabled",
    "Direction",
    "Action",
    "Profile",
    "LocalAddress",
    "RemoteAddress",
    "Protocol",
    "LocalPort",
    "RemotePort",
    "IcmpType",
    "Program",
    "DefaultInboundAction",
    "DefaultOutboundAction",
    "value",
    "Any",
    "True",
    "False",
    "Inbound",
    "Outbound",
    "Allow",
    "Block",
    "NotConfigured",
    "TCP",
    "ICMPv4",
    "10.0.0.0/8",
    "10.0.0.0/255.0.0.0",
    "10.0.0.0/255.0.255.0",
    "10.0.0.9-10.0.0.1",
    "fd00::/64",
    "::1-::ffff",
    "LocalSubnet",
    "80",
    "1-65535",
    "70-60",
    "RPC",
    "8:0",
    "8:999",
    "Domain, Private",
];

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..70000).prop_map(Value::from),
        proptest::sample::select(JSON_WORDS).prop_map(|s| Value::String(s.into())),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((proptest::sample::select(JSON_WORDS), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// A JSON document shaped like an export, with random values in its fields.
fn json_export() -> impl Strategy<Value = String> {
    use serde_json::Value;
    let rule = prop::collection::vec((proptest::sample::select(JSON_WORDS), json_value()), 0..16)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    (prop::collection::vec(rule, 0..6), json_value(), any::<bool>()).prop_map(|(rules, profiles, bom)| {
        let doc = serde_json::json!({ "Rules": rules, "Profiles": profiles });
        format!("{}{doc}", if bom { "\u{FEFF}" } else { "" })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn script_reader_never_panics(text in ps_text()) {
        let rs = read_script(&text, &mut Ifaces::new());
        check_paths(&rs).map_err(TestCaseError::fail)?;
        let _ = rs.permitted(&[ZPath::Input, ZPath::Output]);
    }

    #[test]
    fn export_reader_never_panics(text in prop_oneof![json_export(), json_value().prop_map(|v| v.to_string()), any::<String>()]) {
        let rs = read_export(&text, &mut Ifaces::new());
        check_paths(&rs).map_err(TestCaseError::fail)?;
        let _ = rs.permitted(&[ZPath::Input, ZPath::Output]);
    }
}
