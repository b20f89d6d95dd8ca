//! The `compile` command: verify (fail closed), compile in memory with the self-check,
//! write the bundle atomically, and list what was written.

use std::path::Path;

use crate::cli::{Exit, Laps, load_with_config, out, print_diags, today, use_color};
use crate::diagnostics::Sources;

pub(crate) fn run(
    path: &Path,
    output: Option<&Path>,
    templates: Option<&Path>,
    device: Option<String>,
    targets: Vec<crate::model::Target>,
    config: Option<&Path>,
) -> Exit {
    use crate::diagnostics::{Diag, Span, code};
    let mut laps = Laps::start();
    let (model, config) = match load_with_config(path, config) {
        Ok(both) => both,
        Err(code) => return code,
    };
    laps.lap("parse and resolve");
    let Some(out_dir) = output.map(Path::to_path_buf).or_else(|| config.output.dir.clone()) else {
        print_diags(
            &[Diag::error(code::COMPILE_OUTPUT, Span::NONE, "no output directory")
                .help("give `-o DIR`, or `[output] dir = \"…\"` in zonecheck.toml")],
            &Sources::default(),
        );
        return Exit::Input;
    };
    // Fail closed: no configuration for a policy that does not pass verify.
    let options = crate::verify::Options { deny_warnings: false, severities: config.severities() };
    let day = match today() {
        Ok(day) => day,
        Err(code) => return code,
    };
    let proved = match crate::verify::prove(&model, &options, day) {
        Ok(p) => p,
        Err(verdict) => {
            let text = crate::report::human::verdict(
                &model,
                &verdict,
                &crate::report::human::HumanOptions { color: use_color(), width: 100, all: false },
            );
            eprint!("{text}");
            eprintln!("error[{}]: verify fails, so nothing was compiled or written", code::COMPILE_REFUSED);
            return Exit::Violated;
        }
    };
    laps.lap("verify");
    let templates_dir = templates.map(Path::to_path_buf).or_else(|| config.output.templates.clone());
    let templates = match read_templates(templates_dir.as_deref()) {
        Ok(t) => t,
        Err(d) => {
            print_diags(&[d], &Sources::default());
            return Exit::Input;
        }
    };
    let mut options = crate::compile::Options { device, targets, acl: config.acl_options(), ..Default::default() };
    if let Some(g) = &config.windows.group {
        options.windows.group = g.clone();
    }
    if let Some(t) = &config.nftables.table {
        options.nftables.table = t.clone();
    }
    if let Some(r) = &config.nftables.log_rate {
        options.nftables.log_rate = r.clone();
    }
    // The bundle this one replaces: its manifest names the ACLs the switch files roll back to.
    let previous = crate::compile::bundle::read_previous(&out_dir);
    if let Some(p) = &previous {
        options.previous = crate::compile::bundle::previous_files(p);
    }
    // Fail closed on our own mistakes: compile reads every generated file back, and it must
    // permit exactly what the policy permits before anything is written.
    laps.lap("templates, previous bundle");
    let bundle = match crate::compile::compile(&proved, &options, &templates) {
        Ok(b) => b,
        Err(crate::compile::Refusal::Diags(diags)) => {
            print_diags(&diags, &model.sources);
            return Exit::Input;
        }
        // `compile` takes the proof made above; only `compile_model` proves on its own.
        Err(crate::compile::Refusal::Unproved(_)) => return Exit::Violated,
        Err(crate::compile::Refusal::SelfCheck { bundle, mismatched }) => {
            if !bundle.warnings.is_empty() {
                print_diags(&bundle.warnings, &model.sources);
            }
            return self_check_failed(&model, &bundle, mismatched);
        }
    };
    if !bundle.warnings.is_empty() {
        print_diags(&bundle.warnings, &model.sources);
    }
    let verdict = proved.verdict();
    let proved: Vec<&str> = verdict.classes.iter().map(|c| model.class(c.class).name.as_str()).collect();
    let verdict_line =
        format!("PROVED ({})", if proved.is_empty() { "no confined class".to_string() } else { proved.join(", ") });
    laps.lap("lower, render, self-check");
    let files = crate::compile::bundle::contents(&bundle, previous.as_ref(), &verdict_line);
    laps.lap("manifest and summary");
    let written = crate::compile::bundle::write(&out_dir, &files);
    laps.lap("write");
    match written {
        Ok(()) => {
            let mut text = format!(
                "wrote {} device file{} to {}\n",
                bundle.files.len(),
                if bundle.files.len() == 1 { "" } else { "s" },
                out_dir.display()
            );
            for f in &bundle.files {
                let what = match f.target {
                    crate::model::Target::Nftables => format!(
                        "{:>5} {:<5} {:>7} {}",
                        f.rules,
                        if f.rules == 1 { "rule" } else { "rules" },
                        f.elements,
                        if f.elements == 1 { "set element" } else { "set elements" }
                    ),
                    crate::model::Target::Windows => {
                        format!("{:>5} {}", f.rules, if f.rules == 1 { "firewall rule" } else { "firewall rules" })
                    }
                    _ => format!("{:>5} {}", f.rules, if f.rules == 1 { "ACL entry" } else { "ACL entries" }),
                };
                text.push_str(&format!("  {:<40} {what}\n", f.path));
            }
            for f in &bundle.files {
                if let Some(limit) = f.tcam.filter(|l| f.rules as u64 > *l) {
                    text.push_str(&format!(
                        "warning: {} needs {} ACL entries, above its TCAM budget of {limit}\n",
                        f.device, f.rules
                    ));
                }
            }
            out(&text);
            Exit::Success
        }
        Err(e @ crate::compile::bundle::WriteError::NotABundle(_)) => {
            print_diags(
                &[Diag::error(code::COMPILE_OUTPUT, Span::NONE, e.to_string())
                    .help("choose an empty or new directory, or one that holds a zonecheck bundle")],
                &Sources::default(),
            );
            Exit::Input
        }
        Err(e) => {
            eprintln!("error[{}]: {e}", code::COMPILE_OUTPUT);
            Exit::Internal
        }
    }
}

