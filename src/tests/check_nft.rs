//! The nftables readers of `zonecheck check`: JSON (`nft -j list ruleset`) and text.
//!
//! - The JSON that real nft printed for a ruleset and the ruleset's text give the same
//!   permitted space (fw-kjerne, a host, a hand-written ruleset using every construct).
//! - Packets traced through the hand-written ruleset get the verdict nft gives them.
//! - Unsupported constructs are problems with a location; random input never panics.

use std::path::PathBuf;

use crate::check::read::nft::read_json;
use crate::check::read::nft_text::read_text;
use crate::check::read::{Action, Ifaces, Ruleset};
use crate::check::space::{Ct, Cube, Dim, Packet, Path, Space, addr_value};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/nft").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn permitted(rs: &Ruleset) -> Space {
    rs.permitted(&Path::ALL).expect("evaluates").permitted
}

fn same_space(a: &Space, b: &Space) {
    assert!(a.is_subset(b).expect("not fragmented"), "first permits more than second");
    assert!(b.is_subset(a).expect("not fragmented"), "second permits more than first");
}

/// Read a fixture as JSON and as text (each with a list of files, one Ifaces).
fn both(json: &str, texts: &[&str]) -> (Ruleset, Vec<Ruleset>, Ifaces) {
    let mut ifaces = Ifaces::new();
    let j = read_json(&fixture(json), &mut ifaces);
    assert!(j.problems.is_empty(), "{json}: {:?}", j.problems);
    let ts = texts
        .iter()
        .map(|t| {
            let r = read_text(&fixture(t), &mut ifaces);
            assert!(r.problems.is_empty(), "{t}: {:?}", r.problems);
            r
        })
        .collect();
    (j, ts, ifaces)
}

#[test]
fn fw_kjerne_json_and_text_agree() {
    let (j, ts, _) = both("fw-kjerne.json", &["fw-kjerne.nft"]);
    let pj = permitted(&j);
    assert!(!pj.is_empty());
    same_space(&pj, &permitted(&ts[0]));
    // 31 interface pairs: one rule per vmap element, besides the log and the default deny.
    let fwd = j.chain_named("zc_forward").expect("forward chain");
    assert_eq!(j.chains[fwd].rules.iter().filter(|r| matches!(r.action, Action::Jump(_))).count(), 31);
}

#[test]
fn host_json_and_text_agree() {
    let (j, ts, _) = both("backup-repo.json", &["backup-repo.nft", "backup-repo.listed.nft"]);
    let pj = permitted(&j);
    for t in &ts {
        same_space(&pj, &permitted(t));
    }
}

#[test]
fn handwritten_json_and_text_agree() {
    let (j, ts, _) = both("handwritten.json", &["handwritten.nft", "handwritten.listed.nft"]);
    let pj = permitted(&j);
    for t in &ts {
        same_space(&pj, &permitted(t));
    }
}

#[test]
fn conntrack_rules_match_their_states() {
    let mut ifaces = Ifaces::new();
    let rs = read_text(&fixture("backup-repo.nft"), &mut ifaces);
    let input = rs.chain_named("zc_input").expect("input chain");
    // iif lo, the two ct rules, ND, two set rules, log, default deny.
    let rules = &rs.chains[input].rules;
    assert_eq!(rules.len(), 8, "{rules:#?}");
    let states = |k: usize| -> Vec<u128> {
        let mut v: Vec<u128> = rules[k]
            .matches
            .iter()
            .flat_map(|c| c.field(Dim::Ct).intervals().to_vec())
            .flat_map(|(a, b)| a..=b)
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert!(rules[1].origin.text.contains("established,related"));
    assert_eq!(states(1), [Ct::Related as u128, Ct::Established as u128]);
    assert!(rules[2].origin.text.contains("invalid"));
    assert_eq!(states(2), [Ct::Invalid as u128]);
    // The rest match every state alike.
    assert_eq!(states(4).len(), Ct::ALL.len());
}

fn v4(s: &str) -> u128 {
    addr_value(s.parse().expect("address"))
}

struct P<'a> {
    ifaces: &'a mut Ifaces,
}

