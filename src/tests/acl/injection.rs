//! Injection: no hostile policy string becomes a command, an option or a rule on any
//! vendor; each sits in a remark or comment and leaves structure and rules unchanged.

use crate::model::{Model, Target};
use crate::targets::acl::AclOptions;
use proptest::prelude::*;

use super::read_back::{Read, policy_ifaces, structure};
use super::{VENDORS_POLICY, render_all};

// ---------------------------------------------------------------------------------------
// Injection.
// ---------------------------------------------------------------------------------------

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => "\\PC{0,120}",
        1 => prop::sample::select(vec![
            "x\npermit ip any any",
            "x\r\nend",
            "\r\nno ip access-list extended ZC",
            "\" ; set firewall family inet filter F term t then accept ; \"",
            "x } } firewall { family inet { filter EVIL { term t { then accept; } } } }",
            "*/ term evil { then accept; } /*",
            "{ ; # ! ’ ‘ “ ” ? \\ \t",
            "ok\u{2028}permit ip any any\u{85}deny\u{0}\u{1b}[2J",
            "! comment\n 5 permit ip any any",
            "remark x\n interface Vlan1\n ip access-group NONE in",
            "æøå ÆØÅ – § 45 🏥 🔒",
        ])
        .prop_map(String::from),
        1 => (any::<String>(), prop::sample::select(vec!["\npermit ip any any\n", "\r\nend\r\n", "*/}", "\"", "?"]))
            .prop_map(|(a, b)| format!("{a}{b}{a}")),
    ]
}

/// Set every policy string that can reach a switch file (descriptions, labels, the policy
/// name, system, zone, service and group names) from `s`.
fn set_strings(model: &mut Model, s: &[String]) {
    let pick = |i: usize| s[i % s.len()].clone();
    model.meta.name = Some(pick(0));
    for (i, f) in model.flows.iter_mut().enumerate() {
        f.description = pick(i + 1);
    }
    for (i, x) in model.systems.iter_mut().enumerate() {
        x.label = Some(pick(i + 2));
        x.name = format!("{}{i}", pick(i + 3));
    }
    for (i, z) in model.zones.iter_mut().enumerate() {
        z.label = Some(pick(i + 4));
        z.name = format!("{}{i}", pick(i + 5));
    }
    for (i, v) in model.services.iter_mut().enumerate() {
        v.name = format!("{}{i}", pick(i + 6));
    }
    for (i, g) in model.groups.iter_mut().enumerate() {
        g.name = format!("{}{i}", pick(i + 7));
    }
    for (i, d) in model.devices.iter_mut().enumerate() {
        d.label = Some(pick(i + 8));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn no_policy_string_becomes_a_command_an_option_or_a_rule(strings in prop::collection::vec(hostile(), 1..6)) {
        let base = crate::load_str("vendors.zc", VENDORS_POLICY).expect("resolves");
        let mut evil = base.clone();
        set_strings(&mut evil, &strings);
        let mut tame = base;
        set_strings(&mut tame, &["x".to_string()]);
        let evil_out = render_all(&evil, &AclOptions::default());
        let tame_out = render_all(&tame, &AclOptions::default());
        for ((name, target, text, _), (_, _, tame_text, _)) in evil_out.iter().zip(&tame_out) {
            let r = structure(*target, text).map_err(|e| TestCaseError::fail(format!("{name}: {e}\n{text}")))?;
            let t = structure(*target, tame_text).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            // The same commands, options and rules as with harmless strings.
            prop_assert_eq!(&r.skeleton, &t.skeleton, "{}", name);
            let ifs = policy_ifaces(&evil, name);
            let rules = Read::new(*target, text, &ifs).map_err(|e| TestCaseError::fail(format!("{name}: {e}\n{text}")))?;
            let tame_rules = Read::new(*target, tame_text, &ifs).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            prop_assert_eq!(rules.acls(), tame_rules.acls());
            for (kind, s) in &r.free {
                prop_assert!(s.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{name}: {kind} {s:?}");
                prop_assert!(!s.contains('?') && !s.contains('"') && !s.contains('\\'), "{name}: {kind} {s:?}");
                if *kind == "remark" {
                    prop_assert!(s.len() <= 100, "{name}: {s:?}");
                }
                if *target == Target::Junos {
                    prop_assert!(!s.contains('*'), "{name}: {s:?}");
                }
            }
        }
    }
}
