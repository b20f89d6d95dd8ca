//! `zonecheck explain FROM TO`: how two endpoints exchange data, and which classes travel
//! each way — the question an engineer asks when verify says no.

use super::taint::{self, Bfs, Bits, Hop, dense};
use crate::model::{ClassId, EndpointRef, FlowId, Model, Node, SystemId};

pub struct Direction {
    pub class: ClassId,
    /// Shortest path from an endpoint node that has the class to one of the other side.
    pub path: Vec<Hop>,
}

pub struct Explanation {
    pub from: Vec<Node>,
    pub to: Vec<Node>,
    /// Flows that connect the two sides directly (either way).
    pub direct: Vec<FlowId>,
    /// The shortest chain of flows between them, ignoring `carries`.
    pub connection: Option<Vec<Hop>>,
    pub forward: Vec<Direction>,
    pub backward: Vec<Direction>,
    /// A SaaS on one side that a zone-level flow from the other side reaches: its data is
    /// kept from that flow by its own login only (an assumption, DESIGN.md §4a).
    pub through_zone: Vec<(SystemId, FlowId)>,
}

/// Resolve an endpoint name (system, zone or group) to its data nodes.
pub fn endpoint_nodes(model: &Model, name: &str) -> Option<(EndpointRef, Vec<Node>)> {
    let r = if let Some(s) = model.system_by_name(name) {
        EndpointRef::System(s)
    } else if let Some(z) = model.zone_by_name(name) {
        EndpointRef::Zone(z)
    } else {
        EndpointRef::Group(model.group_by_name(name)?)
    };
    let nodes = match r {
        EndpointRef::System(s) => vec![Node::System(s)],
        // An explicitly named zone stands for all of it, SaaS included.
        EndpointRef::Zone(z) => {
            let mut v: Vec<Node> = model.zone(z).systems.iter().map(|s| Node::System(*s)).collect();
            v.push(Node::ZoneRest(z));
            v
        }
        EndpointRef::Group(g) => {
            let mut v = Vec::new();
            let mut stack = vec![g];
            let mut seen = vec![false; model.groups.len()];
            while let Some(g) = stack.pop() {
                if std::mem::replace(&mut seen[g.index()], true) {
                    continue;
                }
                for m in &model.group(g).members {
                    match *m {
                        EndpointRef::System(s) => v.push(Node::System(s)),
                        EndpointRef::Zone(z) => {
                            v.extend(
                                model
                                    .zone(z)
                                    .systems
                                    .iter()
                                    .filter(|s| !model.system(**s).is_saas())
                                    .map(|s| Node::System(*s)),
                            );
                            v.push(Node::ZoneRest(z));
                        }
                        EndpointRef::Group(c) => stack.push(c),
                    }
                }
            }
            v.sort();
            v.dedup();
            v
        }
    };
    Some((r, nodes))
}

fn shortest(
    model: &Model,
    masks: &Bits,
    class: Option<ClassId>,
    starts: &[Node],
    targets: &[Node],
) -> Option<Vec<Hop>> {
    let bfs = Bfs::run(model, masks, class, starts.iter().map(|n| dense(model, *n)));
    let best = targets
        .iter()
        .map(|n| dense(model, *n))
        .filter(|i| bfs.dist.get(*i).is_some_and(|d| *d != u32::MAX))
        .min_by_key(|i| (bfs.dist[*i], *i))?;
    Some(bfs.path_to(model, best))
}

pub fn explain(model: &Model, taint: &Bits, from: Vec<Node>, to: Vec<Node>) -> Explanation {
    let masks = taint::masks(model);
    let contains = |side: &[Node], set: &[Node]| side.iter().any(|n| set.binary_search(n).is_ok());
    let direct = model
        .flows
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            (contains(&f.from.nodes, &from) && contains(&f.to.nodes, &to))
                || (contains(&f.from.nodes, &to) && contains(&f.to.nodes, &from))
        })
        .map(|(i, _)| FlowId::from_index(i))
        .collect();
    let connection = shortest(model, &masks, None, &from, &to).filter(|p| !p.is_empty());
    let mut forward = Vec::new();
    let mut backward = Vec::new();
    for ci in 0..model.classes.len() {
        let c = ClassId::from_index(ci);
        for (src, dst, out) in [(&from, &to, &mut forward), (&to, &from, &mut backward)] {
            let starts: Vec<Node> = src.iter().copied().filter(|n| taint.get(dense(model, *n), c)).collect();
            if starts.is_empty() {
                continue;
            }
            if let Some(path) = shortest(model, &masks, Some(c), &starts, dst)
                && !path.is_empty()
            {
                out.push(Direction { class: c, path });
            }
        }
    }
    let by_zone = super::flows_naming_zones(model);
    let mut through_zone = Vec::new();
    for (side, other) in [(&from, &to), (&to, &from)] {
        for n in side.iter() {
            let Node::System(s) = *n else { continue };
            let sys = model.system(s);
            if !sys.is_saas() {
                continue;
            }
            for f in by_zone.get(&sys.zone).into_iter().flatten() {
                let flow = model.flow(*f);
                if contains(&flow.from.nodes, other) || contains(&flow.to.nodes, other) {
                    through_zone.push((s, *f));
                }
            }
        }
    }
    through_zone.sort();
    through_zone.dedup();
    Explanation { from, to, direct, connection, forward, backward, through_zone }
}
