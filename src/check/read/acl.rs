//! Switch ACLs: Cisco IOS-XE, Arista EOS, Aruba AOS-CX and Junos stateless filters, as
//! zonecheck generates them and (IOS-XE) as `show running-config` prints them.
//!
//! The result has one base chain at the forward hook. Its rules send the packets of each
//! bound (interface, family) to the chain of that interface's inbound ACL with a goto; a
//! packet on an interface without an ACL passes (the base policy accepts). Each ACL chain
//! holds the entries in the order the device evaluates them (by sequence number where the
//! device sorts by it, text order for Junos terms) and ends in the ACL's implicit deny,
//! written out as a rule so that reports can name it. IOS IPv6 ACLs also have their two
//! implicit neighbour-discovery permits before it (Cisco: `permit icmp any any nd-na`,
//! `permit icmp any any nd-ns`, `deny ipv6 any any`).
//!
//! Interfaces are numbered by the name the policy uses: a vendor's spelling (`interface
//! vlan 10` on AOS-CX, `irb { unit 10 }` on Junos, `Vlan10` where the policy wrote `vlan10`)
//! is mapped back to a name already known to [`Ifaces`] when one of the spellings the
//! compiler accepts is known, else to the canonical one (`vlan10`, `irb.10`).

mod cli;
mod junos;
mod names;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Action, Base, Chain, Hook, Origin, Problem, Rule, Ruleset, narrow};
use crate::check::space::{Cube, Dim, Field, Ifaces, Path};

/// The syntax of a switch configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    CiscoIos,
    AristaEos,
    ArubaAoscx,
    Junos,
}

/// Read a switch configuration. Never fails: whatever is not modelled exactly is a
/// [`Problem`] in the result, and its rule is left out.
pub(crate) fn read(dialect: Dialect, text: &str, ifaces: &mut Ifaces) -> Ruleset {
    let mut b = Builder::default();
    match dialect {
        Dialect::Junos => junos::read(text, &mut b),
        d => cli::read(d, text, &mut b),
    }
    b.finish(dialect, ifaces)
}

/// What one entry matches, before it becomes cubes. `None` is "any".
#[derive(Clone, Debug, Default)]
struct Match {
    v6: bool,
    protos: Option<Field>,
    src: Option<Field>,
    dst: Option<Field>,
    /// Only with TCP or UDP (the parsers check).
    sport: Option<Field>,
    dport: Option<Field>,
    /// Only with ICMP of the family (the parsers check).
    icmp_type: Option<Field>,
    icmp_code: Option<Field>,
    /// TCP with ACK or RST.
    established: bool,
    /// The hop limit (TTL) the packet arrives with.
    hops: Option<Field>,
}

impl Match {
    fn new(v6: bool) -> Match {
        Match { v6, ..Match::default() }
    }

    /// At most one cube; none when a field is empty (`lt 0`): the entry matches nothing.
    fn cubes(&self) -> Vec<Cube> {
        let mut c = vec![Cube::any(self.v6)];
        let fields = [
            (Dim::Proto, &self.protos),
            (Dim::Src, &self.src),
            (Dim::Dst, &self.dst),
            (Dim::Sport, &self.sport),
            (Dim::Dport, &self.dport),
            (Dim::Dport, &self.icmp_type),
            (Dim::Sport, &self.icmp_code),
            (Dim::Hops, &self.hops),
        ];
        for (d, f) in fields {
            if let Some(f) = f {
                c = narrow(c, d, f);
            }
        }
        if self.established {
            c = narrow(c, Dim::Proto, &Field::point(6));
            c = narrow(c, Dim::Flags, &Field::point(1));
        }
        c
    }
}

/// One ACL or filter as read so far.
struct Acl {
    name: String,
    v6: bool,
    /// Where it was first defined.
    line: usize,
    /// (sequence, rule); sorted by sequence at the end where the device sorts.
    entries: Vec<(u64, Rule)>,
    /// Sequence numbers taken, by entries and (EOS) remarks.
    seqs: HashSet<u64>,
}

/// An interface's `in` ACL for one family.
struct Bind {
    /// Spellings of the interface, the canonical one first.
    iface: Vec<String>,
    v6: bool,
    acl: String,
    origin: Origin,
}

