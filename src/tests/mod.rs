//! Tests that reach into the stages (moved here from `tests/it/` by issue 15, so that what
//! they use can be `pub(crate)`): the packet-space engine and the ruleset evaluator, the
//! readers of every format, the independent statement of what a device must permit, the
//! mutation tests of `check`, the renderers' golden output. Tests that go through the
//! library's public calls or the built binary stay in `tests/it/`.
//!
//! Snapshots are in `snapshots/` beside the file that takes them (`acl/snapshots/`,
//! `windows/snapshots/`; named `zonecheck__tests__<module>__<name>`); proptest's regressions
//! in `proptest-regressions/tests/` at the root of the package, one file per source file.

mod acl;
mod check;
mod check_cli;
mod check_corpus;
mod check_independent;
mod check_mutation;
mod check_nft;
mod compile;
mod polish;
mod windows;
