//! The nom parser for `.zc` files, with recovery at statement level.
//!
//! Recovery works on two levels. Inside a block, a broken property is reported and the
//! parser skips to the next `;`, newline or `}`; a broken declaration header skips to the
//! next line that starts (in column 0) with a declaration keyword. Either way the damaged
//! item is kept and marked, so resolution can stay quiet about what the parser could not
//! read. The grammar nests only one block deep, so no input can overflow the stack.

use std::borrow::Cow;

use ipnet::IpNet;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1};
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser as _};

use super::ast::*;
use super::date::Date;
use crate::diagnostics::{Code, Diag, FileId, Span, code, did_you_mean, suggest};

/// The parser's error: where, and what was expected there.
#[derive(Debug)]
pub(crate) struct PErr<'a> {
    at: &'a str,
    code: Code,
    message: Cow<'static, str>,
    help: Option<String>,
    /// Length of the offending text (0 = point at the position).
    len: usize,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        PErr {
            at: input,
            code: code::SYNTAX_UNEXPECTED,
            message: Cow::Owned(format!("unexpected input ({})", kind.description())),
            help: None,
            len: 0,
        }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        // Keep the error that got further into the input.
        if other.at.len() < self.at.len() { other } else { self }
    }
}

type R<'a, T> = IResult<&'a str, T, PErr<'a>>;

mod tokens;
pub(crate) use tokens::scan_comments;

fn fail<'a, T>(err: PErr<'a>) -> R<'a, T> {
    Err(nom::Err::Failure(err))
}

/// Horizontal white space and comments (never a newline).
fn ws(i: &str) -> &str {
    let mut i = i;
    loop {
        let trimmed = i.trim_start_matches([' ', '\t', '\r']);
        if let Some(rest) = trimmed.strip_prefix('#') {
            let end = rest.find('\n').unwrap_or(rest.len());
            i = rest.get(end..).unwrap_or("");
        } else {
            return trimmed;
        }
    }
}

/// White space, comments and newlines.
fn ws_nl(i: &str) -> &str {
    let mut i = i;
    loop {
        let next = ws(i).trim_start_matches('\n');
        if next.len() == i.len() {
            return next;
        }
        i = next;
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// A raw word: letters, digits, `_`, `-` — but a `-` that starts `->` ends it.
fn raw_word(i: &str) -> R<'_, &str> {
    let mut end = 0;
    for (idx, c) in i.char_indices() {
        if c == '-' && i.get(idx + 1..).is_some_and(|r| r.starts_with('>')) {
            break;
        }
        if !is_word_char(c) {
            break;
        }
        end = idx + c.len_utf8();
    }
    if end == 0 {
        return Err(nom::Err::Error(PErr::from_error_kind(i, ErrorKind::AlphaNumeric)));
    }
    Ok((i.get(end..).unwrap_or(""), i.get(..end).unwrap_or("")))
}

fn valid_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Describe what stands at `i`, for "found …" in messages.
fn found(i: &str) -> String {
    match i.chars().next() {
        None => "end of file".into(),
        Some('\n') => "end of line".into(),
        Some(c) if is_word_char(c) => {
            let w: String = i.chars().take_while(|c| is_word_char(*c)).take(40).collect();
            format!("`{w}`")
        }
        Some('"') => "a string".into(),
        Some(c) => format!("`{}`", c.escape_debug()),
    }
}

fn found_len(i: &str) -> usize {
    match i.chars().next() {
        None | Some('\n') => 0,
        Some(c) if is_word_char(c) => {
            i.char_indices().take_while(|(_, c)| is_word_char(*c)).map(|(n, c)| n + c.len_utf8()).last().unwrap_or(0)
        }
        Some(c) => c.len_utf8(),
    }
}

fn expected<'a>(i: &'a str, what: &str) -> PErr<'a> {
    PErr {
        at: i,
        code: code::SYNTAX_UNEXPECTED,
        message: Cow::Owned(format!("expected {what}, found {}", found(i))),
        help: None,
        len: found_len(i),
    }
}

