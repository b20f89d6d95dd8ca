//! A small document model with two renderers: self-contained HTML (inline CSS, prints to
//! PDF, no network fetches) and Markdown (CommonMark with GitHub tables). The audit report
//! builds one [`Doc`] and renders it either way, so both carry the same content.

/// A document: a title, a language tag and sections in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Doc {
    pub lang: &'static str,
    pub title: String,
    pub sections: Vec<Section>,
}

#[derive(Clone, Debug)]
pub(crate) struct Section {
    /// 2 for a chapter, 3 for a part of one.
    pub level: u8,
    /// Anchor, `[a-z0-9-]`.
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug)]
pub(crate) enum Block {
    Para(String),
    /// A verdict line: passed or failed, and its text.
    Verdict(bool, String),
    /// Term and value pairs.
    Facts(Vec<(String, String)>),
    List(Vec<String>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// Escape text for HTML element content and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escape text for Markdown inline content (and table cells): the characters that start
/// inline markup are backslash-escaped everywhere, those that start a block only at the
/// start; line breaks become spaces. No policy string can make a link, an image, HTML or
/// a table cell boundary.
pub(crate) fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(s.as_bytes().get(digits), Some(b'.' | b')')) {
        // `1. ` would start an ordered list.
        out.push_str(&s[..digits]);
        out.push('\\');
        return out + &md_escape(&s[digits..]);
    }
    if s.starts_with(['#', '>', '+', '-', '=']) {
        out.push('\\');
    }
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '|' | '~' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
:root{--ok:#1b5e20;--bad:#b71c1c;--line:#c8c8c8;--head:#f0f0f0}
body{font-family:'Segoe UI',Arial,Helvetica,sans-serif;font-size:10.5pt;line-height:1.4;color:#111;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;border-bottom:2px solid #111;padding-bottom:.3rem}
h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin-top:1.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--head)}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:.5rem 0 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.verdict{font-weight:700;padding:.4rem .6rem;border-left:6px solid}
.verdict.ok{color:var(--ok);border-color:var(--ok)}
.verdict.bad{color:var(--bad);border-color:var(--bad)}
@page{size:A4;margin:18mm 15mm}
@media print{body{margin:0;max-width:none;font-size:9.5pt}h2{break-after:avoid}tr,dl,.verdict{break-inside:avoid}thead{display:table-header-group}section{break-inside:auto}}
";

/// The document as one self-contained HTML5 page.
pub(crate) fn html(doc: &Doc) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n");
    o.push_str(&format!("<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n", doc.lang));
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!("<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n", html_escape(&doc.title)));
    o.push_str(&format!("<h1>{}</h1>\n", html_escape(&doc.title)));
    for s in &doc.sections {
        let level = s.level.clamp(2, 4);
        o.push_str(&format!("<section id=\"{}\">\n", html_escape(&s.id)));
        o.push_str(&format!("<h{level}>{}</h{level}>\n", html_escape(&s.title)));
        for b in &s.blocks {
            match b {
                Block::Para(t) => o.push_str(&format!("<p>{}</p>\n", html_escape(t))),
                Block::Verdict(ok, t) => o.push_str(&format!(
                    "<p class=\"verdict {}\">{}</p>\n",
                    if *ok { "ok" } else { "bad" },
                    html_escape(t)
                )),
                Block::Facts(pairs) => {
                    o.push_str("<dl>\n");
                    for (k, v) in pairs {
                        o.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", html_escape(k), html_escape(v)));
                    }
                    o.push_str("</dl>\n");
                }
                Block::List(items) => {
                    o.push_str("<ul>\n");
                    for i in items {
                        o.push_str(&format!("<li>{}</li>\n", html_escape(i)));
                    }
                    o.push_str("</ul>\n");
                }
                Block::Table { head, rows } => {
                    o.push_str("<table>\n<thead><tr>");
                    for h in head {
                        o.push_str(&format!("<th>{}</th>", html_escape(h)));
                    }
                    o.push_str("</tr></thead>\n<tbody>\n");
                    for r in rows {
                        o.push_str("<tr>");
                        for c in r {
                            o.push_str(&format!("<td>{}</td>", html_escape(c)));
                        }
                        o.push_str("</tr>\n");
                    }
                    o.push_str("</tbody>\n</table>\n");
                }
            }
        }
        o.push_str("</section>\n");
    }
    o.push_str("</body>\n</html>\n");
    o
}

/// The document as Markdown.
pub(crate) fn markdown(doc: &Doc) -> String {
    let mut o = format!("# {}\n", md_escape(&doc.title));
    for s in &doc.sections {
        o.push('\n');
        o.push_str(&"#".repeat(usize::from(s.level.clamp(2, 4))));
        o.push_str(&format!(" {}\n", md_escape(&s.title)));
        for b in &s.blocks {
            o.push('\n');
            match b {
                Block::Para(t) => o.push_str(&format!("{}\n", md_escape(t))),
                Block::Verdict(_, t) => o.push_str(&format!("**{}**\n", md_escape(t))),
                Block::Facts(pairs) => {
                    for (k, v) in pairs {
                        o.push_str(&format!("- **{}:** {}\n", md_escape(k), md_escape(v)));
                    }
                }
                Block::List(items) => {
                    for i in items {
                        o.push_str(&format!("- {}\n", md_escape(i)));
                    }
                }
                Block::Table { head, rows } => {
                    let line = |cells: &[String]| {
                        let cells: Vec<String> = cells.iter().map(|c| md_escape(c)).collect();
                        format!("| {} |\n", cells.join(" | "))
                    };
                    o.push_str(&line(head));
                    o.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                    for r in rows {
                        o.push_str(&line(r));
                    }
                }
            }
        }
    }
    o
}
