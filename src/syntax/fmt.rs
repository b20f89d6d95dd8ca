//! `zonecheck fmt`: canonical layout, comments kept, idempotent.
//!
//! The layout is a list of printed lines, each remembering the source range it came
//! from. Comments are then woven in by position: a comment that shared a line with code
//! trails the printed line that code became; a comment on its own line goes before the
//! next printed line. Blank lines between top-level declarations are kept (at most one).

use super::ast::*;
use crate::diagnostics::Span;

/// Maximum width of a declaration printed on one line.
const ONE_LINE_WIDTH: usize = 100;
/// Blocks with more properties than this always get one property per line.
const ONE_LINE_PROPS: usize = 3;

struct Line {
    text: String,
    indent: usize,
    start: usize,
    end: usize,
    /// A top-level line (declaration header or one-line declaration).
    top: bool,
    /// A block's closing `}` (own-line comments before it are indented one level deeper).
    close: bool,
}

/// Format one parsed file. `src` is the text it was parsed from (for comment positions).
pub fn format_file(file: &File, src: &str) -> String {
    let mut lines = Vec::new();
    for item in &file.items {
        item_lines(item, file, &mut lines);
    }
    weave(&lines, &file.comments, src)
}

fn weave(lines: &[Line], comments: &[Comment], src: &str) -> String {
    let mut out: Vec<(usize, String)> = Vec::new(); // (indent, text)
    let mut trailing: Vec<Option<String>> = vec![None; lines.len()];
    let mut before: Vec<Vec<&Comment>> = vec![Vec::new(); lines.len() + 1];
    for c in comments {
        let pos = c.span.start as usize;
        // Index of the first line that starts after the comment.
        let next = lines.partition_point(|l| l.start <= pos);
        if !c.own_line && next > 0 {
            let slot = &mut trailing[next - 1];
            if slot.is_none() {
                *slot = Some(c.text.clone());
                continue;
            }
        }
        before[next].push(c);
    }
    let mut prev_end: Option<usize> = None;
    let blank_between = |from: Option<usize>, to: usize| -> bool {
        let Some(from) = from else { return false };
        let gap = src.get(from.min(to)..to).unwrap_or("");
        let mut newlines = 0;
        for ch in gap.chars() {
            match ch {
                '\n' => {
                    newlines += 1;
                    if newlines >= 2 {
                        return true;
                    }
                }
                ' ' | '\t' | '\r' => {}
                _ => newlines = 0,
            }
        }
        false
    };
    for (k, group) in before.iter().enumerate() {
        let line = lines.get(k);
        let indent = match line {
            Some(l) if l.close => l.indent + 1,
            Some(l) => l.indent,
            None => 0,
        };
        for c in group {
            if indent == 0 && blank_between(prev_end, c.span.start as usize) {
                out.push((0, String::new()));
            }
            out.push((indent, format!("#{}", c.text)));
            prev_end = Some(c.span.end as usize);
        }
        if let Some(l) = line {
            // Also after comments: a file's header comment often stands apart from the
            // first declaration.
            if l.top && blank_between(prev_end, l.start) {
                out.push((0, String::new()));
            }
            let mut text = l.text.clone();
            if let Some(Some(t)) = trailing.get(k) {
                text.push_str("  #");
                text.push_str(t);
            }
            out.push((l.indent, text));
            prev_end = Some(l.end);
        }
    }
    let mut s = String::new();
    for (indent, text) in out {
        if !text.is_empty() {
            for _ in 0..indent {
                s.push_str("  ");
            }
            s.push_str(text.trim_end());
        }
        s.push('\n');
    }
    // A file with nothing in it stays empty.
    if s.trim().is_empty() { String::new() } else { s }
}

fn has_comment_inside(file: &File, span: Span) -> bool {
    // Binary search (comments are in source order): a linear scan per item made fmt quadratic.
    let next = file.comments.partition_point(|c| c.span.start <= span.start);
    file.comments.get(next).is_some_and(|c| c.span.start < span.end)
}

fn item_lines(item: &Item, file: &File, lines: &mut Vec<Line>) {
    let header = header_text(item);
    let start = item.span.start as usize;
    let end = item.span.end as usize;
    let Some(body) = &item.body else {
        lines.push(Line { text: header, indent: 0, start, end, top: true, close: false });
        return;
    };
    if body.props.is_empty() {
        lines.push(Line { text: header, indent: 0, start, end, top: true, close: false });
        return;
    }
    let prop_texts: Vec<String> = body.props.iter().map(prop_text).collect();
    let props = if item.kind == DeclKind::Group { 1 } else { prop_texts.len() };
    let sep = if item.kind == DeclKind::Group { ", " } else { "; " };
    let one_line = format!("{header} {{ {} }}", prop_texts.join(sep));
    if props <= ONE_LINE_PROPS && one_line.chars().count() <= ONE_LINE_WIDTH && !has_comment_inside(file, item.span) {
        lines.push(Line { text: one_line, indent: 0, start, end, top: true, close: false });
        return;
    }
    let header_end = body.props.first().map_or(end, |p| p.span.start as usize);
    lines.push(Line { text: format!("{header} {{"), indent: 0, start, end: header_end, top: true, close: false });
    for (prop, text) in body.props.iter().zip(prop_texts) {
        lines.push(Line {
            text,
            indent: 1,
            start: prop.span.start as usize,
            end: prop.span.end as usize,
            top: false,
            close: false,
        });
    }
    lines.push(Line {
        text: "}".into(),
        indent: 0,
        start: body.close.start as usize,
        end: body.close.end as usize,
        top: false,
        close: true,
    });
}

