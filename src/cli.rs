//! The command line: parse arguments, run one command, map the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostics::{Diag, Sources, render};
use crate::syntax;

/// Exit codes of DESIGN.md §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Success = 0,
    Violated = 1,
    Input = 2,
    Internal = 3,
}

#[derive(Parser, Debug)]
#[command(
    name = "zonecheck",
    version,
    about = "Prove, compile and check network zone policies for sensitive municipal data"
)]
pub(crate) struct Cli {
    /// Colour in output: auto (a terminal, and NO_COLOR unset), always or never
    #[arg(long, value_enum, global = true, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Default)]
pub(crate) enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Rewrite policy files in canonical layout (comments are kept)
    ///
    /// `zonecheck fmt -` reads one policy file from stdin and writes it formatted to stdout.
    Fmt {
        /// Do not write; print a unified diff and exit 1 if any file is not in canonical layout
        #[arg(long)]
        check: bool,
        /// A `.zc` file, a directory of them, or `-` for stdin
        path: PathBuf,
    },
    /// Write a small commented starter policy that verifies and compiles as written
    Init {
        /// The directory to write `policy.zc` and `zonecheck.toml` into (created if missing)
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout: `zonecheck man > zonecheck.1`
    Man,
    /// Prove that every confined data class stays in its allowed zones
    Verify {
        /// A `.zc` file or a directory of them
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// `--deny warnings` makes warnings fail the run
        #[arg(long, value_name = "warnings")]
        deny: Option<Deny>,
        /// Show every violation, not a summary
        #[arg(long)]
        all: bool,
        /// zonecheck.toml to use (default: beside the policy)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Compile a proved policy into a bundle of device configurations
    Compile {
        /// A `.zc` file or a directory of them
        path: PathBuf,
        /// The bundle directory (replaced atomically; default from zonecheck.toml `[output] dir`)
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// A directory of templates overriding the built-in ones (same layout as `targets/`)
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Only this firewall, switch or host
        #[arg(long)]
        device: Option<String>,
        /// Only these targets: nftables, windows, cisco-ios, aruba-aoscx, junos, arista-eos
        #[arg(long, value_delimiter = ',', value_parser = parse_target)]
        target: Vec<crate::model::Target>,
        /// zonecheck.toml to use (default: beside the policy)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check that device configurations permit exactly what the policy permits
    ///
    /// Give a bundle directory written by `compile`, or one device and a file: a generated
    /// file or a live dump (`nft -j list ruleset`, `show running-config`, the Windows JSON
    /// export). Exit 1 on any difference, with a witness packet for each.
    Check {
        /// A `.zc` file or a directory of them
        path: PathBuf,
        /// A bundle directory written by `compile`
        bundle: Option<PathBuf>,
        /// A device and the file to check it from; repeat for several devices
        #[arg(long, num_args = 2, value_names = ["NAME", "FILE"], action = clap::ArgAction::Append, conflicts_with = "bundle")]
        device: Vec<String>,
        /// Read the file as this format instead of telling it from the device and content:
        /// nft, nft-json, cisco-ios, arista-eos, aruba-aoscx, junos, windows-script, windows-json
        #[arg(long = "as", value_parser = parse_check_format)]
        input_format: Option<crate::check::Format>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// zonecheck.toml to use (default: beside the policy)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Show how two systems, zones or groups exchange data and which classes travel
    ///
    /// With two IP addresses and a service (`10.40.11.11 10.40.10.10 tcp/443`): which flow
    /// permits that packet, which classes travel, which devices carry it and, with
    /// --bundle, which rule in each device's file decides it. Exit 1 if no flow permits it.
    Explain {
        path: PathBuf,
        from: String,
        to: String,
        /// A service for a packet: tcp/PORT, udp/PORT, icmp/TYPE, icmpv6/TYPE, proto/N or a name
        service: Option<String>,
        /// A bundle directory written by `compile`: trace the packet through its files
        #[arg(long, requires = "service")]
        bundle: Option<PathBuf>,
    },
    /// Write the audit report: per confined class where it is, who reaches it, exports,
    /// processors, assumptions and enforcement points; exceptions; with --bundle, every
    /// device file's sha256 and check result. Exit 1 when the policy does not pass.
    Report {
        /// A `.zc` file or a directory of them
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = crate::commands::ReportLang::Nb)]
        lang: crate::commands::ReportLang,
        #[arg(long, value_enum, default_value_t = crate::commands::ReportFormat::Html)]
        format: crate::commands::ReportFormat,
        /// A bundle directory written by `compile`: list and check its files
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// Write the report here (default: standard output)
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// zonecheck.toml to use (default: beside the policy)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Compare two versions of a policy by meaning: per confined class what it reaches,
    /// its exports, assumptions and processors; exceptions; each device's packet space,
    /// with a witness packet. Exit 0 when the meaning is the same, 1 when it changed.
    Diff {
        /// The policy before (a `.zc` file or a directory)
        old: PathBuf,
        /// The policy after
        new: PathBuf,
        #[arg(long, value_enum, default_value_t = crate::commands::DiffFormat::Text)]
        format: crate::commands::DiffFormat,
        /// zonecheck.toml whose ACL settings both sides are compared with (default: beside NEW)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Draw the policy: zones and the devices between them (default), every system and flow
    /// (`--view systems`), or one class: where it may be, where it is, its leaks in red
    /// (`--class NAME`). Each view has a legend. `--format svg` runs Graphviz's `dot`.
    Graph {
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Which view to draw
        #[arg(long, value_enum, default_value_t = GraphView::Zones, conflicts_with = "class")]
        view: GraphView,
        /// Draw one class: where it may be, where it is, where it leaks
        #[arg(long, value_name = "NAME")]
        class: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Human,
    Json,
    Sarif,
    Junit,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum Deny {
    Warnings,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum GraphFormat {
    Dot,
    Mermaid,
    /// SVG, drawn by Graphviz's `dot` (which must be installed)
    Svg,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum GraphView {
    /// Zones, coloured by trust, and the firewalls and switches between them
    Zones,
    /// Every zone with its systems, and every flow
    Systems,
}

pub fn main() -> std::process::ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    // clap's own help and errors follow `--color` too (it honours NO_COLOR by itself).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let choice = match color_arg(&args) {
        Some(ColorWhen::Always) => clap::ColorChoice::Always,
        Some(ColorWhen::Never) => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    };
    let matches = Cli::command().color(choice).get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let code = run(cli);
    std::process::ExitCode::from(code as u8)
}

pub(crate) fn run(cli: Cli) -> Exit {
    COLOR.store(cli.color as u8, std::sync::atomic::Ordering::Relaxed);
    match cli.command {
        Command::Fmt { check, path } => fmt(&path, check),
        Command::Init { dir } => crate::init::run(&dir),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "zonecheck", &mut buf);
            out(&String::from_utf8_lossy(&buf));
            Exit::Success
        }
        Command::Man => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut buf) {
                Ok(()) => {
                    out(&String::from_utf8_lossy(&buf));
                    Exit::Success
                }
                Err(e) => {
                    eprintln!("zonecheck: cannot render the manual page: {e}");
                    Exit::Internal
                }
            }
        }
        Command::Graph { path, format, view, class } => graph(&path, format, view, class.as_deref()),
        Command::Verify { path, format, deny, all, config } => {
            verify(&path, format, deny.is_some(), all, config.as_deref())
        }
        Command::Explain { path, from, to, service: None, .. } => explain(&path, &from, &to),
        Command::Explain { path, from, to, service: Some(service), bundle } => {
            crate::commands::explain_packet(&path, &from, &to, &service, bundle.as_deref())
        }
        Command::Diff { old, new, format, config } => crate::commands::diff(&old, &new, format, config.as_deref()),
        Command::Report { path, lang, format, bundle, output, config } => {
            crate::commands::report(&path, lang, format, bundle.as_deref(), output.as_deref(), config.as_deref())
        }
        Command::Check { path, bundle, device, input_format, format, config } => {
            crate::commands::check::run(&path, bundle.as_deref(), device, input_format, format, config.as_deref())
        }
        Command::Compile { path, output, templates, device, target, config } => crate::commands::compile::run(
            &path,
            output.as_deref(),
            templates.as_deref(),
            device,
            target,
            config.as_deref(),
        ),
    }
}

/// Write to stdout; a closed pipe (`zonecheck … | head`) is not an error worth a panic.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// The last `--color WHEN` or `--color=WHEN` before a `--`, read before clap parses.
fn color_arg(args: &[std::ffi::OsString]) -> Option<ColorWhen> {
    let mut found = None;
    let mut it = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        let value = match a.as_ref() {
            "--" => break,
            "--color" => it.next().map(|v| v.into_owned()),
            other => other.strip_prefix("--color=").map(str::to_string),
        };
        if let Some(v) = value {
            found = ColorWhen::from_str(&v, false).ok().or(found);
        }
    }
    found
}

/// `--color`, as [`ColorWhen`] discriminant; set once per run.
static COLOR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(ColorWhen::Auto as u8);

/// Colour for a stream, by `--color` and the environment.
pub(crate) fn color_for(terminal: bool) -> bool {
    let when = match COLOR.load(std::sync::atomic::Ordering::Relaxed) {
        x if x == ColorWhen::Always as u8 => ColorWhen::Always,
        x if x == ColorWhen::Never as u8 => ColorWhen::Never,
        _ => ColorWhen::Auto,
    };
    decide_color(when, terminal, std::env::var_os("NO_COLOR").as_deref())
}

/// `--color always|never` decides; `auto` colours a terminal unless `NO_COLOR` is set to
/// anything but the empty string (no-color.org: a flag overrides the variable).
pub(crate) fn decide_color(when: ColorWhen, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

/// Colour for diagnostics on stderr.
pub(crate) fn use_color() -> bool {
    color_for(std::io::stderr().is_terminal())
}

/// Print diagnostics to stderr, as the terminal allows.
pub(crate) fn print_diags(diags: &[Diag], sources: &Sources) {
    let text = render(diags, sources, use_color(), 100);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let errors = diags.iter().filter(|d| d.severity == crate::diagnostics::Severity::Error).count();
    if errors > 0 {
        let _ = writeln!(err, "zonecheck: {errors} error{}", if errors == 1 { "" } else { "s" });
    }
}

pub(crate) fn load(path: &Path) -> Result<crate::Model, Exit> {
    crate::load_policy(path).map_err(|e| {
        print_diags(&e.diags, &e.sources);
        Exit::Input
    })
}

fn fmt(path: &Path, check: bool) -> Exit {
    if path == Path::new("-") {
        return fmt_stdin(check);
    }
    let sources = match syntax::load(path) {
        Ok(s) => s,
        Err(diags) => {
            print_diags(&diags, &Sources::default());
            return Exit::Input;
        }
    };
    let parsed = syntax::parse_sources(sources);
    if !parsed.diags.is_empty() {
        print_diags(&parsed.diags, &parsed.sources);
        return Exit::Input;
    }
    let mut unformatted = 0;
    let color = color_for(std::io::stdout().is_terminal());
    for (ast, (_, file)) in parsed.files.iter().zip(parsed.sources.iter()) {
        let formatted = syntax::fmt::format_file(ast, &file.text);
        if formatted == *file.text {
            continue;
        }
        if check {
            out(&crate::udiff::unified(&file.name, &file.text, &formatted, color));
            unformatted += 1;
        } else if let Err(e) = write_atomically(Path::new(&file.name), formatted.as_bytes()) {
            eprintln!("zonecheck: cannot write {}: {e}", file.name);
            return Exit::Internal;
        } else {
            out(&format!("reformatted {}\n", file.name));
        }
    }
    if unformatted > 0 {
        eprintln!("zonecheck: {unformatted} file{} would be reformatted", if unformatted == 1 { "" } else { "s" });
        Exit::Violated
    } else {
        Exit::Success
    }
}

/// `fmt -`: one policy file from stdin, formatted to stdout (editors' format-on-save);
/// with `--check`, the diff instead and exit 1 when it would change.
fn fmt_stdin(check: bool) -> Exit {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        print_diags(
            &[Diag::error(
                crate::diagnostics::code::IO_UNREADABLE,
                crate::diagnostics::Span::NONE,
                format!("cannot read stdin: {e}"),
            )
            .help("pipe a policy file into `zonecheck fmt -`")],
            &Sources::default(),
        );
        return Exit::Input;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        print_diags(
            &[Diag::error(
                crate::diagnostics::code::IO_NOT_UTF8,
                crate::diagnostics::Span::NONE,
                "stdin is not UTF-8 text",
            )
            .help("policies are UTF-8; convert the file (iconv -t UTF-8)")],
            &Sources::default(),
        );
        return Exit::Input;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let parsed = syntax::parse_str("<stdin>", text);
    if !parsed.diags.is_empty() {
        print_diags(&parsed.diags, &parsed.sources);
        return Exit::Input;
    }
    let Some(ast) = parsed.files.first() else { return Exit::Internal };
    let formatted = syntax::fmt::format_file(ast, text);
    if !check {
        out(&formatted);
        return Exit::Success;
    }
    if formatted == text {
        return Exit::Success;
    }
    out(&crate::udiff::unified("<stdin>", text, &formatted, color_for(std::io::stdout().is_terminal())));
    Exit::Violated
}

/// Write a file by writing a temporary file beside it and renaming it into place.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.zonecheck-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn graph(path: &Path, format: GraphFormat, view: GraphView, class: Option<&str>) -> Exit {
    use crate::diagnostics::{Diag, Span, code};
    use crate::report::graph::{self, SvgError, View};
    let model = match load(path) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let view = match (class, view) {
        (Some(name), _) => match model.class_by_name(name) {
            Some(c) => View::Class(c),
            None => {
                let hint = crate::diagnostics::did_you_mean(name, model.classes.iter().map(|c| c.name.as_str()));
                let names: Vec<&str> = model.classes.iter().map(|c| c.name.as_str()).collect();
                let help = if !hint.is_empty() {
                    hint
                } else if names.is_empty() {
                    "the policy declares no class".to_string()
                } else {
                    format!("the policy's classes are: {}", names.join(", "))
                };
                print_diags(
                    &[Diag::error(code::GRAPH_UNKNOWN_CLASS, Span::NONE, format!("the policy has no class `{name}`"))
                        .help(help)],
                    &Sources::default(),
                );
                return Exit::Input;
            }
        },
        (None, GraphView::Zones) => View::Zones,
        (None, GraphView::Systems) => View::Systems,
    };
    match format {
        GraphFormat::Dot => out(&graph::dot(&model, view)),
        GraphFormat::Mermaid => out(&graph::mermaid(&model, view)),
        GraphFormat::Svg => match graph::svg(&model, view) {
            Ok(bytes) => {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(&bytes);
                let _ = stdout.flush();
            }
            Err(SvgError::NoGraphviz) => {
                print_diags(
                    &[Diag::error(
                        code::GRAPH_SVG,
                        Span::NONE,
                        "--format svg needs Graphviz's `dot`, and it is not installed (not on PATH)",
                    )
                    .help(
                        "install Graphviz (`apt-get install graphviz`, `brew install graphviz`), or write DOT \
                         with `--format dot` and draw it elsewhere, or use `--format mermaid`",
                    )],
                    &Sources::default(),
                );
                return Exit::Input;
            }
            Err(SvgError::Dot(why)) => {
                print_diags(
                    &[Diag::error(code::GRAPH_SVG, Span::NONE, format!("Graphviz could not draw the graph: {why}"))
                        .help("this is a bug in zonecheck: please report it with the policy's `--format dot` output")],
                    &Sources::default(),
                );
                return Exit::Internal;
            }
        },
    }
    Exit::Success
}

pub(crate) fn load_config(path: &Path, config: Option<&Path>) -> Result<crate::config::Config, Exit> {
    let mut config_sources = Sources::default();
    crate::config::load(path, config, &mut config_sources).map_err(|diags| {
        print_diags(&diags, &config_sources);
        Exit::Input
    })
}

/// Today, for `allow … until`: `ZONECHECK_TODAY=YYYY-MM-DD` when set (reproducible runs
/// and tests), else the UTC date of the system clock.
pub(crate) fn today() -> Result<crate::syntax::date::Date, Exit> {
    use crate::syntax::date::Date;
    match std::env::var("ZONECHECK_TODAY") {
        Ok(text) => Date::parse(text.trim()).ok_or_else(|| {
            print_diags(
                &[Diag::error(
                    crate::diagnostics::code::SYNTAX_INVALID_DATE,
                    crate::diagnostics::Span::NONE,
                    format!("ZONECHECK_TODAY=`{text}` is not a date"),
                )
                .help("set it as YYYY-MM-DD, or unset it to use the system clock")],
                &Sources::default(),
            );
            Exit::Input
        }),
        Err(_) => Ok(Date::today_utc()),
    }
}

/// The policy and its zonecheck.toml, or the exit code after printing why not.
pub(crate) fn load_with_config(
    path: &Path,
    config: Option<&Path>,
) -> Result<(crate::Model, crate::config::Config), Exit> {
    Ok((load(path)?, load_config(path, config)?))
}

fn verify(path: &Path, format: Format, deny_warnings: bool, all: bool, config: Option<&Path>) -> Exit {
    let mut laps = Laps::start();
    let (model, config) = match load_with_config(path, config) {
        Ok(both) => both,
        Err(code) => return code,
    };
    laps.lap("parse and resolve");
    let options = crate::verify::Options { deny_warnings, severities: config.severities() };
    let mut verdict = crate::verify::verify(&model, &options);
    laps.lap("verify");
    match today() {
        Ok(day) => crate::verify::expiry::apply(&model, &mut verdict, day),
        Err(code) => return code,
    }
    let text = match format {
        Format::Human => crate::report::human::verdict(
            &model,
            &verdict,
            &crate::report::human::HumanOptions { color: color_for(std::io::stdout().is_terminal()), width: 100, all },
        ),
        Format::Json => crate::report::json::to_string(&model, &verdict),
        Format::Sarif => repository_relative(&crate::report::sarif::to_string(&model, &verdict)),
        Format::Junit => crate::report::junit::to_string(&model, &verdict),
    };
    out(&text);
    laps.lap("report");
    if verdict.passes() { Exit::Success } else { Exit::Violated }
}

/// SARIF with URIs relative to the enclosing git repository (the directory holding
/// `.git`, searched upwards from the working directory), as code scanning expects; as
/// given when there is none.
pub(crate) fn repository_relative(sarif: &str) -> String {
    let Ok(cwd) = std::env::current_dir() else { return sarif.to_string() };
    match cwd.ancestors().find(|d| d.join(".git").exists()) {
        Some(root) => crate::report::sarif::rebase(sarif, &cwd, root),
        None => sarif.to_string(),
    }
}

fn explain(path: &Path, from: &str, to: &str) -> Exit {
    let model = match load(path) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let resolve = |name: &str| {
        crate::verify::explain::endpoint_nodes(&model, name).ok_or_else(|| {
            let all = model
                .systems
                .iter()
                .map(|s| s.name.as_str())
                .chain(model.zones.iter().map(|z| z.name.as_str()))
                .chain(model.groups.iter().map(|g| g.name.as_str()));
            let hint = crate::diagnostics::did_you_mean(name, all);
            eprintln!(
                "error[{}]: no system, zone or group is named `{name}`",
                crate::diagnostics::code::RESOLVE_UNKNOWN_ENDPOINT
            );
            if !hint.is_empty() {
                eprintln!("  help: {hint}");
            }
        })
    };
    let (Ok((_, a)), Ok((_, b))) = (resolve(from), resolve(to)) else { return Exit::Input };
    let verdict = crate::verify::verify(&model, &crate::verify::Options::default());
    let e = crate::verify::explain::explain(&model, &verdict.taint, a, b);
    out(&crate::report::explain::render(&model, from, to, &e));
    Exit::Success
}

fn parse_check_format(s: &str) -> Result<crate::check::Format, String> {
    crate::check::Format::parse(s).ok_or_else(|| {
        let names: Vec<&str> = crate::check::Format::ALL.iter().map(|(_, n)| *n).collect();
        format!("unknown format `{s}`; formats are {}", names.join(", "))
    })
}

/// One file of a bundle's manifest: path inside the bundle, device, recorded sha256.
pub(crate) type ManifestFile = (String, String, Option<String>);

/// A bundle's `manifest.json`: the policy digest it was compiled from and its files. Paths
/// come from the manifest, so any that leave the bundle are refused. `help` says what to
/// give instead when there is no readable manifest.
pub(crate) fn read_manifest(dir: &Path, help: &str) -> Result<(Option<String>, Vec<ManifestFile>), Diag> {
    use crate::diagnostics::{Span, code};
    let input = |msg: String| Diag::error(code::CHECK_INPUT, Span::NONE, msg);
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| input(format!("cannot read {}: {e}", manifest_path.display())).help(help))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| input(format!("{} is not JSON: {e}", manifest_path.display())).help("recompile the bundle"))?;
    let mut files = Vec::new();
    for f in manifest["files"].as_array().into_iter().flatten() {
        let (Some(rel), Some(device)) = (f["path"].as_str(), f["device"].as_str()) else {
            return Err(input(format!("{} lists a file without path or device", manifest_path.display()))
                .help("recompile the bundle"));
        };
        if rel.split('/').any(|p| p == ".." || p.is_empty()) || rel.starts_with('/') {
            return Err(input(format!("{} lists a path outside the bundle: {rel}", manifest_path.display()))
                .help("recompile the bundle"));
        }
        files.push((rel.to_string(), device.to_string(), f["sha256"].as_str().map(str::to_string)));
    }
    Ok((manifest["policy"]["sha256"].as_str().map(str::to_string), files))
}

