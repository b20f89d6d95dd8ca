//! `check` findings for people and machines: miette diagnostics located at the rule in the
//! checked file (human, SARIF), a stable JSON document (docs/json.md), JUnit.

use std::fmt::Write as _;

use serde::Serialize;

use crate::check::intended::Why;
use crate::check::ruleset::Origin;
use crate::check::{DeviceCheck, Direction};
use crate::diagnostics::{Code, Diag, FileId, Severity, Sources, Span, code};
use crate::model::Model;

/// Everything one `check` run found, with the texts read (for source spans).
pub(crate) struct Checked {
    /// The policy's files followed by the checked files.
    pub sources: Sources,
    /// Per device, the file it was read from in `sources`.
    pub files: Vec<FileId>,
    pub devices: Vec<DeviceCheck>,
    /// Remarks about the run as a whole (a bundle compiled from another policy version).
    pub notes: Vec<String>,
}

impl Checked {
    /// The run's verdict: `different` when some device is proven different (or could not
    /// be compared), else `cannot-decide` when some device holds a construct its reader
    /// does not model or was cut off, else `equal`. Exit 1, 2 and 0.
    pub(crate) fn verdict(&self) -> &'static str {
        if self.devices.iter().any(|d| matches!(d.verdict(), "different" | "inconclusive")) {
            "different"
        } else if self.devices.iter().any(DeviceCheck::undecided) {
            "cannot-decide"
        } else {
            "equal"
        }
    }
}

fn rule_span(sources: &Sources, file: FileId, o: Option<&Origin>) -> Span {
    o.map_or(Span::NONE, |o| sources.line_span(file, o.line))
}

fn rule_words(o: &Origin) -> String {
    let mut s = format!("`{}`", o.text);
    if let Some(h) = &o.handle {
        s.push_str(&format!(" (handle {h})"));
    }
    s
}

/// The findings as diagnostics, in device order.
pub(crate) fn diags(model: &Model, c: &Checked) -> Vec<Diag> {
    let mut out = Vec::new();
    for (d, &file) in c.devices.iter().zip(&c.files) {
        if let Some(p) = &d.incomplete {
            out.push(
                Diag::error(
                    code::CHECK_TRUNCATED,
                    c.sources.line_span(file, p.line),
                    format!("{}: {} is cut off: {}", d.device, d.file, p.message),
                )
                .label("the file ends here")
                .help(
                    "the file is refused, not compared: take the dump again, whole (a running-config ends with `end`)",
                ),
            );
        }
        // A file cut off: what its missing part would have defined is no finding.
        for p in d.problems.iter().filter(|_| d.incomplete.is_none()) {
            out.push(
                Diag::error(
                    code::CHECK_UNMODELLED,
                    c.sources.line_span(file, p.line),
                    format!("{}: cannot decide: {} line {}: {}", d.device, d.file, p.line, p.message),
                )
                .label("not modelled")
                .help(
                    "this can change which packets pass and zonecheck does not model it, so the device is neither \
                     equal nor proven different (docs/check-coverage.md lists what each reader models); \
                     remove or rewrite it, or check this device by other means",
                ),
            );
        }
        if let Some(why) = &d.inconclusive {
            out.push(
                Diag::error(code::CHECK_INCONCLUSIVE, Span::NONE, format!("{}: inconclusive: {why}", d.device))
                    .help("simplify the ruleset, or check it in parts with --device"),
            );
        }
        for x in &d.differences {
            let span = rule_span(&c.sources, file, x.rule.as_ref());
            let decided = match &x.rule {
                Some(o) => format!("decided by rule {}", rule_words(o)),
                None => "decided by the chain policy".to_string(),
            };
            let more = if x.regions > 1 { format!(" ({} regions like it)", x.regions) } else { String::new() };
            let mut diag = match x.direction {
                Direction::More => Diag::error(
                    code::CHECK_MORE,
                    span,
                    format!("{} permits {} which the policy does not permit{more}", d.device, x.witness_text),
                )
                .label("this rule accepts it")
                .help(format!(
                    "{decided}; region {}. Remove or narrow the rule, or add a flow for it to the policy",
                    x.region
                )),
                Direction::Less => Diag::error(
                    code::CHECK_LESS,
                    span,
                    format!(
                        "{} drops {} which the policy permits{more}: {}",
                        d.device,
                        x.witness_text,
                        x.intended.as_deref().unwrap_or("?")
                    ),
                )
                .label("this rule drops it")
                .help(format!(
                    "{decided}; region {}. Deploy the compiled bundle again, or find what changed on the device",
                    x.region
                )),
            };
            if let Some(Why::Flows(fs) | Why::Answers(fs)) = &x.why {
                for f in fs.iter().take(3) {
                    diag = diag.related(model.flow(*f).header_span, "the flow that asks for it");
                }
            }
            out.push(diag);
        }
        for dead in &d.dead {
            let (code, what) = match dead.kind {
                "shadowed" if dead.by.is_empty() => (code::CHECK_SHADOWED, "is never reached by any packet"),
                "shadowed" => (code::CHECK_SHADOWED, "never decides a packet: earlier rules together cover it"),
                "redundant" => (code::CHECK_REDUNDANT, "can be removed without changing anything"),
                _ => (code::CHECK_UNMATCHABLE, "matches no packet at all"),
            };
            let mut diag = Diag::warning(
                code,
                rule_span(&c.sources, file, Some(&dead.rule)),
                format!("{}: rule {} in chain {} {what}", d.device, rule_words(&dead.rule), dead.chain),
            )
            .label(dead.kind)
            .help(match dead.kind {
                "shadowed" => "remove it, or move it before the rules that cover it",
                "redundant" => "remove it to keep the ruleset short, unless it is there for counting",
                _ => "remove it: its matches contradict each other",
            });
            for b in dead.by.iter().take(5) {
                diag = diag.related(rule_span(&c.sources, file, Some(b)), format!("covered by {}", rule_words(b)));
            }
            out.push(diag);
        }
    }
    out
}

