//! Escaping policy strings for nftables, and the names nft cannot take at all.
//!
//! nft (1.0.6) cannot escape `"` inside a quoted string and stores raw newlines and tabs,
//! which break line-based readers; comments hold at most 128 bytes and log prefixes 127
//! (targets.md §1.2). So text is made safe by construction: quotes and backslashes are
//! dropped, control characters become spaces, and the result is cut at a character
//! boundary. Interface names are not free text: they are validated and, if unfit,
//! rejected with a diagnostic instead of being changed.

/// nft's limit on a comment, in bytes.
pub(crate) const NFT_COMMENT_MAX: usize = 128;
/// nft's limit on a log prefix, in bytes.
pub(crate) const NFT_LOG_PREFIX_MAX: usize = 127;
/// Linux interface names hold at most 15 bytes.
pub(crate) const IFNAME_MAX: usize = 15;

/// Text safe inside an nft double-quoted string, at most `max` bytes.
pub(crate) fn nft_text(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    let mut last_space = false;
    for c in s.chars() {
        let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
        // `"` cannot be escaped; `\` would start an escape in some nft versions.
        if c == '"' || c == '\\' {
            continue;
        }
        if c == ' ' && last_space {
            continue;
        }
        if out.len() + c.len_utf8() > max {
            break;
        }
        last_space = c == ' ';
        out.push(c);
    }
    out.trim_end().to_string()
}

/// Why an interface name cannot be used in an nftables ruleset, if it cannot.
pub(crate) fn nft_ifname_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > IFNAME_MAX {
        return Some(format!("it is {} bytes long and Linux interface names hold at most {IFNAME_MAX}", name.len()));
    }
    if name == "." || name == ".." {
        return Some("`.` and `..` are not interface names".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        let why = if c == '*' { " (nft reads `*` as a wildcard)" } else { "" };
        return Some(format!("it contains `{}`{why}; use letters, digits, `_`, `-` and `.`", c.escape_debug()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn nft_text_is_always_safe(s in any::<String>(), max in 1usize..200) {
            let t = nft_text(&s, max);
            prop_assert!(t.len() <= max);
            prop_assert!(!t.contains('"') && !t.contains('\\'));
            prop_assert!(!t.chars().any(|c| c.is_control()));
            prop_assert!(!t.contains('\n') && !t.contains('\r'));
        }

        #[test]
        fn accepted_ifnames_are_plain(s in "\\PC{0,20}") {
            if nft_ifname_problem(&s).is_none() {
                prop_assert!(s.len() <= IFNAME_MAX && !s.is_empty());
                prop_assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)));
            }
        }
    }

    #[test]
    fn hostile_strings_lose_their_teeth() {
        assert_eq!(nft_text("a\" ; drop ; \"b", 128), "a ; drop ; b");
        assert_eq!(nft_text("x\ny\rz\tw", 128), "x y z w");
        assert_eq!(nft_text("æøå", 4), "æø");
        assert!(nft_ifname_problem("eth*").is_some());
        assert!(nft_ifname_problem("GigabitEthernet1/0/1").is_some());
        assert!(nft_ifname_problem("zc-srv").is_none());
    }
}
