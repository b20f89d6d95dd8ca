//! nftables text syntax (what `nft -f` takes and `nft list ruleset` prints) to a [`Ruleset`].
//!
//! The text is translated into the libnftables JSON schema, each object carrying the line
//! it came from, and evaluated by the JSON reader's core ([`super::nft`]): one evaluator
//! for both forms. The translation knows the command forms (`table`, `delete table`,
//! `flush ruleset|table|chain`, `add|create|insert`, `define`/`$var`), table bodies (sets,
//! maps, chains) and rule statements; anything else is a [`Problem`] with its line.

use serde_json::{Map, Value, json};

use super::nft::{ItemsFrom, LINE_KEY, read_items};
use super::{Ifaces, Problem, Ruleset};

mod lex;
use lex::{T, Tok, lex, substitute};

/// Read nft text.
pub(crate) fn read_text(text: &str, ifaces: &mut Ifaces) -> Ruleset {
    let mut problems = Vec::new();
    let toks = substitute(lex(text), &mut problems);
    let mut p = Parser { toks: &toks, pos: 0, items: Vec::new(), problems, depth: 0 };
    p.file();
    let Parser { items, problems, .. } = p;
    let mut rs = read_items(&items, ItemsFrom::Text, ifaces);
    let mut all = problems;
    all.append(&mut rs.problems);
    all.sort_by_key(|p| p.line);
    // A block the text never closes: the listing was cut off.
    if let Some(i) = all.iter().position(|p| p.message.ends_with("not closed with `}`")) {
        rs.incomplete = Some(all.remove(i));
    }
    rs.problems = all;
    rs
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

const FAMILIES: &[&str] = &["ip", "ip6", "inet", "arp", "bridge", "netdev"];

/// Payload protocols: `PROTO FIELD` reads a header field.
const PAYLOADS: &[&str] = &[
    "ip", "ip6", "tcp", "udp", "th", "sctp", "dccp", "udplite", "icmp", "icmpv6", "ah", "esp", "comp", "ether", "vlan",
    "arp", "igmp", "gre", "vxlan",
];

/// Meta keys nft takes without `meta`.
const BARE_META: &[&str] = &[
    "iifname",
    "oifname",
    "iif",
    "oif",
    "iiftype",
    "oiftype",
    "mark",
    "skuid",
    "skgid",
    "nftrace",
    "rtclassid",
    "pkttype",
    "cpu",
    "iifgroup",
    "oifgroup",
    "cgroup",
    "priority",
    "length",
];

/// Statements that end a rule's parse up to `comment` (their arguments are not modelled).
const OPAQUE: &[&str] = &[
    "queue",
    "notrack",
    "masquerade",
    "snat",
    "dnat",
    "redirect",
    "tproxy",
    "dup",
    "fwd",
    "flow",
    "synproxy",
    "xt",
    "osf",
    "numgen",
    "reset",
];

/// Expressions that are not modelled, named for the message.
const UNMODELLED: &[&str] = &[
    "fib", "rt", "socket", "exthdr", "ipsec", "frag", "hbh", "rt0", "mh", "dst", "srh", "jhash", "symhash", "tunnel",
    "last",
];

struct Parser<'t> {
    toks: &'t [Tok<'t>],
    pos: usize,
    items: Vec<Value>,
    problems: Vec<Problem>,
    /// Nesting of `{` in values, bounded so hostile input cannot exhaust the stack.
    depth: usize,
}

/// Deeper value nesting than this is an error (nft itself nests sets one level).
const MAX_DEPTH: usize = 8;

type Res<T> = Result<T, (usize, String)>;

/// `{k: v}` without the copy `json!` makes of an interpolated value.
fn one(k: &str, v: Value) -> Value {
    pairs(vec![(k, v)])
}

