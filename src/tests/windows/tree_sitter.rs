//! tree-sitter-powershell, when installed (required with ZONECHECK_REQUIRE_TREE_SITTER):
//! the golden scripts parse without ERROR nodes, with the refusal, disabling and read-back.

use std::path::Path;

use crate::targets::windows::{self, WindowsOptions};

use super::injection::hostile_policy;
use super::lexer::COMMANDS;
use super::{TEMPLATES, digest, windows_hosts};

// ---------------------------------------------------------------------------------------
// tree-sitter-powershell, when installed
// ---------------------------------------------------------------------------------------

const TREE_SITTER_CHECK: &str = r#"
import json, sys
from tree_sitter import Language, Parser
import tree_sitter_powershell as tsp
parser = Parser(Language(tsp.language()))
result = {}
for path in sys.argv[1:]:
    src = open(path, "rb").read()
    if src.startswith(b"\xef\xbb\xbf"):
        src = src[3:]
    tree = parser.parse(src)
    errors, commands = [], set()
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            errors.append("%s at %s" % (n.type, n.start_point))
        if n.type == "command_name":
            commands.add(src[n.start_byte:n.end_byte].decode())
        stack.extend(n.children)
    result[path] = {"errors": errors, "commands": sorted(commands)}
print(json.dumps(result))
"#;

