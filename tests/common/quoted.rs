//! A policy string literal for any text, shared by the tests that feed hostile strings to
//! the compiler (tests/it and the crate's own tests include this file).

/// A policy string literal for any text: `\` and `"` escaped, control characters dropped
/// (the policy language forbids them; the target must cope with everything else).
pub fn quoted(s: &str) -> String {
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
