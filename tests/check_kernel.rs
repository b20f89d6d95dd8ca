//! `zonecheck check` against the real kernel.
//!
//! 1. **Live round trip**: a compiled ruleset loaded with `nft -f` into a fresh network
//!    namespace and dumped with `nft -j list ruleset` checks equal; one rule added with
//!    `nft add rule` makes it different, and the finding names that rule by the handle nft
//!    gave it. On a host ruleset `nft add rule` appends after the final `counter drop`, so
//!    it changes nothing: the check stays equal and reports the rule as shadowed; `nft
//!    insert rule` (prepending) makes it different.
//! 2. **Distribution rulesets**: an OpenWrt (fw4) and a firewalld ruleset next to
//!    zonecheck's table, loaded with `nft -f` and dumped: the verdict, the chains listed as
//!    "not checked", advice only in chains `check` evaluates, and every rule the advice
//!    names deleted from the live ruleset (`nft delete rule … handle N`) changes neither
//!    verdict nor findings.
//! 3. **Kernel-confirmed witnesses**: single-rule mutants (`common/mutate.rs`) of the
//!    firewall of generated policies and of Fjordvik's `fw-kjerne` are checked with
//!    `check_device`; for a sample of the killed ones, each witness packet is sent through
//!    a router namespace holding the mutant and then the original ruleset (`check_kernel/
//!    topology.rs`, `check_kernel/wire.rs`). Its fate must differ between the two, and
//!    agree with what `check` claimed: a "more" witness passes the mutant only, a "less"
//!    witness the original only (the original permits it exactly when the policy intends
//!    it; where the oracle of `kernel/oracle.rs` can judge the witness, it must agree).
//!    Mutants `nft -f` rejects and witnesses the kernel cannot carry are counted and
//!    explained, never silently dropped: a witness both rulesets drop is sent once more
//!    with no ruleset at all, and is only skipped if the kernel drops it then too (a
//!    martian address), or if it is an ICMP type conntrack never takes for a new
//!    connection (see [`never_new`]); anything else is a failure.
//!
//! 25 killed mutants per firewall by default; `ZONECHECK_KERNEL_MUTANTS=N` changes that
//! (`=1000` sends every killed mutant's witnesses, about 40 s).
//!
//! Without root, `ip` or `nft` the tests print why and pass, unless
//! `ZONECHECK_REQUIRE_KERNEL=1`, which makes them fail. Counts and every probe are printed:
//! `cargo test --release --test check_kernel -- --nocapture`. Packets go only between
//! namespaces the test creates (`zct<pid>-…`), which are deleted when it ends.

#[path = "common/mutate.rs"]
mod mutate;
#[allow(dead_code)]
#[path = "kernel/netns.rs"]
mod netns;
#[allow(dead_code)]
#[path = "kernel/oracle.rs"]
mod oracle;
#[allow(dead_code)]
#[path = "kernel/policy_gen.rs"]
mod policy_gen;
#[path = "check_kernel/topology.rs"]
mod topology;
#[path = "check_kernel/wire.rs"]
mod wire;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mutate::{Kind, Mutant, mutants};
use netns::{Lab, kernel_ready, note};
use serde_json::Value;
use topology::Topology;
use wire::Shot;
use zonecheck::Model;
use zonecheck::check::{Ct, Packet, Path as Hook};
use zonecheck::check::{Difference, Direction, Format, check_device};
use zonecheck::model::AclOptions;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fjordvik() -> PathBuf {
    repo().join("policies/fjordvik")
}

/// Runs the `zonecheck` binary with a deadline; returns its exit code and stdout.
fn zonecheck(args: &[&str]) -> (i32, String) {
    let shown = format!("zonecheck {}", args.join(" "));
    let mut child = Command::new(env!("CARGO_BIN_EXE_zonecheck"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: cannot start: {e}"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + netns::COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait().unwrap_or_else(|e| panic!("{shown}: {e}")) {
            Some(status) => break status,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{shown}: timed out after {:?}", netns::COMMAND_TIMEOUT);
            }
        }
    };
    let (out, err) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
    let code = status.code().unwrap_or_else(|| panic!("{shown}: killed by a signal\n{err}"));
    // Exit 2 is an input error, or a device that cannot be decided (which some tests want).
    if code == 2 && !out.contains("\"verdict\": \"cannot-decide\"") {
        panic!("{shown}: input error (exit 2)\n{err}{out}");
    }
    (code, out)
}

/// `zonecheck compile POLICY -o DIR`.
fn compile(policy: &Path, out: &Path) {
    let (code, _) = zonecheck(&["compile", &policy.to_string_lossy(), "-o", &out.to_string_lossy()]);
    assert_eq!(code, 0, "zonecheck compile {} failed", policy.display());
}

