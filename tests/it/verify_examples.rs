//! verify on the shipped policies and the classic-leak examples: golden human output
//! (insta snapshots), exit codes and the machine formats' shape.

use std::path::Path;

use zonecheck::report::human::{HumanOptions, verdict as human};
use zonecheck::verify::{Options, verify};

fn load(path: &Path) -> zonecheck::Model {
    zonecheck::load_policy(path).unwrap_or_else(|e| {
        panic!(
            "{} does not resolve:\n{}",
            path.display(),
            zonecheck::diagnostics::render(&e.diags, &e.sources, false, 100)
        )
    })
}

#[test]
fn every_violation_example_is_caught_with_its_path() {
    insta::glob!("../../examples/violations", "*.zc", |path| {
        // Relative, so file names in the snapshot do not depend on where the clone lives.
        let path = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path);
        let model = load(path);
        let v = verify(&model, &Options::default());
        assert!(!v.passes(), "{} is meant to show a leak", path.display());
        assert!(!v.violations.is_empty() || v.lint_errors() > 0);
        let text = human(&model, &v, &HumanOptions { color: false, width: 100, all: true });
        insta::assert_snapshot!(text);
    });
}

#[test]
fn every_shipped_policy_is_proved_without_warnings() {
    let mut paths: Vec<_> =
        std::fs::read_dir("policies").expect("policies/").map(|e| e.expect("entry").path()).collect();
    paths.sort();
    assert!(paths.len() >= 5, "fjordvik and the four municipalities");
    for path in paths {
        let model = load(&path);
        let v = verify(&model, &Options { deny_warnings: true, ..Options::default() });
        let text = human(&model, &v, &HumanOptions { color: false, width: 100, all: true });
        assert!(v.passes(), "{} must pass verify --deny warnings:\n{text}", path.display());
        assert!(!v.classes.is_empty(), "{} must confine something", path.display());
    }
}

#[test]
fn fjordvik_demonstrates_every_assumption_kind_and_override() {
    let model = load(Path::new("policies/fjordvik"));
    let v = verify(&model, &Options::default());
    let carries_none = v.assumptions.iter().any(|a| matches!(a.kind, zonecheck::verify::AssumptionKind::Carries { flow } if model.flow(flow).carries.as_ref().is_some_and(|c| c.classes.is_empty())) && !a.relied_on.is_empty());
    let carries_some = v.assumptions.iter().any(|a| matches!(a.kind, zonecheck::verify::AssumptionKind::Carries { flow } if model.flow(flow).carries.as_ref().is_some_and(|c| !c.classes.is_empty())) && !a.relied_on.is_empty());
    let saas = v
        .assumptions
        .iter()
        .any(|a| matches!(a.kind, zonecheck::verify::AssumptionKind::SaasSafeguards { .. }) && !a.classes.is_empty());
    assert!(
        carries_none && carries_some && saas,
        "carries none, carries CLASS and SaaS safeguards must all be relied on"
    );
    assert!(v.classes.iter().any(|c| !c.exports.is_empty()), "an export with its basis");
    let overridden: std::collections::BTreeSet<String> = v.allowed.iter().map(|(d, _)| d.code.id.to_string()).collect();
    assert!(overridden.len() >= 3, "several lints are overridden with a reason: {overridden:?}");
    assert!(model.systems.iter().any(|s| !s.allows.is_empty()), "an override on a system");
    assert!(model.flows.iter().any(|f| !f.allows.is_empty()), "an override on a flow");
}

