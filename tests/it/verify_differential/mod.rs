//! Differential test of `verify` (DESIGN.md §4) against a deliberately naive reference.
//!
//! The reference works from the resolved [`Model`] only, never from `src/verify`:
//! every flow becomes explicit channel pairs (a → b for every a in FROM and b in TO, and
//! b → a for the answers), limited by `carries`; taint is copied over every channel until
//! nothing changes; `allowed` is written out again from §4; a violation at (class, node)
//! exists iff the class is not allowed there and the node holds it or some channel into
//! the node carries it from a tainted sender and is not an export of the class in the
//! FROM → TO direction. Shortest counterexample lengths come from a Bellman-Ford over the
//! same channels.
//!
//! Properties (on 10,000 generated policies by default, `PROPTEST_CASES` overrides):
//! per-class verdicts, the exact set of violating (class, node) pairs, the taint at every
//! node, and every reported path (a real path of minimal length) agree with the
//! reference; for proved policies (generated, repaired to proved, and the shipped ones)
//! deleting a `carries` the verdict relies on produces a violation of a relied-on class,
//! and deleting one the reference says is harmless produces none.
//!
//! This file loads policies and runs `verify`; the parts, one file each:
//!
//! - `reference`: the naive reference, with `carries` in series and the enforcement
//!   reference (DESIGN.md §4a), and their comparisons with `verify`;
//! - `compare`: every verdict, violation, taint and path of `verify` against the reference;
//! - `mutation`: deleting `carries`, and the two properties (generated and shipped policies);
//! - `smoke`: hand-written cases;
//! - `addresses`: addresses as devices read them (DESIGN.md §4a);
//! - `fix_hints`: every fix hint, applied, removes its finding.

#[path = "../../common/verify_gen.rs"]
mod verify_gen;

mod addresses;
mod compare;
mod fix_hints;
mod mutation;
mod reference;
mod smoke;

use std::path::Path;

use zonecheck::model::Model;
use zonecheck::verify::{Options, Verdict, verify};

// ---- loading ----------------------------------------------------------------------------

fn load(name: &str, text: &str) -> Model {
    match zonecheck::load_str(name, text) {
        Ok(m) => m,
        Err(e) => panic!(
            "policy `{name}` does not resolve:\n{}\n--- text ---\n{text}",
            zonecheck::diagnostics::render(&e.diags, &e.sources, false, 100)
        ),
    }
}

fn load_path(path: &Path) -> Model {
    match zonecheck::load_policy(path) {
        Ok(m) => m,
        Err(e) => panic!(
            "`{}` does not resolve:\n{}",
            path.display(),
            zonecheck::diagnostics::render(&e.diags, &e.sources, false, 100)
        ),
    }
}

fn run_verify(model: &Model) -> Verdict {
    verify(model, &Options::default())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}
