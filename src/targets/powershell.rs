//! Quoting policy strings for PowerShell scripts (targets.md §2.3).
//!
//! Every policy string reaches a generated script as a **single-quoted** literal: inside
//! one, PowerShell expands nothing (`$`, `` ` ``, `$(…)` and `#` are plain characters), and
//! the only way out is a single-quote character. PowerShell's tokenizer treats five
//! characters as single quotes — U+0027 `'`, U+2018 `‘`, U+2019 `’`, U+201A `‚` and
//! U+201B `‛` — and reads any of them followed by another as one literal quote (the second
//! character). So each of the five is doubled, exactly as PowerShell's own
//! `CodeGeneration.EscapeSingleQuotedStringContent` does; doubling only `'` would let
//! `’ ; calc ; ’` run `calc`.
//!
//! There is no escape for a line break inside a script that people read and diff, and a
//! few characters make a script display differently from how PowerShell reads it, so
//! these are rejected instead of escaped: every control character (C0, DEL, C1 including
//! U+0085 NEL), U+2028 and U+2029, and the bidirectional embedding, override and isolate
//! controls (U+202A–U+202E, U+2066–U+2069, "Trojan Source").
//!
//! Windows Firewall itself forbids `|` in a rule's name and description (INetFwRule), so
//! `firewall_text` replaces it with `¦` before quoting.

use std::fmt;

/// The five characters PowerShell reads as a single quote.
pub(crate) const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// Why a string cannot be quoted for PowerShell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The offending character.
    pub ch: char,
    /// Its position in the string, in characters (0-based).
    pub at: usize,
    pub why: &'static str,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "character {} (U+{:04X}, {}) at position {}",
            self.ch.escape_debug(),
            u32::from(self.ch),
            self.why,
            self.at + 1
        )
    }
}

/// Why a character cannot appear in a generated PowerShell script, if it cannot.
pub(crate) fn unsafe_char(c: char) -> Option<&'static str> {
    match c {
        '\r' | '\n' => Some("a line break"),
        '\0' => Some("NUL"),
        '\u{85}' => Some("NEL, a line break"),
        '\u{2028}' => Some("the Unicode line separator"),
        '\u{2029}' => Some("the Unicode paragraph separator"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("a bidirectional control that makes the script read differently from how it runs")
        }
        c if c.is_control() => Some("a control character"),
        _ => None,
    }
}

/// `s` as a PowerShell single-quoted literal, quotes included; or why it cannot be one.
pub(crate) fn ps_quote(s: &str) -> Result<String, Problem> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for (at, c) in s.chars().enumerate() {
        if let Some(why) = unsafe_char(c) {
            return Err(Problem { ch: c, at, why });
        }
        if SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Ok(out)
}

/// A literal for text zonecheck generated itself (addresses, ports, names built from
/// identifiers): characters that cannot be quoted are replaced by `?`, so this never fails.
pub(crate) fn ps_quote_generated(s: &str) -> String {
    let clean: String = s.chars().map(|c| if unsafe_char(c).is_some() { '?' } else { c }).collect();
    ps_quote(&clean).unwrap_or_else(|_| "''".to_string())
}

/// Text for a firewall rule's name, display name or description: Windows Firewall stores
/// rules as `|`-separated fields and forbids `|` in them, so it becomes `¦` (U+00A6).
pub(crate) fn firewall_text(s: &str) -> String {
    s.replace('|', "\u{A6}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// PowerShell's reading of a single-quoted literal that starts at `s[0]`: the decoded
    /// value and the number of characters consumed, or None if it is unterminated.
    fn read_single_quoted(s: &str) -> Option<(String, usize)> {
        let chars: Vec<char> = s.chars().collect();
        if !chars.first().is_some_and(|c| SINGLE_QUOTES.contains(c)) {
            return None;
        }
        let mut out = String::new();
        let mut i = 1;
        while i < chars.len() {
            let c = chars[i];
            if SINGLE_QUOTES.contains(&c) {
                if chars.get(i + 1).is_some_and(|n| SINGLE_QUOTES.contains(n)) {
                    out.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                return Some((out, i + 1));
            }
            out.push(c);
            i += 1;
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        // What follows a literal never starts with a quote (a space, `,`, `)` or a line
        // end in the scripts): a quote right after the closing one would continue it.
        #[test]
        fn quoted_strings_read_back_whole(s in any::<String>(), tail in "([ ;,)a-z$][ ;a-z$'’]{0,3})?") {
            match ps_quote(&s) {
                Ok(q) => {
                    let (value, used) = read_single_quoted(&format!("{q}{tail}")).expect("terminated");
                    prop_assert_eq!(value, s);
                    prop_assert_eq!(used, q.chars().count());
                }
                Err(p) => prop_assert!(unsafe_char(p.ch).is_some() && s.chars().nth(p.at) == Some(p.ch)),
            }
        }
    }

    #[test]
    fn every_single_quote_is_doubled() {
        assert_eq!(ps_quote("a'b").unwrap(), "'a''b'");
        assert_eq!(ps_quote("’ ; calc ; ’").unwrap(), "'’’ ; calc ; ’’'");
        assert_eq!(ps_quote("‘x‛‚").unwrap(), "'‘‘x‛‛‚‚'");
        assert_eq!(ps_quote("$(calc) `n # \"“”").unwrap(), "'$(calc) `n # \"“”'");
        for bad in ["a\nb", "a\rb", "\0", "a\u{85}", "\u{2028}", "\u{2029}", "\u{202E}x", "\u{7f}", "\t"] {
            assert!(ps_quote(bad).is_err(), "{bad:?}");
        }
        assert_eq!(ps_quote_generated("a\nb"), "'a?b'");
        assert_eq!(firewall_text("a|b"), "a¦b");
    }
}
