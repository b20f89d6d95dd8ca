//! Source files, spans and diagnostics shared by every stage.
//!
//! Every user-facing problem is a [`Diag`]: a stable code from the registry below, a
//! primary span with a label, optional related spans and a help line. Stages collect
//! `Diag`s instead of stopping at the first one, so one run reports every independent
//! error. `Diag::to_report` turns one into a `miette::Diagnostic` for rendering.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SpanContents};

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span for problems that have no place in a source file (unreadable paths, CLI
    /// arguments); rendered without a snippet.
    pub(crate) const NONE: Span = Span { file: FileId(u32::MAX), start: 0, end: 0 };

    pub(crate) fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start: saturate(start), end: saturate(end.max(start)) }
    }

    /// The smallest span covering both (same file assumed; otherwise `self`).
    pub(crate) fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub(crate) fn len(&self) -> usize {
        (self.end - self.start) as usize
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One policy file as read from disk (BOM already removed).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// Byte offsets where lines start, built on first use (reports ask for many lines).
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    fn line_starts(&self) -> &[usize] {
        self.line_starts
            .get_or_init(|| std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }
}

/// All files of one policy, addressed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub(crate) fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(saturate(self.files.len()));
        self.files.push(SourceFile { name: name.into(), text: text.into(), line_starts: Default::default() });
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(saturate(i)), f))
    }

    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| f.name.as_str())
    }

    /// The text a span covers (empty if out of range).
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file).and_then(|f| f.text.get(span.start as usize..span.end as usize)).unwrap_or("")
    }

    /// The span of a 1-based line without its line break; [`Span::NONE`] when out of range.
    pub(crate) fn line_span(&self, file: FileId, line: usize) -> Span {
        let Some(f) = self.get(file) else { return Span::NONE };
        let starts = f.line_starts();
        let Some(&start) = line.checked_sub(1).and_then(|i| starts.get(i)) else { return Span::NONE };
        let end = starts.get(line).map_or(f.text.len(), |next| next - 1);
        let end =
            if f.text.as_bytes().get(end.saturating_sub(1)) == Some(&b'\r') && end > start { end - 1 } else { end };
        Span::new(file, start, end.max(start))
    }

    /// 1-based line and column (in characters) of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let Some(file) = self.get(span.file) else { return (0, 0) };
        let start = (span.start as usize).min(file.text.len());
        let starts = file.line_starts();
        let line = starts.partition_point(|s| *s <= start);
        let line_start = starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        let col = file.text.get(line_start..start).map_or(0, |t| t.chars().count()) + 1;
        (line, col)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// A registered diagnostic code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code {
    pub id: &'static str,
    /// One line saying what the code means, for `--help`-style listings and docs.
    pub summary: &'static str,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

/// One lint of DESIGN.md §4: its code, its default severity and the fixture that shows it.
/// The name users write in `allow NAME` and zonecheck.toml's `[lints]` is the code's last
/// part (`zonecheck::lint::closed-egress` → `closed-egress`).
#[derive(Clone, Copy, Debug)]
pub struct Lint {
    pub code: Code,
    pub severity: Severity,
    /// A policy under `tests/fixtures/lint/` whose verdict holds this lint
    /// (tests/it/diagnostics.rs walks the registry and runs each).
    pub fixture: &'static str,
}

impl Lint {
    pub fn name(&self) -> &'static str {
        self.code.id.rsplit("::").next().unwrap_or(self.code.id)
    }

    /// The lint called `name`, as `allow` and zonecheck.toml write it.
    pub fn named(name: &str) -> Option<&'static Lint> {
        LINTS.iter().find(|l| l.name() == name)
    }

    /// Every lint's name, in registry order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        LINTS.iter().map(Lint::name)
    }
}

