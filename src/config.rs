//! `zonecheck.toml`: project settings that are not policy (DESIGN.md §7).
//!
//! Found beside the policy (in its directory, or beside a single file) or given with
//! `--config`. Unknown keys are errors with a span, like policy errors.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostics::{Diag, Severity, Sources, Span, code};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Lint name → "allow" | "warn" | "error".
    #[serde(default)]
    pub lints: std::collections::BTreeMap<String, LintLevel>,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub nftables: Nftables,
    #[serde(default)]
    pub acl: Acl,
    #[serde(default)]
    pub windows: Windows,
}

/// `[acl]`: stateless switch ACLs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Acl {
    /// The clients' ephemeral port range that UDP answers may go to, e.g. `[49152, 65535]`.
    pub ephemeral: Option<(u16, u16)>,
}

/// `[windows]`: Windows Defender Firewall scripts.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Windows {
    /// The firewall rule group the scripts own.
    pub group: Option<String>,
}

/// `[output]`: where `compile` writes and which templates it uses, unless the command line says.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Output {
    pub dir: Option<PathBuf>,
    pub templates: Option<PathBuf>,
}

/// `[nftables]`: the table zonecheck owns and how fast it logs drops.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Nftables {
    pub table: Option<String>,
    pub log_rate: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LintLevel {
    Allow,
    Warn,
    Error,
}

impl Config {
    /// The ACL options `[acl]` sets, over the defaults.
    pub(crate) fn acl_options(&self) -> crate::targets::acl::AclOptions {
        let mut acl = crate::targets::acl::AclOptions::default();
        if let Some(range) = self.acl.ephemeral {
            acl.ephemeral = range;
        }
        acl
    }

    /// Lint severities as the verifier takes them (`None` = off).
    pub(crate) fn severities(&self) -> Vec<(String, Option<Severity>)> {
        self.lints
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    LintLevel::Allow => None,
                    LintLevel::Warn => Some(Severity::Warning),
                    LintLevel::Error => Some(Severity::Error),
                };
                (k.clone(), s)
            })
            .collect()
    }
}

/// Where `zonecheck.toml` would be for a policy path.
pub(crate) fn default_path(policy: &Path) -> PathBuf {
    let dir = if policy.is_dir() { policy } else { policy.parent().unwrap_or(Path::new(".")) };
    dir.join("zonecheck.toml")
}

/// The sections of zonecheck.toml and their keys (`None`: any key, as lint names are
/// checked against the lints below).
const SECTIONS: &[(&str, Option<&[&str]>)] = &[
    ("lints", None),
    ("output", Some(&["dir", "templates"])),
    ("nftables", Some(&["table", "log_rate"])),
    ("acl", Some(&["ephemeral"])),
    ("windows", Some(&["group"])),
];

