//! zonecheck: prove that confined data stays in its zone, compile the policy to firewall
//! configurations, and check that configurations permit exactly what the policy permits.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//!
//! - [`syntax`]: `.zc` text to a syntax tree with spans; `fmt`.
//! - [`model`]: names to ids, addresses to zones, endpoints to data nodes; the graph; the
//!   enforcement points.
//! - [`verify`]: the proof (DESIGN.md §4), lints, explain; [`verify::Proved`].
//! - `lower` (internal): the model to per-device permits, which [`targets`] render (minijinja).
//! - [`compile`]: a proof in, a self-checked bundle out.
//! - [`check`]: translation validation — any configuration against the policy, with its
//!   own statement of what each enforcement point must permit.
//! - [`report`]: rendering for people and machines; the policy diff.
//! - [`diagnostics`]: spans, the code registry and miette rendering, shared by all stages.
//! - `config`: reads `zonecheck.toml`.
//! - [`cli`]: the command line; the only stage besides loading that touches the disk (its
//!   commands, `config`, `init` and the unified diff of `fmt --check` are private to the
//!   crate).
//!
//! # The library
//!
//! The `zonecheck` binary is a thin layer over these calls, and a tool built on the crate
//! makes the same ones: [`load_str`] (or [`load_policy`]) parses and resolves,
//! [`verify::prove`] proves — and only its [`verify::Proved`] can be compiled —,
//! [`compile::compile`] renders every device in memory and reads each file back before
//! returning it, [`check::check_device`] compares any configuration with the policy,
//! [`report::diff::diff`] says what a change to the policy means, and [`report`] renders.
//!
//! ```
//! use zonecheck::{check, compile, report, targets, verify};
//! use zonecheck::syntax::date::Date;
//!
//! let policy = r#"
//! class helse "Helseopplysninger" { special; confined }
//! zone sikker "Sikker sone" { trust closed; net 10.0.10.0/24 }
//! zone adm "Administrativt nett" { trust internal; net 10.0.32.0/20 }
//! system epj "EPJ" { zone sikker; address 10.0.10.10; platform linux; holds helse; owner "Helse" }
//! system vda "Citrix VDA" { zone sikker; address 10.0.10.20; platform linux; role vdi; owner "IT" }
//! flow vda -> epj : https "Helsepersonell bruker EPJ fra det publiserte skrivebordet"
//! flow adm -> vda : ica "Ansatte åpner skrivebordet i sikker sone" {
//!   carries none because "Citrix-policy CTX-01: bare skjermbilde"
//! }
//! "#;
//! // Parse and resolve; every diagnostic of the policy at once when it does not.
//! let model = zonecheck::load_str("eksempel.zc", policy).expect("resolves");
//! // Prove that `helse` stays in the closed zone.
//! let today = Date::today_utc();
//! let proved = verify::prove(&model, &Default::default(), today).expect("PROVED");
//! assert!(proved.verdict().proved());
//!
//! // Compile: one nftables ruleset per Linux host, each read back and checked.
//! let templates = targets::Templates::builtin().expect("built-in templates");
//! let bundle = compile::compile(&proved, &Default::default(), &templates).expect("compiles");
//! let epj = bundle.files.iter().find(|f| f.path == "host/epj.nft").expect("a file for epj");
//!
//! // Check a configuration as a device would print it: here the EPJ's ruleset with its
//! // HTTPS permit moved to another port, which check finds in both directions.
//! let epj_host = model.enforcement_point("epj").expect("epj is enforced");
//! let text = String::from_utf8(epj.bytes.clone()).expect("UTF-8");
//! let edited = text.replace("tcp . 443", "tcp . 8443");
//! let acl = Default::default();
//! let same = check::check_device(&model, &epj_host, check::Format::NftText, "epj.nft", &text, &acl);
//! let changed = check::check_device(&model, &epj_host, check::Format::NftText, "epj.nft", &edited, &acl);
//! assert!(same.equal());
//! assert!(!changed.equal() && changed.differences.len() == 2);
//!
//! // What a change to the policy means: a flow out of the closed zone breaks the proof.
//! let leaky = format!("{policy}\nflow epj -> adm : https \"Eksport\"\n");
//! let model2 = zonecheck::load_str("eksempel.zc", &leaky).expect("resolves");
//! let verdict2 = verify::verify(&model2, &Default::default());
//! assert!(!verdict2.proved());
//! let side = |m, v| report::diff::Side { model: m, verdict: v };
//! let diff = report::diff::diff(&side(&model, proved.verdict()), &side(&model2, &verdict2), &acl);
//! assert!(report::diff::text(&diff).contains("helse"));
//! ```

