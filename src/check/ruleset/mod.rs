//! A ruleset as the device evaluates it, independent of its syntax: chains of first-match
//! rules with jumps, gotos and returns, entered from base chains at hooks. Every reader
//! (`check::read`) produces one; [`Ruleset::permitted`] turns it into a packet space.
//!
//! Packets carry their conntrack state ([`Dim::Ct`]); `check` compares new and related
//! ones. Stateless devices see both directions explicitly.

use super::space::{Cube, Dim, Field, Index, Packet, Path, Space, TooFragmented};

mod dead;
pub use dead::Dead;

/// Where a rule was written, for people: a line in a text, or a place in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct Origin {
    /// 1-based line in the file read (0 when unknown).
    pub line: usize,
    /// The rule as a person would recognise it (one line, possibly shortened).
    pub text: String,
    /// A handle, sequence number or name the device uses for the rule, if any.
    pub handle: Option<String>,
    /// The rule's comment (zonecheck puts the flow there).
    pub comment: Option<String>,
    /// Not written anywhere: what the device does without being told (an ACL's implicit
    /// deny). Never reported as dead.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub implicit: bool,
    /// The reader took the rule to match more than it does: a key it does not model (`ct
    /// mark`, `ct direction`) in a rule only established packets reach, which `check` does
    /// not compare. Exact for every packet compared, but no advice about dead rules may
    /// rest on it (see `Ruleset::dead_rules`). Not part of any report.
    #[serde(skip)]
    pub approximate: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Accept,
    /// Drop or reject.
    Drop,
    /// Evaluate the chain; if it returns, go on with the next rule.
    Jump(usize),
    /// Evaluate the chain; if it returns, return from this chain too.
    Goto(usize),
    Return,
    /// No verdict (counter, log): go on with the next rule.
    Continue,
    /// Stateful inspection of a stateless device (IOS CBAC, `ip inspect`), in a chain no
    /// hook enters: the rule matches the forward packets the device inspects, and the
    /// answers to every one of them the base chains permit pass too, whatever the ACLs say
    /// (see [`Ruleset::permitted`]).
    Inspect,
}

/// One rule: the packets it matches (a union of cubes) and what it does with them.
#[derive(Clone, Debug)]
pub struct Rule {
    pub matches: Vec<Cube>,
    pub action: Action,
    pub origin: Origin,
}

#[derive(Clone, Debug, Default)]
pub struct Chain {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// Where a base chain is attached (netfilter hooks; ACLs use Forward).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }

    /// The paths whose packets pass this hook.
    pub(crate) fn paths(self) -> &'static [Path] {
        match self {
            Hook::Prerouting => &[Path::Input, Path::Forward],
            Hook::Input => &[Path::Input],
            Hook::Forward => &[Path::Forward],
            Hook::Output => &[Path::Output],
            Hook::Postrouting => &[Path::Forward, Path::Output],
        }
    }
}

/// A chain packets enter from a hook.
#[derive(Clone, Debug)]
pub struct Base {
    pub chain: usize,
    pub hook: Hook,
    /// Lower runs first.
    pub priority: i64,
    /// The family the chain sees: `None` both (nft `inet`), `Some(true)` IPv6 only.
    pub family: Option<bool>,
    /// What happens to packets that leave the chain without a verdict.
    pub policy_accept: bool,
}

/// Something a reader does not model: a construct that can change which packets pass (an
/// entry with a match the reader does not know, a zone-based firewall, NAT…). Any problem
/// makes the verdict "cannot decide" (fail closed) and withholds advice on dead rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// A device's rules as read from a file.
#[derive(Clone, Debug, Default)]
pub struct Ruleset {
    pub chains: Vec<Chain>,
    pub bases: Vec<Base>,
    pub problems: Vec<Problem>,
    /// The input is cut off (a running-config without its final `end`, JSON that stops
    /// early): it is refused, whatever was read of it.
    pub incomplete: Option<Problem>,
}

