//! The script: the commands it runs, interpreted.

use std::borrow::Cow;

use super::*;

/// An argument value: a literal, or something the reader cannot know. Borrowed from the
/// script's text where it can be: a bundle's scripts pass hundreds of thousands.
#[derive(Clone, Debug)]
pub(super) enum Val<'a> {
    Text(Cow<'a, str>),
    Unknown(Cow<'a, str>),
}

#[derive(Clone, Debug, Default)]
pub(super) struct Args<'a> {
    /// (name as written without `-`, values, line).
    params: Vec<(&'a str, Vec<Val<'a>>, usize)>,
    positional: Vec<Val<'a>>,
}

/// What a variable holds.
#[derive(Clone, Debug)]
pub(super) enum VarVal<'a> {
    Text(Cow<'a, str>),
    /// The rules (indexes into the created rules) a `Get-NetFirewallRule` returned.
    Rules(BTreeSet<usize>),
}

/// Rules a selection names: the created rules' indexes, or why it is not known.
#[derive(Clone, Debug)]
pub(super) enum Sel {
    Rules(BTreeSet<usize>),
    Unknown(String),
}

pub(super) const COMMON: &[&str] = &[
    "Verbose",
    "Debug",
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "ErrorVariable",
    "WarningVariable",
    "InformationVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
    "Confirm",
    "WhatIf",
    "AsJob",
    "ThrottleLimit",
    "CimSession",
];

pub(super) const NEW_RULE: &[&str] = &[
    "Name",
    "DisplayName",
    "Description",
    "Group",
    "Enabled",
    "Profile",
    "Platform",
    "Direction",
    "Action",
    "EdgeTraversalPolicy",
    "LooseSourceMapping",
    "LocalOnlyMapping",
    "Owner",
    "LocalAddress",
    "RemoteAddress",
    "Protocol",
    "LocalPort",
    "RemotePort",
    "IcmpType",
    "DynamicTarget",
    "Program",
    "Package",
    "Service",
    "InterfaceAlias",
    "InterfaceType",
    "LocalUser",
    "RemoteUser",
    "RemoteMachine",
    "Authentication",
    "Encryption",
    "OverrideBlockRules",
    "RemoteDynamicKeywordAddresses",
    "PolicyStore",
    "GPOSession",
];

pub(super) const SET_PROFILE: &[&str] = &[
    "Name",
    "Profile",
    "All",
    "Enabled",
    "DefaultInboundAction",
    "DefaultOutboundAction",
    "AllowInboundRules",
    "DisabledInterfaceAliases",
    "AllowLocalFirewallRules",
    "AllowLocalIPsecRules",
    "AllowUserApps",
    "AllowUserPorts",
    "AllowUnicastResponseToMulticast",
    "NotifyOnListen",
    "EnableStealthModeForIPsec",
    "LogFileName",
    "LogMaxSizeKilobytes",
    "LogAllowed",
    "LogBlocked",
    "LogIgnored",
    "PolicyStore",
    "GPOSession",
];

pub(super) const SELECT_RULES: &[&str] = &[
    "Name",
    "DisplayName",
    "Group",
    "All",
    "PolicyStore",
    "Description",
    "DisplayGroup",
    "Enabled",
    "Direction",
    "Action",
    "InputObject",
    "GPOSession",
];

/// A parameter name as PowerShell binds it: exact, else a unique prefix (case-insensitive).
pub(super) fn resolve(written: &str, known: &[&'static str]) -> Option<&'static str> {
    let all = known.iter().chain(COMMON);
    if let Some(k) = all.clone().find(|k| k.eq_ignore_ascii_case(written)) {
        return Some(k);
    }
    let w = written.to_ascii_lowercase();
    let mut hits = all.filter(|k| k.to_ascii_lowercase().starts_with(&w));
    match (hits.next(), hits.next()) {
        (Some(k), None) if !w.is_empty() => Some(k),
        _ => None,
    }
}

pub(super) fn texts(vals: &[Val]) -> Result<Vec<String>, String> {
    vals.iter()
        .map(|v| match v {
            Val::Text(s) => Ok(s.to_string()),
            Val::Unknown(why) => Err(why.to_string()),
        })
        .collect()
}

pub(super) fn one(param: &str, vals: &[Val]) -> Result<String, String> {
    // A value it cannot know is named first, as `texts` does, before values are counted.
    if let Some(e) = vals.iter().find_map(|v| if let Val::Unknown(e) = v { Some(e) } else { None }) {
        return Err(format!("-{param} is {e}, not a literal"));
    }
    match vals {
        [Val::Text(v)] => Ok(v.to_string()),
        [] => Err(format!("-{param} has no value")),
        _ => Err(format!("-{param} has several values")),
    }
}

/// PowerShell wildcard matching (`*`, `?`), case-insensitive; `None` for patterns with
/// `[` or a backtick, which are not modelled.
pub(super) fn wildcard(pattern: &str, s: &str) -> Option<bool> {
    if pattern.contains(['[', '`']) {
        return None;
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = s.to_lowercase().chars().collect();
    // Iterative matching with one backtrack point: linear in practice, never recursive.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return Some(false);
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    Some(i == p.len())
}

/// One rule the script creates.
pub(super) struct Created {
    spec: Spec,
    alive: bool,
}

pub(super) struct Interp<'a> {
    toks: &'a [(Tok<'a>, usize)],
    vars: HashMap<String, VarVal<'a>>,
    rules: Vec<Created>,
    /// Domain, Private, Public.
    profiles: [ProfileSettings; 3],
    problems: Vec<Problem>,
}