/// `zonecheck check POLICY --device DEVICE FILE --format json`: exit code and the device's
/// report.
fn check_cli(policy: &Path, device: &str, file: &Path) -> (i32, Value) {
    let (code, out) = zonecheck(&[
        "check",
        &policy.to_string_lossy(),
        "--device",
        device,
        &file.to_string_lossy(),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("check --format json: {e}\n{out}"));
    let devices = report["devices"].as_array().unwrap_or_else(|| panic!("no devices in {report:#}"));
    assert_eq!(devices.len(), 1, "one device checked: {report:#}");
    let d = devices[0].clone();
    assert_eq!(d["device"], device, "{report:#}");
    assert_eq!(d["format"], "nft-json", "a dump is read as nft JSON: {report:#}");
    assert_eq!(report["verdict"], d["verdict"], "{report:#}");
    (code, d)
}

/// `nft -j list ruleset` in `ns`, written to `dir/name` and parsed.
fn dump(lab: &Lab, ns: &str, dir: &Path, name: &str) -> (PathBuf, Value) {
    let text = lab.nft(ns, &["-j", "list", "ruleset"]);
    let file = dir.join(name);
    std::fs::write(&file, &text).expect("write the dump");
    (file, serde_json::from_str(&text).unwrap_or_else(|e| panic!("nft -j is JSON: {e}")))
}

/// Every difference of a check's JSON is "more", in a region whose text names `what`, or
/// (`own`) about the device's own traffic (input or output), in either direction.
fn only_differences(d: &Value, what: &str, own: bool) {
    let diffs = d["differences"].as_array().expect("differences");
    assert!(diffs.iter().any(|x| x["region"].as_str().unwrap_or("").contains(what)), "{d:#}");
    for x in diffs {
        let text = x["region"].as_str().unwrap_or("");
        let own_traffic = own && matches!(x["witness"]["path"].as_str(), Some("input" | "output"));
        assert!(
            own_traffic || (x["direction"] == "more" && text.contains(what)),
            "only `{what}` differences expected: {x:#}"
        );
    }
}

/// The table a chain of a generated ruleset is in: hosts have their own.
fn table_of(chain: &str) -> &'static str {
    if matches!(chain, "zc_input" | "zc_output") { "zonecheck_host" } else { "zonecheck" }
}

/// Handles of the rules of `chain` in a dump, with each rule's JSON.
fn rule_handles(dump: &Value, chain: &str) -> BTreeMap<u64, Value> {
    dump["nftables"]
        .as_array()
        .expect("nftables array")
        .iter()
        .filter_map(|o| o.get("rule"))
        .filter(|r| r["table"] == table_of(chain) && r["chain"] == chain)
        .map(|r| (r["handle"].as_u64().expect("rule handle"), r.clone()))
        .collect()
}

/// The one rule of `chain` in `after` that is not in `before`: its handle. It must match
/// TCP destination port 23.
fn new_rule(before: &Value, after: &Value, chain: &str) -> String {
    let (old, new) = (rule_handles(before, chain), rule_handles(after, chain));
    let added: Vec<(&u64, &Value)> = new.iter().filter(|(h, _)| !old.contains_key(h)).collect();
    assert_eq!(added.len(), 1, "one rule added to {chain}: {added:?}");
    let (handle, rule) = added[0];
    let expr = rule["expr"].to_string();
    assert!(expr.contains("\"dport\"") && expr.contains("23"), "the new rule matches tcp dport 23: {expr}");
    handle.to_string()
}

fn differences(d: &Value) -> &Vec<Value> {
    d["differences"].as_array().expect("differences array")
}

/// The interfaces of a pair chain, from the forward vmap of zonecheck's text
/// (`"a" . "b" : jump zc_pair_N,`).
fn pair_interfaces(text: &str, chain: &str) -> (String, String) {
    let line = text
        .lines()
        .find(|l| l.trim_end().trim_end_matches(',').ends_with(&format!(": jump {chain}")))
        .unwrap_or_else(|| panic!("no vmap element jumps to {chain}"));
    let names: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    assert_eq!(names.len(), 2, "{line}");
    (names[0].to_string(), names[1].to_string())
}

#[test]
fn live_round_trip_of_the_fjordvik_firewall() {
    if !kernel_ready("live_round_trip_of_the_fjordvik_firewall") {
        return;
    }
    let policy = fjordvik();
    let mut lab = Lab::new("ckfw");
    let bundle = lab.dir("bundle");
    compile(&policy, &bundle);
    let file = bundle.join("firewall/fw-kjerne.nft");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let ns = lab.namespace("fw", true);
    lab.nft_load(&ns, &file).unwrap_or_else(|e| panic!("nft -f {}:\n{e}", file.display()));
    let dir = lab.dir("dumps");

    let (loaded, before) = dump(&lab, &ns, &dir, "loaded.json");
    let (code, d) = check_cli(&policy, "fw-kjerne", &loaded);
    assert_eq!((code, d["verdict"].as_str()), (0, Some("equal")), "the loaded bundle checks equal: {d:#}");
    assert!(differences(&d).is_empty() && d["unsupported"].as_array().is_some_and(Vec::is_empty), "{d:#}");
    note(format!("fw-kjerne as loaded: equal ({} rules read from the dump)", d["rules"]));

    // A rule that changes behaviour: appended to a pair chain, it accepts telnet between the
    // pair's interfaces before the packets fall back to the forward chain's drop.
    let chain = "zc_pair_0";
    let (iif, oif) = pair_interfaces(&text, chain);
    lab.nft(&ns, &["add", "rule", "inet", table_of(chain), chain, "tcp", "dport", "23", "accept"]);
    let (edited, after) = dump(&lab, &ns, &dir, "edited.json");
    let handle = new_rule(&before, &after, chain);
    let (code, d) = check_cli(&policy, "fw-kjerne", &edited);
    assert_eq!((code, d["verdict"].as_str()), (1, Some("different")), "{d:#}");
    let found: Vec<&Value> = differences(&d)
        .iter()
        .filter(|x| {
            let w = &x["witness"];
            x["direction"] == "more"
                && w["path"] == "forward"
                && w["protocol"] == 6
                && w["destination_port"] == 23
                && w["input_interface"] == iif.as_str()
                && w["output_interface"] == oif.as_str()
        })
        .collect();
    assert!(!found.is_empty(), "a \"more\" finding for tcp/23 from {iif} to {oif}: {d:#}");
    for x in &found {
        assert_eq!(x["rule"]["handle"], handle.as_str(), "the finding names the new rule by its handle: {x:#}");
        let rule_text = x["rule"]["text"].as_str().unwrap_or("");
        assert!(rule_text.contains("tcp dport 23"), "the finding shows the rule: {x:#}");
    }
    // Nothing else changed.
    for x in differences(&d) {
        assert_eq!(x["rule"]["handle"], handle.as_str(), "only the new rule makes a difference: {x:#}");
    }
    note(format!(
        "fw-kjerne after `nft add rule inet zonecheck {chain} tcp dport 23 accept`: different, {} finding(s) naming handle {handle}: {}",
        found.len(),
        found[0]["witness_text"]
    ));
}