/// Human output: the diagnostics, then one line per device.
pub(crate) fn human(model: &Model, c: &Checked, color: bool) -> String {
    let mut s = crate::diagnostics::render(&diags(model, c), &c.sources, color, 100);
    for n in &c.notes {
        let _ = writeln!(s, "note: {n}");
    }
    for d in &c.devices {
        let (more, less) = (
            d.differences.iter().filter(|x| x.direction == Direction::More).count(),
            d.differences.iter().filter(|x| x.direction == Direction::Less).count(),
        );
        let verdict = match d.verdict() {
            "equal" => "equal".to_string(),
            "inconclusive" => "INCONCLUSIVE".to_string(),
            "cannot-decide" if d.incomplete.is_some() => "CANNOT DECIDE: the file is cut off".to_string(),
            "cannot-decide" => {
                let found = if d.differences.is_empty() {
                    String::new()
                } else {
                    format!(" ({} difference(s) in what is modelled, not proven)", d.differences.len())
                };
                format!("CANNOT DECIDE: {} construct(s) not modelled{found}", d.problems.len())
            }
            _ => {
                let mut parts = Vec::new();
                if more > 0 {
                    parts.push(format!("permits more ({more})"));
                }
                if less > 0 {
                    parts.push(format!("permits less ({less})"));
                }
                format!("DIFFERENT: {}", parts.join(", "))
            }
        };
        let dead = if d.dead.is_empty() {
            String::new()
        } else {
            format!(", {}", super::count(d.dead.len(), "dead rule", "dead rules"))
        };
        let _ =
            writeln!(s, "{:<24} {:<40} {}{dead}: {verdict}", d.device, d.file, super::count(d.rules, "rule", "rules"));
        if d.undecided() && d.incomplete.is_none() {
            let _ = writeln!(s, "  advice on dead rules withheld: the file holds constructs that are not modelled");
        }
        for (chain, why) in &d.unchecked {
            let _ = writeln!(s, "  not checked: chain {chain}: {why}");
        }
    }
    let undecided = c.devices.iter().filter(|d| d.undecided()).count();
    let different = c.devices.iter().filter(|d| !d.equal() && !d.undecided()).count();
    let _ = writeln!(
        s,
        "{} device{} checked: {} equal, {different} different{}",
        c.devices.len(),
        if c.devices.len() == 1 { "" } else { "s" },
        c.devices.len() - different - undecided,
        if undecided > 0 { format!(", {undecided} cannot decide") } else { String::new() }
    );
    s
}

// ---------------------------------------------------------------------------------------
// JSON (docs/json.md, "check")
// ---------------------------------------------------------------------------------------

pub(crate) const VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    verdict: &'static str,
    notes: &'a [String],
    devices: Vec<DeviceOut<'a>>,
}

#[derive(Serialize)]
struct DeviceOut<'a> {
    device: &'a str,
    file: &'a str,
    format: &'static str,
    verdict: &'static str,
    rules: usize,
    differences: Vec<DiffOut<'a>>,
    unsupported: Vec<ProblemOut<'a>>,
    incomplete: Option<ProblemOut<'a>>,
    inconclusive: Option<&'a str>,
    dead_rules: Vec<DeadOut<'a>>,
    not_checked: Vec<NotCheckedOut<'a>>,
}

#[derive(Serialize)]
struct NotCheckedOut<'a> {
    chain: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct DiffOut<'a> {
    direction: &'static str,
    witness: WitnessOut,
    witness_text: &'a str,
    rule: Option<&'a Origin>,
    policy: Option<&'a str>,
    regions: usize,
    region: &'a str,
}

#[derive(Serialize)]
struct WitnessOut {
    path: &'static str,
    input_interface: Option<String>,
    output_interface: Option<String>,
    family: &'static str,
    source: String,
    destination: String,
    protocol: u8,
    source_port: Option<u16>,
    destination_port: Option<u16>,
    icmp_type: Option<u16>,
    icmp_code: Option<u16>,
    ack: bool,
}

