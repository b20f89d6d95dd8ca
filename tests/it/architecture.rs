//! ARCHITECTURE.md's dependency rules, checked on the source: every `crate::…` path in a
//! stage's code (comments and `#[cfg(test)]` modules aside) names only the stages it may
//! depend on. A forbidden edge fails with the file and line, so a change that would couple
//! the checker to what it checks, or a stage to a later one, cannot land unnoticed.

use std::path::{Path, PathBuf};

/// (files under `src/` whose path starts with this, the crate modules they may name).
/// The most specific prefix applies. `load_str` (the library's entry) is allowed
/// everywhere for doc examples.
const RULES: &[(&str, &[&str])] = &[
    // The language knows nothing of models, networks or targets.
    ("syntax/", &["diagnostics", "syntax"]),
    ("model/", &["diagnostics", "syntax", "model"]),
    // The proof depends on the model only; reports render it.
    ("verify/", &["diagnostics", "syntax", "model", "verify"]),
    // Lowering decides what each enforcement point permits, from the model alone.
    ("lower/", &["diagnostics", "model", "lower"]),
    // The checker states from the model alone what each device must permit: never the
    // lowering or the renderers it validates, nor compile, which calls it.
    ("check/", &["diagnostics", "syntax", "model", "check"]),
    // Renderers never check, verify or report.
    ("targets/", &["diagnostics", "syntax", "model", "lower", "targets"]),
    // Compile takes a proof, renders, and reads its own files back; it reports nothing.
    ("compile/", &["diagnostics", "syntax", "model", "verify", "lower", "targets", "check", "compile"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The `crate::NAME` module names a line uses, outside comments.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        // `use crate::{a, b}`: each name in the braces.
        if name.is_empty() && after.starts_with('{') {
            let inner = after[1..].split('}').next().unwrap_or("");
            out.extend(inner.split(',').map(|n| n.trim().split("::").next().unwrap_or("").to_string()));
        } else {
            out.push(name);
        }
        rest = after;
    }
    out.retain(|n| !n.is_empty());
    out
}

#[test]
fn stages_depend_only_on_what_architecture_md_allows() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        let Some((_, allowed)) = RULES.iter().filter(|(p, _)| rel.starts_with(p)).max_by_key(|(p, _)| p.len()) else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            for name in crate_paths(line) {
                if name != "load_str" && !allowed.contains(&name.as_str()) {
                    broken.push(format!("src/{rel}:{}: uses crate::{name}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(checked > 30, "the rules cover the stages ({checked} files)");
    assert!(broken.is_empty(), "forbidden dependencies (see ARCHITECTURE.md):\n{}", broken.join("\n"));
}

#[test]
fn the_scanner_sees_every_form_of_path() {
    assert_eq!(crate_paths("use crate::targets::acl::AclOptions;"), ["targets"]);
    assert_eq!(crate_paths("use crate::{model::Model, check};"), ["model", "check"]);
    assert_eq!(crate_paths("    let x = crate::report::human(v); // crate::cli"), ["report"]);
    assert!(crate_paths("/// see [`crate::report`]").is_empty());
}

/// The type gate of DESIGN.md §5: only `verify::prove` makes a `Proved` in the library;
/// `verify::unverified` (for tests that render failing policies on purpose) is called by
/// nothing in `src/` but the crate's tests (`src/tests/`).
#[test]
fn only_tests_compile_an_unverified_policy() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let callers: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("verify/mod.rs"))
        // The crate's own tests (src/tests/, moved from tests/it/) are tests.
        .filter(|f| !f.starts_with(src.join("tests")))
        .filter(|f| std::fs::read_to_string(f).expect("read").contains("unverified("))
        .map(|f| f.display().to_string())
        .collect();
    assert!(callers.is_empty(), "{callers:?}");
}

/// ARCHITECTURE.md: the stages between reading a policy and writing a bundle do no I/O —
/// `verify`, `lower`, `targets`, `report`, `check` and `model` take text and values and give
/// text and values back (the CLI, `config`, `syntax::load` and `compile::bundle` touch the
/// disk). A template override, for one, is read by the CLI and handed to `targets`. The one
/// exception, stated there too: `report::graph` pipes DOT text through Graphviz's `dot`.
#[test]
fn the_stages_between_reading_and_writing_do_no_io() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for stage in ["verify", "lower", "targets", "report", "check", "model"] {
        rust_files(&src.join(stage), &mut files);
    }
    files.sort();
    assert!(files.len() > 30, "the stages' files are found ({})", files.len());
    let io = ["std::fs", "fs::read", "fs::write", "File::open", "File::create", "std::io::Write", "OpenOptions"];
    let mut found = Vec::new();
    // A module's tests (`tests.rs`) read their fixtures.
    for file in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let text = std::fs::read_to_string(file).expect("read");
        let piped_to_dot = file.ends_with("report/graph.rs");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let io_here = io.iter().any(|w| line.contains(w) && !(piped_to_dot && *w == "std::io::Write"));
            if !line.trim_start().starts_with("//") && io_here {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "I/O in a pure stage:\n{}", found.join("\n"));
}