#[test]
fn live_round_trip_of_a_host_ruleset() {
    if !kernel_ready("live_round_trip_of_a_host_ruleset") {
        return;
    }
    let policy = fjordvik();
    let mut lab = Lab::new("ckho");
    let bundle = lab.dir("bundle");
    compile(&policy, &bundle);
    // backup-repo: a closed-zone Linux host, so both an input and an output chain.
    let host = "backup-repo";
    let file = bundle.join(format!("host/{host}.nft"));
    let ns = lab.namespace("host", false);
    lab.nft_load(&ns, &file).unwrap_or_else(|e| panic!("nft -f {}:\n{e}", file.display()));
    let dir = lab.dir("dumps");

    let (loaded, before) = dump(&lab, &ns, &dir, "loaded.json");
    let (code, d) = check_cli(&policy, host, &loaded);
    assert_eq!((code, d["verdict"].as_str()), (0, Some("equal")), "the loaded host ruleset checks equal: {d:#}");
    assert!(d["dead_rules"].as_array().is_some_and(Vec::is_empty), "{d:#}");

    // `nft add rule` appends after the chain's final `counter drop`: no packet reaches it.
    let chain = "zc_input";
    lab.nft(&ns, &["add", "rule", "inet", table_of(chain), chain, "tcp", "dport", "23", "accept"]);
    let (appended, after) = dump(&lab, &ns, &dir, "appended.json");
    let handle = new_rule(&before, &after, chain);
    let (code, d) = check_cli(&policy, host, &appended);
    assert_eq!((code, d["verdict"].as_str()), (0, Some("equal")), "a rule after the final drop changes nothing: {d:#}");
    let dead: Vec<&Value> = d["dead_rules"]
        .as_array()
        .expect("dead_rules")
        .iter()
        .filter(|x| x["rule"]["handle"] == handle.as_str())
        .collect();
    assert_eq!(dead.len(), 1, "the appended rule is reported dead: {d:#}");
    assert_eq!((dead[0]["kind"].as_str(), dead[0]["chain"].as_str()), (Some("shadowed"), Some(chain)), "{d:#}");
    note(format!(
        "{host} after `nft add rule inet zonecheck {chain} tcp dport 23 accept`: equal, handle {handle} shadowed (covered_by: {})",
        dead[0]["covered_by"]
    ));

    // `nft insert rule` prepends: now it decides.
    lab.nft(&ns, &["insert", "rule", "inet", table_of(chain), chain, "tcp", "dport", "23", "accept"]);
    let (inserted, last) = dump(&lab, &ns, &dir, "inserted.json");
    let first = new_rule(&after, &last, chain);
    let (code, d) = check_cli(&policy, host, &inserted);
    assert_eq!((code, d["verdict"].as_str()), (1, Some("different")), "{d:#}");
    let found: Vec<&Value> = differences(&d)
        .iter()
        .filter(|x| {
            let w = &x["witness"];
            x["direction"] == "more" && w["path"] == "input" && w["protocol"] == 6 && w["destination_port"] == 23
        })
        .collect();
    assert!(!found.is_empty(), "a \"more\" finding for tcp/23 to the host: {d:#}");
    for x in differences(&d) {
        assert_eq!(x["rule"]["handle"], first.as_str(), "the inserted rule makes the difference: {x:#}");
        assert!(x["rule"]["text"].as_str().unwrap_or("").contains("tcp dport 23"), "{x:#}");
    }
    note(format!(
        "{host} after `nft insert rule …`: different, {} finding(s) naming handle {first}: {}",
        found.len(),
        found[0]["witness_text"]
    ));
}

// ---------------------------------------------------------------------------------------
// Distribution rulesets (fw4, firewalld)
// ---------------------------------------------------------------------------------------

fn corpus(file: &str) -> PathBuf {
    repo().join("tests/fixtures/check/corpus").join(file)
}

/// A corpus ruleset loaded into a fresh namespace and dumped: the namespace and the dump.
fn load_and_dump(lab: &mut Lab, name: &str, file: &str) -> (String, PathBuf, Value) {
    let path = corpus(file);
    let ns = lab.namespace(name, true);
    lab.nft_load(&ns, &path).unwrap_or_else(|e| panic!("nft -f {}:\n{e}", path.display()));
    let dir = lab.dir(&format!("{name}-dumps"));
    let (dumped, json) = dump(lab, &ns, &dir, "loaded.json");
    (ns, dumped, json)
}

