//! zonecheck: prove that confined data stays in its zone, compile the policy to firewall
//! configurations, and check that configurations permit exactly what the policy permits.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//!
//! - [`syntax`]: `.zc` text to a syntax tree with spans; `fmt`.
//! - [`model`]: names to ids, addresses to zones, endpoints to data nodes; the graph.
//! - [`report`]: rendering for people and machines.
//! - [`diagnostics`]: spans, the code registry and miette rendering, shared by all stages.
//! - [`cli`]: the command line; the only stage besides loading that touches the disk.

pub mod check;
pub mod cli;
pub mod commands;
pub mod compile;
pub mod config;
pub mod diagnostics;
pub mod init;
pub mod lower;
pub mod model;
pub mod report;
pub mod syntax;
pub mod synth;
pub mod targets;
pub mod udiff;
pub mod verify;

use std::path::Path;

pub use model::resolve::Errors;
pub use model::{Model, resolve};

/// Read, parse and resolve a policy file or directory.
///
/// A policy that declares no class, zone or system (an empty or comment-only file, the
/// wrong directory) is refused: there would be nothing to prove, and "PROVED" would mislead.
pub fn load_policy(path: &Path) -> Result<Model, Errors> {
    let sources = syntax::load(path).map_err(|diags| Errors { sources: Default::default(), diags })?;
    let model = resolve(syntax::parse_sources(sources))?;
    if model.classes.is_empty() && model.zones.is_empty() && model.systems.is_empty() {
        let span =
            model.sources.iter().next().map_or(diagnostics::Span::NONE, |(id, _)| diagnostics::Span::new(id, 0, 0));
        let diag = diagnostics::Diag::error(
            diagnostics::code::IO_EMPTY_POLICY,
            span,
            format!("{} declares no class, zone or system: there is nothing to prove", path.display()),
        )
        .label("empty policy")
        .help("point zonecheck at the policy's file or directory, or start one with `zonecheck init`");
        return Err(Errors { sources: model.sources, diags: vec![diag] });
    }
    Ok(model)
}

/// Parse and resolve a policy held in memory (tests, fuzzing, benchmarks).
pub fn load_str(name: &str, text: &str) -> Result<Model, Errors> {
    resolve(syntax::parse_str(name, text))
}
