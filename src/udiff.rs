//! Unified diffs of text, for `fmt --check` (what formatting would change).

use similar::{ChangeTag, TextDiff};

/// A unified diff (`--- NAME` / `+++ NAME (formatted)`, hunks with three lines of
/// context) of `old` against `new`; empty when they are equal. With `color`, removed lines
/// are red and added lines green.
pub(crate) fn unified(name: &str, old: &str, new: &str, color: bool) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::from_lines(old, new);
    let mut out = format!("--- {name}\n+++ {name} (formatted)\n");
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let (sign, paint) = match change.tag() {
                ChangeTag::Delete => ('-', "\u{1b}[31m"),
                ChangeTag::Insert => ('+', "\u{1b}[32m"),
                ChangeTag::Equal => (' ', ""),
            };
            let line = change.value();
            let body = line.strip_suffix('\n').unwrap_or(line);
            let body = body.strip_suffix('\r').unwrap_or(body);
            if color && !paint.is_empty() {
                out.push_str(&format!("{paint}{sign}{body}\u{1b}[0m\n"));
            } else {
                out.push_str(&format!("{sign}{body}\n"));
            }
            if change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a.zc", "x\n", "x\n", false), "");
    }

    #[test]
    fn a_changed_line_is_one_hunk_with_context() {
        let old = "a\nb\nc\nd\ne\n";
        let new = "a\nb\nC\nd\ne\n";
        let d = unified("p.zc", old, new, false);
        assert_eq!(d, "--- p.zc\n+++ p.zc (formatted)\n@@ -1,5 +1,5 @@\n a\n b\n-c\n+C\n d\n e\n");
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let d = unified("p.zc", "a", "a\n", false);
        assert!(d.contains("-a\n\\ No newline at end of file\n+a\n"), "{d}");
    }
}
