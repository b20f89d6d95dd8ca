//! Helpers every module of the integration tests shares.

use std::path::PathBuf;

use assert_cmd::Command;

/// The built `zonecheck`, without colour.
pub fn zonecheck() -> Command {
    let mut c = Command::cargo_bin("zonecheck").expect("binary");
    c.env("NO_COLOR", "1");
    c
}

/// A fresh, empty directory for one test: `zonecheck-AREA-PID-NAME` in the temp dir.
pub fn temp_dir(area: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zonecheck-{area}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[path = "../common/quoted.rs"]
mod quoted_literal;
pub use quoted_literal::quoted;
