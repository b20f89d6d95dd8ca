//! The integration tests, one binary: each module tests one stage or promise through the
//! library's public calls or the built `zonecheck` binary. Tests that reach into a stage's
//! internals are in the crate (`src/tests/`). The kernel tests (`tests/kernel.rs`,
//! `tests/kernel_hostile.rs`, `tests/check_kernel.rs`: network namespaces, root) and the
//! fuzz corpus replay (`tests/fuzz_replay.rs`) stay binaries of their own.
//!
//! Shared generators live in `tests/common/` and `tests/kernel/`, included where used.

mod architecture;
mod check_cli;
mod cli;
mod compile;
mod diagnostics;
mod diff;
mod explain_packet;
mod fmt_props;
mod graph;
mod polish;
mod report;
mod schema;
mod util;
mod verify_differential;
mod verify_examples;
