//! Synthetic policies of a given size, for benchmarks and scale tests.
//!
//! The shape imitates a large municipality: a few closed zones holding confined classes,
//! many internal zones, DMZ, partners and the Internet; most flows connect two systems,
//! some name groups or whole zones. Flows leaving a closed zone carry nothing, as a real
//! policy would say, so the generated policy is PROVED and verify does all of its work.
//! Deterministic: the same parameters always give the same text.

use std::fmt::Write as _;

#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub systems: usize,
    pub flows: usize,
    /// Confined classes (3–10 in the benchmarks).
    pub classes: usize,
}

/// A small deterministic generator (PCG-style LCG); no dependency needed for benchmarks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const CLOSED: usize = 4;
const INTERNAL: usize = 24;
const DMZ: usize = 6;
const PARTNER: usize = 5;

struct ZoneInfo {
    name: String,
    trust: &'static str,
    /// Second octet of its 10.x.0.0/16.
    octet: usize,
}

/// Generate a policy of roughly `size`.
pub fn policy(size: Size) -> String {
    let mut rng = Rng(0x05ee_d0ff_10e5 ^ (size.systems as u64) << 20 ^ size.flows as u64);
    let mut s = String::with_capacity(size.flows * 80 + size.systems * 120);
    let _ = writeln!(
        s,
        "policy \"Syntetisk kommune ({} systemer, {} flyter)\" {{ owner \"zonecheck synth\" }}\n",
        size.systems, size.flows
    );
    for c in 0..size.classes.max(1) {
        let _ = writeln!(s, "class k{c} \"Konfidensiell klasse {c}\" {{ special; confined }}");
    }
    let _ = writeln!(s, "class sak \"Saksbehandling\"\n");

    let mut zones = Vec::new();
    let kinds = [("closed", CLOSED), ("internal", INTERNAL), ("dmz", DMZ), ("partner", PARTNER)];
    let mut octet = 1;
    for (trust, n) in kinds {
        for i in 0..n {
            zones.push(ZoneInfo { name: format!("{trust}-{i}"), trust, octet });
            octet += 1;
        }
    }
    for z in &zones {
        let _ =
            writeln!(s, "zone {} {{ trust {}; net 10.{}.0.0/16, fd00:{:x}::/48 }}", z.name, z.trust, z.octet, z.octet);
    }
    let _ = writeln!(s, "zone internet \"Internett\" {{ trust external; net 0.0.0.0/0, ::/0 }}\n");

    // Systems: a tenth in closed zones, the rest spread over the others.
    let mut system_zone = Vec::with_capacity(size.systems);
    let mut per_zone = vec![0usize; zones.len()];
    for i in 0..size.systems {
        let z = if i % 10 == 0 { rng.below(CLOSED) } else { CLOSED + rng.below(zones.len() - CLOSED) };
        let host = per_zone[z];
        per_zone[z] += 1;
        system_zone.push(z);
        let zone = &zones[z];
        let holds = if zone.trust == "closed" {
            format!("; holds k{}", rng.below(size.classes.max(1)))
        } else if rng.below(4) == 0 {
            "; holds sak".to_string()
        } else {
            String::new()
        };
        let platform = if rng.below(2) == 0 { "windows" } else { "linux" };
        let _ = writeln!(
            s,
            "system s{i} {{ zone {}; address 10.{}.{}.{}; platform {platform}{holds} }}",
            zone.name,
            zone.octet,
            host / 250,
            host % 250 + 1
        );
    }
    s.push('\n');
    // A few groups of internal systems.
    let internal: Vec<usize> = (0..size.systems).filter(|i| zones[system_zone[*i]].trust == "internal").collect();
    let groups = (size.systems / 200).max(1);
    for g in 0..groups {
        let members: Vec<String> =
            (0..5).filter_map(|_| internal.get(rng.below(internal.len())).map(|i| format!("s{i}"))).collect();
        if !members.is_empty() {
            let _ = writeln!(s, "group g{g} {{ {} }}", members.join(", "));
        }
    }
    s.push('\n');

    // A core firewall: closed zones on one interface each, the rest grouped eight to a port.
    let _ = writeln!(s, "firewall fw-core \"Kjernebrannmur\" {{\n  target nftables");
    for (i, z) in zones.iter().enumerate().take(CLOSED) {
        let _ = writeln!(s, "  interface sikker{i} zone {}", z.name);
    }
    for (k, chunk) in zones.get(CLOSED..).unwrap_or(&[]).chunks(8).enumerate() {
        let names: Vec<&str> = chunk.iter().map(|z| z.name.as_str()).collect();
        let _ = writeln!(s, "  interface port{k} zone {}", names.join(", "));
    }
    let _ = writeln!(s, "  interface uplink zone internet\n}}\n");

    let services = ["https", "smb", "ldap", "mssql", "ssh", "rdp", "dns", "syslog-tls", "tcp/8443", "udp/5000-5100"];
    for f in 0..size.flows {
        let mut a = rng.below(size.systems);
        let mut b = rng.below(size.systems);
        // Outsiders never open connections into a closed zone (that needs a jump host);
        // turn such a flow around so the closed side opens it.
        let outsider = |z: usize| matches!(zones[system_zone[z]].trust, "partner" | "dmz");
        if outsider(a) && zones[system_zone[b]].trust == "closed" {
            std::mem::swap(&mut a, &mut b);
        }
        let svc = services[rng.below(services.len())];
        let (za, zb) = (&zones[system_zone[a]], &zones[system_zone[b]]);
        let roll = rng.below(100);
        let (from, to) = if roll < 2 && groups > 0 {
            (format!("g{}", rng.below(groups)), format!("s{b}"))
        } else if roll < 3 {
            (zones[CLOSED + rng.below(INTERNAL)].name.clone(), format!("s{b}"))
        } else if roll < 5 {
            (format!("[s{a}, s{}]", internal.get(rng.below(internal.len())).copied().unwrap_or(a)), format!("s{b}"))
        } else {
            (format!("s{a}"), format!("s{b}"))
        };
        let closed_involved =
            za.trust == "closed" || zb.trust == "closed" || from.starts_with('[') || !from.starts_with('s');
        let opts = if closed_involved { " { carries none because \"bare tekniske data\" }" } else { "" };
        let _ = writeln!(s, "flow {from} -> {to} : {svc} \"behov {f}\"{opts}");
    }
    s
}
