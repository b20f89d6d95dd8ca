//! Real-kernel tests of the nftables output of `zonecheck compile`.
//!
//! As root, each test builds network namespaces — one router with a veth per firewall
//! interface (named exactly as the policy names it) and one namespace per interface holding
//! sample hosts of every zone behind it — loads the compiled ruleset with `nft -f`, and
//! probes with real TCP and UDP connections. What must connect and what must not is
//! computed from the resolved model (`kernel/oracle.rs`), never from the compiler's output.
//! Every probe is first run without any ruleset, as a positive control: it must connect, so
//! a BLOCK later is the ruleset's doing, not the lab's.
//!
//! Without root, `ip` or `nft` the tests print why and pass, unless
//! `ZONECHECK_REQUIRE_KERNEL=1` (CI), which makes them fail. Every probe and its outcome
//! is printed: `cargo test --release --test kernel -- --test-threads=1 --nocapture`.
//! `ZONECHECK_KERNEL_SEED=N` runs the generated-policy test on one seed only.
//!
//! Packets go only between addresses that exist inside the namespaces a test creates. The
//! namespaces are named `zct<pid>-<tag><n>-…`, so tests and runs can go in parallel, and are
//! deleted when the test ends, also when it fails (and by the next run if the process was
//! killed).

#[path = "kernel/netns.rs"]
mod netns;
#[path = "kernel/oracle.rs"]
mod oracle;
#[path = "kernel/policy_gen.rs"]
mod policy_gen;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use netns::{Attempt, Lab, Outcome, Proto, kernel_ready, note};
use oracle::{Budget, FirewallPlan, HostPlan, Probe};
use zonecheck::Model;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> Model {
    zonecheck::load_policy(path).unwrap_or_else(|e| panic!("{}: {:?}", path.display(), e.diags))
}

/// `zonecheck compile POLICY -o OUT`; returns OUT.
fn compile(policy: &Path, out: &Path) -> PathBuf {
    let result = netns::run(
        env!("CARGO_BIN_EXE_zonecheck"),
        &["compile", &policy.to_string_lossy(), "-o", &out.to_string_lossy()],
        netns::COMMAND_TIMEOUT,
    );
    if let Err(e) = result {
        panic!("zonecheck compile {} failed:\n{e}", policy.display());
    }
    out.to_path_buf()
}

fn bundle_file(bundle: &Path, kind: &str, name: &str) -> PathBuf {
    let file = bundle.join(kind).join(format!("{name}.nft"));
    assert!(file.is_file(), "the bundle has no {}", file.display());
    file
}

/// A router namespace with one veth per firewall interface, and per interface a side
/// namespace holding every probe address that sits behind it.
struct FirewallLab {
    router: String,
    /// Namespace of each interface's side.
    sides: Vec<String>,
    /// Namespace of every probe address.
    host_ns: BTreeMap<IpAddr, String>,
}

impl FirewallLab {
    fn build(lab: &mut Lab, plan: &FirewallPlan, probes: &[Probe]) -> FirewallLab {
        let router = lab.namespace("r", true);
        let mut hosts: Vec<Vec<IpAddr>> = vec![Vec::new(); plan.interfaces.len()];
        let mut host_ns = BTreeMap::new();
        let sides: Vec<String> = (0..plan.interfaces.len()).map(|i| lab.namespace(&format!("s{i}"), false)).collect();
        for ip in probes.iter().flat_map(|p| [p.src, p.dst]) {
            let i = plan.interface_of(ip).unwrap_or_else(|| panic!("{ip} is behind no interface of {}", plan.device));
            if !hosts[i].contains(&ip) {
                hosts[i].push(ip);
                host_ns.insert(ip, sides[i].clone());
            }
        }
        let mut router_cmds = Vec::new();
        for (i, name) in plan.interfaces.iter().enumerate() {
            lab.veth(&router, name, &sides[i], "eth0");
            // The router answers as 169.254.0.1 / fe80::1 on every link; sides route
            // everything there, and the router reaches each zone's prefixes on-link.
            router_cmds.push(format!("addr add 169.254.0.1/32 dev {name}"));
            router_cmds.push(format!("addr add fe80::1/64 dev {name} nodad"));
            let mut side_cmds: Vec<String> = hosts[i]
                .iter()
                .map(|ip| match ip {
                    IpAddr::V4(a) => format!("addr add {a}/32 dev eth0"),
                    IpAddr::V6(a) => format!("addr add {a}/128 dev eth0 nodad"),
                })
                .collect();
            side_cmds.push("route add default via 169.254.0.1 dev eth0 onlink".into());
            side_cmds.push("route add ::/0 via fe80::1 dev eth0".into());
            lab.ip_batch(&sides[i], &side_cmds);
        }
        for (net, i) in &plan.routes {
            let name = &plan.interfaces[*i];
            let net =
                if net.prefix_len() == 0 && net.addr().is_ipv4() { "default".to_string() } else { net.to_string() };
            router_cmds.push(format!("route add {net} dev {name}"));
        }
        lab.ip_batch(&router, &router_cmds);
        FirewallLab { router, sides, host_ns }
    }