/// Compile's self-check refused a generated file: the differences, as `check` shows them.
fn self_check_failed(
    model: &crate::Model,
    bundle: &crate::compile::Bundle,
    mismatched: Vec<crate::check::DeviceCheck>,
) -> Exit {
    use crate::diagnostics::{Diag, Span, code};
    let mut checked = crate::report::check::Checked {
        sources: model.sources.clone(),
        files: Vec::new(),
        devices: Vec::new(),
        notes: Vec::new(),
    };
    for d in mismatched {
        let text =
            bundle.files.iter().find(|f| f.path == d.file).map(|f| String::from_utf8_lossy(&f.bytes).into_owned());
        checked.files.push(checked.sources.add(d.file.clone(), text.unwrap_or_default()));
        checked.devices.push(d);
    }
    eprint!("{}", crate::report::check::human(model, &checked, use_color()));
    let names: Vec<&str> = checked.devices.iter().map(|d| d.file.as_str()).collect();
    print_diags(
        &[Diag::error(
            code::COMPILE_SELF_CHECK,
            Span::NONE,
            format!("the generated {} do not permit exactly what the policy permits", names.join(", ")),
        )
        .help("nothing was written; this is a bug in zonecheck or in the templates given with --templates")],
        &Sources::default(),
    );
    Exit::Internal
}

/// The templates, with the files of a `--templates` directory (it mirrors `targets/`)
/// replacing the built-ins they name.
fn read_templates(dir: Option<&Path>) -> Result<crate::targets::Templates, crate::diagnostics::Diag> {
    use crate::diagnostics::{Diag, Span, code};
    let mut overrides = Vec::new();
    for name in crate::targets::Templates::names() {
        let Some(path) = dir.map(|d| d.join(name)).filter(|p| p.exists()) else { continue };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Diag::error(code::COMPILE_TEMPLATE, Span::NONE, format!("cannot read template `{}`: {e}", path.display()))
                .help("a --templates directory mirrors `targets/`: e.g. `nftables/firewall.nft.j2`")
        })?;
        overrides.push((name, text));
    }
    crate::targets::Templates::with_overrides(overrides)
}
