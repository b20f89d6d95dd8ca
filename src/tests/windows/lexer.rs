//! A test lexer that follows PowerShell's quoting rules, and the structure every
//! generated script must have (only the template's commands and variables).

use std::collections::BTreeSet;

/// The five characters PowerShell reads as a single quote, and the four it reads as a
/// double quote (PowerShell's `CharTraits`).
const SQ: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
const DQ: [char; 4] = ['"', '\u{201C}', '\u{201D}', '\u{201E}'];

/// Every command the template may run, and those every script runs.
pub(super) const COMMANDS: &[&str] = &[
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

// ---------------------------------------------------------------------------------------
// The lexer
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
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
pub(super) fn check_structure(text: &str) -> Result<Vec<Tok>, String> {
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
