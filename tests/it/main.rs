//! The integration tests, one binary: each module tests one stage or promise through the
//! library or the built `zonecheck` binary. The kernel tests (`tests/kernel.rs`,
//! `tests/kernel_hostile.rs`, `tests/check_kernel.rs`: network namespaces, root) and the
//! fuzz corpus replay (`tests/fuzz_replay.rs`) stay binaries of their own.
//!
//! Shared generators live in `tests/common/` and `tests/kernel/`, included where used.

mod acl;
mod architecture;
mod check;
mod check_cli;
mod check_corpus;
mod check_independent;
mod check_mutation;
mod check_nft;
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
mod windows;
