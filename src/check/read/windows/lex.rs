//! The script: a lexer following PowerShell's quoting.

use std::borrow::Cow;

/// The five characters PowerShell reads as a single quote, and the four it reads as a
/// double quote.
pub(super) const SQ: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
pub(super) const DQ: [char; 4] = ['"', '\u{201C}', '\u{201D}', '\u{201E}'];

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok<'a> {
    /// A literal string (single-quoted, or double-quoted without expansion).
    Str(Cow<'a, str>),
    /// A value the reader cannot know (an expanding string, splatting).
    Opaque(&'static str),
    Word(Cow<'a, str>),
    /// A variable, lower case, with any `.member` access.
    Var(Cow<'a, str>),
    /// `(`, `{`, `a` for `@(`, `s` for `$(`, `h` for `@{`.
    Open(char),
    Close(char),
    Comma,
    Pipe,
    Assign,
    /// Newline or `;`.
    End,
    /// Any other operator.
    Other,
}

pub(super) fn word_end(c: char) -> bool {
    matches!(c, '(' | ')' | '{' | '}' | ';' | ',' | '|') || SQ.contains(&c) || DQ.contains(&c) || c.is_whitespace()
}

/// `s` lower-cased, borrowed when lower-casing leaves it as it is.
fn lowered(s: &str) -> Cow<'_, str> {
    let changes = |c: char| {
        let mut lower = c.to_lowercase();
        !(lower.next() == Some(c) && lower.next().is_none())
    };
    let unchanged = if s.is_ascii() { !s.bytes().any(|b| b.is_ascii_uppercase()) } else { !s.chars().any(changes) };
    if unchanged { Cow::Borrowed(s) } else { Cow::Owned(s.to_lowercase()) }
}

/// Tokens with their 1-based lines, or where and why the script does not parse. Positions
/// are byte offsets; a token borrows its text from the script unless quoting or escapes
/// changed it.
pub(super) fn lex(text: &str) -> Result<Vec<(Tok<'_>, usize)>, (usize, String)> {
    // The character at byte `i` (a char boundary, or past the end).
    let at = |i: usize| text.get(i..).and_then(|rest| rest.chars().next());
    let mut out = Vec::new();
    let mut stack: Vec<char> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while let Some(c) = at(i) {
        let start = line;
        let after = i + c.len_utf8();
        let next = at(after);
        if c == '\n' {
            out.push((Tok::End, line));
            line += 1;
            i = after;
            continue;
        }
        if c == '`' && matches!(next, Some('\n' | '\r')) {
            // Line continuation.
            i += if next == Some('\r') && at(i + 2) == Some('\n') { 3 } else { 2 };
            line += 1;
            continue;
        }
        if c.is_whitespace() {
            // A run of blanks (indentation) in one step.
            i = after + text[after..].bytes().take_while(|b| matches!(b, b' ' | b'\t')).count();
            continue;
        }
        if c == ';' {
            out.push((Tok::End, line));
            i = after;
            continue;
        }
        if c == '#' {
            i = text[i..].find('\n').map_or(text.len(), |n| i + n);
            continue;
        }
        if c == '<' && next == Some('#') {
            let body = i + 2;
            let Some(n) = text[body..].find("#>") else {
                return Err((start, "unterminated block comment".into()));
            };
            line += text[body..body + n].matches('\n').count();
            i = body + n + 2;
            continue;
        }
        if c == '@' && next.is_some_and(|q| SQ.contains(&q) || DQ.contains(&q)) {
            let quote = next.unwrap_or('\'');
            let mut j = after + quote.len_utf8();
            while at(j).is_some_and(|c| c == ' ' || c == '\t') {
                j += 1;
            }
            if at(j) == Some('\r') {
                j += 1;
            }
            if at(j) == Some('\n') {
                // A here-string: up to a line starting with the quote and `@`.
                let single = SQ.contains(&quote);
                line += 1;
                let body_start = j + 1;
                let mut k = body_start;
                let (end, close) = loop {
                    let Some(n) = text[k..].find('\n') else {
                        return Err((start, "unterminated here-string".into()));
                    };
                    k += n;
                    line += 1;
                    let q = at(k + 1);
                    if q.is_some_and(|q| if single { SQ.contains(&q) } else { DQ.contains(&q) })
                        && let Some(q) = q
                        && at(k + 1 + q.len_utf8()) == Some('@')
                    {
                        break (k, k + 1 + q.len_utf8() + 1);
                    }
                    k += 1;
                };
                let body = &text[body_start..end];
                let body = body.strip_suffix('\r').unwrap_or(body);
                let tok = if single || !body.contains(['$', '`']) {
                    Tok::Str(Cow::Borrowed(body))
                } else {
                    Tok::Opaque("here-string")
                };
                out.push((tok, start));
                i = close;
                continue;
            }
        }
        if SQ.contains(&c) {
            // Borrowed unless a doubled quote stands for one.
            let body = after;
            let mut value: Option<String> = None;
            let mut k = body;
            loop {
                match at(k) {
                    None => return Err((start, "unterminated single-quoted string".into())),
                    Some(q) if SQ.contains(&q) => {
                        let past = k + q.len_utf8();
                        if let Some(q2) = at(past).filter(|q2| SQ.contains(q2)) {
                            let v = value.get_or_insert_with(|| text[body..k].to_string());
                            v.push(q2);
                            k = past + q2.len_utf8();
                        } else {
                            let tok = match value {
                                Some(v) => Cow::Owned(v),
                                None => Cow::Borrowed(&text[body..k]),
                            };
                            out.push((Tok::Str(tok), start));
                            i = past;
                            break;
                        }
                    }
                    Some(ch) => {
                        line += usize::from(ch == '\n');
                        if let Some(v) = value.as_mut() {
                            v.push(ch);
                        }
                        k += ch.len_utf8();
                    }
                }
            }
            continue;
        }
        if DQ.contains(&c) {
            // Borrowed unless an escape or a doubled quote changed the text.
            let body = after;
            let mut value: Option<String> = None;
            let mut expands = false;
            let mut k = body;
            loop {
                match at(k) {
                    None => return Err((start, "unterminated double-quoted string".into())),
                    Some('`') => {
                        // Escapes other than a quote or backtick are not worth modelling.
                        let v = value.get_or_insert_with(|| text[body..k].to_string());
                        match at(k + 1) {
                            Some(e) if e == '`' || DQ.contains(&e) || e == '$' => {
                                v.push(e);
                                k += 1 + e.len_utf8();
                            }
                            Some(e) => {
                                line += usize::from(e == '\n');
                                expands = true;
                                k += 1 + e.len_utf8();
                            }
                            None => return Err((start, "unterminated double-quoted string".into())),
                        }
                    }
                    Some('$') => {
                        if at(k + 1).is_some_and(|n| n.is_alphanumeric() || "_({?^:$".contains(n)) {
                            expands = true;
                        }
                        if let Some(v) = value.as_mut() {
                            v.push('$');
                        }
                        k += 1;
                    }
                    Some(q) if DQ.contains(&q) => {
                        let past = k + q.len_utf8();
                        if let Some(q2) = at(past).filter(|q2| DQ.contains(q2)) {
                            let v = value.get_or_insert_with(|| text[body..k].to_string());
                            v.push(q2);
                            k = past + q2.len_utf8();
                        } else {
                            let tok = if expands {
                                Tok::Opaque("an expanding double-quoted string")
                            } else {
                                Tok::Str(match value {
                                    Some(v) => Cow::Owned(v),
                                    None => Cow::Borrowed(&text[body..k]),
                                })
                            };
                            out.push((tok, start));
                            i = past;
                            break;
                        }
                    }
                    Some(ch) => {
                        line += usize::from(ch == '\n');
                        if let Some(v) = value.as_mut() {
                            v.push(ch);
                        }
                        k += ch.len_utf8();
                    }
                }
            }
            continue;
        }
        if c == '$' {
            match next {
                Some('(') => {
                    out.push((Tok::Open('s'), line));
                    stack.push('s');
                    i += 2;
                }
                Some('{') => {
                    let body = i + 2;
                    let Some(n) = text[body..].find('}') else {
                        return Err((start, "unterminated ${…} variable".into()));
                    };
                    let name = &text[body..body + n];
                    line += name.matches('\n').count();
                    out.push((Tok::Var(lowered(name)), start));
                    i = body + n + 1;
                }
                _ => {
                    let body = after;
                    let mut k = body;
                    if let Some(c) = at(k).filter(|c| "?^$".contains(*c)) {
                        k += c.len_utf8();
                    } else {
                        let name_char = |c: char| c.is_alphanumeric() || c == '_';
                        while let Some(c) = at(k).filter(|&c| name_char(c) || c == ':') {
                            k += c.len_utf8();
                        }
                        // Member access.
                        while at(k) == Some('.') && at(k + 1).is_some_and(|c| c.is_alphabetic() || c == '_') {
                            k += 1;
                            while let Some(c) = at(k).filter(|&c| name_char(c)) {
                                k += c.len_utf8();
                            }
                        }
                    }
                    out.push((Tok::Var(lowered(&text[body..k])), start));
                    i = k;
                }
            }
            continue;
        }
        if c == '@' && next.is_some_and(|n| n.is_alphanumeric() || n == '_') {
            i = after;
            while let Some(c) = at(i).filter(|&c| c.is_alphanumeric() || c == '_') {
                i += c.len_utf8();
            }
            out.push((Tok::Opaque("splatting"), start));
            continue;
        }
        let open = match (c, next) {
            ('@', Some('(')) => Some(('a', 2)),
            ('@', Some('{')) => Some(('h', 2)),
            ('(', _) => Some(('(', 1)),
            ('{', _) => Some(('{', 1)),
            _ => None,
        };
        if let Some((k, n)) = open {
            out.push((Tok::Open(k), line));
            stack.push(k);
            i += n;
            continue;
        }
        if c == ')' || c == '}' {
            let ok = match stack.pop() {
                Some('(' | 'a' | 's') => c == ')',
                Some('{' | 'h') => c == '}',
                _ => false,
            };
            if !ok {
                return Err((line, format!("unbalanced `{c}`")));
            }
            out.push((Tok::Close(c), line));
            i += 1;
            continue;
        }
        match c {
            ',' => {
                out.push((Tok::Comma, line));
                i += 1;
                continue;
            }
            '|' => {
                out.push((if next == Some('|') { Tok::Other } else { Tok::Pipe }, line));
                i += if next == Some('|') { 2 } else { 1 };
                continue;
            }
            '=' => {
                out.push((if next == Some('=') { Tok::Other } else { Tok::Assign }, line));
                i += if next == Some('=') { 2 } else { 1 };
                continue;
            }
            '[' => {
                // A type literal or attribute: skip it.
                let mut depth = 0usize;
                loop {
                    match at(i) {
                        None => return Err((start, "unterminated `[`".into())),
                        Some('[') => depth += 1,
                        Some(']') => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        Some('\n') => return Err((start, "unterminated `[`".into())),
                        Some(_) => {}
                    }
                    i += at(i).map_or(1, char::len_utf8);
                }
                out.push((Tok::Other, start));
                continue;
            }
            '&' | '>' | '<' | '!' | '+' | '*' | '%' => {
                out.push((Tok::Other, line));
                i += 1;
                continue;
            }
            _ => {}
        }
        // A bareword: borrowed unless a backtick escapes a character in it.
        let body = i;
        let mut word: Option<String> = None;
        let mut opaque = false;
        while let Some(ch) = at(i) {
            // Letters, digits and `-` end no word and need no look (most of a word).
            if ch.is_ascii_alphanumeric() || ch == '-' {
                if let Some(w) = word.as_mut() {
                    w.push(ch);
                }
                i += 1;
                continue;
            }
            if word_end(ch) {
                break;
            }
            if ch == '`' {
                match at(i + 1) {
                    None | Some('\n' | '\r') => break,
                    Some(e) => {
                        word.get_or_insert_with(|| text[body..i].to_string()).push(e);
                        i += 1 + e.len_utf8();
                        continue;
                    }
                }
            }
            if ch == '$' {
                // `-Param:$value`: the value is its own token.
                let so_far = word.as_deref().unwrap_or(&text[body..i]);
                if so_far.starts_with('-') && so_far.ends_with(':') {
                    break;
                }
                opaque = true;
            }
            if let Some(w) = word.as_mut() {
                w.push(ch);
            }
            i += ch.len_utf8();
        }
        let word = match word {
            Some(w) => Cow::Owned(w),
            None => Cow::Borrowed(&text[body..i]),
        };
        if word.is_empty() {
            // A lone backtick at the end of the text: nothing to escape.
            i += 1;
            continue;
        }
        out.push((if opaque { Tok::Opaque("a bareword with a variable") } else { Tok::Word(word) }, start));
    }
    if let Some(k) = stack.last() {
        let what = match k {
            'a' => "@(",
            's' => "$(",
            'h' => "@{",
            '(' => "(",
            _ => "{",
        };
        return Err((line, format!("`{what}` is never closed")));
    }
    Ok(out)
}
