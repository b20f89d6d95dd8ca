//! Text for `zonecheck explain`.

use std::fmt::Write as _;

use crate::model::Model;
use crate::verify::Hop;
use crate::verify::explain::{Direction, Explanation};

fn hop_line(model: &Model, h: &Hop) -> String {
    let flow = model.flow(h.flow);
    let (line, _) = model.sources.line_col(flow.header_span);
    let dir = if h.forward { "" } else { ", answer direction" };
    format!(
        "{} → {} over `{}` ({}:{line}{dir})",
        model.node_name(h.from),
        model.node_name(h.to),
        model.flow_title(h.flow),
        model.sources.name(flow.header_span.file)
    )
}

fn directions(model: &Model, out: &mut String, title: &str, list: &[Direction]) {
    let _ = writeln!(out, "\n{title}");
    if list.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for d in list {
        let class = model.class(d.class);
        let tag = if class.confined() { " (confined)" } else { "" };
        let _ =
            writeln!(out, "  {}{tag}: {} hop{}", class.name, d.path.len(), if d.path.len() == 1 { "" } else { "s" });
        for h in &d.path {
            let _ = writeln!(out, "    {}", hop_line(model, h));
        }
    }
}

pub fn render(model: &Model, from: &str, to: &str, e: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "explain `{from}` ↔ `{to}`");
    let _ = writeln!(out, "\nFlows between them:");
    if e.direct.is_empty() {
        let _ = writeln!(out, "  none directly");
    }
    for f in &e.direct {
        let flow = model.flow(*f);
        let (line, _) = model.sources.line_col(flow.header_span);
        let carries = match &flow.carries {
            None => String::new(),
            Some(c) if c.classes.is_empty() => " — carries none".into(),
            Some(c) => format!(
                " — carries {}",
                c.classes.iter().map(|x| model.class(*x).name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        };
        let _ = writeln!(
            out,
            "  {} \"{}\" ({}:{line}){carries}",
            model.flow_title(*f),
            flow.description,
            model.sources.name(flow.header_span.file)
        );
    }
    match &e.connection {
        Some(path) if e.direct.is_empty() => {
            let _ = writeln!(out, "\nConnected through other systems ({} hops):", path.len());
            for h in path {
                let _ = writeln!(out, "  {}", hop_line(model, h));
            }
        }
        None if e.direct.is_empty() => {
            let _ = writeln!(out, "\nNo chain of flows connects them: no data can pass between them.");
        }
        _ => {}
    }
    directions(model, &mut out, &format!("Classes that can travel `{from}` → `{to}`:"), &e.forward);
    directions(model, &mut out, &format!("Classes that can travel `{to}` → `{from}`:"), &e.backward);
    if !e.through_zone.is_empty() {
        let _ = writeln!(
            out,
            "\nSaaS reached through a zone (an assumption: only the service's own login keeps its data):"
        );
        for (s, f) in &e.through_zone {
            let flow = model.flow(*f);
            let (line, _) = model.sources.line_col(flow.header_span);
            let _ = writeln!(
                out,
                "  `{}` in zone `{}`: packets of `{}` ({}:{line}) reach it",
                model.system(*s).name,
                model.zone(model.system(*s).zone).name,
                model.flow_title(*f),
                model.sources.name(flow.header_span.file)
            );
        }
    }
    out
}
