//! nftables rulesets in the libnftables JSON schema (`nft -j list ruleset`) to a [`Ruleset`].
//!
//! This is also the core of the text reader ([`super::nft_text`]), which translates nft
//! syntax into the same JSON values (each object may carry a `zc_line`, the 1-based line it
//! came from) so that one evaluator serves both.
//!
//! What is modelled exactly: tables of family ip, ip6 and inet; filter base chains at the
//! five IP hooks with priority and policy; regular chains; first-match rules with accept,
//! drop, reject, jump, goto, return, continue; matches (`==`, `!=`, `in`, and `<` `>` `<=`
//! `>=` on numbers) on addresses, protocol, ports, ICMP type and code, interfaces, family
//! and `ct state`; concatenations, anonymous and named sets, verdict maps. Everything else
//! is a [`Problem`] naming its place, and the rule is left out (fail closed).
//!
//! Chains are named by their nft name, or `family table name` when several tables use the
//! same name.

mod keys;

pub(crate) use keys::FIB_WHY;
use keys::*;

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::Value;

use super::{Action, Base, Chain, Hook, Ifaces, Origin, Problem, Rule, Ruleset};
use crate::check::ruleset::port_protocols;
use crate::check::space::{Ct, Cube, Dim, Field, Space, addr_max, addr_value, dim_max};

/// Read `nft -j list ruleset` output (or a JSON command list for `nft -j -f`).
pub(crate) fn read_json(text: &str, ifaces: &mut Ifaces) -> Ruleset {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        // JSON that stops early is a dump cut short: refused, not read as far as it goes.
        Err(e) if e.is_eof() => {
            return Ruleset {
                incomplete: Some(Problem { line: e.line(), message: format!("the JSON stops early: {e}") }),
                ..Ruleset::default()
            };
        }
        Err(e) => {
            return Ruleset {
                problems: vec![Problem { line: e.line(), message: format!("not valid JSON: {e}") }],
                ..Ruleset::default()
            };
        }
    };
    let Some(items) = value.get("nftables").and_then(Value::as_array) else {
        return Ruleset {
            problems: vec![Problem { line: 0, message: "not nft JSON: no top-level \"nftables\" list".into() }],
            ..Ruleset::default()
        };
    };
    read_items(items, ItemsFrom::Json, ifaces)
}

/// The key the text reader adds to objects: the line they came from.
pub(crate) const LINE_KEY: &str = "zc_line";

fn line_of(v: &Value) -> usize {
    v.get(LINE_KEY).and_then(Value::as_u64).map_or(0, |l| l as usize)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Families the model covers (IP hooks); the others only matter through base chains.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fam {
    Ip,
    Ip6,
    Inet,
    Other,
}

impl Fam {
    fn parse(s: &str) -> Fam {
        match s {
            "ip" => Fam::Ip,
            "ip6" => Fam::Ip6,
            "inet" => Fam::Inet,
            _ => Fam::Other,
        }
    }

    fn v6(self) -> Option<bool> {
        match self {
            Fam::Ip => Some(false),
            Fam::Ip6 => Some(true),
            _ => None,
        }
    }

    /// The packets a chain of this family sees.
    fn start(self) -> Vec<Cube> {
        match self.v6() {
            Some(v6) => vec![Cube::any(v6)],
            None => Cube::universe().to_vec(),
        }
    }
}

/// (family, table, name): how nft scopes chains and sets.
type Scoped = (String, String, String);

fn scoped(v: &Value, name_key: &str) -> Scoped {
    (str_of(v, "family").to_string(), str_of(v, "table").to_string(), str_of(v, name_key).to_string())
}

/// What a chain is for the model.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ChainUse {
    /// Its rules are read.
    Read,
    /// A nat chain, or a regular chain only nat chains jump to: it does not filter; its
    /// rules are only searched for verdicts that would, and (`dst`: at prerouting or
    /// output, before the filter) for destination NAT, which changes what the filter sees.
    Nat { dst: bool },
    /// In a family the model does not cover (its base chains are problems).
    Skip,
}

struct Reader<'a> {
    ifaces: &'a mut Ifaces,
    /// Some rule of the dump rewrites destinations (`dnat`, `redirect`): without one, no
    /// connection has `ct status dnat` when its first packet meets a filter.
    dnat: bool,
    /// The chains that hold rules.
    with_rules: std::collections::HashSet<Scoped>,
    sets: HashMap<Scoped, &'a Value>,
    chains: HashMap<Scoped, (usize, ChainUse)>,
    out: Ruleset,
    /// The items come from nft text ([`super::nft_text`]), whose named sets write an
    /// element's concatenation as a bare array of its parts rather than `{"concat":
    /// [...]}`: a one-key object costs a B-tree node (about 600 bytes), and a core
    /// firewall's sets hold hundreds of thousands of elements. Never set for `nft -j`
    /// input.
    bare_concat: bool,
}