/// The answers to the forward packets of `c`: addresses and ports swapped, arriving on the
/// interface the forward packets left by (leaving by any: the route decides, not the
/// inspection), TCP with ACK or RST (every answer but a SYN, which opens no answer). Only
/// TCP and UDP: ICMP answers are other types, which the readers do not inspect.
pub(crate) fn answers_of(c: &Cube) -> Vec<Cube> {
    let mut out = Vec::new();
    for proto in [6u128, 17] {
        let Some(f) = c.clone().with_value(Dim::Proto, proto) else { continue };
        // A TCP answer answers a connection's first packet (no ACK).
        if proto == 6 && !f.field(Dim::Flags).contains(0) {
            continue;
        }
        let flags = if proto == 6 { Field::point(1) } else { f.field(Dim::Flags).clone() };
        let a = Cube::any(f.v6())
            .with(Dim::Path, f.field(Dim::Path))
            .and_then(|a| a.with(Dim::Iif, f.field(Dim::Oif)))
            .and_then(|a| a.with(Dim::Oif, &Field::range(1, u128::from(u32::MAX))))
            .and_then(|a| a.with(Dim::Src, f.field(Dim::Dst)))
            .and_then(|a| a.with(Dim::Dst, f.field(Dim::Src)))
            .and_then(|a| a.with_value(Dim::Proto, proto))
            .and_then(|a| a.with(Dim::Sport, f.field(Dim::Dport)))
            .and_then(|a| a.with(Dim::Dport, f.field(Dim::Sport)))
            .and_then(|a| a.with(Dim::Flags, &flags));
        out.extend(a);
    }
    out
}

/// The forward packets a TCP or UDP answer `p` may answer, arriving on any interface: the
/// inverse of [`answers_of`].
fn answered_by(p: &Packet) -> Option<Cube> {
    if !matches!(p.proto, 6 | 17) || p.proto == 6 && !p.ack {
        return None;
    }
    let v = |x: u128| Field::point(x);
    Cube::any(p.v6)
        .with(Dim::Path, &v(p.path as u128))
        .and_then(|a| a.with(Dim::Iif, &Field::range(1, u128::from(u32::MAX))))
        .and_then(|a| a.with(Dim::Oif, &v(u128::from(p.iif))))
        .and_then(|a| a.with(Dim::Src, &v(p.dst)))
        .and_then(|a| a.with(Dim::Dst, &v(p.src)))
        .and_then(|a| a.with(Dim::Proto, &v(u128::from(p.proto))))
        .and_then(|a| a.with(Dim::Sport, &v(u128::from(p.dport))))
        .and_then(|a| a.with(Dim::Dport, &v(u128::from(p.sport))))
        .and_then(|a| if p.proto == 6 { a.with(Dim::Flags, &v(0)) } else { Some(a) })
}

/// A rule by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleRef {
    pub chain: usize,
    pub rule: usize,
}

/// Jumps nested deeper than this are an error (nft allows 16 levels too).
const MAX_DEPTH: usize = 32;

/// What evaluating a ruleset found out beyond the permitted space.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// Per path and family, the permitted packets.
    pub permitted: Space,
    /// Per rule: did any packet reach it and match (`reached`), and the packets it decides
    /// or passes on (its effective region, over every invocation).
    pub stats: Vec<Vec<RuleStats>>,
    /// The index of every big rule's cubes, built once for evaluation and dead rules.
    indexes: Indexes,
    /// The paths evaluated.
    paths: Vec<Path>,
}

impl Evaluation {
    /// The permitted space cut to `within`.
    fn cut(mut self, within: &[Cube]) -> Evaluation {
        self.permitted = std::mem::take(&mut self.permitted).intersection(&Space::from_cubes(within.to_vec()));
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct RuleStats {
    pub reached: bool,
    /// Some packet is decided (or returned) by this rule.
    pub decides: bool,
    /// The packets this rule decides: exact for accepts and jumps; for a drop, all it
    /// matches of what reached it (a superset, see `eval_rules`); empty for catch-alls, whose
    /// region (everything the rules before them left) is not built.
    pub effective: Vec<Cube>,
}

/// The evaluation failed: too fragmented, or jumps too deep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    TooFragmented,
    TooDeep(String),
}

impl From<TooFragmented> for EvalError {
    fn from(_: TooFragmented) -> Self {
        EvalError::TooFragmented
    }
}

/// Per chain and rule, an index of the rule's own cubes (by their positions in
/// [`Rule::matches`], empty cubes left out) when it has many.
type Indexes = Vec<Vec<Option<Index>>>;

/// What one chain invocation did with its input.
#[derive(Default)]
struct Outcome {
    /// Accepted or dropped (not returned), in the order the rules decided them.
    decided: Vec<Cube>,
    /// Per cube of `decided`: accepted? (The accepted cubes are those of `decided` so
    /// marked, in the same order; one copy of each cube instead of two.)
    accepted: Vec<bool>,
}

impl Outcome {
    fn decide(&mut self, cubes: impl IntoIterator<Item = Cube>, accept: bool) {
        let before = self.decided.len();
        self.decided.extend(cubes);
        self.accepted.resize(self.accepted.len() + self.decided.len() - before, accept);
    }

