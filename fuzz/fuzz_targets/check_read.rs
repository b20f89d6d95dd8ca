#![no_main]

use libfuzzer_sys::fuzz_target;

// The checks live with the replay test, so `cargo test` runs the same code on the corpus.
#[allow(dead_code)]
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

// The first byte picks the format (`data[0] % 8`), the rest is the ruleset text.
fuzz_target!(|data: &[u8]| {
    fuzz_checks::check_read(data);
});