#[derive(Serialize)]
struct ProblemOut<'a> {
    line: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct DeadOut<'a> {
    kind: &'static str,
    chain: &'a str,
    rule: &'a Origin,
    covered_by: &'a [Origin],
}

pub(crate) fn json(c: &Checked) -> String {
    let devices = c
        .devices
        .iter()
        .map(|d| DeviceOut {
            device: &d.device,
            file: &d.file,
            format: d.format.name(),
            verdict: d.verdict(),
            rules: d.rules,
            differences: d
                .differences
                .iter()
                .map(|x| {
                    let w = &x.witness;
                    let ports = !matches!(w.proto, 1 | 58);
                    DiffOut {
                        direction: match x.direction {
                            Direction::More => "more",
                            Direction::Less => "less",
                        },
                        witness: WitnessOut {
                            path: w.path.name(),
                            input_interface: x.interfaces.0.clone(),
                            output_interface: x.interfaces.1.clone(),
                            family: if w.v6 { "ipv6" } else { "ipv4" },
                            source: w.src_addr().to_string(),
                            destination: w.dst_addr().to_string(),
                            protocol: w.proto,
                            source_port: ports.then_some(w.sport),
                            destination_port: ports.then_some(w.dport),
                            icmp_type: (!ports).then_some(w.dport),
                            icmp_code: (!ports).then_some(w.sport),
                            ack: w.ack,
                        },
                        witness_text: &x.witness_text,
                        rule: x.rule.as_ref(),
                        policy: x.intended.as_deref(),
                        regions: x.regions,
                        region: &x.region,
                    }
                })
                .collect(),
            unsupported: d.problems.iter().map(|p| ProblemOut { line: p.line, message: &p.message }).collect(),
            incomplete: d.incomplete.as_ref().map(|p| ProblemOut { line: p.line, message: &p.message }),
            inconclusive: d.inconclusive.as_deref(),
            dead_rules: d
                .dead
                .iter()
                .map(|x| DeadOut { kind: x.kind, chain: &x.chain, rule: &x.rule, covered_by: &x.by })
                .collect(),
            not_checked: d.unchecked.iter().map(|(chain, reason)| NotCheckedOut { chain, reason }).collect(),
        })
        .collect();
    let report = Report { version: VERSION, verdict: c.verdict(), notes: &c.notes, devices };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
    s.push('\n');
    s
}

pub(crate) fn sarif(model: &Model, c: &Checked) -> String {
    let rules: Vec<(Code, Severity)> = [
        (code::CHECK_MORE, Severity::Error),
        (code::CHECK_LESS, Severity::Error),
        (code::CHECK_UNMODELLED, Severity::Error),
        (code::CHECK_TRUNCATED, Severity::Error),
        (code::CHECK_INCONCLUSIVE, Severity::Error),
        (code::CHECK_SHADOWED, Severity::Warning),
        (code::CHECK_REDUNDANT, Severity::Warning),
        (code::CHECK_UNMATCHABLE, Severity::Warning),
    ]
    .to_vec();
    crate::report::sarif::document(&c.sources, &diags(model, c), &rules)
}

/// One test case per device: passes when equal.
pub(crate) fn junit(c: &Checked) -> String {
    use crate::report::junit::xml;
    let failures = c.devices.iter().filter(|d| !d.equal()).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<testsuites name=\"zonecheck check\" tests=\"{}\" failures=\"{failures}\">", c.devices.len());
    let _ = writeln!(s, "  <testsuite name=\"check\" tests=\"{}\" failures=\"{failures}\">", c.devices.len());
    for d in &c.devices {
        let name = xml(&format!("{} ({})", d.device, d.file));
        if d.equal() {
            let _ = writeln!(s, "    <testcase classname=\"zonecheck.device\" name=\"{name}\"/>");
            continue;
        }
        let mut body = Vec::new();
        body.extend(d.incomplete.iter().map(|p| format!("line {}: cut off: {}", p.line, p.message)));
        body.extend(d.problems.iter().map(|p| format!("line {}: cannot decide, not modelled: {}", p.line, p.message)));
        body.extend(d.inconclusive.iter().map(|w| format!("inconclusive: {w}")));
        for x in &d.differences {
            let rule =
                x.rule.as_ref().map_or("the chain policy".to_string(), |o| format!("line {}: {}", o.line, o.text));
            body.push(match x.direction {
                Direction::More => format!("permits {} (not in the policy), by {rule}", x.witness_text),
                Direction::Less => {
                    format!("drops {} ({}), by {rule}", x.witness_text, x.intended.as_deref().unwrap_or("?"))
                }
            });
        }
        let _ = writeln!(s, "    <testcase classname=\"zonecheck.device\" name=\"{name}\">");
        let _ = writeln!(
            s,
            "      <failure message=\"{}\">{}</failure>",
            xml(&if d.undecided() {
                format!("{}: cannot decide", d.device)
            } else {
                format!("{} differs from the policy", d.device)
            }),
            xml(&body.join("\n"))
        );
        let _ = writeln!(s, "    </testcase>");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