    /// Append what a called chain decided.
    fn append(&mut self, sub: Outcome) {
        self.decided.extend(sub.decided);
        self.accepted.extend(sub.accepted);
    }

    /// The accepted cubes, cloned.
    fn accepted_cubes(&self) -> Vec<Cube> {
        self.decided.iter().zip(&self.accepted).filter(|(_, a)| **a).map(|(c, _)| c.clone()).collect()
    }

    /// The accepted cubes, taken.
    fn into_accepted(self) -> Vec<Cube> {
        self.decided.into_iter().zip(self.accepted).filter(|(_, a)| *a).map(|(c, _)| c).collect()
    }
}

/// Rulesets matching more cubes than this are evaluated in pieces ([`Ruleset::evaluate_within`]).
const SPLIT_FROM: usize = 2_000;

/// What one piece of an evaluation passed, and its per-rule statistics.
type Piece = (Vec<Cube>, Vec<Vec<RuleStats>>);

/// `cubes` cut by input interface: one piece per named interface number (`1..interfaces`)
/// and one for the rest (none, and the interfaces nobody named); empty pieces left out.
fn by_input_interface(cubes: Vec<Cube>, interfaces: u32) -> Vec<Vec<Cube>> {
    if interfaces <= 2 {
        return vec![cubes];
    }
    let named = Field::range(1, u128::from(interfaces) - 1);
    let mut pieces: Vec<Vec<Cube>> = (1..interfaces)
        .map(|i| cubes.iter().filter_map(|c| c.clone().with_value(Dim::Iif, u128::from(i))).collect())
        .collect();
    let rest = named.complement(super::space::dim_max(Dim::Iif));
    pieces.push(cubes.into_iter().filter_map(|c| c.with(Dim::Iif, &rest)).collect());
    pieces.retain(|p| !p.is_empty());
    pieces
}

/// `(input ∩ rule) ` as cubes, with the rule's cubes indexed when there are many.
fn intersect_all(input: &[Cube], matches: &[Cube], index: Option<&Index>) -> Vec<Cube> {
    let mut out = Vec::new();
    for i in input {
        match index {
            Some(x) => out.extend(x.candidates(i).filter_map(|id| matches[id as usize].intersect(i))),
            None => out.extend(matches.iter().filter_map(|m| m.intersect(i))),
        }
    }
    out
}

impl Ruleset {
    /// The chain called `name`.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // for benches, fuzz targets, tests
    pub fn chain_named(&self, name: &str) -> Option<usize> {
        self.chains.iter().position(|c| c.name == name)
    }

    pub fn rule(&self, r: RuleRef) -> &Rule {
        &self.chains[r.chain].rules[r.rule]
    }

    /// The permitted packets of the given paths: a packet is permitted when every base
    /// chain it passes accepts it (an accept ends one base chain, a drop ends them all).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // for benches, fuzz targets, tests
    pub fn permitted(&self, paths: &[Path]) -> Result<Evaluation, EvalError> {
        self.evaluate(paths, true)
    }

    /// [`Ruleset::permitted`]; with `stats` false, without the per-rule statistics that only
    /// [`Ruleset::dead_rules`] needs (the permitted space is the same, for less memory).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // for benches, fuzz targets, tests
    pub(crate) fn evaluate(&self, paths: &[Path], stats: bool) -> Result<Evaluation, EvalError> {
        self.evaluate_within(paths, None, 0, stats)
    }

    /// Per rule, nothing reached yet.
    fn no_stats(&self) -> Vec<Vec<RuleStats>> {
        self.chains.iter().map(|c| vec![RuleStats::default(); c.rules.len()]).collect()
    }