impl P<'_> {
    #[allow(clippy::too_many_arguments)]
    fn pkt(
        &mut self,
        path: Path,
        iif: &str,
        oif: &str,
        src: &str,
        dst: &str,
        proto: u8,
        sport: u16,
        dport: u16,
    ) -> Packet {
        let v6 = src.contains(':');
        Packet {
            path,
            iif: if iif.is_empty() { 0 } else { self.ifaces.id(iif) },
            oif: if oif.is_empty() { 0 } else { self.ifaces.id(oif) },
            v6,
            src: v4(src),
            dst: v4(dst),
            proto,
            sport,
            dport,
            ack: false,
            ct: crate::check::space::Ct::New,
            hops: 64,
        }
    }
}

/// Expected verdicts, written by reading handwritten.nft.
#[test]
fn handwritten_traces() {
    let (j, ts, mut ifaces) = both("handwritten.json", &["handwritten.nft"]);
    let mut p = P { ifaces: &mut ifaces };
    use Path::*;
    let cases: Vec<(Packet, bool, &str)> = vec![
        // Blocked source: dropped in prerouting whatever the forward chains say.
        (p.pkt(Forward, "lan0", "wan0", "192.0.2.9", "10.1.0.10", 6, 40000, 22), false, "blocked set in prerouting"),
        (p.pkt(Input, "eth5", "", "203.0.113.15", "10.0.0.1", 17, 40000, 53), false, "blocked range, input"),
        (p.pkt(Input, "eth5", "", "203.0.113.21", "10.0.0.1", 17, 40000, 53), true, "just past the range"),
        // inet forward (priority 0) accepts lan0->wan0, the ip forward (+10) still decides.
        (p.pkt(Forward, "lan0", "wan0", "10.2.0.1", "8.8.8.8", 6, 40000, 443), false, "accept then later drop"),
        (p.pkt(Forward, "lan0", "wan0", "10.9.0.5", "8.8.8.8", 6, 40000, 443), true, "ADMIN web"),
        (p.pkt(Forward, "lan0", "wan0", "10.9.0.5", "8.8.8.8", 6, 40000, 8443), false, "ADMIN other port"),
        // vmap drop in the inet forward chain is final.
        (p.pkt(Forward, "dmz0", "lan0", "10.9.0.5", "8.8.8.8", 6, 40000, 443), false, "vmap drop"),
        // Named set of address . port.
        (p.pkt(Forward, "x", "y", "10.3.0.1", "10.1.0.10", 6, 40000, 22), true, "services: host . 22"),
        (p.pkt(Forward, "x", "y", "10.3.0.1", "10.1.0.99", 6, 40000, 8080), true, "services: net . range"),
        (p.pkt(Forward, "x", "y", "10.3.0.1", "10.1.0.99", 6, 40000, 22), false, "services: net . 22 not in"),
        (p.pkt(Forward, "x", "y", "10.3.0.1", "10.1.0.10", 17, 40000, 22), false, "services: tcp only"),
        // classify: return for 10.66/16 skips its drops and accepts.
        (p.pkt(Forward, "x", "y", "10.66.1.1", "10.1.0.99", 1, 0, 8), false, "return, then policy"),
        (p.pkt(Forward, "x", "y", "10.7.1.1", "10.1.0.99", 1, 0, 8), true, "echo request code 0"),
        (p.pkt(Forward, "x", "y", "10.7.1.1", "10.1.0.99", 1, 1, 8), false, "echo request code 1"),
        (p.pkt(Forward, "x", "y", "10.7.1.1", "10.1.0.99", 47, 0, 0), false, "gre dropped by != set"),
        (p.pkt(Forward, "x", "y", "172.16.0.1", "10.1.0.99", 6, 40000, 85), false, "reject outside 10/8"),
        (p.pkt(Forward, "x", "y", "10.7.1.1", "10.1.0.99", 17, 40000, 5005), true, "th dport range, udp"),
        (p.pkt(Forward, "x", "y", "172.16.0.1", "10.1.0.99", 6, 40000, 5005), true, "th dport range, tcp"),
        (p.pkt(Forward, "x", "y", "10.7.1.1", "10.1.0.99", 6, 1000, 60001), false, "sport < 1024, dport >= 60000"),
        // goto c_dns: its drop decides; its accept too.
        (p.pkt(Forward, "lan0", "dmz0", "10.66.0.1", "10.1.0.53", 17, 40000, 53), false, "inet vmap jump c_late drops"),
        (p.pkt(Forward, "lan0", "mgmt", "10.66.0.1", "10.1.0.53", 17, 40000, 53), true, "goto c_dns accept"),
        (p.pkt(Forward, "lan0", "mgmt", "10.66.0.1", "10.1.0.54", 17, 40000, 53), false, "goto c_dns drop"),
        (p.pkt(Forward, "lan0", "wan0", "10.66.0.1", "10.1.0.54", 17, 40000, 53), false, "oifname != wan0"),
        // ip6 input: vmap on a named map, jump with return to the policy.
        (p.pkt(Input, "eth0", "", "fd00:1::5", "fd00:9::1", 6, 40000, 22), true, "map 22 accept"),
        (p.pkt(Input, "eth0", "", "fd00:1::5", "fd00:9::1", 6, 40000, 25), false, "map 25 drop"),
        (p.pkt(Input, "eth0", "", "fd00:1::5", "fd00:9::80", 6, 40000, 80), true, "map 80 jump, accept"),
        (p.pkt(Input, "eth0", "", "fd00:1::5", "fd00:9::81", 6, 40000, 80), false, "map 80 jump, return, policy"),
        (p.pkt(Input, "eth0", "", "fd00:3::5", "fd00:9::1", 6, 40000, 22), false, "outside fd00:1::/64"),
        (p.pkt(Input, "eth0", "", "fd00:2::10", "fd00:9::1", 17, 40000, 514), true, "v6 range"),
        (p.pkt(Input, "eth0", "", "fd00:2::100", "fd00:9::1", 17, 40000, 514), false, "v6 range end"),
        (p.pkt(Input, "eth0", "", "fe80::1", "fd00:9::1", 58, 0, 135), true, "neighbour solicitation"),
        (p.pkt(Input, "lo", "", "::1", "::1", 6, 40000, 9999), true, "iif lo"),
        // inet input (security, after the ip6 chain): telnet and eth2 dropped, eth1 to c_late.
        (p.pkt(Input, "eth0", "", "10.1.1.1", "10.0.0.1", 6, 40000, 23), false, "inet tcp 23"),
        (p.pkt(Input, "eth2", "", "10.1.1.1", "10.0.0.1", 6, 40000, 80), false, "iifname vmap drop"),
        (p.pkt(Input, "eth1", "", "10.1.1.1", "10.0.0.1", 17, 67, 68), true, "c_late dhcp"),
        (p.pkt(Input, "eth1", "", "10.1.1.1", "10.0.0.1", 1, 3, 3), true, "c_late port unreachable"),
        (p.pkt(Input, "eth1", "", "10.1.1.1", "10.0.0.1", 1, 1, 3), false, "c_late host unreachable"),
        (p.pkt(Input, "eth3", "", "10.1.1.1", "10.0.0.1", 6, 40000, 80), true, "inet policy accept"),
        // Output: nfproto ipv6 on eth9, v4 3389 by concatenated anonymous set.
        (p.pkt(Output, "", "eth9", "fd00::1", "fd00::2", 6, 40000, 80), false, "v6 out eth9"),
        (p.pkt(Output, "", "eth9", "10.0.0.1", "10.0.0.2", 6, 40000, 80), true, "v4 out eth9"),
        (p.pkt(Output, "", "eth0", "10.0.0.1", "10.5.1.2", 17, 40000, 3389), false, "3389 udp"),
        (p.pkt(Output, "", "eth0", "10.0.0.1", "10.5.1.2", 6, 40000, 3390), true, "3390"),
    ];
    for rs in std::iter::once(&j).chain(ts.iter()) {
        let space = permitted(rs);
        for (pkt, want, what) in &cases {
            let (got, deciders) = rs.trace(pkt);
            assert_eq!(got, *want, "{what}: {pkt:?} decided by {deciders:?}");
            assert_eq!(space.contains(pkt), *want, "{what}: symbolic and concrete disagree");
        }
    }
}