/// The lint registry: SARIF rules, JUnit cases, `allow` and `[lints]` validation, default
/// severities and the docs test all read this one table.
pub const LINTS: &[Lint] = &[
    Lint { code: code::LINT_SAAS_SAFEGUARDS, severity: Severity::Error, fixture: "saas-safeguards.zc" },
    Lint { code: code::LINT_EXTERNAL_INTO_CLOSED, severity: Severity::Error, fixture: "external-into-closed.zc" },
    Lint { code: code::LINT_UNENCRYPTED_SPECIAL, severity: Severity::Warning, fixture: "unencrypted-special.zc" },
    Lint { code: code::LINT_BROAD_INTO_CLOSED, severity: Severity::Warning, fixture: "broad-into-closed.zc" },
    Lint { code: code::LINT_CLOSED_EGRESS, severity: Severity::Warning, fixture: "closed-egress.zc" },
    Lint {
        code: code::LINT_EXPORT_OUTSIDE_HELSENETT,
        severity: Severity::Warning,
        fixture: "export-outside-helsenett.zc",
    },
    Lint { code: code::LINT_UNUSED, severity: Severity::Warning, fixture: "unused.zc" },
    Lint { code: code::LINT_SHADOWED_FLOW, severity: Severity::Warning, fixture: "shadowed-flow.zc" },
    Lint {
        code: code::LINT_CONFINED_OUTSIDE_CLOSED,
        severity: Severity::Warning,
        fixture: "confined-outside-closed.zc",
    },
    Lint { code: code::LINT_OVERLAPPING_ZONES, severity: Severity::Warning, fixture: "overlapping-zones.zc" },
    Lint { code: code::LINT_DUPLICATE_ENFORCEMENT, severity: Severity::Warning, fixture: "duplicate-enforcement.zc" },
    Lint { code: code::LINT_APPLIANCE_SPECIAL, severity: Severity::Warning, fixture: "appliance-special.zc" },
];

macro_rules! codes {
    ($($name:ident = $id:literal, $summary:literal;)*) => {
        pub mod code {
            //! The registry of every diagnostic code. Codes are stable: never reuse or rename one.
            use super::Code;
            $(pub const $name: Code = Code { id: $id, summary: $summary };)*
            /// Every code, in registry order.
            pub const ALL: &[Code] = &[$($name),*];
        }
    };
}