fn err_at<'a>(i: &'a str, len: usize, code: Code, message: impl Into<String>) -> PErr<'a> {
    PErr { at: i, code, message: Cow::Owned(message.into()), help: None, len }
}

impl<'a> PErr<'a> {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// True if `i` starts with `word` as a whole word.
fn at_word(i: &str, word: &str) -> bool {
    i.strip_prefix(word).is_some_and(|rest| !rest.chars().next().is_some_and(is_word_char))
}

/// Quotes that word processors substitute for `"`.
const TYPOGRAPHIC_QUOTES: [char; 7] = ['“', '”', '„', '«', '»', '‘', '’'];

/// Give an error without a specific help line the general one `help` computes.
fn with_help<'a>(e: nom::Err<PErr<'a>>, help: impl FnOnce() -> Option<String>) -> nom::Err<PErr<'a>> {
    match e {
        nom::Err::Error(p) | nom::Err::Failure(p) if p.help.is_none() => {
            let help = help();
            nom::Err::Failure(PErr { help, ..p })
        }
        other => other,
    }
}

/// How a declaration is written, for header errors without a sharper help.
fn declaration_syntax(kind: DeclKind) -> &'static str {
    match kind {
        DeclKind::Policy => "`policy \"name\" { owner \"…\"; contact \"…\" }`",
        DeclKind::Class => "`class NAME \"label\" { special; confined }`",
        DeclKind::Zone => "`zone NAME \"label\" { trust closed; net 10.20.10.0/24 }`",
        DeclKind::Service => "`service NAME \"label\" { tcp/443; encrypted }`",
        DeclKind::System => "`system NAME \"label\" { zone ZONE; address 10.20.10.10 }`",
        DeclKind::Group => "`group NAME { a, b }`",
        DeclKind::Flow => "`flow FROM -> TO : SERVICE, … \"documented need\"`",
        DeclKind::Firewall => "`firewall NAME \"label\" { target nftables; interface eth0 zone ZONE }`",
        DeclKind::Switch => "`switch NAME \"label\" { target cisco-ios; interface Vlan10 zone ZONE }`",
    }
}

/// How a property is written, for errors inside it without a sharper help.
fn property_syntax(kind: DeclKind, word: &str) -> Option<&'static str> {
    Some(match (kind, word) {
        (DeclKind::Group, _) => "`group NAME { a, b }`, members separated by `,`",
        (_, "owner") => "`owner \"name\"`",
        (_, "contact") => "`contact \"address\"`",
        (_, "description") => "`description \"text\"`",
        (_, "confined") => "`confined` or `confined to ZONE, …`",
        (_, "net") => "`net 10.20.10.0/24, fd20:20:10::/64`",
        (DeclKind::Service, "tcp" | "udp" | "icmp" | "icmpv6" | "proto" | "any") => {
            "`tcp/443, udp/49152-65535, icmp/echo-request`"
        }
        (_, "zone") => "`zone ZONE`",
        (_, "address") => "`address 10.20.10.10, fd20:20:10::10`",
        (_, "holds") => "`holds CLASS, …`",
        (_, "vendor") => "`vendor \"name\"`",
        (_, "dpa") => "`dpa \"agreement reference\"`",
        (_, "region") => "`region eea` or `region NAME`",
        (_, "allow") => "`allow LINT because \"why\"` (then optionally `owner \"who\"` and `until YYYY-MM-DD`)",
        (_, "carries") => "`carries CLASS, … because \"why\"` or `carries none because \"why\"`",
        (_, "export") => "`export CLASS basis \"legal basis\"`",
        (_, "require") => "`require mfa` or `require encrypted`",
        (DeclKind::Flow, "encrypted") => "`encrypted payload \"how\"`",
        (_, "interface") => "`interface NAME zone ZONE, …` (quote a name with other characters: `\"Gi 1/0/1\"`)",
        (_, "tcam") => "`tcam 4096`",
        _ => return None,
    })
}

struct Parser<'a> {
    src: &'a str,
    file: FileId,
    diags: Vec<Diag>,
}