    fn flush_neighbours(&self, lab: &Lab) {
        lab.flush_neighbours(&self.router);
        for side in &self.sides {
            lab.flush_neighbours(side);
        }
    }

    fn attempts(&self, probes: &[Probe]) -> Vec<Attempt> {
        probes
            .iter()
            .map(|p| Attempt {
                src_ns: self.host_ns[&p.src].clone(),
                src: p.src,
                dst_ns: self.host_ns[&p.dst].clone(),
                dst: p.dst,
                proto: p.proto,
                port: p.port,
                timeout: timeout(p),
            })
            .collect()
    }
}

/// Two namespaces on one veth: the host with its addresses, and its peers.
struct HostLab {
    host: String,
    peers: String,
    host_addrs: Vec<IpAddr>,
}

impl HostLab {
    fn build(lab: &mut Lab, plan: &HostPlan) -> HostLab {
        let host = lab.namespace("h", false);
        let peers = lab.namespace("p", false);
        lab.veth(&host, "eth0", &peers, "eth0");
        let add = |ip: &IpAddr| match ip {
            IpAddr::V4(a) => format!("addr add {a}/32 dev eth0"),
            IpAddr::V6(a) => format!("addr add {a}/128 dev eth0 nodad"),
        };
        let routes = ["route add default dev eth0".to_string(), "route add ::/0 dev eth0".to_string()];
        let mut host_cmds: Vec<String> = plan.addresses.iter().map(add).collect();
        host_cmds.extend(routes.clone());
        let mut peer_ips: Vec<IpAddr> = plan
            .probes
            .iter()
            .flat_map(|p| [p.src, p.dst])
            .filter(|ip| !plan.addresses.contains(ip) && !ip.is_loopback())
            .collect();
        peer_ips.sort();
        peer_ips.dedup();
        let mut peer_cmds: Vec<String> = peer_ips.iter().map(add).collect();
        peer_cmds.extend(routes);
        lab.ip_batch(&host, &host_cmds);
        lab.ip_batch(&peers, &peer_cmds);
        HostLab { host, peers, host_addrs: plan.addresses.clone() }
    }

    fn attempts(&self, probes: &[Probe]) -> Vec<Attempt> {
        let ns = |ip: IpAddr| {
            if self.host_addrs.contains(&ip) || ip.is_loopback() { self.host.clone() } else { self.peers.clone() }
        };
        probes
            .iter()
            .map(|p| Attempt {
                src_ns: ns(p.src),
                src: p.src,
                dst_ns: ns(p.dst),
                dst: p.dst,
                proto: p.proto,
                port: p.port,
                timeout: timeout(p),
            })
            .collect()
    }
}

/// A probe that should connect may wait long; one that should not, only briefly.
fn timeout(p: &Probe) -> std::time::Duration {
    if p.expect_pass { netns::PASS_TIMEOUT } else { netns::BLOCK_TIMEOUT }
}

fn expected(p: &Probe) -> &'static str {
    if p.expect_pass { "PASS" } else { "BLOCK" }
}