fn pairs(kv: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in kv {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// A word as a JSON value: numbers as numbers, anything else as a string.
/// The value of `parts` joined by `.`: the one part, or the schema's concatenation.
fn concat_of(mut parts: Vec<Value>) -> Value {
    if parts.len() == 1 { parts.remove(0) } else { one("concat", Value::Array(parts)) }
}

fn word_value(w: &str) -> Value {
    match w.parse::<u64>() {
        Ok(n) if w.bytes().all(|b| b.is_ascii_digit()) => json!(n),
        _ => Value::String(w.to_string()),
    }
}

fn verdict_value(kind: &str, target: Option<String>) -> Value {
    match target {
        Some(t) => json!({ kind: { "target": t } }),
        None => json!({ kind: null }),
    }
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&'t T<'t>> {
        self.toks.get(self.pos).map(|t| &t.t)
    }

    fn peek_at(&self, k: usize) -> Option<&'t T<'t>> {
        self.toks.get(self.pos + k).map(|t| &t.t)
    }

    fn line(&self) -> usize {
        self.toks.get(self.pos).or(self.toks.last()).map_or(0, |t| t.line)
    }

    fn next(&mut self) -> Option<&'t T<'t>> {
        let t = self.toks.get(self.pos).map(|t| &t.t);
        self.pos += 1;
        t
    }

    fn err<X>(&self, msg: impl Into<String>) -> Res<X> {
        Err((self.line(), msg.into()))
    }

    fn word(&mut self, what: &str) -> Res<String> {
        match self.peek() {
            Some(T::Word(w)) | Some(T::Str(w)) => {
                let w = w.to_string();
                self.pos += 1;
                Ok(w)
            }
            _ => self.err(format!("expected {what}")),
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(T::Word(x)) if *x == w)
    }

    fn eat_sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&T::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, c: char) -> Res<()> {
        if self.eat_sym(c) { Ok(()) } else { self.err(format!("expected `{c}`")) }
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Some(T::Newline | T::Sym(';'))) {
            self.pos += 1;
        }
    }

    /// Skip to the end of the statement: a newline or `;` outside braces, or before the `}`
    /// that closes the enclosing block.
    fn skip_statement(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            match t {
                T::Sym('{') => depth += 1,
                T::Sym('}') if depth == 0 => return,
                T::Sym('}') => depth -= 1,
                T::Newline | T::Sym(';') if depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Skip a whole block `… { … }` (or a one-line statement).
    fn skip_block(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.next() {
            match t {
                T::Sym('{') => depth += 1,
                T::Sym('}') if depth <= 1 => {
                    if depth == 1 {
                        return;
                    }
                    self.pos -= 1;
                    return;
                }
                T::Sym('}') => depth -= 1,
                T::Newline | T::Sym(';') if depth == 0 => return,
                _ => {}
            }
        }
    }

    fn report(&mut self, e: (usize, String)) {
        self.problems.push(Problem { line: e.0, message: e.1 });
    }

    fn file(&mut self) {
        loop {
            self.skip_newlines();
            if self.peek().is_none() {
                return;
            }
            if self.eat_sym('}') {
                self.report((self.line(), "unbalanced `}`".into()));
                continue;
            }
            let start = self.pos;
            if let Err(e) = self.command() {
                self.report(e);
                // Resume after the failed command: skip it from its start, braces balanced.
                self.pos = start;
                self.skip_block();
            }
        }
    }

    /// `[family] name`, family `ip` when left out.
    fn family_name(&mut self) -> Res<(String, String)> {
        let first = self.word("a table name")?;
        if FAMILIES.contains(&first.as_str()) && matches!(self.peek(), Some(T::Word(_) | T::Str(_))) {
            let name = self.word("a table name")?;
            return Ok((first, name));
        }
        Ok(("ip".into(), first))
    }

    fn command(&mut self) -> Res<()> {
        let line = self.line();
        let cmd = self.word("a command")?;
        match cmd.as_str() {
            "table" => self.table(),
            "add" | "create" | "insert" => {
                let what = self.word("table, chain, rule, set, map or element")?;
                let insert = cmd == "insert";
                match what.as_str() {
                    "table" if !insert => self.table(),
                    "chain" if !insert => {
                        let (fam, table) = self.family_name()?;
                        let name = self.word("a chain name")?;
                        self.ensure_table(&fam, &table, line);
                        if self.eat_sym('{') {
                            self.chain_body(&fam, &table, &name, line)
                        } else {
                            self.declare_chain(&fam, &table, &name, Map::new(), line);
                            Ok(())
                        }
                    }
                    "set" | "map" if !insert => {
                        let (fam, table) = self.family_name()?;
                        let name = self.word("a set name")?;
                        self.expect_sym('{')?;
                        self.set_body(&fam, &table, &name, what == "map", line)
                    }
                    "element" if !insert => {
                        let (fam, table) = self.family_name()?;
                        let name = self.word("a set name")?;
                        self.expect_sym('{')?;
                        let elems = self.elements(false)?;
                        self.add_elements(&fam, &table, &name, elems, line)
                    }
                    "rule" => {
                        let (fam, table) = self.family_name()?;
                        let chain = self.word("a chain name")?;
                        if self.is_word("position") || self.is_word("index") || self.is_word("handle") {
                            return self.err("rules placed by position, index or handle are not modelled");
                        }
                        let rule = self.rule(&fam, &table, &chain)?;
                        if insert {
                            let at = self.items.iter().position(|i| is_rule_of(i, &fam, &table, &chain));
                            self.items.insert(at.unwrap_or(self.items.len()), rule);
                        } else {
                            self.items.push(rule);
                        }
                        Ok(())
                    }
                    other => self.err(format!("`{cmd} {other}` is not modelled")),
                }
            }
            "delete" | "destroy" => {
                let what = self.word("table")?;
                if what != "table" {
                    return self.err(format!("`{cmd} {what}` is not modelled"));
                }
                let (fam, table) = self.family_name()?;
                self.items.retain(|i| !in_table(i, &fam, &table));
                Ok(())
            }
            "flush" => {
                let what = self.word("ruleset, table or chain")?;
                match what.as_str() {
                    "ruleset" => {
                        // `flush ruleset ip` flushes one family only.
                        let fam = match self.peek() {
                            Some(T::Word(f)) if FAMILIES.contains(f) => Some(self.word("family")?),
                            _ => None,
                        };
                        self.items.retain(|i| fam.as_ref().is_some_and(|f| item_field(i, "family") != f));
                    }
                    "table" => {
                        let (fam, table) = self.family_name()?;
                        self.items.retain(|i| !(in_table(i, &fam, &table) && i.get("rule").is_some()));
                    }
                    "chain" => {
                        let (fam, table) = self.family_name()?;
                        let chain = self.word("a chain name")?;
                        self.items.retain(|i| !is_rule_of(i, &fam, &table, &chain));
                    }
                    other => return self.err(format!("`flush {other}` is not modelled")),
                }
                Ok(())
            }
            other => self.err(format!("unknown command `{other}`")),
        }
    }

    fn ensure_table(&mut self, fam: &str, table: &str, line: usize) {
        let exists = self
            .items
            .iter()
            .any(|i| i.get("table").is_some_and(|t| item_str(t, "family") == fam && item_str(t, "name") == table));
        if !exists {
            self.items.push(json!({"table": {"family": fam, "name": table, LINE_KEY: line}}));
        }
    }

    fn table(&mut self) -> Res<()> {
        let line = self.line();
        let (fam, table) = self.family_name()?;
        self.ensure_table(&fam, &table, line);
        if !self.eat_sym('{') {
            return Ok(());
        }
        loop {
            self.skip_newlines();
            let line = self.line();
            let Some(t) = self.peek() else { return self.err("table not closed with `}`") };
            if *t == T::Sym('}') {
                self.pos += 1;
                return Ok(());
            }
            let start = self.pos;
            let kw = match self.word("a table statement") {
                Ok(k) => k,
                Err(e) => {
                    self.report(e);
                    self.pos = start + 1;
                    self.skip_statement();
                    continue;
                }
            };
            let r = match kw.as_str() {
                "comment" => self.word("a comment").map(|_| ()),
                "flags" => {
                    let flags = self.words_list()?;
                    if flags.iter().any(|f| f == "dormant") {
                        self.err("a dormant table filters nothing; not modelled")
                    } else {
                        Ok(())
                    }
                }
                "chain" => {
                    let name = self.word("a chain name")?;
                    self.expect_sym('{')?;
                    self.chain_body(&fam, &table, &name, line)
                }
                "set" | "map" => {
                    let name = self.word("a set name")?;
                    self.expect_sym('{')?;
                    self.set_body(&fam, &table, &name, kw == "map", line)
                }
                // Named stateful objects do nothing unless a rule uses them.
                "counter" | "quota" | "limit" | "ct" | "secmark" | "synproxy" | "flowtable" => {
                    self.skip_block();
                    Ok(())
                }
                other => self.err(format!("unknown table statement `{other}`")),
            };
            if let Err(e) = r {
                self.report(e);
                self.pos = start;
                self.skip_block();
            }
        }
    }

    /// `a, b, c` (words) up to the end of the statement.
    fn words_list(&mut self) -> Res<Vec<String>> {
        let mut out = vec![self.word("a word")?];
        while self.eat_sym(',') {
            out.push(self.word("a word")?);
        }
        Ok(out)
    }

    fn declare_chain(&mut self, fam: &str, table: &str, name: &str, extra: Map<String, Value>, line: usize) {
        let mut m = Map::new();
        m.insert("family".into(), json!(fam));
        m.insert("table".into(), json!(table));
        m.insert("name".into(), json!(name));
        m.insert(LINE_KEY.into(), json!(line));
        m.extend(extra);
        self.items.push(one("chain", Value::Object(m)));
    }

    fn chain_body(&mut self, fam: &str, table: &str, name: &str, line: usize) -> Res<()> {
        let mut base = Map::new();
        let mut rules = Vec::new();
        loop {
            self.skip_newlines();
            let Some(t) = self.peek() else { return self.err(format!("chain {name} not closed with `}}`")) };
            if *t == T::Sym('}') {
                self.pos += 1;
                break;
            }
            let start = self.pos;
            let r = match t {
                T::Word(w) if *w == "type" => self.chain_type(&mut base),
                T::Word(w) if *w == "policy" => {
                    self.pos += 1;
                    self.word("a policy").map(|p| {
                        base.insert("policy".into(), json!(p));
                    })
                }
                T::Word(w) if *w == "comment" && matches!(self.peek_at(1), Some(T::Str(_))) => {
                    self.pos += 2;
                    Ok(())
                }
                T::Word(w) if *w == "devices" => {
                    self.skip_statement();
                    Ok(())
                }
                _ => self.rule(fam, table, name).map(|r| rules.push(r)),
            };
            if let Err(e) = r {
                self.report(e);
                self.pos = start;
                self.skip_statement();
            }
        }
        self.declare_chain(fam, table, name, base, line);
        self.items.extend(rules);
        Ok(())
    }

    /// `type filter hook input [device X] priority P;`
    fn chain_type(&mut self, base: &mut Map<String, Value>) -> Res<()> {
        self.pos += 1;
        base.insert("type".into(), json!(self.word("a chain type")?));
        if !self.is_word("hook") {
            return self.err("expected `hook`");
        }
        self.pos += 1;
        base.insert("hook".into(), json!(self.word("a hook")?));
        if self.is_word("device") {
            self.pos += 1;
            self.word("a device")?;
        }
        if !self.is_word("priority") {
            return self.err("expected `priority`");
        }
        self.pos += 1;
        let mut prio = String::new();
        while let Some(T::Word(w)) = self.peek() {
            if *w == "policy" {
                break;
            }
            prio.push_str(w);
            self.pos += 1;
        }
        let v = match prio.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(prio),
        };
        base.insert("prio".into(), v);
        Ok(())
    }

    fn set_body(&mut self, fam: &str, table: &str, name: &str, is_map: bool, line: usize) -> Res<()> {
        let mut set = Map::new();
        set.insert("family".into(), json!(fam));
        set.insert("table".into(), json!(table));
        set.insert("name".into(), json!(name));
        set.insert(LINE_KEY.into(), json!(line));
        let mut elems = Vec::new();
        let mut flags = Vec::new();
        loop {
            self.skip_newlines();
            let Some(t) = self.peek() else { return self.err(format!("set {name} not closed with `}}`")) };
            if *t == T::Sym('}') {
                self.pos += 1;
                break;
            }
            let kw = self.word("a set statement")?;
            match kw.as_str() {
                "type" | "typeof" => {
                    // A map's data type follows the `:`.
                    let mut data = Vec::new();
                    let mut after_colon = false;
                    while let Some(t) = self.peek() {
                        match t {
                            T::Newline | T::Sym(';') | T::Sym('}') => break,
                            T::Sym(':') => after_colon = true,
                            T::Word(w) | T::Str(w) if after_colon => data.push(*w),
                            _ => {}
                        }
                        self.pos += 1;
                    }
                    if is_map {
                        set.insert("map".into(), json!(data.join(" ")));
                    }
                }
                "flags" => flags.extend(self.words_list()?),
                "elements" => {
                    self.expect_sym('=')?;
                    self.expect_sym('{')?;
                    elems.extend(self.elements(!is_map)?);
                }
                "timeout" => {
                    set.insert("timeout".into(), json!(self.word("a timeout")?));
                }
                "counter" | "auto-merge" => {}
                "size" | "policy" | "gc-interval" | "comment" => {
                    self.word("a value")?;
                }
                other => return self.err(format!("unknown set statement `{other}`")),
            }
        }
        set.insert("flags".into(), json!(flags));
        set.insert("elem".into(), Value::Array(elems));
        self.items.push(one(if is_map { "map" } else { "set" }, Value::Object(set)));
        Ok(())
    }

    fn add_elements(&mut self, fam: &str, table: &str, name: &str, elems: Vec<Value>, line: usize) -> Res<()> {
        let found = self.items.iter_mut().find_map(|i| {
            let (_, s) = i.as_object_mut()?.iter_mut().find(|(k, _)| *k == "set" || *k == "map")?;
            (item_str(s, "family") == fam && item_str(s, "table") == table && item_str(s, "name") == name).then_some(s)
        });
        match found.and_then(|s| s.get_mut("elem")).and_then(Value::as_array_mut) {
            Some(a) => {
                a.extend(elems);
                Ok(())
            }
            None => Err((line, format!("element added to set {name}, which is not declared"))),
        }
    }

    /// The inside of `{ … }` after the `{`: elements, map entries with their options. With
    /// `bare` (the elements of a named set, by far the most: a core firewall's hold
    /// hundreds of thousands), a concatenation is a bare array of its parts
    /// ([`ItemsFrom::Text`]); elsewhere (maps, anonymous sets, `add element`) it is the
    /// schema's `{"concat": [...]}`, which the rules' texts render.
    fn elements(&mut self, bare: bool) -> Res<Vec<Value>> {
        let mut out = Vec::new();
        loop {
            while matches!(self.peek(), Some(T::Newline)) {
                self.pos += 1;
            }
            if self.eat_sym('}') {
                return Ok(out);
            }
            let parts = self.value_parts()?;
            let key = if bare && parts.len() > 1 { Value::Array(parts) } else { concat_of(parts) };
            let mut data = None;
            loop {
                while matches!(self.peek(), Some(T::Newline)) {
                    self.pos += 1;
                }
                match self.peek() {
                    Some(T::Sym(':')) => {
                        self.pos += 1;
                        data = Some(self.map_data()?);
                    }
                    Some(T::Word(w)) if *w == "comment" => {
                        // Element comments are not part of the model (JSON keeps them).
                        self.pos += 1;
                        self.word("a comment")?;
                    }
                    Some(T::Word(w)) if *w == "counter" => {
                        self.pos += 1;
                        for k in ["packets", "bytes"] {
                            if self.is_word(k) {
                                self.pos += 1;
                                self.word("a number")?;
                            }
                        }
                    }
                    Some(T::Word(w)) if *w == "timeout" || *w == "expires" => {
                        self.pos += 1;
                        self.word("a time")?;
                    }
                    _ => break,
                }
            }
            out.push(match data {
                Some(d) => Value::Array(vec![key, d]),
                None => key,
            });
            while matches!(self.peek(), Some(T::Newline)) {
                self.pos += 1;
            }
            if !self.eat_sym(',') && self.peek() != Some(&T::Sym('}')) {
                return self.err("expected `,` or `}` in a set");
            }
        }
    }

    /// A map entry's data: a verdict, or a value (a non-verdict map).
    fn map_data(&mut self) -> Res<Value> {
        let w = self.word("a verdict")?;
        Ok(match w.as_str() {
            "accept" | "drop" | "continue" | "return" => verdict_value(&w, None),
            "jump" | "goto" => verdict_value(&w, Some(self.word("a chain name")?)),
            _ => word_value(&w),
        })
    }

    /// `v` or `v . v . …`.
    fn value_concat(&mut self) -> Res<Value> {
        self.value_parts().map(concat_of)
    }

    /// The parts of `v . v . …` (one for a plain value).
    fn value_parts(&mut self) -> Res<Vec<Value>> {
        let mut parts = vec![self.value()?];
        while self.is_word(".") {
            self.pos += 1;
            parts.push(self.value()?);
        }
        Ok(parts)
    }

    fn value(&mut self) -> Res<Value> {
        match self.peek() {
            Some(T::Word(w)) => {
                let v = word_value(w);
                self.pos += 1;
                Ok(v)
            }
            Some(T::Str(s)) => {
                let v = Value::String(s.to_string());
                self.pos += 1;
                Ok(v)
            }
            Some(T::Sym('{')) => {
                if self.depth >= MAX_DEPTH {
                    return self.err("sets nested too deeply");
                }
                self.pos += 1;
                self.depth += 1;
                let elems = self.elements(false);
                self.depth -= 1;
                Ok(one("set", Value::Array(elems?)))
            }
            _ => self.err("expected a value"),
        }
    }

    fn at_rule_end(&self) -> bool {
        matches!(self.peek(), None | Some(T::Newline | T::Sym(';') | T::Sym('}')))
    }

    /// One rule up to the end of its statement, as a JSON rule object.
    fn rule(&mut self, fam: &str, table: &str, chain: &str) -> Res<Value> {
        let line = self.line();
        let mut exprs = Vec::new();
        let mut comment: Option<String> = None;
        while !self.at_rule_end() {
            let Some(T::Word(w)) = self.peek() else { return self.err("unknown syntax in a rule") };
            let w = *w;
            match w {
                "counter" => {
                    self.pos += 1;
                    if self.is_word("name") {
                        self.pos += 1;
                        self.word("a counter name")?;
                    }
                    for k in ["packets", "bytes"] {
                        if self.is_word(k) {
                            self.pos += 1;
                            self.word("a number")?;
                        }
                    }
                    exprs.push(json!({"counter": null}));
                }
                "log" => {
                    self.pos += 1;
                    let mut prefix = None;
                    while let Some(T::Word(o)) = self.peek() {
                        match *o {
                            "prefix" => {
                                self.pos += 1;
                                prefix = Some(self.word("a prefix")?);
                            }
                            "level" | "group" | "snaplen" | "queue-threshold" => {
                                self.pos += 1;
                                self.word("a value")?;
                            }
                            "flags" => {
                                self.pos += 1;
                                self.words_list()?;
                            }
                            _ => break,
                        }
                    }
                    exprs.push(match prefix {
                        Some(p) => json!({"log": {"prefix": p}}),
                        None => json!({"log": null}),
                    });
                }
                "limit" | "quota" => {
                    self.pos += 1;
                    // `limit rate [over] 10/second [burst 20 packets]`, `quota [over] 10 mbytes`.
                    while let Some(T::Word(o)) = self.peek() {
                        let known =
                            matches!(*o, "rate" | "over" | "until" | "burst" | "packets" | "bytes" | "used" | "name")
                                || o.contains('/')
                                || o.bytes().all(|b| b.is_ascii_digit())
                                || o.ends_with("bytes");
                        if !known {
                            break;
                        }
                        self.pos += 1;
                    }
                    exprs.push(json!({ w: {} }));
                }
                "comment" => {
                    self.pos += 1;
                    comment = Some(self.word("a comment")?);
                }
                "accept" | "drop" | "continue" | "return" => {
                    self.pos += 1;
                    exprs.push(verdict_value(w, None));
                }
                "jump" | "goto" => {
                    self.pos += 1;
                    let target = self.word("a chain name")?;
                    exprs.push(verdict_value(w, Some(target)));
                }
                "reject" => {
                    self.pos += 1;
                    if self.is_word("with") {
                        while !self.at_rule_end() && !self.is_word("comment") {
                            self.pos += 1;
                        }
                    }
                    exprs.push(json!({"reject": null}));
                }
                kw if OPAQUE.contains(&kw) => {
                    self.pos += 1;
                    while !self.at_rule_end() && !self.is_word("comment") {
                        self.pos += 1;
                    }
                    exprs.push(json!({ kw: null }));
                }
                _ => exprs.push(self.match_expr()?),
            }
        }
        let mut m = Map::new();
        m.insert("family".into(), json!(fam));
        m.insert("table".into(), json!(table));
        m.insert("chain".into(), json!(chain));
        m.insert("expr".into(), Value::Array(exprs));
        if let Some(c) = comment {
            m.insert("comment".into(), json!(c));
        }
        m.insert(LINE_KEY.into(), json!(line));
        Ok(one("rule", Value::Object(m)))
    }

    fn selector(&mut self) -> Res<Value> {
        let w = self.word("a match")?;
        if w == "fib" {
            return self.err(super::nft::FIB_WHY.to_string());
        }
        if UNMODELLED.contains(&w.as_str()) {
            return self.err(format!("{w} expressions are not modelled"));
        }
        if w == "tcp" && self.is_word("option") {
            // `tcp option maxseg size`: a TCP option's field (only set, by MSS clamping).
            self.pos += 1;
            let name = self.word("a TCP option")?;
            let field = self.word("a TCP option field")?;
            return Ok(json!({"tcp option": {"name": name, "field": field}}));
        }
        if PAYLOADS.contains(&w.as_str()) {
            let field = self.word("a header field")?;
            return Ok(json!({"payload": {"protocol": w, "field": field}}));
        }
        if w == "meta" {
            let key = self.word("a meta key")?;
            return Ok(json!({"meta": {"key": key}}));
        }
        if BARE_META.contains(&w.as_str()) {
            return Ok(json!({"meta": {"key": w}}));
        }
        if w == "ct" {
            let mut key = self.word("a ct key")?;
            let mut m = Map::new();
            if matches!(key.as_str(), "original" | "reply") {
                m.insert("dir".into(), json!(key));
                key = self.word("a ct key")?;
            }
            m.insert("key".into(), json!(key));
            return Ok(one("ct", Value::Object(m)));
        }
        self.err(format!("unknown syntax `{w}`"))
    }

    /// `left [op] right`, `left vmap {…}|@m`, or `left set value` (a mangle statement).
    fn match_expr(&mut self) -> Res<Value> {
        let mut lefts = vec![self.selector()?];
        while self.is_word(".") {
            self.pos += 1;
            lefts.push(self.selector()?);
        }
        let left = if lefts.len() == 1 { lefts.remove(0) } else { one("concat", Value::Array(lefts)) };
        if self.is_word("set") {
            self.pos += 1;
            // `rt mtu`: the route's MTU (fw4's MSS clamping).
            if self.is_word("rt") {
                self.pos += 1;
                self.word("a routing key")?;
            } else {
                self.value_concat()?;
            }
            return Ok(one("mangle", one("key", left)));
        }
        if self.is_word("vmap") {
            self.pos += 1;
            let data = self.value()?;
            return Ok(one("vmap", pairs(vec![("key", left), ("data", data)])));
        }
        let mut op = "==".to_string();
        if let Some(T::Word(w)) = self.peek()
            && matches!(*w, "==" | "!=" | "<" | ">" | "<=" | ">=" | "eq" | "ne" | "lt" | "gt" | "le" | "ge")
        {
            op = match *w {
                "eq" => "==",
                "ne" => "!=",
                "lt" => "<",
                "gt" => ">",
                "le" => "<=",
                "ge" => ">=",
                o => o,
            }
            .to_string();
            self.pos += 1;
        }
        let mut right = self.value_concat()?;
        // `ct state established,related`: a list outside braces.
        if self.peek() == Some(&T::Sym(',')) {
            let mut list = vec![right];
            while self.eat_sym(',') {
                list.push(self.value()?);
            }
            right = Value::Array(list);
        }
        Ok(one("match", pairs(vec![("op", Value::String(op)), ("left", left), ("right", right)])))
    }
}

fn item_str<'v>(v: &'v Value, k: &str) -> &'v str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The family of any item (table, chain, set, rule).
fn item_field<'v>(item: &'v Value, k: &str) -> &'v str {
    item.as_object().and_then(|m| m.values().next()).map_or("", |b| item_str(b, k))
}

fn in_table(item: &Value, fam: &str, table: &str) -> bool {
    let Some((kind, body)) = item.as_object().and_then(|m| m.iter().next()) else { return false };
    let t = if kind == "table" { item_str(body, "name") } else { item_str(body, "table") };
    item_str(body, "family") == fam && t == table
}

fn is_rule_of(item: &Value, fam: &str, table: &str, chain: &str) -> bool {
    item.get("rule")
        .is_some_and(|r| item_str(r, "family") == fam && item_str(r, "table") == table && item_str(r, "chain") == chain)
}
