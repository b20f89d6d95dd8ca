//! Taint propagation and shortest paths over the flow graph.
//!
//! Each flow is a hub in the model's petgraph graph: FROM nodes point into the hub, the
//! hub points at TO nodes. A flow yields two channels, FROM → TO and TO → FROM, both
//! limited by the flow's `carries` mask. Taint is a bit set of classes per data node.
//!
//! Propagation is a worklist over data nodes. When a node gains bits, only the new bits
//! (its delta) travel on, and each hub remembers per direction which bits it already
//! passed; so every hub direction is crossed at most once per class and the total work is
//! O(classes × Σ endpoint sizes) — linear in the policy.

use std::collections::VecDeque;

use petgraph::Direction::{Incoming, Outgoing};
use petgraph::graph::NodeIndex;

use crate::model::{ClassId, FlowId, GraphNode, Model, Node};

/// A dense bit matrix: one row of `words` u64 per item.
#[derive(Clone, Debug)]
pub struct Bits {
    words: usize,
    data: Vec<u64>,
}

impl Bits {
    pub(crate) fn new(rows: usize, classes: usize) -> Bits {
        let words = classes.div_ceil(64).max(1);
        Bits { words, data: vec![0; rows * words] }
    }

    pub(crate) fn row(&self, r: usize) -> &[u64] {
        self.data.get(r * self.words..(r + 1) * self.words).unwrap_or(&[])
    }

    fn row_mut(&mut self, r: usize) -> &mut [u64] {
        let w = self.words;
        self.data.get_mut(r * w..(r + 1) * w).unwrap_or(&mut [])
    }

    pub(crate) fn get(&self, r: usize, c: ClassId) -> bool {
        let (w, b) = (c.index() / 64, c.index() % 64);
        self.row(r).get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    pub(crate) fn set(&mut self, r: usize, c: ClassId) {
        let (w, b) = (c.index() / 64, c.index() % 64);
        if let Some(x) = self.row_mut(r).get_mut(w) {
            *x |= 1 << b;
        }
    }

    /// `row |= bits`; returns whether anything new was added.
    fn or_row(&mut self, r: usize, bits: &[u64]) -> bool {
        let mut changed = false;
        for (x, y) in self.row_mut(r).iter_mut().zip(bits) {
            let new = *x | y;
            changed |= new != *x;
            *x = new;
        }
        changed
    }
}

/// What each flow lets through: every class, or those of its `carries`.
pub(crate) fn masks(model: &Model) -> Bits {
    let classes = model.classes.len();
    let mut m = Bits::new(model.flows.len(), classes);
    for (f, flow) in model.flows.iter().enumerate() {
        match &flow.carries {
            None => {
                for c in 0..classes {
                    m.set(f, ClassId::from_index(c));
                }
            }
            Some(carries) => {
                for c in &carries.classes {
                    m.set(f, *c);
                }
            }
        }
    }
    m
}

/// Dense index of a data node, which is also its petgraph index.
// INVARIANT: `model::resolve` adds data nodes first, systems then zones, in id order.
pub(crate) fn dense(model: &Model, node: Node) -> usize {
    match node {
        Node::System(s) => s.index(),
        Node::ZoneRest(z) => model.systems.len() + z.index(),
    }
}

pub(crate) fn node_at(model: &Model, ix: usize) -> Option<Node> {
    match model.graph.node_weight(NodeIndex::new(ix))? {
        GraphNode::Data(n) => Some(*n),
        GraphNode::Flow(_) => None,
    }
}

fn flow_of(model: &Model, hub: NodeIndex) -> Option<FlowId> {
    match model.graph.node_weight(hub)? {
        GraphNode::Flow(f) => Some(*f),
        GraphNode::Data(_) => None,
    }
}

/// The fixpoint: which classes every data node holds or receives.
pub(crate) fn propagate(model: &Model, masks: &Bits) -> Bits {
    let nodes = model.systems.len() + model.zones.len();
    let classes = model.classes.len();
    let mut taint = Bits::new(nodes, classes);
    for (s, sys) in model.systems.iter().enumerate() {
        let r = dense(model, Node::System(crate::model::SystemId::from_index(s)));
        for c in &sys.holds {
            taint.set(r, *c);
        }
    }
    let mut sent = Bits::new(nodes, classes);
    let mut fwd = Bits::new(model.flows.len(), classes);
    let mut bwd = Bits::new(model.flows.len(), classes);
    let mut queued = vec![false; nodes];
    let mut queue: VecDeque<usize> = (0..nodes).filter(|r| taint.row(*r).iter().any(|w| *w != 0)).collect();
    for r in &queue {
        queued[*r] = true;
    }
    let words = taint.words;
    let mut delta = vec![0u64; words];
    let mut pass = vec![0u64; words];
    while let Some(r) = queue.pop_front() {
        queued[r] = false;
        for (w, d) in delta.iter_mut().enumerate() {
            let t = taint.row(r).get(w).copied().unwrap_or(0);
            let s = sent.row(r).get(w).copied().unwrap_or(0);
            *d = t & !s;
        }
        if delta.iter().all(|d| *d == 0) {
            continue;
        }
        sent.or_row(r, &delta);
        let ix = NodeIndex::new(r);
        // r is on the FROM side of outgoing hubs and on the TO side of incoming ones.
        for (dir, side) in [(Outgoing, &mut fwd), (Incoming, &mut bwd)] {
            for hub in model.graph.neighbors_directed(ix, dir) {
                let Some(f) = flow_of(model, hub) else { continue };
                let mask = masks.row(f.index());
                let done = side.row(f.index());
                let mut any = false;
                for w in 0..words {
                    let p = delta.get(w).copied().unwrap_or(0)
                        & mask.get(w).copied().unwrap_or(0)
                        & !done.get(w).copied().unwrap_or(0);
                    if let Some(x) = pass.get_mut(w) {
                        *x = p;
                    }
                    any |= p != 0;
                }
                if !any {
                    continue;
                }
                side.or_row(f.index(), &pass);
                for m in model.graph.neighbors_directed(hub, dir) {
                    let mi = m.index();
                    if taint.or_row(mi, &pass) && !queued[mi] {
                        queued[mi] = true;
                        queue.push_back(mi);
                    }
                }
            }
        }
    }
    taint
}

/// One step of a path: data moved from `from` to `to` over `flow`; `forward` is the
/// flow's FROM → TO direction, otherwise the answer travelling back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    pub from: Node,
    pub to: Node,
    pub flow: FlowId,
    pub forward: bool,
}

