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

/// Systems on both sides that share a zone: no firewall or switch stands between them, so
/// what stops undeclared traffic is their host firewalls, or nothing.
fn same_zone(model: &Model, e: &Explanation, out: &mut String) {
    use crate::model::Node;
    let systems = |nodes: &[Node]| -> Vec<crate::model::SystemId> {
        nodes.iter().filter_map(|n| if let Node::System(s) = n { Some(*s) } else { None }).collect()
    };
    let (from, to) = (systems(&e.from), systems(&e.to));
    let Some((a, b)) = from
        .iter()
        .flat_map(|a| to.iter().map(move |b| (*a, *b)))
        .find(|(a, b)| a != b && model.system(*a).zone == model.system(*b).zone)
    else {
        return;
    };
    let zone = model.zone(model.system(a).zone);
    let guard = |s: crate::model::SystemId, inbound: bool| -> Option<String> {
        let sys = model.system(s);
        let (filters_in, filters_out) = model.own_filters(s);
        (if inbound { filters_in } else { filters_out }).then(|| format!("`{}`'s host firewall", sys.name))
    };
    let (an, bn) = (&model.system(a).name, &model.system(b).name);
    let _ = writeln!(out, "\nBoth in zone `{}`: no firewall or switch stands between `{an}` and `{bn}`.", zone.name);
    for (x, y) in [(a, b), (b, a)] {
        let guards: Vec<String> = [guard(x, false), guard(y, true)].into_iter().flatten().collect();
        let (xn, yn) = (&model.system(x).name, &model.system(y).name);
        if guards.is_empty() {
            let _ = writeln!(
                out,
                "  {xn} → {yn}: nothing enforces it; packets the policy does not permit pass unchecked (give `{yn}` platform linux or windows for a host firewall, or put the two in separate zones behind a firewall)"
            );
        } else {
            let _ = writeln!(out, "  {xn} → {yn}: only the declared flows, enforced by {}", guards.join(" and "));
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
            let _ = writeln!(
                out,
                "\nConnected through other systems ({}):",
                crate::report::count(path.len(), "hop", "hops")
            );
            for h in path {
                let _ = writeln!(out, "  {}", hop_line(model, h));
            }
        }
        None if e.direct.is_empty() => {
            let _ = writeln!(out, "\nNo chain of flows connects them: the policy permits no data between them.");
        }
        _ => {}
    }
    same_zone(model, e, &mut out);
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