/// Where the items of [`read_items`] come from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemsFrom {
    /// `nft -j` output: libnftables' schema as it is.
    Json,
    /// The text translator: the schema, but with the concatenation of a named set's
    /// element as a bare array.
    Text,
}

/// Unwrap `{"add": X}` and `{"create": X}` (the `nft -j -f` command form).
fn object(item: &Value) -> Option<(&str, &Value)> {
    let map = item.as_object()?;
    let (k, v) = map.iter().next()?;
    match k.as_str() {
        "add" | "create" => object(v),
        _ => Some((k.as_str(), v)),
    }
}

/// The shared core: libnftables items (`{"table": …}`, `{"set": …}`, `{"chain": …}`,
/// `{"rule": …}`) to a ruleset.
pub(crate) fn read_items(items: &[Value], from: ItemsFrom, ifaces: &mut Ifaces) -> Ruleset {
    let dnat =
        items.iter().filter_map(object).any(|(kind, v)| kind == "rule" && find_key(v, &["dnat", "redirect"]).is_some());
    let with_rules =
        items.iter().filter_map(object).filter(|(kind, _)| *kind == "rule").map(|(_, v)| scoped(v, "chain")).collect();
    let mut r = Reader {
        ifaces,
        dnat,
        with_rules,
        sets: HashMap::new(),
        chains: HashMap::new(),
        out: Ruleset::default(),
        bare_concat: from == ItemsFrom::Text,
    };
    // Pass 1: sets and chains, so rules can refer to those declared after them.
    let mut names: HashMap<String, usize> = HashMap::new();
    for item in items {
        let Some((kind, v)) = object(item) else {
            r.problem(line_of(item), "an item that is not an object".into());
            continue;
        };
        match kind {
            "set" | "map" => {
                r.sets.insert(scoped(v, "name"), v);
            }
            "chain" => {
                *names.entry(str_of(v, "name").to_string()).or_default() += 1;
            }
            _ => {}
        }
    }
    for item in items {
        let Some((kind, v)) = object(item) else { continue };
        match kind {
            "chain" => r.chain(v, &names),
            "metainfo" | "table" | "set" | "map" | "rule" | "counter" | "quota" | "limit" | "ct helper"
            | "ct timeout" | "ct expectation" | "secmark" | "synproxy" => {}
            other => r.problem(line_of(v), format!("unsupported ruleset item \"{other}\"")),
        }
    }
    r.nat_reach(items);
    // Pass 2: rules, in order.
    for item in items {
        if let Some(("rule", v)) = object(item) {
            r.rule(v);
        }
    }
    r.out
}

fn hook_of(s: &str) -> Option<Hook> {
    Some(match s {
        "prerouting" => Hook::Prerouting,
        "input" => Hook::Input,
        "forward" => Hook::Forward,
        "output" => Hook::Output,
        "postrouting" => Hook::Postrouting,
        _ => return None,
    })
}

/// A chain priority: a number or a standard name, optionally `+ N` / `- N`.
pub(crate) fn priority(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s: String = v.as_str()?.chars().filter(|c| !c.is_whitespace()).collect();
    let split = s.char_indices().skip(1).find(|(_, c)| *c == '+' || *c == '-').map(|(i, _)| i);
    let (name, offset) = match split {
        Some(i) if s[..i].chars().all(|c| c.is_ascii_alphabetic()) => (&s[..i], s[i..].parse::<i64>().ok()?),
        _ => (s.as_str(), 0),
    };
    let base = match name {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        n => n.parse::<i64>().ok()?,
    };
    base.checked_add(offset)
}

