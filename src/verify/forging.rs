//! A flow acts for whoever can forge its source (DESIGN.md §4a, a hostile host inside).
//!
//! A firewall checks a packet's source against the zones behind the interface it came in
//! on (anti-spoofing), not against the one host a flow names: any host on that segment
//! can write another's address. So a flow from or to a system `S` can also be used by
//! every other node on `S`'s segment whose own output is not filtered — to open `S`'s
//! connections, or to answer as `S` on connections opened to it. Where such a node holds a
//! confined class that may not be at the flow's other end, the proof rests on the segment
//! preventing address forging (a switch's IP Source Guard or DHCP snooping, or a host
//! firewall on the forger): a `no-forging` assumption, listed with the systems that could.

use std::collections::{BTreeMap, BTreeSet};

use super::enforce::{Topology, host};
use super::taint::{Bits, dense};
use super::{Assumption, AssumptionKind, allowed};
use crate::model::{ClassId, FlowId, Model, Node, SystemId, ZoneId};

/// One `no-forging` assumption per system whose address others on its segment could use.
pub(crate) fn assumptions(model: &Model, taint: &Bits) -> Vec<Assumption> {
    let topo = Topology::of(model);
    let confined: Vec<ClassId> =
        (0..model.classes.len()).map(ClassId::from_index).filter(|c| model.class(*c).confined()).collect();
    // The nodes that can send with any source address (no host firewall filters what
    // leaves them) and hold confined data: the only forgers that matter. SaaS systems are
    // on no segment of ours.
    let senders: Vec<(Node, Vec<ClassId>)> = model
        .nodes()
        .filter(|n| !matches!(n, Node::System(s) if model.system(*s).is_saas()))
        .filter(|n| !host(model, *n).filters_out)
        .map(|n| (n, confined.iter().copied().filter(|c| taint.get(dense(model, n), *c)).collect::<Vec<_>>()))
        .filter(|(_, classes)| !classes.is_empty())
        .collect();
    // Per zone and class, the senders on the zone's segment holding the class (in node
    // order): built once, so the work per flow does not grow with the number of nodes.
    let mut by_zone: BTreeMap<ZoneId, Vec<&(Node, Vec<ClassId>)>> = BTreeMap::new();
    for sender in &senders {
        by_zone.entry(model.node_zone(sender.0)).or_default().push(sender);
    }
    let on_segment: BTreeMap<ZoneId, BTreeMap<ClassId, Vec<Node>>> = (0..model.zones.len())
        .map(ZoneId::from_index)
        .map(|zone| {
            let mut by_class: BTreeMap<ClassId, Vec<Node>> = BTreeMap::new();
            for (_, members) in by_zone.iter().filter(|(z, _)| topo.one_segment(**z, zone)) {
                for (n, classes) in members.iter().map(|m| (m.0, &m.1)) {
                    for c in classes {
                        by_class.entry(*c).or_default().push(n);
                    }
                }
            }
            by_class.values_mut().for_each(|v| v.sort());
            (zone, by_class)
        })
        .collect();
    let forgers_of = |zone: ZoneId| &on_segment[&zone];
    // system → its use: forgers, flows, classes, and the classes whose every forger on
    // the segment (but the system itself) counts.
    #[derive(Default)]
    struct Use {
        forgers: BTreeSet<Node>,
        flows: BTreeSet<FlowId>,
        classes: BTreeSet<ClassId>,
        whole_segment: BTreeSet<ClassId>,
    }
    let mut uses: BTreeMap<SystemId, Use> = BTreeMap::new();
    for (fi, flow) in model.flows.iter().enumerate() {
        let f = FlowId::from_index(fi);
        for (side, other) in [(&flow.from, &flow.to), (&flow.to, &flow.from)] {
            // The confined classes that may not be at the flow's other end (and are not
            // exported there): what a forger holding one could send through this flow.
            let mut leaking: Option<Vec<ClassId>> = None;
            let side_nodes: BTreeSet<Node> =
                if side.nodes.len() > 1 { side.nodes.iter().copied().collect() } else { BTreeSet::new() };
            for named in &side.nodes {
                let Node::System(s) = *named else { continue };
                if model.system(s).is_saas() {
                    continue;
                }
                let by_class = forgers_of(model.system(s).zone);
                if by_class.is_empty() {
                    continue;
                }
                let leaking = leaking.get_or_insert_with(|| {
                    confined
                        .iter()
                        .copied()
                        .filter(|c| {
                            let exits: BTreeSet<&Node> = flow.export_recipients(*c).collect();
                            other.nodes.iter().any(|o| !allowed(model, *c, *o) && !exits.contains(o))
                        })
                        .collect()
                });
                for c in leaking.iter() {
                    let Some(candidates) = by_class.get(c) else { continue };
                    let forging: Vec<Node> = if side_nodes.is_empty() {
                        // The side is the system alone: every other sender forges.
                        if candidates.iter().all(|n| n == named) {
                            continue;
                        }
                        Vec::new()
                    } else {
                        let v: Vec<Node> = candidates.iter().copied().filter(|n| !side_nodes.contains(n)).collect();
                        if v.is_empty() {
                            continue;
                        }
                        v
                    };
                    let entry = uses.entry(s).or_default();
                    if side_nodes.is_empty() {
                        entry.whole_segment.insert(*c);
                    }
                    entry.forgers.extend(forging);
                    entry.flows.insert(f);
                    entry.classes.insert(*c);
                }
            }
        }
    }
    uses.into_iter()
        .map(|(s, mut u)| {
            let by_class = forgers_of(model.system(s).zone);
            for c in &u.whole_segment {
                u.forgers.extend(by_class.get(c).into_iter().flatten().copied().filter(|n| *n != Node::System(s)));
            }
            let Use { forgers, flows, classes, .. } = u;
            let sys = model.system(s);
            let names: Vec<String> = forgers.iter().map(|n| model.node_name(*n)).collect();
            let classes: Vec<ClassId> = classes.into_iter().collect();
            Assumption {
                kind: AssumptionKind::NoForging {
                    system: s,
                    forgers: forgers.into_iter().collect(),
                    flows: flows.into_iter().collect(),
                },
                relied_on: classes.clone(),
                in_series: classes.clone(),
                classes,
                justification: format!(
                    "firewalls check sources per interface, not per host: {} on the segment of `{}` could send with its \
                     address and use its flows; nothing stops that unless the segment guards sources (IP Source Guard, \
                     DHCP snooping) or they filter their own output (platform linux or windows in a closed zone)",
                    names.join(", "),
                    sys.name
                ),
                span: sys.name_span,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::verify::{AssumptionKind, Options, verify};

    /// (system, forgers) of every no-forging assumption.
    fn forging(text: &str) -> Vec<(String, Vec<String>)> {
        let model = crate::load_str("t.zc", text).expect("resolves");
        verify(&model, &Options::default())
            .assumptions
            .iter()
            .filter_map(|a| match &a.kind {
                AssumptionKind::NoForging { system, forgers, .. } => {
                    Some((model.system(*system).name.clone(), forgers.iter().map(|n| model.node_name(*n)).collect()))
                }
                _ => None,
            })
            .collect()
    }

    fn policy(holder_platform: &str, shared: bool) -> String {
        let ifaces = if shared {
            "  interface eth0 zone lukket, drift\n"
        } else {
            "  interface eth0 zone lukket\n  interface eth1 zone drift\n"
        };
        format!(
            "class helse {{ special; confined }}\n\
             zone lukket {{ trust closed; net 10.1.0.0/24 }}\n\
             zone drift {{ trust closed; net 10.3.0.0/24 }}\n\
             zone inet {{ trust external; net 0.0.0.0/0 }}\n\
             system holder {{ zone lukket; address 10.1.0.10; platform {holder_platform}; holds helse }}\n\
             system relay {{ zone drift; address 10.3.0.10; platform appliance }}\n\
             flow relay -> inet : https \"Oppdateringer\"\n\
             firewall fw {{\n  target nftables\n{ifaces}  interface eth2 zone inet\n}}\n"
        )
    }

    #[test]
    fn a_neighbour_that_can_forge_the_source_is_listed() {
        // The holder shares the relay's segment and filters nothing it sends.
        let found = forging(&policy("appliance", true));
        assert_eq!(found, vec![("relay".to_string(), vec!["holder".to_string()])]);
    }

    #[test]
    fn a_zone_flow_acts_for_forgers_outside_its_zone_only() {
        // The flow names the relay's zone: the holder beside it, in another zone on the
        // same segment, can still use it.
        let zone_flow = policy("appliance", true).replace("flow relay -> inet", "flow drift -> inet");
        assert_eq!(forging(&zone_flow), vec![("relay".to_string(), vec!["holder".to_string()])]);
    }

    #[test]
    fn a_device_between_or_an_output_filter_removes_the_assumption() {
        // Another interface: anti-spoofing drops the holder's packets with the relay's source.
        assert!(forging(&policy("appliance", false)).is_empty());
        // A closed-zone Linux host filters its own output, source included.
        assert!(forging(&policy("linux", true)).is_empty());
    }
}
