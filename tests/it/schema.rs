//! Every JSON document zonecheck writes is checked against its JSON Schema in
//! `docs/schema/`, on real outputs: verify on every shipped policy and classic leak (and
//! root causes of both kinds, enforcement gaps, every kind of assumption), check on equal
//! and different devices, and a bundle's
//! manifest. The documentation of every diagnostic code, role and platform is checked
//! to exist too.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::zonecheck;

fn temp_dir(name: &str) -> PathBuf {
    crate::util::temp_dir("schema", name)
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&value)
        .unwrap_or_else(|e| panic!("{name} is not a valid schema: {e}"))
}

#[track_caller]
fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not match its schema:\n{}", errors.join("\n"));
}

fn verify_json(model: &zonecheck::Model) -> Value {
    let v = zonecheck::verify::verify(model, &zonecheck::verify::Options::default());
    serde_json::from_str(&zonecheck::report::json::to_string(model, &v)).expect("JSON")
}

#[test]
fn verify_json_matches_its_schema_on_every_shipped_policy_and_example() {
    let validator = schema("verify.schema.json");
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in ["policies", "examples/violations", "examples/ok"] {
        paths.extend(std::fs::read_dir(dir).expect(dir).map(|e| e.expect("entry").path()));
    }
    paths.sort();
    assert!(paths.len() >= 12);
    let mut kinds = std::collections::BTreeSet::new();
    for path in &paths {
        let model = zonecheck::load_policy(path).unwrap_or_else(|_| panic!("{} resolves", path.display()));
        let json = verify_json(&model);
        assert_valid(&validator, &json, &path.display().to_string());
        kinds.extend(
            json["assumptions"].as_array().into_iter().flatten().filter_map(|a| a["kind"].as_str().map(String::from)),
        );
    }
    assert_eq!(kinds.len(), 4, "every kind of assumption was validated: {kinds:?}");
}

#[test]
fn root_causes_of_both_kinds_match_the_schema() {
    let validator = schema("verify.schema.json");
    // A holder in a zone where its class is not allowed, and one flow answering 40 clients.
    let mut text = String::from(
        "class helse { special; confined }\nzone sikker { trust closed; net 10.0.0.0/24 }\nzone adm { trust internal; net 10.1.0.0/16 }\n\
         system epj { zone sikker; address 10.0.0.10; holds helse }\nsystem stray { zone adm; address 10.1.1.1; holds helse }\n",
    );
    for i in 0..40 {
        text.push_str(&format!("system pc{i} {{ zone adm; address 10.1.0.{} }}\n", i + 1));
    }
    text.push_str(
        "flow adm -> epj : https \"alle klienter\"\nflow stray -> epj : https \"x\" { carries none because \"y\" }\n",
    );
    let model = zonecheck::load_str("many.zc", &text).expect("resolves");
    let json = verify_json(&model);
    assert_valid(&validator, &json, "many.zc");
    // No device at all: the gap objects are exercised too.
    assert_eq!(json["enforcement"]["verdict"], "gaps");
    assert!(json["enforcement"]["gaps"].as_array().is_some_and(|g| !g.is_empty()));
    let causes = json["root_causes"].as_array().expect("root_causes");
    let kinds: Vec<&str> = causes.iter().filter_map(|c| c["kind"].as_str()).collect();
    assert!(kinds.contains(&"flow") && kinds.contains(&"holder"), "{kinds:?}");
    assert_eq!(causes[0]["kind"], "flow", "the cause opening most leaks comes first");
    assert_eq!(causes[0]["direction"], "answer");
    assert!(causes[0]["violations"].as_array().is_some_and(|v| v.len() >= 41), "{}", causes[0]);
}