#[test]
fn origins_carry_handle_text_comment_and_line() {
    let (j, ts, _) = both("backup-repo.json", &["backup-repo.nft"]);
    let c = j.chain_named("zc_input").expect("chain");
    let r = &j.chains[c].rules[4];
    assert_eq!(r.origin.text, "ip saddr . ip daddr . meta l4proto . th dport @zc_input_v4_ports counter accept");
    assert_eq!(r.origin.comment.as_deref(), Some("flows 42-flows-felles.zc:79, 42-flows-felles.zc:110"));
    assert_eq!(r.origin.handle.as_deref(), Some("11"));
    assert_eq!(r.origin.line, 0);
    let t = &ts[0].chains[ts[0].chain_named("zc_input").expect("chain")].rules[4];
    assert_eq!(t.origin.line, 59);
    assert_eq!(t.origin.comment, r.origin.comment);
    assert_eq!(t.matches.len(), r.matches.len());
}

/// Each unsupported construct: a problem with a location, the rule left out.
#[test]
fn unsupported_constructs_are_problems() {
    let cases: &[(&str, &str)] = &[
        ("fib daddr type local accept", "fib"),
        ("meta mark 0x1 accept", "meta mark"),
        ("iifname \"eth*\" accept", "wildcard"),
        ("ip saddr @dyn accept", "dynamic"),
        ("tcp dport 22 limit rate 1/second accept", "rate limit"),
        ("ct mark 1 accept", "ct mark"),
        ("meta mark set 1", "mangle"),
        ("tcp flags syn accept", "tcp flags"),
        ("th dport 22 accept", "th port"),
        ("ip saddr map @m accept", "unknown syntax"),
        ("queue num 1", "queue"),
        ("ip saddr 10.0.0.0/33 accept", "prefix"),
        ("ip saddr fd00::1 accept", "IPv4"),
        ("tcp dport 70000 accept", "range"),
        ("jump nowhere", "not declared"),
        ("ip daddr . tcp dport @pairs accept", "map"),
        ("ip dscp 1 accept", "ip dscp"),
        // A concatenation where one value belongs: nft refuses it.
        ("ip saddr { 10.0.0.1 . 10.0.0.2 } accept", "not modelled"),
    ];
    for (rule, word) in cases {
        let text = format!(
            "table inet t {{\n set dyn {{ type ipv4_addr; flags dynamic; }}\n map pairs {{ type ipv4_addr . inet_service : ipv4_addr; }}\n chain c {{\n  type filter hook input priority 0; policy accept;\n  {rule}\n  drop\n }}\n}}\n"
        );
        let rs = read_text(&text, &mut Ifaces::new());
        assert!(rs.problems.iter().any(|p| p.line == 6 && p.message.contains(word)), "{rule}: {:?}", rs.problems);
        let c = rs.chain_named("c").expect("chain");
        assert_eq!(rs.chains[c].rules.len(), 1, "{rule}: only `drop` is left");
    }
    // Chains and tables the model does not cover.
    let chains: &[(&str, &str)] = &[
        ("table netdev n { chain c { type filter hook ingress device lo priority 0; } }", "netdev"),
        ("table bridge b { chain c { type filter hook forward priority 0; } }", "bridge"),
        (
            "table ip n { chain c { type nat hook prerouting priority dstnat; tcp dport 80 dnat to 10.0.0.1; } }",
            "destination NAT",
        ),
        ("table ip n { chain c { type route hook output priority mangle; tcp dport 22 counter; } }", "route"),
        ("table ip n { chain c { type route hook output priority mangle; policy drop; } }", "route"),
        ("table ip n { chain c { type nat hook postrouting priority srcnat; drop; } }", "nat chain"),
        ("table ip t { flags dormant; }", "dormant"),
        ("include \"other.nft\"", "include"),
        ("table ip t { chain c { type filter hook input priority fast; } }", "priority"),
    ];
    for (text, word) in chains {
        let rs = read_text(text, &mut Ifaces::new());
        assert!(rs.problems.iter().any(|p| p.line == 1 && p.message.contains(word)), "{text}: {:?}", rs.problems);
    }
    // An empty route chain that accepts (fw4's `mangle_output`) reroutes nothing.
    let rs = read_text(
        "table inet fw4 { chain mangle_output { type route hook output priority mangle; policy accept; } }",
        &mut Ifaces::new(),
    );
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
}