    /// `Ruleset::evaluate` with the permitted space cut to `within` (all packets when
    /// `None`). Without statistics, what lies outside `within` is not evaluated at all (a
    /// firewall's established traffic and answer lookups, when only new connections are
    /// compared); with them it is, for the statistics only, and no permitted space is built
    /// for it. A ruleset that inspects (stateful ACLs: answers follow from forward packets of
    /// any state) is evaluated whole, then cut; so is a small one when statistics are asked.
    ///
    /// `interfaces` is how many interface numbers are named ([`super::space::Ifaces::count`]):
    /// each path and family of a large ruleset is evaluated one input interface at a time, the pieces in
    /// parallel (a firewall dispatches on the interface pair, so each piece meets only its
    /// own chains), and gathered in a fixed order: the result does not depend on threads.
    pub fn evaluate_within(
        &self,
        paths: &[Path],
        within: Option<&[Cube]>,
        interfaces: u32,
        stats: bool,
    ) -> Result<Evaluation, EvalError> {
        // A small ruleset (a host's, a switch's) is evaluated whole, in one piece: cutting
        // and splitting it costs more than it saves.
        let big = self.chains.iter().flat_map(|c| &c.rules).map(|r| r.matches.len()).sum::<usize>() > SPLIT_FROM;
        let whole = !self.stateful().is_empty() || stats && !big;
        match within {
            Some(within) if whole => self.evaluate_in_pieces(paths, None, 0, stats).map(|ev| ev.cut(within)),
            _ => self.evaluate_in_pieces(paths, within, if big { interfaces } else { 0 }, stats),
        }
    }

    /// [`Ruleset::evaluate_within`] split by input interface (`interfaces` > 2) whatever the
    /// ruleset's size, and evaluating only `within` unless it inspects.
    pub fn evaluate_in_pieces(
        &self,
        paths: &[Path],
        within: Option<&[Cube]>,
        interfaces: u32,
        stats: bool,
    ) -> Result<Evaluation, EvalError> {
        use rayon::prelude::*;
        if let Some(within) = within.filter(|_| !self.stateful().is_empty()) {
            return self.evaluate_in_pieces(paths, None, interfaces, stats).map(|ev| ev.cut(within));
        }
        let mut ev = Evaluation {
            permitted: Space::new(),
            stats: if stats { self.no_stats() } else { Vec::new() },
            indexes: self.indexes(),
            paths: paths.to_vec(),
        };
        // (path, family, packets, are they within): the pieces evaluated.
        let mut pieces = Vec::new();
        for &path in paths {
            for v6 in [false, true] {
                let all = Cube::on_path(v6, path);
                let (inside, outside) = match within {
                    Some(cubes) => {
                        let inside: Vec<Cube> = cubes.iter().filter_map(|c| c.intersect(&all)).collect();
                        let outside =
                            if stats { Space::from_cubes(inside.clone()).subtract_from(&all)? } else { Vec::new() };
                        (inside, outside)
                    }
                    None => (vec![all], Vec::new()),
                };
                for (cubes, keep) in [(inside, true), (outside, false)] {
                    pieces.extend(by_input_interface(cubes, interfaces).into_iter().map(|c| (path, v6, c, keep)));
                }
            }
        }
        // A small ruleset's few pieces run on this thread: handing them to others costs more.
        let passed: Vec<Result<Piece, EvalError>> = pieces
            .into_par_iter()
            .with_min_len(if interfaces > 0 { 1 } else { usize::MAX })
            .map(|(path, v6, cubes, keep)| {
                let mut st = if stats { self.no_stats() } else { Vec::new() };
                let mut passed = self.pass(path, v6, cubes, &ev.indexes, stats.then_some(st.as_mut_slice()))?;
                if !keep {
                    passed = Vec::new();
                }
                Ok((passed, st))
            })
            .collect();
        let mut permitted = Vec::new();
        for piece in passed {
            let (cubes, st) = piece?;
            permitted.reserve_exact(cubes.len());
            permitted.extend(cubes);
            for (total, piece) in ev.stats.iter_mut().flatten().zip(st.into_iter().flatten()) {
                total.reached |= piece.reached;
                total.decides |= piece.decides;
                total.effective.extend(piece.effective);
            }
        }
        // In bulk: the same space as pushing the cubes one by one.
        ev.permitted = Space::from_cubes(permitted);
        // Stateful inspection: the answers to the inspected forward packets pass too.
        if paths.contains(&Path::Forward) && !self.stateful().is_empty() {
            let mut answers = Vec::new();
            for r in &self.stateful() {
                for m in &self.rule(*r).matches {
                    for f in ev.permitted.intersect_cube(m) {
                        answers.extend(answers_of(&f));
                    }
                }
            }
            ev.permitted.extend(answers);
        }
        Ok(ev)
    }