/// Runs the probes without a ruleset: every one must connect, or the lab is broken.
fn positive_control(attempts: &[Attempt], probes: &[Probe]) {
    let attempts: Vec<Attempt> =
        attempts.iter().map(|a| Attempt { timeout: netns::PASS_TIMEOUT, ..a.clone() }).collect();
    let outcomes = netns::probe_all(&attempts);
    let broken: Vec<String> = attempts
        .iter()
        .zip(&outcomes)
        .zip(probes)
        .filter(|((_, o), _)| !o.passed())
        .map(|((a, o), p)| format!("  {a}: {o} (probe for {})", p.why))
        .collect();
    assert!(
        broken.is_empty(),
        "positive control: without a ruleset these probes must connect, so the lab is broken:\n{}",
        broken.join("\n")
    );
}

/// Runs the probes and returns every mismatch (printing all results).
fn check_probes(label: &str, attempts: &[Attempt], probes: &[Probe]) -> Vec<String> {
    let started = Instant::now();
    let outcomes = netns::probe_all(attempts);
    let mut mismatches = Vec::new();
    note(format!("{label}: {} probes in {:.1?}", probes.len(), started.elapsed()));
    for ((a, p), o) in attempts.iter().zip(probes).zip(&outcomes) {
        let ok = if p.expect_pass { o.passed() } else { o.blocked() };
        let line =
            format!("{} {a}: expected {}, got {o} — {}", if ok { "  ok  " } else { "  FAIL" }, expected(p), p.why);
        note(&line);
        if !ok {
            mismatches.push(line.trim_start().to_string());
        }
    }
    mismatches
}

