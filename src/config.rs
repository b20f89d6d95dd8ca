//! `zonecheck.toml`: project settings that are not policy (DESIGN.md §7).
//!
//! Found beside the policy (in its directory, or beside a single file) or given with
//! `--config`. Unknown keys are errors with a span, like policy errors.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostics::{Diag, Severity, Sources, Span, code};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Lint name → "allow" | "warn" | "error".
    #[serde(default)]
    pub lints: std::collections::BTreeMap<String, LintLevel>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LintLevel {
    Allow,
    Warn,
    Error,
}

impl Config {
    /// Lint severities as the verifier takes them (`None` = off).
    pub fn severities(&self) -> Vec<(String, Option<Severity>)> {
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
pub fn default_path(policy: &Path) -> PathBuf {
    let dir = if policy.is_dir() { policy } else { policy.parent().unwrap_or(Path::new(".")) };
    dir.join("zonecheck.toml")
}

/// Parse a config text. Errors carry spans into `sources`.
pub fn parse(name: &str, text: &str, sources: &mut Sources) -> Result<Config, Vec<Diag>> {
    let file = sources.add(name, text);
    let config: Config = toml::from_str(text).map_err(|e| {
        let span = e.span().map_or(Span::new(file, 0, 0), |r| Span::new(file, r.start, r.end));
        let msg = e.message().to_string();
        let code = if msg.starts_with("unknown field") { code::CONFIG_UNKNOWN_KEY } else { code::CONFIG_INVALID };
        vec![Diag::error(code, span, msg.replace('\n', " ")).help("see README.md, section zonecheck.toml, for the keys zonecheck knows")]
    })?;
    let mut diags = Vec::new();
    for name in config.lints.keys() {
        if !crate::model::LINTS.contains(&name.as_str()) {
            let span = text.find(&format!("{name} ")).or_else(|| text.find(name.as_str())).map_or(Span::new(file, 0, 0), |at| Span::new(file, at, at + name.len()));
            let hint = crate::diagnostics::did_you_mean(name, crate::model::LINTS.iter().copied());
            diags.push(
                Diag::error(code::CONFIG_UNKNOWN_KEY, span, format!("unknown lint `{name}`"))
                    .help(if hint.is_empty() { format!("lints are {}", crate::model::LINTS.join(", ")) } else { hint }),
            );
        }
    }
    if diags.is_empty() { Ok(config) } else { Err(diags) }
}

/// Load the config for a policy: an explicit path must exist; the default may be absent.
pub fn load(policy: &Path, explicit: Option<&Path>, sources: &mut Sources) -> Result<Config, Vec<Diag>> {
    let path = explicit.map_or_else(|| default_path(policy), Path::to_path_buf);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path.display().to_string(), &text, sources),
        Err(e) if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(vec![
            Diag::error(code::IO_UNREADABLE, Span::NONE, format!("cannot read `{}`: {e}", path.display())).help("check the --config path"),
        ]),
    }
}
