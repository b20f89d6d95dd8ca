//! The line-oriented CLIs: Cisco IOS-XE, Arista EOS and Aruba AOS-CX.
//!
//! Lines are read the way the device reads a paste: a mode command (`ip access-list …`,
//! `interface …`) enters a mode, a line valid in the mode applies there, and any other
//! line is a global command (which leaves the mode). IOS also reads `show running-config`:
//! sections that hold no filtering state (hostname, vlan, lines, router, banners…) are
//! skipped with their indented lines; EOS and AOS-CX are read in the shapes zonecheck
//! writes, and any other line is a problem.

use std::collections::HashMap;

use super::{Builder, Dialect, one_line};

mod entry;
use crate::check::read::{Action, Origin, Rule};
use entry::{entry, standard};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Extended,
    /// IOS standard ACLs: source address only.
    Standard,
}

#[derive(Clone, Debug)]
enum Mode {
    Global,
    Acl {
        idx: usize,
        v6: bool,
        kind: Kind,
    },
    /// An ACL the reader does not read (one problem said so): its lines are skipped.
    Unread,
    /// An interface: its spellings (canonical first) and how the file wrote it.
    Iface {
        spellings: Vec<String>,
        shown: String,
    },
    /// A section without filtering state (IOS): its indented lines are skipped.
    Skip,
    /// An IOS QoS `policy-map`: its classes, and which of them drop or police.
    PolicyMap {
        name: String,
    },
    /// An IOS QoS `class-map`: what it matches.
    ClassMap {
        name: String,
    },
    /// IOS `line vty A B`: the vty lines' `access-class` (index into `Reader::vty`).
    Vty(usize),
    /// EOS `management ssh|telnet` (its TCP port) or `system control-plane` (`None`): the
    /// ACLs on packets to the switch itself.
    Service(Option<u16>),
    /// An IOS section that can hold interface commands (`template`, `vlan configuration`):
    /// a binding there is a problem, since the reader does not follow where it applies.
    Bindings {
        header: String,
    },
}

struct Reader<'a> {
    d: Dialect,
    b: &'a mut Builder,
    mode: Mode,
    /// The last remark or comment of the current ACL: the comment of the entries after it.
    remark: Option<String>,
    /// IOS QoS policy-maps by name.
    policy_maps: HashMap<String, PolicyMap>,
    /// IOS QoS class-maps by name.
    class_maps: HashMap<String, ClassMap>,
    /// IOS `service-policy` bindings on interfaces.
    service_policies: Vec<Attachment>,
    /// IOS CBAC: per `ip inspect name`, the protocols it inspects (line, protocol).
    inspect_names: HashMap<String, Vec<(usize, String)>>,
    /// IOS `ip inspect NAME in|out` on interfaces.
    inspections: Vec<Attachment>,
    /// IOS vty line ranges with their IPv4 and IPv6 `access-class … in`.
    vty: Vec<VtyLines>,
}

/// One `line vty A B` section.
struct VtyLines {
    shown: String,
    line: usize,
    /// (ACL, where it is bound) for IPv4 and IPv6.
    class: [Option<(String, Origin)>; 2],
}

/// A `service-policy` or `ip inspect` on an interface.
struct Attachment {
    line: usize,
    /// The policy-map or inspection name.
    name: String,
    /// `input`/`in` (else output).
    inbound: bool,
    text: String,
    spellings: Vec<String>,
    shown: String,
}

/// An IOS QoS policy-map: its classes in order.
#[derive(Default)]
struct PolicyMap {
    classes: Vec<PmClass>,
}

struct PmClass {
    name: String,
    line: usize,
    /// Its `drop` line.
    drop: Option<usize>,
    /// Its first `police` line and text (police drops part of the class's packets, by rate).
    police: Option<(usize, String)>,
}

/// An IOS QoS class-map.
struct ClassMap {
    /// `match-any` (else `match-all`, the default).
    any: bool,
    matches: Vec<ClassMatch>,
}

#[derive(Clone)]
enum ClassMatch {
    /// `match access-group name X`, `match access-group N`: the packets ACL X permits.
    Acl(String),
    /// `match any`.
    Any,
    /// Anything else (DSCP, NBAR protocols, …), with its line and text: not modelled.
    Other(usize, String),
}

