//! The commands that do more than one stage's work: `compile` and `check` (their own
//! modules), `report` and `diff` (here: argument values and the I/O around the pure
//! renderers in `report::audit` and `report::diff`). Printing goes through the helpers of
//! [`crate::cli`].

pub(crate) mod check;
pub(crate) mod compile;

use std::path::Path;

use clap::ValueEnum;

use crate::cli::{Exit, load_with_config, out, print_diags, read_manifest, read_text, today, write_atomically};
use crate::diagnostics::{Diag, Sources, Span, code};
use crate::report::audit::{BundleFile, BundleInfo, Lang};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum ReportLang {
    /// Norwegian bokmål
    Nb,
    /// English
    En,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum ReportFormat {
    Html,
    Markdown,
}

/// A bundle file's text and the reader for it, for the device's lowered rules.
fn bundle_file(
    dir: &Path,
    rel: &str,
    device: &str,
    points: &[crate::model::EnforcementPoint],
) -> Result<(String, crate::check::Format), Diag> {
    let input = |msg: String| Diag::error(code::CHECK_INPUT, Span::NONE, msg);
    let text = read_text(&dir.join(rel))?;
    let Some(point) = points.iter().find(|d| d.name == device) else {
        return Err(input(format!("{rel} is for `{device}`, which is no firewall, switch or host of the policy"))
            .help("give the bundle compiled from this policy"));
    };
    let Some(format) = crate::check::Format::detect(point.target, rel, &text).filter(|f| f.fits(point.target)) else {
        return Err(input(format!("{rel} cannot hold the rules of `{device}`")).help("recompile the bundle"));
    };
    Ok((text, format))
}

/// A bundle's device files by its manifest, each checked against the policy.
pub(crate) fn bundle_info(
    model: &crate::Model,
    dir: &Path,
    acl: &crate::targets::acl::AclOptions,
) -> Result<BundleInfo, Diag> {
    let (policy_sha256, listed) = read_manifest(dir, "give a directory written by `zonecheck compile`")?;
    let points = model.enforcement_points();
    let expected = crate::check::intended::Expectations::of(model);
    let mut files = Vec::new();
    for (rel, device, recorded) in listed {
        let (text, format) = bundle_file(dir, &rel, &device, &points)?;
        let Some(point) = points.iter().find(|d| d.name == device) else { continue };
        let checked = crate::check::check_expected(&expected, point, format, &rel, &text, acl);
        files.push(BundleFile {
            path: rel,
            device,
            sha256: crate::compile::sha256_hex(text.as_bytes()),
            manifest_sha256: recorded,
            verdict: checked.verdict(),
            differences: checked.differences.len(),
            problems: checked.problems.len(),
        });
    }
    let present: std::collections::BTreeSet<&str> = files.iter().map(|f| f.device.as_str()).collect();
    let missing = points.iter().map(|d| d.name.clone()).filter(|n| !present.contains(n.as_str())).collect();
    Ok(BundleInfo { dir: dir.display().to_string(), policy_sha256, files, missing })
}

/// `explain PATH SRC DST SERVICE [--bundle DIR]`: one packet.
pub(crate) fn explain_packet(path: &Path, src: &str, dst: &str, service: &str, bundle: Option<&Path>) -> Exit {
    let model = match crate::cli::load(path) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let bad = |msg: String, help: &str| {
        print_diags(&[Diag::error(code::EXPLAIN_PACKET, Span::NONE, msg).help(help)], &model.sources);
        Exit::Input
    };
    let (Ok(a), Ok(b)) = (src.parse::<std::net::IpAddr>(), dst.parse::<std::net::IpAddr>()) else {
        return bad(
            format!("`{src}` and `{dst}` must both be IP addresses to explain a packet"),
            "give two addresses and a service (`explain PATH 10.40.11.11 10.40.10.10 tcp/443`), or two names without a service",
        );
    };
    if a.is_ipv6() != b.is_ipv6() {
        return bad(
            format!("`{src}` and `{dst}` are of different address families"),
            "give two IPv4 or two IPv6 addresses",
        );
    }
    let proto = match crate::report::packet::parse_service(&model, service, a.is_ipv6()) {
        Ok(p) => p,
        Err(e) => {
            return bad(
                format!("cannot read the service `{service}`: {e}"),
                "for example tcp/443, udp/53, icmp/echo-request or https",
            );
        }
    };
    let verdict = crate::verify::verify(&model, &crate::verify::Options::default());
    let mut e = crate::report::packet::explain(&model, &verdict, a, b, proto);
    if let Some(dir) = bundle {
        let traced = read_manifest(dir, "give a directory written by `zonecheck compile`").and_then(|(_, files)| {
            let points = model.enforcement_points();
            let mut traced = Vec::new();
            for c in &e.carriers {
                for (rel, _, _) in files.iter().filter(|(_, d, _)| *d == c.device) {
                    let (text, format) = bundle_file(dir, rel, &c.device, &points)?;
                    traced.push(crate::report::packet::trace(c, format, rel, &text));
                }
            }
            Ok(traced)
        });
        match traced {
            Ok(t) => e.traced = t,
            Err(d) => {
                print_diags(&[d], &model.sources);
                return Exit::Input;
            }
        }
    }
    out(&crate::report::packet::render(&model, &e));
    if e.permitted() { Exit::Success } else { Exit::Violated }
}

pub(crate) fn report(
    path: &Path,
    lang: ReportLang,
    format: ReportFormat,
    bundle: Option<&Path>,
    output: Option<&Path>,
    config: Option<&Path>,
) -> Exit {
    let (model, config) = match load_with_config(path, config) {
        Ok(both) => both,
        Err(code) => return code,
    };
    let day = match today() {
        Ok(d) => d,
        Err(code) => return code,
    };
    let options = crate::verify::Options { deny_warnings: false, severities: config.severities() };
    let mut verdict = crate::verify::verify(&model, &options);
    crate::verify::expiry::apply(&model, &mut verdict, day);
    let bundle = match bundle.map(|dir| bundle_info(&model, dir, &config.acl_options())).transpose() {
        Ok(b) => b,
        Err(d) => {
            print_diags(&[d], &model.sources);
            return Exit::Input;
        }
    };
    let failed = !verdict.passes()
        || bundle.as_ref().is_some_and(|b| {
            b.files.iter().any(|f| f.verdict != "equal" || f.manifest_sha256.as_deref() != Some(f.sha256.as_str()))
        });
    let lang = match lang {
        ReportLang::Nb => Lang::Nb,
        ReportLang::En => Lang::En,
    };
    let options = crate::report::audit::Options { lang, today: day, bundle };
    let text = match format {
        ReportFormat::Html => crate::report::audit::html(&model, &verdict, &options),
        ReportFormat::Markdown => crate::report::audit::markdown(&model, &verdict, &options),
    };
    match output {
        None => out(&text),
        Some(file) => {
            if let Err(e) = write_atomically(file, text.as_bytes()) {
                print_diags(
                    &[Diag::error(code::REPORT_OUTPUT, Span::NONE, format!("cannot write {}: {e}", file.display()))
                        .help("check that the directory exists and is writable")],
                    &Sources::default(),
                );
                return Exit::Input;
            }
        }
    }
    if failed { Exit::Violated } else { Exit::Success }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum DiffFormat {
    Text,
    Json,
    Markdown,
}

/// A policy with its configuration and verdict (expired exceptions counted), for diff.
fn verified(path: &Path, day: crate::syntax::date::Date) -> Result<(crate::Model, crate::verify::Verdict), Exit> {
    let (model, config) = load_with_config(path, None)?;
    let options = crate::verify::Options { deny_warnings: false, severities: config.severities() };
    let mut verdict = crate::verify::verify(&model, &options);
    crate::verify::expiry::apply(&model, &mut verdict, day);
    Ok((model, verdict))
}

pub(crate) fn diff(old: &Path, new: &Path, format: DiffFormat, config: Option<&Path>) -> Exit {
    let day = match today() {
        Ok(d) => d,
        Err(code) => return code,
    };
    let (a, b) = match (verified(old, day), verified(new, day)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    // The stateless ACL answers depend on the client port range: take the new policy's
    // settings (or the given file) for both sides, so only the policy is compared.
    let acl = match crate::cli::load_config(new, config) {
        Ok(c) => c.acl_options(),
        Err(code) => return code,
    };
    let d = crate::report::diff::diff(
        &crate::report::diff::Side { model: &a.0, verdict: &a.1 },
        &crate::report::diff::Side { model: &b.0, verdict: &b.1 },
        &acl,
    );
    out(&match format {
        DiffFormat::Text => crate::report::diff::text(&d),
        DiffFormat::Json => crate::report::diff::json(&d),
        DiffFormat::Markdown => crate::report::diff::markdown(&d),
    });
    if d.is_same() { Exit::Success } else { Exit::Violated }
}
