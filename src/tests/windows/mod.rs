//! The Windows target: golden scripts, injection safety and the readers.
//!
//! This file holds what the parts share (the templates, the Windows hosts of a model, the
//! rendered script decoded and its encoding checked) and the golden snapshots of the
//! PowerShell scripts of Fjordvik's Windows hosts and of every example policy with a
//! Windows host (here, so that the snapshots keep their names `tests__windows__…`).
//! The parts, one file each:
//!
//! - `lexer`: a test lexer that follows PowerShell's quoting rules (single-quoted strings
//!   end at any of the five single-quote characters unless doubled; double-quoted strings
//!   with backtick escapes and `$` expansion; `#` and `<# #>` comments; statements end at
//!   a newline or `;`), and the structure every generated script must have.
//! - `injection`: hostile policy strings must land inside one single-quoted literal each,
//!   the script's commands must be the template's fixed set, and no string may expand
//!   anything.
//! - `round_trip`: the library's script reader (`check::read::windows::read_script`) reads
//!   every script back into a packet space, compared with the lowered permits (converted
//!   to packets here, independently) on random policies: nothing lost or added by
//!   rendering, and splitting rules keeps the union.
//! - `export`: the export reader (`read_export`) on hand-written exports of a live host:
//!   Block beats Allow, disabled and Private-only rules are ignored, conditions and
//!   keywords are problems; and the export of what a Fjordvik script leaves on a host
//!   permits what the script reader reads from the script. Every profile counts (issue
//!   18): an export with the Public profile off and an allow-all rule for Private and
//!   Public, or profiles that differ in a default action, is "different" under `check`;
//!   Windows' own Allow rules left enabled beside zonecheck's group (network discovery,
//!   WinRM, Core Networking DNS and IPv6 out) are reported; the export with only
//!   zonecheck's rules enabled, profiles alike, is "equal".
//! - `never_panics`: neither reader panics on random text or random JSON.
//! - `tree_sitter`: optionally (required with ZONECHECK_REQUIRE_TREE_SITTER),
//!   tree-sitter-powershell parses the golden scripts without ERROR nodes and finds in
//!   each the refusal beside foreign Allow rules and their disabling (closed-zone hosts,
//!   before any rule is created) and the read-back of the active store after the profiles
//!   are set.

mod export;
mod injection;
mod lexer;
mod never_panics;
mod round_trip;
mod tree_sitter;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::lower::{DeviceRules, lower};
use crate::model::{HostOrDevice, Model};
use crate::targets::Templates;
use crate::targets::windows::{self, WindowsOptions};

use lexer::check_structure;
use round_trip::round_trip;

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| Templates::builtin().expect("templates"));

fn windows_hosts(model: &Model) -> Vec<DeviceRules> {
    lower(model).into_iter().filter(|d| d.target == HostOrDevice::WindowsHost).collect()
}

fn digest(model: &Model) -> String {
    crate::compile::policy_digest(model).0
}

/// The script as text, after checking the encoding: UTF-8 with BOM, CRLF only.
fn decode(bytes: &[u8]) -> String {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{FEFF}').expect("starts with a BOM");
    assert!(!text.contains('\u{FEFF}'), "one BOM");
    let b = text.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'\n' {
            assert!(i > 0 && b[i - 1] == b'\r', "bare LF at byte {i}");
        }
        if *c == b'\r' {
            assert!(b.get(i + 1) == Some(&b'\n'), "bare CR at byte {i}");
        }
    }
    assert!(text.ends_with("\r\n"));
    text.to_string()
}

fn render(model: &Model, d: &DeviceRules) -> (String, crate::targets::Stats) {
    let (bytes, stats) = windows::render(model, d, &TEMPLATES, &WindowsOptions::default(), &digest(model))
        .unwrap_or_else(|e| panic!("render {}: {e:?}", d.name));
    (decode(&bytes), stats)
}

// ---------------------------------------------------------------------------------------
// Golden scripts
// ---------------------------------------------------------------------------------------

#[test]
fn golden_fjordvik_windows_hosts() {
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let hosts = windows_hosts(&model);
    // A closed-zone server, a closed-zone jump host and an internal server.
    for name in ["epj-plo-app", "jump-sikker", "fil"] {
        let d = hosts.iter().find(|d| d.name == name).expect("host");
        let (text, stats) = render(&model, d);
        check_structure(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
        let header = format!("# {name}: {} rules\n", stats.rules);
        insta::assert_snapshot!(format!("fjordvik__{name}"), format!("{header}{}", text.replace("\r\n", "\n")));
    }
    // Every Windows host of Fjordvik round-trips, and is deterministic.
    for d in &hosts {
        let a = render(&model, d).0;
        assert_eq!(a, render(&model, d).0);
        round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
        round_trip(&model, d, 3).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn zc_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            zc_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "zc") {
            out.push(p);
        }
    }
}

#[test]
fn golden_examples_with_windows_hosts() {
    let mut files = Vec::new();
    zc_files(Path::new("examples"), &mut files);
    let mut seen = 0;
    for f in files {
        // Violation examples do not pass verify; lowering does not need it.
        let model = crate::load_policy(&f).unwrap_or_else(|e| panic!("{}: {:?}", f.display(), e.diags));
        let hosts = windows_hosts(&model);
        if hosts.is_empty() {
            continue;
        }
        seen += 1;
        let mut all = String::new();
        for d in &hosts {
            let (text, stats) = render(&model, d);
            check_structure(&text).unwrap_or_else(|e| panic!("{} {}: {e}", f.display(), d.name));
            round_trip(&model, d, windows::MAX_ADDRESSES).unwrap_or_else(|e| panic!("{e}"));
            all.push_str(&format!("===== host {} ({} rules) =====\n", d.name, stats.rules));
            all.push_str(&text.replace("\r\n", "\n"));
        }
        let rel = f.strip_prefix("examples").expect("inside").with_extension("");
        let name = format!("example__{}", rel.to_string_lossy().replace(['/', '\\'], "__"));
        insta::assert_snapshot!(name, all);
    }
    assert!(seen >= 7, "every example has Windows hosts; saw {seen}");
}
