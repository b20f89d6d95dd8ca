//! `zonecheck graph`: the resolved model as Graphviz DOT, Mermaid or (through Graphviz) SVG.
//!
//! Three views, each with a legend:
//!
//! - **zones** (the default): every zone, coloured by trust, with the firewalls and switches
//!   between them; an edge is an interface, labelled with its name.
//! - **systems**: every zone as a cluster of its systems (with the classes they hold), a
//!   zone endpoint as the zone's remaining space, groups as nodes of their own, and every
//!   flow as an edge.
//! - **class** (`--class helse`): where one confined class may be (its allowed zones, with a
//!   green border, and its safeguarded SaaS systems), where it is (its holders and every node
//!   it reaches, over the flows that carry it) and where it leaks (nodes it may not reach, in
//!   red, with the path from a holder in red).
//!
//! A view is first built as a `Drawing` and then written out, so DOT and Mermaid show the
//! same thing. Everything is emitted in id order: the same policy always gives the same bytes.
//! Every policy string is quoted for the format (`dot_str`, `mermaid_str`); node ids are
//! generated (`z3`, `s12`), never taken from the policy.
//!
//! DOT clusters with `rankdir=LR` and edges between clusters make Graphviz's classic ranking
//! fail ("trouble in init_rank", on Fjordvik); `newrank=true` ranks the graph as a whole and
//! does not.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::model::{ClassId, DeviceKind, Model, Node, Trust};
use crate::syntax::ast::Keyword as _;

pub(crate) fn trust_colour(trust: Trust) -> &'static str {
    match trust {
        Trust::Closed => "#f4cccc",
        Trust::Internal => "#d9ead3",
        Trust::Dmz => "#fff2cc",
        Trust::Partner => "#cfe2f3",
        Trust::External => "#eeeeee",
    }
}

const TRUSTS: [Trust; 5] = [Trust::Closed, Trust::Internal, Trust::Dmz, Trust::Partner, Trust::External];

/// Leaks and their paths.
const RED: &str = "#cc0000";
/// The border of a zone a class may be in.
const GREEN: &str = "#38761d";
/// A node a class reaches where it is allowed.
const REACHED: &str = "#b6d7a8";
/// A node a class reaches where it is not allowed.
const LEAK: &str = "#ea9999";

/// Which view to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Zones,
    Systems,
    Class(ClassId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Box,
    Ellipse,
    /// A firewall.
    Hexagon,
    /// A switch.
    Box3d,
    /// A group.
    Folder,
    /// A SaaS system.
    Component,
    /// Text only (legend labels, notes).
    Text,
}