/// Where an ACL filters packets to the switch itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InputPoint {
    /// Every packet to the switch (AOS-CX `control-plane`, Junos `lo0`, EOS `system
    /// control-plane`).
    ControlPlane,
    /// Terminal sessions of some TCP ports (IOS-XE vty lines: SSH and telnet; EOS
    /// `management ssh`: 22, `management telnet`: 23).
    Terminal { lo: u16, hi: u16, vty: bool },
}

/// An ACL bound to packets to the switch itself.
struct InputBind {
    point: InputPoint,
    v6: bool,
    acl: String,
    origin: Origin,
}

/// One class of a QoS policy-map, up to the last class that drops.
struct QosClass {
    name: String,
    line: usize,
    drop: bool,
    /// What it matches: the packets an ACL permits (`Some(name)`), or any (`None`); any of
    /// them.
    acls: Vec<Option<String>>,
}

/// A QoS policy-map that drops, on an interface's input.
struct Qos {
    iface: Vec<String>,
    policy: String,
    classes: Vec<QosClass>,
    origin: Origin,
}

/// A stateful inspection (IOS CBAC) on an interface.
struct Inspect {
    iface: Vec<String>,
    inbound: bool,
    protos: Vec<u8>,
    origin: Origin,
}

/// Collects ACLs, bindings and problems; [`Builder::finish`] makes the [`Ruleset`].
#[derive(Default)]
struct Builder {
    acls: Vec<Acl>,
    by_name: HashMap<(bool, String), usize>,
    binds: Vec<Bind>,
    /// ACLs the reader could not read (their problem is already reported): binding one
    /// is no further problem.
    unread: HashSet<(bool, String)>,
    problems: Vec<Problem>,
    /// The file is cut off.
    incomplete: Option<Problem>,
    qos: Vec<Qos>,
    inspects: Vec<Inspect>,
    input_binds: Vec<InputBind>,
}