pub mod check;
pub mod cli;
pub(crate) mod commands;
pub mod compile;
pub(crate) mod config;
pub mod diagnostics;
pub(crate) mod init;
pub(crate) mod lower;
pub mod model;
pub mod report;
pub mod syntax;
/// Deterministic synthetic policies for the benchmarks and `examples/synth.rs`; not API.
#[cfg(feature = "internals")]
pub(crate) mod synth;
pub mod targets;
#[cfg(test)]
mod tests;
pub(crate) mod udiff;
pub mod verify;

use std::path::Path;

pub use model::resolve::Errors;
pub use model::{Model, resolve};

/// Read, parse and resolve a policy file or directory.
///
/// A policy that declares no class, zone or system (an empty or comment-only file, the
/// wrong directory) is refused: there would be nothing to prove, and "PROVED" would mislead.
///
/// ```
/// use std::path::Path;
///
/// // A directory: its `.zc` files in name order, as one policy.
/// let model = zonecheck::load_policy(Path::new("policies/fjordvik")).expect("resolves");
/// assert!(model.enforcement_point("fw-kjerne").is_some());
/// // Every error of the policy at once, each a diagnostic with a code and a span.
/// let errors = zonecheck::load_str("feil.zc", "flow a -> b : https \"x\"\n").unwrap_err();
/// assert_eq!(errors.diags.len(), 2, "both unknown names, not only the first");
/// let text = zonecheck::diagnostics::render(&errors.diags, &errors.sources, false, 100);
/// assert!(text.contains("feil.zc:1"), "{text}");
/// ```
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

/// Not API: what the benchmarks, `examples/`, the fuzz targets and the kernel tests drive
/// or time below the library's calls — `check`'s reader, evaluation and comparison one by
/// one, rendering without the self-check, synthetic policies. Behind the non-default
/// feature `internals`, which the crate's dev-dependency on itself turns on for its own
/// tests, benchmarks and examples (and `fuzz/Cargo.toml` for the fuzz targets); no
/// promise of stability.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::check::intended::{Expectations, Intended, intended};
    pub use crate::check::ruleset::{Action, Dead, Evaluation, RuleRef, Ruleset};
    pub use crate::check::space::{ALL_DIMS, Cube, Dim, Ifaces, Space, addr_max, dim_max};
    pub use crate::check::{Packet, Path};
    pub use crate::lower::{DeviceRules, lower};
    pub use crate::synth::{Size, policy};

    /// Read a file of a format into a ruleset ([`crate::check`]'s first stage).
    pub fn read(format: crate::check::Format, text: &str, ifaces: &mut Ifaces) -> Ruleset {
        crate::check::read(format, text, ifaces)
    }

    /// [`crate::compile::compile`] without the self-check, with the lowered rules of the
    /// devices compiled (the benchmark of rendering alone).
    pub fn build(
        proved: &crate::verify::Proved,
        options: &crate::compile::Options,
        templates: &crate::targets::Templates,
    ) -> Result<(crate::compile::Bundle, Vec<DeviceRules>), Vec<crate::diagnostics::Diag>> {
        crate::compile::build(proved, options, templates)
    }
}
