//! `zonecheck graph`: the resolved model as Graphviz DOT or Mermaid.
//!
//! Zones are clusters coloured by trust, systems show the classes they hold, flows are
//! edges between what they name (a zone endpoint points at the zone's remaining space,
//! a group is a node of its own). Everything is emitted in id order: the same policy
//! always gives the same bytes.

use std::fmt::Write as _;

use crate::model::{EndpointRef, Model, Trust};

pub fn trust_colour(trust: Trust) -> &'static str {
    match trust {
        Trust::Closed => "#f4cccc",
        Trust::Internal => "#d9ead3",
        Trust::Dmz => "#fff2cc",
        Trust::Partner => "#cfe2f3",
        Trust::External => "#eeeeee",
    }
}

fn trust_word(trust: Trust) -> &'static str {
    use crate::syntax::ast::Keyword as _;
    trust.word()
}

/// A DOT double-quoted string.
fn dot_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text inside a Mermaid `["…"]` label: quotes and markup characters as entities.
fn mermaid_str(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '#' => out.push_str("#35;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn holds_text(model: &Model, classes: &[crate::model::ClassId]) -> String {
    let names: Vec<&str> = classes.iter().map(|c| model.class(*c).name.as_str()).collect();
    if names.is_empty() { String::new() } else { format!("holds: {}", names.join(", ")) }
}

fn flow_label(model: &Model, i: usize) -> String {
    let f = &model.flows[i];
    f.services.iter().map(|s| model.service(*s).name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Node id of an endpoint reference in the drawing.
fn ref_id(r: EndpointRef) -> String {
    match r {
        EndpointRef::System(s) => format!("s{}", s.0),
        EndpointRef::Zone(z) => format!("z{}", z.0),
        EndpointRef::Group(g) => format!("g{}", g.0),
    }
}

pub fn dot(model: &Model) -> String {
    let mut s = String::new();
    let title = model.meta.name.clone().unwrap_or_else(|| "zonecheck".into());
    let _ = writeln!(s, "digraph zonecheck {{");
    let _ = writeln!(s, "  label={}; labelloc=t; rankdir=LR; compound=true;", dot_str(&title));
    let _ = writeln!(s, "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\"];");
    let _ = writeln!(s, "  edge [fontname=\"Helvetica\", fontsize=10];");
    for (zi, zone) in model.zones.iter().enumerate() {
        let label = match &zone.label {
            Some(l) => format!("{} — {} ({})", zone.name, l, trust_word(zone.trust)),
            None => format!("{} ({})", zone.name, trust_word(zone.trust)),
        };
        let _ = writeln!(s, "  subgraph cluster_z{zi} {{");
        let _ = writeln!(
            s,
            "    label={}; style=filled; fillcolor={};",
            dot_str(&label),
            dot_str(trust_colour(zone.trust))
        );
        let _ = writeln!(
            s,
            "    z{zi} [label={}, shape=ellipse, style=dashed];",
            dot_str(&format!("rest of {}", zone.name))
        );
        for sid in &zone.systems {
            let sys = model.system(*sid);
            let mut lines = vec![sys.name.clone()];
            if let Some(l) = &sys.label {
                lines.push(l.clone());
            }
            let holds = holds_text(model, &sys.holds);
            if !holds.is_empty() {
                lines.push(holds);
            }
            let shape = if sys.is_saas() { ", shape=component" } else { "" };
            let _ = writeln!(s, "    s{} [label={}{shape}];", sid.0, dot_str(&lines.join("\n")));
        }
        let _ = writeln!(s, "  }}");
    }
    for (gi, g) in model.groups.iter().enumerate() {
        let _ = writeln!(s, "  g{gi} [label={}, shape=folder];", dot_str(&format!("group {}", g.name)));
        for m in &g.members {
            let _ = writeln!(s, "  g{gi} -> {} [style=dotted, arrowhead=none];", ref_id(*m));
        }
    }
    for (i, f) in model.flows.iter().enumerate() {
        let label = flow_label(model, i);
        let style = if f.carries.as_ref().is_some_and(|c| c.classes.is_empty()) { ", style=dashed" } else { "" };
        for a in &f.from.refs {
            for b in &f.to.refs {
                let _ = writeln!(s, "  {} -> {} [label={}{style}];", ref_id(*a), ref_id(*b), dot_str(&label));
            }
        }
    }
    s.push_str("}\n");
    s
}

pub fn mermaid(model: &Model) -> String {
    let mut s = String::from("flowchart LR\n");
    for (zi, zone) in model.zones.iter().enumerate() {
        let label = match &zone.label {
            Some(l) => format!("{} — {} ({})", zone.name, l, trust_word(zone.trust)),
            None => format!("{} ({})", zone.name, trust_word(zone.trust)),
        };
        let _ = writeln!(s, "  subgraph cluster_z{zi}[\"{}\"]", mermaid_str(&label));
        let _ = writeln!(s, "    z{zi}([\"rest of {}\"])", mermaid_str(&zone.name));
        for sid in &zone.systems {
            let sys = model.system(*sid);
            let mut lines = vec![mermaid_str(&sys.name)];
            if let Some(l) = &sys.label {
                lines.push(mermaid_str(l));
            }
            let holds = holds_text(model, &sys.holds);
            if !holds.is_empty() {
                lines.push(mermaid_str(&holds));
            }
            let _ = writeln!(s, "    s{}[\"{}\"]", sid.0, lines.join("<br/>"));
        }
        let _ = writeln!(s, "  end");
        let _ = writeln!(s, "  style cluster_z{zi} fill:{}", trust_colour(zone.trust));
    }
    for (gi, g) in model.groups.iter().enumerate() {
        let _ = writeln!(s, "  g{gi}[/\"group {}\"/]", mermaid_str(&g.name));
        for m in &g.members {
            let _ = writeln!(s, "  g{gi} -.- {}", ref_id(*m));
        }
    }
    for (i, f) in model.flows.iter().enumerate() {
        let label = mermaid_str(&flow_label(model, i));
        for a in &f.from.refs {
            for b in &f.to.refs {
                let _ = writeln!(s, "  {} -->|\"{label}\"| {}", ref_id(*a), ref_id(*b));
            }
        }
    }
    s
}