#[test]
fn tree_sitter_powershell_parses_the_scripts() {
    let Some(python) = tree_sitter_python() else { return };
    let dir = std::env::temp_dir().join(format!("zonecheck-windows-ts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut paths = Vec::new();
    let mut write = |name: String, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        paths.push(p);
    };
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    for d in windows_hosts(&model) {
        let (bytes, _) =
            windows::render(&model, &d, &TEMPLATES, &WindowsOptions::default(), &digest(&model)).expect("r");
        write(format!("{}.ps1", d.name), bytes);
    }
    let mut s: [String; 7] = Default::default();
    for (i, h) in ["'; Remove-Item", "’ ; calc ; ’", "‘x‛", "$(calc)", "`", "#", "\""].iter().enumerate() {
        s[i] = (*h).to_string();
    }
    let hostile = crate::load_str("p.zc", &hostile_policy(&s)).expect("resolves");
    for d in windows_hosts(&hostile) {
        let (bytes, _) = windows::render(&hostile, &d, &TEMPLATES, &WindowsOptions::default(), "x").expect("r");
        write(format!("hostile-{}.ps1", d.name), bytes);
    }
    let out =
        std::process::Command::new(&python).arg("-c").arg(TREE_SITTER_CHECK).args(&paths).output().expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for p in &paths {
        let r = &result[p.to_string_lossy().as_ref()];
        assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{}: {}", p.display(), r["errors"]);
        for c in r["commands"].as_array().expect("commands") {
            let c = c.as_str().expect("str");
            assert!(COMMANDS.contains(&c), "{}: command {c}", p.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Per script, in source order: every command (name, its parameter and bare-word
/// arguments, the variable an enclosing assignment assigns, what a pipeline feeds it from
/// the left, whether it sits inside an `if`) and every `throw` (with the condition of its
/// `if`).
const TREE_SITTER_EVENTS: &str = r#"
import json, sys
from tree_sitter import Language, Parser
import tree_sitter_powershell as tsp
parser = Parser(Language(tsp.language()))
result = {}
for path in sys.argv[1:]:
    src = open(path, "rb").read()
    if src.startswith(b"\xef\xbb\xbf"):
        src = src[3:]
    text = lambda n: src[n.start_byte:n.end_byte].decode()
    tree = parser.parse(src)
    events = []
    def ancestors(n):
        n = n.parent
        while n is not None:
            yield n
            n = n.parent
    def assigned(n):
        for a in ancestors(n):
            if a.type == "assignment_expression":
                return text(a.children[0])
        return None
    def if_condition(n):
        for a in ancestors(n):
            if a.type == "if_statement":
                return text(a.children[2])
        return None
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "command":
            name = [c for c in n.children if c.type == "command_name"]
            args = []
            for e in [c for c in n.children if c.type == "command_elements"]:
                args += [text(c) for c in e.children if c.type in ("command_parameter", "generic_token")]
            left = None
            if n.parent is not None and n.parent.type == "pipeline_chain":
                kids = [c for c in n.parent.children if c.type != "|"]
                k = kids.index(n)
                if k > 0:
                    left = text(kids[k - 1]) if kids[k - 1].type != "command" else "command " + text([c for c in kids[k - 1].children if c.type == "command_name"][0])
            events.append({"at": n.start_byte, "kind": "command", "name": text(name[0]) if name else "",
                           "args": args, "assigned": assigned(n), "from": left, "if": if_condition(n)})
        if n.type == "flow_control_statement" and n.children and n.children[0].type == "throw":
            events.append({"at": n.start_byte, "kind": "throw", "name": "throw", "args": [], "assigned": None,
                           "from": None, "if": if_condition(n)})
        stack.extend(n.children)
    events.sort(key=lambda e: e["at"])
    result[path] = events
print(json.dumps(result))
"#;

/// Is tree-sitter-powershell there? (A test that needs it fails when
/// ZONECHECK_REQUIRE_TREE_SITTER is set, else is skipped.)
fn tree_sitter_python() -> Option<String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = std::process::Command::new(&python).args(["-c", "import tree_sitter, tree_sitter_powershell"]).output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Some(python);
    }
    let msg =
        "tree-sitter-powershell is not installed (pip install tree-sitter==0.26.1 tree-sitter-powershell==0.26.4)";
    assert!(std::env::var_os("ZONECHECK_REQUIRE_TREE_SITTER").is_none(), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

#[derive(Clone, Debug, serde::Deserialize)]
struct Event {
    kind: String,
    name: String,
    args: Vec<String>,
    assigned: Option<String>,
    from: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
}

impl Event {
    /// The command `name` with `-param value` among its arguments.
    fn is(&self, name: &str, param: &str, value: &str) -> bool {
        self.name == name && self.args.windows(2).any(|w| w[0] == param && w[1] == value)
    }
}

/// Where the refusal, the disabling and the read-back sit in a parsed script; what is
/// wrong, if anything.
fn refusal_and_read_back(events: &[Event], closed: bool) -> Result<(), String> {
    let find = |from: usize, f: &dyn Fn(&Event) -> bool| events.iter().skip(from).position(f).map(|k| k + from);
    let first_rule = find(0, &|e| e.name == "New-NetFirewallRule").ok_or("no New-NetFirewallRule")?;
    let profiles = find(first_rule, &|e| e.name == "Set-NetFirewallProfile").ok_or("no Set-NetFirewallProfile")?;
    let before = |k: Option<usize>| k.is_some_and(|k| k < first_rule);
    let foreign = find(0, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$foreign")
    });
    let foreign_filter = find(0, &|e| {
        e.name == "Where-Object"
            && e.assigned.as_deref() == Some("$foreign")
            && e.from.as_deref() == Some("command Get-NetFirewallRule")
    });
    let refuse = find(0, &|e| e.kind == "throw" && e.condition.as_deref() == Some("$foreign.Count -gt 0"));
    let local = find(0, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "PersistentStore") && e.assigned.as_deref() == Some("$local")
    });
    let disable = find(0, &|e| e.name == "Disable-NetFirewallRule" && e.from.as_deref() == Some("$local"));
    if closed {
        for (what, k) in [
            ("the look-up of foreign rules in the active store", foreign),
            ("its filter", foreign_filter),
            ("the refusal", refuse),
            ("the look-up of local foreign rules", local),
            ("the disabling", disable),
        ] {
            if !before(k) {
                return Err(format!("{what} is missing or not before the first rule is created"));
            }
        }
        if !(foreign < refuse && refuse < local && local < disable) {
            return Err("refusal, look-up and disabling are out of order".into());
        }
    } else if foreign.is_some() || disable.is_some() || events.iter().any(|e| e.name == "Disable-NetFirewallRule") {
        return Err("a host outside closed zones disables rules".into());
    }
    // The read-back: after the profiles are set, the active store's profiles and rules,
    // and a throw when anything differs; nothing changes the firewall after it.
    let got_profiles = find(profiles, &|e| {
        e.is("Get-NetFirewallProfile", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$wrong")
    });
    let got_rules = find(profiles, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$mine")
    });
    let others = find(profiles, &|e| {
        e.is("Get-NetFirewallRule", "-PolicyStore", "ActiveStore") && e.assigned.as_deref() == Some("$others")
    });
    let fail = find(profiles, &|e| e.kind == "throw" && e.condition.as_deref() == Some("$wrong.Count -gt 0"));
    let (Some(p), Some(r), Some(f)) = (got_profiles, got_rules, fail) else {
        return Err(format!("read-back incomplete: profiles {got_profiles:?}, rules {got_rules:?}, throw {fail:?}"));
    };
    if !(p < f && r < f) {
        return Err("the read-back's throw comes before what it reads".into());
    }
    if closed != others.is_some_and(|o| o < f) {
        return Err(format!("closed {closed}: the read-back of foreign rules is {others:?}"));
    }
    if let Some(e) =
        events.iter().skip(profiles + 1).find(|e| e.name.contains("NetFirewall") && !e.name.starts_with("Get-"))
    {
        return Err(format!("{} after the profiles are set", e.name));
    }
    Ok(())
}

#[test]
fn tree_sitter_finds_the_refusal_the_disabling_and_the_read_back() {
    let Some(python) = tree_sitter_python() else { return };
    let dir = std::env::temp_dir().join(format!("zonecheck-windows-ts-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = crate::load_policy(Path::new("policies/fjordvik")).expect("resolves");
    let mut paths = Vec::new();
    for d in windows_hosts(&model) {
        let (bytes, _) =
            windows::render(&model, &d, &TEMPLATES, &WindowsOptions::default(), &digest(&model)).expect("r");
        let p = dir.join(format!("{}.ps1", d.name));
        std::fs::write(&p, bytes).expect("write");
        paths.push((p, d.name.clone(), d.filter_output));
    }
    assert!(paths.iter().any(|p| p.2) && paths.iter().any(|p| !p.2), "closed and other hosts");
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(TREE_SITTER_EVENTS)
        .args(paths.iter().map(|p| &p.0))
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: std::collections::BTreeMap<String, Vec<Event>> = serde_json::from_slice(&out.stdout).expect("json");
    for (p, name, closed) in &paths {
        let events = &result[p.to_string_lossy().as_ref()];
        refusal_and_read_back(events, *closed).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The check is not vacuous: without the refusal's throw (closed hosts), the
        // disabling, the active store's profiles or the final throw, it fails.
        let without =
            |drop: &dyn Fn(&Event) -> bool| -> Vec<Event> { events.iter().filter(|e| !drop(e)).cloned().collect() };
        let mutants: [(&str, Vec<Event>); 4] = [
            ("refusal", without(&|e| e.condition.as_deref() == Some("$foreign.Count -gt 0"))),
            ("disabling", without(&|e| e.name == "Disable-NetFirewallRule")),
            ("profiles read back", without(&|e| e.is("Get-NetFirewallProfile", "-PolicyStore", "ActiveStore"))),
            ("final throw", without(&|e| e.condition.as_deref() == Some("$wrong.Count -gt 0"))),
        ];
        for (what, mutant) in mutants {
            let should_fail = *closed || !matches!(what, "refusal" | "disabling");
            assert_eq!(refusal_and_read_back(&mutant, *closed).is_err(), should_fail, "{name} without {what}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