impl<'a> Reader<'a> {
    /// Regular chains that nat chains jump to are nat chains too (firewalld's
    /// `nat_PRE_public`): their rules are searched, not evaluated as filters. A chain that a
    /// filter chain jumps to as well is then not modelled there (the jump is a problem).
    fn nat_reach(&mut self, items: &[Value]) {
        let mut refused_base = false;
        loop {
            let mut changed = false;
            for item in items {
                let Some(("rule", v)) = object(item) else { continue };
                let key = scoped(v, "chain");
                let Some(&(_, ChainUse::Nat { dst })) = self.chains.get(&key) else { continue };
                let mut targets = Vec::new();
                jump_targets(v.get("expr").unwrap_or(&Value::Null), &mut targets);
                for t in targets {
                    let k = (key.0.clone(), key.1.clone(), t.to_string());
                    // nft jumps to regular chains only; a base chain here is no ruleset nft
                    // would load.
                    let base = self.chains.get(&k).is_some_and(|(i, _)| self.out.bases.iter().any(|b| b.chain == *i));
                    if base {
                        if !std::mem::replace(&mut refused_base, true) {
                            self.problem(line_of(v), format!("a nat chain jumps to base chain {t}"));
                        }
                        continue;
                    }
                    if let Some((_, usage)) = self.chains.get_mut(&k) {
                        let next = match *usage {
                            ChainUse::Read => ChainUse::Nat { dst },
                            ChainUse::Nat { dst: d } => ChainUse::Nat { dst: d || dst },
                            ChainUse::Skip => ChainUse::Skip,
                        };
                        changed |= next != *usage;
                        *usage = next;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn problem(&mut self, line: usize, message: String) {
        self.out.problems.push(Problem { line, message });
    }

    fn chain(&mut self, v: &Value, names: &HashMap<String, usize>) {
        let key = scoped(v, "name");
        let line = line_of(v);
        let name = if names.get(&key.2).copied().unwrap_or(0) > 1 {
            format!("{} {} {}", key.0, key.1, key.2)
        } else {
            key.2.clone()
        };
        let place = format!("chain {} {} {}", key.0, key.1, key.2);
        if self.chains.contains_key(&key) {
            self.problem(line, format!("{place} is declared twice"));
            return;
        }
        let fam = Fam::parse(&key.0);
        let base = v.get("hook").is_some() || v.get("type").is_some();
        let mut usage = if fam == Fam::Other { ChainUse::Skip } else { ChainUse::Read };
        let idx = self.out.chains.len();
        self.out.chains.push(Chain { name, rules: Vec::new() });
        if base {
            let (ty, hook_name) = (str_of(v, "type"), str_of(v, "hook"));
            let hook = hook_of(hook_name);
            let prio = v.get("prio").and_then(priority);
            let policy = v.get("policy").and_then(Value::as_str).unwrap_or("accept");
            if fam == Fam::Other {
                self.problem(line, format!("{place}: base chains of family {} are not modelled", key.0));
            } else if ty == "nat" && hook.is_some() {
                // Source NAT changes addresses after every filter decision; destination NAT
                // before them (a problem where a rule does it).
                usage = ChainUse::Nat { dst: matches!(hook, Some(Hook::Prerouting | Hook::Output)) };
            } else if ty == "route" && policy == "accept" && !self.with_rules.contains(&key) {
                // An empty route chain that accepts (fw4's `mangle_output`) reroutes nothing.
                usage = ChainUse::Skip;
            } else if ty != "filter" {
                self.problem(line, format!("{place}: chains of type {ty:?} at hook {hook_name:?} are not modelled"));
                usage = ChainUse::Skip;
            } else if hook.is_none() {
                self.problem(line, format!("{place}: hook {hook_name:?} is not modelled"));
                usage = ChainUse::Skip;
            } else if prio.is_none() {
                self.problem(line, format!("{place}: priority not understood"));
                usage = ChainUse::Skip;
            } else if !matches!(policy, "accept" | "drop") {
                self.problem(line, format!("{place}: policy {policy:?} not understood"));
                usage = ChainUse::Skip;
            }
            if let (ChainUse::Read, Some(hook), Some(priority)) = (usage, hook, prio) {
                self.out.bases.push(Base {
                    chain: idx,
                    hook,
                    priority,
                    family: fam.v6(),
                    policy_accept: policy == "accept",
                });
            }
        }
        self.chains.insert(key, (idx, usage));
    }

    fn rule(&mut self, v: &Value) {
        let key = scoped(v, "chain");
        let line = line_of(v);
        let handle = v.get("handle").and_then(Value::as_u64);
        let place = match handle {
            Some(h) => format!("rule handle {h} in chain {} {} {}", key.0, key.1, key.2),
            None => format!("rule in chain {} {} {}", key.0, key.1, key.2),
        };
        let Some(&(chain, usage)) = self.chains.get(&key) else {
            self.problem(line, format!("{place}: the chain is not declared"));
            return;
        };
        let exprs: &[Value] = v.get("expr").and_then(Value::as_array).map_or(&[], Vec::as_slice);
        let text = render_rule(exprs);
        match usage {
            ChainUse::Skip => return,
            ChainUse::Nat { dst } => {
                let exprs = Value::Array(exprs.to_vec());
                if let Some(what) = find_key(&exprs, &["drop", "reject", "queue"]) {
                    self.problem(line, format!("{place}: verdict {what} in a nat chain filters packets: `{text}`"));
                } else if let Some(what) = find_key(&exprs, &["dnat", "redirect", "tproxy"]).filter(|_| dst) {
                    self.problem(
                        line,
                        format!("{place}: destination NAT ({what}) before the filter is not modelled: `{text}`"),
                    );
                }
                return;
            }
            ChainUse::Read => {}
        }
        let origin = Origin {
            line,
            text,
            handle: handle.map(|h| h.to_string()),
            comment: v.get("comment").and_then(Value::as_str).map(str::to_string),
            implicit: false,
            approximate: false,
        };
        let fam = Fam::parse(&key.0);
        match self.rule_body(&key, fam, exprs, &origin) {
            Ok(rules) => self.out.chains[chain].rules.extend(rules),
            Err(msg) => self.problem(line, format!("{place}: {msg}: `{}`", origin.text)),
        }
    }

    /// The rules one nft rule becomes (a verdict map gives one per element); `Ok(empty)`
    /// for rules that match no connection-opening packet.
    fn rule_body(&mut self, key: &Scoped, fam: Fam, exprs: &[Value], origin: &Origin) -> Result<Vec<Rule>, String> {
        let mut cubes = fam.start();
        let mut action = Action::Continue;
        let mut verdict_seen = false;
        let mut limited = false;
        let mut mangles = false;
        let mut never = false;
        let mut approximate = false;
        let mut uses_th = false;
        // Problems of matches: moot when the rule cannot match a new packet anyway.
        let mut match_error: Option<String> = None;
        let mut vmap: Option<Vec<(Vec<Cube>, Action, String)>> = None;
        for e in exprs {
            let Some((kind, body)) = object(e) else { return Err("an expression that is not an object".into()) };
            if verdict_seen {
                return Err(format!("statement {kind} after the verdict"));
            }
            match kind {
                "match" => match self.matches(key, body, &mut uses_th, &cubes) {
                    Ok(Matched::All) => {}
                    Ok(Matched::AllApproximately) => approximate = true,
                    Ok(Matched::Nothing) => never = true,
                    Ok(Matched::Cubes(m)) => cubes = intersect(&cubes, &m),
                    Err(msg) => {
                        match_error.get_or_insert(msg);
                    }
                },
                "counter" | "log" | "comment" => {}
                // `ct mark set …` labels the connection for its later packets, which are
                // established: it changes no verdict that `check` compares.
                "mangle" if body.get("key").and_then(|k| k.get("ct")).is_some_and(|ct| str_of(ct, "key") == "mark") => {
                }
                // Clamping the TCP MSS of SYN packets (fw4's MTU fixing) changes no fate.
                "mangle" if is_mss_clamp(body) => mangles = true,
                "limit" | "quota" => limited = true,
                "accept" | "drop" | "reject" | "return" | "continue" | "jump" | "goto" => {
                    action = self.verdict(key, e)?;
                    verdict_seen = true;
                }
                "vmap" => {
                    vmap = Some(self.vmap(key, body, &mut uses_th)?);
                    verdict_seen = true;
                }
                "xt" => return Err("iptables-nft (xt) expressions are not modelled".into()),
                other => return Err(format!("statement {other} is not modelled")),
            }
        }
        if never {
            // Only packets of an established, related, invalid or untracked connection match.
            return Ok(Vec::new());
        }
        if let Some(msg) = match_error {
            // A rule that only clamps the MSS decides nothing, whatever it matches.
            if mangles && !verdict_seen {
                return Ok(Vec::new());
            }
            return Err(msg);
        }
        if limited && verdict_seen {
            return Err("a rate limit or quota with a verdict decides by time, not by packet".into());
        }
        let check_th = |cubes: &[Cube]| -> Result<(), String> {
            let ports = port_protocols();
            if uses_th && cubes.iter().any(|c| !c.field(Dim::Proto).is_subset(&ports)) {
                return Err("th port match on a protocol without ports".into());
            }
            Ok(())
        };
        let origin = &Origin { approximate, ..origin.clone() };
        match vmap {
            None => {
                check_th(&cubes)?;
                Ok(vec![Rule { matches: cubes, action, origin: origin.clone() }])
            }
            Some(elems) => {
                let mut out = Vec::with_capacity(elems.len());
                for (m, action, text) in elems {
                    let matches = intersect(&cubes, &m);
                    check_th(&matches)?;
                    let mut o = origin.clone();
                    o.text = text;
                    out.push(Rule { matches, action, origin: o });
                }
                Ok(out)
            }
        }
    }

    fn target(&self, key: &Scoped, v: &Value) -> Result<usize, String> {
        let name = v.get("target").and_then(Value::as_str).ok_or("a jump without a target")?;
        let k = (key.0.clone(), key.1.clone(), name.to_string());
        match self.chains.get(&k) {
            Some(&(i, ChainUse::Read)) => Ok(i),
            Some(_) => Err(format!("jump to chain {name}, which is not modelled")),
            None => Err(format!("jump to chain {name}, which is not declared")),
        }
    }

    fn verdict(&self, key: &Scoped, e: &Value) -> Result<Action, String> {
        let (kind, body) = object(e).ok_or("a verdict that is not an object")?;
        Ok(match kind {
            "accept" => Action::Accept,
            "drop" | "reject" => Action::Drop,
            "return" => Action::Return,
            "continue" => Action::Continue,
            "jump" => Action::Jump(self.target(key, body)?),
            "goto" => Action::Goto(self.target(key, body)?),
            other => return Err(format!("verdict {other} is not modelled")),
        })
    }

    /// A verdict map: (matched packets, action, text) per element.
    fn vmap(
        &mut self,
        key: &Scoped,
        body: &Value,
        uses_th: &mut bool,
    ) -> Result<Vec<(Vec<Cube>, Action, String)>, String> {
        let key_value = body.get("key").ok_or("a verdict map without a key")?;
        // `ct state vmap { established : accept, related : accept, invalid : drop }`: only
        // the element naming `new` applies to a connection-opening packet.
        let ct = key_value.get("ct");
        let keys = if ct.is_some() { Vec::new() } else { self.keys(key_value, uses_th)? };
        let data = body.get("data").ok_or("a verdict map without data")?;
        let elems: &[Value] = match data {
            Value::String(s) if s.starts_with('@') => {
                let set = self.named(key, &s[1..])?;
                if set.get("map").and_then(Value::as_str) != Some("verdict") {
                    return Err(format!("{s} is not a verdict map"));
                }
                set.get("elem").and_then(Value::as_array).map_or(&[], Vec::as_slice)
            }
            _ => data.get("set").and_then(Value::as_array).ok_or("verdict map data not understood")?,
        };
        let key_text = render(body.get("key").unwrap_or(&Value::Null));
        let mut out = Vec::with_capacity(elems.len());
        for el in elems {
            let pair = el.as_array().filter(|a| a.len() >= 2).ok_or("a verdict map element that is not a pair")?;
            let cubes = match ct {
                Some(ct) => match ct_match(ct, "==", &pair[0], &[], self.dnat)? {
                    Matched::Nothing => continue,
                    Matched::All | Matched::AllApproximately => Cube::universe().to_vec(),
                    Matched::Cubes(c) => c,
                },
                None => self.element(&keys, &base_cubes(&keys), &pair[0])?,
            };
            let action = self.verdict(key, &pair[1])?;
            let text = format!("{key_text} vmap {{ {} : {} }}", render(&pair[0]), render(&pair[1]));
            out.push((cubes, action, text));
        }
        Ok(out)
    }

    fn named(&self, key: &Scoped, name: &str) -> Result<&'a Value, String> {
        let k = (key.0.clone(), key.1.clone(), name.to_string());
        let set = *self.sets.get(&k).ok_or_else(|| format!("set @{name} is not declared"))?;
        let flags: Vec<&str> = match set.get("flags") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        };
        if let Some(f) = flags.iter().find(|f| matches!(**f, "dynamic" | "timeout")) {
            return Err(format!("set @{name} has flag {f}: its elements change while packets pass"));
        }
        if set.get("timeout").is_some() {
            return Err(format!("set @{name} has a timeout: its elements change while packets pass"));
        }
        Ok(set)
    }

    fn set_elems(&self, key: &Scoped, name: &str) -> Result<&'a [Value], String> {
        let set = self.named(key, name)?;
        if set.get("map").is_some() {
            return Err(format!("@{name} is a map, not a set"));
        }
        Ok(set.get("elem").and_then(Value::as_array).map_or(&[], Vec::as_slice))
    }

    fn keys(&self, left: &Value, uses_th: &mut bool) -> Result<Vec<Key>, String> {
        let keys = match left.get("concat").and_then(Value::as_array) {
            Some(parts) => parts.iter().map(key_of).collect::<Result<Vec<_>, _>>()?,
            None => vec![key_of(left)?],
        };
        *uses_th |= keys.iter().any(|k| k.th);
        Ok(keys)
    }

    fn matches(&mut self, key: &Scoped, body: &Value, uses_th: &mut bool, so_far: &[Cube]) -> Result<Matched, String> {
        let op = body.get("op").and_then(Value::as_str).unwrap_or("==");
        let left = body.get("left").ok_or("a match without a left side")?;
        let right = body.get("right").ok_or("a match without a right side")?;
        if let Some(ct) = left.get("ct") {
            return ct_match(ct, op, right, so_far, self.dnat);
        }
        let keys = self.keys(left, uses_th)?;
        let base = base_cubes(&keys);
        match op {
            "==" | "in" | "!=" => {}
            "<" | ">" | "<=" | ">=" if keys.len() == 1 && !matches!(keys[0].kind, Kind::Iface) => {
                let v = self.scalar(&keys[0], right)?;
                let max = dim_max(keys[0].dim).min(kind_max(keys[0].kind));
                let (lo, hi) = match op {
                    "<" => (0, v.checked_sub(1).ok_or("`< 0` matches nothing")?),
                    ">" => (v.saturating_add(1), max),
                    "<=" => (0, v),
                    _ => (v, max),
                };
                let f = Field::range(lo, hi);
                return Ok(Matched::Cubes(base.into_iter().filter_map(|c| c.with(keys[0].dim, &f)).collect()));
            }
            other => return Err(format!("operator {other:?} is not modelled")),
        }
        let positive: Vec<Cube> = if keys.len() == 1 {
            let f = self.field(key, &keys[0], right)?;
            let f = if op == "!=" { f.complement(dim_max(keys[0].dim)) } else { f };
            let cubes = base.into_iter().filter_map(|c| c.with(keys[0].dim, &f)).collect();
            return Ok(Matched::Cubes(cubes));
        } else {
            self.element_set(key, &keys, right)?
        };
        if op != "!=" {
            return Ok(Matched::Cubes(positive));
        }
        let pos = Space::from_cubes(positive);
        let mut out = Vec::new();
        for c in &base {
            out.extend(pos.subtract_from(c).map_err(|_| "a negated set too fragmented to model")?);
        }
        Ok(Matched::Cubes(out))
    }

    /// The cubes of a concatenation's right side: a named set, an anonymous set or one value.
    fn element_set(&mut self, key: &Scoped, keys: &[Key], right: &Value) -> Result<Vec<Cube>, String> {
        let elems: &[Value] = match right {
            Value::String(s) if s.starts_with('@') => self.set_elems(key, &s[1..])?,
            Value::Object(m) if m.contains_key("set") => {
                m.get("set").and_then(Value::as_array).map_or(&[], Vec::as_slice)
            }
            other => std::slice::from_ref(other),
        };
        // The cubes every element narrows, made once for the set (a firewall's holds
        // hundreds of thousands of elements).
        let base = base_cubes(keys);
        let mut out = Vec::new();
        for el in elems {
            out.extend(self.element(keys, &base, el)?);
        }
        Ok(out)
    }

    /// One element of a concatenated set (or a map key): one cube per family it allows.
    fn element(&mut self, keys: &[Key], base: &[Cube], el: &Value) -> Result<Vec<Cube>, String> {
        let el = unwrap_elem(el);
        let parts: &[Value] = match (el, el.get("concat").and_then(Value::as_array)) {
            (Value::Array(p), _) if self.bare_concat => p,
            (_, Some(p)) => p,
            _ => std::slice::from_ref(el),
        };
        if parts.len() != keys.len() {
            return Err(format!("an element of {} parts for a key of {}", parts.len(), keys.len()));
        }
        let mut cubes = base.to_vec();
        for (k, p) in keys.iter().zip(parts) {
            let f = self.value_field(k, p)?;
            cubes = cubes.into_iter().filter_map(|c| c.with(k.dim, &f)).collect();
        }
        Ok(cubes)
    }

    /// The values of a single-key right side, named sets included.
    fn field(&mut self, key: &Scoped, k: &Key, right: &Value) -> Result<Field, String> {
        if let Some(name) = right.as_str().and_then(|s| s.strip_prefix('@')) {
            let mut ranges = Vec::new();
            for el in self.set_elems(key, name)? {
                ranges.extend_from_slice(&self.set_item(k, el)?.intervals());
            }
            return Ok(Field::from_ranges(ranges));
        }
        self.value_field(k, right)
    }

    fn scalar(&mut self, k: &Key, v: &Value) -> Result<u128, String> {
        let f = self.value_field(k, v)?;
        match &*f.intervals() {
            [(a, b)] if a == b => Ok(*a),
            _ => Err(format!("{} is not one value", render(v))),
        }
    }

    /// One element of a set with a single key.
    fn set_item(&mut self, k: &Key, v: &Value) -> Result<Field, String> {
        match v {
            // A concatenation ([`ItemsFrom::Text`]), where one value belongs.
            Value::Array(parts) if self.bare_concat => {
                Err(format!("an element of {} parts for a key of 1 ({})", parts.len(), k.text))
            }
            _ => self.value_field(k, v),
        }
    }

    /// A value, prefix, range or anonymous set as a field of the key's dimension.
    fn value_field(&mut self, k: &Key, v: &Value) -> Result<Field, String> {
        let v = unwrap_elem(v);
        let f = match v {
            Value::Number(n) => {
                let n = n.as_u64().ok_or_else(|| format!("{n} is not a value of {}", k.text))?;
                if matches!(k.kind, Kind::Addr(_) | Kind::Iface | Kind::Family | Kind::Ether) {
                    return Err(format!("{n} is not a value of {}", k.text));
                }
                Field::point(u128::from(n))
            }
            Value::String(s) if k.kind == Kind::Iface => {
                // `*` at the end is a wildcard (a prefix of names); `\*` a literal star.
                if s.replace("\\*", "").contains('*') {
                    return Err(format!("interface wildcard {s:?} is not modelled"));
                }
                Field::point(u128::from(self.ifaces.id(&s.replace("\\*", "*"))))
            }
            Value::String(s) => parse_value(k, s)?,
            Value::Array(items) => {
                let mut ranges = Vec::new();
                for i in items {
                    ranges.extend_from_slice(&self.value_field(k, i)?.intervals());
                }
                Field::from_ranges(ranges)
            }
            Value::Object(m) => {
                if let Some(p) = m.get("prefix") {
                    let Kind::Addr(v6) = k.kind else { return Err(format!("a prefix for {}", k.text)) };
                    let addr = p.get("addr").and_then(Value::as_str).ok_or("a prefix without an address")?;
                    let len = p.get("len").and_then(Value::as_u64).ok_or("a prefix without a length")?;
                    prefix_field(v6, addr, len)?
                } else if let Some(r) = m.get("range").and_then(Value::as_array) {
                    let [a, b] = r.as_slice() else { return Err("a range that is not a pair".into()) };
                    let (a, b) = (self.scalar(k, a)?, self.scalar(k, b)?);
                    if a > b {
                        return Err(format!("range {a}-{b} is reversed"));
                    }
                    Field::range(a, b)
                } else if let Some(Value::Array(items)) = m.get("set") {
                    let mut ranges = Vec::new();
                    for i in items {
                        ranges.extend_from_slice(&self.set_item(k, i)?.intervals());
                    }
                    Field::from_ranges(ranges)
                } else {
                    return Err(format!("value {} of {} is not modelled", render(v), k.text));
                }
            }
            _ => return Err(format!("value {} of {} is not modelled", render(v), k.text)),
        };
        let max = kind_max(k.kind);
        if f.hull().is_some_and(|(_, hi)| hi > max) {
            return Err(format!("value {} out of range for {}", render(v), k.text));
        }
        Ok(f)
    }
}

fn unwrap_elem(v: &Value) -> &Value {
    match v.get("elem").and_then(|e| e.get("val")) {
        Some(inner) => inner,
        None => v,
    }
}

/// What a match does to the rule's packets.
enum Matched {
    All,
    /// Taken as all: some of the packets so far, none of them compared (see [`ct_match`]).
    AllApproximately,
    Nothing,
    Cubes(Vec<Cube>),
}

/// The packets in the given connection-tracking states ([`Dim::Ct`]).
fn ct_states(states: &[Ct]) -> Vec<Cube> {
    let f = Field::from_ranges(states.iter().map(|c| (*c as u128, *c as u128)));
    Cube::universe().into_iter().filter_map(|c| c.with(Dim::Ct, &f)).collect()
}

/// A `ct` match. `ct state` narrows [`Dim::Ct`]. `ct mark`, `ct direction` and the other
/// keys are not modelled, except where the rule already matches only packets of
/// established connections, which `check` does not compare (see [`Ct`]): there they narrow
/// nothing that is compared, and count as matching all.
///
/// `ct status dnat`: a connection has it only when a rule rewrote its destination (a
/// `dnat` or `redirect` in a nat chain), so in a dump without such a rule it matches no
/// packet (firewalld's and OpenWrt's "accept port forwards"). `ct status` with other bits
/// is not modelled.
fn ct_match(ct: &Value, op: &str, right: &Value, so_far: &[Cube], dnat: bool) -> Result<Matched, String> {
    let key = str_of(ct, "key");
    if key == "status" && ct.get("dir").is_none() {
        let mut bits = Vec::new();
        collect_strings(right, &mut bits)?;
        if bits != ["dnat"] {
            return Err(format!("ct status {} is not modelled (only `ct status dnat`)", bits.join(",")));
        }
        if dnat {
            return Err(
                "ct status dnat is not modelled where the ruleset rewrites destinations (dnat or redirect)".into()
            );
        }
        return match op {
            "==" | "in" => Ok(Matched::Nothing),
            "!=" => Ok(Matched::All),
            other => Err(format!("operator {other:?} on ct status is not modelled")),
        };
    }
    if key != "state" || ct.get("dir").is_some() {
        let compared = Field::from_ranges([(Ct::New as u128, Ct::Related as u128)]);
        if !so_far.is_empty() && so_far.iter().all(|c| !c.field(Dim::Ct).intersects(&compared)) {
            return Ok(Matched::AllApproximately);
        }
        return Err(format!("ct {key} is not modelled"));
    }
    let mut names = Vec::new();
    collect_strings(right, &mut names)?;
    let mut states = Vec::new();
    for s in &names {
        states.push(Ct::from_name(s).ok_or_else(|| format!("ct state {s} is not modelled"))?);
    }
    let states: Vec<Ct> = match op {
        "==" | "in" => states,
        "!=" => Ct::ALL.into_iter().filter(|c| !states.contains(c)).collect(),
        other => return Err(format!("operator {other:?} on ct state is not modelled")),
    };
    Ok(if states.is_empty() { Matched::Nothing } else { Matched::Cubes(ct_states(&states)) })
}

fn collect_strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) -> Result<(), String> {
    match v {
        Value::String(s) => {
            // The text reader keeps `a,b` lists as one word.
            out.extend(s.split(',').map(str::trim).filter(|s| !s.is_empty()));
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(|x| collect_strings(x, out)),
        Value::Object(m) if m.contains_key("set") => collect_strings(&m["set"], out),
        other => Err(format!("ct state value {} is not modelled", render(other))),
    }
}

fn intersect(a: &[Cube], b: &[Cube]) -> Vec<Cube> {
    let mut out = Vec::new();
    for x in a {
        out.extend(b.iter().filter_map(|y| x.intersect(y)));
    }
    // A set's rule holds hundreds of thousands of cubes for the whole check: no slack.
    out.shrink_to_fit();
    out
}

/// Verdicts that would make a nat chain filter.
/// The first of `keys` that names an object anywhere in `v` (a statement, a verdict in a map).
fn find_key<'k>(v: &Value, keys: &[&'k str]) -> Option<&'k str> {
    match v {
        Value::Object(m) => {
            keys.iter().find(|k| m.contains_key(**k)).copied().or_else(|| m.values().find_map(|x| find_key(x, keys)))
        }
        Value::Array(a) => a.iter().find_map(|x| find_key(x, keys)),
        _ => None,
    }
}

