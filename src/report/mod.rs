//! Stage: rendering results for people and machines. Pure functions from a model and a
//! verdict to text; the CLI decides where the text goes.
//!
//! ```
//! use zonecheck::{report, verify};
//!
//! let policy = r#"
//! class helse "Helseopplysninger" { special; confined }
//! zone sikker "Sikker sone" { trust closed; net 10.0.10.0/24 }
//! zone adm "Administrativt nett" { trust internal; net 10.0.32.0/20 }
//! system epj "EPJ" { zone sikker; address 10.0.10.10; platform linux; holds helse; owner "Helse" }
//! flow epj -> adm : https "Eksport til kontorstøtte"
//! "#;
//! let model = zonecheck::load_str("lekk.zc", policy).expect("resolves");
//! let verdict = verify::verify(&model, &Default::default());
//! assert!(!verdict.proved());
//!
//! // For people: the counterexample, hop by hop, with the flow's line.
//! let options = report::human::HumanOptions { color: false, width: 100, all: false };
//! let text = report::human::verdict(&model, &verdict, &options);
//! assert!(text.contains("helse") && text.contains("lekk.zc"));
//! // For machines: JSON (docs/json.md), SARIF for code review, JUnit for CI dashboards.
//! let json: serde_json::Value = serde_json::from_str(&report::json::to_string(&model, &verdict)).unwrap();
//! assert_eq!(json["verdict"], "violated");
//! assert!(report::sarif::to_string(&model, &verdict).contains("\"version\": \"2.1.0\""));
//! assert!(report::junit::to_string(&model, &verdict).contains("<testsuite"));
//! ```

pub mod audit;
pub(crate) mod check;
pub mod diff;
pub(crate) mod doc;
pub mod explain;
pub mod graph;
pub mod human;
pub mod json;
pub mod junit;
pub(crate) mod packet;
pub(crate) mod rootcause;
pub mod rules;
pub mod sarif;

/// `1 rule`, `2 rules`: a count with its noun in the right number.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
