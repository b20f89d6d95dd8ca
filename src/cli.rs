//! The command line: parse arguments, run one command, map the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostics::{Diag, Sources, render};
use crate::syntax;

/// Exit codes of DESIGN.md §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Violated = 1,
    Input = 2,
    Internal = 3,
}

#[derive(Parser, Debug)]
#[command(name = "zonecheck", version, about = "Prove, compile and check network zone policies for sensitive municipal data")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Rewrite policy files in canonical layout (comments are kept)
    Fmt {
        /// Do not write; exit 1 if any file is not in canonical layout
        #[arg(long)]
        check: bool,
        /// A `.zc` file or a directory of them
        path: PathBuf,
    },
    /// Print the resolved model as a graph
    Graph {
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let code = run(cli);
    std::process::ExitCode::from(code as u8)
}

pub fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Fmt { check, path } => fmt(&path, check),
        Command::Graph { path, format } => graph(&path, format),
    }
}

fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Print diagnostics to stderr, as the terminal allows.
pub fn print_diags(diags: &[Diag], sources: &Sources) {
    let text = render(diags, sources, use_color(), 100);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let errors = diags.iter().filter(|d| d.severity == crate::diagnostics::Severity::Error).count();
    if errors > 0 {
        let _ = writeln!(err, "zonecheck: {errors} error{}", if errors == 1 { "" } else { "s" });
    }
}

fn load(path: &Path) -> Result<crate::Model, Exit> {
    crate::load_policy(path).map_err(|e| {
        print_diags(&e.diags, &e.sources);
        Exit::Input
    })
}

fn fmt(path: &Path, check: bool) -> Exit {
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
    for (ast, (_, file)) in parsed.files.iter().zip(parsed.sources.iter()) {
        let formatted = syntax::fmt::format_file(ast, &file.text);
        if formatted == *file.text {
            continue;
        }
        if check {
            println!("would reformat {}", file.name);
            unformatted += 1;
        } else if let Err(e) = write_atomically(Path::new(&file.name), formatted.as_bytes()) {
            eprintln!("zonecheck: cannot write {}: {e}", file.name);
            return Exit::Internal;
        } else {
            println!("reformatted {}", file.name);
        }
    }
    if unformatted > 0 { Exit::Violated } else { Exit::Success }
}

/// Write a file by writing a temporary file beside it and renaming it into place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

fn graph(path: &Path, format: GraphFormat) -> Exit {
    let model = match load(path) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let text = match format {
        GraphFormat::Dot => crate::report::graph::dot(&model),
        GraphFormat::Mermaid => crate::report::graph::mermaid(&model),
    };
    print!("{text}");
    Exit::Success
}