#[test]
fn one_mistake_tainting_many_systems_is_summarised() {
    // A zone of 40 clients all answered by the EPJ: one leak per client.
    let mut text = String::from(
        "class helse { special; confined }\nzone sikker { trust closed; net 10.0.0.0/24 }\nzone adm { trust internal; net 10.1.0.0/16 }\n\
         system epj { zone sikker; address 10.0.0.10; holds helse }\n",
    );
    for i in 0..40 {
        text.push_str(&format!("system pc{i} {{ zone adm; address 10.1.0.{} }}\n", i + 1));
    }
    text.push_str("flow adm -> epj : https \"alle klienter\"\n");
    let model = zonecheck::load_str("many.zc", &text).expect("resolves");
    let v = verify(&model, &Options::default());
    assert_eq!(v.violations.len(), 41, "40 clients and the zone's remaining space");
    let short = human(&model, &v, &HumanOptions { color: false, width: 100, all: false });
    let long = human(&model, &v, &HumanOptions { color: false, width: 100, all: true });
    assert_eq!(short.matches("zonecheck::verify::leak").count(), zonecheck::report::human::SHOWN_PER_CLASS);
    assert!(short.contains("and 36 more places `helse` reaches"), "{short}");
    assert_eq!(long.matches("zonecheck::verify::leak").count(), 41);
}

#[test]
fn json_has_the_documented_shape() {
    let model = load(Path::new("examples/violations/print-to-admin.zc"));
    let v = verify(&model, &Options::default());
    let json: serde_json::Value =
        serde_json::from_str(&zonecheck::report::json::to_string(&model, &v)).expect("valid JSON");
    assert_eq!(json["version"], 1);
    assert_eq!(json["verdict"], "violated");
    assert_eq!(json["classes"][0]["name"], "helse");
    assert_eq!(json["classes"][0]["verdict"], "violated");
    let viol = &json["violations"][0];
    assert_eq!(viol["class"], "helse");
    assert_eq!(viol["system"], "print");
    assert_eq!(viol["kind"], "system");
    assert_eq!(viol["path"], serde_json::json!(["epj", "vda-01", "print"]));
    assert_eq!(viol["hops"][1]["flow"], "vda-01 -> print : ipps");
    assert!(viol["hops"][1]["line"].as_u64().is_some_and(|l| l > 1));
    assert!(viol["hops"][1]["file"].as_str().is_some_and(|f| f.ends_with("print-to-admin.zc")));
    assert_eq!(viol["hops"][0]["direction"], "answer");

    let proved = load(Path::new("policies/fjordvik"));
    let pv = verify(&proved, &Options::default());
    let json: serde_json::Value =
        serde_json::from_str(&zonecheck::report::json::to_string(&proved, &pv)).expect("valid JSON");
    assert_eq!(json["verdict"], "proved");
    assert!(json["violations"].as_array().is_some_and(|a| a.is_empty()));
    assert!(json["assumptions"].as_array().is_some_and(|a| !a.is_empty()));
}

