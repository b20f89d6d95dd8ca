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
use crate::model::{ClassId, FlowId, Model, Node, SystemId};

/// One `no-forging` assumption per system whose address others on its segment could use.
pub fn assumptions(model: &Model, taint: &Bits) -> Vec<Assumption> {
    let topo = Topology::of(model);
    // The nodes of each segment that can send with any source address: no host firewall
    // filters what leaves them. SaaS systems are on no segment of ours.
    let senders: Vec<Node> = model
        .nodes()
        .filter(|n| !matches!(n, Node::System(s) if model.system(*s).is_saas()))
        .filter(|n| !host(model, *n).filters_out)
        .collect();
    // system → (forgers, flows, classes)
    type Use = (BTreeSet<Node>, BTreeSet<FlowId>, BTreeSet<ClassId>);
    let mut uses: BTreeMap<SystemId, Use> = BTreeMap::new();
    for (fi, flow) in model.flows.iter().enumerate() {
        let f = FlowId::from_index(fi);
        for (side, other) in [(&flow.from, &flow.to), (&flow.to, &flow.from)] {
            for named in &side.nodes {
                let Node::System(s) = *named else { continue };
                if model.system(s).is_saas() {
                    continue;
                }
                let zone = model.system(s).zone;
                for n in &senders {
                    if side.nodes.contains(n) || !topo.one_segment(model.node_zone(*n), zone) {
                        continue;
                    }
                    // Confined data at the forger that may not reach the flow's other end.
                    let classes: Vec<ClassId> = (0..model.classes.len())
                        .map(ClassId::from_index)
                        .filter(|c| model.class(*c).confined() && taint.get(dense(model, *n), *c))
                        .filter(|c| {
                            let exits: BTreeSet<&Node> = flow.export_recipients(*c).collect();
                            other.nodes.iter().any(|o| !allowed(model, *c, *o) && !exits.contains(o))
                        })
                        .collect();
                    if classes.is_empty() {
                        continue;
                    }
                    let entry = uses.entry(s).or_default();
                    entry.0.insert(*n);
                    entry.1.insert(f);
                    entry.2.extend(classes);
                }
            }
        }
    }
    uses.into_iter()
        .map(|(s, (forgers, flows, classes))| {
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
    fn a_device_between_or_an_output_filter_removes_the_assumption() {
        // Another interface: anti-spoofing drops the holder's packets with the relay's source.
        assert!(forging(&policy("appliance", false)).is_empty());
        // A closed-zone Linux host filters its own output, source included.
        assert!(forging(&policy("linux", true)).is_empty());
    }
}
