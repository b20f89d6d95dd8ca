//! Comparing `verify` with the reference: per-class verdicts, the violating (class, node)
//! pairs, the taint at every node, and every reported path (real and of minimal length).

use std::collections::BTreeSet;

use zonecheck::model::{FlowId, Model, Node};
use zonecheck::verify::Verdict;

use super::reference::{Reference, bit, expand_refs};

// ---- comparing verify with the reference --------------------------------------------------

/// Every property of one (model, verdict) pair against the reference.
pub(super) fn compare(model: &Model, verdict: &Verdict, r: &Reference) -> Result<(), String> {
    // The model's endpoint expansion matches DESIGN §3 (the reference trusts it otherwise).
    for (f, flow) in model.flows.iter().enumerate() {
        for (side, e) in [("FROM", &flow.from), ("TO", &flow.to)] {
            let mut want = BTreeSet::new();
            expand_refs(model, &e.refs, 0, &mut want);
            let got: BTreeSet<Node> = e.nodes.iter().copied().collect();
            if want != got || got.len() != e.nodes.len() {
                return Err(format!(
                    "flow {f} `{}`: {side} expands to {got:?}, DESIGN §3 says {want:?}",
                    model.flow_title(FlowId::from_index(f))
                ));
            }
        }
    }

    // Taint at every node.
    for (i, node) in r.nodes.iter().enumerate() {
        let got = verdict.classes_at(model, *node).iter().fold(0u64, |m, c| m | bit(c.index()));
        if got != r.taint[i] {
            return Err(format!("taint at `{}`: verify {got:#b}, reference {:#b}", model.node_name(*node), r.taint[i]));
        }
    }

    // Per-class verdicts.
    let classes: Vec<usize> = verdict.classes.iter().map(|cv| cv.class.index()).collect();
    if classes != r.confined {
        return Err(format!("verdict covers classes {classes:?}, the confined classes are {:?}", r.confined));
    }
    for cv in &verdict.classes {
        let c = cv.class.index();
        let name = &model.classes[c].name;
        if cv.proved == r.violated(c) {
            return Err(format!(
                "class `{name}`: verify says proved={}, reference says proved={}",
                cv.proved,
                !r.violated(c)
            ));
        }
        let reach = r.taint.iter().filter(|t| *t & bit(c) != 0).count();
        if cv.reach != reach {
            return Err(format!("class `{name}`: verify reach {}, reference {reach}", cv.reach));
        }
        let holders: BTreeSet<Node> = cv.holders.iter().copied().collect();
        let want: BTreeSet<Node> =
            r.nodes.iter().enumerate().filter(|(i, _)| r.holds[*i] & bit(c) != 0).map(|(_, n)| *n).collect();
        if holders != want {
            return Err(format!("class `{name}`: verify holders {holders:?}, reference {want:?}"));
        }
    }
    if verdict.proved() != r.violations.is_empty() {
        return Err("overall verdict differs".into());
    }

    // The exact set of violations.
    let mut got: BTreeSet<(usize, Node)> = BTreeSet::new();
    for v in &verdict.violations {
        if !got.insert((v.class.index(), v.node)) {
            return Err(format!(
                "violation of `{}` at `{}` reported twice",
                model.classes[v.class.index()].name,
                model.node_name(v.node)
            ));
        }
    }
    let want: BTreeSet<(usize, Node)> = r.violations.keys().copied().collect();
    if got != want {
        let show = |s: &BTreeSet<(usize, Node)>| -> Vec<String> {
            s.iter().map(|(c, n)| format!("{}@{}", model.classes[*c].name, model.node_name(*n))).collect()
        };
        return Err(format!(
            "violations differ:\n  only verify:    {:?}\n  only reference: {:?}",
            show(&got.difference(&want).copied().collect()),
            show(&want.difference(&got).copied().collect())
        ));
    }

    // Every path is real and of minimal length.
    for v in &verdict.violations {
        let c = v.class.index();
        let what = format!("violation of `{}` at `{}`", model.classes[c].name, model.node_name(v.node));
        let holder = |n: Node| r.holds[r.index[&n]] & bit(c) != 0;
        let want_len = r.violations[&(c, v.node)];
        if v.path.len() != want_len as usize {
            return Err(format!("{what}: path of {} hops, the shortest has {want_len}: {:?}", v.path.len(), v.path));
        }
        let Some(first) = v.path.first() else {
            if !holder(v.node) {
                return Err(format!("{what}: empty path, but the node does not hold the class"));
            }
            continue;
        };
        if !holder(first.from) {
            return Err(format!(
                "{what}: path starts at `{}`, which does not hold the class",
                model.node_name(first.from)
            ));
        }
        for (k, hop) in v.path.iter().enumerate() {
            let flow = &model.flows[hop.flow.index()];
            let (senders, receivers) =
                if hop.forward { (&flow.from.nodes, &flow.to.nodes) } else { (&flow.to.nodes, &flow.from.nodes) };
            if !senders.contains(&hop.from) || !receivers.contains(&hop.to) {
                return Err(format!(
                    "{what}: hop {k} {hop:?} is not a channel of flow `{}`",
                    model.flow_title(hop.flow)
                ));
            }
            if flow.carries.as_ref().is_some_and(|cr| !cr.classes.contains(&v.class)) {
                return Err(format!(
                    "{what}: hop {k} uses flow `{}`, whose `carries` excludes the class",
                    model.flow_title(hop.flow)
                ));
            }
            if let Some(next) = v.path.get(k + 1)
                && next.from != hop.to
            {
                return Err(format!("{what}: hops {k} and {} are not connected: {:?}", k + 1, v.path));
            }
        }
        let last = v.path.last().unwrap_or(first);
        if last.to != v.node {
            return Err(format!("{what}: path ends at `{}`", model.node_name(last.to)));
        }
        if model.flows[last.flow.index()].exports.iter().any(|e| e.class == v.class && e.fetched != last.forward) {
            return Err(format!(
                "{what}: the last hop is an export of the class over `{}`",
                model.flow_title(last.flow)
            ));
        }
    }
    Ok(())
}
