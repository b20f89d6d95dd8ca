//! The `check` command: the files of a bundle (by its manifest) or of `--device NAME FILE`
//! pairs, each read in its format and compared with what the policy says its device must
//! permit (DESIGN.md §6), in parallel; the report in the format asked for.

use std::io::IsTerminal;
use std::path::Path;

use crate::cli::{
    Exit, Format, Laps, color_for, load_with_config, out, print_diags, read_manifest, read_text, repository_relative,
};
use crate::diagnostics::Diag;

/// One file to check: device, path shown, text.
type CheckFile = (String, String, String);

/// The files of a bundle, by its manifest, and the digest of the policy it was compiled
/// from (when the manifest records one).
fn bundle_files(dir: &Path) -> Result<(Vec<CheckFile>, Option<String>), Diag> {
    let (policy_sha256, listed) = read_manifest(
        dir,
        "give a directory written by `zonecheck compile`, or check one file with --device NAME FILE",
    )?;
    // Thousands of small files: read on every core, in manifest order (the first error in
    // that order is the one reported).
    use rayon::prelude::*;
    let files = listed
        .into_par_iter()
        .map(|(rel, device, _)| {
            let path = dir.join(rel);
            read_text(&path).map(|text| (device, path.display().to_string(), text))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok((files, policy_sha256))
}

/// The files to check: a bundle's (with the digest of the policy it was compiled from), or
/// the `--device NAME FILE` pairs. Needs no model, so it runs while the policy is parsed.
fn read_files(bundle: Option<&Path>, device: &[String]) -> Result<(Vec<CheckFile>, Option<String>), Diag> {
    use crate::diagnostics::{Span, code};
    match bundle {
        Some(dir) => bundle_files(dir),
        None if device.is_empty() => Err(Diag::error(code::CHECK_INPUT, Span::NONE, "nothing to check")
            .help("give a bundle directory, or --device NAME FILE (repeatable)")),
        // clap hands over NAME FILE pairs.
        None => device
            .chunks(2)
            .map(|pair| match pair {
                [name, file] => read_text(Path::new(file)).map(|t| (name.clone(), file.clone(), t)),
                _ => Err(Diag::error(code::CHECK_INPUT, Span::NONE, "--device takes a name and a file")
                    .help("--device fw-kjerne fw-kjerne.json")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|files| (files, None)),
    }
}

pub(crate) fn run(
    path: &Path,
    bundle: Option<&Path>,
    device: Vec<String>,
    input_format: Option<crate::check::Format>,
    format: Format,
    config: Option<&Path>,
) -> Exit {
    use crate::diagnostics::{Span, code};
    let mut laps = Laps::start();
    // The files are read while the policy is parsed and resolved; a policy that does not
    // load is reported before any file.
    let (loaded, files) = rayon::join(|| load_with_config(path, config), || read_files(bundle, &device));
    let (model, config) = match loaded {
        Ok(both) => both,
        Err(code) => return code,
    };
    laps.lap("parse and resolve, read files");
    let (files, compiled_from) = match files {
        Ok(f) => f,
        Err(d) => {
            print_diags(&[d], &model.sources);
            return Exit::Input;
        }
    };
    // The policy's digest (hashing megabytes of policy) beside the expectations.
    let (expected, digest) = rayon::join(
        || crate::check::intended::Expectations::of(&model),
        || compiled_from.as_ref().map(|_| crate::compile::policy_digest(&model).0),
    );
    let mut notes = Vec::new();
    if compiled_from.is_some() && compiled_from != digest {
        notes.push(
            "the bundle was compiled from another version of the policy; it is checked against this one".to_string(),
        );
    }
    laps.lap("expectations");
    let points = model.enforcement_points();
    let by_name: std::collections::BTreeMap<&str, &crate::model::EnforcementPoint> =
        points.iter().map(|d| (d.name.as_str(), d)).collect();
    // Every file must name a device and fit its target before any is checked.
    let mut jobs = Vec::new();
    let mut errors = Vec::new();
    for (name, file, text) in files {
        let Some(rules) = by_name.get(name.as_str()) else {
            errors.push(
                Diag::error(
                    code::CHECK_INPUT,
                    Span::NONE,
                    format!("`{name}` is no firewall, switch or host of the policy"),
                )
                .help(crate::diagnostics::did_you_mean(&name, by_name.keys().copied())),
            );
            continue;
        };
        if let Some(other) = crate::check::origin::named_device(&text).filter(|o| *o != name && by_name.contains_key(o))
        {
            errors.push(
                Diag::error(
                    code::CHECK_INPUT,
                    Span::NONE,
                    format!("{file} was generated for `{other}`, not for `{name}`: its header names `{other}`"),
                )
                .help(format!("check it as `--device {other} {file}`, or give the file of `{name}`")),
            );
            continue;
        }
        let Some(fmt) = input_format
            .or_else(|| crate::check::Format::detect(rules.target, &file, &text))
            .filter(|f| f.fits(rules.target))
        else {
            errors.push(
                Diag::error(code::CHECK_INPUT, Span::NONE, format!("{file} cannot hold the rules of `{name}`"))
                    .help("give --as with a format that fits the device's target"),
            );
            continue;
        };
        jobs.push((*rules, fmt, file, text));
    }
    if !errors.is_empty() {
        print_diags(&errors, &model.sources);
        return Exit::Input;
    }
    if bundle.is_some() {
        // A bundle may have been compiled for some targets or devices only: say what it
        // leaves unchecked rather than pass over it.
        let present: std::collections::BTreeSet<&str> = jobs.iter().map(|(r, ..)| r.name.as_str()).collect();
        let missing: Vec<&str> = points.iter().map(|d| d.name.as_str()).filter(|n| !present.contains(n)).collect();
        if !missing.is_empty() {
            notes.push(format!("not in the bundle, so not checked: {}", missing.join(", ")));
        }
    }
    let acl = config.acl_options();
    let mut checked =
        crate::report::check::Checked { sources: model.sources.clone(), files: Vec::new(), devices: Vec::new(), notes };
    // Devices are checked in parallel (one shared, read-only model and lowering); the
    // report lists them in the order given, as a serial run would.
    let results: Vec<crate::check::DeviceCheck> = {
        use rayon::prelude::*;
        jobs.par_iter()
            .map(|(point, fmt, file, text)| crate::check::check_expected(&expected, point, *fmt, file, text, &acl))
            .collect()
    };
    crate::check::report_small_device_timings();
    laps.lap("check devices");
    for ((_, _, file, text), result) in jobs.into_iter().zip(results) {
        checked.files.push(checked.sources.add(file, text));
        checked.devices.push(result);
    }
    let text = match format {
        Format::Human => crate::report::check::human(&model, &checked, color_for(std::io::stdout().is_terminal())),
        Format::Json => crate::report::check::json(&checked),
        Format::Sarif => repository_relative(&crate::report::check::sarif(&model, &checked)),
        Format::Junit => crate::report::check::junit(&checked),
    };
    out(&text);
    laps.lap("report");
    match checked.verdict() {
        "equal" => Exit::Success,
        // A construct the reader does not model, or a file cut off: neither equal nor
        // proven different (DESIGN.md §6).
        "cannot-decide" => Exit::Input,
        _ => Exit::Violated,
    }
}