/// The text translator writes the concatenation of a named set's element as a bare array;
/// in a set of one key that is refused, not read as the union of the parts.
#[test]
fn concatenated_elements_read_and_show_as_written() {
    let text = "table inet t {\n set one {\n  type ipv4_addr\n  elements = { 10.0.0.1 . 10.0.0.2 }\n }\n chain c {\n  type filter hook input priority 0; policy drop;\n  ip saddr @one accept\n }\n}\n";
    let rs = read_text(text, &mut Ifaces::new());
    assert!(rs.problems.iter().any(|p| p.line == 8 && p.message.contains("2 parts")), "{:?}", rs.problems);
    // A set of two keys takes the same element.
    let two = text
        .replace("type ipv4_addr\n", "type ipv4_addr . ipv4_addr\n")
        .replace("ip saddr @one", "ip saddr . ip daddr @one");
    let rs = read_text(&two, &mut Ifaces::new());
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let c = rs.chain_named("c").expect("chain");
    assert_eq!(rs.chains[c].rules.len(), 1);
    // Maps and anonymous sets keep the schema's concatenation: their elements are shown in
    // the rules' texts.
    let maps = "table inet t {\n map m {\n  type ifname . ifname : verdict\n  elements = { \"eth0\" . \"eth1\" : accept }\n }\n chain c {\n  type filter hook forward priority 0; policy drop;\n  iifname . oifname vmap @m\n  iifname . oifname vmap { \"eth2\" . \"eth3\" : accept }\n  ip saddr . tcp dport { 10.0.0.1 . 22 } accept\n }\n}\n";
    let rs = read_text(maps, &mut Ifaces::new());
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let c = rs.chain_named("c").expect("chain");
    let texts: Vec<&str> = rs.chains[c].rules.iter().map(|r| r.origin.text.as_str()).collect();
    for shown in ["eth0 . eth1", "eth2 . eth3", "10.0.0.1 . 22"] {
        assert!(texts.iter().any(|t| t.contains(shown)), "{shown} in {texts:?}");
    }
}

