//! The script: a lexer following PowerShell's quoting.

/// The five characters PowerShell reads as a single quote, and the four it reads as a
/// double quote.
pub(super) const SQ: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
pub(super) const DQ: [char; 4] = ['"', '\u{201C}', '\u{201D}', '\u{201E}'];

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// A literal string (single-quoted, or double-quoted without expansion).
    Str(String),
    /// A value the reader cannot know (an expanding string, splatting).
    Opaque(&'static str),
    Word(String),
    /// A variable, lower case, with any `.member` access.
    Var(String),
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

/// Tokens with their 1-based lines, or where and why the script does not parse.
pub(super) fn lex(text: &str) -> Result<Vec<(Tok, usize)>, (usize, String)> {
    let cs: Vec<char> = text.chars().collect();
    let at = |i: usize| cs.get(i).copied();
    let mut out = Vec::new();
    let mut stack: Vec<char> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while let Some(c) = at(i) {
        let start = line;
        let next = at(i + 1);
        if c == '\n' {
            out.push((Tok::End, line));
            line += 1;
            i += 1;
            continue;
        }
        if c == '`' && matches!(next, Some('\n' | '\r')) {
            // Line continuation.
            i += if next == Some('\r') && at(i + 2) == Some('\n') { 3 } else { 2 };
            line += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == ';' {
            out.push((Tok::End, line));
            i += 1;
            continue;
        }
        if c == '#' {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
            continue;
        }
        if c == '<' && next == Some('#') {
            i += 2;
            loop {
                match at(i) {
                    None => return Err((start, "unterminated block comment".into())),
                    Some('#') if at(i + 1) == Some('>') => {
                        i += 2;
                        break;
                    }
                    Some(ch) => {
                        line += usize::from(ch == '\n');
                        i += 1;
                    }
                }
            }
            continue;
        }
        if c == '@' && next.is_some_and(|q| SQ.contains(&q) || DQ.contains(&q)) {
            let mut j = i + 2;
            while at(j).is_some_and(|c| c == ' ' || c == '\t') {
                j += 1;
            }
            if at(j) == Some('\r') {
                j += 1;
            }
            if at(j) == Some('\n') {
                // A here-string: up to a line starting with the quote and `@`.
                let single = next.is_some_and(|q| SQ.contains(&q));
                line += 1;
                let body_start = j + 1;
                let mut k = body_start;
                let end = loop {
                    match at(k) {
                        None => return Err((start, "unterminated here-string".into())),
                        Some('\n') => {
                            line += 1;
                            let q = at(k + 1);
                            if q.is_some_and(|q| if single { SQ.contains(&q) } else { DQ.contains(&q) })
                                && at(k + 2) == Some('@')
                            {
                                break k;
                            }
                            k += 1;
                        }
                        Some(_) => k += 1,
                    }
                };
                let body: String = cs[body_start..end].iter().collect();
                let body = body.strip_suffix('\r').unwrap_or(&body).to_string();
                let tok =
                    if single || !body.contains(['$', '`']) { Tok::Str(body) } else { Tok::Opaque("here-string") };
                out.push((tok, start));
                i = end + 3;
                continue;
            }
        }
        if SQ.contains(&c) {
            let mut value = String::with_capacity(32);
            i += 1;
            loop {
                match at(i) {
                    None => return Err((start, "unterminated single-quoted string".into())),
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
                        line += usize::from(ch == '\n');
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(value), start));
            continue;
        }
        if DQ.contains(&c) {
            let mut value = String::with_capacity(32);
            let mut expands = false;
            i += 1;
            loop {
                match at(i) {
                    None => return Err((start, "unterminated double-quoted string".into())),
                    Some('`') => {
                        // Escapes other than a quote or backtick are not worth modelling.
                        match at(i + 1) {
                            Some(e) if e == '`' || DQ.contains(&e) || e == '$' => value.push(e),
                            Some(e) => {
                                line += usize::from(e == '\n');
                                expands = true;
                            }
                            None => return Err((start, "unterminated double-quoted string".into())),
                        }
                        i += 2;
                    }
                    Some('$') => {
                        if at(i + 1).is_some_and(|n| n.is_alphanumeric() || "_({?^:$".contains(n)) {
                            expands = true;
                        }
                        value.push('$');
                        i += 1;
                    }
                    Some(q) if DQ.contains(&q) => {
                        if let Some(q2) = at(i + 1).filter(|q2| DQ.contains(q2)) {
                            value.push(q2);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(ch) => {
                        line += usize::from(ch == '\n');
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((if expands { Tok::Opaque("an expanding double-quoted string") } else { Tok::Str(value) }, start));
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
                    let mut name = String::new();
                    i += 2;
                    loop {
                        match at(i) {
                            None => return Err((start, "unterminated ${…} variable".into())),
                            Some('}') => {
                                i += 1;
                                break;
                            }
                            Some(ch) => {
                                line += usize::from(ch == '\n');
                                name.push(ch);
                                i += 1;
                            }
                        }
                    }
                    out.push((Tok::Var(name.to_lowercase()), start));
                }
                _ => {
                    let mut name = String::with_capacity(16);
                    i += 1;
                    if at(i).is_some_and(|c| "?^$".contains(c)) {
                        name.push(cs[i]);
                        i += 1;
                    } else {
                        while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                            name.push(cs[i]);
                            i += 1;
                        }
                        // Member access.
                        while at(i) == Some('.') && at(i + 1).is_some_and(|c| c.is_alphabetic() || c == '_') {
                            name.push('.');
                            i += 1;
                            while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                                name.push(cs[i]);
                                i += 1;
                            }
                        }
                    }
                    out.push((Tok::Var(name.to_lowercase()), start));
                }
            }
            continue;
        }
        if c == '@' && next.is_some_and(|n| n.is_alphanumeric() || n == '_') {
            i += 1;
            while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                i += 1;
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
                    i += 1;
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
        // A bareword.
        let mut word = String::with_capacity(32);
        let mut opaque = false;
        while let Some(ch) = at(i) {
            if word_end(ch) {
                break;
            }
            if ch == '`' {
                match at(i + 1) {
                    None | Some('\n' | '\r') => break,
                    Some(e) => {
                        word.push(e);
                        i += 2;
                        continue;
                    }
                }
            }
            if ch == '$' {
                // `-Param:$value`: the value is its own token.
                if word.starts_with('-') && word.ends_with(':') {
                    break;
                }
                opaque = true;
            }
            word.push(ch);
            i += 1;
        }
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