fn strings<'v>(d: &'v Value, list: &str, key: &str) -> Vec<&'v str> {
    d[list].as_array().unwrap_or_else(|| panic!("no {list}: {d:#}")).iter().filter_map(|x| x[key].as_str()).collect()
}

/// Verdict and findings, for comparing two checks.
fn outcome(d: &Value) -> (String, Vec<String>) {
    let mut found: Vec<String> =
        differences(d).iter().map(|x| format!("{} {}", x["direction"], x["witness_text"])).collect();
    found.sort();
    (d["verdict"].as_str().unwrap_or("").to_string(), found)
}

/// No advice in a chain listed as not checked; each rule the advice names is deleted
/// from the live ruleset in turn (and put back by reloading), and the check of the dump
/// without it must come out the same. Returns how many rules were tried.
fn advice_is_sound(lab: &mut Lab, ns: &str, policy: &Path, device: &str, file: &str, d: &Value, json: &Value) -> usize {
    let unchecked = strings(d, "not_checked", "chain");
    let mut tried = 0;
    for dead in d["dead_rules"].as_array().expect("dead_rules") {
        let chain = dead["chain"].as_str().expect("chain");
        assert!(!unchecked.contains(&chain), "advice in a chain that is not checked: {dead:#}");
        let handle: u64 = dead["rule"]["handle"].as_str().and_then(|h| h.parse().ok()).expect("a handle");
        // The table of the rule: chain names may repeat across tables ("inet fw4 forward").
        let rule = json["nftables"]
            .as_array()
            .expect("nftables")
            .iter()
            .filter_map(|o| o.get("rule"))
            .find(|r| r["handle"] == handle && chain.ends_with(r["chain"].as_str().unwrap_or("?")))
            .unwrap_or_else(|| panic!("rule {handle} of {chain} in the dump"));
        let (family, table, rchain) =
            (rule["family"].as_str().unwrap(), rule["table"].as_str().unwrap(), rule["chain"].as_str().unwrap());
        lab.nft(ns, &["delete", "rule", family, table, rchain, "handle", &handle.to_string()]);
        let dir = lab.dir(&format!("without-{handle}"));
        let (without, _) = dump(lab, ns, &dir, "without.json");
        let (_, again) = check_cli(policy, device, &without);
        assert_eq!(
            outcome(&again),
            outcome(d),
            "deleting {family} {table} {rchain} handle {handle} (`{}`) changes what {device} permits",
            dead["rule"]["text"]
        );
        // Back to the ruleset as loaded.
        lab.nft(ns, &["flush", "ruleset"]);
        lab.nft_load(ns, &corpus(file)).expect("reload");
        tried += 1;
    }
    tried
}

#[test]
fn openwrt_fw4_ruleset_from_the_kernel() {
    if !kernel_ready("openwrt_fw4_ruleset_from_the_kernel") {
        return;
    }
    let policy = corpus("policy.zc");
    let mut lab = Lab::new("ckfw4");

    // fw4 with rules it models (no rate limits, no SYN flood protection): equal. Its
    // `ct status dnat accept` ("accept port forwards") matches nothing, as the dump has no
    // dnat rule; its MSS clamping and empty route chain decide nothing.
    // Different in two ways: `ct state related accept` lets any host send ICMP errors
    // quoting any connection, which zonecheck allows only between permitted pairs; and fw4
    // accepts traffic to and from the router itself that no flow names (DESIGN.md §4a).
    let file = "nft/gw-fw4.nft";
    let (ns, dumped, json) = load_and_dump(&mut lab, "fw4", file);
    let (code, d) = check_cli(&policy, "gw", &dumped);
    assert_eq!((code, d["verdict"].as_str()), (1, Some("different")), "{d:#}");
    only_differences(&d, "ct state related", true);
    assert!(d["unsupported"].as_array().is_some_and(Vec::is_empty), "{d:#}");
    let unchecked = strings(&d, "not_checked", "chain");
    // The forward side and the router's own side are evaluated.
    for chain in [
        "forward",
        "forward_lan",
        "forward_wan",
        "reject_to_wan",
        "mangle_forward",
        "zc_forward",
        "input",
        "output",
        "input_lan",
        "input_wan",
    ] {
        assert!(!unchecked.contains(&chain), "{chain} is checked: {unchecked:?}");
    }
    let tried = advice_is_sound(&mut lab, &ns, &policy, "gw", file, &d, &json);
    note(format!(
        "fw4 next to zonecheck: different in related ICMP and its own traffic; {} chains not checked; {tried} advised rule(s) deleted live, nothing changed",
        unchecked.len()
    ));

    // fw4 as OpenWrt ships it: SYN flood protection and ICMPv6 rules limited by rate
    // decide by time. Cannot decide, each named; nothing else refused; no advice.
    let (_, dumped, _) = load_and_dump(&mut lab, "fw4d", "nft/gw-fw4-default.nft");
    let (code, d) = check_cli(&policy, "gw", &dumped);
    assert_eq!((code, d["verdict"].as_str()), (2, Some("cannot-decide")), "{d:#}");
    let problems = strings(&d, "unsupported", "message");
    assert_eq!(problems.len(), 6, "{problems:#?}");
    let limits = problems.iter().filter(|m| m.contains("rate limit")).count();
    assert_eq!(limits, 5, "syn_flood and four ICMPv6 rules: {problems:#?}");
    assert!(problems.iter().any(|m| m.contains("input:") && m.contains("syn_flood")), "{problems:#?}");
    for m in &problems {
        assert!(!m.contains("ct status") && !m.contains("maxseg") && !m.contains("chains of type"), "{m}");
    }
    assert!(d["dead_rules"].as_array().is_some_and(Vec::is_empty), "no advice: {d:#}");
}