    /// What of `passed` (packets of one path and family) every base chain accepts.
    fn pass(
        &self,
        path: Path,
        v6: bool,
        mut passed: Vec<Cube>,
        indexes: &Indexes,
        mut stats: Option<&mut [Vec<RuleStats>]>,
    ) -> Result<Vec<Cube>, EvalError> {
        for b in self.bases_on(path, v6) {
            let out = self.eval(b.chain, 0, &passed, 0, indexes, stats.as_deref_mut())?;
            let accepted = if b.policy_accept {
                let mut accepted = out.accepted_cubes();
                let decided = Space::from_cubes(out.decided);
                for c in &passed {
                    accepted.extend(decided.subtract_from(c)?);
                }
                accepted
            } else {
                out.into_accepted()
            };
            passed = accepted;
        }
        Ok(passed)
    }

    /// The base chains a packet of this path and family passes, in the order it passes them.
    fn bases_on(&self, path: Path, v6: bool) -> Vec<&Base> {
        let mut bases: Vec<&Base> =
            self.bases.iter().filter(|b| b.hook.paths().contains(&path) && b.family.is_none_or(|f| f == v6)).collect();
        bases.sort_by_key(|b| (b.priority, b.hook));
        bases
    }

    /// Big rules (sets) get an index of their cubes.
    fn indexes(&self) -> Indexes {
        self.chains
            .iter()
            .map(|c| c.rules.iter().map(|r| (r.matches.len() > 8).then(|| Index::of_nonempty(&r.matches))).collect())
            .collect()
    }

    /// Evaluate `chain` from rule `start` on `input`.
    fn eval(
        &self,
        chain: usize,
        start: usize,
        input: &[Cube],
        depth: usize,
        indexes: &Indexes,
        stats: Option<&mut [Vec<RuleStats>]>,
    ) -> Result<Outcome, EvalError> {
        self.eval_rules(chain, &mut (start..self.chains[chain].rules.len()), input, depth, indexes, stats)
    }