codes! {
    IO_UNREADABLE = "zonecheck::io::unreadable", "a policy file or directory could not be read";
    IO_NO_POLICY = "zonecheck::io::no-policy-files", "a directory holds no `.zc` files";
    IO_NOT_UTF8 = "zonecheck::io::not-utf8", "a policy file is not valid UTF-8";
    IO_EMPTY_POLICY = "zonecheck::io::empty-policy", "the policy declares no class, zone or system, so there is nothing to prove";
    INIT_EXISTS = "zonecheck::init::exists", "`zonecheck init` would overwrite a file that already exists";
    INIT_WRITE = "zonecheck::init::write", "`zonecheck init` could not create its directory or write its files";
    CONFIG_INVALID = "zonecheck::config::invalid", "zonecheck.toml is not valid TOML or has a wrong value";
    CONFIG_UNKNOWN_KEY = "zonecheck::config::unknown-key", "zonecheck.toml has a key zonecheck does not know";

    TOO_MANY = "zonecheck::too-many-problems", "more problems than one run shows; the rest are counted in this one";
    SYNTAX_UNEXPECTED = "zonecheck::syntax::unexpected-token", "the parser found something other than what the grammar allows here";
    SYNTAX_UNKNOWN_STATEMENT = "zonecheck::syntax::unknown-statement", "a top-level statement starts with an unknown keyword";
    SYNTAX_UNKNOWN_PROPERTY = "zonecheck::syntax::unknown-property", "a block holds a property its declaration does not have";
    SYNTAX_UNTERMINATED_STRING = "zonecheck::syntax::unterminated-string", "a string has no closing quote on its line";
    SYNTAX_INVALID_ESCAPE = "zonecheck::syntax::invalid-escape", "a string holds an escape other than `\\\"` and `\\\\`";
    SYNTAX_CONTROL_CHARACTER = "zonecheck::syntax::control-character", "a string holds a control character";
    SYNTAX_INVALID_NAME = "zonecheck::syntax::invalid-name", "a name does not match `[a-z][a-z0-9_-]*`";
    SYNTAX_INVALID_ADDRESS = "zonecheck::syntax::invalid-address", "an address or prefix is not valid IPv4 or IPv6";
    SYNTAX_INVALID_NUMBER = "zonecheck::syntax::invalid-number", "a number is malformed or far too large";
    SYNTAX_UNCLOSED_BLOCK = "zonecheck::syntax::unclosed-block", "a `{` or `[` has no matching close";
    SYNTAX_INVALID_VALUE = "zonecheck::syntax::invalid-value", "a keyword property has a value outside its allowed set";
    SYNTAX_MISSING_TERMINATOR = "zonecheck::syntax::missing-terminator", "two statements on one line without `;` between them";
    SYNTAX_INVALID_DATE = "zonecheck::syntax::invalid-date", "an `until` date is not a calendar date written YYYY-MM-DD";

    RESOLVE_DUPLICATE = "zonecheck::resolve::duplicate-definition", "two declarations of the same kind share a name";
    RESOLVE_DUPLICATE_PROPERTY = "zonecheck::resolve::duplicate-property", "a single-valued property is given twice";
    RESOLVE_MISSING_PROPERTY = "zonecheck::resolve::missing-property", "a required property is missing";
    RESOLVE_UNKNOWN_CLASS = "zonecheck::resolve::unknown-class", "a name used as a data class is not declared";
    RESOLVE_UNKNOWN_ZONE = "zonecheck::resolve::unknown-zone", "a name used as a zone is not declared";
    RESOLVE_UNKNOWN_SERVICE = "zonecheck::resolve::unknown-service", "a name used as a service is neither declared nor built in";
    RESOLVE_UNKNOWN_ENDPOINT = "zonecheck::resolve::unknown-system", "a flow or group names no system, zone or group";
    RESOLVE_UNKNOWN_LINT = "zonecheck::resolve::unknown-lint", "`allow` names a lint that does not exist";
    RESOLVE_EMPTY_REASON = "zonecheck::resolve::empty-reason", "a justification, basis or description is empty";
    RESOLVE_RESERVED_NAME = "zonecheck::resolve::reserved-name", "a declaration uses a name the language reserves";
    RESOLVE_HOST_BITS = "zonecheck::resolve::host-bits-set", "a zone prefix has bits set beyond its length";
    RESOLVE_DUPLICATE_PREFIX = "zonecheck::resolve::duplicate-prefix", "two zones claim the same prefix";
    RESOLVE_ADDRESS_OUTSIDE_ZONE = "zonecheck::resolve::address-outside-zone", "a system address is not inside its zone's prefixes";
    RESOLVE_ADDRESS_IN_OTHER_ZONE = "zonecheck::resolve::address-in-other-zone", "a system address falls in a more specific other zone";
    RESOLVE_ADDRESS_CONFLICT = "zonecheck::resolve::address-conflict", "two systems claim the same address";
    RESOLVE_ADDRESS_OVERLAP = "zonecheck::resolve::address-overlap", "a system's range contains another zone's prefix or another system's address";
    RESOLVE_PORT_ZERO = "zonecheck::resolve::port-zero", "a service uses port 0";
    RESOLVE_PORT_RANGE = "zonecheck::resolve::invalid-port-range", "a port range is reversed or exceeds 65535";
    RESOLVE_INVALID_ICMP = "zonecheck::resolve::invalid-icmp-type", "an ICMP type is unknown or above 255";
    RESOLVE_INVALID_PROTOCOL = "zonecheck::resolve::invalid-protocol", "a protocol number is above 255";
    RESOLVE_SAAS_PROPERTY = "zonecheck::resolve::saas-property-on-non-saas", "vendor, dpa, region or auth on a system that is not SaaS";
    RESOLVE_GROUP_CYCLE = "zonecheck::resolve::group-cycle", "groups contain each other in a cycle";
    RESOLVE_EMPTY_ENDPOINT = "zonecheck::resolve::empty-endpoint", "a flow endpoint or group expands to nothing";
    RESOLVE_AMBIGUOUS = "zonecheck::resolve::ambiguous-name", "an endpoint name is declared as more than one of system, zone and group, or a system and a device share a name";
    RESOLVE_INTERFACE_ZONE_TWICE = "zonecheck::resolve::zone-on-two-interfaces", "a device names one zone on two interfaces";
    RESOLVE_DUPLICATE_INTERFACE = "zonecheck::resolve::duplicate-interface", "a device declares one interface twice";
    RESOLVE_NO_POLICY = "zonecheck::resolve::duplicate-policy", "more than one `policy` header";

    COMPILE_REFUSED = "zonecheck::compile::verify-failed", "compile refuses to write configurations for a policy that does not pass verify";
    COMPILE_INTERFACE_NAME = "zonecheck::compile::invalid-interface-name", "an interface name cannot be used by the device's target";
    COMPILE_UNSAFE_STRING = "zonecheck::compile::unsafe-string", "a policy string holds characters a target cannot carry safely";
    COMPILE_TEMPLATE = "zonecheck::compile::template", "a template could not be read or rendered";
    COMPILE_OUTPUT = "zonecheck::compile::output", "the bundle could not be written, or the output directory is not a bundle";
    CHECK_MORE = "zonecheck::check::permits-more", "the device permits packets the policy does not permit";
    CHECK_LESS = "zonecheck::check::permits-less", "the device drops packets the policy permits";
    CHECK_UNMODELLED = "zonecheck::check::unmodelled", "a construct that can change which packets pass and that the reader does not model: the verdict is \"cannot decide\" (fail closed)";
    CHECK_TRUNCATED = "zonecheck::check::truncated", "a file to check is cut off (no final `end`, JSON that stops early): it is refused";
    CHECK_INCONCLUSIVE = "zonecheck::check::inconclusive", "the comparison could not finish exactly";
    CHECK_SHADOWED = "zonecheck::check::shadowed-rule", "a rule never decides a packet: earlier rules together cover everything it matches";
    CHECK_REDUNDANT = "zonecheck::check::redundant-rule", "a rule whose removal changes nothing: later rules give its packets the same verdict";
    CHECK_UNMATCHABLE = "zonecheck::check::unmatchable-rule", "a rule that matches no packet at all";
    CHECK_INPUT = "zonecheck::check::input", "a file to check could not be read, or does not fit the device";
    COMPILE_SELF_CHECK = "zonecheck::compile::self-check", "a generated configuration does not permit exactly what the policy permits (an internal error)";
    COMPILE_UNENFORCED_FLOW = "zonecheck::compile::unenforced-flow", "a declared flow that no rule of any enforcement point carries";
    COMPILE_NO_DEVICE = "zonecheck::compile::unknown-device", "`--device` names no firewall, switch or host";
    COMPILE_DEVICE_LOCKOUT = "zonecheck::compile::device-lockout", "a firewall or switch that guards itself, but no flow lets anyone manage it";
    COMPILE_UNGUARDED_DEVICE = "zonecheck::compile::unguarded-device", "a switch's own service that the bundle does not restrict";
    VERIFY_LEAK = "zonecheck::verify::leak", "a confined data class reaches a node where it is not allowed";
    VERIFY_UNENFORCED = "zonecheck::verify::unenforced", "a confined class can leave its allowed places over a path no enforcement point filters";
    VERIFY_EXPIRED_ALLOW = "zonecheck::verify::expired-allow", "an `allow` is past its `until` date: renew the risk assessment or remove the exception";
    REPORT_OUTPUT = "zonecheck::report::output", "the report could not be written";
    GRAPH_UNKNOWN_CLASS = "zonecheck::graph::unknown-class", "`graph --class` names no class of the policy";
    GRAPH_SVG = "zonecheck::graph::svg", "`graph --format svg` could not run Graphviz's `dot`, or `dot` failed";
    EXPLAIN_PACKET = "zonecheck::explain::invalid-packet", "`explain` with a service was not given two addresses of one family and a service it can read";
    LINT_SAAS_SAFEGUARDS = "zonecheck::lint::saas-safeguards", "a SaaS system holds or receives a special class without vendor, dpa, region eea and auth";
    LINT_EXTERNAL_INTO_CLOSED = "zonecheck::lint::external-into-closed", "a flow from a partner or external zone into a closed zone does not land on a jump host with `require mfa`";
    LINT_UNENCRYPTED_SPECIAL = "zonecheck::lint::unencrypted-special", "a special class crosses zones over an unencrypted service without `encrypted payload`";
    LINT_BROAD_INTO_CLOSED = "zonecheck::lint::broad-into-closed", "an `any` service or a whole zone to whole zone flow into a closed zone";
    LINT_CLOSED_EGRESS = "zonecheck::lint::closed-egress", "a flow from a closed zone to a non-closed zone that is neither an allowed SaaS nor an export";
    LINT_EXPORT_OUTSIDE_HELSENETT = "zonecheck::lint::export-outside-helsenett", "`helse` is exported to an external zone instead of through Norsk Helsenett";
    LINT_UNUSED = "zonecheck::lint::unused", "a system, service, group, class, assumption or `allow` that changes nothing";
    LINT_SHADOWED_FLOW = "zonecheck::lint::shadowed-flow", "a flow wholly covered by another flow";
    LINT_CONFINED_OUTSIDE_CLOSED = "zonecheck::lint::confined-outside-closed", "a class is confined to a zone whose trust is not `closed`";
    LINT_OVERLAPPING_ZONES = "zonecheck::lint::overlapping-zones", "a zone's prefix lies inside another zone's, and longest-prefix match silently decides between them";
    LINT_DUPLICATE_ENFORCEMENT = "zonecheck::lint::duplicate-enforcement", "a firewall and a switch both claim to separate the same two zones";
    LINT_APPLIANCE_SPECIAL = "zonecheck::lint::appliance-special", "a system of platform `appliance` holds a special class";
}