#[test]
fn firewalld_ruleset_from_the_kernel() {
    if !kernel_ready("firewalld_ruleset_from_the_kernel") {
        return;
    }
    let policy = corpus("policy.zc");
    let mut lab = Lab::new("ckfwd");

    // firewalld 1.3 (public zone, ssh and https) next to zonecheck's host table, with its
    // default IPv6 reverse-path filter: a fib lookup, decided by the routing table.
    let (_, dumped, _) = load_and_dump(&mut lab, "fwd", "nft/app-firewalld.nft");
    let (code, d) = check_cli(&policy, "app", &dumped);
    assert_eq!((code, d["verdict"].as_str()), (2, Some("cannot-decide")), "{d:#}");
    let problems = strings(&d, "unsupported", "message");
    assert_eq!(problems.len(), 1, "only the reverse-path filter: {problems:#?}");
    assert!(problems[0].contains("filter_PREROUTING") && problems[0].contains("routing table"), "{problems:#?}");
    assert!(d["dead_rules"].as_array().is_some_and(Vec::is_empty), "no advice: {d:#}");

    // With `IPv6_rpfilter=no`: equal. `ct status dnat accept` matches nothing (no port
    // forward in the dump); forward, output and prerouting are not checked on a host whose
    // policy concerns its input; advice only on input chains, and sound.
    let file = "nft/app-firewalld-no-rpfilter.nft";
    let (ns, dumped, json) = load_and_dump(&mut lab, "fwdn", file);
    let (code, d) = check_cli(&policy, "app", &dumped);
    // Different only in one way: firewalld accepts neighbour discovery with any hop limit,
    // so also from off-link, where zonecheck asks for 255.
    assert_eq!((code, d["verdict"].as_str()), (1, Some("different")), "{d:#}");
    only_differences(&d, "hop limit", false);
    let unchecked = strings(&d, "not_checked", "chain");
    for chain in
        ["filter_FORWARD", "filter_FWD_public_allow", "filter_OUTPUT", "filter_PREROUTING", "mangle_PREROUTING"]
    {
        assert!(unchecked.contains(&chain), "{chain} is not checked: {unchecked:?}");
    }
    assert!(!unchecked.contains(&"filter_INPUT"), "{unchecked:?}");
    let tried = advice_is_sound(&mut lab, &ns, &policy, "app", file, &d, &json);
    assert!(tried > 0, "firewalld's input side holds rules to advise on: {d:#}");
    note(format!(
        "firewalld next to zonecheck: different in ND hop limit only; {} chains not checked; {tried} advised rule(s) deleted live, nothing changed",
        unchecked.len()
    ));
}

// ---------------------------------------------------------------------------------------
// Kernel-confirmed witnesses
// ---------------------------------------------------------------------------------------

/// At most this many killed mutants per firewall go to the kernel, unless
/// `ZONECHECK_KERNEL_MUTANTS=N` says otherwise.
const KILLED_PER_FIREWALL: usize = 25;

