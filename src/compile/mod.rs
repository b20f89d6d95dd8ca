//! Stage 4: compile a proved policy into a bundle of device configurations (DESIGN.md §5).
//!
//! [`compile`] lowers the model per enforcement point ([`lower`]), renders each through
//! the target's templates ([`crate::targets`]) and returns an in-memory [`Bundle`];
//! [`bundle::write`] puts it on disk atomically. Nothing here runs unless verify passes.

pub mod addr;
pub mod bundle;
pub mod escape;
pub mod lower;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::diagnostics::{Diag, code};
use crate::model::{Model, Target};
use crate::targets::Templates;
use crate::targets::nftables::{self, NftOptions};
use lower::{Enforcer, HostOrDevice};

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only this device or host.
    pub device: Option<String>,
    pub nftables: NftOptions,
}

/// One generated file.
#[derive(Clone, Debug)]
pub struct BundleFile {
    /// Path inside the bundle, `/`-separated (`firewall/fw-kjerne.nft`).
    pub path: String,
    pub device: String,
    /// `firewall`, `switch` or `host`.
    pub kind: &'static str,
    pub target: &'static str,
    pub bytes: Vec<u8>,
    pub chains: usize,
    pub rules: usize,
    pub elements: usize,
}

#[derive(Clone, Debug)]
pub struct Bundle {
    pub policy_name: Option<String>,
    /// sha256 over the policy's sources (base name and content of each file, in order).
    pub policy_digest: String,
    pub sources: Vec<(String, String)>,
    /// Sorted by path.
    pub files: Vec<BundleFile>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The policy digest: independent of the directory the policy was read from.
pub fn policy_digest(model: &Model) -> (String, Vec<(String, String)>) {
    let mut hasher = Sha256::new();
    let mut sources = Vec::new();
    for (_, f) in model.sources.iter() {
        let base = f.name.rsplit(['/', '\\']).next().unwrap_or(&f.name).to_string();
        hasher.update((base.len() as u64).to_le_bytes());
        hasher.update(base.as_bytes());
        hasher.update((f.text.len() as u64).to_le_bytes());
        hasher.update(f.text.as_bytes());
        sources.push((base, sha256_hex(f.text.as_bytes())));
    }
    (hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(), sources)
}

/// Interface names the device's target cannot take, as diagnostics.
fn check_names(model: &Model) -> Vec<Diag> {
    let mut diags = Vec::new();
    for d in &model.devices {
        if d.target != Target::Nftables {
            continue;
        }
        for i in &d.interfaces {
            if let Some(problem) = escape::nft_ifname_problem(&i.name) {
                diags.push(
                    Diag::error(
                        code::COMPILE_INTERFACE_NAME,
                        i.span,
                        format!("`{}` cannot be an nftables interface name: {problem}", i.name),
                    )
                    .help("write the interface as the Linux kernel names it, e.g. `eth1`, `ens192` or `zc-srv`"),
                );
            }
        }
    }
    diags
}

/// Compile every enforcement point (or the one named in `options.device`).
pub fn compile(model: &Model, options: &Options, templates: &Templates) -> Result<Bundle, Vec<Diag>> {
    let diags = check_names(model);
    if !diags.is_empty() {
        return Err(diags);
    }
    let (digest, sources) = policy_digest(model);
    let mut devices = lower::lower(model);
    if let Some(name) = &options.device {
        devices.retain(|d| &d.name == name);
        if devices.is_empty() {
            let all: Vec<&str> = model
                .devices
                .iter()
                .map(|d| d.name.as_str())
                .chain(model.systems.iter().map(|s| s.name.as_str()))
                .collect();
            let hint = crate::diagnostics::did_you_mean(name, all);
            return Err(vec![
                Diag::error(
                    code::COMPILE_NO_DEVICE,
                    crate::diagnostics::Span::NONE,
                    format!("no device or host is named `{name}`"),
                )
                .help(if hint.is_empty() {
                    "give the name of a firewall, switch or Linux/Windows system".into()
                } else {
                    hint
                }),
            ]);
        }
    }
    let mut files = BTreeMap::new();
    for d in &devices {
        let (dir, kind, target) = match (d.enforcer, d.target) {
            (Enforcer::Device(id), HostOrDevice::Device(Target::Nftables)) => {
                let kind = match model.devices[id.index()].kind {
                    crate::model::DeviceKind::Firewall => "firewall",
                    crate::model::DeviceKind::Switch => "switch",
                };
                (kind, kind, "nftables")
            }
            (Enforcer::Host(_), HostOrDevice::LinuxHost) => ("host", "host", "nftables"),
            // Windows hosts and switch ACL targets are rendered by their own targets.
            _ => continue,
        };
        let (text, stats) = nftables::render(model, d, templates, &options.nftables, &digest).map_err(|e| vec![e])?;
        let path = format!("{dir}/{}.nft", d.name);
        files.insert(
            path.clone(),
            BundleFile {
                path,
                device: d.name.clone(),
                kind,
                target,
                bytes: text.into_bytes(),
                chains: stats.chains,
                rules: stats.rules,
                elements: stats.elements,
            },
        );
    }
    Ok(Bundle {
        policy_name: model.meta.name.clone(),
        policy_digest: digest,
        sources,
        files: files.into_values().collect(),
    })
}