impl Builder {
    fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(Problem { line, message: message.into() });
    }

    /// The ACL called `name`, created at its first definition; a second definition adds to
    /// it, as entering the ACL's mode again does on the device.
    fn acl(&mut self, name: &str, v6: bool, line: usize) -> usize {
        let key = (v6, name.to_string());
        if let Some(&i) = self.by_name.get(&key) {
            return i;
        }
        self.acls.push(Acl { name: name.to_string(), v6, line, entries: Vec::new(), seqs: HashSet::new() });
        self.by_name.insert(key, self.acls.len() - 1);
        self.acls.len() - 1
    }

    fn unread(&mut self, name: &str, v6: bool) {
        self.unread.insert((v6, name.to_string()));
    }

    /// The sequence number an entry gets: its own, or 10 past the highest so far (what
    /// IOS, EOS and AOS-CX do). `None` (and a problem) when the number is taken: the
    /// device refuses such a line.
    fn seq(&mut self, acl: usize, seq: Option<u64>, line: usize) -> Option<u64> {
        let a = &mut self.acls[acl];
        let s = match seq {
            Some(s) => s,
            None => a.seqs.iter().max().map_or(10, |m| m.saturating_add(10)),
        };
        if !a.seqs.insert(s) {
            let name = a.name.clone();
            self.problem(
                line,
                format!("sequence number {s} is already taken in ACL {name} (the device refuses the line)"),
            );
            return None;
        }
        Some(s)
    }

    fn entry(&mut self, acl: usize, seq: u64, rule: Rule) {
        self.acls[acl].entries.push((seq, rule));
    }

    /// A binding replaces an earlier one of the same interface and family, as on the device.
    fn bind(&mut self, iface: Vec<String>, v6: bool, acl: &str, origin: Origin) {
        self.binds.retain(|b| !(b.iface == iface && b.v6 == v6));
        self.binds.push(Bind { iface, v6, acl: acl.to_string(), origin });
    }

    /// The chain of a bound ACL, or `None` and (unless the ACL was left unread, which is
    /// already a problem) a problem: an ACL bound but never defined.
    fn bound_chain(
        &mut self,
        chain_of: &BTreeMap<(bool, String), usize>,
        v6: bool,
        acl: &str,
        line: usize,
        to: &str,
    ) -> Option<usize> {
        let key = (v6, acl.to_string());
        let chain = chain_of.get(&key).copied();
        if chain.is_none() && !self.unread.contains(&key) {
            self.problem(line, format!("ACL {acl} is bound{to} but never defined (what the device does then varies)"));
        }
        chain
    }

    /// An ACL on packets to the switch itself; it replaces an earlier one of the same point
    /// and family, as on the device.
    fn bind_input(&mut self, point: InputPoint, v6: bool, acl: &str, origin: Origin) {
        self.input_binds.retain(|b| !(b.point == point && b.v6 == v6));
        self.input_binds.push(InputBind { point, v6, acl: acl.to_string(), origin });
    }

    /// A problem when the ACL bound at `line` holds only its implicit rules: the device may
    /// treat an empty ACL as absent and permit everything — on an interface, the control
    /// plane or a terminal line alike.
    fn flag_empty(&mut self, chain: &Chain, dialect: Dialect, v6: bool, acl: &str, to: &str, line: usize) {
        let implicit = if dialect == Dialect::CiscoIos && v6 { 3 } else { 1 };
        if chain.rules.len() == implicit {
            self.problem(
                line,
                format!("ACL {acl} is bound to {to} but has no entries (some devices then permit everything)"),
            );
        }
    }

    /// Packets to the switch itself: one base chain at the input hook per kind of point (a
    /// packet must pass the control-plane ACL and its terminal line's), each sending the
    /// packets of its bindings to their ACL's chain; what no binding takes passes.
    fn input_chains(&mut self, rs: &mut Ruleset, chain_of: &BTreeMap<(bool, String), usize>, dialect: Dialect) {
        let binds = std::mem::take(&mut self.input_binds);
        for (k, terminal) in [false, true].into_iter().enumerate() {
            let mut rules = Vec::new();
            for b in binds.iter().filter(|b| matches!(b.point, InputPoint::Terminal { .. }) == terminal) {
                let Some(chain) = self.bound_chain(chain_of, b.v6, &b.acl, b.origin.line, "") else { continue };
                let to = if terminal { "the terminal lines" } else { "the control plane" };
                self.flag_empty(&rs.chains[chain], dialect, b.v6, &b.acl, to, b.origin.line);
                let mut cube = Cube::on_path(b.v6, Path::Input);
                if let InputPoint::Terminal { lo, hi, vty } = b.point {
                    cube = match cube
                        .with_value(Dim::Proto, 6)
                        .and_then(|c| c.with_range(Dim::Dport, u128::from(lo), u128::from(hi)))
                    {
                        Some(c) => c,
                        None => continue,
                    };
                    // Before CSCuw89081, IOS matched only the source of a vty session: an
                    // entry naming a destination may or may not match.
                    if vty && dialect == Dialect::CiscoIos {
                        let any_dst = Field::range(0, crate::check::space::addr_max(b.v6));
                        let named = rs.chains[chain]
                            .rules
                            .iter()
                            .find(|r| !r.origin.implicit && r.matches.iter().any(|c| *c.field(Dim::Dst) != any_dst));
                        if let Some(r) = named {
                            let (line, text) = (r.origin.line, r.origin.text.clone());
                            self.problem(
                                line,
                                format!(
                                    "`{text}` names a destination in ACL {}, which a vty line uses: IOS releases before the fix of CSCuw89081 match only the source there, so whether it matches varies",
                                    b.acl
                                ),
                            );
                            continue;
                        }
                    }
                }
                rules.push(Rule { matches: vec![cube], action: Action::Goto(chain), origin: b.origin.clone() });
            }
            if rules.is_empty() {
                continue;
            }
            let name = if terminal { "terminal lines" } else { "control plane" };
            rs.chains.push(Chain { name: name.into(), rules });
            rs.bases.push(Base {
                chain: rs.chains.len() - 1,
                hook: Hook::Input,
                priority: k as i64,
                family: None,
                policy_accept: true,
            });
        }
    }

    fn qos(&mut self, iface: Vec<String>, policy: &str, classes: Vec<QosClass>, origin: Origin) {
        self.qos.push(Qos { iface, policy: policy.to_string(), classes, origin });
    }

    fn inspect(&mut self, iface: Vec<String>, inbound: bool, protos: &[u8], origin: Origin) {
        self.inspects.push(Inspect { iface, inbound, protos: protos.to_vec(), origin });
    }

    /// The interface's number, or a problem when the policy does not name it for the
    /// device (what crosses it is outside what the policy describes).
    fn known_iface(&mut self, ifaces: &mut Ifaces, spellings: &[String], what: &str, line: usize) -> Option<u32> {
        if !spellings.iter().any(|s| ifaces.known(s)) {
            self.problem(
                line,
                format!(
                    "{what} on {}, an interface the policy does not name for this device; which of the policy's packets cross it is not modelled",
                    spellings[0]
                ),
            );
            return None;
        }
        Some(iface_id(ifaces, spellings))
    }

    /// QoS policy-maps that drop, as a base chain at the forward hook before the ACLs: per
    /// interface a goto to the policy-map's chain, which per class jumps to a copy of each
    /// class ACL whose permits drop (dropping class) or accept (other class: the packet
    /// leaves the policy-map) and whose denies return; `match any` and `class-default`
    /// drop or accept everything.
    fn qos_chains(&mut self, rs: &mut Ruleset, chain_of: &BTreeMap<(bool, String), usize>, ifaces: &mut Ifaces) {
        let mut by_policy: BTreeMap<String, (Vec<u32>, usize)> = BTreeMap::new();
        let mut gotos = Vec::new();
        let mut copied = HashSet::new();
        for q in std::mem::take(&mut self.qos) {
            let Some(id) = self.known_iface(ifaces, &q.iface, "a QoS policy that drops", q.origin.line) else {
                continue;
            };
            if let Some((ids, _)) = by_policy.get_mut(&q.policy) {
                ids.push(id);
                continue;
            }
            let pm = rs.chains.len();
            rs.chains.push(Chain { name: format!("policy-map {} (input)", q.policy), rules: Vec::new() });
            let mut rules = Vec::new();
            for class in &q.classes {
                let verdict = if class.drop { Action::Drop } else { Action::Accept };
                let what = if class.drop { "drop" } else { "no drop" };
                let origin = |text: String| Origin {
                    line: class.line,
                    text,
                    handle: None,
                    comment: None,
                    implicit: false,
                    approximate: false,
                };
                for acl in &class.acls {
                    let Some(acl) = acl else {
                        rules.push(Rule {
                            matches: Cube::universe().to_vec(),
                            action: verdict,
                            origin: origin(format!("policy-map {} class {} ({what})", q.policy, class.name)),
                        });
                        continue;
                    };
                    let fams: Vec<usize> =
                        [false, true].iter().filter_map(|v6| chain_of.get(&(*v6, acl.clone())).copied()).collect();
                    if fams.is_empty() {
                        self.problem(
                            class.line,
                            format!(
                                "class {} of policy-map {} matches ACL {acl}, which is not defined",
                                class.name, q.policy
                            ),
                        );
                        continue;
                    }
                    for c in fams {
                        copied.insert(c);
                        let copy: Vec<Rule> = rs.chains[c]
                            .rules
                            .iter()
                            .filter(|r| !r.origin.implicit)
                            .map(|r| Rule {
                                matches: r.matches.clone(),
                                action: if r.action == Action::Accept { verdict } else { Action::Return },
                                origin: Origin {
                                    text: format!("class {} ({what}): {}", class.name, r.origin.text),
                                    ..r.origin.clone()
                                },
                            })
                            .collect();
                        let target = rs.chains.len();
                        let name =
                            format!("class {} of policy-map {}: ACL {}", class.name, q.policy, rs.chains[c].name);
                        rs.chains.push(Chain { name, rules: copy });
                        rules.push(Rule {
                            matches: Cube::universe().to_vec(),
                            action: Action::Jump(target),
                            origin: origin(format!(
                                "policy-map {} class {} ({what}): match access-group {acl}",
                                q.policy, class.name
                            )),
                        });
                    }
                }
            }
            rs.chains[pm].rules = rules;
            by_policy.insert(q.policy.clone(), (vec![id], pm));
            gotos.push((q.policy, q.origin));
        }
        if gotos.is_empty() {
            return;
        }
        // An ACL only a dropping class uses is evaluated as its copies: its own chain, which
        // nothing enters, would be listed as "not checked".
        for (_, acl_chain) in chain_of.iter().filter(|(_, c)| copied.contains(c)) {
            let entered = rs
                .chains
                .iter()
                .flat_map(|c| &c.rules)
                .any(|r| matches!(r.action, Action::Goto(t) | Action::Jump(t) if t == *acl_chain));
            if !entered {
                rs.chains[*acl_chain].rules.clear();
            }
        }
        let base = rs.chains.len();
        let mut rules = Vec::new();
        for (policy, origin) in gotos {
            let (ids, pm) = &by_policy[&policy];
            let field = Field::from_ranges(ids.iter().map(|&i| (u128::from(i), u128::from(i))));
            let matches = Cube::universe().into_iter().filter_map(|c| c.with(Dim::Iif, &field)).collect();
            rules.push(Rule { matches, action: Action::Goto(*pm), origin });
        }
        rs.chains.push(Chain { name: "qos input".into(), rules });
        rs.bases.push(Base { chain: base, hook: Hook::Forward, priority: -1, family: None, policy_accept: true });
    }

    /// Stateful inspections, each a chain no hook enters holding one [`Action::Inspect`]
    /// rule: the forward TCP and UDP packets entering (`in`) or leaving (`out`) by the
    /// interface, IPv4 (`ip inspect`). Only connections entering by an interface the
    /// policy names for the device are inspected here: packets entering by other interfaces
    /// are outside what `check` compares, and so are the answers they would open. Like
    /// the ACLs, the inspection is read without routes: a connection the ACLs permit may
    /// leave by any interface, so its answers may enter by any (an over-approximation of
    /// what passes: it can report answers routing would never carry, and assumes, as the
    /// ACL comparison does, that the routes carry the policy's flows where it says).
    fn inspect_chains(&mut self, rs: &mut Ruleset, ifaces: &mut Ifaces) {
        for i in std::mem::take(&mut self.inspects) {
            let Some(id) = self.known_iface(ifaces, &i.iface, "a stateful inspection", i.origin.line) else { continue };
            let named = Field::from_ranges(
                (1..ifaces.count()).filter(|&k| ifaces.known(&ifaces.name(k))).map(|k| (u128::from(k), u128::from(k))),
            );
            let protos = Field::from_ranges(i.protos.iter().map(|&p| (u128::from(p), u128::from(p))));
            let dim = if i.inbound { Dim::Iif } else { Dim::Oif };
            let cube = Cube::on_path(false, Path::Forward)
                .with_value(dim, u128::from(id))
                .and_then(|c| c.with(Dim::Iif, &named))
                .and_then(|c| c.with(Dim::Proto, &protos));
            let name = format!("stateful inspection ({})", i.origin.text);
            rs.chains.push(Chain {
                name,
                rules: vec![Rule { matches: cube.into_iter().collect(), action: Action::Inspect, origin: i.origin }],
            });
        }
    }

    fn finish(mut self, dialect: Dialect, ifaces: &mut Ifaces) -> Ruleset {
        let mut rs = Ruleset::default();
        rs.chains.push(Chain { name: "forward".into(), rules: Vec::new() });
        rs.bases.push(Base { chain: 0, hook: Hook::Forward, priority: 0, family: None, policy_accept: true });
        let both: HashSet<String> = self
            .acls
            .iter()
            .filter(|a| self.by_name.contains_key(&(!a.v6, a.name.clone())))
            .map(|a| a.name.clone())
            .collect();
        let mut chain_of = BTreeMap::new();
        for a in &mut self.acls {
            // Sequence order where the device sorts; Junos keeps text order (seq = position).
            a.entries.sort_by_key(|(s, _)| *s);
            let name = if both.contains(&a.name) {
                format!("{} ({})", a.name, if a.v6 { "IPv6" } else { "IPv4" })
            } else {
                a.name.clone()
            };
            let mut rules: Vec<Rule> = a.entries.drain(..).map(|(_, r)| r).collect();
            let implicit = |text: String| Origin {
                line: a.line,
                text,
                handle: None,
                comment: None,
                implicit: true,
                approximate: false,
            };
            if dialect == Dialect::CiscoIos && a.v6 {
                for (kw, ty) in [("nd-na", 136), ("nd-ns", 135)] {
                    let m =
                        Match { protos: Some(Field::point(58)), icmp_type: Some(Field::point(ty)), ..Match::new(true) };
                    rules.push(Rule {
                        matches: m.cubes(),
                        action: Action::Accept,
                        origin: implicit(format!("implicit permit icmp any any {kw} of ACL {}", a.name)),
                    });
                }
            }
            let what = if dialect == Dialect::Junos {
                "implicit discard at the end of filter"
            } else {
                "implicit deny of ACL"
            };
            rules.push(Rule {
                matches: vec![Cube::any(a.v6)],
                action: Action::Drop,
                origin: implicit(format!("{what} {}", a.name)),
            });
            chain_of.insert((a.v6, a.name.clone()), rs.chains.len());
            rs.chains.push(Chain { name, rules });
        }
        // Per ACL chain: the interfaces bound to it, the first binding, the other names.
        let mut shared: Vec<(usize, Vec<u32>, Bind, Vec<String>)> = Vec::new();
        for b in std::mem::take(&mut self.binds) {
            let to = format!(" to {}", b.iface[0]);
            let Some(chain) = self.bound_chain(&chain_of, b.v6, &b.acl, b.origin.line, &to) else { continue };
            self.flag_empty(&rs.chains[chain], dialect, b.v6, &b.acl, &b.iface[0], b.origin.line);
            // An ACL on an interface the policy does not name for this device (a port of a
            // VLAN, a management port): the packets it filters are outside what the policy
            // describes, and which of the policy's packets cross it is not modelled.
            if !b.iface.iter().any(|s| ifaces.known(s)) {
                self.problem(
                    b.origin.line,
                    format!(
                        "ACL {} is bound to {}, an interface the policy does not name for this device; which of the policy's packets cross it is not modelled",
                        b.acl, b.iface[0]
                    ),
                );
                continue;
            }
            let id = iface_id(ifaces, &b.iface);
            match shared.iter_mut().find(|(c, ..)| *c == chain) {
                Some((_, ids, _, names)) => {
                    ids.push(id);
                    names.push(b.iface[0].clone());
                }
                None => shared.push((chain, vec![id], b, Vec::new())),
            }
        }
        // One rule per distinct ACL, matching every interface bound to it: the ACL is
        // evaluated once for all of them (time grows with the ACL, not with interfaces ×
        // entries). Interfaces are disjoint between the rules (one binding per interface
        // and family), so their order does not matter.
        for (chain, ids, first, others) in shared {
            let field = Field::from_ranges(ids.iter().map(|&i| (u128::from(i), u128::from(i))));
            let cube =
                Cube::any(first.v6).with(Dim::Iif, &field).and_then(|c| c.with_value(Dim::Path, Path::Forward as u128));
            let mut origin = first.origin;
            if !others.is_empty() {
                let more = if others.len() > 3 { format!(" and {} more", others.len() - 3) } else { String::new() };
                origin.text = format!(
                    "{} (also bound to {}{more})",
                    origin.text,
                    others.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                );
            }
            rs.chains[0].rules.push(Rule { matches: cube.into_iter().collect(), action: Action::Goto(chain), origin });
        }
        // The answers an inspection lets back bypass the ACLs, not a QoS policy that drops
        // on the interface they enter by: the two together are not modelled.
        if let (Some(q), false) = (self.qos.first(), self.inspects.is_empty()) {
            let line = self.inspects[0].origin.line;
            let message = format!(
                "stateful inspection (`{}`) together with a QoS policy that drops (line {}) is not modelled: the answers it lets back would still meet the policy",
                self.inspects[0].origin.text, q.origin.line
            );
            self.problem(line, message);
            self.inspects.clear();
        }
        self.qos_chains(&mut rs, &chain_of, ifaces);
        self.inspect_chains(&mut rs, ifaces);
        self.input_chains(&mut rs, &chain_of, dialect);
        rs.problems = self.problems;
        rs.problems.sort_by_key(|p| p.line);
        rs.incomplete = self.incomplete;
        rs
    }
}

/// The number of the first spelling the policy already uses, else of the canonical one.
fn iface_id(ifaces: &mut Ifaces, spellings: &[String]) -> u32 {
    match spellings.iter().find_map(|s| ifaces.get(s)) {
        Some(id) => id,
        None => ifaces.id(spellings.first().map_or("", String::as_str)),
    }
}

/// A one-line text for an origin: control characters out, at most 200 characters.
fn one_line(s: &str) -> String {
    let t: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let t = t.trim();
    if t.chars().count() > 200 { format!("{}…", t.chars().take(199).collect::<String>()) } else { t.to_string() }
}
