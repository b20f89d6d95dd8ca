//! Dead rules: shadowed (they can never decide a packet) and redundant (removing them
//! changes no packet's fate), from an [`Evaluation`]'s per-rule statistics.

use super::*;

/// Why a rule is dead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dead {
    /// It matches no packet at all.
    Unmatchable,
    /// Earlier rules decide every packet it matches (together, not necessarily one alone).
    Shadowed { by: Vec<RuleRef> },
    /// Later rules would give its packets the same verdict.
    Redundant,
}

impl Ruleset {
    /// Rules that can never decide a packet (shadowed: every packet they match was decided
    /// by earlier rules together, or never reaches them), and rules whose removal would
    /// change nothing (redundant: later rules give their packets the same verdict).
    /// Rules that could decide a packet some rule matches only approximately
    /// ([`Origin::approximate`]) are not judged. Needs the [`Evaluation`] of the same paths.
    pub fn dead_rules(&self, ev: &Evaluation) -> Result<Vec<(RuleRef, Dead)>, EvalError> {
        let mut out = Vec::new();
        let judged = self.judged(&ev.paths);
        // The packets some rule was taken to match approximately: whether a rule that could
        // decide one of them is dead, `check` cannot tell.
        let approximated = Space::from_cubes(
            self.chains
                .iter()
                .flat_map(|c| &c.rules)
                .filter(|r| r.origin.approximate)
                .flat_map(|r| r.matches.iter().cloned()),
        );
        let mut jumped_to = vec![false; self.chains.len()];
        for r in self.chains.iter().flat_map(|x| &x.rules) {
            if let Action::Jump(t) | Action::Goto(t) = r.action {
                jumped_to[t] = true;
            }
        }
        for (c, chain) in self.chains.iter().enumerate() {
            let policies: Vec<bool> = self.bases.iter().filter(|b| b.chain == c).map(|b| b.policy_accept).collect();
            let jumped = jumped_to[c];
            if !judged[c] || policies.is_empty() && !jumped {
                continue;
            }
            // What packets that leave the chain undecided get, if the same in every use of
            // the chain: a base chain's policy (a chain that is also jumped to returns them).
            // Long chains: an index of every rule's cubes, by rule.
            let chain_index = (chain.rules.len() > 32).then(|| {
                let mut space = Space::new();
                let mut rule_of = Vec::new();
                for (k, r) in chain.rules.iter().enumerate() {
                    for m in r.matches.iter().filter(|m| !m.is_empty()) {
                        space.push(m.clone());
                        rule_of.push(k);
                    }
                }
                (space, rule_of)
            });
            let fallthrough = match (jumped, policies.split_first()) {
                (false, Some((first, rest))) if rest.iter().all(|p| p == first) => Some(*first),
                _ => None,
            };
            for (k, rule) in chain.rules.iter().enumerate() {
                let st = &ev.stats[c][k];
                let r = RuleRef { chain: c, rule: k };
                if matches!(rule.action, Action::Continue) || rule.origin.implicit {
                    continue;
                }
                if rule.matches.iter().any(|m| approximated.overlapping(m).next().is_some()) {
                    // Only a claim that holds whatever the approximated rules match: a rule of
                    // a base chain that exact accepts and drops before it cover wholly.
                    if !rule.origin.approximate
                        && !st.decides
                        && !jumped
                        && !policies.is_empty()
                        && self.covered_exactly(c, k, &ev.paths)?
                    {
                        let by = self.blockers(c, k, ev, chain_index.as_ref());
                        let by = by.into_iter().filter(|b| !self.rule(*b).origin.approximate).collect();
                        out.push((r, Dead::Shadowed { by }));
                    }
                    continue;
                }
                if rule.matches.iter().all(Cube::is_empty) {
                    out.push((r, Dead::Unmatchable));
                } else if !st.decides {
                    out.push((r, Dead::Shadowed { by: self.blockers(c, k, ev, chain_index.as_ref()) }));
                } else if let Action::Accept | Action::Drop = rule.action
                    // A catch-all (`counter drop` at the end of a chain whose policy is drop,
                    // `deny ip any any log` before an ACL's implicit deny) states the default
                    // explicitly, to count or log: not worth a warning.
                    && !is_catch_all(rule)
                    && self.later_agree(c, k, &st.effective, fallthrough, &ev.indexes, chain_index.as_ref())?
                {
                    out.push((r, Dead::Redundant));
                }
            }
        }
        Ok(out)
    }

