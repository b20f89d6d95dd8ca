//! Addresses as devices read them (DESIGN.md §4a): system ranges mean what longest-prefix
//! routing means.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use proptest::test_runner::TestRunner;

use super::cases;

// ---- addresses as devices read them (DESIGN.md §4a) ---------------------------------------

/// Random zones and systems with nested and overlapping IPv4 ranges. Either resolution
/// refuses the policy with `address-overlap` — and then some system range really contains
/// another system's address or another zone's prefix — or every address has one owner, the
/// same for the proof (the system whose range holds it, else the zone by longest prefix) as
/// for a device (longest-prefix match over every zone prefix and system range together).
#[test]
fn system_ranges_mean_what_longest_prefix_routing_means() {
    use proptest::prelude::*;
    let net = |bits: u32, len: u8| -> ipnet::Ipv4Net {
        let addr = std::net::Ipv4Addr::from(0x0a00_0000 | (bits & 0x00ff_ffff));
        ipnet::Ipv4Net::new(addr, len).expect("valid length").trunc()
    };
    let strategy = (
        prop::collection::vec((any::<u32>(), 8u8..=26), 1..=5),
        prop::collection::vec((any::<u32>(), 16u8..=32, any::<u8>()), 1..=8),
    );
    let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases().min(2_000)) };
    let (refused, accepted) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |(zones, systems)| {
        let mut zone_nets: Vec<ipnet::Ipv4Net> = zones.iter().map(|(b, l)| net(*b, *l)).collect();
        zone_nets.sort();
        zone_nets.dedup();
        let mut text = String::from("zone world { trust external; net 0.0.0.0/0 }\n");
        for (i, n) in zone_nets.iter().enumerate() {
            text.push_str(&format!("zone z{i} {{ trust internal; net {n} }}\n"));
        }
        // Each system lies in the zone owning its network address by longest prefix, so
        // only the range checks can refuse it.
        let mut sys_nets: Vec<ipnet::Ipv4Net> = Vec::new();
        for (b, l, pick) in &systems {
            // Half of the ranges start inside a zone prefix, so nesting is common.
            let b = match zone_nets.get(usize::from(*pick) % zone_nets.len().max(1)) {
                Some(z) if pick % 2 == 0 => {
                    (u32::from(z.network()) & !u32::from(z.hostmask())) | (b & u32::from(z.hostmask()))
                }
                _ => *b,
            };
            let n = net(b, *l);
            if !sys_nets.contains(&n) {
                sys_nets.push(n);
            }
        }
        // The zone of a whole range: the longest zone prefix containing all of it.
        let owner_zone = |r: &ipnet::Ipv4Net| -> String {
            zone_nets
                .iter()
                .enumerate()
                .filter(|(_, n)| n.contains(r))
                .max_by_key(|(_, n)| n.prefix_len())
                .map_or("world".to_string(), |(i, _)| format!("z{i}"))
        };
        for (i, n) in sys_nets.iter().enumerate() {
            text.push_str(&format!("system s{i} {{ zone {}; address {n} }}\n", owner_zone(n)));
        }
        let really_overlaps = sys_nets.iter().enumerate().any(|(i, a)| {
            sys_nets.iter().enumerate().any(|(j, b)| i != j && a.contains(b))
                || zone_nets.iter().any(|z| a.contains(z) && a != z)
        });
        match zonecheck::load_str("ranges.zc", &text) {
            Err(e) => {
                let overlap = e.diags.iter().any(|d| d.code == zonecheck::diagnostics::code::RESOLVE_ADDRESS_OVERLAP);
                prop_assert!(overlap && really_overlaps, "refused without an overlap:\n{text}");
                refused.fetch_add(1, Relaxed);
            }
            Ok(model) => {
                prop_assert!(!really_overlaps, "accepted with an overlap:\n{text}");
                accepted.fetch_add(1, Relaxed);
                // Probe every prefix's first and last address and their neighbours.
                let mut probes = Vec::new();
                for n in zone_nets.iter().chain(&sys_nets) {
                    let (lo, hi) = (u32::from(n.network()), u32::from(n.broadcast()));
                    probes.extend([lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)]);
                }
                for p in probes {
                    let a = std::net::Ipv4Addr::from(p);
                    let a_net = ipnet::IpNet::V4(ipnet::Ipv4Net::new(a, 32).expect("/32"));
                    // The proof's owner: a system whose range holds it, else the zone.
                    let holders: Vec<&zonecheck::model::System> =
                        model.systems.iter().filter(|s| s.addresses.iter().any(|r| r.contains(&a_net))).collect();
                    prop_assert!(holders.len() <= 1, "{a} has {} system owners", holders.len());
                    // A device's owner: longest prefix over zones and systems together.
                    let mut best: Option<(u8, String, String)> = None;
                    for z in &model.zones {
                        for n in z.nets.iter().filter(|n| n.contains(&a_net)) {
                            if best.as_ref().is_none_or(|b| n.prefix_len() > b.0) {
                                best = Some((n.prefix_len(), z.name.clone(), String::new()));
                            }
                        }
                    }
                    for s in &model.systems {
                        for n in s.addresses.iter().filter(|n| n.contains(&a_net)) {
                            if best.as_ref().is_none_or(|b| n.prefix_len() >= b.0) {
                                best = Some((n.prefix_len(), model.zone(s.zone).name.clone(), s.name.clone()));
                            }
                        }
                    }
                    let (_, zone, system) = best.expect("world covers everything");
                    match holders.first() {
                        Some(s) => {
                            prop_assert_eq!(&s.name, &system, "{} owner differs", a);
                            prop_assert_eq!(&model.zone(s.zone).name, &zone, "{} zone differs", a);
                        }
                        None => prop_assert!(system.is_empty(), "{a}: a device routes it to `{system}`"),
                    }
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("system ranges: {} refused, {} accepted and probed", refused.load(Relaxed), accepted.load(Relaxed));
    assert!(refused.load(Relaxed) > 0 && accepted.load(Relaxed) > 0);
}