/// Every problem of the TOML itself (syntax, unknown sections and keys, values of the
/// wrong type), all in one pass: the parser recovers, and each key is deserialized on
/// its own so one bad value does not hide the next. Returns the document with the bad
/// entries removed, for the checks of the values that parse.
///
/// Also returns where each kept key and its value are, by (section, key), from the parser:
/// the checks of the values point there (a text search would find the first occurrence of
/// the same words, in a comment or another section).
fn structure<'i>(
    text: &'i str,
    file: crate::diagnostics::FileId,
    diags: &mut Vec<Diag>,
) -> (toml::de::DeTable<'i>, KeySpans) {
    use toml::de::{DeTable, DeValue};
    let span_of = |r: std::ops::Range<usize>| Span::new(file, r.start, r.end);
    let doc_help = "see README.md, section zonecheck.toml, for the keys zonecheck knows";
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let span = e.span().map_or(Span::new(file, 0, 0), span_of);
        diags.push(Diag::error(code::CONFIG_INVALID, span, e.message().replace('\n', " ")).help("fix the TOML syntax"));
    }
    let mut kept = DeTable::new();
    let mut spans = KeySpans::new();
    for (key, value) in doc.into_inner() {
        let Some((section, keys)) = SECTIONS.iter().find(|(n, _)| *n == key.get_ref().as_ref()) else {
            let hint = crate::diagnostics::did_you_mean(key.get_ref(), SECTIONS.iter().map(|(n, _)| *n));
            diags.push(
                Diag::error(
                    code::CONFIG_UNKNOWN_KEY,
                    span_of(key.span()),
                    format!("unknown section `{}`", key.get_ref()),
                )
                .help(if hint.is_empty() {
                    format!(
                        "sections are {}",
                        SECTIONS.iter().map(|(n, _)| format!("[{n}]")).collect::<Vec<_>>().join(", ")
                    )
                } else {
                    hint
                }),
            );
            continue;
        };
        let value_span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            diags.push(
                Diag::error(
                    code::CONFIG_INVALID,
                    span_of(value_span),
                    format!("`{section}` must be a table: `[{section}]`"),
                )
                .help(doc_help),
            );
            continue;
        };
        let mut good = DeTable::new();
        for (k, v) in table {
            if let Some(known) = keys
                && !known.contains(&k.get_ref().as_ref())
            {
                let hint = crate::diagnostics::did_you_mean(k.get_ref(), known.iter().copied());
                diags.push(
                    Diag::error(
                        code::CONFIG_UNKNOWN_KEY,
                        span_of(k.span()),
                        format!("unknown key `{}` in [{section}]", k.get_ref()),
                    )
                    .help(if hint.is_empty() {
                        format!("[{section}] knows {}", known.join(", "))
                    } else {
                        hint
                    }),
                );
                continue;
            }
            // Deserialize the key alone, as its section would.
            let mut one = DeTable::new();
            let v_span = v.span();
            one.insert(k.clone(), v.clone());
            let de = toml::de::ValueDeserializer::from(toml::Spanned::new(v_span.clone(), DeValue::Table(one)));
            let result = match *section {
                "lints" => std::collections::BTreeMap::<String, LintLevel>::deserialize(de).map(drop),
                "output" => Output::deserialize(de).map(drop),
                "nftables" => Nftables::deserialize(de).map(drop),
                "acl" => Acl::deserialize(de).map(drop),
                _ => Windows::deserialize(de).map(drop),
            };
            match result {
                Ok(()) => {
                    spans.insert(
                        (section.to_string(), k.get_ref().to_string()),
                        (span_of(k.span()), span_of(v_span.clone())),
                    );
                    good.insert(k, v);
                }
                Err(e) => {
                    let span = e.span().map_or(span_of(v_span), span_of);
                    diags.push(
                        Diag::error(
                            code::CONFIG_INVALID,
                            span,
                            format!("[{section}] {}: {}", k.get_ref(), e.message().replace('\n', " ")),
                        )
                        .help(doc_help),
                    );
                }
            }
        }
        kept.insert(key, toml::Spanned::new(value_span, DeValue::Table(good)));
    }
    (kept, spans)
}

/// (section, key) → (the key's span, the value's span).
type KeySpans = std::collections::HashMap<(String, String), (Span, Span)>;