fn killed_per_firewall() -> usize {
    std::env::var("ZONECHECK_KERNEL_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(KILLED_PER_FIREWALL)
}
/// At most this many witnesses (findings) per mutant.
const WITNESSES_PER_MUTANT: usize = 3;
/// How long a witness that should not come out is waited for; one that should may take up
/// to `netns::PASS_TIMEOUT` (it ends the wait as soon as it arrives).
const BLOCK_WINDOW: Duration = Duration::from_millis(200);

/// One firewall to mutate: its policy, device and compiled text.
struct Subject {
    label: String,
    model: Model,
    device: String,
    text: String,
    per_op: usize,
}

fn compiled(model: &Model, device: &str) -> String {
    let templates = zonecheck::targets::Templates::builtin().expect("templates");
    let bundle = zonecheck::compile::compile_model(
        model,
        &Default::default(),
        &templates,
        zonecheck::syntax::date::Date::today_utc(),
    )
    .expect("compiles");
    let file = bundle.files.into_iter().find(|f| f.device == device).unwrap_or_else(|| panic!("no file for {device}"));
    String::from_utf8(file.bytes).expect("UTF-8 ruleset")
}

const SEED: u64 = 20_250_611;

fn subjects() -> Vec<Subject> {
    let mut out = Vec::new();
    for seed in [SEED, SEED + 1, SEED + 2] {
        let g = policy_gen::generate(seed);
        let model = zonecheck::load_str("gen.zc", &g.text).unwrap_or_else(|e| panic!("{:?}", e.diags));
        let text = compiled(&model, "fw-gen");
        out.push(Subject { label: format!("seed {seed} fw-gen"), model, device: "fw-gen".into(), text, per_op: 8 });
    }
    let model = zonecheck::load_policy(&fjordvik()).unwrap_or_else(|e| panic!("{:?}", e.diags));
    let text = compiled(&model, "fw-kjerne");
    out.push(Subject { label: "fjordvik fw-kjerne".into(), model, device: "fw-kjerne".into(), text, per_op: 12 });
    out
}

/// `count` items spread evenly over `v`.
fn spread<T: Clone>(v: &[T], count: usize) -> Vec<T> {
    if v.len() <= count { v.to_vec() } else { (0..count).map(|k| v[k * v.len() / count].clone()).collect() }
}

#[derive(Default)]
struct Tally {
    mutants: usize,
    killed: usize,
    fail_closed: usize,
    inconclusive: usize,
    equivalent: usize,
    sampled: usize,
    nft_rejected: Vec<String>,
    /// Witnesses sent through the kernel (each twice: mutant and original).
    probed: usize,
    confirmed: usize,
    /// Mutants with a witness confirmed in the kernel and none contradicted.
    mutants_confirmed: usize,
    /// Witnesses not sent or not carried, by reason.
    unsendable: BTreeMap<String, usize>,
    /// Witnesses whose "policy intends it" the oracle (`kernel/oracle.rs`) could judge, and
    /// agreed with.
    oracle_agrees: usize,
    failures: Vec<String>,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.mutants += o.mutants;
        self.killed += o.killed;
        self.fail_closed += o.fail_closed;
        self.inconclusive += o.inconclusive;
        self.equivalent += o.equivalent;
        self.sampled += o.sampled;
        self.nft_rejected.extend(o.nft_rejected);
        self.probed += o.probed;
        self.confirmed += o.confirmed;
        self.mutants_confirmed += o.mutants_confirmed;
        for (k, n) in o.unsendable {
            *self.unsendable.entry(k).or_default() += n;
        }
        self.oracle_agrees += o.oracle_agrees;
        self.failures.extend(o.failures);
    }

    fn lines(&self, what: &str) -> String {
        let mut s = format!(
            "{what}: {} mutants: {} killed, {} fail closed, {} inconclusive, {} equivalent; {} killed sampled for the kernel: \
             {} rejected by nft -f; {} witnesses probed, {} confirmed in the kernel ({} mutants confirmed), \
             oracle agrees on {}; {} witnesses skipped",
            self.mutants,
            self.killed,
            self.fail_closed,
            self.inconclusive,
            self.equivalent,
            self.sampled,
            self.nft_rejected.len(),
            self.probed,
            self.confirmed,
            self.mutants_confirmed,
            self.oracle_agrees,
            self.unsendable.values().sum::<usize>(),
        );
        for (why, n) in &self.unsendable {
            s.push_str(&format!("\n    skipped {n}: {why}"));
        }
        for why in &self.nft_rejected {
            s.push_str(&format!("\n    nft rejected: {why}"));
        }
        s
    }
}

/// Why a witness cannot be sent as the first packet of a connection through the router, if
/// that is decided before sending it.
fn unsendable(p: &Packet, d: &Difference, topo: &Topology) -> Option<String> {
    if p.path != Hook::Forward {
        return Some(format!("a {} witness (only forwarded packets go through the router)", p.path.name()));
    }
    if p.ct != Ct::New {
        return Some(format!(
            "a ct state {} witness: an ICMP error is related only when it quotes a tracked connection \
             (tests/kernel_hostile.rs sends those)",
            p.ct.name()
        ));
    }
    let (Some(iif), Some(oif)) = (&d.interfaces.0, &d.interfaces.1) else {
        return Some("a forwarded witness without an input or output interface".into());
    };
    if topo.side_of(iif).is_none() || topo.side_of(oif).is_none() {
        return Some(format!("an interface the topology lacks ({iif} -> {oif})"));
    }
    if p.proto == 6 && p.ack {
        return Some("a TCP segment with ACK or RST (conntrack never sees it as a new connection)".into());
    }
    if matches!(p.proto, 33 | 132 | 136) {
        return Some(format!("protocol {} (conntrack wants a well-formed header this test does not build)", p.proto));
    }
    if matches!(p.proto, 1 | 58) && (p.dport > 255 || p.sport > 255) {
        return Some("an ICMP type or code above 255".into());
    }
    None
}

/// Why a witness can never be the first packet of a connection in the kernel, though
/// `check` (which models exactly such packets) reports it: an ICMP type conntrack does not
/// accept as new (`nf_conntrack_proto_icmp{,v6}.c`) is an error or a reply, so it is
/// related or invalid, and zonecheck's rulesets drop invalid packets before any rule that
/// tells the mutant from the original. Such witnesses are sent anyway: the kernel must
/// drop them with both rulesets and forward them with none.
fn never_new(p: &Packet) -> Option<String> {
    if !matches!(p.proto, 1 | 58) {
        return None;
    }
    let new = if p.proto == 1 { matches!(p.dport, 8 | 13 | 15 | 17) } else { matches!(p.dport, 128 | 139) };
    // IPv6 neighbour discovery and MLD are untracked, not invalid.
    let untracked = p.proto == 58 && matches!(p.dport, 130..=137 | 143);
    (!new && !untracked).then(|| {
        format!(
            "ICMP{} type {}: check models it as opening a connection, but conntrack calls it invalid, so \
             `ct state invalid drop` drops it in both rulesets (verified: both BLOCK, and it passes with no ruleset)",
            if p.proto == 58 { "v6" } else { "" },
            p.dport
        )
    })
}