/// Parse one file. Returns the tree (possibly with damaged items) and every syntax error.
pub(crate) fn parse_file(src: &str, file: FileId) -> (File, Vec<Diag>) {
    let mut p = Parser { src, file, diags: Vec::new() };
    let items = p.items();
    let comments = scan_comments(src, file);
    (File { file, items, comments }, p.diags)
}

impl<'a> Parser<'a> {
    fn off(&self, i: &str) -> usize {
        self.src.len().saturating_sub(i.len())
    }

    fn span(&self, from: &str, to: &str) -> Span {
        Span::new(self.file, self.off(from), self.off(to))
    }

    fn span_len(&self, at: &str, len: usize) -> Span {
        let start = self.off(at);
        Span::new(self.file, start, start + len)
    }

    fn column0(&self, i: &str) -> bool {
        let off = self.off(i);
        off == 0 || self.src.as_bytes().get(off - 1) == Some(&b'\n')
    }

    fn report(&mut self, e: nom::Err<PErr<'a>>) -> &'a str {
        match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => {
                let mut span = self.span_len(e.at, e.len);
                // White space includes the `\r` of a CRLF line ending; "found end of
                // line" points before it, where it would point with LF.
                if e.len == 0
                    && e.at.starts_with('\n')
                    && self.src.get(..self.off(e.at)).is_some_and(|b| b.ends_with('\r'))
                {
                    span = self.span_len(self.src.get(self.off(e.at) - 1..).unwrap_or(""), 0);
                }
                let mut d = Diag::error(e.code, span, e.message.into_owned());
                d.label = if e.code == code::SYNTAX_UNCLOSED_BLOCK {
                    "opened here".into()
                } else if e.len == 0 {
                    "here".into()
                } else {
                    "this".into()
                };
                if let Some(h) = e.help {
                    d.help = h;
                }
                if e.at.starts_with(TYPOGRAPHIC_QUOTES) {
                    d.help =
                        "strings go between straight double quotes `\"…\"`; typographic quotes do not delimit a string"
                            .into();
                }
                self.diags.push(d);
                e.at
            }
            nom::Err::Incomplete(_) => "",
        }
    }

    // ---- top level -------------------------------------------------------------

    fn items(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut i = self.src;
        loop {
            i = ws_nl(i).trim_start_matches(';');
            let j = ws_nl(i);
            if j.len() != i.len() {
                i = j;
                continue;
            }
            if i.is_empty() {
                break;
            }
            match self.item(i) {
                Ok((rest, item)) => {
                    let damaged = item.damaged;
                    items.push(item);
                    let rest = ws(rest);
                    // A block that is never closed stops at the next declaration in
                    // column 0; parsing resumes there, so that declaration is not lost.
                    if rest.is_empty() || rest.starts_with(['\n', ';']) || (damaged && self.column0(rest)) {
                        i = rest;
                    } else {
                        let kind = items.last().map_or(DeclKind::Policy, |it| it.kind);
                        let next = raw_word(rest).map_or("", |(_, w)| w);
                        // `system s zone adm }`: a property where the block should open.
                        let missing_open = property_keywords(kind).contains(&next);
                        let e = err_at(
                            rest,
                            found_len(rest),
                            code::SYNTAX_MISSING_TERMINATOR,
                            format!("expected end of statement, found {}", found(rest)),
                        )
                        .help(if missing_open {
                            format!("the properties of a {} go in a block: `{{ {next} … }}`", kind.noun())
                        } else {
                            "put each declaration on its own line, or separate them with `;`".to_string()
                        });
                        let at = self.report(nom::Err::Failure(e));
                        if let Some(last) = items.last_mut() {
                            last.damaged = true;
                        }
                        // `zone a { … } zone b { … }`: the second declaration is fine, so
                        // parse it instead of skipping the line (and reporting its name unknown).
                        let next_is_declaration = !missing_open && DeclKind::from_keyword(next).is_some();
                        i = if next_is_declaration { at } else { self.recover_top(at) };
                    }
                }
                Err(e) => {
                    let e = with_help(e, || {
                        let kind = DeclKind::from_keyword(raw_word(i).ok()?.1)?;
                        Some(format!("write it as {}", declaration_syntax(kind)))
                    });
                    let at = self.report(e);
                    if let Some(stub) = self.stub_item(i, at) {
                        items.push(stub);
                    }
                    i = self.recover_top(at);
                }
            }
        }
        items
    }