/// One finding, with everything needed to render it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub related: Vec<(Span, String)>,
    pub help: String,
}

impl Diag {
    pub(crate) fn error(code: Code, span: Span, message: impl Into<String>) -> Diag {
        Diag {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::from("here"),
            related: Vec::new(),
            help: String::from(code.summary),
        }
    }

    pub(crate) fn warning(code: Code, span: Span, message: impl Into<String>) -> Diag {
        Diag { severity: Severity::Warning, ..Diag::error(code, span, message) }
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Diag {
        self.label = label.into();
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Diag {
        self.help = help.into();
        self
    }

    pub(crate) fn related(mut self, span: Span, label: impl Into<String>) -> Diag {
        self.related.push((span, label.into()));
        self
    }

    /// Sort key: file, offset, code — so output order never depends on hash order.
    pub(crate) fn sort_key(&self) -> (FileId, u32, u32, &'static str) {
        (self.span.file, self.span.start, self.span.end, self.code.id)
    }

    /// A miette report for rendering; related spans in other files become related reports.
    pub(crate) fn to_report(&self, sources: &Sources) -> Report {
        let file = sources.get(self.span.file);
        let (name, text) = file.map_or(("<unknown>".to_string(), Arc::from("")), |f| (f.name.clone(), f.text.clone()));
        let mut spans: Vec<Span> = vec![self.span];
        spans.extend(self.related.iter().filter(|(s, _)| s.file == self.span.file).map(|(s, _)| *s));
        let mut labels = vec![LabeledSpan::new_primary_with_span(Some(self.label.clone()), clamp(self.span, &text))];
        let mut related = Vec::new();
        for (span, label) in &self.related {
            if span.file == self.span.file {
                labels.push(LabeledSpan::new_with_span(Some(label.clone()), clamp(*span, &text)));
            } else if let Some(other) = sources.get(span.file) {
                related.push(Report {
                    code: None,
                    severity: miette::Severity::Advice,
                    message: label.clone(),
                    help: None,
                    source: Window::around(other, &[*span]),
                    labels: vec![LabeledSpan::new_primary_with_span(Some(label.clone()), clamp(*span, &other.text))],
                    related: Vec::new(),
                });
            }
        }
        Report {
            code: Some(self.code.id),
            severity: match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            message: self.message.clone(),
            help: Some(self.help.clone()),
            source: file.map_or_else(|| Window::whole(name, text), |f| Window::around(f, &spans)),
            labels,
            related,
        }
    }
}

/// The part of a file a report shows: the lines around its labels, with their absolute
/// offsets and line numbers. miette finds a span's line by scanning its source from the
/// start, so handing it the whole file makes rendering many diagnostics of a large policy
/// quadratic; the window keeps each one proportional to the lines it shows.
#[derive(Clone, Debug)]
struct Window {
    name: String,
    text: Arc<str>,
    /// Byte offset and 0-based line number where the window starts.
    base: usize,
    first_line: usize,
    end: usize,
}

/// Lines of context kept on each side of the labels (miette shows fewer).
const WINDOW_LINES: usize = 8;

impl Window {
    fn whole(name: String, text: Arc<str>) -> Window {
        let end = text.len();
        Window { name, text, base: 0, first_line: 0, end }
    }

    fn around(file: &SourceFile, spans: &[Span]) -> Window {
        let text = file.text.clone();
        let starts = file.line_starts();
        let lo = spans.iter().map(|s| (s.start as usize).min(text.len())).min().unwrap_or(0);
        let hi = spans.iter().map(|s| (s.end as usize).min(text.len())).max().unwrap_or(0);
        let first = starts.partition_point(|s| *s <= lo).saturating_sub(1).saturating_sub(WINDOW_LINES);
        let last = starts.partition_point(|s| *s <= hi) + WINDOW_LINES;
        let base = starts.get(first).copied().unwrap_or(0);
        let end = starts.get(last).copied().unwrap_or(text.len()).min(text.len());
        Window { name: file.name.clone(), text, base, first_line: first, end }
    }
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let slice = self.text.get(self.base..self.end).ok_or(MietteError::OutOfBounds)?;
        let offset = span.offset().checked_sub(self.base).ok_or(MietteError::OutOfBounds)?;
        let inner: miette::SourceSpan = (offset, span.len()).into();
        let c = slice.read_span(&inner, context_lines_before, context_lines_after)?;
        let outer: miette::SourceSpan = (c.span().offset() + self.base, c.span().len()).into();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            outer,
            c.line() + self.first_line,
            c.column(),
            c.line_count(),
        )))
    }
}