/// Why the kernel drops a packet before any ruleset sees it, for the report.
fn martian(p: &Packet) -> &'static str {
    let link_local = |a: &std::net::Ipv6Addr| (a.segments()[0] & 0xffc0) == 0xfe80;
    match (p.src_addr(), p.dst_addr()) {
        (IpAddr::V4(s), _) if s.octets()[0] == 0 || s.is_loopback() => "martian source (0.0.0.0/8 or loopback)",
        (IpAddr::V4(s), _) if s.is_multicast() || s.is_broadcast() => "multicast or broadcast source (martian)",
        (_, IpAddr::V4(d)) if d.octets()[0] == 0 || d.is_loopback() => "martian destination (0.0.0.0/8 or loopback)",
        (_, IpAddr::V4(d)) if d.is_multicast() || d.is_broadcast() => "multicast or broadcast destination",
        (IpAddr::V6(s), _) if s.is_multicast() || s.is_loopback() || s.is_unspecified() => {
            "an IPv6 source the kernel never forwards (multicast, loopback, unspecified)"
        }
        (_, IpAddr::V6(d)) if d.is_multicast() || d.is_loopback() || d.is_unspecified() => {
            "an IPv6 destination the kernel never forwards (multicast, loopback, unspecified)"
        }
        (IpAddr::V6(s), IpAddr::V6(d)) if link_local(&s) || link_local(&d) => "a link-local address (never forwarded)",
        _ => "reason unknown",
    }
}

fn shot(p: &Packet) -> Shot {
    Shot { src: p.src_addr(), dst: p.dst_addr(), proto: p.proto, sport: p.sport, dport: p.dport }
}

/// What the oracle (computed from the model alone) says about the policy intending a
/// witness: `None` when it cannot judge (another protocol, or the addresses are not behind
/// the witness's interfaces).
fn oracle_intends(m: &Model, device: &str, p: &Packet, d: &Difference) -> Option<bool> {
    use netns::Proto;
    let proto = match (p.proto, p.dport) {
        (6, _) => Proto::Tcp,
        (17, _) => Proto::Udp,
        (1, 8) | (58, 128) => Proto::Ping,
        _ => return None,
    };
    let d_ifaces = &m.devices.iter().find(|x| x.name == device)?.interfaces;
    let zones = oracle::zone_interfaces(m, device);
    let behind = |ip: IpAddr| oracle::zone_of(m, ip).and_then(|z| zones.get(&z)).map(|i| d_ifaces[*i].name.as_str());
    let (src, dst) = (p.src_addr(), p.dst_addr());
    if behind(src) != d.interfaces.0.as_deref() || behind(dst) != d.interfaces.1.as_deref() {
        return None;
    }
    Some(oracle::permits(m, src, dst, proto, if proto == Proto::Ping { 0 } else { p.dport }))
}

