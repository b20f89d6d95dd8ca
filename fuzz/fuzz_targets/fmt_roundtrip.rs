#![no_main]

use libfuzzer_sys::fuzz_target;

// The checks live with the replay test, so `cargo test` runs the same code on the corpus.
#[allow(dead_code)]
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_checks::check_fmt_roundtrip(data);
});