fn clamp(span: Span, text: &str) -> miette::SourceSpan {
    let start = (span.start as usize).min(text.len());
    let end = (span.end as usize).clamp(start, text.len());
    (start, end - start).into()
}

/// A rendered-ready diagnostic implementing [`miette::Diagnostic`].
#[derive(Debug)]
pub(crate) struct Report {
    code: Option<&'static str>,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Window,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
        }
    }
}

/// Render diagnostics as text. `color` selects miette's coloured theme; tests and
/// non-terminals use the plain Unicode theme at a fixed width so output is stable.
pub fn render(diags: &[Diag], sources: &Sources, color: bool, width: usize) -> String {
    let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(width);
    let mut out = String::new();
    for diag in diags {
        if sources.get(diag.span.file).is_none() {
            let kind = if diag.severity == Severity::Error { "error" } else { "warning" };
            out.push_str(&format!("{kind}[{}]: {}\n  help: {}\n\n", diag.code, diag.message, diag.help));
            continue;
        }
        let report = diag.to_report(sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}: {}\n", diag.code, diag.message));
        }
    }
    out
}

/// Edit distance counting a swap of two adjacent letters as one edit (optimal string
/// alignment), for "did you mean" suggestions: `amd` is one edit from `adm`.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1).min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = best;
        }
    }
    d[a.len() * w + b.len()]
}

/// The closest candidate within a distance that scales with the word's length; a word
/// must keep more than half of itself, so one-letter names suggest nothing.
pub(crate) fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = word.chars().count();
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit && *d * 2 < len)
        .min()
        .map(|(_, c)| c)
}

/// "; did you mean `x`?" or nothing.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match suggest(word, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => String::new(),
    }
}