#[test]
fn sarif_has_what_github_code_scanning_reads() {
    let model = load(Path::new("examples/violations/vendor-direct.zc"));
    let v = verify(&model, &Options::default());
    let sarif: serde_json::Value =
        serde_json::from_str(&zonecheck::report::sarif::to_string(&model, &v)).expect("valid JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "zonecheck");
    let rules: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().expect("rules").iter().filter_map(|r| r["id"].as_str()).collect();
    let results = run["results"].as_array().expect("results");
    assert_eq!(
        results.len(),
        v.violations.len() + v.lints.len() + v.allowed.len(),
        "one result per violation, lint and allow-silenced finding"
    );
    for r in results {
        let rule = r["ruleId"].as_str().expect("ruleId");
        assert!(rules.contains(&rule), "rule {rule} is declared");
        assert!(matches!(r["level"].as_str(), Some("error" | "warning")));
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(!uri.starts_with('/') && uri.ends_with(".zc"), "relative uri: {uri}");
        let region = &loc["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l >= 1));
        assert!(region["startColumn"].as_u64().is_some_and(|c| c >= 1));
        assert!(region["endLine"].as_u64() >= region["startLine"].as_u64());
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn junit_has_a_case_per_class_and_per_lint() {
    let model = load(Path::new("examples/violations/saas-without-dpa.zc"));
    let v = verify(&model, &Options::default());
    let xml = zonecheck::report::junit::to_string(&model, &v);
    let cases = xml.matches("<testcase ").count();
    // One per class, one for the enforcement analysis, one per lint.
    assert_eq!(cases, v.classes.len() + 1 + zonecheck::diagnostics::LINTS.len());
    assert!(xml.contains("classname=\"zonecheck.enforcement\" name=\"enforcement\""), "{xml}");
    assert!(xml.contains("name=\"saas-safeguards\">"), "the failing lint has a failure: {xml}");
    assert!(xml.contains("<failure message="));
    assert_eq!(xml.matches("<testcase").count(), xml.matches("classname=").count());
    // Every opened element is closed (a cheap well-formedness check).
    assert_eq!(xml.matches("<failure").count(), xml.matches("</failure>").count());
    assert!(xml.trim_end().ends_with("</testsuites>"));
}

#[test]
fn allow_silences_its_lint_and_stale_allows_are_reported() {
    let base = "class helse { special; confined }\nzone s { trust closed; net 10.0.0.0/24 }\nzone a { trust internal; net 10.1.0.0/24 }\n\
                system epj { zone s; address 10.0.0.1; holds helse }\nsystem siem { zone a; address 10.1.0.1 }\n";
    let flow = "flow epj -> siem : syslog-tls \"logg\" { carries none because \"bare tekniske hendelser\"";
    let plain = zonecheck::load_str("a.zc", &format!("{base}{flow} }}\n")).expect("resolves");
    let v = verify(&plain, &Options::default());
    assert!(v.lints.iter().any(|d| d.code == zonecheck::diagnostics::code::LINT_CLOSED_EGRESS));
    let allowed = zonecheck::load_str("a.zc", &format!("{base}{flow}; allow closed-egress because \"ROS 1\" }}\n"))
        .expect("resolves");
    let v = verify(&allowed, &Options::default());
    assert!(!v.lints.iter().any(|d| d.code == zonecheck::diagnostics::code::LINT_CLOSED_EGRESS));
    assert_eq!(v.allowed.len(), 1);
    assert_eq!(v.allowed[0].1, "ROS 1");
    let stale = zonecheck::load_str(
        "a.zc",
        &format!("{base}{flow}; allow closed-egress because \"ROS 1\"; allow broad-into-closed because \"x\" }}\n"),
    )
    .expect("resolves");
    let v = verify(&stale, &Options::default());
    assert!(
        v.lints
            .iter()
            .any(|d| d.message.contains("`allow broad-into-closed`") && d.message.contains("silences nothing"))
    );
    let denied = verify(&stale, &Options { deny_warnings: true, ..Options::default() });
    assert!(!denied.passes(), "--deny warnings turns the stale override into a failure");
}

/// DESIGN.md §4a: a SaaS holder that a zone-level flow reaches keeps its data behind its
/// own login only — an assumption listed with the flows, and shown by `explain`.
#[test]
fn saas_reached_through_a_zone_is_an_assumption_with_its_flows() {
    let text = "class barnevern { special; confined }\n\
        zone lukket { trust closed; net 10.0.10.0/24 }\n\
        zone adm { trust internal; net 10.0.32.0/24 }\n\
        zone internet { trust external; net 0.0.0.0/0 }\n\
        system fagsys { zone lukket; address 10.0.10.5; platform linux; holds barnevern }\n\
        system flyt { zone internet; address 203.0.113.10; platform saas; holds barnevern\n\
          vendor \"Visma\"; dpa \"DBA-1\"; region eea; auth mfa }\n\
        system siem { zone adm; address 10.0.32.20; platform linux }\n\
        system klient { zone adm; address 10.0.32.21; platform windows }\n\
        group ut { internet }\n\
        flow siem -> internet : https \"Oppdateringer\"\n\
        flow klient -> ut : https \"Nett\"\n\
        flow klient -> flyt : https \"Saksbehandling\" { export barnevern basis \"Bvl. § 13-1\" }\n\
        firewall fw { target nftables; interface eth1 zone lukket; interface eth2 zone adm; interface eth0 zone internet }\n";
    let model = zonecheck::load_str("reach.zc", text).expect("resolves");
    let v = verify(&model, &Options::default());
    let reach: Vec<_> = v
        .assumptions
        .iter()
        .filter_map(|a| match &a.kind {
            zonecheck::verify::AssumptionKind::SaasReach { system, flows } => Some((a, *system, flows.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(reach.len(), 1, "{:?}", v.assumptions);
    let (a, system, flows) = &reach[0];
    assert_eq!(model.system(*system).name, "flyt");
    // Both zone-level flows (one through a group), not the flow that names `flyt` itself.
    let titles: Vec<String> = flows.iter().map(|f| model.flow_title(*f)).collect();
    assert_eq!(titles, ["siem -> internet : https", "klient -> ut : https"]);
    let barnevern = model.class_by_name("barnevern").expect("class");
    assert_eq!(a.relied_on, vec![barnevern]);
    // The class verdict lists it among the assumptions it relies on.
    let cv = v.classes.iter().find(|c| c.class == barnevern).expect("verdict");
    assert!(
        cv.assumptions
            .iter()
            .any(|i| matches!(v.assumptions[*i].kind, zonecheck::verify::AssumptionKind::SaasReach { .. }))
    );
    let json: serde_json::Value = serde_json::from_str(&zonecheck::report::json::to_string(&model, &v)).expect("json");
    let listed = json["assumptions"].as_array().expect("list").iter().any(|a| {
        a["kind"] == "saas-reach" && a["system"] == "flyt" && a["flows"].as_array().is_some_and(|f| f.len() == 2)
    });
    assert!(listed, "{json}");
    // explain siem flyt names the zone-level flow that reaches the SaaS.
    let (_, from) = zonecheck::verify::explain::endpoint_nodes(&model, "siem").expect("siem");
    let (_, to) = zonecheck::verify::explain::endpoint_nodes(&model, "flyt").expect("flyt");
    let e = zonecheck::verify::explain::explain(&model, &v.taint, from, to);
    assert_eq!(e.through_zone.len(), 1);
    let text = zonecheck::report::explain::render(&model, "siem", "flyt", &e);
    assert!(text.contains("SaaS reached through a zone") && text.contains("siem -> internet : https"), "{text}");
}

/// `export CLASS fetched`: a recipient that fetches the data (the class moves with the
/// answers) can be declared; a plain export admits the requests only, so the same policy
/// without `fetched` leaks, and its fix hint names `fetched`.
#[test]
fn an_export_can_be_fetched_by_its_recipient() {
    let policy = |export: &str| {
        format!(
            "class helse {{ special; confined }}\n\
             zone lukket {{ trust closed; net 10.0.10.0/24 }}\n\
             zone helsenett {{ trust partner; net 83.118.128.0/22 }}\n\
             system epj-api {{ zone lukket; address 10.0.10.5; platform linux; holds helse }}\n\
             system nhn-klient {{ zone helsenett; address 83.118.128.10; platform appliance }}\n\
             flow nhn-klient -> epj-api : https \"Kjernejournal henter\" {{ {export} basis \"Pasientjournalloven § 13\"; allow external-into-closed because \"NHN-integrasjon\" }}\n\
             firewall fw {{ target nftables; interface eth1 zone lukket; interface eth2 zone helsenett }}\n"
        )
    };
    let fetched = zonecheck::load_str("fetched.zc", &policy("export helse fetched")).expect("resolves");
    let v = verify(&fetched, &Options::default());
    assert!(v.proved() && v.passes(), "{:?} {:?}", v.violations, v.lints);
    assert!(v.classes[0].exports[0].fetched);
    let sent = zonecheck::load_str("sent.zc", &policy("export helse")).expect("resolves");
    let v = verify(&sent, &Options::default());
    assert_eq!(v.violations.len(), 1);
    assert!(!v.violations[0].path[0].forward, "the answers carry it");
    assert!(v.violations[0].fix.contains("export helse fetched"), "{}", v.violations[0].fix);
    // fmt keeps the direction.
    let text = policy("export helse fetched");
    let parsed = zonecheck::syntax::parse_str("fetched.zc", &text);
    assert!(parsed.diags.is_empty());
    let formatted = zonecheck::syntax::fmt::format_file(&parsed.files[0], &text);
    assert!(formatted.contains("export helse fetched basis"), "{formatted}");
}
