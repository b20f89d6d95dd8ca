//! The command `check`'s documentation against its reader (moved from
//! tests/it/check_cli.rs: the export command is internal to the crate).

#[test]
fn the_documented_windows_export_is_the_one_the_reader_expects() {
    let doc = std::fs::read_to_string("examples/drift/windows-export.ps1").expect("read");
    assert!(doc.contains(crate::check::read::windows::EXPORT_COMMAND), "examples/drift/windows-export.ps1 is stale");
}
