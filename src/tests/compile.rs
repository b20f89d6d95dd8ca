//! compile's golden output (moved from tests/it/compile.rs: it renders through
//! `compile_model`, which is internal to the crate); the bundle's other guarantees are
//! tested on the binary in tests/it/compile.rs.

use std::path::Path;

#[test]
fn golden_fjordvik_firewall() {
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let templates = crate::targets::Templates::load(None).expect("templates");
    let bundle =
        crate::compile::compile_model(&model, &Default::default(), &templates, crate::syntax::date::Date::today_utc())
            .expect("compiles");
    for f in &bundle.files {
        if f.path == "firewall/fw-kjerne.nft" || f.path == "host/siem.nft" || f.path == "host/backup-repo.nft" {
            insta::assert_snapshot!(f.path.replace('/', "__"), String::from_utf8_lossy(&f.bytes));
        }
    }
}