/// Parse a config text. Every problem is reported, each with a span into `sources`.
pub(crate) fn parse(name: &str, text: &str, sources: &mut Sources) -> Result<Config, Vec<Diag>> {
    let file = sources.add(name, text);
    let mut diags = Vec::new();
    let (kept, spans) = structure(text, file, &mut diags);
    let end = text.len();
    let config = match Config::deserialize(toml::de::ValueDeserializer::from(toml::Spanned::new(
        0..end,
        toml::de::DeValue::Table(kept),
    ))) {
        Ok(c) => c,
        Err(e) => {
            // Not expected once every key passed on its own; report rather than panic.
            let span = e.span().map_or(Span::new(file, 0, 0), |r| Span::new(file, r.start, r.end));
            diags.push(
                Diag::error(code::CONFIG_INVALID, span, e.message().replace('\n', " "))
                    .help("see README.md, section zonecheck.toml, for the keys zonecheck knows"),
            );
            return Err(diags);
        }
    };
    let none = Span::new(file, 0, 0);
    let at = |section: &str, key: &str| spans.get(&(section.to_string(), key.to_string())).map_or(none, |s| s.1);
    if let Some(t) = &config.nftables.table {
        let ok = t.len() <= 64
            && t.starts_with(|c: char| c.is_ascii_lowercase())
            && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !NFT_KEYWORDS.contains(&t.as_str());
        if !ok {
            diags.push(
                Diag::error(
                    code::CONFIG_INVALID,
                    at("nftables", "table"),
                    format!("`{t}` cannot name an nftables table"),
                )
                .help("use lowercase letters, digits and `_`, starting with a letter, e.g. `zonecheck`"),
            );
        }
    }
    if let Some(r) = &config.nftables.log_rate
        && !valid_rate(r)
    {
        diags.push(
                Diag::error(code::CONFIG_INVALID, at("nftables", "log_rate"), format!("`{r}` is not an nftables rate"))
                    .help("write `N/second` (or minute, hour, day), optionally with `burst N packets`, e.g. `10/second burst 20 packets`"),
            );
    }
    if let Some((lo, hi)) = config.acl.ephemeral
        && (lo == 0 || lo > hi)
    {
        diags.push(
            Diag::error(code::CONFIG_INVALID, at("acl", "ephemeral"), format!("`[{lo}, {hi}]` is not a port range"))
                .help("give the low and the high port, 1 to 65535, e.g. `ephemeral = [49152, 65535]`"),
        );
    }
    if let Some(g) = &config.windows.group
        && let Some(problem) = crate::targets::windows::group_problem(g)
    {
        diags.push(
            Diag::error(
                code::CONFIG_INVALID,
                at("windows", "group"),
                format!("`{g}` cannot name a firewall rule group: {problem}"),
            )
            .help("use letters, digits, `-` and `_`, e.g. `zonecheck`"),
        );
    }
    for name in config.lints.keys() {
        if crate::diagnostics::Lint::named(name).is_none() {
            let span = spans.get(&("lints".to_string(), name.clone())).map_or(none, |s| s.0);
            let hint = crate::diagnostics::did_you_mean(name, crate::diagnostics::Lint::names());
            diags.push(Diag::error(code::CONFIG_UNKNOWN_KEY, span, format!("unknown lint `{name}`")).help(
                if hint.is_empty() {
                    format!("lints are {}", crate::diagnostics::Lint::names().collect::<Vec<_>>().join(", "))
                } else {
                    hint
                },
            ));
        }
    }
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    if diags.is_empty() { Ok(config) } else { Err(diags) }
}

/// Load the config for a policy: an explicit path must exist; the default may be absent.
pub(crate) fn load(policy: &Path, explicit: Option<&Path>, sources: &mut Sources) -> Result<Config, Vec<Diag>> {
    let path = explicit.map_or_else(|| default_path(policy), Path::to_path_buf);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path.display().to_string(), &text, sources),
        Err(e) if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(vec![
            Diag::error(code::IO_UNREADABLE, Span::NONE, format!("cannot read `{}`: {e}", path.display()))
                .help("check the --config path"),
        ]),
    }
}

/// Words nft reads as keywords where a table name stands.
const NFT_KEYWORDS: &[&str] = &[
    "table", "chain", "set", "map", "rule", "inet", "ip", "ip6", "arp", "bridge", "netdev", "flush", "delete", "add",
    "list", "filter", "nat", "fwd",
];

/// `N/unit` with an optional `burst N packets`.
fn valid_rate(r: &str) -> bool {
    let words: Vec<&str> = r.split_whitespace().collect();
    let rate_ok = |w: &str| {
        w.split_once('/').is_some_and(|(n, unit)| {
            !n.is_empty()
                && n.len() <= 9
                && n.bytes().all(|b| b.is_ascii_digit())
                && matches!(unit, "second" | "minute" | "hour" | "day")
        })
    };
    match words.as_slice() {
        [rate] => rate_ok(rate),
        [rate, "burst", n, "packets"] => {
            rate_ok(rate) && !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each finding points at the key or value the parser read, not at the first place the
    /// same words occur (a comment, another section).
    #[test]
    fn findings_point_at_the_value_the_parser_read() {
        let text = "# Was: table = \"Bad\" and closed-egres = \"error\" (typo)\n\
                    [windows]\ngroup = \"Bad\"\n\
                    [nftables]\ntable = \"Bad\"\nlog_rate = \"10/second\"\n\
                    [lints]\nclosed-egres = \"error\"\n";
        let mut sources = Sources::default();
        let diags = parse("zonecheck.toml", text, &mut sources).expect_err("two mistakes");
        let at: Vec<(&str, usize)> =
            diags.iter().map(|d| (sources.snippet(d.span), sources.line_col(d.span).0)).collect();
        assert_eq!(at, [("\"Bad\"", 5), ("closed-egres", 8)], "{diags:?}");
    }
}
