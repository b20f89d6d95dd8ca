//! Neither reader (script or export) panics on random text or random JSON.

use std::path::Path;

use crate::check::read::windows::{read_export, read_script};
use crate::check::read::{Ifaces, Ruleset};
use crate::check::space::{Dim, Field, Path as ZPath};
use proptest::prelude::*;

use super::export::FIXTURES;

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