#[test]
fn unsupported_json_constructs_are_problems() {
    let rule = |expr: &str| {
        format!(
            r#"{{"nftables":[{{"table":{{"family":"inet","name":"t"}}}},
            {{"chain":{{"family":"inet","table":"t","name":"c","type":"filter","hook":"input","prio":0,"policy":"accept"}}}},
            {{"rule":{{"family":"inet","table":"t","chain":"c","handle":7,"expr":[{expr}]}}}}]}}"#
        )
    };
    let cases: &[(&str, &str)] = &[
        (
            r#"{"match":{"op":"==","left":{"fib":{"result":"type","flags":["daddr"]}},"right":"local"}},{"accept":null}"#,
            "fib",
        ),
        (r#"{"match":{"op":"==","left":{"meta":{"key":"mark"}},"right":1}},{"accept":null}"#, "meta mark"),
        (r#"{"xt":{"type":"match","name":"conntrack"}},{"accept":null}"#, "xt"),
        (r#"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth*"}},{"drop":null}"#, "wildcard"),
        (r#"{"limit":{"rate":1,"per":"second"}},{"accept":null}"#, "rate limit"),
        (r#"{"queue":{"num":1}}"#, "queue"),
        (r#"{"match":{"op":"&","left":{"meta":{"key":"l4proto"}},"right":6}},{"accept":null}"#, "operator"),
    ];
    for (expr, word) in cases {
        let rs = read_json(&rule(expr), &mut Ifaces::new());
        assert!(
            rs.problems.iter().any(|p| p.message.contains("handle 7") && p.message.contains(word)),
            "{expr}: {:?}",
            rs.problems
        );
        assert!(rs.chains[0].rules.is_empty());
    }
    let rs = read_json("{\"nftables\": 3}", &mut Ifaces::new());
    assert_eq!(rs.problems.len(), 1);
    // JSON that stops early is cut off: refused, not a problem of what was read.
    let rs = read_json("[", &mut Ifaces::new());
    assert!(rs.problems.is_empty() && rs.incomplete.is_some(), "{rs:?}");
}

/// zonecheck's own output must be read fast: it checks every file before writing it.
#[test]
fn large_generated_ruleset_reads_quickly() {
    let mut text = String::from(
        "table inet zonecheck\ndelete table inet zonecheck\ntable inet zonecheck {\n set s {\n  typeof ip saddr . ip daddr . meta l4proto . th dport\n  flags interval\n  counter\n  elements = {\n",
    );
    let n = 20_000u32;
    for i in 0..n {
        let sep = if i + 1 == n { "" } else { "," };
        text.push_str(&format!(
            "   10.{}.{}.0/24 . 10.200.{}.{} . tcp . {} comment \"flow 42-flows-felles.zc:{i} a -> b : https\"{sep}\n",
            i / 256 % 256,
            i % 256,
            i / 256 % 256,
            i % 256,
            1000 + i % 5000
        ));
    }
    text.push_str("  }\n }\n chain f {\n  type filter hook forward priority filter; policy drop;\n  ip saddr . ip daddr . meta l4proto . th dport @s counter accept\n }\n}\n");
    let t = std::time::Instant::now();
    let rs = read_text(&text, &mut Ifaces::new());
    let took = t.elapsed();
    eprintln!("read {} bytes in {took:?}", text.len());
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    assert_eq!(rs.chains[0].rules[0].matches.len(), n as usize);
    // Generous for a debug build on a shared machine; release is many times faster.
    assert!(took.as_secs_f64() < 10.0, "{took:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&bytes);
        let mut ifaces = Ifaces::new();
        let _ = read_text(&s, &mut ifaces);
        let _ = read_json(&s, &mut ifaces);
    }

    /// Token soup from nft's own vocabulary reaches deeper into the parser than bytes.
    #[test]
    fn random_nft_words_never_panic(words in proptest::collection::vec(proptest::sample::select(vec![
        "table", "inet", "ip", "ip6", "t", "chain", "c", "set", "map", "s", "{", "}", ";", ",", ":", ".", "=",
        "\n", "type", "filter", "hook", "input", "forward", "priority", "-10", "policy", "drop", "accept",
        "elements", "flags", "interval", "saddr", "daddr", "tcp", "dport", "th", "meta", "l4proto", "@s",
        "10.0.0.0/8", "1-2", "22", "vmap", "jump", "goto", "c", "ct", "state", "new", "!=", "iifname", "\"a\"",
        "delete", "flush", "ruleset", "add", "rule", "define", "$x", "x", "counter", "comment", "limit", "rate",
        "verdict", "typeof", "icmp", "icmpv6", "echo-request", "fd00::/8", "return",
    ]), 0..80)) {
        let text = words.join(" ");
        let mut ifaces = Ifaces::new();
        let rs = read_text(&text, &mut ifaces);
        let _ = rs.permitted(&Path::ALL);
    }

    #[test]
    fn random_json_never_panics(v in json_value()) {
        let doc = serde_json::json!({"nftables": [
            {"table": {"family": "inet", "name": "t"}},
            {"set": {"family": "inet", "table": "t", "name": "s", "elem": [v.clone()]}},
            {"chain": {"family": "inet", "table": "t", "name": "c", "type": "filter", "hook": "input", "prio": v.clone(), "policy": "drop"}},
            {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [
                {"match": {"op": "==", "left": v.clone(), "right": v.clone()}},
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": v.clone()}},
                {"match": {"op": "!=", "left": {"concat": [{"meta": {"key": "l4proto"}}, {"payload": {"protocol": "th", "field": "dport"}}]}, "right": v.clone()}},
                {"vmap": {"key": {"meta": {"key": "iifname"}}, "data": v.clone()}},
                v.clone(),
            ]}},
            v,
        ]});
        let mut ifaces = Ifaces::new();
        let rs = read_json(&doc.to_string(), &mut ifaces);
        let _ = rs.permitted(&Path::ALL);
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<u32>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        proptest::sample::select(vec![
            "tcp",
            "@s",
            "10.0.0.1",
            "fd00::1",
            "eth0",
            "eth*",
            "new",
            "established",
            "echo-request",
            "1-5",
            "10.0.0.0/8",
            "filter",
            "accept",
            "",
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            inner.clone().prop_map(|v| json!({"set": [v]})),
            inner.clone().prop_map(|v| json!({"concat": [v.clone(), v]})),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| json!({"range": [a, b]})),
            inner.clone().prop_map(|v| json!({"prefix": {"addr": v, "len": 8}})),
            inner.clone().prop_map(|v| json!({"elem": {"val": v}})),
            inner.clone().prop_map(|v| json!({"jump": {"target": v}})),
            (proptest::sample::select(vec!["payload", "meta", "ct", "match", "accept", "vmap"]), inner)
                .prop_map(|(k, v)| json!({ k: v })),
        ]
    })
}

/// `ct state vmap`: only the element naming `new` applies to a connection-opening packet;
/// the others are no rules at all (and so never advice).
#[test]
fn ct_state_vmap_applies_its_new_element() {
    let text = "table inet t {\n chain f {\n  type filter hook forward priority filter; policy drop;\n  ct state vmap { established : accept, related : accept, invalid : drop, new : jump g }\n }\n chain g {\n  tcp dport 22 accept\n }\n}\n";
    let mut ifaces = Ifaces::new();
    let rs = read_text(text, &mut ifaces);
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let f = rs.chain_named("f").expect("chain f");
    // One rule per element, each for its state: only `new` jumps.
    assert_eq!(rs.chains[f].rules.len(), 4, "{:?}", rs.chains[f].rules);
    assert!(matches!(rs.chains[f].rules[3].action, Action::Jump(_)));
    for (k, ct) in [Ct::Established, Ct::Related, Ct::Invalid, Ct::New].into_iter().enumerate() {
        assert!(
            rs.chains[f].rules[k].matches.iter().all(|c| c.field(Dim::Ct).intervals() == [(ct as u128, ct as u128)])
        );
    }
    let space = rs.permitted(&[Path::Forward]).expect("evaluates").permitted;
    let m = &rs.chains[rs.chain_named("g").expect("g")].rules[0].matches[0];
    let ssh = m.intersect(&Cube::on_path(m.v6(), Path::Forward)).expect("forward packets").witness();
    assert!(space.contains(&ssh));
    // Without a `new` element the map decides no new packet: the policy does.
    let text = text.replace(", new : jump g", "");
    let rs = read_text(&text, &mut ifaces);
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let permitted = rs.permitted(&[Path::Forward]).expect("evaluates").permitted;
    let new = Space::from_cubes(
        [false, true].map(|v6| Cube::on_path(v6, Path::Forward).with_value(Dim::Ct, Ct::New as u128).expect("new")),
    );
    assert!(permitted.intersection(&new).is_empty());
}

/// nat chains and the chains only they jump to are searched, not evaluated: source NAT
/// passes, destination NAT before the filter and a drop in them are problems.
#[test]
fn nat_chains_are_searched_for_what_changes_filtering() {
    let base = "table inet t {\n chain f {\n  type filter hook forward priority filter; policy accept;\n }\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  jump pre_zone\n }\n chain pre_zone {\n  RULE\n }\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n  oifname \"wan\" masquerade\n }\n}\n";
    let read = |rule: &str| read_text(&base.replace("RULE", rule), &mut Ifaces::new());
    let rs = read("");
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let rs = read("tcp dport 80 counter");
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    // pre_zone's rules are not filter rules: nothing in it is evaluated or advised on.
    assert!(rs.chains[rs.chain_named("pre_zone").expect("pre_zone")].rules.is_empty());
    let rs = read("tcp dport 8080 dnat ip to 10.0.0.5");
    assert!(rs.problems.iter().any(|p| p.line == 10 && p.message.contains("destination NAT")), "{:?}", rs.problems);
    let rs = read("tcp dport 23 drop");
    assert!(rs.problems.iter().any(|p| p.line == 10 && p.message.contains("filters packets")), "{:?}", rs.problems);
}

/// nft text and JSON cut off are refused as incomplete, not read as far as they go.
#[test]
fn cut_off_rulesets_are_incomplete() {
    let text = fixture("handwritten.nft");
    let cut = &text[..text.len() / 2];
    let rs = read_text(cut, &mut Ifaces::new());
    assert!(rs.incomplete.is_some(), "{:?}", rs.problems);
    let json = fixture("handwritten.json");
    let rs = read_json(&json[..json.len() / 2], &mut Ifaces::new());
    assert!(rs.incomplete.as_ref().is_some_and(|p| p.message.contains("stops early")), "{:?}", rs.incomplete);
    assert!(read_json(&json, &mut Ifaces::new()).incomplete.is_none());
}

/// `ct status dnat` (firewalld's and fw4's "accept port forwards") matches no new
/// connection when no rule of the ruleset rewrites destinations; with a `dnat` anywhere it
/// is refused, and so are other status bits. fw4's MSS clamping decides nothing.
#[test]
fn ct_status_dnat_and_mss_clamping() {
    let chain = |body: &str| {
        format!(
            "table inet f {{ chain fwd {{ type filter hook forward priority 0; policy drop; {body} }} }}\n\
             table ip nat {{ chain pre {{ type nat hook prerouting priority dstnat; policy accept; }} }}"
        )
    };
    let rs = read_text(&chain("ct status dnat accept; tcp dport 22 accept;"), &mut Ifaces::new());
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let ssh = |rs: &Ruleset, dport: u16| {
        let p = Packet {
            path: Path::Forward,
            iif: 1,
            oif: 2,
            v6: false,
            src: addr_value("10.0.0.2".parse().unwrap()),
            dst: addr_value("10.1.0.2".parse().unwrap()),
            proto: 6,
            sport: 50000,
            dport,
            ack: false,
            ct: crate::check::space::Ct::New,
            hops: 64,
        };
        permitted(rs).contains(&p)
    };
    assert!(ssh(&rs, 22) && !ssh(&rs, 443), "only ssh passes: ct status dnat matches nothing");
    let rs = read_text(&chain("ct status != dnat tcp dport 443 accept;"), &mut Ifaces::new());
    assert!(rs.problems.is_empty() && ssh(&rs, 443), "{:?}", rs.problems);

    // A port forward anywhere: a new connection may have been DNATed.
    let with_dnat = chain("ct status dnat accept;")
        .replace("policy accept; }", "policy accept; tcp dport 8443 dnat to 10.1.0.2:443; }");
    let rs = read_text(&with_dnat, &mut Ifaces::new());
    assert!(rs.problems.iter().any(|p| p.message.contains("rewrites destinations")), "{:?}", rs.problems);
    let rs = read_text(&chain("ct status snat accept;"), &mut Ifaces::new());
    assert!(rs.problems.iter().any(|p| p.message.contains("ct status snat")), "{:?}", rs.problems);

    // MSS clamping: no verdict, no problem, whatever it matches (`tcp flags syn`).
    let rs = read_text(
        &chain("oifname \"wan\" tcp flags syn tcp option maxseg size set rt mtu; tcp dport 22 accept;"),
        &mut Ifaces::new(),
    );
    assert!(rs.problems.is_empty() && ssh(&rs, 22) && !ssh(&rs, 443), "{:?}", rs.problems);
    // With a verdict, the unmodelled match is a problem again.
    let rs = read_text(&chain("tcp flags syn tcp option maxseg size set 1400 accept;"), &mut Ifaces::new());
    assert!(!rs.problems.is_empty());
}

/// `ct mark` and `ct direction` are read as matching every established packet (none is
/// compared): no advice about dead rules may rest on that, while rules that decide only
/// new packets, or that exact rules before them cover, are still judged.
#[test]
fn no_dead_rule_advice_rests_on_an_approximated_ct_key() {
    let text = "table inet t {
\tchain fwd {
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established ct mark 0x1 accept
\t\tct state established ct direction reply accept
\t\tip saddr 10.0.0.1 accept
\t\tct state new tcp dport 22 accept
\t\tct state new tcp dport 22 drop
\t\tcounter drop
\t\ttcp dport 23 accept
\t}
}
";
    let mut ifaces = Ifaces::new();
    let rs = read_text(text, &mut ifaces);
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    let ev = rs.permitted(&Path::ALL).expect("evaluates");
    let dead: Vec<usize> = rs.dead_rules(&ev).expect("judged").iter().map(|(r, _)| rs.rule(*r).origin.line).collect();
    // Without the rule, the mark accept would make the reply accept "shadowed"; a rule
    // after the final drop is dead whatever the approximated rules match.
    assert_eq!(dead, vec![8, 10], "the drop after the same new-only accept, and the rule after the final drop");
}
