//! The packet-space engine and the ruleset evaluator against brute force.
//!
//! Random cubes and random rulesets (chains with jumps, gotos, returns, several base
//! chains with policies) use few distinct bounds per dimension, so the space splits into
//! few elementary cells: every combination of one value per cell boundary ("breakpoints")
//! is a packet, and checking every such packet concretely decides the question exactly.
//! The symbolic answers (difference, intersection, subset, the permitted space, shadowed
//! and redundant rules) must agree with these brute-force answers packet for packet.

use std::collections::BTreeSet;

use crate::check::ruleset::{Action, Base, Chain, Dead, Hook, Origin, Rule, RuleRef, Ruleset};
use crate::check::space::{ALL_DIMS, Cube, DIMS, Dim, Field, Packet, Path, Space, addr_max, dim_max};
use proptest::prelude::*;

/// The small values random cubes use in each dimension (the rest of the range is "outside").
fn small(d: Dim) -> u128 {
    match d {
        Dim::Path => 2,
        Dim::Family | Dim::Flags => 1,
        _ => 5,
    }
}

fn field_strategy(d: Dim) -> impl Strategy<Value = Option<Field>> {
    let top = small(d);
    prop_oneof![
        2 => Just(None),
        3 => (0..=top, 0..=top).prop_map(|(a, b)| Some(Field::range(a.min(b), a.max(b)))),
        1 => (0..=top, 0..=top, 0..=top).prop_map(|(a, b, c)| Some(Field::from_ranges([(a, a), (b.min(c), b.max(c))]))),
        1 => (0..=top).prop_map(move |a| Some(Field::range(a, dim_max(d)))),
    ]
}

/// The dimensions a test case varies (besides the family, and the path for rulesets): few,
/// so that the grid of packets stays small enough to enumerate.
fn active_dims(path: bool) -> impl Strategy<Value = Vec<Dim>> {
    let pool = [Dim::Iif, Dim::Oif, Dim::Src, Dim::Dst, Dim::Proto, Dim::Sport, Dim::Dport, Dim::Flags];
    proptest::sample::subsequence(pool.to_vec(), 3).prop_map(move |mut v| {
        if path {
            v.push(Dim::Path);
        }
        v
    })
}

fn cube_strategy(active: Vec<Dim>) -> impl Strategy<Value = Cube> {
    let dims: Vec<_> = active.iter().map(|d| field_strategy(*d)).collect();
    (any::<bool>(), dims).prop_filter_map("empty cube", move |(v6, fields)| {
        let mut c = Cube::any(v6);
        for (d, f) in active.iter().zip(fields) {
            if let Some(f) = f {
                c = c.with(*d, &f)?;
            }
        }
        Some(c)
    })
}

/// One packet per cell of the arrangement: random fields only use bounds in
/// `0..=small(d)` or run to the maximum, so `0..=small(d)+1` and the maximum meet every
/// cell of the active dimensions; the others are never narrowed.
fn grid(active: &[Dim]) -> Vec<Packet> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let axes: Vec<Vec<u128>> = ALL_DIMS
            .iter()
            .map(|d| {
                if *d == Dim::Family {
                    return vec![u128::from(v6)];
                }
                if !active.contains(d) {
                    // Interfaces: none and some, so every path has possible packets.
                    return if matches!(d, Dim::Iif | Dim::Oif) { vec![0, 1] } else { vec![0] };
                }
                let max = if matches!(d, Dim::Src | Dim::Dst) { addr_max(v6) } else { dim_max(*d) };
                let mut v: Vec<u128> = (0..=(small(*d) + 1).min(max)).collect();
                v.push(max);
                v.dedup();
                v
            })
            .collect();
        let mut idx = [0usize; DIMS];
        loop {
            let v: Vec<u128> = (0..DIMS).map(|i| axes[i][idx[i]]).collect();
            out.push(Packet {
                path: Path::ALL[v[0] as usize],
                iif: v[1] as u32,
                oif: v[2] as u32,
                v6,
                src: v[4],
                dst: v[5],
                proto: v[6] as u8,
                sport: v[7] as u16,
                dport: v[8] as u16,
                ack: v[9] == 1,
                ct: crate::check::space::Ct::New,
                hops: 64,
            });
            let mut k = 0;
            while k < DIMS {
                idx[k] += 1;
                if idx[k] < axes[k].len() {
                    break;
                }
                idx[k] = 0;
                k += 1;
            }
            if k == DIMS {
                break;
            }
        }
    }
    out
}