pub(super) fn is_end(t: &Tok) -> bool {
    matches!(t, Tok::End | Tok::Pipe | Tok::Close(_))
}

impl<'a> Interp<'a> {
    fn tok(&self, i: usize) -> Option<&'a Tok<'a>> {
        self.toks.get(i).map(|t| &t.0)
    }

    fn line(&self, i: usize) -> usize {
        self.toks.get(i).or(self.toks.last()).map_or(0, |t| t.1)
    }

    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem { line, message });
    }

    fn var(&self, name: &str) -> Val<'a> {
        match name {
            "true" => Val::Text("True".into()),
            "false" => Val::Text("False".into()),
            "null" => Val::Unknown("$null".into()),
            _ => match self.vars.get(name) {
                Some(VarVal::Text(s)) => Val::Text(s.clone()),
                _ => Val::Unknown(format!("${name}").into()),
            },
        }
    }

    /// The values of an `@(…)` or `(…)` group starting after its opening token; the index
    /// after its closing token.
    fn group(&self, mut i: usize, out: &mut Vec<Val<'a>>) -> usize {
        let mut statement_start = true;
        while let Some(t) = self.tok(i) {
            match t {
                Tok::Close(_) => return i + 1,
                Tok::Comma => statement_start = false,
                Tok::End => statement_start = true,
                Tok::Str(s) => {
                    out.push(Val::Text(Cow::Borrowed(s)));
                    statement_start = false;
                }
                Tok::Var(v) => {
                    out.push(self.var(v));
                    statement_start = false;
                }
                Tok::Word(w) if !statement_start && w.parse::<i64>().is_ok() => out.push(Val::Text(Cow::Borrowed(w))),
                Tok::Open('a' | '(') => {
                    i = self.group(i + 1, out);
                    statement_start = false;
                    continue;
                }
                Tok::Open(_) => {
                    out.push(Val::Unknown("a script block, subexpression or hashtable".into()));
                    i = self.skip_group(i + 1);
                    continue;
                }
                Tok::Word(w) if statement_start => {
                    out.push(Val::Unknown(format!("the output of command `{w}`").into()))
                }
                Tok::Word(w) => out.push(Val::Unknown(format!("an expression with `{w}`").into())),
                Tok::Opaque(why) => out.push(Val::Unknown((*why).into())),
                Tok::Pipe | Tok::Assign | Tok::Other => out.push(Val::Unknown("an expression".into())),
            }
            i += 1;
        }
        i
    }

    /// The index after the group's closing token.
    fn skip_group(&self, mut i: usize) -> usize {
        let mut depth = 1usize;
        while let Some(t) = self.tok(i) {
            match t {
                Tok::Open(_) => depth += 1,
                Tok::Close(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        i
    }

    /// A command's arguments from `i` up to the end of its pipeline element (the index of
    /// the token that ends it, not consumed).
    fn args(&self, mut i: usize) -> (Args<'a>, usize) {
        let mut a = Args::default();
        // Where values go: a parameter, or the positional list.
        let mut cur: Option<usize> = None;
        while let Some(t) = self.tok(i) {
            if is_end(t) {
                break;
            }
            let mut vals = Vec::new();
            match t {
                Tok::Word(w) if w.len() > 1 && w.starts_with('-') && w.parse::<i64>().is_err() => {
                    let body = &w[1..];
                    let (name, inline) = match body.split_once(':') {
                        Some((n, v)) => (n, Some(v)),
                        None => (body, None),
                    };
                    a.params.push((name, Vec::new(), self.line(i)));
                    cur = Some(a.params.len() - 1);
                    if let Some(v) = inline.filter(|v| !v.is_empty()) {
                        vals.push(Val::Text(Cow::Borrowed(v)));
                    }
                }
                Tok::Word(w) | Tok::Str(w) => vals.push(Val::Text(Cow::Borrowed(w))),
                Tok::Var(v) => vals.push(self.var(v)),
                Tok::Comma => {}
                Tok::Open('a' | '(') => {
                    i = self.group(i + 1, &mut vals);
                    self.push_vals(&mut a, cur, vals);
                    continue;
                }
                Tok::Open(_) => {
                    vals.push(Val::Unknown("a script block, subexpression or hashtable".into()));
                    i = self.skip_group(i + 1);
                    self.push_vals(&mut a, cur, vals);
                    continue;
                }
                Tok::Opaque(why) => vals.push(Val::Unknown((*why).into())),
                _ => vals.push(Val::Unknown("an expression".into())),
            }
            self.push_vals(&mut a, cur, vals);
            // A comma continues the list onto the next line.
            if matches!(t, Tok::Comma) {
                while self.tok(i + 1) == Some(&Tok::End) {
                    i += 1;
                }
            }
            i += 1;
        }
        (a, i)
    }

    fn push_vals(&self, a: &mut Args<'a>, cur: Option<usize>, vals: Vec<Val<'a>>) {
        match cur {
            Some(k) => a.params[k].1.extend(vals),
            None => a.positional.extend(vals),
        }
    }

    /// The rules a Get-/Remove-NetFirewallRule selects by its own parameters; `None` when
    /// it has no selecting parameter.
    fn select(&self, args: &Args) -> Option<Sel> {
        let mut filters: Vec<(&str, Vec<String>)> = Vec::new();
        let mut all = false;
        if !args.positional.is_empty() {
            return Some(Sel::Unknown("with positional arguments".into()));
        }
        for (p, vals, _) in &args.params {
            match resolve(p, SELECT_RULES) {
                Some(k @ ("Name" | "DisplayName" | "Group")) => match texts(vals) {
                    Ok(v) => filters.push((k, v)),
                    Err(e) => return Some(Sel::Unknown(format!("-{k} {e}"))),
                },
                Some("All") => all = true,
                Some("PolicyStore") => match one("PolicyStore", vals) {
                    Ok(s) if ["PersistentStore", "localhost", "ActiveStore"].iter().any(|x| eq(&s, x)) => {}
                    _ => return Some(Sel::Unknown("in another policy store".into())),
                },
                Some(k) if COMMON.contains(&k) && k != "WhatIf" && k != "CimSession" => {}
                Some(k) => return Some(Sel::Unknown(format!("with -{k}"))),
                None => return Some(Sel::Unknown(format!("with -{p}"))),
            }
        }
        if filters.is_empty() && !all {
            return None;
        }
        let mut set = BTreeSet::new();
        for (k, r) in self.rules.iter().enumerate().filter(|(_, r)| r.alive) {
            let mut matched = true;
            for (f, patterns) in &filters {
                let value = match *f {
                    "Name" => r.spec.name.as_deref(),
                    "DisplayName" => r.spec.display.as_deref(),
                    _ => r.spec.group.as_deref(),
                };
                let mut any = false;
                for p in patterns {
                    match value.map(|v| wildcard(p, v)) {
                        Some(None) => return Some(Sel::Unknown(format!("with the pattern `{p}`"))),
                        Some(Some(true)) => any = true,
                        _ => {}
                    }
                }
                matched &= any;
            }
            if matched {
                set.insert(k);
            }
        }
        Some(Sel::Rules(set))
    }

    fn in_block(stack: &[char]) -> bool {
        stack.contains(&'{')
    }

    fn run(&mut self) {
        let mut i = 0;
        let mut stack: Vec<char> = Vec::new();
        let mut cmd_pos = true;
        // The output of the previous pipeline element, and the input of the next one.
        let mut output: Option<Sel> = None;
        let mut input: Option<Sel> = None;
        // The variable this statement assigns, and whether a command is its whole value.
        let mut assign: Option<(String, usize)> = None;
        while let Some(t) = self.tok(i) {
            let line = self.line(i);
            let mut produced = None;
            match t {
                Tok::End => {
                    cmd_pos = stack.last() != Some(&'h');
                    input = None;
                    assign = None;
                }
                Tok::Open(k) => {
                    stack.push(*k);
                    cmd_pos = *k != 'h';
                }
                Tok::Close(c) => {
                    stack.pop();
                    cmd_pos = *c == '}';
                }
                Tok::Pipe => {
                    input = Some(output.take().unwrap_or(Sel::Unknown("from an expression".into())));
                    cmd_pos = true;
                    while self.tok(i + 1) == Some(&Tok::End) {
                        i += 1;
                    }
                }
                Tok::Var(v) if cmd_pos => {
                    if self.tok(i + 1) == Some(&Tok::Assign) {
                        self.vars.remove(v.as_ref());
                        match (self.tok(i + 2), self.tok(i + 3)) {
                            (Some(Tok::Str(s)), next) if next.is_none_or(is_end) => {
                                self.vars.insert(v.to_string(), VarVal::Text(Cow::Borrowed(s)));
                                i += 3;
                                continue;
                            }
                            _ => {}
                        }
                        assign = Some((v.to_string(), i + 2));
                        i += 2;
                        while self.tok(i) == Some(&Tok::End) {
                            i += 1;
                        }
                        cmd_pos = true;
                        continue;
                    }
                    produced = Some(match self.vars.get(v.as_ref()) {
                        Some(VarVal::Rules(set)) => Sel::Rules(set.clone()),
                        _ => Sel::Unknown(format!("from ${v}")),
                    });
                    cmd_pos = false;
                }
                Tok::Word(w) if cmd_pos => {
                    let (args, end) = self.args(i + 1);
                    let conditional = Self::in_block(&stack);
                    let input = input.take();
                    // Is this command the whole value of an assignment (`$x = @(cmd)`)?
                    let assigned = assign.as_ref().and_then(|(v, at)| {
                        let direct = *at == i || (*at + 1 == i && self.tok(*at) == Some(&Tok::Open('a')));
                        direct.then(|| v.clone())
                    });
                    let handled = self.command(w, &args, line, conditional, input);
                    match handled {
                        Some(sel) => {
                            if let (Some(v), Sel::Rules(set)) = (&assigned, &sel) {
                                self.vars.insert(v.clone(), VarVal::Rules(set.clone()));
                            }
                            produced = Some(sel);
                            i = end;
                            cmd_pos = false;
                            output = produced;
                            continue;
                        }
                        None if is_firewall_command(w) => {
                            i = end;
                            cmd_pos = false;
                            output = None;
                            continue;
                        }
                        None => cmd_pos = false,
                    }
                }
                Tok::Assign => cmd_pos = true,
                _ => cmd_pos = false,
            }
            output = produced;
            i += 1;
        }
    }

    /// Run one command. Returns the rules it outputs (Get-NetFirewallRule), if any.
    fn command(&mut self, name: &str, args: &Args, line: usize, conditional: bool, input: Option<Sel>) -> Option<Sel> {
        let lower = name.to_ascii_lowercase();
        let any_alive = self.rules.iter().any(|r| r.alive);
        match lower.as_str() {
            "new-netfirewallrule" => self.new_rule(args, line, conditional, input.is_some()),
            "set-netfirewallprofile" => self.set_profile(args, line, conditional, input.is_some()),
            "get-netfirewallrule" => {
                return Some(match input {
                    Some(_) => Sel::Unknown("from pipeline input".into()),
                    None => self.select(args).unwrap_or_else(|| {
                        Sel::Rules(self.rules.iter().enumerate().filter(|r| r.1.alive).map(|r| r.0).collect())
                    }),
                });
            }
            "remove-netfirewallrule" => {
                let sel = match (self.select(args), input) {
                    (Some(s), None) => s,
                    (None, Some(s)) => s,
                    (None, None) => Sel::Rules(BTreeSet::new()),
                    (Some(_), Some(_)) => Sel::Unknown("with both pipeline input and parameters".into()),
                };
                match sel {
                    Sel::Rules(set) => {
                        let hit: Vec<usize> = set.into_iter().filter(|k| self.rules[*k].alive).collect();
                        if !hit.is_empty() && conditional {
                            self.problem(
                                line,
                                "Remove-NetFirewallRule inside a script block removes rules created above it; \
                                 whether it runs is not known"
                                    .into(),
                            );
                        } else {
                            for k in hit {
                                self.rules[k].alive = false;
                            }
                        }
                    }
                    Sel::Unknown(why) if any_alive => self.problem(
                        line,
                        format!(
                            "Remove-NetFirewallRule {why}: which of the rules created above it it removes is not known"
                        ),
                    ),
                    Sel::Unknown(_) => {}
                }
            }
            "netsh" | "netsh.exe" => {
                let words = texts(&args.positional).unwrap_or_default();
                if words.iter().any(|w| w.to_ascii_lowercase().contains("firewall")) {
                    self.problem(
                        line,
                        "netsh changes the firewall; the reader models New-NetFirewallRule and Set-NetFirewallProfile only"
                            .into(),
                    );
                }
            }
            "invoke-expression" | "iex" => {
                self.problem(line, format!("`{name}` runs code the reader cannot see"));
            }
            _ if lower.contains("netfirewall") && !lower.starts_with("get-") => {
                // Changes to rules before any rule was created touch only other rules.
                let rules_only = lower.ends_with("netfirewallrule") || lower.ends_with("filter");
                if !rules_only || any_alive {
                    self.problem(line, format!("`{name}` changes firewall settings the reader does not model"));
                }
            }
            _ => {}
        }
        None
    }

    fn new_rule(&mut self, args: &Args, line: usize, conditional: bool, piped: bool) {
        let mut s = Spec::new(line);
        if conditional {
            s.problems.push(
                "created inside a script block (a condition, loop or function): whether and how often it runs \
                 is not known"
                    .into(),
            );
        }
        if piped {
            s.problems.push("New-NetFirewallRule with pipeline input".into());
        }
        if !args.positional.is_empty() {
            s.problems.push("New-NetFirewallRule with positional arguments".into());
        }
        let mut seen = BTreeSet::new();
        for (p, vals, _) in &args.params {
            let Some(k) = resolve(p, NEW_RULE) else {
                s.problems.push(format!("unknown parameter -{p}"));
                continue;
            };
            if !seen.insert(k) {
                s.problems.push(format!("-{k} given twice (PowerShell refuses the command)"));
                continue;
            }
            let list = |s: &mut Spec| match texts(vals) {
                Ok(v) => v,
                Err(e) => {
                    s.problems.push(format!("-{k} is {e}, not a literal"));
                    Vec::new()
                }
            };
            match k {
                "Name" | "Group" => match one(k, vals) {
                    Ok(v) if k == "Name" => s.name = Some(v),
                    Ok(v) => s.group = Some(v),
                    Err(e) => s.problems.push(e),
                },
                "DisplayName" => s.display = one(k, vals).ok(),
                "Description" => s.description = one(k, vals).ok(),
                "Enabled" => s.enabled = one(k, vals).and_then(|v| parse_enabled(&v)),
                "Profile" => {
                    s.profiles = texts(vals).map_err(|e| format!("-Profile is {e}")).and_then(|v| profile_bits(&v))
                }
                "Direction" => s.inbound = one(k, vals).and_then(|v| parse_direction(&v)),
                "Action" => s.allow = one(k, vals).and_then(|v| parse_action(&v)),
                "Protocol" => match one(k, vals) {
                    Ok(v) => s.protocol = v,
                    Err(e) => s.problems.push(e),
                },
                "LocalAddress" => s.local = list(&mut s),
                "RemoteAddress" => s.remote = list(&mut s),
                "LocalPort" => s.lport = list(&mut s),
                "RemotePort" => s.rport = list(&mut s),
                "IcmpType" => s.icmp = list(&mut s),
                "PolicyStore" => match one(k, vals) {
                    Ok(v) if eq(&v, "PersistentStore") || eq(&v, "localhost") => {}
                    Ok(v) => s.problems.push(format!(
                        "-PolicyStore {v}: the rule goes into a Group Policy object, which applies only where and when \
                         Group Policy says"
                    )),
                    Err(e) => s.problems.push(e),
                },
                "GPOSession" | "CimSession" => {
                    s.problems.push(format!("-{k}: the rule is not created on this host by this command"))
                }
                "RemoteDynamicKeywordAddresses" => {
                    s.problems.push("-RemoteDynamicKeywordAddresses: the addresses are resolved at run time".into())
                }
                "WhatIf" => {
                    if !matches!(texts(vals).as_deref(), Ok([v]) if eq(v, "False")) {
                        s.problems.push("-WhatIf: the command creates nothing".into());
                    }
                }
                _ if COMMON.contains(&k) => {}
                _ => {
                    let v = list(&mut s);
                    s.conditions.push((k.to_string(), if vals.is_empty() { vec!["True".into()] } else { v }));
                }
            }
        }
        if let Some(n) = &s.name
            && self.rules.iter().any(|r| r.alive && r.spec.name.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(n)))
        {
            s.problems.push(format!("a rule named `{n}` was already created above; New-NetFirewallRule fails"));
        }
        self.rules.push(Created { spec: s, alive: true });
    }

    fn set_profile(&mut self, args: &Args, line: usize, conditional: bool, piped: bool) {
        let mut fail =
            |m: String| self.problems.push(Problem { line, message: format!("Set-NetFirewallProfile: {m}") });
        if conditional {
            fail("inside a script block (a condition, loop or function): whether it runs is not known".into());
            return;
        }
        let mut which: Option<u8> = None;
        let mut settings = Vec::new();
        for (p, vals, _) in &args.params {
            match resolve(p, SET_PROFILE) {
                None => {
                    fail(format!("unknown parameter -{p}"));
                    return;
                }
                Some("Name" | "Profile") => match texts(vals).map(|v| profile_bits(&v)) {
                    Ok(Ok(bits)) => which = Some(which.unwrap_or(0) | bits),
                    Ok(Err(e)) => {
                        fail(format!("-{p}: {e}"));
                        return;
                    }
                    Err(e) => {
                        fail(format!("-{p} is {e}: which profiles it sets is not known"));
                        return;
                    }
                },
                Some("All") => which = Some(ALL_PROFILES),
                Some("PolicyStore") => match one("PolicyStore", vals) {
                    Ok(v) if eq(&v, "PersistentStore") || eq(&v, "localhost") => {}
                    Ok(v) => {
                        fail(format!("-PolicyStore {v}: the settings go into Group Policy"));
                        return;
                    }
                    Err(e) => {
                        fail(e);
                        return;
                    }
                },
                Some(k @ ("GPOSession" | "CimSession" | "WhatIf")) => {
                    fail(format!("-{k}: the settings are not made on this host by this command"));
                    return;
                }
                Some(k @ ("Enabled" | "DefaultInboundAction" | "DefaultOutboundAction" | "AllowInboundRules")) => {
                    match one(k, vals) {
                        Ok(v) => settings.push((k, v)),
                        Err(e) => {
                            fail(e);
                            return;
                        }
                    }
                }
                Some("DisabledInterfaceAliases") => {
                    let v = texts(vals).unwrap_or_else(|_| vec!["(not a literal)".into()]);
                    settings.push(("DisabledInterfaceAliases", v.join(", ")));
                }
                Some(_) => {}
            }
        }
        match which {
            None if piped => fail("the profiles come from pipeline input: which profiles it sets is not known".into()),
            None => fail("no -Profile or -All: which profiles it sets is not known".into()),
            Some(bits) => {
                for (k, name) in PROFILES.iter().enumerate().filter(|(k, _)| bits & (1 << k) != 0) {
                    for (key, v) in &settings {
                        if let Err(e) = profile_setting(&mut self.profiles[k], key, v) {
                            fail(format!("{name} profile: {e}"));
                        }
                    }
                }
            }
        }
    }
}

/// Commands whose arguments the interpreter reads (so their tokens are not statements).
pub(super) fn is_firewall_command(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.contains("netfirewall") || l == "netsh" || l == "netsh.exe"
}

/// zonecheck's own PowerShell script, or any script of the same shape: the rules its
/// `New-NetFirewallRule` commands leave in place and its `Set-NetFirewallProfile`
/// settings of the three profiles.
pub(crate) fn read_script(text: &str, ifaces: &mut Ifaces) -> Ruleset {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let toks = match lex(text) {
        Ok(t) => t,
        Err((line, why)) => {
            return unreadable(
                Problem {
                    line,
                    message: format!("the script does not parse ({why}); PowerShell would run none of it"),
                },
                ifaces,
            );
        }
    };
    let mut interp = Interp {
        toks: &toks,
        vars: HashMap::new(),
        rules: Vec::new(),
        profiles: Default::default(),
        problems: Vec::new(),
    };
    interp.run();
    let specs: Vec<Spec> = interp.rules.into_iter().filter(|r| r.alive).map(|r| r.spec).collect();
    let mut problems = interp.problems;
    problems.sort_by_key(|p| p.line);
    let mut rs = assemble(&specs, &interp.profiles, problems, ifaces);
    rs.problems.sort_by_key(|p| p.line);
    rs
}
