//! The nft text lexer: words, strings, the symbols `{ } ; , = :` and line ends, with
//! `define`d variables substituted.

use super::super::Problem;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum T<'a> {
    Word(&'a str),
    Str(&'a str),
    /// One of `{ } ; , = :`.
    Sym(char),
    Newline,
}

#[derive(Clone, Debug)]
pub(super) struct Tok<'a> {
    pub(super) t: T<'a>,
    pub(super) line: usize,
}

pub(super) fn lex(text: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut it = text.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        match c {
            '\n' => {
                out.push(Tok { t: T::Newline, line });
                line += 1;
                it.next();
            }
            '\\' if text[i + 1..].starts_with('\n') => {
                // Line continuation.
                it.next();
            }
            c if c.is_whitespace() => {
                it.next();
            }
            '#' => {
                while it.peek().is_some_and(|&(_, c)| c != '\n') {
                    it.next();
                }
            }
            '"' => {
                it.next();
                let start = i + 1;
                let mut end = text.len();
                for (j, c) in it.by_ref() {
                    if c == '"' {
                        end = j;
                        break;
                    }
                    if c == '\n' {
                        line += 1;
                    }
                }
                out.push(Tok { t: T::Str(&text[start..end.max(start)]), line });
            }
            // `::1` is an address; a lone `:` separates a map key from its data.
            '{' | '}' | ';' | ',' | ':' if !(c == ':' && text[i + 1..].starts_with(':')) => {
                out.push(Tok { t: T::Sym(c), line });
                it.next();
            }
            '=' | '!' | '<' | '>' if text[i + 1..].starts_with('=') => {
                out.push(Tok { t: T::Word(&text[i..i + 2]), line });
                it.next();
                it.next();
            }
            '=' => {
                out.push(Tok { t: T::Sym('='), line });
                it.next();
            }
            _ => {
                let start = i;
                let mut end = text.len();
                while let Some(&(j, c)) = it.peek() {
                    if c.is_whitespace() || matches!(c, '{' | '}' | ';' | ',' | '"' | '#' | '=') {
                        end = j;
                        break;
                    }
                    it.next();
                }
                let w = &text[start..end];
                // `22: accept` in a map; IPv6 addresses keep their colons (`fe80::`).
                if let Some(stem) = w.strip_suffix(':')
                    && !stem.is_empty()
                    && !stem.ends_with(':')
                {
                    out.push(Tok { t: T::Word(stem), line });
                    out.push(Tok { t: T::Sym(':'), line });
                } else if w == ":" {
                    out.push(Tok { t: T::Sym(':'), line });
                } else {
                    out.push(Tok { t: T::Word(w), line });
                }
            }
        }
    }
    out
}

/// `define NAME = value` lines removed, `$NAME` replaced by the value's tokens.
pub(super) fn substitute<'a>(toks: Vec<Tok<'a>>, problems: &mut Vec<Problem>) -> Vec<Tok<'a>> {
    if !toks.iter().any(|t| matches!(t.t, T::Word(w) if w == "define" || w.starts_with('$'))) {
        return toks;
    }
    let mut vars: HashMap<&str, Vec<Tok<'a>>> = HashMap::new();
    let mut out: Vec<Tok<'a>> = Vec::with_capacity(toks.len());
    let mut i = 0;
    let at_start = |out: &Vec<Tok<'a>>| out.last().is_none_or(|t| matches!(t.t, T::Newline | T::Sym(';')));
    while i < toks.len() {
        let tok = &toks[i];
        match tok.t {
            T::Word(w) if w == "define" && at_start(&out) => {
                let name = match toks.get(i + 1) {
                    Some(Tok { t: T::Word(n), .. }) => *n,
                    _ => "",
                };
                let mut j = i + 2;
                if matches!(toks.get(j), Some(Tok { t: T::Sym('='), .. })) {
                    j += 1;
                }
                let mut value = Vec::new();
                let mut depth = 0usize;
                while let Some(t) = toks.get(j) {
                    match t.t {
                        T::Sym('{') => depth += 1,
                        T::Sym('}') => depth = depth.saturating_sub(1),
                        T::Newline | T::Sym(';') if depth == 0 => break,
                        _ => {}
                    }
                    value.push(expand_one(t, &vars));
                    j += 1;
                }
                let value: Vec<Tok<'a>> = value.into_iter().flatten().collect();
                if name.is_empty() || value.is_empty() {
                    problems.push(Problem { line: tok.line, message: "a define without a name or value".into() });
                }
                vars.insert(name, value);
                i = j;
            }
            T::Word(w) if w.starts_with('$') => {
                match vars.get(&w[1..]) {
                    Some(v) => out.extend(v.iter().map(|t| Tok { t: t.t.clone(), line: tok.line })),
                    None => {
                        problems.push(Problem { line: tok.line, message: format!("undefined variable {w}") });
                        out.push(tok.clone());
                    }
                }
                i += 1;
            }
            _ => {
                out.push(tok.clone());
                i += 1;
            }
        }
    }
    out
}

fn expand_one<'a>(t: &Tok<'a>, vars: &HashMap<&str, Vec<Tok<'a>>>) -> Vec<Tok<'a>> {
    match t.t {
        T::Word(w) if w.starts_with('$') => match vars.get(&w[1..]) {
            Some(v) => v.clone(),
            None => vec![t.clone()],
        },
        _ => vec![t.clone()],
    }
}
