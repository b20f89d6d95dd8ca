//! What each rule of `verify` means and how to fix it: the `help` of SARIF rules and
//! the text of docs/diagnostics.md, which `tests/it/schema.rs` keeps in step.

use crate::diagnostics::Code;

/// Where the documentation of a code lives: docs/diagnostics.md in the sources of this
/// version, as published (docs.rs serves every published crate's files), at the code's
/// [`anchor`].
pub(crate) fn help_uri(code: Code) -> String {
    let anchor = anchor(code);
    let repo = env!("CARGO_PKG_REPOSITORY");
    if repo.is_empty() {
        format!("https://docs.rs/crate/zonecheck/{}/source/docs/diagnostics.md#{anchor}", env!("CARGO_PKG_VERSION"))
    } else {
        format!("{}/blob/v{}/docs/diagnostics.md#{anchor}", repo.trim_end_matches('/'), env!("CARGO_PKG_VERSION"))
    }
}

/// The code's anchor in docs/diagnostics.md: `zonecheck::lint::unused` → `lint-unused`.
pub fn anchor(code: Code) -> String {
    code.id.strip_prefix("zonecheck::").unwrap_or(code.id).replace("::", "-")
}

/// How to act on a finding of this code, beyond its one-line summary.
pub(crate) fn help(code: Code) -> &'static str {
    use crate::diagnostics::code::*;
    match code {
        c if c == VERIFY_LEAK => {
            "Follow the path from the holder: the first hop that leaves the allowed zones is the mistake. Restrict that flow with `carries … because \"…\"` if it cannot carry the class, declare `export CLASS basis \"…\"` if the transfer is lawful, move the receiver into an allowed zone, or remove the flow."
        }
        c if c == VERIFY_UNENFORCED => {
            "Put an enforcement point on the path: give the zones separate interfaces of a firewall or SVIs of a switch, or give the systems platform linux or windows so their host firewalls filter; the finding names the nodes and the fix."
        }
        c if c == LINT_SAAS_SAFEGUARDS => {
            "Declare `vendor`, `dpa` (the data processing agreement), `region eea` and `auth mfa|certificate` on the SaaS system, or stop the special class from reaching it."
        }
        c if c == LINT_EXTERNAL_INTO_CLOSED => {
            "Let outside access land on a `role jump` system in the closed zone and add `require mfa` to the flow."
        }
        c if c == LINT_UNENCRYPTED_SPECIAL => {
            "Use an encrypted service, mark the service `encrypted` if its transport is, or declare `encrypted payload \"…\"` or `require encrypted` on the flow."
        }
        c if c == LINT_BROAD_INTO_CLOSED => {
            "Name the systems and services the documented need requires instead of `any` or a whole zone."
        }
        c if c == LINT_CLOSED_EGRESS => {
            "Declare the export with its legal basis, or justify the flow with `allow closed-egress because \"…\"` (for example a SIEM flow that `carries none`)."
        }
        c if c == LINT_EXPORT_OUTSIDE_HELSENETT => {
            "Send health data through Norsk Helsenett (a `partner` zone) rather than the Internet."
        }
        c if c == LINT_UNUSED => "Remove what changes nothing, or use it; a stale `allow` should go.",
        c if c == LINT_SHADOWED_FLOW => "Remove the covered flow, or narrow the broader one.",
        c if c == LINT_CONFINED_OUTSIDE_CLOSED => {
            "Confine the class to closed zones, or give the zone `trust closed` if it is one; a confined class in an internal or DMZ zone is rarely what a privacy statement promises."
        }
        c if c == LINT_OVERLAPPING_ZONES => {
            "Give the zones disjoint prefixes, or accept the carve-out in zonecheck.toml (`overlapping-zones = \"allow\"`) once you have checked that every address is in the zone you mean."
        }
        c if c == LINT_DUPLICATE_ENFORCEMENT => {
            "Decide which device separates the zones and remove the zones from the other's interfaces, or accept that both enforce (and keep both in step) with `duplicate-enforcement = \"allow\"` in zonecheck.toml."
        }
        c if c == LINT_APPLIANCE_SPECIAL => {
            "An appliance enforces nothing and is rarely hardened like a server: keep special data on a linux or windows system, or justify it with `allow appliance-special because \"…\"` on the system."
        }
        c => c.summary,
    }
}