#[test]
fn the_schemas_reject_what_zonecheck_does_not_write() {
    // The test above could not fail if the schema accepted anything.
    let validator = schema("verify.schema.json");
    let model = zonecheck::load_policy(Path::new("examples/violations/print-to-admin.zc")).expect("resolves");
    let good = verify_json(&model);
    assert!(validator.is_valid(&good));
    let mut bad = good.clone();
    bad["verdict"] = "maybe".into();
    assert!(!validator.is_valid(&bad), "an unknown verdict");
    let mut bad = good.clone();
    bad["violations"][0]["hops"][0]["direction"] = "sideways".into();
    assert!(!validator.is_valid(&bad), "an unknown direction");
    let mut bad = good.clone();
    bad["surprise"] = 1.into();
    assert!(!validator.is_valid(&bad), "an undocumented field");
    let mut bad = good;
    bad.as_object_mut().expect("object").remove("root_causes");
    assert!(!validator.is_valid(&bad), "a missing field");
}

#[test]
fn manifest_and_check_json_match_their_schemas() {
    let d = temp_dir("bundle");
    zonecheck().args(["init"]).arg(d.join("p")).assert().code(0);
    let bundle = d.join("bundle");
    zonecheck().arg("compile").arg(d.join("p")).arg("-o").arg(&bundle).assert().code(0);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).expect("manifest")).expect("JSON");
    assert_valid(&schema("manifest.schema.json"), &manifest, "manifest.json");

    let check = schema("check.schema.json");
    let run = |policy: &Path, code: i32| -> Value {
        let out = zonecheck()
            .arg("check")
            .arg(policy)
            .arg(&bundle)
            .args(["--format", "json"])
            .assert()
            .code(code)
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).expect("JSON")
    };
    let equal = run(&d.join("p"), 0);
    assert_eq!(equal["verdict"], "equal");
    assert_valid(&check, &equal, "check (equal)");
    // The policy changed after compiling: one flow more (the devices permit less) and
    // one flow fewer (they permit more), so both kinds of difference appear.
    let text = std::fs::read_to_string(d.join("p/policy.zc")).expect("policy");
    let changed = text.replace(
        "flow vdi -> journal : https \"Saksbehandlere bruker journalen fra lukket VDI\"",
        "flow vdi -> journal : ssh \"Drift av journalen fra lukket VDI\"",
    );
    assert_ne!(changed, text);
    std::fs::create_dir_all(d.join("q")).expect("dir");
    std::fs::write(d.join("q/policy.zc"), changed).expect("write");
    let different = run(&d.join("q"), 1);
    assert_eq!(different["verdict"], "different");
    let directions: Vec<&str> = different["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .flat_map(|dev| dev["differences"].as_array().into_iter().flatten())
        .filter_map(|x| x["direction"].as_str())
        .collect();
    assert!(directions.contains(&"more") && directions.contains(&"less"), "{directions:?}");
    assert_valid(&check, &different, "check (different)");
}

#[test]
fn every_diagnostic_code_is_documented() {
    let doc = std::fs::read_to_string("docs/diagnostics.md").expect("docs/diagnostics.md");
    for c in zonecheck::diagnostics::code::ALL {
        assert!(doc.contains(&format!("`{}`", c.id)), "docs/diagnostics.md does not document {}", c.id);
        let anchor = zonecheck::report::rules::anchor(*c);
        assert!(
            doc.contains(&format!("<a id=\"{anchor}\"></a>")),
            "docs/diagnostics.md has no anchor `{anchor}` for the SARIF helpUri of {}",
            c.id
        );
    }
}

#[test]
fn every_role_and_platform_is_documented() {
    use zonecheck::syntax::ast::{Keyword, Platform, Role};
    let doc = std::fs::read_to_string("docs/language.md").expect("docs/language.md");
    for (word, _) in Role::TABLE {
        assert!(doc.contains(&format!("| `role {word}` |")), "docs/language.md does not document `role {word}`");
    }
    for (word, _) in Platform::TABLE {
        assert!(
            doc.contains(&format!("| `platform {word}` |")),
            "docs/language.md does not document `platform {word}`"
        );
    }
}
