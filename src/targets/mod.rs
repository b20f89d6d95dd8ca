//! Stage: rendering lowered rule models into device configurations through minijinja
//! templates. The default templates (`targets/` in the source tree) are compiled into the
//! binary; `--templates DIR` overrides any of them by file name. Templates only ever see
//! the lowered model with every policy string already escaped for the target.

pub(crate) mod acl;
pub(crate) mod aoscx;
pub(crate) mod eos;
pub(crate) mod escape;
pub(crate) mod ios;
pub(crate) mod junos;
pub(crate) mod nftables;
pub(crate) mod powershell;
pub(crate) mod windows;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::diagnostics::{Diag, Span, code};
use crate::model::{FlowId, Model};

/// Built-in templates: (target directory/file name, text).
const BUILTIN: &[(&str, &str)] = &[
    ("nftables/firewall.nft.j2", include_str!("../../targets/nftables/firewall.nft.j2")),
    ("nftables/host.nft.j2", include_str!("../../targets/nftables/host.nft.j2")),
    ("nftables/chain.nft.j2", include_str!("../../targets/nftables/chain.nft.j2")),
    // windows templates
    ("windows/host.ps1.j2", include_str!("../../targets/windows/host.ps1.j2")),
    // switch ACL templates
    ("cisco-ios/switch.j2", include_str!("../../targets/cisco-ios/switch.j2")),
    ("aruba-aoscx/switch.j2", include_str!("../../targets/aruba-aoscx/switch.j2")),
    ("junos/switch.j2", include_str!("../../targets/junos/switch.j2")),
    ("arista-eos/switch.j2", include_str!("../../targets/arista-eos/switch.j2")),
];

/// The flow's stable name in generated files (see [`Model::flow_id`]).
pub(crate) fn flow_id(model: &Model, f: FlowId) -> &str {
    model.flow_id(f)
}

/// Counts for the bundle summary (and the TCAM budget of switches).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub chains: usize,
    /// Rules, firewall rules or ACL entries, as the target counts them.
    pub rules: usize,
    pub elements: usize,
}

/// Template instructions any one render may spend: a bound on a runaway override template
/// (a loop over a loop), raised with the input ([`Templates::for_input`]).
const BASE_FUEL: u64 = 50_000_000;
/// Instructions one lowered permit may cost a render: the built-in templates spend a few
/// dozen per rule or set element, and a permit yields a handful of those.
const FUEL_PER_PERMIT: u64 = 1_000;

/// The template set: built-ins, each optionally replaced by a file from an override directory.
#[derive(Clone)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Result<Templates, Diag> {
        Templates::with_overrides(Vec::new())
    }

    /// The built-in templates, those named in `overrides` replaced by the text given (a
    /// `--templates` directory's files, which the caller reads: this stage does no I/O).
    pub fn with_overrides(overrides: Vec<(&str, String)>) -> Result<Templates, Diag> {
        let mut env = Environment::new();
        // Strict: a misspelt variable in a user's template is an error, not empty output.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(false);
        env.set_fuel(Some(BASE_FUEL));
        let mut overrides: std::collections::BTreeMap<&str, String> = overrides.into_iter().collect();
        for (name, text) in BUILTIN {
            let source = overrides.remove(name).unwrap_or_else(|| (*text).to_string());
            env.add_template_owned(name.to_string(), source).map_err(|e| template_error(name, &e))?;
        }
        if let Some(name) = overrides.keys().next() {
            return Err(Diag::error(
                code::COMPILE_TEMPLATE,
                Span::NONE,
                format!("`{name}` is no template of zonecheck"),
            )
            .help(format!("the templates are {}", Templates::names().collect::<Vec<_>>().join(", "))));
        }
        Ok(Templates { env })
    }

    /// The names of the templates (paths inside `targets/`), in a fixed order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(name, _)| *name)
    }

    /// These templates with fuel for renders of devices of up to `permits` lowered permits
    /// (a fixed budget stopped the core firewall of a 1,000,000-flow policy), or `None`
    /// when the base budget covers them.
    pub(crate) fn for_input(&self, permits: usize) -> Option<Templates> {
        let need = (permits as u64).saturating_mul(FUEL_PER_PERMIT);
        (need > BASE_FUEL).then(|| {
            let mut t = self.clone();
            t.env.set_fuel(Some(need));
            t
        })
    }

    pub(crate) fn render(&self, name: &str, ctx: impl serde::Serialize) -> Result<String, Diag> {
        let t = self.env.get_template(name).map_err(|e| template_error(name, &e))?;
        t.render(ctx).map_err(|e| template_error(name, &e))
    }
}

fn template_error(name: &str, e: &minijinja::Error) -> Diag {
    let mut msg = format!("template `{name}`: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    Diag::error(code::COMPILE_TEMPLATE, Span::NONE, msg.replace('\n', " "))
        .help("fix the template (templates receive the lowered rule model; see targets/ for the built-in ones)")
}
