//! Lints about risky modelling rather than data flows: a policy that is consistent and
//! proved, but says something its author probably did not mean.
//!
//! - `confined-outside-closed`: a class `confined to` a zone whose trust is not closed,
//!   where that is likely a slip: the policy uses closed zones elsewhere, or the zone is a
//!   DMZ, partner or external zone. (A policy with no closed zone at all, like Namsos's
//!   need-to-know split of internal zones, confines with `confined to` on purpose.)
//! - `overlapping-zones`: a zone's prefix inside another zone's (other than a default
//!   route), which longest-prefix match resolves without a word.
//! - `duplicate-enforcement`: a firewall and a switch both separate the same two zones.
//! - `appliance-special`: an appliance (which enforces nothing) holds a special class.

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::{Finding, Subject, finding};
use crate::model::{Confinement, DeviceKind, Model, Platform, SystemId, Trust, ZoneId};

pub(crate) fn run(model: &Model, out: &mut Vec<Finding>) {
    confined_outside_closed(model, out);
    overlapping_zones(model, out);
    duplicate_enforcement(model, out);
    appliance_special(model, out);
}

fn trust_word(t: Trust) -> &'static str {
    use crate::syntax::ast::Keyword as _;
    t.word()
}

fn confined_outside_closed(model: &Model, out: &mut Vec<Finding>) {
    let uses_closed = model.zones.iter().any(|z| z.trust == Trust::Closed);
    for class in &model.classes {
        let Confinement::To(zones) = &class.confinement else { continue };
        let open: Vec<String> = zones
            .iter()
            .map(|z| model.zone(*z))
            .filter(|z| z.trust != Trust::Closed && (uses_closed || z.trust != Trust::Internal))
            .map(|z| format!("`{}` (trust {})", z.name, trust_word(z.trust)))
            .collect();
        if open.is_empty() {
            continue;
        }
        out.push(finding(
            "confined-outside-closed",
            Subject::Policy,
            class.name_span,
            format!("`{}` is confined to {}, not a closed zone", class.name, open.join(", ")),
            "confine the class to closed zones, or give the zone `trust closed` if it is one: the closed-zone safeguards (closed-egress, external-into-closed, outbound host firewalls) do not apply to it".into(),
        ));
    }
}

fn overlapping_zones(model: &Model, out: &mut Vec<Finding>) {
    // Every prefix with its zone, sorted so that a prefix comes after every prefix that
    // contains it; a stack of the enclosing prefixes finds each one's innermost container
    // in one pass.
    let mut nets: Vec<(IpNet, ZoneId)> = model
        .zones
        .iter()
        .enumerate()
        .flat_map(|(i, z)| z.nets.iter().map(move |n| (*n, ZoneId::from_index(i))))
        .filter(|(n, _)| n.prefix_len() > 0)
        .collect();
    nets.sort_by(|a, b| {
        (a.0.network(), a.0.prefix_len(), a.1.index()).cmp(&(b.0.network(), b.0.prefix_len(), b.1.index()))
    });
    let mut seen: BTreeSet<(ZoneId, ZoneId)> = BTreeSet::new();
    let mut stack: Vec<(IpNet, ZoneId)> = Vec::new();
    for (net, zone) in nets {
        while stack.last().is_some_and(|(outer, _)| !outer.contains(&net)) {
            stack.pop();
        }
        if let Some((outer, outer_zone)) = stack.iter().rev().find(|(_, z)| *z != zone).copied()
            && seen.insert((zone, outer_zone))
        {
            let inner = model.zone(zone);
            let container = model.zone(outer_zone);
            out.push(
                finding(
                    "overlapping-zones",
                    Subject::Policy,
                    inner.name_span,
                    format!(
                        "zone `{}` ({net}, trust {}) lies inside zone `{}` ({outer}, trust {}): longest-prefix match gives its addresses to `{}` without a word",
                        inner.name,
                        trust_word(inner.trust),
                        container.name,
                        trust_word(container.trust),
                        inner.name
                    ),
                    format!(
                        "give the zones disjoint prefixes (split {outer} around {net}), or accept the carve-out with `overlapping-zones = \"allow\"` in zonecheck.toml once every address is in the zone you mean"
                    ),
                )
                .with_related(container.name_span, "the enclosing zone"),
            );
        }
        stack.push((net, zone));
    }
}

/// Zone pairs a device separates: zones on different interfaces.
fn separated(device: &crate::model::Device) -> BTreeSet<(ZoneId, ZoneId)> {
    let mut pairs = BTreeSet::new();
    for (i, a) in device.interfaces.iter().enumerate() {
        for b in device.interfaces.iter().skip(i + 1) {
            for za in &a.zones {
                for zb in &b.zones {
                    if za != zb {
                        pairs.insert(((*za).min(*zb), (*za).max(*zb)));
                    }
                }
            }
        }
    }
    pairs
}

fn duplicate_enforcement(model: &Model, out: &mut Vec<Finding>) {
    let firewalls: Vec<_> = model.devices.iter().filter(|d| d.kind == DeviceKind::Firewall).collect();
    let switches: Vec<_> = model.devices.iter().filter(|d| d.kind == DeviceKind::Switch).collect();
    if firewalls.is_empty() || switches.is_empty() {
        return;
    }
    let fw_pairs: Vec<_> = firewalls.iter().map(|f| separated(f)).collect();
    for sw in &switches {
        let sw_pairs = separated(sw);
        for (fw, pairs) in firewalls.iter().zip(&fw_pairs) {
            let both: Vec<String> = sw_pairs
                .intersection(pairs)
                .map(|(a, b)| format!("`{}`–`{}`", model.zone(*a).name, model.zone(*b).name))
                .collect();
            if both.is_empty() {
                continue;
            }
            let shown: Vec<&str> = both.iter().take(4).map(String::as_str).collect();
            let more = if both.len() > shown.len() {
                format!(" and {} more", both.len() - shown.len())
            } else {
                String::new()
            };
            out.push(
                finding(
                    "duplicate-enforcement",
                    Subject::Policy,
                    sw.name_span,
                    format!(
                        "switch `{}` and firewall `{}` both claim to separate {}{more}",
                        sw.name,
                        fw.name,
                        shown.join(", ")
                    ),
                    "a packet between two zones meets one of them first: decide which device separates the zones and take them off the other's interfaces (both get rules for every flow between them), or accept it with `duplicate-enforcement = \"allow\"` in zonecheck.toml".into(),
                )
                .with_related(fw.name_span, "the firewall"),
            );
        }
    }
}

fn appliance_special(model: &Model, out: &mut Vec<Finding>) {
    for (i, sys) in model.systems.iter().enumerate() {
        if sys.platform != Some(Platform::Appliance) {
            continue;
        }
        let special: Vec<String> =
            sys.holds.iter().map(|c| model.class(*c)).filter(|c| c.special).map(|c| format!("`{}`", c.name)).collect();
        if special.is_empty() {
            continue;
        }
        out.push(finding(
            "appliance-special",
            Subject::System(SystemId::from_index(i)),
            sys.name_span,
            format!("appliance `{}` holds special data ({})", sys.name, special.join(", ")),
            "an appliance gets no host firewall and is rarely hardened like a server: keep special data on a linux or windows system, or justify it with `allow appliance-special because \"…\"` on the system".into(),
        ));
    }
}