/// Breadth-first search from a set of start nodes over channels that carry `class`.
pub(crate) struct Bfs {
    /// Hops from the nearest start node, `u32::MAX` if unreachable.
    pub dist: Vec<u32>,
    /// How each reached node was first reached.
    pub parent: Vec<Option<(usize, FlowId, bool)>>,
}

impl Bfs {
    pub(crate) fn run(
        model: &Model,
        masks: &Bits,
        class: Option<ClassId>,
        starts: impl IntoIterator<Item = usize>,
    ) -> Bfs {
        let nodes = model.systems.len() + model.zones.len();
        let mut dist = vec![u32::MAX; nodes];
        let mut parent = vec![None; nodes];
        let mut hub_done = vec![[false; 2]; model.flows.len()];
        let mut queue = VecDeque::new();
        for s in starts {
            if let Some(d) = dist.get_mut(s)
                && *d == u32::MAX
            {
                *d = 0;
                queue.push_back(s);
            }
        }
        while let Some(r) = queue.pop_front() {
            let d = dist.get(r).copied().unwrap_or(u32::MAX);
            for (k, dir) in [Outgoing, Incoming].into_iter().enumerate() {
                for hub in model.graph.neighbors_directed(NodeIndex::new(r), dir) {
                    let Some(f) = flow_of(model, hub) else { continue };
                    if class.is_some_and(|c| !masks.get(f.index(), c)) {
                        continue;
                    }
                    let Some(done) = hub_done.get_mut(f.index()).and_then(|h| h.get_mut(k)) else { continue };
                    if *done {
                        continue;
                    }
                    *done = true;
                    for m in model.graph.neighbors_directed(hub, dir) {
                        let mi = m.index();
                        if dist.get(mi) == Some(&u32::MAX) {
                            dist[mi] = d + 1;
                            parent[mi] = Some((r, f, k == 0));
                            queue.push_back(mi);
                        }
                    }
                }
            }
        }
        Bfs { dist, parent }
    }

    /// The path of hops from a start node to `target` (empty if `target` is a start).
    pub(crate) fn path_to(&self, model: &Model, target: usize) -> Vec<Hop> {
        let mut hops = Vec::new();
        let mut cur = target;
        while let Some(Some((prev, flow, forward))) = self.parent.get(cur) {
            if let (Some(from), Some(to)) = (node_at(model, *prev), node_at(model, cur)) {
                hops.push(Hop { from, to, flow: *flow, forward: *forward });
            }
            cur = *prev;
            if hops.len() > self.parent.len() {
                break; // INVARIANT: parents form a tree; this only guards against a bug looping.
            }
        }
        hops.reverse();
        hops
    }
}