pub(super) fn read(d: Dialect, text: &str, b: &mut Builder) {
    let lines: Vec<&str> = text.lines().collect();
    let mut r = Reader {
        d,
        b,
        mode: Mode::Global,
        remark: None,
        policy_maps: HashMap::new(),
        class_maps: HashMap::new(),
        service_policies: Vec::new(),
        inspect_names: HashMap::new(),
        inspections: Vec::new(),
        vty: Vec::new(),
    };
    let mut i = 0;
    while i < lines.len() {
        let (n, raw) = (i + 1, lines[i]);
        i += 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('!') {
            continue;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        let indented = raw.starts_with(char::is_whitespace);
        // IOS banners and macros are free text up to a delimiter: they may hold anything.
        if d == Dialect::CiscoIos && !matches!(r.mode, Mode::Acl { .. }) {
            if words[0] == "banner" {
                i = banner_end(&lines, i - 1, &words);
                r.mode = Mode::Global;
                continue;
            }
            if words.starts_with(&["macro", "name"]) {
                while i < lines.len() && lines[i].trim() != "@" {
                    i += 1;
                }
                i += 1;
                r.mode = Mode::Global;
                continue;
            }
        }
        r.line(n, t, &words, indented);
    }
    r.service_policies();
    r.inspections();
    r.vty_lines();
    complete(d, &lines, r.b);
}

/// Refuse a configuration cut off before its end: an IOS or EOS running-config (or an IOS
/// file zonecheck wrote) ends with `end`, an EOS configuration session with `commit`. A
/// file without any of their marks (hand-written lines to paste) has no end to miss.
fn complete(d: Dialect, lines: &[&str], b: &mut Builder) {
    let significant = |l: &&str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('!')
    };
    let has = |f: &dyn Fn(&str) -> bool| lines.iter().any(|l| f(l.trim_end()));
    let want = match d {
        Dialect::CiscoIos
            if has(&|l| {
                l.starts_with("Building configuration")
                    || l.starts_with("Current configuration")
                    || l.starts_with("! zonecheck ")
                    || l.starts_with("version ")
                    || l.starts_with("hostname ")
            }) =>
        {
            "end"
        }
        Dialect::AristaEos
            if has(&|l| l.starts_with("! Command: show running-config") || l.starts_with("! device:")) =>
        {
            "end"
        }
        Dialect::AristaEos if has(&|l| l.trim_start().starts_with("configure session")) => "commit",
        _ => return,
    };
    let last = lines.iter().rposition(significant);
    if last.is_none_or(|i| lines[i].trim() != want) {
        let line = last.map_or(lines.len(), |i| i + 1);
        let what = if want == "end" { "a running-config" } else { "a configuration session" };
        b.incomplete = Some(super::Problem {
            line,
            message: format!("{what} ends with `{want}`, and this file stops before it (last line read: {line})"),
        });
    }
}

/// The index of the line after an IOS banner that starts on line `start`:
/// `banner [kind] <d>text<d>`, the delimiter one character or `^C`.
fn banner_end(lines: &[&str], start: usize, words: &[&str]) -> usize {
    const KINDS: [&str; 7] = ["exec", "incoming", "login", "motd", "prompt-timeout", "slip-ppp", "config-save"];
    let Some(first) = words.get(if words.get(1).is_some_and(|k| KINDS.contains(k)) { 2 } else { 1 }) else {
        return start + 1;
    };
    let delim: String = if first.starts_with("^C") { "^C".into() } else { first.chars().take(1).collect() };
    // The rest of the first line after the opening delimiter.
    let line = lines[start];
    let after = line.find(first).map_or("", |p| &line[p + delim.len()..]);
    if after.contains(delim.as_str()) {
        return start + 1;
    }
    let mut j = start + 1;
    while j < lines.len() {
        if lines[j].contains(delim.as_str()) {
            return j + 1;
        }
        j += 1;
    }
    j
}

/// Lines that belong to an ACL's mode.
fn is_acl_line(w: &[&str]) -> bool {
    matches!(
        w.first(),
        Some(
            &("permit"
                | "deny"
                | "remark"
                | "comment"
                | "sequence"
                | "dynamic"
                | "evaluate"
                | "no"
                | "statistics"
                | "counters")
        )
    ) || w.first().is_some_and(|x| x.bytes().all(|b| b.is_ascii_digit()))
}

/// Text after the first `k` words of `t`.
fn rest_after(t: &str, k: usize) -> &str {
    let mut s = t.trim_start();
    for _ in 0..k {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        s = s[end..].trim_start();
    }
    s.trim_end()
}

fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not a {what}"));
    }
    s.parse().map_err(|_| format!("{what} `{s}` is out of range"))
}

impl Reader<'_> {
    fn line(&mut self, n: usize, t: &str, w: &[&str], indented: bool) {
        let ios = self.d == Dialect::CiscoIos;
        match self.mode.clone() {
            Mode::Skip if indented => return,
            Mode::PolicyMap { name } if indented => {
                let pm = self.policy_maps.entry(name).or_default();
                match (w, pm.classes.last_mut()) {
                    (["class", class, ..], _) => {
                        pm.classes.push(PmClass { name: class.to_string(), line: n, drop: None, police: None })
                    }
                    (["drop"], Some(c)) => c.drop = Some(n),
                    (["police", ..], Some(c)) if c.police.is_none() => c.police = Some((n, one_line(t))),
                    // Marking, queueing, shaping, descriptions: no packet's fate.
                    _ => {}
                }
                return;
            }
            Mode::ClassMap { name } if indented => {
                let m = match w {
                    ["match", "access-group", "name", acl] => ClassMatch::Acl(acl.to_string()),
                    ["match", "access-group", acl] => ClassMatch::Acl(acl.to_string()),
                    ["match", "any"] => ClassMatch::Any,
                    ["description", ..] => return,
                    _ => ClassMatch::Other(n, one_line(t)),
                };
                if let Some(c) = self.class_maps.get_mut(&name) {
                    c.matches.push(m);
                }
                return;
            }
            Mode::Bindings { header } if indented => {
                if self.is_binding(w) || ios_forwarding(w).is_some() || w.starts_with(&["service-policy"]) {
                    self.unmodelled(
                        n,
                        t,
                        &format!("`{}` under `{header}` (the reader does not follow where it applies)", one_line(t)),
                    );
                }
                return;
            }
            Mode::Acl { .. } | Mode::Unread if w == ["exit"] => {
                self.mode = Mode::Global;
                return;
            }
            Mode::Acl { idx, v6, kind } if is_acl_line(w) || indented && ios => {
                self.acl_line(n, t, w, idx, v6, kind);
                return;
            }
            Mode::Unread if is_acl_line(w) || indented => return,
            Mode::Vty(k) if indented => {
                let (v6, name) = match w {
                    ["access-class", name, "in", ..] => (false, name),
                    ["ipv6", "access-class", name, "in", ..] => (true, name),
                    // Transport, login, timeouts, outgoing `access-class … out`: which
                    // sessions reach the switch is what `in` decides.
                    _ => return,
                };
                let origin = origin(n, t, &format!("line vty {}", self.vty[k].shown));
                self.vty[k].class[usize::from(v6)] = Some((name.to_string(), origin));
                return;
            }
            Mode::Service(port) if indented => {
                let point = match port {
                    Some(p) => super::InputPoint::Terminal { lo: p, hi: p, vty: false },
                    None => super::InputPoint::ControlPlane,
                };
                match w {
                    [fam @ ("ip" | "ipv6"), "access-group", name, "in"]
                    | [fam @ ("ip" | "ipv6"), "access-group", name, "vrf", "default", "in"] => {
                        let origin = origin(n, t, if port.is_some() { "management" } else { "control-plane" });
                        self.b.bind_input(point, *fam == "ipv6", name, origin);
                    }
                    ["ip" | "ipv6", "access-group", ..] => {
                        self.b.problem(n, format!("`{}` (another VRF or direction) is not modelled", one_line(t)))
                    }
                    // Timeouts, authentication, shutdown: no packet's fate by address.
                    _ => {}
                }
                return;
            }
            Mode::Iface { .. } if w == ["exit"] => {
                self.mode = Mode::Global;
                return;
            }
            Mode::Iface { spellings, shown } if self.is_binding(w) => {
                self.binding(n, t, w, spellings, &shown);
                return;
            }
            Mode::Iface { spellings, shown } if indented && ios => {
                let attach = |name: &str, inbound: bool| Attachment {
                    line: n,
                    name: name.to_string(),
                    inbound,
                    text: one_line(t),
                    spellings: spellings.clone(),
                    shown: shown.clone(),
                };
                if let ["service-policy", .., dir @ ("input" | "output"), name] = w {
                    self.service_policies.push(attach(name, *dir == "input"));
                } else if let ["ip", "inspect", name, dir @ ("in" | "out")] = w {
                    self.inspections.push(attach(name, *dir == "in"));
                } else if let Some(what) = ios_forwarding(w) {
                    self.unmodelled(n, t, what);
                }
                // Other interface settings (addresses, descriptions, switchport…) filter
                // nothing.
                return;
            }
            Mode::Iface { .. } if indented => {
                self.b.problem(n, format!("unknown interface command `{}`", one_line(t)));
                return;
            }
            _ => {}
        }
        self.mode = Mode::Global;
        match self.d {
            Dialect::CiscoIos => self.global_ios(n, t, w),
            Dialect::AristaEos => self.global_eos(n, t, w),
            _ => self.global_cx(n, t, w),
        }
    }

    /// The vty lines' `access-class`: a session gets whichever line is free, so the lines
    /// must agree for the reader to know what a session meets; a range without one
    /// accepts every session.
    fn vty_lines(&mut self) {
        let vty = std::mem::take(&mut self.vty);
        for v6 in [false, true] {
            let classes: Vec<Option<&(String, Origin)>> =
                vty.iter().map(|l| l.class[usize::from(v6)].as_ref()).collect();
            let Some(Some((name, origin))) = classes.first() else {
                if let Some(k) = classes.iter().position(Option::is_some) {
                    self.mixed_vty(&vty, k, v6);
                }
                continue;
            };
            match classes.iter().position(|c| c.is_none_or(|(other, _)| other != name)) {
                Some(k) => self.mixed_vty(&vty, k, v6),
                None => {
                    let (lo, hi) = (22, 23);
                    self.b.bind_input(super::InputPoint::Terminal { lo, hi, vty: true }, v6, name, origin.clone());
                }
            }
        }
    }

    fn mixed_vty(&mut self, vty: &[VtyLines], k: usize, v6: bool) {
        let fam = if v6 { "ipv6 access-class" } else { "access-class" };
        self.b.problem(
            vty[k].line,
            format!(
                "the vty lines differ in their `{fam} … in` (line vty {} and line vty {}): a session gets whichever line is free, which is not modelled",
                vty[0].shown, vty[k].shown
            ),
        );
    }

    /// A construct that can change which packets pass and that the reader does not model.
    fn unmodelled(&mut self, n: usize, t: &str, what: &str) {
        self.b.problem(n, format!("{what} is not modelled: `{}`", one_line(t)));
    }

    /// Each `service-policy` on an interface: a QoS policy-map that only marks or queues
    /// decides no packet's fate and is left aside. One whose classes `drop` is modelled on
    /// input: the packets of a dropping class (those no earlier class took) are dropped, so
    /// every class up to the last dropping one must match on what the reader models (ACLs,
    /// `match any`, `class-default`). Policing (drops part of a class, by rate), drops on
    /// output, other matches before a drop and a policy-map not in the file are not modelled.
    fn service_policies(&mut self) {
        for a in std::mem::take(&mut self.service_policies) {
            let (n, name, text) = (a.line, &a.name, &a.text);
            let Some(pm) = self.policy_maps.get(name) else {
                self.b.problem(
                    n,
                    format!(
                        "`{text}`: policy-map {name} is not in the file, so what it drops is unknown; not modelled"
                    ),
                );
                continue;
            };
            if let Some((line, what)) = pm.classes.iter().find_map(|c| c.police.clone()) {
                self.b.problem(
                    n,
                    format!(
                        "a QoS policy that polices (drops part of a class, by rate) is not modelled: `{text}` (policy-map {name}, line {line}: `{what}`)"
                    ),
                );
                continue;
            }
            let Some(last) = pm.classes.iter().rposition(|c| c.drop.is_some()) else { continue };
            if !a.inbound {
                let line = pm.classes[last].drop.unwrap_or(0);
                self.b.problem(
                    n,
                    format!(
                        "a QoS policy that drops on output is not modelled: `{text}` (policy-map {name}, line {line}: `drop`)"
                    ),
                );
                continue;
            }
            let mut classes = Vec::new();
            let mut refused = None;
            for c in &pm.classes[..=last] {
                let matches = if c.name == "class-default" {
                    vec![ClassMatch::Any]
                } else {
                    match self.class_maps.get(&c.name) {
                        None => {
                            refused = Some(format!("class-map {} (line {}) is not in the file", c.name, c.line));
                            break;
                        }
                        Some(cm) if !cm.any && cm.matches.len() > 1 => {
                            refused = Some(format!("class-map {} is match-all with several criteria", c.name));
                            break;
                        }
                        Some(cm) => cm.matches.clone(),
                    }
                };
                if let Some(ClassMatch::Other(line, what)) = matches.iter().find(|m| matches!(m, ClassMatch::Other(..)))
                {
                    refused = Some(format!("class-map {} matches on `{what}` (line {line})", c.name));
                    break;
                }
                let acls = matches
                    .into_iter()
                    .filter_map(|m| match m {
                        ClassMatch::Acl(x) => Some(Some(x)),
                        ClassMatch::Any => Some(None),
                        ClassMatch::Other(..) => None,
                    })
                    .collect();
                classes.push(super::QosClass { name: c.name.clone(), line: c.line, drop: c.drop.is_some(), acls });
            }
            match refused {
                Some(why) => self.b.problem(
                    n,
                    format!("a QoS policy that drops is not modelled here: `{text}` (policy-map {name}: {why})"),
                ),
                None => {
                    let origin = origin(n, text, &format!("interface {}", a.shown));
                    self.b.qos(a.spellings.clone(), name, classes, origin);
                }
            }
        }
    }

    /// Each `ip inspect NAME in|out` on an interface (CBAC): the answers to the TCP and UDP
    /// connections it inspects pass, whatever the ACLs say. Inspection of other protocols
    /// (ICMP, and the application inspections that open data channels: ftp, h323, sip…),
    /// and an inspection not defined in the file, are not modelled.
    fn inspections(&mut self) {
        for a in std::mem::take(&mut self.inspections) {
            let (n, name, text) = (a.line, &a.name, &a.text);
            let Some(protos) = self.inspect_names.get(name) else {
                self.b.problem(
                    n,
                    format!(
                        "`{text}`: ip inspect name {name} is not in the file, so what it lets back is unknown; not modelled"
                    ),
                );
                continue;
            };
            if let Some((line, p)) = protos.iter().find(|(_, p)| !matches!(p.as_str(), "tcp" | "udp")) {
                self.b.problem(
                    n,
                    format!(
                        "stateful inspection of {p} (CBAC, `ip inspect name {name} {p}`, line {line}) is not modelled: `{text}`"
                    ),
                );
                continue;
            }
            let protos: Vec<u8> = protos.iter().map(|(_, p)| if p == "tcp" { 6 } else { 17 }).collect();
            let origin = origin(n, text, &format!("interface {}", a.shown));
            self.b.inspect(a.spellings.clone(), a.inbound, &protos, origin);
        }
    }

    fn enter(&mut self, name: &str, v6: bool, kind: Kind, n: usize) {
        let idx = self.b.acl(name, v6, n);
        self.mode = Mode::Acl { idx, v6, kind };
        self.remark = None;
    }

    fn unread(&mut self, n: usize, name: Option<&str>, v6: bool, what: &str) {
        self.b.problem(n, format!("{what} is not modelled; its entries are left out"));
        if let Some(name) = name {
            self.b.unread(name, v6);
        }
        self.mode = Mode::Unread;
    }

    fn iface(&mut self, spellings: Vec<String>, shown: &str) {
        self.mode = Mode::Iface { spellings, shown: shown.to_string() };
    }

    fn global_ios(&mut self, n: usize, t: &str, w: &[&str]) {
        match w {
            ["ip", "access-list", "extended", name] => self.enter(name, false, Kind::Extended, n),
            ["ip", "access-list", "standard", name] => self.enter(name, false, Kind::Standard, n),
            // Logging of ACL hits: no filtering.
            ["ip" | "ipv6", "access-list", "logging" | "log-update", ..] => self.mode = Mode::Skip,
            ["ip", "access-list", kind, rest @ ..] => {
                self.unread(n, rest.last().copied(), false, &format!("`ip access-list {kind}`"))
            }
            ["ipv6", "access-list", name] => self.enter(name, true, Kind::Extended, n),
            ["ipv6", "access-list", ..] => self.unread(n, w.last().copied(), true, &format!("`{}`", one_line(t))),
            ["access-list", num, rest @ ..] => self.numbered(n, t, num, rest),
            // What changes forwarding beyond ACLs (docs/check-coverage.md).
            ["zone", "security", ..] | ["zone-pair", "security", ..] => {
                self.unmodelled(n, t, "the zone-based firewall (`zone security`, `zone-pair security`)");
                self.mode = Mode::Skip;
            }
            ["ip", "nat", kind, ..] if !matches!(*kind, "pool" | "translation" | "log" | "settings") => {
                self.unmodelled(n, t, "NAT (`ip nat`) rewrites the addresses the ACLs and the policy see")
            }
            ["parameter-map", "type", "inspect" | "inspect-global", ..] => self.mode = Mode::Skip,
            ["policy-map", "type", ..] => self.mode = Mode::Skip,
            ["policy-map", name] => {
                self.policy_maps.entry(name.to_string()).or_default();
                self.mode = Mode::PolicyMap { name: name.to_string() };
            }
            ["class-map", "type", ..] => self.mode = Mode::Skip,
            ["class-map", kind @ ("match-any" | "match-all"), name] => {
                let any = *kind == "match-any";
                self.class_maps.insert(name.to_string(), ClassMap { any, matches: Vec::new() });
                self.mode = Mode::ClassMap { name: name.to_string() };
            }
            ["class-map", name] => {
                self.class_maps.insert(name.to_string(), ClassMap { any: false, matches: Vec::new() });
                self.mode = Mode::ClassMap { name: name.to_string() };
            }
            // CBAC: what an inspection inspects (its use on an interface is read there).
            ["ip", "inspect", "name", name, proto, ..] => {
                self.inspect_names.entry(name.to_string()).or_default().push((n, proto.to_string()));
            }
            ["template", ..] | ["vlan", "configuration", ..] => self.mode = Mode::Bindings { header: one_line(t) },
            ["line", "vty", first, rest @ ..] => {
                let shown = match rest {
                    [last] => format!("{first} {last}"),
                    _ => first.to_string(),
                };
                self.vty.push(VtyLines { shown, line: n, class: [None, None] });
                self.mode = Mode::Vty(self.vty.len() - 1);
            }
            ["interface", "range", ..] => {
                self.b.problem(n, "`interface range` is not modelled; name each interface");
                self.mode = Mode::Skip;
            }
            ["interface", rest @ ..] if !rest.is_empty() => {
                let name = rest.concat();
                self.iface(spellings(&name), &name);
            }
            // Definitions filter nothing; the entries that use them are problems.
            ["object-group" | "time-range", ..] => self.mode = Mode::Skip,
            ["vlan", "access-map" | "filter", ..] => {
                self.b.problem(n, "VLAN access maps (VACLs) are not modelled");
                self.mode = Mode::Skip;
            }
            ["no", "ip" | "ipv6", "access-list", ..] | ["no", "access-list", ..] => {
                self.b.problem(n, format!("`{}`: removing ACLs is not modelled", one_line(t)))
            }
            ["ip", "access-group", ..] | ["ipv6", "traffic-filter", ..] => {
                self.b.problem(n, format!("`{}` outside an interface", one_line(t)))
            }
            _ if is_acl_line(w) && w[0] != "no" => {
                self.b.problem(n, format!("ACL entry `{}` outside an ACL", one_line(t)))
            }
            ["end" | "exit"] => {}
            // Not filtering state: hostname, vlan, spanning-tree, lines, routing, …
            _ => self.mode = Mode::Skip,
        }
    }

    fn global_eos(&mut self, n: usize, t: &str, w: &[&str]) {
        match w {
            ["configure"] | ["configure", "terminal" | "session"] | ["configure", "session", _] => {}
            ["commit" | "end" | "exit"] => {}
            ["ip" | "ipv6", "access-list", "standard", name] => {
                let v6 = w[0] == "ipv6";
                self.unread(n, Some(name), v6, "a standard ACL")
            }
            ["ip", "access-list", name] => self.enter(name, false, Kind::Extended, n),
            ["ipv6", "access-list", name] => self.enter(name, true, Kind::Extended, n),
            ["interface", name] => self.iface(spellings(name), name),
            ["management", "ssh"] => self.mode = Mode::Service(Some(22)),
            ["management", "telnet"] => self.mode = Mode::Service(Some(23)),
            ["system", "control-plane"] | ["control-plane"] => self.mode = Mode::Service(None),
            ["abort"] => {
                self.b.problem(n, "`abort` discards the configuration session; what stays in effect is unknown")
            }
            _ => self.b.problem(n, format!("unknown line `{}`", one_line(t))),
        }
    }

    fn global_cx(&mut self, n: usize, t: &str, w: &[&str]) {
        match w {
            ["configure"] | ["configure", "terminal"] | ["exit" | "end"] => {}
            ["access-list", "ip", name] => self.enter(name, false, Kind::Extended, n),
            ["access-list", "ipv6", name] => self.enter(name, true, Kind::Extended, n),
            ["access-list", "mac", name] => self.unread(n, Some(name), false, "a MAC ACL"),
            ["interface", kind @ ("vlan" | "lag"), num] if num.bytes().all(|b| b.is_ascii_digit()) => {
                let mut v = vec![format!("{kind}{num}")];
                for k in [kind.to_string(), kind.to_ascii_uppercase(), capitalised(kind)] {
                    for sep in ["", "-", "_"] {
                        v.push(format!("{k}{sep}{num}"));
                    }
                }
                v.dedup();
                self.iface(v, &format!("{kind} {num}"));
            }
            ["interface", port] => self.iface(vec![port.to_string()], port),
            ["apply", "access-list", fam @ ("ip" | "ipv6"), name, "control-plane", "vrf", "default"] => {
                let origin = origin(n, t, "global");
                self.b.bind_input(super::InputPoint::ControlPlane, *fam == "ipv6", name, origin);
            }
            ["apply", "access-list", _, _, "control-plane", ..] => {
                self.b.problem(n, format!("`{}`: a control-plane ACL of another VRF is not modelled", one_line(t)))
            }
            _ => self.b.problem(n, format!("unknown line `{}`", one_line(t))),
        }
    }

    /// IOS numbered ACLs: 1-99 and 1300-1999 standard, 100-199 and 2000-2699 extended.
    /// Each line appends to the ACL.
    fn numbered(&mut self, n: usize, t: &str, num: &str, rest: &[&str]) {
        let kind = match number::<u32>(num, "number") {
            Ok(1..=99 | 1300..=1999) => Kind::Standard,
            Ok(100..=199 | 2000..=2699) => Kind::Extended,
            _ => {
                self.b.problem(n, format!("`access-list {num}`: not a numbered IP ACL; not modelled"));
                self.b.unread(num, false);
                return;
            }
        };
        let idx = self.b.acl(num, false, n);
        if rest.first() == Some(&"remark") {
            self.remark = Some(rest_after(t, 3).to_string());
            return;
        }
        self.acl_line(n, t, rest, idx, false, kind);
    }

    fn acl_line(&mut self, n: usize, t: &str, w: &[&str], idx: usize, v6: bool, kind: Kind) {
        let ios = self.d == Dialect::CiscoIos;
        let (mut seq, body, skipped) = match w {
            [s, rest @ ..] if s.bytes().all(|b| b.is_ascii_digit()) => (Some(s), rest, 1),
            ["sequence", s, rest @ ..] if ios && v6 => (Some(s), rest, 2),
            _ => (None, w, 0),
        };
        let seq_no = match seq.take().map(|s| number::<u64>(s, "sequence number")).transpose() {
            Ok(s) => s,
            Err(e) => return self.b.problem(n, format!("{e}; line left out")),
        };
        match body.first().copied() {
            Some("remark") if self.d != Dialect::ArubaAoscx => {
                // EOS remarks are numbered entries of their own.
                if self.d == Dialect::AristaEos && self.b.seq(idx, seq_no, n).is_none() {
                    return;
                }
                self.remark = Some(rest_after(t, skipped + 1).to_string());
            }
            Some("comment") if self.d == Dialect::ArubaAoscx => {
                self.remark = Some(rest_after(t, skipped + 1).to_string())
            }
            Some("permit" | "deny") => {
                let parsed = match kind {
                    Kind::Extended => entry(self.d, v6, body),
                    Kind::Standard => standard(body),
                };
                match parsed {
                    Ok((permit, m, trailing)) => {
                        let Some(s) = self.b.seq(idx, seq_no.or(trailing), n) else { return };
                        let rule = Rule {
                            matches: m.cubes(),
                            action: if permit { Action::Accept } else { Action::Drop },
                            origin: Origin {
                                line: n,
                                text: one_line(t),
                                handle: Some(s.to_string()),
                                comment: self.remark.clone(),
                                implicit: false,
                                approximate: false,
                            },
                        };
                        self.b.entry(idx, s, rule);
                    }
                    Err(e) => self.b.problem(n, format!("{e}; entry left out: `{}`", one_line(t))),
                }
            }
            Some("statistics" | "counters") if self.d == Dialect::AristaEos => {}
            Some("dynamic") => self.b.problem(n, "dynamic (lock-and-key) entries are not modelled; entry left out"),
            Some("evaluate") => self.b.problem(n, "reflexive ACLs (`evaluate`) are not modelled; entry left out"),
            Some("no") => self.b.problem(n, format!("`{}`: removing entries is not modelled", one_line(t))),
            None => self.b.problem(n, "a sequence number without an entry"),
            Some(_) => self.b.problem(n, format!("unknown ACL line `{}`; left out", one_line(t))),
        }
    }

    fn is_binding(&self, w: &[&str]) -> bool {
        let w = if w.first() == Some(&"no") { &w[1..] } else { w };
        match self.d {
            Dialect::CiscoIos => w.starts_with(&["ip", "access-group"]) || w.starts_with(&["ipv6", "traffic-filter"]),
            Dialect::AristaEos => w.starts_with(&["ip", "access-group"]) || w.starts_with(&["ipv6", "access-group"]),
            _ => w.starts_with(&["apply", "access-list"]),
        }
    }

    fn binding(&mut self, n: usize, t: &str, w: &[&str], spellings: Vec<String>, shown: &str) {
        if w[0] == "no" {
            return self.b.problem(n, format!("`{}`: removing a binding is not modelled", one_line(t)));
        }
        let (v6, rest) = match (self.d, w) {
            (Dialect::ArubaAoscx, [_, _, "ip", rest @ ..]) => (false, rest),
            (Dialect::ArubaAoscx, [_, _, "ipv6", rest @ ..]) => (true, rest),
            (Dialect::ArubaAoscx, _) => return self.b.problem(n, format!("`{}` is not modelled", one_line(t))),
            (_, [fam, _, rest @ ..]) => (*fam == "ipv6", rest),
            _ => return self.b.problem(n, format!("`{}` is not modelled", one_line(t))),
        };
        match rest {
            [name, "in"] | [name, "routed-in"] if rest[1] == "in" || self.d == Dialect::ArubaAoscx => {
                let origin = origin(n, t, &format!("interface {shown}"));
                self.b.bind(spellings, v6, name, origin);
            }
            [_, "out" | "routed-out"] => {
                self.b.problem(n, format!("outbound ACLs are not modelled: `{}`", one_line(t)))
            }
            _ => self.b.problem(n, format!("`{}` is not modelled", one_line(t))),
        }
    }
}