fn run_subject(s: &Subject) -> Tally {
    let started = Instant::now();
    let mut t = Tally::default();
    let point = s.model.enforcement_point(&s.device).unwrap_or_else(|| panic!("no device {}", s.device));
    let acl = AclOptions::default();
    let original = check_device(&s.model, &point, Format::NftText, &s.device, &s.text, &acl);
    assert!(original.equal(), "{}: the compiled firewall must check equal: {original:#?}", s.label);

    let mut killed: Vec<(Mutant, Vec<Difference>)> = Vec::new();
    for m in mutants(Kind::Nft, &s.text, s.per_op) {
        t.mutants += 1;
        let r = check_device(&s.model, &point, Format::NftText, "mutant", &m.text, &acl);
        if !r.problems.is_empty() {
            t.fail_closed += 1;
        } else if r.inconclusive.is_some() {
            t.inconclusive += 1;
        } else if r.differences.is_empty() {
            t.equivalent += 1;
        } else {
            t.killed += 1;
            killed.push((m, r.differences));
        }
    }
    // Mutants seen only through related ICMP errors need a tracked connection to probe;
    // tests/kernel_hostile.rs does that with forged errors.
    killed.retain(|(_, diffs)| diffs.iter().any(|x| x.witness.ct == Ct::New));
    let sample = spread(&killed, killed_per_firewall());
    t.sampled = sample.len();
    note(format!("{}: {} mutants checked in {:.1?}", s.label, t.mutants, started.elapsed()));

    let d = s.model.devices.iter().find(|d| d.name == s.device).expect("device");
    let interfaces: Vec<String> = d.interfaces.iter().map(|i| i.name.clone()).collect();
    let mut lab = Lab::new("ckw");
    let mut topo = Topology::build(&mut lab, &interfaces);
    let dir = lab.dir("rulesets");
    let original_file = dir.join("original.nft");
    std::fs::write(&original_file, &s.text).expect("write the original");
    let mutant_file = dir.join("mutant.nft");

    for (m, diffs) in &sample {
        let what = format!("{} {} at line {}", s.label, m.op, m.line);
        // The witnesses to send, and those that cannot be.
        let mut shots = Vec::new();
        for x in spread(diffs, WITNESSES_PER_MUTANT) {
            match unsendable(&x.witness, &x, &topo) {
                Some(why) => *t.unsendable.entry(why).or_default() += 1,
                None => shots.push(x),
            }
        }
        if shots.is_empty() {
            continue;
        }
        std::fs::write(&mutant_file, &m.text).expect("write the mutant");
        if let Err(e) = lab.nft_load(&topo.router, &mutant_file) {
            let first = e.lines().skip(1).find(|l| l.contains("Error")).unwrap_or("").trim().to_string();
            t.nft_rejected.push(format!("{what}: {first}"));
            continue;
        }
        // Sent once through the mutant, then (after loading the original) once through it.
        // A witness that should pass may take its time; one that should not gets a short
        // window (and is watched for late arrival, see `Topology::send`).
        let expect = |x: &Difference, mutant: bool| {
            never_new(&x.witness).is_none() && (x.direction == Direction::More) == mutant
        };
        let mut fates = vec![(false, false); shots.len()];
        for (k, x) in shots.iter().enumerate() {
            fates[k].0 = probe(&mut topo, x, expect(x, true)).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        lab.nft_load(&topo.router, &original_file).unwrap_or_else(|e| panic!("{}: nft -f original: {e}", s.label));
        for (k, x) in shots.iter().enumerate() {
            fates[k].1 = probe(&mut topo, x, expect(x, false)).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        let (mut confirmed, failed) = (0, t.failures.len());
        for (x, (in_mutant, in_original)) in shots.iter().zip(fates) {
            let w = &x.witness;
            let dir = if x.direction == Direction::More { "more" } else { "less" };
            let fate = |b: bool| if b { "PASS" } else { "BLOCK" };
            let line =
                format!("{what}: {dir} {}: mutant {}, original {}", x.witness_text, fate(in_mutant), fate(in_original));
            let want = (x.direction == Direction::More, x.direction == Direction::Less);
            if (in_mutant, in_original) != want && !in_mutant && !in_original {
                // Neither ruleset lets it through: is it the kernel itself (no ruleset)?
                lab.nft(&topo.router, &["delete", "table", "inet", "zonecheck"]);
                let bare = probe(&mut topo, x, true).unwrap_or_else(|e| panic!("{what}: {e}"));
                let why = match (bare, never_new(w)) {
                    (false, _) => Some(format!("the kernel drops it even with no ruleset: {}", martian(w))),
                    (true, Some(why)) => Some(why),
                    (true, None) => None,
                };
                if let Some(why) = why {
                    note(format!("  skip {line}: {why}"));
                    *t.unsendable.entry(why).or_default() += 1;
                    continue;
                }
            }
            t.probed += 1;
            if (in_mutant, in_original) != want {
                note(format!("  FAIL {line}"));
                t.failures.push(format!("{line}; check claimed {dir}\n{}", context(m)));
                continue;
            }
            // The policy's intent, judged independently of check's intended space.
            if let Some(intends) = oracle_intends(&s.model, &s.device, w, x) {
                if intends != in_original {
                    let verb = if intends { "permits" } else { "does not permit" };
                    note(format!("  FAIL {line}: the oracle says the policy {verb} it"));
                    t.failures.push(format!("{line}: the oracle says the policy {verb} it"));
                    continue;
                }
                t.oracle_agrees += 1;
            }
            note(format!("  ok   {line}"));
            t.confirmed += 1;
            confirmed += 1;
        }
        if confirmed > 0 && failed == t.failures.len() {
            t.mutants_confirmed += 1;
        }
    }
    topo.settle(Duration::from_millis(500)).unwrap_or_else(|e| panic!("{}: {e}", s.label));
    note(format!("{} ({:.1?})", t.lines(&s.label), started.elapsed()));
    // Most sampled mutants must end confirmed: skips are the exception, not the rule.
    assert!(
        t.mutants_confirmed * 4 >= t.sampled * 3,
        "{}: too few mutants confirmed in the kernel:\n{}",
        s.label,
        t.lines(&s.label)
    );
    t
}

/// The mutated line, for failure messages.
fn context(m: &Mutant) -> String {
    let line = m.text.lines().nth(m.line.saturating_sub(1)).unwrap_or("");
    format!("    mutant line {}: {}", m.line, line.trim())
}

/// Sends a witness through the router; `expect` chooses the wait (long when it should
/// arrive: it ends the wait as soon as it does).
fn probe(topo: &mut Topology, x: &Difference, expect: bool) -> Result<bool, String> {
    let (iif, oif) = (x.interfaces.0.as_deref().unwrap_or(""), x.interfaces.1.as_deref().unwrap_or(""));
    let (from, to) = (topo.side_of(iif).expect("a side"), topo.side_of(oif).expect("a side"));
    let timeout = if expect { netns::PASS_TIMEOUT } else { BLOCK_WINDOW };
    topo.send(&shot(&x.witness), &from, &to, timeout)
}

#[test]
fn killed_mutants_have_kernel_confirmed_witnesses() {
    if !kernel_ready("killed_mutants_have_kernel_confirmed_witnesses") {
        return;
    }
    let started = Instant::now();
    let mut total = Tally::default();
    // The firewalls in parallel: most of the time goes to waiting for packets that must
    // not arrive, and each firewall has namespaces of its own.
    let results: Vec<std::thread::Result<Tally>> = std::thread::scope(|scope| {
        let handles: Vec<_> = subjects().into_iter().map(|s| scope.spawn(move || run_subject(&s))).collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    for r in results {
        match r {
            Ok(t) => total.add(t),
            Err(e) => std::panic::resume_unwind(e),
        }
    }
    note(format!("{} (in {:.1?})", total.lines("all firewalls"), started.elapsed()));
    assert!(
        total.failures.is_empty(),
        "{} witness(es) fare in the kernel otherwise than check claimed:\n{}",
        total.failures.len(),
        total.failures.join("\n")
    );
    assert!(total.confirmed >= 40, "too few witnesses confirmed in the kernel: {}", total.lines("all"));
}