fn in_any(cubes: &[Cube], p: &Packet) -> bool {
    cubes.iter().any(|c| c.contains(p))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn set_algebra_matches_brute_force((active, a, b) in active_dims(false).prop_flat_map(|act| (
        Just(act.clone()),
        proptest::collection::vec(cube_strategy(act.clone()), 0..4),
        proptest::collection::vec(cube_strategy(act), 0..4),
    ))) {
        let (sa, sb) = (Space::from_cubes(a.clone()), Space::from_cubes(b.clone()));
        let diff = sa.difference(&sb).unwrap();
        let inter = sa.intersection(&sb);
        let subset = sa.is_subset(&sb).unwrap();
        let mut brute_subset = true;
        for p in grid(&active) {
            let (ina, inb) = (in_any(&a, &p), in_any(&b, &p));
            prop_assert_eq!(in_any(&diff, &p), ina && !inb, "difference at {:?}", p);
            prop_assert_eq!(in_any(inter.cubes(), &p), ina && inb, "intersection at {:?}", p);
            prop_assert_eq!(sa.contains(&p), ina, "contains at {:?}", p);
            brute_subset &= !ina || inb;
        }
        prop_assert_eq!(subset, brute_subset);
        // The pieces of one cube's difference are disjoint, and every witness is a member.
        for x in &diff {
            prop_assert!(x.contains(&x.witness()), "witness outside its cube: {:?}", x);
        }
        if let [one] = a.as_slice() {
            let pieces = sb.subtract_from(one).unwrap();
            for (i, x) in pieces.iter().enumerate() {
                for y in &pieces[i + 1..] {
                    prop_assert!(!x.overlaps(y), "overlapping pieces {:?} {:?}", x, y);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// A few wide cubes less many narrow ones: past a few dozen cubes cutting one, the
    /// difference splits the cube at the cutters' boundaries instead of cutting it by each
    /// in turn — the same packets, as disjoint pieces.
    #[test]
    fn difference_by_splitting_matches_brute_force((active, a, b) in active_dims(false).prop_flat_map(|act| (
        Just(act.clone()),
        proptest::collection::vec(cube_strategy(act.clone()), 0..3),
        proptest::collection::vec(cube_strategy(act), 70..160),
    ))) {
        // Every packet less them all: what a device that permits anything is compared by.
        let a: Vec<Cube> = a.into_iter().chain([Cube::any(false), Cube::any(true)]).collect();
        let (sa, sb) = (Space::from_cubes(a.clone()), Space::from_cubes(b.clone()));
        let diff = sa.difference(&sb).unwrap();
        for p in grid(&active) {
            prop_assert_eq!(in_any(&diff, &p), in_any(&a, &p) && !in_any(&b, &p), "difference at {:?}", p);
        }
        for c in &a {
            let pieces = sb.subtract_from(c).unwrap();
            for (i, x) in pieces.iter().enumerate() {
                prop_assert!(x.is_subset(c), "piece outside its cube: {:?}", x);
                for y in &pieces[i + 1..] {
                    prop_assert!(!x.overlaps(y), "overlapping pieces {:?} {:?}", x, y);
                }
            }
        }
    }

    /// A field is a subset of another exactly when nothing is left of it less the other.
    #[test]
    fn field_subset_is_empty_difference(
        a in proptest::collection::vec((0u128..12, 0u128..4), 0..4),
        b in proptest::collection::vec((0u128..12, 0u128..4), 0..4),
    ) {
        let (fa, fb) = (
            Field::from_ranges(a.iter().map(|&(lo, len)| (lo, lo + len))),
            Field::from_ranges(b.iter().map(|&(lo, len)| (lo, lo + len))),
        );
        prop_assert_eq!(fa.is_subset(&fb), (0..16).all(|v| !fa.contains(v) || fb.contains(v)));
    }

    /// Fields hold one interval below 2^32 inline, all of `u128` as a mark and the rest on
    /// the heap: across those boundaries every operation agrees with the values it holds,
    /// and two fields holding the same values are equal, hash alike and order as their
    /// interval lists, however they were built.
    #[test]
    fn field_across_the_inline_boundary(
        a in proptest::collection::vec((0usize..WIDE.len(), 0usize..WIDE.len()), 0..4),
        b in proptest::collection::vec((0usize..WIDE.len(), 0usize..WIDE.len()), 0..4),
    ) {
        let field = |v: &[(usize, usize)]| Field::from_ranges(v.iter().map(|&(x, y)| (WIDE[x.min(y)], WIDE[x.max(y)])));
        let (fa, fb) = (field(&a), field(&b));
        let rebuilt = |f: &Field| match *f.intervals() {
            [(lo, hi)] => Field::range(lo, hi),
            ref ivs => Field::from_ranges(ivs.iter().copied()),
        };
        let hash = |f: &Field| {
            use std::hash::{BuildHasher, RandomState};
            thread_local!(static STATE: RandomState = RandomState::new());
            STATE.with(|s| s.hash_one(f))
        };
        for (f, holds) in [
            (fa.intersect(&fb), &(|v| fa.contains(v) && fb.contains(v)) as &dyn Fn(u128) -> bool),
            (fa.intersect(&fb.complement(u128::MAX)), &|v| fa.contains(v) && !fb.contains(v)),
            (fa.union(&fb), &|v| fa.contains(v) || fb.contains(v)),
        ] {
            for &v in PROBES {
                prop_assert_eq!(f.contains(v), holds(v), "{:?} at {}", f, v);
            }
            let same = rebuilt(&f);
            prop_assert!(f == same && hash(&f) == hash(&same), "{:?} built two ways", f);
        }
        // Fields meet (`overlaps` asks each dimension) exactly when they share a value.
        let cube = |f: &Field| Cube::any(true).with(Dim::Src, f);
        if let (Some(ca), Some(cb)) = (cube(&fa), cube(&fb)) {
            prop_assert_eq!(ca.overlaps(&cb), !fa.intersect(&fb).is_empty());
        }
        prop_assert_eq!(fa.is_subset(&fb), fa.intersect(&fb) == fa);
        prop_assert_eq!(fa.cmp(&fb), fa.intervals()[..].cmp(&fb.intervals()[..]));
        prop_assert_eq!(fa == fb, *fa.intervals() == *fb.intervals());
    }
}

/// Interval bounds on both sides of 2^64, where a field moves from inline to the heap.
const WIDE: &[u128] =
    &[0, 7, (1 << 32) - 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, (1 << 64) - 1, 1 << 64, u128::MAX - 1, u128::MAX];

/// Every bound, and the values next to each.
const PROBES: &[u128] = &[
    0,
    1,
    6,
    7,
    8,
    (1 << 32) - 3,
    (1 << 32) - 2,
    (1 << 32) - 1,
    1 << 32,
    (1 << 32) + 1,
    (1 << 32) + 2,
    (1 << 64) - 3,
    (1 << 64) - 2,
    (1 << 64) - 1,
    1 << 64,
    (1 << 64) + 1,
    (1 << 64) + 2,
    u128::MAX - 2,
    u128::MAX - 1,
    u128::MAX,
];

/// `c` cut along every dimension with more than one interval: the atoms `difference` looks
/// up by equality, as a device holding one rule per host of a group would cut them.
fn cut(c: &Cube) -> Vec<Cube> {
    let mut out = vec![c.clone()];
    for d in ALL_DIMS {
        let ivs = c.field(d).intervals().to_vec();
        if ivs.len() > 1 {
            out = out
                .iter()
                .flat_map(|x| ivs.iter().filter_map(|&(lo, hi)| x.clone().with(d, &Field::range(lo, hi))))
                .collect();
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The same packets cut differently on the two sides — whole, cut into atoms, atoms
    /// missing — and unrelated cubes beside: the difference is exact both ways.
    #[test]
    fn difference_of_spaces_cut_differently((active, a, keep, extra) in active_dims(false).prop_flat_map(|act| (
        Just(act.clone()),
        proptest::collection::vec(cube_strategy(act.clone()), 1..4),
        proptest::collection::vec(0u8..4, 16),
        proptest::collection::vec(cube_strategy(act), 0..2),
    ))) {
        let mut b = extra.clone();
        let mut k = keep.iter().cycle();
        for c in &a {
            match k.next().copied().unwrap_or(0) {
                0 => b.push(c.clone()),
                1 => b.extend(cut(c)),
                // The atoms but one, or but every other.
                2 => b.extend(cut(c).into_iter().skip(1)),
                _ => b.extend(cut(c).into_iter().step_by(2)),
            }
        }
        let (sa, sb) = (Space::from_cubes(a.clone()), Space::from_cubes(b.clone()));
        let (ab, ba) = (sa.difference(&sb).unwrap(), sb.difference(&sa).unwrap());
        for p in grid(&active) {
            let (ina, inb) = (in_any(&a, &p), in_any(&b, &p));
            prop_assert_eq!(in_any(&ab, &p), ina && !inb, "a - b at {:?}", p);
            prop_assert_eq!(in_any(&ba, &p), inb && !ina, "b - a at {:?}", p);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rulesets
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct GenRule {
    cubes: Vec<Cube>,
    action: u8,
    target: usize,
}

fn ruleset_strategy(active: Vec<Dim>) -> impl Strategy<Value = Ruleset> {
    let rule = (proptest::collection::vec(cube_strategy(active), 1..3), 0u8..10, 0usize..4)
        .prop_map(|(cubes, action, target)| GenRule { cubes, action, target });
    let chains = proptest::collection::vec(proptest::collection::vec(rule, 0..5), 1..5);
    let bases = proptest::collection::vec((0usize..5, 0u8..5, -2i64..3, any::<bool>(), 0u8..3), 1..3);
    (chains, bases).prop_map(|(chains, bases)| {
        let n = chains.len();
        let chains: Vec<Chain> = chains
            .into_iter()
            .enumerate()
            .map(|(ci, rules)| Chain {
                name: format!("c{ci}"),
                rules: rules
                    .into_iter()
                    .enumerate()
                    .map(|(ri, r)| {
                        // Jumps only go to later chains: no loops, as nft requires.
                        let later = (ci + 1 < n).then(|| ci + 1 + r.target % (n - ci - 1));
                        let action = match (r.action, later) {
                            (0..=2, _) => Action::Accept,
                            (3..=5, _) => Action::Drop,
                            (6, Some(t)) => Action::Jump(t),
                            (7, Some(t)) => Action::Goto(t),
                            (8, _) => Action::Return,
                            _ => Action::Continue,
                        };
                        Rule { matches: r.cubes, action, origin: Origin { line: ri + 1, ..Origin::default() } }
                    })
                    .collect(),
            })
            .collect();
        let hooks = [Hook::Prerouting, Hook::Input, Hook::Forward, Hook::Output, Hook::Postrouting];
        let bases = bases
            .into_iter()
            .map(|(c, h, priority, policy_accept, fam)| Base {
                chain: c % n,
                hook: hooks[h as usize],
                priority,
                family: [None, Some(false), Some(true)][fam as usize],
                policy_accept,
            })
            .collect();
        Ruleset { chains, bases, problems: Vec::new(), incomplete: None }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_matches_rule_by_rule_tracing((active, r, within) in active_dims(true).prop_flat_map(|act| (
        Just(act.clone()),
        ruleset_strategy(act.clone()),
        proptest::collection::vec(cube_strategy(act), 0..3),
    ))) {
        let ev = r.permitted(&Path::ALL).unwrap();
        let points = grid(&active);
        // As check evaluates: cut to a scope, one input interface at a time (1..=3 named
        // here, the rest together), the pieces in parallel; the statistics cover every packet.
        // (These rulesets are small: `evaluate_within` would evaluate them whole; the pieces
        // are what it runs on a large firewall.)
        let cut = r.evaluate_in_pieces(&Path::ALL, Some(&within), 4, true).unwrap();
        for p in points.iter().filter(|p| p.is_possible()) {
            prop_assert_eq!(cut.permitted.contains(p), ev.permitted.contains(p) && in_any(&within, p), "cut at {:?}", p);
        }
        for stats in [false, true] {
            let fast = r.evaluate_within(&Path::ALL, Some(&within), 4, stats).unwrap();
            let pieces = r.evaluate_in_pieces(&Path::ALL, Some(&within), 4, stats).unwrap();
            for p in points.iter().filter(|p| p.is_possible()) {
                prop_assert_eq!(fast.permitted.contains(p), cut.permitted.contains(p), "within at {:?}", p);
                prop_assert_eq!(pieces.permitted.contains(p), cut.permitted.contains(p), "pieces at {:?}", p);
            }
        }
        // Which rules decide some packet, by tracing every base chain each packet passes.
        let mut deciding: BTreeSet<RuleRef> = BTreeSet::new();
        for p in points.iter().filter(|p| p.is_possible()) {
            let (permitted, deciders) = r.trace(p);
            prop_assert_eq!(ev.permitted.contains(p), permitted, "packet {:?}", p);
            // The accept or drop rule that ended each base chain the packet passed.
            for rule in deciders.into_iter().filter_map(|(_, rule)| rule) {
                if matches!(r.rule(rule).action, Action::Accept | Action::Drop) {
                    deciding.insert(rule);
                }
            }
        }
        // The dead rules found from the whole evaluation and from the pieces: the drops'
        // regions are supersets cut differently, so the two may differ, but both must be
        // sound, and complete for shadowing.
        for ev in [&ev, &cut] {
            let dead = r.dead_rules(ev).unwrap();
            for (rule, kind) in &dead {
                match kind {
                    Dead::Shadowed { .. } | Dead::Unmatchable => {
                        prop_assert!(!deciding.contains(rule), "{:?} reported {:?} but decides a packet", rule, kind)
                    }
                    Dead::Redundant => {
                        // Removing it changes no packet's fate.
                        let mut without = r.clone();
                        without.chains[rule.chain].rules.remove(rule.rule);
                        for p in points.iter().filter(|p| p.is_possible()) {
                            prop_assert_eq!(without.trace(p).0, r.trace(p).0, "removing redundant {:?} changes {:?}", rule, p);
                        }
                    }
                }
            }
            // Completeness for shadowing: a reachable accept or drop rule that decides nothing
            // is reported.
            let reported: BTreeSet<RuleRef> = dead.iter().map(|(r, _)| *r).collect();
            for (c, chain) in r.chains.iter().enumerate() {
                for (k, rule) in chain.rules.iter().enumerate() {
                    let here = RuleRef { chain: c, rule: k };
                    if matches!(rule.action, Action::Accept | Action::Drop) && ev.stats[c][k].reached && !deciding.contains(&here) {
                        prop_assert!(reported.contains(&here), "{:?} decides nothing but is not reported", here);
                    }
                }
            }
        }
    }
}