#[derive(Clone, Debug)]
struct DNode {
    id: String,
    lines: Vec<String>,
    shape: Shape,
    fill: &'static str,
    /// Border colour and width, when not the default.
    border: Option<(&'static str, u8)>,
    dashed: bool,
}

impl DNode {
    fn new(id: String, lines: Vec<String>, shape: Shape) -> DNode {
        DNode { id, lines, shape, fill: "#ffffff", border: None, dashed: false }
    }
}

#[derive(Clone, Debug)]
struct Cluster {
    id: String,
    label: String,
    fill: &'static str,
    border: Option<(&'static str, u8)>,
    nodes: Vec<DNode>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    label: String,
    colour: Option<&'static str>,
    bold: bool,
    dashed: bool,
    /// An interface or a group membership, not a direction.
    undirected: bool,
}

impl Edge {
    fn new(from: String, to: String, label: String) -> Edge {
        Edge { from, to, label, colour: None, bold: false, dashed: false, undirected: false }
    }
}

/// One view, ready to be written as DOT or Mermaid.
#[derive(Clone, Debug, Default)]
struct Drawing {
    title: String,
    clusters: Vec<Cluster>,
    nodes: Vec<DNode>,
    edges: Vec<Edge>,
    legend: Vec<DNode>,
    legend_edges: Vec<Edge>,
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

/// Text inside a Mermaid `"…"` label (or the YAML title): quotes, markup characters and
/// backslashes as entities.
fn mermaid_str(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#38;"),
            '`' => out.push_str("#96;"),
            '\\' => out.push_str("#92;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn holds_text(model: &Model, classes: &[ClassId]) -> Option<String> {
    let names: Vec<&str> = classes.iter().map(|c| model.class(*c).name.as_str()).collect();
    (!names.is_empty()).then(|| format!("holds: {}", names.join(", ")))
}

fn zone_title(model: &Model, zi: usize) -> String {
    let zone = &model.zones[zi];
    match &zone.label {
        Some(l) => format!("{} — {} ({})", zone.name, l, zone.trust.word()),
        None => format!("{} ({})", zone.name, zone.trust.word()),
    }
}

fn flow_label(model: &Model, i: usize) -> String {
    let f = &model.flows[i];
    f.services.iter().map(|s| model.service(*s).name.as_str()).collect::<Vec<_>>().join(", ")
}

fn node_id(n: Node) -> String {
    match n {
        Node::System(s) => format!("s{}", s.0),
        Node::ZoneRest(z) => format!("z{}", z.0),
    }
}

fn ref_id(r: crate::model::EndpointRef) -> String {
    use crate::model::EndpointRef;
    match r {
        EndpointRef::System(s) => format!("s{}", s.0),
        EndpointRef::Zone(z) => format!("z{}", z.0),
        EndpointRef::Group(g) => format!("g{}", g.0),
    }
}

/// A system's node in the systems and class views.
fn system_node(model: &Model, s: crate::model::SystemId, extra: Option<String>) -> DNode {
    let sys = model.system(s);
    let mut lines = vec![sys.name.clone()];
    lines.extend(sys.label.clone());
    lines.extend(holds_text(model, &sys.holds));
    lines.extend(extra);
    DNode::new(format!("s{}", s.0), lines, if sys.is_saas() { Shape::Component } else { Shape::Box })
}

fn rest_node(model: &Model, zi: usize) -> DNode {
    DNode {
        dashed: true,
        ..DNode::new(format!("z{zi}"), vec![format!("rest of {}", model.zones[zi].name)], Shape::Ellipse)
    }
}

fn legend_trusts(d: &mut Drawing) {
    for t in TRUSTS {
        d.legend.push(DNode {
            fill: trust_colour(t),
            ..DNode::new(format!("legend_trust_{}", t.word()), vec![format!("zone, trust {}", t.word())], Shape::Box)
        });
    }
}

/// A sample edge in the legend: from an empty text node to one that says what it means.
fn legend_edge(d: &mut Drawing, k: usize, text: &str, edge: Edge) {
    let (a, b) = (format!("legend_e{k}a"), format!("legend_e{k}b"));
    d.legend.push(DNode::new(a.clone(), vec![String::new()], Shape::Text));
    d.legend.push(DNode::new(b.clone(), vec![text.to_string()], Shape::Text));
    d.legend_edges.push(Edge { from: a, to: b, ..edge });
}

fn blank_edge() -> Edge {
    Edge::new(String::new(), String::new(), String::new())
}

/// Zones, and the firewalls and switches between them.
fn zones_view(model: &Model) -> Drawing {
    let mut d = Drawing { title: title(model, "zones and the devices between them"), ..Default::default() };
    for (zi, zone) in model.zones.iter().enumerate() {
        let held: BTreeSet<ClassId> =
            zone.systems.iter().flat_map(|s| model.system(*s).holds.iter().copied()).collect();
        let mut lines = vec![zone.name.clone()];
        lines.extend(zone.label.clone());
        lines.push(format!("trust {}", zone.trust.word()));
        lines.extend(holds_text(model, &held.into_iter().collect::<Vec<_>>()));
        let n = zone.systems.len();
        lines.push(format!("{n} system{}", if n == 1 { "" } else { "s" }));
        d.nodes.push(DNode { fill: trust_colour(zone.trust), ..DNode::new(format!("z{zi}"), lines, Shape::Box) });
    }
    for (di, dev) in model.devices.iter().enumerate() {
        let mut lines = vec![dev.name.clone()];
        lines.extend(dev.label.clone());
        let kind = match dev.kind {
            DeviceKind::Firewall => "firewall",
            DeviceKind::Switch => "switch",
        };
        lines.push(format!("{kind}, {}", dev.target.word()));
        let shape = if dev.kind == DeviceKind::Firewall { Shape::Hexagon } else { Shape::Box3d };
        d.nodes.push(DNode::new(format!("d{di}"), lines, shape));
        for i in &dev.interfaces {
            for z in &i.zones {
                let e = Edge::new(format!("d{di}"), format!("z{}", z.0), i.name.clone());
                d.edges.push(Edge { undirected: true, ..e });
            }
        }
    }
    legend_trusts(&mut d);
    d.legend.push(DNode::new("legend_firewall".into(), vec!["firewall".into()], Shape::Hexagon));
    d.legend.push(DNode::new("legend_switch".into(), vec!["switch (routes the zones it faces)".into()], Shape::Box3d));
    legend_edge(&mut d, 0, "interface (its name)", Edge { undirected: true, ..blank_edge() });
    d
}

/// Zones as clusters of systems, and every flow.
fn systems_view(model: &Model) -> Drawing {
    let mut d = Drawing { title: title(model, "systems and flows"), ..Default::default() };
    for (zi, zone) in model.zones.iter().enumerate() {
        let mut nodes = vec![rest_node(model, zi)];
        nodes.extend(zone.systems.iter().map(|s| system_node(model, *s, None)));
        d.clusters.push(Cluster {
            id: format!("cluster_z{zi}"),
            label: zone_title(model, zi),
            fill: trust_colour(zone.trust),
            border: None,
            nodes,
        });
    }
    for (gi, g) in model.groups.iter().enumerate() {
        d.nodes.push(DNode::new(format!("g{gi}"), vec![format!("group {}", g.name)], Shape::Folder));
        for m in &g.members {
            let e = Edge::new(format!("g{gi}"), ref_id(*m), String::new());
            d.edges.push(Edge { dashed: true, undirected: true, ..e });
        }
    }
    for (i, f) in model.flows.iter().enumerate() {
        let label = flow_label(model, i);
        let dashed = f.carries.as_ref().is_some_and(|c| c.classes.is_empty());
        for a in &f.from.refs {
            for b in &f.to.refs {
                d.edges.push(Edge { dashed, ..Edge::new(ref_id(*a), ref_id(*b), label.clone()) });
            }
        }
    }
    legend_trusts(&mut d);
    d.legend.push(DNode::new("legend_system".into(), vec!["system (classes it holds)".into()], Shape::Box));
    d.legend.push(DNode::new("legend_saas".into(), vec!["SaaS system".into()], Shape::Component));
    d.legend.push(DNode {
        dashed: true,
        ..DNode::new("legend_rest".into(), vec!["rest of a zone".into()], Shape::Ellipse)
    });
    d.legend.push(DNode::new("legend_group".into(), vec!["group".into()], Shape::Folder));
    legend_edge(&mut d, 0, "flow (its services)", blank_edge());
    legend_edge(&mut d, 1, "flow that carries none", Edge { dashed: true, ..blank_edge() });
    legend_edge(&mut d, 2, "group member", Edge { dashed: true, undirected: true, ..blank_edge() });
    d
}

/// One class: where it may be, where it is, where it leaks.
fn class_view(model: &Model, class: ClassId) -> Drawing {
    let verdict = crate::verify::verify(model, &crate::verify::Options::default());
    let name = model.class(class).name.clone();
    let reached = |n: Node| verdict.classes_at(model, n).contains(&class);
    let leaks: BTreeSet<Node> = verdict.violations.iter().filter(|v| v.class == class).map(|v| v.node).collect();
    let mut d = Drawing {
        title: title(model, &format!("class {name}: where it may be, where it is, leaks")),
        ..Default::default()
    };
    let carries = |f: &crate::model::Flow| f.carries.as_ref().is_none_or(|c| c.classes.contains(&class));
    let mut shown: BTreeSet<Node> = BTreeSet::new();
    for (zi, zone) in model.zones.iter().enumerate() {
        let zid = crate::model::ZoneId::from_index(zi);
        let may = crate::verify::zone_permits(model, class, zid);
        let mut nodes = Vec::new();
        let style = |mut n: DNode, node: Node| {
            let holds = matches!(node, Node::System(s) if model.system(s).holds.contains(&class));
            if leaks.contains(&node) {
                n.fill = LEAK;
                n.border = Some((RED, 3));
                n.lines.push(format!("LEAK: {name} may not be here"));
            } else if reached(node) {
                n.fill = REACHED;
                if !holds {
                    n.lines.push(format!("reached by {name}"));
                }
            }
            if holds {
                n.border = n.border.or(Some(("#000000", 3)));
            }
            n
        };
        let rest = Node::ZoneRest(zid);
        if reached(rest) || leaks.contains(&rest) {
            nodes.push(style(rest_node(model, zi), rest));
            shown.insert(rest);
        }
        for s in &zone.systems {
            let node = Node::System(*s);
            let saas_ok = verdict.classes.iter().any(|c| c.class == class && c.allowed_saas.contains(s));
            if reached(node) || leaks.contains(&node) || model.system(*s).holds.contains(&class) || saas_ok {
                let extra = saas_ok.then(|| format!("SaaS admitted for {name}"));
                nodes.push(style(system_node(model, *s, extra), node));
                shown.insert(node);
            }
        }
        if nodes.is_empty() {
            if !may {
                continue;
            }
            nodes.push(DNode::new(format!("z{zi}_none"), vec![format!("no {name} here")], Shape::Text));
        }
        let label = if may { format!("{} — may hold {name}", zone_title(model, zi)) } else { zone_title(model, zi) };
        d.clusters.push(Cluster {
            id: format!("cluster_z{zi}"),
            label,
            fill: trust_colour(zone.trust),
            border: may.then_some((GREEN, 3)),
            nodes,
        });
    }
    // The leak paths, in red; then every other flow between nodes the class reaches.
    let mut red: BTreeSet<(Node, Node, String)> = BTreeSet::new();
    for v in verdict.violations.iter().filter(|v| v.class == class) {
        for h in &v.path {
            let label = flow_label(model, h.flow.index());
            let label = if h.forward { label } else { format!("{label} (answers)") };
            red.insert((h.from, h.to, label));
        }
    }
    for (from, to, label) in &red {
        if shown.contains(from) && shown.contains(to) {
            let e = Edge::new(node_id(*from), node_id(*to), label.clone());
            d.edges.push(Edge { colour: Some(RED), bold: true, ..e });
        }
    }
    let mut seen: BTreeSet<(Node, Node)> = red.iter().map(|(a, b, _)| (*a, *b)).collect();
    for (i, f) in model.flows.iter().enumerate() {
        if !carries(f) {
            continue;
        }
        for a in &f.from.nodes {
            for b in &f.to.nodes {
                let ends = reached(*a) && reached(*b) && shown.contains(a) && shown.contains(b);
                if ends && a != b && !seen.contains(&(*a, *b)) && !seen.contains(&(*b, *a)) {
                    seen.insert((*a, *b));
                    d.edges.push(Edge::new(node_id(*a), node_id(*b), flow_label(model, i)));
                }
            }
        }
    }
    d.legend.push(DNode {
        fill: REACHED,
        border: Some(("#000000", 3)),
        ..DNode::new("legend_holder".into(), vec![format!("holds {name}")], Shape::Box)
    });
    d.legend.push(DNode {
        fill: REACHED,
        ..DNode::new("legend_reached".into(), vec![format!("{name} reaches it, allowed")], Shape::Box)
    });
    d.legend.push(DNode {
        fill: LEAK,
        border: Some((RED, 3)),
        ..DNode::new("legend_leak".into(), vec![format!("{name} reaches it, NOT allowed (leak)")], Shape::Box)
    });
    d.legend.push(DNode {
        border: Some((GREEN, 3)),
        ..DNode::new("legend_may".into(), vec![format!("green border: a zone that may hold {name}")], Shape::Box)
    });
    legend_edge(&mut d, 0, &format!("flow that carries {name}"), blank_edge());
    legend_edge(&mut d, 1, "path of a leak, from a holder", Edge { colour: Some(RED), bold: true, ..blank_edge() });
    d
}

fn title(model: &Model, view: &str) -> String {
    format!("{} — {view}", model.meta.name.as_deref().unwrap_or("zonecheck"))
}

fn drawing(model: &Model, view: View) -> Drawing {
    match view {
        View::Zones => zones_view(model),
        View::Systems => systems_view(model),
        View::Class(c) => class_view(model, c),
    }
}

fn dot_shape(s: Shape) -> &'static str {
    match s {
        Shape::Box => "box",
        Shape::Ellipse => "ellipse",
        Shape::Hexagon => "hexagon",
        Shape::Box3d => "box3d",
        Shape::Folder => "folder",
        Shape::Component => "component",
        Shape::Text => "plaintext",
    }
}

fn dot_node(s: &mut String, indent: &str, n: &DNode) {
    let mut attrs = vec![format!("label={}", dot_str(&n.lines.join("\n"))), format!("shape={}", dot_shape(n.shape))];
    let mut style = Vec::new();
    if !matches!(n.shape, Shape::Text) {
        style.push("filled");
        if matches!(n.shape, Shape::Box) {
            style.push("rounded");
        }
        attrs.push(format!("fillcolor={}", dot_str(n.fill)));
    }
    if n.dashed {
        style.push("dashed");
    }
    if let Some((c, w)) = n.border {
        attrs.push(format!("color={}", dot_str(c)));
        attrs.push(format!("penwidth={w}"));
    }
    attrs.push(format!("style={}", dot_str(&style.join(","))));
    let _ = writeln!(s, "{indent}{} [{}];", n.id, attrs.join(", "));
}

fn dot_edge(s: &mut String, e: &Edge) {
    let mut attrs = Vec::new();
    if !e.label.is_empty() {
        attrs.push(format!("label={}", dot_str(&e.label)));
    }
    if e.undirected {
        attrs.push("dir=none".to_string());
    }
    if e.dashed {
        attrs.push("style=dashed".to_string());
    }
    if let Some(c) = e.colour {
        attrs.push(format!("color={}", dot_str(c)));
        attrs.push(format!("fontcolor={}", dot_str(c)));
    }
    if e.bold {
        attrs.push("penwidth=3".to_string());
    }
    let attrs = if attrs.is_empty() { String::new() } else { format!(" [{}]", attrs.join(", ")) };
    let _ = writeln!(s, "  {} -> {}{attrs};", e.from, e.to);
}

/// The view as Graphviz DOT.
pub fn dot(model: &Model, view: View) -> String {
    let d = drawing(model, view);
    let mut s = String::new();
    let _ = writeln!(s, "digraph zonecheck {{");
    let _ = writeln!(s, "  label={}; labelloc=t; rankdir=LR; compound=true; newrank=true;", dot_str(&d.title));
    let _ = writeln!(s, "  node [fontname=\"Helvetica\"];");
    let _ = writeln!(s, "  edge [fontname=\"Helvetica\", fontsize=10];");
    for c in &d.clusters {
        let _ = writeln!(s, "  subgraph {} {{", c.id);
        let _ = writeln!(s, "    label={}; style=filled; fillcolor={};", dot_str(&c.label), dot_str(c.fill));
        if let Some((colour, w)) = c.border {
            let _ = writeln!(s, "    color={}; penwidth={w};", dot_str(colour));
        }
        for n in &c.nodes {
            dot_node(&mut s, "    ", n);
        }
        let _ = writeln!(s, "  }}");
    }
    for n in &d.nodes {
        dot_node(&mut s, "  ", n);
    }
    for e in &d.edges {
        dot_edge(&mut s, e);
    }
    let _ = writeln!(s, "  subgraph cluster_legend {{");
    let _ = writeln!(s, "    label=\"Legend\"; style=rounded; color=\"#999999\";");
    for n in &d.legend {
        dot_node(&mut s, "    ", n);
    }
    let _ = writeln!(s, "  }}");
    for e in &d.legend_edges {
        dot_edge(&mut s, e);
    }
    s.push_str("}\n");
    s
}

fn mermaid_node(s: &mut String, indent: &str, n: &DNode, styles: &mut Vec<String>) {
    let text = n.lines.iter().map(|l| mermaid_str(l)).collect::<Vec<_>>().join("<br/>");
    let text = if text.is_empty() { " ".to_string() } else { text };
    let shape = match n.shape {
        Shape::Box | Shape::Text => format!("[\"{text}\"]"),
        Shape::Ellipse => format!("([\"{text}\"])"),
        Shape::Hexagon => format!("{{{{\"{text}\"}}}}"),
        Shape::Box3d => format!("[[\"{text}\"]]"),
        Shape::Folder => format!("[/\"{text}\"/]"),
        Shape::Component => format!("[(\"{text}\")]"),
    };
    let _ = writeln!(s, "{indent}{}{shape}", n.id);
    let mut style = if n.shape == Shape::Text {
        vec!["fill:none".to_string(), "stroke:none".to_string()]
    } else {
        vec![format!("fill:{}", n.fill)]
    };
    if let Some((c, w)) = n.border {
        style.push(format!("stroke:{c}"));
        style.push(format!("stroke-width:{w}px"));
    }
    if n.dashed {
        style.push("stroke-dasharray:4 3".to_string());
    }
    styles.push(format!("  style {} {}", n.id, style.join(",")));
}

fn mermaid_edge(s: &mut String, e: &Edge, index: usize, styles: &mut Vec<String>) {
    let label = if e.label.is_empty() { String::new() } else { format!("|\"{}\"|", mermaid_str(&e.label)) };
    let arrow = match (e.dashed, e.undirected) {
        (false, false) => "-->",
        (false, true) => "---",
        (true, false) => "-.->",
        (true, true) => "-.-",
    };
    let _ = writeln!(s, "  {} {arrow}{label} {}", e.from, e.to);
    if e.colour.is_some() || e.bold {
        let mut style = Vec::new();
        if let Some(c) = e.colour {
            style.push(format!("stroke:{c}"));
            style.push(format!("color:{c}"));
        }
        if e.bold {
            style.push("stroke-width:3px".to_string());
        }
        styles.push(format!("  linkStyle {index} {}", style.join(",")));
    }
}

/// The view as a Mermaid flowchart.
pub fn mermaid(model: &Model, view: View) -> String {
    let d = drawing(model, view);
    let mut s = format!("---\ntitle: \"{}\"\n---\nflowchart LR\n", mermaid_str(&d.title));
    let mut styles = Vec::new();
    for c in &d.clusters {
        let _ = writeln!(s, "  subgraph {}[\"{}\"]", c.id, mermaid_str(&c.label));
        for n in &c.nodes {
            mermaid_node(&mut s, "    ", n, &mut styles);
        }
        let _ = writeln!(s, "  end");
        let mut style = vec![format!("fill:{}", c.fill)];
        if let Some((colour, w)) = c.border {
            style.push(format!("stroke:{colour}"));
            style.push(format!("stroke-width:{w}px"));
        }
        styles.push(format!("  style {} {}", c.id, style.join(",")));
    }
    for n in &d.nodes {
        mermaid_node(&mut s, "  ", n, &mut styles);
    }
    let _ = writeln!(s, "  subgraph cluster_legend[\"Legend\"]");
    for n in &d.legend {
        mermaid_node(&mut s, "    ", n, &mut styles);
    }
    let _ = writeln!(s, "  end");
    for (i, e) in d.edges.iter().chain(&d.legend_edges).enumerate() {
        mermaid_edge(&mut s, e, i, &mut styles);
    }
    for line in styles {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// Why an SVG could not be made.
#[derive(Debug)]
pub(crate) enum SvgError {
    /// Graphviz's `dot` is not installed (not on PATH).
    NoGraphviz,
    /// `dot` ran and failed (its exit status and standard error).
    Dot(String),
}

/// The view as SVG, by running Graphviz's `dot -Tsvg` on its DOT text.
pub(crate) fn svg(model: &Model, view: View) -> Result<Vec<u8>, SvgError> {
    svg_from_dot(&dot(model, view), "dot")
}

/// Run `program` (Graphviz's `dot`) on a DOT text.
pub(crate) fn svg_from_dot(text: &str, program: &str) -> Result<Vec<u8>, SvgError> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = match Command::new(program)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SvgError::NoGraphviz),
        Err(e) => return Err(SvgError::Dot(format!("cannot run `{program}`: {e}"))),
    };
    // Write on another thread: `dot` may fill its output pipe before reading all its input.
    let mut stdin = child.stdin.take();
    let input = text.to_string();
    let writer = std::thread::spawn(move || stdin.as_mut().map(|i| i.write_all(input.as_bytes())));
    let out = child.wait_with_output().map_err(|e| SvgError::Dot(format!("`{program}` failed: {e}")))?;
    let _ = writer.join();
    let err = String::from_utf8_lossy(&out.stderr);
    // Some layout failures ("trouble in init_rank") exit 0 with a message and no drawing.
    if !out.status.success() || err.contains("Error") {
        return Err(SvgError::Dot(format!("`{program} -Tsvg` exited with {}: {}", out.status, err.trim())));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_leave_their_quotes() {
        assert_eq!(dot_str("a\"]; x -> y [label=\"b"), "\"a\\\"]; x -> y [label=\\\"b\"");
        assert_eq!(dot_str("a\\\nb\u{7}"), "\"a\\\\\\nb\"");
        let m = mermaid_str("\"]\n x-->y |<b>| # \\");
        assert!(!m.contains(['"', '<', '>', '|', '\n', '\\']), "{m}");
    }

    #[test]
    fn a_missing_dot_is_reported_as_such() {
        assert!(matches!(svg_from_dot("digraph {}", "zonecheck-no-such-program"), Err(SvgError::NoGraphviz)));
    }
}