    /// After a broken header, keep what the first two words say ("system epj …"), so that
    /// references to `epj` do not cascade into unknown-name errors.
    fn stub_item(&self, start: &'a str, at: &'a str) -> Option<Item> {
        let (rest, kw) = raw_word(start).ok()?;
        // A misspelt keyword (`sytem epj`) keeps the name under the kind it was meant as.
        let (kind, guessed) = match DeclKind::from_keyword(kw) {
            Some(kind) => (kind, false),
            None => (DeclKind::from_keyword(suggest(kw, DeclKind::ALL.iter().map(|k| k.keyword()))?)?, true),
        };
        if kind == DeclKind::Flow || kind == DeclKind::Policy {
            return None;
        }
        let rest = ws(rest);
        let (after, word) = raw_word(rest).ok()?;
        if !valid_name(word) || (!guessed && after.len() < at.len()) {
            return None;
        }
        let name = Ident { name: word.to_string(), span: self.span(rest, after) };
        Some(Item {
            kind,
            header: Header::Named { name, label: None },
            body: None,
            span: self.span(start, after),
            damaged: true,
        })
    }

    /// Skip to the next line that starts with a declaration keyword in column 0.
    fn recover_top(&self, at: &'a str) -> &'a str {
        let mut i = at;
        loop {
            match i.find('\n') {
                None => return "",
                Some(n) => i = i.get(n + 1..).unwrap_or(""),
            }
            if raw_word(i).is_ok_and(|(_, w)| DeclKind::from_keyword(w).is_some()) {
                return i;
            }
        }
    }

    fn item(&mut self, i: &'a str) -> R<'a, Item> {
        let start = i;
        let (rest, word) =
            raw_word(i).map_err(|_| nom::Err::Failure(expected(i, "a declaration (`zone`, `system`, `flow`, …)")))?;
        let Some(kind) = DeclKind::from_keyword(word) else {
            let hint = did_you_mean(word, DeclKind::ALL.iter().map(|k| k.keyword()));
            let e = err_at(i, word.len(), code::SYNTAX_UNKNOWN_STATEMENT, format!("unknown statement `{word}`"))
                .help(if hint.is_empty() {
                    "a policy consists of policy, class, zone, service, system, group, flow, firewall and switch declarations".to_string()
                } else {
                    hint
                });
            return fail(e);
        };
        let (rest, header) = match kind {
            DeclKind::Policy => {
                let (rest, label) = self.opt_string(rest)?;
                (rest, Header::Policy { label })
            }
            DeclKind::Flow => self.flow_header(rest)?,
            _ => {
                let (rest, name) = self.ident(ws(rest), "a name")?;
                let (rest, label) = self.opt_string(rest)?;
                (rest, Header::Named { name, label })
            }
        };
        let after_header = ws(rest);
        let (rest, body, damaged) =
            if after_header.starts_with('{') { self.block(kind, after_header) } else { (rest, None, false) };
        Ok((rest, Item { kind, header, body, span: self.span(start, rest), damaged }))
    }

    fn opt_string(&mut self, i: &'a str) -> R<'a, Option<Str>> {
        let j = ws(i);
        if j.starts_with('"') {
            let (rest, s) = self.string(j)?;
            Ok((rest, Some(s)))
        } else {
            Ok((i, None))
        }
    }

    fn flow_header(&mut self, i: &'a str) -> R<'a, Header> {
        let (i, from) = self.endpoints(ws(i))?;
        let i = ws(i);
        let (i, _) = tag::<_, _, PErr>("->").parse(i).map_err(|_| nom::Err::Failure(expected(i, "`->`")))?;
        let (i, to) = self.endpoints(ws(i))?;
        let i = ws(i);
        let (i, _) = char::<_, PErr>(':').parse(i).map_err(|_| {
            nom::Err::Failure(
                expected(i, "`:` and the flow's services")
                    .help("a flow is written `flow FROM -> TO : SERVICE, … \"documented need\"`"),
            )
        })?;
        let mut services = Vec::new();
        let mut i = ws(i);
        loop {
            let (rest, svc) = self.service_ref(i)?;
            services.push(svc);
            let j = ws(rest);
            if let Some(after) = j.strip_prefix(',') {
                i = ws_nl(after);
            } else {
                i = j;
                break;
            }
        }
        if !i.starts_with('"') {
            let e = expected(i, "the flow's description (a quoted string)")
                .help("every flow documents its need: `flow a -> b : https \"why this flow exists\"`");
            return fail(e);
        }
        let (i, description) = self.string(i)?;
        Ok((i, Header::Flow { from, to, services, description }))
    }

    fn endpoints(&mut self, i: &'a str) -> R<'a, Endpoints> {
        let start = i;
        if let Some(rest) = i.strip_prefix('[') {
            let (rest, names) = self.ident_list(ws_nl(rest), "a system, zone or group")?;
            let rest = ws_nl(rest);
            let Some(rest) = rest.strip_prefix(']') else {
                if rest.is_empty() || rest.starts_with("->") || rest.starts_with([':', '"', '{']) {
                    return fail(
                        err_at(start, 1, code::SYNTAX_UNCLOSED_BLOCK, "this `[` is never closed")
                            .help("close the list of endpoints with `]`: `[a, b]`"),
                    );
                }
                return fail(expected(rest, "`,` or `]`"));
            };
            Ok((rest, Endpoints { names, bracketed: true, span: self.span(start, rest) }))
        } else {
            let (rest, name) = self.ident(i, "a system, zone, group or `[…]` list")?;
            Ok((rest, Endpoints { names: vec![name], bracketed: false, span: self.span(start, rest) }))
        }
    }

    fn service_ref(&mut self, i: &'a str) -> R<'a, ServiceRef> {
        let (after, word) = raw_word(i).map_err(|_| nom::Err::Failure(expected(i, "a service")))?;
        let inline =
            matches!(word, "tcp" | "udp" | "proto") && after.starts_with('/') || matches!(word, "icmp" | "icmpv6");
        if inline {
            let (rest, item) = self.service_item(i)?;
            Ok((rest, ServiceRef::Inline(item)))
        } else {
            let (rest, name) = self.ident(i, "a service")?;
            Ok((rest, ServiceRef::Named(name)))
        }
    }

    // ---- blocks ----------------------------------------------------------------

    /// `{ … }`; returns the body and whether anything in it was broken.
    fn block(&mut self, kind: DeclKind, i: &'a str) -> (&'a str, Option<Body>, bool) {
        let open = self.span_len(i, 1);
        let mut i = i.get(1..).unwrap_or("");
        let mut props = Vec::new();
        let mut damaged = false;
        loop {
            i = ws_nl(i);
            if let Some(rest) = i.strip_prefix([';', ',']) {
                i = rest;
                continue;
            }
            if let Some(rest) = i.strip_prefix('}') {
                let close = self.span(i, rest);
                return (rest, Some(Body { props, close }), damaged);
            }
            let unclosed = i.is_empty()
                || (self.column0(i)
                    && raw_word(i).is_ok_and(|(_, w)| {
                        DeclKind::from_keyword(w).is_some() && !property_keywords(kind).contains(&w)
                    }));
            if unclosed {
                self.diags.push(
                    Diag::error(
                        code::SYNTAX_UNCLOSED_BLOCK,
                        open,
                        format!("this `{{` of a {} is never closed", kind.noun()),
                    )
                    .label("opened here")
                    .help("add the missing `}`"),
                );
                let close = self.span_len(i, 0);
                return (i, Some(Body { props, close }), true);
            }
            let result = if kind == DeclKind::Group { self.member(i) } else { self.prop(kind, i) };
            match result {
                Ok((rest, prop)) => {
                    props.push(prop);
                    let rest = ws(rest);
                    let separator =
                        if kind == DeclKind::Group { [',', '\n', ';', '}'] } else { ['\n', ';', '}', '\n'] };
                    if rest.is_empty() || rest.starts_with(separator) {
                        i = rest;
                    } else {
                        let what = if kind == DeclKind::Group { "`,` or `}`" } else { "`;`, a newline or `}`" };
                        let e = err_at(
                            rest,
                            found_len(rest),
                            code::SYNTAX_MISSING_TERMINATOR,
                            format!(
                                "expected {what} after {}, found {}",
                                props.last().map_or(String::new(), |p| match &p.kind {
                                    PropKind::Members(m) =>
                                        m.first().map_or(String::new(), |n| format!("`{}`", n.name)),
                                    PropKind::Items(_) => "the service items".to_string(),
                                    other => format!("`{}`", other.keyword()),
                                }),
                                found(rest)
                            ),
                        )
                        .help(if kind == DeclKind::Group {
                            "separate the members of a group with `,`"
                        } else {
                            "separate statements in a block with `;` or a newline"
                        });
                        let at = self.report(nom::Err::Failure(e));
                        damaged = true;
                        i = skip_statement(at);
                    }
                }
                Err(e) => {
                    let word = raw_word(i).map_or("", |(_, w)| w);
                    let e = with_help(e, || property_syntax(kind, word).map(|s| format!("write it as {s}")));
                    let at = self.report(e);
                    damaged = true;
                    i = skip_statement(at);
                }
            }
        }
    }

    fn member(&mut self, i: &'a str) -> R<'a, Prop> {
        let start = i;
        let (rest, name) = self.ident(i, "a system, zone or group")?;
        Ok((rest, Prop { kind: PropKind::Members(vec![name]), span: self.span(start, rest) }))
    }

    fn prop(&mut self, kind: DeclKind, i: &'a str) -> R<'a, Prop> {
        let start = i;
        let (rest, word) =
            raw_word(i).map_err(|_| nom::Err::Failure(expected(i, &format!("a property of the {}", kind.noun()))))?;
        let allowed = property_keywords(kind);
        if !allowed.contains(&word) {
            let hint = did_you_mean(word, allowed.iter().copied());
            let list = allowed.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
            let help = if hint.is_empty() {
                format!("a {} accepts {list}", kind.noun())
            } else {
                format!("{hint} (a {} accepts {list})", kind.noun())
            };
            return fail(
                err_at(
                    i,
                    word.len(),
                    code::SYNTAX_UNKNOWN_PROPERTY,
                    format!("unknown property `{word}` in a {}", kind.noun()),
                )
                .help(help),
            );
        }
        let r = ws(rest);
        let (rest, prop) = match (kind, word) {
            (_, "owner") => self.string(r).map(|(i, s)| (i, PropKind::Owner(s)))?,
            (_, "contact") => self.string(r).map(|(i, s)| (i, PropKind::Contact(s)))?,
            (_, "description") => self.string(r).map(|(i, s)| (i, PropKind::Description(s)))?,
            (_, "special") => (rest, PropKind::Special),
            (_, "confined") => {
                if at_word(r, "to") {
                    let (i, zones) = self.ident_list(ws(r.get(2..).unwrap_or("")), "a zone")?;
                    (i, PropKind::Confined { to: zones })
                } else {
                    (rest, PropKind::Confined { to: Vec::new() })
                }
            }
            (_, "trust") => self.keyword_value::<Trust>(r, "a trust level").map(|(i, v)| (i, PropKind::Trust(v)))?,
            (_, "net") => self.addr_list(r).map(|(i, v)| (i, PropKind::Net(v)))?,
            (DeclKind::Service, "encrypted") => (rest, PropKind::Encrypted),
            (DeclKind::Service, _) => {
                let mut items = Vec::new();
                let mut j = start;
                loop {
                    let (after, item) = self.service_item(j)?;
                    items.push(item);
                    let k = ws(after);
                    match k.strip_prefix(',') {
                        Some(next) => j = ws_nl(next),
                        None => {
                            j = after;
                            break;
                        }
                    }
                }
                (j, PropKind::Items(items))
            }
            (_, "zone") => self.ident(r, "a zone").map(|(i, z)| (i, PropKind::Zone(z)))?,
            (_, "address") => self.addr_list(r).map(|(i, v)| (i, PropKind::Address(v)))?,
            (_, "platform") => {
                self.keyword_value::<Platform>(r, "a platform").map(|(i, v)| (i, PropKind::Platform(v)))?
            }
            (_, "holds") => self.ident_list(r, "a data class").map(|(i, v)| (i, PropKind::Holds(v)))?,
            (_, "role") => self.keyword_value::<Role>(r, "a role").map(|(i, v)| (i, PropKind::Role(v)))?,
            (_, "vendor") => self.string(r).map(|(i, s)| (i, PropKind::Vendor(s)))?,
            (_, "dpa") => self.string(r).map(|(i, s)| (i, PropKind::Dpa(s)))?,
            (_, "region") => {
                let (i, w) = raw_word(r).map_err(|_| nom::Err::Failure(expected(r, "a region (`eea` or a name)")))?;
                if !valid_name(w) {
                    return fail(
                        err_at(r, w.len(), code::SYNTAX_INVALID_NAME, format!("invalid region `{w}`"))
                            .help("regions are `eea` or a lowercase name such as `us`"),
                    );
                }
                let region = if w == "eea" { Region::Eea } else { Region::Other(w.to_string()) };
                (i, PropKind::Region(Spanned { node: region, span: self.span(r, i) }))
            }
            (_, "auth") => {
                self.keyword_value::<Auth>(r, "an authentication kind").map(|(i, v)| (i, PropKind::Auth(v)))?
            }
            (_, "allow") => {
                let (i, lint) = self.ident(r, "a lint name")?;
                let (i, because) = self.keyword_then_string(i, "because", "the reason for the exception")?;
                let (i, (owner, until)) = self.allow_tail(i)?;
                (i, PropKind::Allow { lint, because, owner, until })
            }
            (_, "carries") => {
                let (i, classes, none) = if at_word(r, "none") {
                    (r.get(4..).unwrap_or(""), Vec::new(), true)
                } else if at_word(r, "because") {
                    // `carries because "…"`: `because` is not a class the flow carries.
                    return fail(expected(r, "a data class or `none`"));
                } else {
                    let (i, classes) = self.ident_list(r, "a data class or `none`")?;
                    (i, classes, false)
                };
                let (i, because) = self.keyword_then_string(i, "because", "why the flow carries only these classes")?;
                (i, PropKind::Carries { classes, none, because })
            }
            (_, "export") => {
                let (i, class) = self.ident(r, "a data class")?;
                // `fetched`: the FROM side fetches the class from TO (it moves with the answers).
                let (i, fetched) = match ws(i) {
                    w if at_word(w, "fetched") => (w.get("fetched".len()..).unwrap_or(""), true),
                    _ => (i, false),
                };
                let (i, basis) = self.keyword_then_string(i, "basis", "the legal basis of the export")?;
                (i, PropKind::Export { class, fetched, basis })
            }
            (_, "require") => {
                if at_word(r, "mfa") {
                    (r.get(3..).unwrap_or(""), PropKind::RequireMfa)
                } else if at_word(r, "encrypted") {
                    (r.get(9..).unwrap_or(""), PropKind::RequireEncrypted)
                } else {
                    return fail(expected(r, "`mfa` or `encrypted`"));
                }
            }
            (DeclKind::Flow, "encrypted") => {
                let (i, s) = self.keyword_then_string(r, "payload", "how the payload is encrypted")?;
                (i, PropKind::EncryptedPayload(s))
            }
            (_, "target") => self.keyword_value::<Target>(r, "a target").map(|(i, v)| (i, PropKind::Target(v)))?,
            (_, "interface") => {
                let (i, name, quoted) = if r.starts_with('"') {
                    let (i, s) = self.string(r)?;
                    (i, Spanned { node: s.value, span: s.span }, true)
                } else {
                    let (i, n) = take_while1::<_, _, PErr>(|c: char| !c.is_whitespace() && !"\";#{},[]".contains(c))
                        .parse(r)
                        .map_err(|_| nom::Err::Failure(expected(r, "an interface name")))?;
                    (i, Spanned { node: n.to_string(), span: self.span(r, i) }, false)
                };
                let i = ws(i);
                if !at_word(i, "zone") {
                    return fail(expected(i, "`zone` and the zones behind the interface"));
                }
                let (i, zones) = self.ident_list(ws(i.get(4..).unwrap_or("")), "a zone")?;
                (i, PropKind::Interface { name, quoted, zones })
            }
            (_, "tcam") => {
                let (i, n) = self.number(r)?;
                (i, PropKind::Tcam(Spanned { node: n, span: self.span(r, i) }))
            }
            _ => return fail(expected(start, "a property")),
        };
        Ok((rest, Prop { kind: prop, span: self.span(start, rest) }))
    }

    /// The optional `owner "…"` and `until YYYY-MM-DD` after an `allow`'s reason, in
    /// either order, each at most once.
    fn allow_tail(&mut self, i: &'a str) -> R<'a, (Option<Str>, Option<Spanned<Date>>)> {
        let (mut i, mut owner, mut until) = (i, None, None);
        loop {
            let j = ws(i);
            if owner.is_none() && at_word(j, "owner") {
                let (k, s) = self.string(ws(j.get(5..).unwrap_or("")))?;
                owner = Some(s);
                i = k;
            } else if until.is_none() && at_word(j, "until") {
                let d = ws(j.get(5..).unwrap_or(""));
                let (k, text) = take_while1::<_, _, PErr>(|c: char| !c.is_whitespace() && !"\";#{},[]".contains(c))
                    .parse(d)
                    .map_err(|_| nom::Err::Failure(expected(d, "a date such as `2027-06-30`")))?;
                let Some(date) = Date::parse(text) else {
                    return fail(
                        err_at(d, text.len(), code::SYNTAX_INVALID_DATE, format!("`{text}` is not a date"))
                            .help("write the last day the exception holds as YYYY-MM-DD, e.g. `until 2027-06-30`"),
                    );
                };
                until = Some(Spanned { node: date, span: self.span(d, k) });
                i = k;
            } else {
                return Ok((i, (owner, until)));
            }
        }
    }

    fn keyword_then_string(&mut self, i: &'a str, kw: &'static str, what: &str) -> R<'a, Str> {
        let i = ws(i);
        if !at_word(i, kw) {
            return fail(expected(i, &format!("`{kw}` and {what}")));
        }
        self.string(ws(i.get(kw.len()..).unwrap_or("")))
    }

    fn keyword_value<K: Keyword + PartialEq>(&mut self, i: &'a str, what: &str) -> R<'a, Spanned<K>> {
        let (rest, w) = raw_word(i).map_err(|_| nom::Err::Failure(expected(i, what)))?;
        match K::parse_word(w) {
            Some(v) => Ok((rest, Spanned { node: v, span: self.span(i, rest) })),
            None => {
                let words = K::TABLE.iter().map(|(w, _)| *w);
                let hint = did_you_mean(w, words.clone());
                let list = words.map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
                fail(err_at(i, w.len(), code::SYNTAX_INVALID_VALUE, format!("`{w}` is not {what}")).help(
                    if hint.is_empty() {
                        format!("expected one of {list}")
                    } else {
                        format!("{hint} (expected one of {list})")
                    },
                ))
            }
        }
    }
}

/// Skip the rest of a broken statement: up to the next newline, `;` or `}` outside strings.
fn skip_statement(i: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (idx, c) in i.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                '\n' => return i.get(idx..).unwrap_or(""),
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '\n' | ';' | '}' => return i.get(idx..).unwrap_or(""),
            '#' => {
                let end = i.get(idx..).and_then(|r| r.find('\n')).map_or(i.len(), |n| idx + n);
                return i.get(end..).unwrap_or("");
            }
            _ => {}
        }
    }
    ""
}