    /// Evaluate the rules `ks` (ascending) of `chain` on `input`: the whole chain from some
    /// rule on, or only the rules that can match `input` (the others' hits are empty).
    #[allow(clippy::too_many_arguments)]
    fn eval_rules(
        &self,
        chain: usize,
        ks: &mut dyn Iterator<Item = usize>,
        input: &[Cube],
        depth: usize,
        indexes: &Indexes,
        mut stats: Option<&mut [Vec<RuleStats>]>,
    ) -> Result<Outcome, EvalError> {
        if depth > MAX_DEPTH {
            return Err(EvalError::TooDeep(self.chains[chain].name.clone()));
        }
        let mut out = Outcome::default();
        // Packets that no longer reach the following rules.
        let mut consumed = Space::new();
        // Some packets left this chain through a return (or a goto's return): from then on
        // a drop's region must be computed exactly, not taken as all it matches.
        let mut returned_any = false;
        let rules = &self.chains[chain].rules;
        // Without statistics, `consumed` serves only the rules after a point that must cut
        // their hits by it: accepts, jumps and gotos, and drops and returns once a return may
        // have happened (a chain with none of those from some rule on never reads it again).
        let any_return = rules.iter().any(|r| matches!(r.action, Action::Return | Action::Goto(_)));
        let mut ks = ks.peekable();
        while let Some(k) = ks.next() {
            let rule = &rules[k];
            if input.is_empty() {
                break;
            }
            let consumed_needed = stats.is_some()
                || any_return
                || rules[k + 1..]
                    .iter()
                    .any(|r| matches!(r.action, Action::Accept | Action::Jump(_) | Action::Goto(_)));
            // Nothing reads `consumed` after the last rule evaluated.
            let consumed_needed = consumed_needed && ks.peek().is_some();
            let hit = intersect_all(input, &rule.matches, indexes[chain][k].as_ref());
            if hit.is_empty() {
                continue;
            }
            if let Some(stats) = stats.as_deref_mut() {
                stats[chain][k].reached = true;
            }
            // No verdict (log, counter; an inspection decides no packet where it is): nothing
            // to decide, and its region (often everything left) is never needed.
            if matches!(rule.action, Action::Continue | Action::Inspect) {
                continue;
            }
            // A drop or return that matches much of what is left (the end of a chain, `ct
            // state related drop` after the related pairs) would fragment into the
            // complement of every earlier rule. Its packets are not needed one by one: a
            // drop decides all it matches beyond what was decided before, so its hits stand
            // for its region; whether it decides anything at all is a depth-first search.
            let lazy = match rule.action {
                Action::Drop => !returned_any,
                Action::Return => stats.is_none() || is_catch_all(rule),
                _ => false,
            };
            if lazy {
                if let Some(stats) = stats.as_deref_mut() {
                    let mut decides = false;
                    for h in &hit {
                        if !consumed.covers(h)? {
                            decides = true;
                            break;
                        }
                    }
                    stats[chain][k].decides |= decides;
                    // Its hits stand for its region: a superset, which makes no drop
                    // redundant that is not (see `later_agree`). A catch-all's are not kept.
                    if decides && !is_catch_all(rule) {
                        stats[chain][k].effective.extend(hit.iter().cloned());
                    }
                }
                if rule.action == Action::Drop {
                    if consumed_needed {
                        out.decide(hit.iter().cloned(), false);
                    } else {
                        out.decide(hit, false);
                        continue;
                    }
                } else {
                    returned_any = true;
                }
                if consumed_needed {
                    consumed.extend(hit);
                }
                continue;
            }
            let mut eff = Vec::new();
            for h in &hit {
                eff.extend(consumed.subtract_from(h)?);
            }
            if let Some(stats) = stats.as_deref_mut() {
                stats[chain][k].decides |= !eff.is_empty();
                stats[chain][k].effective.extend(eff.iter().cloned());
            }
            if eff.is_empty() {
                continue;
            }
            match rule.action {
                Action::Accept => {
                    out.decide(eff, true);
                    if consumed_needed {
                        consumed.extend(hit);
                    }
                }
                Action::Drop => {
                    out.decide(eff, false);
                    if consumed_needed {
                        consumed.extend(hit);
                    }
                }
                Action::Return => {
                    returned_any = true;
                    if consumed_needed {
                        consumed.extend(hit);
                    }
                }
                Action::Jump(c) => {
                    let sub = self.eval(c, 0, &eff, depth + 1, indexes, stats.as_deref_mut())?;
                    if consumed_needed {
                        consumed.extend(sub.decided.iter().cloned());
                    }
                    out.append(sub);
                }
                Action::Goto(c) => {
                    let sub = self.eval(c, 0, &eff, depth + 1, indexes, stats.as_deref_mut())?;
                    out.append(sub);
                    // What the chain returns leaves this chain too.
                    returned_any = true;
                    if consumed_needed {
                        consumed.extend(hit);
                    }
                }
                Action::Continue | Action::Inspect => {}
            }
        }
        Ok(out)
    }

    /// The rule that decides a packet's fate in one base chain, and the fate; `None` for the
    /// rule when the chain's policy decides. Concrete, rule by rule: the reference
    /// semantics the symbolic evaluation must agree with.
    pub(crate) fn trace_chain(
        &self,
        chain: usize,
        p: &Packet,
        depth: usize,
        indexes: Option<&Indexes>,
    ) -> Option<(Option<RuleRef>, Option<bool>)> {
        self.trace_from(chain, 0, p, depth, indexes)
    }

    /// Does rule `k` of `chain` match `p`? Through the rule's index when there is one: a
    /// rule of a set's 300,000 elements is not read element by element for every packet.
    fn rule_matches(&self, chain: usize, k: usize, p: &Packet, indexes: Option<&Indexes>) -> bool {
        let matches = &self.chains[chain].rules[k].matches;
        match indexes.and_then(|ix| ix.get(chain)?.get(k)?.as_ref()) {
            Some(index) => index.candidates(&Cube::of_packet(p)).any(|i| matches[i as usize].contains(p)),
            None => matches.iter().any(|c| c.contains(p)),
        }
    }