    /// Do the accepts and drops before rule `k` of base chain `c` that are read exactly match
    /// every packet of `paths` that rule `k` matches? Then no packet reaches it, whatever
    /// the approximated rules among them match. (A jump only decides some packets and lets
    /// the rest go on; after a return or goto, packets may leave undecided: not known.)
    fn covered_exactly(&self, c: usize, k: usize, paths: &[Path]) -> Result<bool, TooFragmented> {
        let before = &self.chains[c].rules[..k];
        if before.iter().any(|r| matches!(r.action, Action::Return | Action::Goto(_))) {
            return Ok(false);
        }
        let cover = Space::from_cubes(
            before
                .iter()
                .filter(|r| !r.origin.approximate && matches!(r.action, Action::Accept | Action::Drop))
                .flat_map(|r| r.matches.iter().cloned()),
        );
        for m in &self.chains[c].rules[k].matches {
            for path in paths {
                if let Some(x) = m.intersect(&Cube::on_path(m.v6(), *path))
                    && !cover.covers(&x)?
                {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The chains reached (through jumps and gotos) from each chain, itself included.
    fn reach(&self, from: usize) -> Vec<bool> {
        let mut seen = vec![false; self.chains.len()];
        let mut stack = vec![from];
        while let Some(c) = stack.pop() {
            if std::mem::replace(&mut seen[c], true) {
                continue;
            }
            for r in &self.chains[c].rules {
                if let Action::Jump(t) | Action::Goto(t) = r.action {
                    stack.push(t);
                }
            }
        }
        seen
    }

    /// Is a base chain's every packet on one of `paths`? Only then does evaluating `paths`
    /// show everything its rules do.
    fn fully_evaluated(b: &Base, paths: &[Path]) -> bool {
        b.hook.paths().iter().all(|p| paths.contains(p))
    }

    /// Per chain: is every packet that can reach it evaluated with `paths`? Only such
    /// chains' rules can be called shadowed, redundant or never reached.
    fn judged(&self, paths: &[Path]) -> Vec<bool> {
        let mut full = vec![false; self.chains.len()];
        let mut partial = vec![false; self.chains.len()];
        for b in &self.bases {
            let into = if Self::fully_evaluated(b, paths) { &mut full } else { &mut partial };
            for (c, r) in self.reach(b.chain).into_iter().enumerate() {
                into[c] |= r;
            }
        }
        full.iter().zip(&partial).map(|(f, p)| *f && !*p).collect()
    }

    /// Chains holding rules that evaluating `paths` does not judge, each with the reason:
    /// base chains at hooks whose packets are not all evaluated (input and output for a
    /// firewall, prerouting for a firewall, which also sees packets to the device), the
    /// chains they jump to, and chains no evaluated chain jumps to (reached from a chain the
    /// reader does not model, or from none). `check` lists them as "not checked", never as
    /// "never reached".
    pub(crate) fn unchecked(&self, paths: &[Path]) -> Vec<(usize, String)> {
        let judged = self.judged(paths);
        let evaluated: Vec<&str> = paths.iter().map(|p| p.name()).collect();
        let not_full: Vec<(&Base, Vec<bool>)> =
            self.bases.iter().filter(|b| !Self::fully_evaluated(b, paths)).map(|b| (b, self.reach(b.chain))).collect();
        let mut out = Vec::new();
        let stateful = self.stateful();
        for (c, chain) in self.chains.iter().enumerate() {
            // A stateful inspection's chain holds what it inspects, not rules packets meet.
            if judged[c] || chain.rules.is_empty() || stateful.iter().any(|r| r.chain == c) {
                continue;
            }
            let why = if let Some((b, _)) = not_full.iter().find(|(b, _)| b.chain == c) {
                format!(
                    "a base chain at hook {}, whose packets check does not all evaluate for this device (it evaluates {} packets)",
                    b.hook.name(),
                    evaluated.join(" and ")
                )
            } else if let Some((b, _)) = not_full.iter().find(|(_, r)| r[c]) {
                format!(
                    "reached from chain {} at hook {}, whose packets check does not all evaluate for this device",
                    self.chains[b.chain].name,
                    b.hook.name()
                )
            } else {
                "nothing check evaluates leads to it (no jump, goto or interface binding from a chain it evaluates)"
                    .to_string()
            };
            out.push((c, why));
        }
        out
    }

    /// Earlier rules of the chain that together cover a shadowed rule: those whose
    /// effective region overlaps it, in rule order.
    fn blockers(&self, c: usize, k: usize, ev: &Evaluation, chain_index: Option<&(Space, Vec<usize>)>) -> Vec<RuleRef> {
        let rule = &self.chains[c].rules[k];
        let mut by = Vec::new();
        // Only earlier rules whose matches overlap this one's can cover part of it (their
        // effective regions lie within their matches).
        let earlier: Vec<usize> = match chain_index {
            Some((space, rule_of)) => {
                let mut v: Vec<usize> = rule
                    .matches
                    .iter()
                    .flat_map(|m| space.overlapping_ids(m).map(|i| rule_of[i]))
                    .filter(|&j| j < k)
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            }
            None => (0..k).collect(),
        };
        for j in earlier {
            let st = &ev.stats[c][j];
            let earlier = &self.chains[c].rules[j];
            // A catch-all's region is not built (see `eval`); it covers what it matches.
            let covers = if is_catch_all(earlier) && st.decides { &earlier.matches } else { &st.effective };
            if covers.iter().any(|e| rule.matches.iter().any(|m| m.overlaps(e))) {
                by.push(RuleRef { chain: c, rule: j });
            }
        }
        by
    }

    /// A quick refutation of a drop's redundancy: a packet of `region` that a later accept
    /// (in the chain, or first in a chain a later rule jumps to) matches, traced concretely
    /// from rule `k + 1` and accepted. A drop before the pair chains of a large firewall
    /// (`ct state invalid drop`) is refuted by its first such packet instead of by evaluating
    /// every chain after it. `false` says nothing.
    fn later_accept_some(&self, c: usize, k: usize, region: &[Cube]) -> bool {
        // Bounded: packets traced, and cubes met in looking for them.
        const TRIES: usize = 64;
        const LOOKS: usize = 20_000;
        let (mut tries, mut looks) = (0, 0);
        for rule in &self.chains[c].rules[k + 1..] {
            let accepts: Vec<&Rule> = match rule.action {
                Action::Accept => vec![rule],
                Action::Jump(t) | Action::Goto(t) => {
                    self.chains[t].rules.iter().filter(|r| r.action == Action::Accept).collect()
                }
                _ => continue,
            };
            for x in region.iter().flat_map(|r| rule.matches.iter().filter_map(move |m| m.intersect(r))) {
                let mut found = 0;
                for am in accepts.iter().flat_map(|a| a.matches.iter()) {
                    looks += 1;
                    if looks >= LOOKS {
                        return false;
                    }
                    let Some(y) = am.intersect(&x) else { continue };
                    found += 1;
                    if found > 4 {
                        break;
                    }
                    let p = y.witness();
                    if p.is_possible() && matches!(self.trace_from(c, k + 1, &p, 0, None), Some((_, Some(true)))) {
                        return true;
                    }
                    tries += 1;
                    if tries >= TRIES {
                        return false;
                    }
                }
            }
        }
        false
    }

    /// Do the rules after `k` (and the policy, for a base chain) give every packet of
    /// `region` the verdict of rule `k`?
    fn later_agree(
        &self,
        c: usize,
        k: usize,
        region: &[Cube],
        base_policy: Option<bool>,
        indexes: &Indexes,
        chain_index: Option<&(Space, Vec<usize>)>,
    ) -> Result<bool, EvalError> {
        let want = self.chains[c].rules[k].action == Action::Accept;
        if !want && self.later_accept_some(c, k, region) {
            return Ok(false);
        }
        // Only the later rules that can match the region matter: found by an index over the
        // chain's rules, so the search for redundant rules is not quadratic in the chain.
        let out = match chain_index {
            Some((space, rule_of)) => {
                let mut later: Vec<usize> = region
                    .iter()
                    .flat_map(|piece| space.overlapping_ids(piece).map(|i| rule_of[i]))
                    .filter(|&j| j > k)
                    .collect();
                later.sort_unstable();
                later.dedup();
                self.eval_rules(c, &mut later.into_iter(), region, 0, indexes, None)?
            }
            None => self.eval(c, k + 1, region, 0, indexes, None)?,
        };
        let accepted = Space::from_cubes(out.accepted_cubes());
        let decided = Space::from_cubes(out.decided);
        for piece in region {
            // Packets the later rules leave undecided get the policy (base chains) or go
            // back to the caller, where removing the rule would change their fate.
            let undecided = decided.subtract_from(piece)?;
            if !undecided.is_empty() && base_policy != Some(want) {
                return Ok(false);
            }
            let acc = accepted.intersect_cube(piece);
            let acc = Space::from_cubes(acc);
            let dropped_or_not = if want {
                // Every decided packet must be accepted.
                let decided_here = Space::from_cubes(decided.intersect_cube(piece));
                !decided_here.is_subset(&acc)?
            } else {
                !acc.is_empty()
            };
            if dropped_or_not {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