fn fail_on(mismatches: &[String], context: &str) {
    assert!(
        mismatches.is_empty(),
        "{context}: {} probe(s) disagree with the policy:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The full firewall check for one device of one policy: control, load, probe.
fn check_firewall(tag: &str, policy: &Path, device: &str, budget: Budget) {
    let started = Instant::now();
    let model = load(policy);
    let plan = oracle::firewall_plan(&model, device, budget);
    let passes = plan.probes.iter().filter(|p| p.expect_pass).count();
    note(format!(
        "{device}: {} interfaces, {} probes ({passes} PASS, {} BLOCK)",
        plan.interfaces.len(),
        plan.probes.len(),
        plan.probes.len() - passes
    ));
    assert!(passes >= 5 && plan.probes.len() > passes, "the oracle found too few probes for {device}");
    let mut lab = Lab::new(tag);
    let bundle = compile(policy, &lab.dir("bundle"));
    let file = bundle_file(&bundle, "firewall", device);
    let fw = FirewallLab::build(&mut lab, &plan, &plan.probes);
    let attempts = fw.attempts(&plan.probes);
    positive_control(&attempts, &plan.probes);
    lab.nft_load(&fw.router, &file).unwrap_or_else(|e| panic!("nft -f {}:\n{e}", file.display()));
    fw.flush_neighbours(&lab);
    let mismatches = check_probes(device, &attempts, &plan.probes);
    note(format!("{device}: done in {:.1?}", started.elapsed()));
    fail_on(&mismatches, &format!("{device} ({})", file.display()));
}

/// Writes a generated policy to `dir/policy.zc`.
fn write_policy(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("policy.zc");
    std::fs::write(&path, text).expect("write policy");
    path
}

const SEED: u64 = 20_250_611;

/// The seeds of the generated policies: three fixed ones, or `ZONECHECK_KERNEL_SEED`.
fn seeds() -> Vec<u64> {
    match std::env::var("ZONECHECK_KERNEL_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => vec![SEED, SEED + 1, SEED + 2],
    }
}

#[test]
fn firewall_of_a_generated_policy_permits_exactly_its_flows() {
    if !kernel_ready("firewall_of_a_generated_policy_permits_exactly_its_flows") {
        return;
    }
    let mut failures = Vec::new();
    for seed in seeds() {
        let generated = policy_gen::generate(seed);
        let mut lab = Lab::new("pol");
        let policy = write_policy(&lab.dir("policy"), &generated.text);
        note(&generated.text);
        let result =
            std::panic::catch_unwind(|| check_firewall(&format!("g{seed}-"), &policy, "fw-gen", Budget::DEFAULT));
        if let Err(e) = result {
            let message = e.downcast_ref::<String>().cloned().unwrap_or_else(|| "panicked".into());
            failures.push(format!("seed {seed} (set ZONECHECK_KERNEL_SEED={seed} to rerun it alone): {message}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn firewall_of_fjordvik_permits_exactly_its_flows() {
    if !kernel_ready("firewall_of_fjordvik_permits_exactly_its_flows") {
        return;
    }
    // Fjordvik has ~60 flows over 12 interfaces and probing is quick, so sample more.
    let budget = Budget { pass: 60, reverse: 25, other_port: 25, unconnected: 12, saas: 4, nested: 12 };
    check_firewall("fjv", &repo().join("policies/fjordvik"), "fw-kjerne", budget);
}

/// One host ruleset: control, load, probe.
fn check_host(tag: &str, policy: &Path, system: &str) -> Vec<String> {
    let model = load(policy);
    let plan = oracle::host_plan(&model, system);
    let passes = plan.probes.iter().filter(|p| p.expect_pass).count();
    note(format!(
        "host {} ({}, {}): {} probes ({passes} PASS)",
        plan.system,
        plan.addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        if plan.closed { "closed zone" } else { "not closed" },
        plan.probes.len()
    ));
    assert!(passes >= 2 && plan.probes.len() > passes, "the oracle found too few probes for host {system}");
    let mut lab = Lab::new(tag);
    let bundle = compile(policy, &lab.dir("bundle"));
    let file = bundle_file(&bundle, "host", system);
    let hl = HostLab::build(&mut lab, &plan);
    let attempts = hl.attempts(&plan.probes);
    positive_control(&attempts, &plan.probes);
    lab.nft_load(&hl.host, &file).unwrap_or_else(|e| panic!("nft -f {}:\n{e}", file.display()));
    // IPv6 must resolve its neighbours through the loaded ruleset (ND), not from the cache
    // the control run filled.
    lab.flush_neighbours(&hl.host);
    lab.flush_neighbours(&hl.peers);
    check_probes(&format!("host {system}"), &attempts, &plan.probes)
}

#[test]
fn host_rulesets_permit_exactly_the_flows_to_and_from_the_host() {
    if !kernel_ready("host_rulesets_permit_exactly_the_flows_to_and_from_the_host") {
        return;
    }
    let generated = policy_gen::generate(SEED);
    let mut lab = Lab::new("hpol");
    let policy = write_policy(&lab.dir("policy"), &generated.text);
    let fjordvik = repo().join("policies/fjordvik");
    // The bundle has a host file for every Linux system and a firewall file for every
    // nftables firewall (the compile contract).
    for path in [&policy, &fjordvik] {
        let model = load(path);
        let bundle = compile(path, &lab.dir("contract"));
        for system in oracle::linux_systems(&model) {
            bundle_file(&bundle, "host", &system);
        }
        for device in oracle::nftables_firewalls(&model) {
            bundle_file(&bundle, "firewall", &device);
        }
    }
    let mut mismatches = Vec::new();
    // A closed-zone Linux host of the generated policy (z1 is closed, z1-h1 is Linux), and
    // in Fjordvik the closed backup repository and the SIEM collector (internal).
    for (tag, policy, system) in [("hg", &policy, "z1-h1"), ("hb", &fjordvik, "backup-repo"), ("hs", &fjordvik, "siem")]
    {
        mismatches.extend(check_host(tag, policy, system).into_iter().map(|m| format!("{system}: {m}")));
    }
    fail_on(&mismatches, "host rulesets");
}

/// `nft list ruleset` and `nft -j list ruleset` with handles dropped and counters zeroed.
fn ruleset_state(lab: &Lab, ns: &str) -> (String, serde_json::Value) {
    fn normalise(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("handle");
                for (k, x) in map.iter_mut() {
                    if k == "packets" || k == "bytes" {
                        *x = serde_json::Value::from(0);
                    } else {
                        normalise(x);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(normalise),
            _ => {}
        }
    }
    // Counters as zero: the firewall's own input and output chains count what reaches the
    // router (IPv6 multicast listener reports, say) while the test runs.
    let text: String = lab
        .nft(ns, &["list", "ruleset"])
        .lines()
        .map(|l| match l.find("counter packets ") {
            Some(i) => {
                let rest = &l[i..];
                let end = rest.find(" bytes ").and_then(|b| rest[b + 7..].find(' ').map(|e| b + 7 + e));
                format!("{}counter packets 0 bytes 0{}\n", &l[..i], end.map_or("", |e| &rest[e..]))
            }
            None => format!("{l}\n"),
        })
        .collect();
    let mut json: serde_json::Value =
        serde_json::from_str(&lab.nft(ns, &["-j", "list", "ruleset"])).expect("nft -j is JSON");
    normalise(&mut json);
    (text, json)
}

/// Whether `text` holds `word` with no address or number character on either side.
fn contains_word(text: &str, word: &str) -> bool {
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == ':';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(is_part)
            && !text[i + word.len()..].chars().next().is_some_and(is_part)
    })
}

#[test]
fn reload_is_idempotent_and_leaves_no_stale_element() {
    if !kernel_ready("reload_is_idempotent_and_leaves_no_stale_element") {
        return;
    }
    let started = Instant::now();
    let generated = policy_gen::generate(SEED);
    let mut lab = Lab::new("rld");
    let old_policy = write_policy(&lab.dir("old"), &generated.text);
    let new_text = generated.text.replace(&format!("{}\n", generated.stale_line), "");
    assert_ne!(new_text, generated.text, "the stale flow line is in the policy");
    let new_policy = write_policy(&lab.dir("new"), &new_text);
    let (old_model, new_model) = (load(&old_policy), load(&new_policy));
    let old_file = bundle_file(&compile(&old_policy, &lab.dir("old-bundle")), "firewall", "fw-gen");
    let new_file = bundle_file(&compile(&new_policy, &lab.dir("new-bundle")), "firewall", "fw-gen");

    // The removed flow's probe, plus a few of the old plan's probes that the removal does
    // not affect.
    let stale_src: IpAddr = policy_gen::STALE_SRC.parse().expect("address");
    let stale_dst: IpAddr = policy_gen::STALE_DST.parse().expect("address");
    let stale = Probe {
        src: stale_src,
        dst: stale_dst,
        proto: Proto::Tcp,
        port: policy_gen::STALE_PORT,
        expect_pass: true,
        why: "the stale-test flow".into(),
    };
    assert!(oracle::permits(&old_model, stale_src, stale_dst, Proto::Tcp, policy_gen::STALE_PORT));
    assert!(!oracle::permits(&new_model, stale_src, stale_dst, Proto::Tcp, policy_gen::STALE_PORT));
    let plan = oracle::firewall_plan(
        &old_model,
        "fw-gen",
        Budget { pass: 6, reverse: 3, other_port: 3, unconnected: 2, saas: 0, nested: 0 },
    );
    let mut probes = vec![stale.clone()];
    probes.extend(plan.probes.iter().filter(|p| p.dst != stale_dst && p.src != stale_src).cloned());
    let fw = FirewallLab::build(&mut lab, &plan, &probes);
    let attempts = fw.attempts(&probes);
    positive_control(&attempts, &probes);

    // A table that is not ours must survive every load.
    let keep = "table ip zct_keep {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 192.0.2.1 }\n\t}\n}\n";
    lab.nft_load_text(&fw.router, "keep", keep).expect("load the foreign table");
    let foreign = |lab: &Lab| lab.nft(&fw.router, &["list", "table", "ip", "zct_keep"]);
    let foreign_before = foreign(&lab);

    // Idempotence: the second load of the same file leaves the same ruleset.
    lab.nft_load(&fw.router, &old_file).unwrap_or_else(|e| panic!("first load:\n{e}"));
    let first = ruleset_state(&lab, &fw.router);
    lab.nft_load(&fw.router, &old_file).unwrap_or_else(|e| panic!("second load:\n{e}"));
    let second = ruleset_state(&lab, &fw.router);
    let mut failures = Vec::new();
    if first.0 != second.0 {
        failures.push(format!("loading twice changed `nft list ruleset`:\n{}", first_difference(&first.0, &second.0)));
    }
    if first.1 != second.1 {
        failures.push("loading twice changed `nft -j list ruleset` (handles and counters ignored)".to_string());
    }
    fw.flush_neighbours(&lab);
    failures.extend(check_probes("old bundle", &attempts, &probes));

    // The new bundle over the old one: the removed flow is gone from the kernel, and the
    // ruleset is the one a fresh load of the new bundle gives.
    lab.nft_load(&fw.router, &new_file).unwrap_or_else(|e| panic!("loading the new bundle over the old:\n{e}"));
    let (text, json) = ruleset_state(&lab, &fw.router);
    for (what, word) in
        [("port", policy_gen::STALE_PORT.to_string()), ("source address", policy_gen::STALE_SRC.to_string())]
    {
        if contains_word(&text, &word) {
            failures
                .push(format!("after loading the new bundle the ruleset still holds the removed flow's {what} {word}"));
        }
    }
    let fresh = lab.namespace("fresh", false);
    lab.nft_load_text(&fresh, "keep", keep).expect("load the foreign table");
    lab.nft_load(&fresh, &new_file).unwrap_or_else(|e| panic!("fresh load of the new bundle:\n{e}"));
    let (fresh_text, fresh_json) = ruleset_state(&lab, &fresh);
    if fresh_text != text {
        failures.push(format!(
            "the new bundle over the old differs from a fresh load:\n{}",
            first_difference(&fresh_text, &text)
        ));
    }
    if fresh_json != json {
        failures.push("the new bundle over the old differs from a fresh load in `nft -j list ruleset`".into());
    }
    if foreign(&lab) != foreign_before {
        failures.push("loading our bundles changed a table that is not ours (ip zct_keep)".into());
    }
    let mut after: Vec<Probe> = probes.clone();
    for p in &mut after {
        p.expect_pass = oracle::permits(&new_model, p.src, p.dst, p.proto, p.port);
        if !p.expect_pass && p.why == stale.why {
            p.why = "the stale-test flow, removed in the new bundle".into();
        }
    }
    assert!(!after[0].expect_pass);
    fw.flush_neighbours(&lab);
    failures.extend(check_probes("new bundle over the old", &fw.attempts(&after), &after));
    note(format!("reload test done in {:.1?}", started.elapsed()));
    fail_on(&failures, "reload");
}

/// The first differing line of two texts, for messages.
fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = la.iter().zip(&lb).position(|(x, y)| x != y).unwrap_or(la.len().min(lb.len()));
    format!("  line {}:\n  - {}\n  + {}", i + 1, la.get(i).unwrap_or(&"<end>"), lb.get(i).unwrap_or(&"<end>"))
}

/// The harness itself, against a hand-written ruleset in the shape of targets.md §1.1:
/// the oracle's PASS probes connect and its BLOCK probes do not. Independent of `compile`,
/// so a failure here is the lab's or the oracle's, not the compiler's.
#[test]
fn harness_agrees_with_a_hand_written_ruleset() {
    if !kernel_ready("harness_agrees_with_a_hand_written_ruleset") {
        return;
    }
    let policy = r#"
zone a { trust internal; net 10.71.0.0/24, fd71:a::/64 }
zone b { trust internal; net 10.72.0.0/24, fd71:b::/64 }
zone c { trust dmz; net 10.73.0.0/24 }
zone internet { trust external; net 0.0.0.0/0, ::/0 }
system web { zone b; address 10.72.0.10, fd71:b::10; platform linux }
system db { zone c; address 10.73.0.20; platform linux }
service pg { tcp/5432, tcp/8000-8010 }
flow a -> web : https, dns "Clients use the web"
flow web -> db : pg "The web uses the database"
flow db -> internet : https "Updates"
firewall fw-toy { target nftables; interface r-a zone a; interface r-b zone b; interface "r-c.7" zone c; interface r-inet zone internet }
"#;
    let model = zonecheck::load_str("toy.zc", policy).unwrap_or_else(|e| panic!("{:?}", e.diags));
    let ruleset = r#"
table inet zct
delete table inet zct
table inet zct {
  set a_b {
    typeof ip saddr . ip daddr . meta l4proto . th dport
    flags interval
    counter
    elements = { 10.71.0.0/24 . 10.72.0.10 . tcp . 443, 10.71.0.0/24 . 10.72.0.10 . tcp . 53, 10.71.0.0/24 . 10.72.0.10 . udp . 53 }
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state invalid drop
    iifname . oifname vmap { "r-a" . "r-b" : jump a_to_b, "r-b" . "r-c.7" : jump b_to_c, "r-c.7" . "r-inet" : jump c_to_inet }
  }
  chain a_to_b {
    ip saddr . ip daddr . meta l4proto . th dport @a_b counter accept
    ip6 saddr fd71:a::/64 ip6 daddr fd71:b::10 meta l4proto . th dport { tcp . 443, tcp . 53, udp . 53 } accept
  }
  chain b_to_c {
    ip saddr 10.72.0.10 ip daddr 10.73.0.20 tcp dport { 5432, 8000-8010 } accept
  }
  chain c_to_inet {
    ip saddr 10.73.0.20 tcp dport 443 accept
  }
}
"#;
    let plan = oracle::firewall_plan(&model, "fw-toy", Budget::DEFAULT);
    let passes = plan.probes.iter().filter(|p| p.expect_pass).count();
    assert!(passes >= 6 && plan.probes.len() >= passes + 6, "toy plan: {:#?}", plan.probes);
    assert!(plan.probes.iter().any(|p| p.src.is_ipv6()), "toy plan has IPv6 probes");
    let mut lab = Lab::new("self");
    let fw = FirewallLab::build(&mut lab, &plan, &plan.probes);
    let attempts = fw.attempts(&plan.probes);
    positive_control(&attempts, &plan.probes);
    lab.nft_load_text(&fw.router, "toy", ruleset).unwrap_or_else(|e| panic!("{e}"));
    fw.flush_neighbours(&lab);
    let mismatches = check_probes("toy", &attempts, &plan.probes);
    fail_on(&mismatches, "the hand-written toy ruleset");
    // And the probes can fail: with the forward chain accepting everything, every BLOCK
    // probe connects.
    lab.nft_load_text(&fw.router, "open", "table inet zct\ndelete table inet zct\n").unwrap_or_else(|e| panic!("{e}"));
    let open: Vec<Attempt> = attempts.iter().map(|a| Attempt { timeout: netns::PASS_TIMEOUT, ..a.clone() }).collect();
    let open = netns::probe_all(&open);
    for ((a, p), o) in attempts.iter().zip(&plan.probes).zip(&open) {
        assert!(o.passed(), "{a} ({}) must connect with no ruleset, got {o}", p.why);
    }
    // A timeout is told apart from a refusal.
    let reject = "table inet zct\ndelete table inet zct\ntable inet zct {\n  chain f {\n    type filter hook forward priority filter; policy accept;\n    meta l4proto tcp reject with tcp reset\n  }\n}\n";
    lab.nft_load_text(&fw.router, "reject", reject).unwrap_or_else(|e| panic!("{e}"));
    let tcp = attempts.iter().position(|a| a.proto == Proto::Tcp).expect("a tcp probe");
    assert_eq!(netns::probe(&attempts[tcp]), Outcome::Refused, "a TCP reset reads as refused");
}

/// DESIGN.md §4a in the real kernel: for generated topologies (zones assigned to firewall
/// interfaces at random, so some share a segment with the closed zone), every enforcement
/// gap `verify` reports is a pair of hosts that exchange undeclared packets through the
/// compiled firewall, and every pair it does not report cannot. The lab models a segment
/// as one namespace, as `FirewallLab` does for every interface.
#[test]
fn enforcement_gaps_are_exactly_the_pairs_that_exchange_packets() {
    if !kernel_ready("enforcement_gaps_are_exactly_the_pairs_that_exchange_packets") {
        return;
    }
    const ZONES: [(&str, &str); 5] =
        [("lukket", "closed"), ("lukket2", "closed"), ("adm", "internal"), ("dmz", "dmz"), ("gjest", "external")];
    let mut failures = Vec::new();
    for seed in seeds() {
        // Zone i on interface `pick(i)` of three; the closed zone is always on eth0.
        let mut state = seed;
        let mut pick = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % 3) as usize
        };
        // One non-closed zone always shares the closed zone's segment, so every run has a gap.
        let shared = 2 + (seed % 3) as usize;
        let iface: Vec<usize> = (0..ZONES.len()).map(|i| if i == 0 || i == shared { 0 } else { pick() }).collect();
        let mut text = String::from("class helse { special; confined }\n");
        for (i, (name, trust)) in ZONES.iter().enumerate() {
            text.push_str(&format!("zone {name} {{ trust {trust}; net 10.8{i}.0.0/24 }}\n"));
            let holds = if i == 0 { "; holds helse" } else { "" };
            text.push_str(&format!("system s{i} {{ zone {name}; address 10.8{i}.0.10; platform appliance{holds} }}\n"));
        }
        text.push_str("firewall fw-gap {\n  target nftables\n");
        for k in 0..3 {
            let zones: Vec<&str> = (0..ZONES.len()).filter(|i| iface[*i] == k).map(|i| ZONES[i].0).collect();
            if !zones.is_empty() {
                text.push_str(&format!("  interface eth{k} zone {}\n", zones.join(", ")));
            }
        }
        text.push_str("}\n");
        note(&text);
        let result = std::panic::catch_unwind(|| {
            let model = zonecheck::load_str("gaps.zc", &text).expect("resolves");
            let verdict = zonecheck::verify::verify(&model, &zonecheck::verify::Options::default());
            let gap_zones: Vec<String> =
                verdict.enforcement.gaps.iter().map(|g| model.zone(g.outside).name.clone()).collect();
            // The library compiles without verify's gate: the point is to run the gaps.
            let templates = zonecheck::targets::Templates::builtin().expect("templates");
            let bundle = zonecheck::compile::compile(
                &zonecheck::verify::unverified(&model),
                &zonecheck::compile::Options::default(),
                &templates,
            )
            .expect("compiles");
            let mut lab = Lab::new(&format!("gap{seed}-"));
            let file = lab.dir("bundle").join("fw-gap.nft");
            let nft = bundle.files.iter().find(|f| f.device == "fw-gap").expect("firewall file");
            std::fs::write(&file, &nft.bytes).expect("write");
            let device = model.devices.iter().find(|d| d.name == "fw-gap").expect("device");
            let plan = FirewallPlan {
                device: "fw-gap".into(),
                interfaces: device.interfaces.iter().map(|i| i.name.clone()).collect(),
                routes: ZONES
                    .iter()
                    .enumerate()
                    .map(|(i, _)| {
                        let slot = device.interfaces.iter().position(|x| x.name == format!("eth{}", iface[i]));
                        (format!("10.8{i}.0.0/24").parse().expect("net"), slot.expect("interface"))
                    })
                    .collect(),
                probes: Vec::new(),
            };
            // Undeclared TCP both ways between the holder and every zone helse may not be in.
            let holder: IpAddr = "10.80.0.10".parse().expect("ip");
            let mut probes = Vec::new();
            for (i, (name, trust)) in ZONES.iter().enumerate().skip(1) {
                if *trust == "closed" {
                    continue;
                }
                let other: IpAddr = format!("10.8{i}.0.10").parse().expect("ip");
                let gap = gap_zones.iter().any(|z| z == name);
                assert_eq!(gap, iface[i] == iface[0], "verify's gap to `{name}` against the topology");
                for (src, dst) in [(holder, other), (other, holder)] {
                    probes.push(Probe {
                        src,
                        dst,
                        proto: Proto::Tcp,
                        port: 6001,
                        expect_pass: gap,
                        why: format!("{} gap lukket -> {name}", if gap { "a" } else { "no" }),
                    });
                }
            }
            let fw = FirewallLab::build(&mut lab, &plan, &probes);
            let attempts = fw.attempts(&probes);
            positive_control(&attempts, &probes);
            lab.nft_load(&fw.router, &file).unwrap_or_else(|e| panic!("nft -f {}:\n{e}", file.display()));
            fw.flush_neighbours(&lab);
            let mismatches = check_probes("fw-gap", &attempts, &probes);
            fail_on(&mismatches, "enforcement gaps");
        });
        if let Err(e) = result {
            let message = e.downcast_ref::<String>().cloned().unwrap_or_else(|| "panicked".into());
            failures.push(format!("seed {seed}: {message}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