/// A file as text (a UTF-8 BOM is kept for the readers that care, like PowerShell).
pub(crate) fn read_text(path: &Path) -> Result<String, Diag> {
    use crate::diagnostics::{Span, code};
    let bytes = std::fs::read(path).map_err(|e| {
        Diag::error(code::CHECK_INPUT, Span::NONE, format!("cannot read {}: {e}", path.display()))
            .help("check the path and permissions")
    })?;
    String::from_utf8(bytes).map_err(|_| {
        Diag::error(code::CHECK_INPUT, Span::NONE, format!("{} is not UTF-8 text", path.display()))
            .help("save the dump as UTF-8 (PowerShell: Set-Content -Encoding UTF8)")
    })
}

/// `ZONECHECK_TIMINGS=1`: the wall time of each stage of a command on stderr, and the
/// process's peak memory so far where Linux tells it, for profiling (not a stable format).
pub(crate) struct Laps {
    on: bool,
    last: std::time::Instant,
}

impl Laps {
    pub(crate) fn start() -> Laps {
        Laps { on: std::env::var_os("ZONECHECK_TIMINGS").is_some(), last: std::time::Instant::now() }
    }

    pub(crate) fn lap(&mut self, stage: &str) {
        if self.on {
            let peak = peak_rss_kib().map(|k| format!(", peak {} MB", k / 1024)).unwrap_or_default();
            eprintln!("timing: {stage:<24} {:>9.1} ms{peak}", self.last.elapsed().as_secs_f64() * 1e3);
            self.last = std::time::Instant::now();
        }
    }
}

/// The process's peak resident memory (`VmHWM`). Unlike a parent's `getrusage` of its
/// children, it does not count the parent's memory a child shared before `exec`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn parse_target(s: &str) -> Result<crate::model::Target, String> {
    crate::model::Target::parse(s).ok_or_else(|| {
        let names: Vec<&str> = crate::model::Target::ALL.iter().map(|t| t.name()).collect();
        format!("unknown target `{s}`; targets are {}", names.join(", "))
    })
}
