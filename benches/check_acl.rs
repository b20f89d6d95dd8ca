//! Switch ACL `check` benchmark (a bench script, not a timed test): a Cisco IOS
//! running-config where many VLAN interfaces share one ACL, and one long ACL on one
//! interface, read and evaluated the way `check` does (read; permitted space of forwarded
//! packets, which gives the verdict; the search for dead rules, which gives the advice).
//! Each distinct ACL is evaluated once for all the interfaces that use it, so time does not
//! grow with interfaces × entries; the packet-space index on source, destination and
//! destination port keeps one long ACL near-linear, the dead-rule search included.
//!
//! Measured on the 2 shared cores of the issue-13 machine (best of 3): 200 interfaces
//! sharing a 250-entry ACL 3 ms; one 15,000-entry ACL 155 ms for the verdict, 365 ms with
//! the dead-rule search (before the index had the port: 0.6-0.9 s and 2.2-3.2 s).
//!
//! Targets (issue 13), reported at the end: 200 interfaces sharing a 250-entry ACL ≤ 0.5 s;
//! a 15,000-entry ACL ≤ 1 s. Also the growth exponents over sizes.
//!
//! Run: `cargo bench --bench check_acl` (add `-- --quick` for one run each;
//! `ZC_BENCH_ENTRIES=N` for the sizes with N entries only).

use std::fmt::Write as _;
use std::time::Duration;

mod common;
use common::best_of;

use zonecheck::check::Format;
use zonecheck::internals::{Ifaces, Path, read};

/// An IOS running-config: `interfaces` SVIs (`Vlan100`…) sharing one extended ACL of
/// `entries` entries shaped like a municipality's core ACL: hosts and subnets, single
/// ports and ranges, ICMP by name, a few denies between the permits, the return traffic of
/// a stateless ACL (`established`) and a final `deny ip any any log`.
fn running_config(interfaces: usize, entries: usize) -> String {
    let mut s = String::from(
        "Building configuration...\n\nCurrent configuration : 123456 bytes\n!\nversion 17.9\nhostname sw-core-01\n!\n",
    );
    s.push_str("ip access-list extended CORE-IN\n");
    s.push_str(" 5 permit tcp any any established\n");
    for k in 0..entries.saturating_sub(2) {
        let seq = 10 + 10 * k;
        let (a, b, c) = ((k / 250) % 250, k % 250, (k * 7) % 250);
        let line = match k % 10 {
            0 => format!(" {seq} permit tcp 10.{a}.{b}.0 0.0.0.255 host 10.200.{c}.{} eq 443", k % 200 + 1),
            1 => format!(" {seq} permit udp host 10.{a}.{b}.{} 10.201.{c}.0 0.0.0.255 eq domain", k % 200 + 1),
            2 => {
                format!(" {seq} permit tcp 10.{a}.{b}.0 0.0.0.127 10.202.{c}.0 0.0.0.63 range 8000 {}", 8000 + k % 900)
            }
            3 => format!(" {seq} deny tcp any host 10.203.{c}.{} eq 445 log", k % 200 + 1),
            4 => format!(" {seq} permit icmp 10.{a}.{b}.0 0.0.0.255 any echo"),
            5 => format!(" {seq} permit tcp host 10.{a}.{b}.{} any eq 22", k % 200 + 1),
            6 => format!(" {seq} permit udp 10.{a}.{b}.0 0.0.1.255 host 10.204.{c}.1 eq {}", 1000 + k % 5000),
            7 => format!(" {seq} deny udp 10.{a}.{b}.0 0.0.0.255 any range 135 139"),
            8 => format!(" {seq} permit tcp 10.{a}.0.0 0.0.255.255 host 10.205.{c}.{} eq 3389", k % 200 + 1),
            _ => format!(" {seq} permit ip 10.{a}.{b}.0 0.0.0.15 10.206.{c}.0 0.0.0.255"),
        };
        s.push_str(&line);
        s.push('\n');
    }
    let _ = writeln!(s, " {} deny ip any any log\n!", 10 + 10 * entries);
    for i in 0..interfaces {
        let _ = writeln!(
            s,
            "interface Vlan{}\n description klienter {i}\n ip address 10.{}.{}.1 255.255.255.0\n ip access-group CORE-IN in\n!",
            100 + i,
            (i / 250) % 250,
            i % 250
        );
    }
    s.push_str("end\n");
    s
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 1 } else { 3 };
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    println!("| interfaces | ACL entries | read | evaluate | dead rules | read + evaluate | with dead rules |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut by_ifaces = Vec::new();
    let mut by_entries = Vec::new();
    let mut verdicts = Vec::new();
    for (interfaces, entries) in [
        (25, 250),
        (50, 250),
        (100, 250),
        (200, 250),
        (400, 250),
        (1, 500),
        (1, 1_000),
        (1, 2_000),
        (1, 5_000),
        (1, 15_000),
    ] {
        // `ZC_BENCH_ENTRIES=N`: only the sizes with N entries (for a profiler).
        if std::env::var("ZC_BENCH_ENTRIES").is_ok_and(|n| n != entries.to_string()) {
            continue;
        }
        let text = running_config(interfaces, entries);
        let (t_read, rs) = best_of(runs, || read(Format::CiscoIos, &text, &mut Ifaces::new()));
        assert!(rs.problems.is_empty() && rs.incomplete.is_none(), "{:?}", rs.problems.first());
        let (t_eval, ev) =
            best_of(if entries > 2_000 { 1 } else { runs }, || rs.permitted(&[Path::Forward]).expect("evaluates"));
        // The search for dead rules (the advice), as `check` runs it after the verdict.
        let (t_dead, _) = best_of(if entries > 2_000 { 1 } else { runs }, || rs.dead_rules(&ev).expect("dead rules"));
        let verdict = t_read + t_eval;
        let total = verdict + t_dead;
        println!(
            "| {interfaces} | {entries} | {} | {} | {} | {} | {} |",
            ms(t_read),
            ms(t_eval),
            ms(t_dead),
            ms(verdict),
            ms(total),
        );
        if interfaces > 1 {
            by_ifaces.push((interfaces as f64, total.as_secs_f64()));
        } else {
            by_entries.push((entries as f64, total.as_secs_f64()));
        }
        verdicts.push(((interfaces, entries), total));
    }
    println!("\ngrowth: time ∝ interfaces^{:.2} (one 250-entry ACL shared, with dead rules)", exponent(&by_ifaces));
    println!("growth: time ∝ entries^{:.2} (one interface, with dead rules)", exponent(&by_entries));
    // The targets of issue 13, reported rather than asserted (a bench, not a test).
    for ((interfaces, entries), limit) in [((200, 250), 500), ((1, 15_000), 1_000)] {
        if let Some((_, t)) = verdicts.iter().find(|(k, _)| *k == (interfaces, entries)) {
            let met = *t <= Duration::from_millis(limit);
            println!(
                "target: {interfaces} interface(s), {entries} entries ≤ {limit} ms: {} ({})",
                if met { "met" } else { "MISSED" },
                ms(*t)
            );
        }
    }
}

/// The least-squares slope of log time over log size.
fn exponent(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln(), b + y.ln()));
    let (sxx, sxy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln() * x.ln(), b + x.ln() * y.ln()));
    (n * sxy - sx * sy) / (n * sxx - sx * sx)
}