/// An IOS interface command that changes which packets pass and that the reader does not
/// model, in words; `None` for the rest (addresses, descriptions, switchport, NAT
/// markers: the translations themselves are global `ip nat` lines).
fn ios_forwarding(w: &[&str]) -> Option<&'static str> {
    Some(match w {
        ["zone-member", "security", ..] => "the zone-based firewall (`zone-member security`)",
        ["ip" | "ipv6", "inspect", ..] => "stateful inspection (CBAC) other than `ip inspect NAME in|out`",
        ["ip" | "ipv6", "verify", ..] => "unicast RPF or IP source guard (`ip verify`): drops by the routing table",
        ["ip" | "ipv6", "policy", "route-map", ..] => "policy-based routing (`ip policy route-map`)",
        ["ip", "wccp", .., "redirect", _] => "WCCP redirection",
        ["crypto", "map", ..] => "a crypto map (IPsec): traffic it should protect and cannot is dropped",
        ["authentication" | "access-session", "port-control", ..] | ["dot1x", "pae", "authenticator"] => {
            "802.1X: the RADIUS server may apply downloadable ACLs"
        }
        ["mac", "access-group", ..] => "a MAC ACL (`mac access-group`)",
        ["service-policy", "type", ..] => "a typed service-policy",
        _ => return None,
    })
}

/// `Vlan10`, and the spellings of it a policy might use (the CLI's case may differ).
fn spellings(name: &str) -> Vec<String> {
    let mut v = vec![name.to_string(), name.to_ascii_lowercase(), capitalised(&name.to_ascii_lowercase())];
    v.push(name.to_ascii_uppercase());
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// Where a binding was read: its line, and its text after the section it stands in
/// (`interface Vlan10: ip access-group X in`, `line vty 0 4: access-class 10 in`).
fn origin(n: usize, t: &str, section: &str) -> Origin {
    Origin {
        line: n,
        text: one_line(&format!("{section}: {t}")),
        handle: None,
        comment: None,
        implicit: false,
        approximate: false,
    }
}