/// Every chain a jump or goto anywhere in `v` names.
fn jump_targets<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if matches!(k.as_str(), "jump" | "goto")
                    && let Some(t) = x.get("target").and_then(Value::as_str)
                {
                    out.push(t);
                }
                jump_targets(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| jump_targets(x, out)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Rendering (for Origin::text and messages)
// ---------------------------------------------------------------------------------------

const MAX_TEXT: usize = 240;

/// A rule as one short line of nft syntax.
fn render_rule(exprs: &[Value]) -> String {
    let parts: Vec<String> = exprs.iter().map(render_stmt).filter(|s| !s.is_empty()).collect();
    shorten(parts.join(" "))
}

fn shorten(mut s: String) -> String {
    if s.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

fn render_stmt(e: &Value) -> String {
    let Some((kind, body)) = object(e) else { return render(e) };
    match kind {
        "match" => {
            let op = match str_of(body, "op") {
                "==" | "in" | "" => String::new(),
                op => format!("{op} "),
            };
            let left = body.get("left").map_or(String::new(), render);
            let right = body.get("right").map_or(String::new(), render);
            format!("{left} {op}{right}")
        }
        "counter" => "counter".into(),
        "log" => match body.get("prefix").and_then(Value::as_str) {
            Some(p) => format!("log prefix \"{p}\""),
            None => "log".into(),
        },
        "limit" => format!("limit rate {}/{}", render(body.get("rate").unwrap_or(&Value::Null)), str_of(body, "per")),
        "vmap" => format!(
            "{} vmap {}",
            render(body.get("key").unwrap_or(&Value::Null)),
            render(body.get("data").unwrap_or(&Value::Null))
        ),
        "jump" | "goto" => format!("{kind} {}", str_of(body, "target")),
        "comment" => String::new(),
        other => other.to_string(),
    }
}

/// An expression or value in nft syntax.
fn render(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(render).collect::<Vec<_>>().join(","),
        Value::Object(m) => {
            let Some((k, b)) = m.iter().find(|(k, _)| k.as_str() != LINE_KEY) else { return String::new() };
            match k.as_str() {
                "payload" => format!("{} {}", str_of(b, "protocol"), str_of(b, "field")),
                "meta" => match str_of(b, "key") {
                    k @ ("iifname" | "oifname" | "iif" | "oif") => k.to_string(),
                    k => format!("meta {k}"),
                },
                "ct" => format!("ct {}", str_of(b, "key")),
                "fib" => {
                    let flags: Vec<String> = match b.get("flags") {
                        Some(Value::Array(a)) => a.iter().map(render).collect(),
                        Some(f) => vec![render(f)],
                        None => Vec::new(),
                    };
                    format!("fib {} {}", flags.join(" . "), str_of(b, "result"))
                }
                "prefix" => format!("{}/{}", str_of(b, "addr"), render(b.get("len").unwrap_or(&Value::Null))),
                "range" => match b.as_array().map(Vec::as_slice) {
                    Some([x, y]) => format!("{}-{}", render(x), render(y)),
                    _ => "range".into(),
                },
                "set" => match b.as_array() {
                    Some(items) => {
                        let parts: Vec<String> = items
                            .iter()
                            .take(8)
                            .map(|i| match i.as_array().map(Vec::as_slice) {
                                Some([key, data]) => format!("{} : {}", render(key), render_stmt(data)),
                                _ => render(i),
                            })
                            .collect();
                        let more = if items.len() > 8 { ", …" } else { "" };
                        format!("{{ {}{more} }}", parts.join(", "))
                    }
                    None => "{ }".into(),
                },
                "concat" => match b.as_array() {
                    Some(items) => items.iter().map(render).collect::<Vec<_>>().join(" . "),
                    None => String::new(),
                },
                "elem" => render(b.get("val").unwrap_or(&Value::Null)),
                "accept" | "drop" | "return" | "continue" | "jump" | "goto" | "reject" => render_stmt(v),
                other => other.to_string(),
            }
        }
    }
}
