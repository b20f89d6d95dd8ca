//! Switch ACL `check` benchmark (a bench script, not a timed test): a Cisco IOS
//! running-config where many VLAN interfaces share one ACL, and one very long ACL, read and
//! evaluated the way `check` does (read, permitted space of forwarded packets, the search
//! for dead rules). Each distinct ACL is evaluated once for all the interfaces that use it,
//! so time grows with the ACL's size, not with interfaces × size.
//!
//! Targets (issue 13): 200 interfaces sharing a 250-entry ACL ≤ 0.5 s; a 15,000-entry ACL
//! ≤ 1 s. Reports the growth exponent over sizes.
//!
//! Run: `cargo bench --bench check_acl` (add `-- --quick` for one run each).

use std::fmt::Write as _;
use std::time::Duration;

mod common;
use common::best_of;

use zonecheck::check::space::{Ifaces, Path};
use zonecheck::check::{Format, read};

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
            2 => format!(" {seq} permit tcp 10.{a}.{b}.0 0.0.0.127 10.202.{c}.0 0.0.0.63 range 8000 {}", 8000 + k % 900),
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
    println!("| interfaces | ACL entries | read | evaluate | dead rules | total |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut by_ifaces = Vec::new();
    let mut by_entries = Vec::new();
    for (interfaces, entries) in
        [(25, 250), (50, 250), (100, 250), (200, 250), (400, 250), (1, 2_000), (1, 5_000), (1, 15_000), (1, 30_000)]
    {
        let text = running_config(interfaces, entries);
        let (t_read, rs) = best_of(runs, || read(Format::CiscoIos, &text, &mut Ifaces::new()));
        assert!(rs.problems.is_empty() && rs.incomplete.is_none(), "{:?}", rs.problems.first());
        let (t_eval, ev) = best_of(runs, || rs.permitted(&[Path::Forward]).expect("evaluates"));
        let (t_dead, _) = best_of(runs, || rs.dead_rules(&ev).expect("dead rules"));
        let total = t_read + t_eval + t_dead;
        println!("| {interfaces} | {entries} | {} | {} | {} | {} |", ms(t_read), ms(t_eval), ms(t_dead), ms(total));
        if interfaces > 1 {
            by_ifaces.push((interfaces as f64, total.as_secs_f64()));
        } else {
            by_entries.push((entries as f64, total.as_secs_f64()));
        }
        if (interfaces, entries) == (200, 250) {
            assert!(total <= Duration::from_millis(500), "200 interfaces sharing a 250-entry ACL: {}", ms(total));
        }
        if entries == 15_000 {
            assert!(total <= Duration::from_secs(1), "a 15,000-entry ACL: {}", ms(total));
        }
    }
    println!("\ngrowth: time ∝ interfaces^{:.2} (250-entry ACL shared)", exponent(&by_ifaces));
    println!("growth: time ∝ entries^{:.2} (one interface)", exponent(&by_entries));
}

/// The least-squares slope of log time over log size.
fn exponent(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln(), b + y.ln()));
    let (sxx, sxy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln() * x.ln(), b + x.ln() * y.ln()));
    (n * sxy - sx * sy) / (n * sxx - sx * sx)
}
