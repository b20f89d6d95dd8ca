//! Stage 1: text to syntax tree. Knows nothing of zones as networks, graphs or targets.

pub mod ast;
pub mod date;
pub mod fmt;
pub(crate) mod parser;

use std::path::{Path, PathBuf};

use crate::diagnostics::{Diag, FileId, Sources, Span, code};

pub(crate) use parser::parse_file;

/// A policy as parsed: its files and their trees.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub sources: Sources,
    pub files: Vec<ast::File>,
    pub diags: Vec<Diag>,
}

/// Strip a UTF-8 byte-order mark; editors on Windows like to add one.
fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Syntax errors reported per file. A file that is no policy at all (a log, a binary renamed
/// `.zc`) gives one error per line, which buries the useful first ones and costs the
/// renderer time proportional to errors × file size.
pub(crate) const MAX_SYNTAX_ERRORS_PER_FILE: usize = 100;

/// Keep the first `max` diagnostics in source order; replace the rest by one that counts
/// them and points at the first one left out.
pub(crate) fn cap_diags(diags: &mut Vec<Diag>, max: usize) {
    if diags.len() <= max {
        return;
    }
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let rest = diags.split_off(max);
    let Some(next) = rest.first() else { return };
    let errors = rest.iter().filter(|d| d.severity == crate::diagnostics::Severity::Error).count();
    let message = format!(
        "{} more problem{} ({errors} error{}) {} not shown",
        rest.len(),
        if rest.len() == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" },
        if rest.len() == 1 { "is" } else { "are" }
    );
    let summary = if errors > 0 {
        Diag::error(crate::diagnostics::code::TOO_MANY, next.span, message)
    } else {
        Diag::warning(crate::diagnostics::code::TOO_MANY, next.span, message)
    };
    let first_line: String = next.message.chars().take(120).collect();
    diags.push(
        summary
            .label(format!("the first of them: {first_line}"))
            .help("fix the problems above and run again; a file that is not a policy gives one error per line"),
    );
}

/// Parse already-loaded sources.
pub(crate) fn parse_sources(sources: Sources) -> Parsed {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for (id, file) in sources.iter() {
        let (ast, mut errs) = parse_file(&file.text, id);
        files.push(ast);
        // Bounded, so that rendering them stays linear in the file's size.
        cap_diags(&mut errs, MAX_SYNTAX_ERRORS_PER_FILE);
        diags.extend(errs);
    }
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Parsed { sources, files, diags }
}

/// Parse one policy given as a string (tests, fuzzing, benchmarks).
pub fn parse_str(name: &str, text: &str) -> Parsed {
    let mut sources = Sources::default();
    sources.add(name, strip_bom(text));
    parse_sources(sources)
}

/// The `.zc` files a path stands for: the file itself, or a directory's `.zc` files, sorted.
pub(crate) fn policy_files(path: &Path) -> Result<Vec<PathBuf>, Diag> {
    let unreadable = |e: std::io::Error| {
        Diag::error(code::IO_UNREADABLE, Span::NONE, format!("cannot read `{}`: {e}", path.display()))
            .help("give a `.zc` file or a directory of `.zc` files")
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(unreadable)? {
        let p = entry.map_err(unreadable)?.path();
        if p.extension().is_some_and(|e| e == "zc") && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Diag::error(code::IO_NO_POLICY, Span::NONE, format!("`{}` holds no `.zc` files", path.display()))
            .help("a policy directory holds one or more files ending in `.zc`"));
    }
    Ok(files)
}

/// Read the files of a policy path into [`Sources`].
pub(crate) fn load(path: &Path) -> Result<Sources, Vec<Diag>> {
    let files = policy_files(path).map_err(|d| vec![d])?;
    let mut sources = Sources::default();
    let mut diags = Vec::new();
    for p in files {
        match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    sources.add(p.display().to_string(), strip_bom(&text));
                }
                Err(e) => {
                    let valid = e.utf8_error().valid_up_to();
                    let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    let id = sources.add(p.display().to_string(), lossy);
                    // Point at the first bad byte (as it appears in the lossy text).
                    diags.push(
                        Diag::error(
                            code::IO_NOT_UTF8,
                            Span::new(id, valid, valid + 1),
                            format!("`{}` is not valid UTF-8", p.display()),
                        )
                        .label("first invalid byte")
                        .help("save the policy as UTF-8 (æøå are welcome, but in UTF-8)"),
                    );
                }
            },
            Err(e) => diags.push(
                Diag::error(code::IO_UNREADABLE, Span::NONE, format!("cannot read `{}`: {e}", p.display()))
                    .help("check that the file exists and is readable"),
            ),
        }
    }
    if diags.is_empty() { Ok(sources) } else { Err(diags) }
}

/// Convenience for callers that hold a FileId but want the file's text.
pub fn text_of(sources: &Sources, id: FileId) -> &str {
    sources.get(id).map_or("", |f| &f.text)
}
