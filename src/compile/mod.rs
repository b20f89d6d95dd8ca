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
    /// Only these targets (empty: all).
    pub targets: Vec<TargetName>,
    pub nftables: NftOptions,
    pub windows: crate::targets::windows::WindowsOptions,
    pub acl: crate::targets::acl::AclOptions,
}

/// The targets `compile --target` can select.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetName {
    Nftables,
    Windows,
    CiscoIos,
    ArubaAoscx,
    Junos,
    AristaEos,
}

impl TargetName {
    pub const ALL: [(TargetName, &'static str); 6] = [
        (TargetName::Nftables, "nftables"),
        (TargetName::Windows, "windows"),
        (TargetName::CiscoIos, "cisco-ios"),
        (TargetName::ArubaAoscx, "aruba-aoscx"),
        (TargetName::Junos, "junos"),
        (TargetName::AristaEos, "arista-eos"),
    ];

    pub fn name(self) -> &'static str {
        TargetName::ALL.iter().find(|(t, _)| *t == self).map_or("?", |(_, n)| n)
    }

    pub fn parse(s: &str) -> Option<TargetName> {
        TargetName::ALL.iter().find(|(_, n)| *n == s).map(|(t, _)| *t)
    }

    fn of_device(t: Target) -> TargetName {
        match t {
            Target::Nftables => TargetName::Nftables,
            Target::CiscoIos => TargetName::CiscoIos,
            Target::ArubaAoscx => TargetName::ArubaAoscx,
            Target::Junos => TargetName::Junos,
            Target::AristaEos => TargetName::AristaEos,
        }
    }

    /// The bundle file extension of a switch configuration.
    fn switch_extension(self) -> &'static str {
        match self {
            TargetName::CiscoIos => "ios",
            TargetName::ArubaAoscx => "aoscx",
            TargetName::Junos => "junos",
            TargetName::AristaEos => "eos",
            TargetName::Nftables | TargetName::Windows => "txt",
        }
    }
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
    /// The device's TCAM budget (switches), when the policy sets one.
    pub tcam: Option<u64>,
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
    let mut diags = Vec::new();
    for d in &devices {
        let target = match (d.enforcer, d.target) {
            (_, HostOrDevice::Device(t)) => TargetName::of_device(t),
            (_, HostOrDevice::LinuxHost) => TargetName::Nftables,
            (_, HostOrDevice::WindowsHost) => TargetName::Windows,
        };
        if !options.targets.is_empty() && !options.targets.contains(&target) {
            continue;
        }
        let (kind, tcam) = match d.enforcer {
            Enforcer::Device(id) => {
                let dev = &model.devices[id.index()];
                let kind = match dev.kind {
                    crate::model::DeviceKind::Firewall => "firewall",
                    crate::model::DeviceKind::Switch => "switch",
                };
                (kind, dev.tcam)
            }
            Enforcer::Host(_) => ("host", None),
        };
        let rendered = match target {
            TargetName::Nftables => nftables::render(model, d, templates, &options.nftables, &digest)
                .map(|(text, stats)| (text.into_bytes(), stats, "nft"))
                .map_err(|e| vec![e]),
            TargetName::Windows => crate::targets::windows::render(model, d, templates, &options.windows, &digest)
                .map(|(bytes, stats)| (bytes, stats, "ps1")),
            switch => crate::targets::acl::render(model, d, templates, &options.acl, &digest)
                .map(|(bytes, stats)| (bytes, stats, switch.switch_extension())),
        };
        let (bytes, stats, ext) = match rendered {
            Ok(r) => r,
            Err(e) => {
                diags.extend(e);
                continue;
            }
        };
        let path = format!("{kind}/{}.{ext}", d.name);
        files.insert(
            path.clone(),
            BundleFile {
                path,
                device: d.name.clone(),
                kind,
                target: target.name(),
                bytes,
                chains: stats.chains,
                rules: stats.rules,
                elements: stats.elements,
                tcam,
            },
        );
    }
    if !diags.is_empty() {
        diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        diags.dedup();
        return Err(diags);
    }
    Ok(Bundle {
        policy_name: model.meta.name.clone(),
        policy_digest: digest,
        sources,
        files: files.into_values().collect(),
    })
}