    /// [`Ruleset::trace_chain`] from rule `start` on.
    fn trace_from(
        &self,
        chain: usize,
        start: usize,
        p: &Packet,
        depth: usize,
        indexes: Option<&Indexes>,
    ) -> Option<(Option<RuleRef>, Option<bool>)> {
        if depth > MAX_DEPTH {
            return None;
        }
        for (k, rule) in self.chains[chain].rules.iter().enumerate().skip(start) {
            if !self.rule_matches(chain, k, p, indexes) {
                continue;
            }
            let here = RuleRef { chain, rule: k };
            match rule.action {
                Action::Accept => return Some((Some(here), Some(true))),
                Action::Drop => return Some((Some(here), Some(false))),
                Action::Return => return Some((Some(here), None)),
                Action::Jump(c) => {
                    if let (r, Some(v)) = self.trace_chain(c, p, depth + 1, indexes)? {
                        return Some((r, Some(v)));
                    }
                }
                Action::Goto(c) => return self.trace_chain(c, p, depth + 1, indexes),
                Action::Continue | Action::Inspect => {}
            }
        }
        Some((None, None))
    }

    /// Is the packet permitted, and which rules decided (one per base chain passed, the
    /// one that dropped it last)? `None` where a base chain's policy decided. For packets
    /// that can exist ([`Packet::is_possible`]); [`Ruleset::permitted`] holds only those.
    pub fn trace(&self, p: &Packet) -> (bool, Vec<(usize, Option<RuleRef>)>) {
        self.trace_with(p, None)
    }

    /// [`Ruleset::trace`] through the rules' indexes that evaluating the ruleset built: for
    /// the many packets of a comparison's findings.
    pub(crate) fn trace_in(&self, p: &Packet, ev: &Evaluation) -> (bool, Vec<(usize, Option<RuleRef>)>) {
        self.trace_with(p, Some(&ev.indexes))
    }

    fn trace_with(&self, p: &Packet, indexes: Option<&Indexes>) -> (bool, Vec<(usize, Option<RuleRef>)>) {
        let mut deciders = Vec::new();
        for b in self.bases_on(p.path, p.v6) {
            let (rule, verdict) = self.trace_chain(b.chain, p, 0, indexes).unwrap_or((None, Some(false)));
            deciders.push((b.chain, rule));
            if !verdict.unwrap_or(b.policy_accept) {
                if let Some(r) = self.stateful_answer(p, indexes) {
                    return (true, vec![(r.chain, Some(r))]);
                }
                return (false, deciders);
            }
        }
        (true, deciders)
    }

    /// The rules of stateful inspection ([`Action::Inspect`]).
    pub(crate) fn stateful(&self) -> Vec<RuleRef> {
        let mut out = Vec::new();
        for (c, chain) in self.chains.iter().enumerate() {
            for (k, r) in chain.rules.iter().enumerate() {
                if r.action == Action::Inspect {
                    out.push(RuleRef { chain: c, rule: k });
                }
            }
        }
        out
    }

    /// The stateful inspection that lets `p` pass as the answer to a forward packet the
    /// rulesets permit, if any.
    fn stateful_answer(&self, p: &Packet, indexes: Option<&Indexes>) -> Option<RuleRef> {
        if p.path != Path::Forward || self.stateful().is_empty() {
            return None;
        }
        let asked = answered_by(p)?;
        let built;
        let indexes = match indexes {
            Some(indexes) => indexes,
            None => {
                built = self.indexes();
                &built
            }
        };
        self.stateful().into_iter().find(|r| {
            let input: Vec<Cube> = self.rule(*r).matches.iter().filter_map(|m| m.intersect(&asked)).collect();
            !input.is_empty() && self.pass(Path::Forward, p.v6, input, indexes, None).is_ok_and(|a| !a.is_empty())
        })
    }
}

/// Does the rule match every packet of the families it names (as readers write "no
/// match": `drop`, `deny ip any any`)?
fn is_catch_all(rule: &Rule) -> bool {
    !rule.matches.is_empty() && rule.matches.iter().all(|m| *m == Cube::any(m.v6()))
}

/// A field of ports or types for a protocol match: tcp/udp ports only exist for protocols
/// with ports.
pub(crate) fn port_protocols() -> Field {
    Field::from_ranges([(6, 6), (17, 17), (33, 33), (132, 132), (136, 136)])
}
