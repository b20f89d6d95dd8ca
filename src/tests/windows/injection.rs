//! Injection: hostile policy strings land inside one single-quoted literal each, the
//! script's commands stay the template's fixed set, and strings that cannot be quoted are
//! rejected with a diagnostic.

use crate::diagnostics::code;
use crate::targets::windows::{self, WindowsOptions};
use proptest::prelude::*;

use super::lexer::{Tok, check_structure};
use super::round_trip::round_trip;
use super::{TEMPLATES, decode, digest, windows_hosts};

#[path = "../../../tests/common/quoted.rs"]
mod quoted;
use quoted::quoted;

// ---------------------------------------------------------------------------------------
// Injection
// ---------------------------------------------------------------------------------------

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
pub(super) fn hostile_policy(s: &[String; 7]) -> String {
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