fn header_text(item: &Item) -> String {
    let kw = item.kind.keyword();
    match &item.header {
        Header::Policy { label } => match label {
            Some(l) => format!("{kw} {}", quote(&l.value)),
            None => kw.to_string(),
        },
        Header::Named { name, label } => match label {
            Some(l) => format!("{kw} {} {}", name.name, quote(&l.value)),
            None => format!("{kw} {}", name.name),
        },
        Header::Flow { from, to, services, description } => {
            let services: Vec<String> = services
                .iter()
                .map(|s| match s {
                    ServiceRef::Named(n) => n.name.clone(),
                    ServiceRef::Inline(i) => item_text(&i.node),
                })
                .collect();
            format!(
                "{kw} {} -> {} : {} {}",
                endpoints_text(from),
                endpoints_text(to),
                services.join(", "),
                quote(&description.value)
            )
        }
    }
}

fn endpoints_text(e: &Endpoints) -> String {
    let names = names(&e.names);
    if e.bracketed { format!("[{names}]") } else { names }
}

fn names(ids: &[Ident]) -> String {
    ids.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn addrs(list: &[AddrLit]) -> String {
    list.iter().map(addr_text).collect::<Vec<_>>().join(", ")
}

pub(crate) fn addr_text(a: &AddrLit) -> String {
    if a.has_len { a.net.to_string() } else { a.net.addr().to_string() }
}

/// A string literal with `"` and `\` escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

pub(crate) fn item_text(item: &ServiceItem) -> String {
    let ports = |p: &PortRange| if p.lo == p.hi { p.lo.to_string() } else { format!("{}-{}", p.lo, p.hi) };
    let icmp = |t: &Option<IcmpType>| match t {
        None => String::new(),
        Some(IcmpType::Named(n)) => format!("/{n}"),
        Some(IcmpType::Number(n)) => format!("/{n}"),
    };
    match item {
        ServiceItem::Tcp(p) => format!("tcp/{}", ports(p)),
        ServiceItem::Udp(p) => format!("udp/{}", ports(p)),
        ServiceItem::Icmp(t) => format!("icmp{}", icmp(t)),
        ServiceItem::Icmpv6(t) => format!("icmpv6{}", icmp(t)),
        ServiceItem::Proto(n) => format!("proto/{n}"),
        ServiceItem::Any => "any".into(),
    }
}

fn prop_text(p: &Prop) -> String {
    match &p.kind {
        PropKind::Owner(s) => format!("owner {}", quote(&s.value)),
        PropKind::Contact(s) => format!("contact {}", quote(&s.value)),
        PropKind::Description(s) => format!("description {}", quote(&s.value)),
        PropKind::Special => "special".into(),
        PropKind::Confined { to } if to.is_empty() => "confined".into(),
        PropKind::Confined { to } => format!("confined to {}", names(to)),
        PropKind::Trust(t) => format!("trust {}", t.node.word()),
        PropKind::Net(list) => format!("net {}", addrs(list)),
        PropKind::Items(items) => items.iter().map(|i| item_text(&i.node)).collect::<Vec<_>>().join(", "),
        PropKind::Encrypted => "encrypted".into(),
        PropKind::Zone(z) => format!("zone {}", z.name),
        PropKind::Address(list) => format!("address {}", addrs(list)),
        PropKind::Platform(p) => format!("platform {}", p.node.word()),
        PropKind::Holds(c) => format!("holds {}", names(c)),
        PropKind::Role(r) => format!("role {}", r.node.word()),
        PropKind::Vendor(s) => format!("vendor {}", quote(&s.value)),
        PropKind::Dpa(s) => format!("dpa {}", quote(&s.value)),
        PropKind::Region(r) => match &r.node {
            Region::Eea => "region eea".into(),
            Region::Other(n) => format!("region {n}"),
        },
        PropKind::Auth(a) => format!("auth {}", a.node.word()),
        PropKind::Allow { lint, because, owner, until } => {
            let mut s = format!("allow {} because {}", lint.name, quote(&because.value));
            if let Some(o) = owner {
                s.push_str(&format!(" owner {}", quote(&o.value)));
            }
            if let Some(u) = until {
                s.push_str(&format!(" until {}", u.node));
            }
            s
        }
        PropKind::Members(m) => names(m),
        PropKind::Carries { classes, none, because } => {
            let what = if *none || classes.is_empty() { "none".to_string() } else { names(classes) };
            format!("carries {what} because {}", quote(&because.value))
        }
        PropKind::Export { class, fetched, basis } => {
            format!("export {}{} basis {}", class.name, if *fetched { " fetched" } else { "" }, quote(&basis.value))
        }
        PropKind::RequireMfa => "require mfa".into(),
        PropKind::RequireEncrypted => "require encrypted".into(),
        PropKind::EncryptedPayload(s) => format!("encrypted payload {}", quote(&s.value)),
        PropKind::Target(t) => format!("target {}", t.node.word()),
        PropKind::Interface { name, quoted, zones } => {
            let n = if *quoted || !bare_interface_name(&name.node) { quote(&name.node) } else { name.node.clone() };
            format!("interface {n} zone {}", names(zones))
        }
        PropKind::Tcam(n) => format!("tcam {}", n.node),
    }
}

/// True if an interface name can be written without quotes.
pub(crate) fn bare_interface_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || "\";#{},[]".contains(c))
}
