//! Stage 4: compile a proved policy into a bundle of device configurations (DESIGN.md §5).
//!
//! [`compile`] lowers the model per enforcement point (`lower`), renders each through
//! the target's templates ([`crate::targets`]) and returns an in-memory [`Bundle`];
//! `bundle::write` puts it on disk atomically. Nothing here runs unless verify passes.

pub(crate) mod bundle;

use std::collections::BTreeMap;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::diagnostics::{Diag, code};
use crate::lower::{self, addr};
use crate::model::{Enforcer, HostOrDevice};
use crate::model::{Model, Target};
use crate::targets::Templates;
use crate::targets::escape;
use crate::targets::nftables::{self, NftOptions};
use crate::verify::Proved;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only this device or host.
    pub device: Option<String>,
    /// Only these targets (empty: all).
    pub targets: Vec<Target>,
    pub nftables: NftOptions,
    pub windows: crate::targets::windows::WindowsOptions,
    pub acl: crate::targets::acl::AclOptions,
    /// The bundle in the output directory before this one, by device file path: what its
    /// manifest recorded, for the switch files' rollback steps (empty: none).
    pub previous: BTreeMap<String, PreviousFile>,
}

/// A device file of the previous bundle, as its manifest recorded it.
#[derive(Clone, Debug, Default)]
pub struct PreviousFile {
    pub sha256: String,
    pub acls: crate::targets::acl::PreviousAcls,
}

/// The bundle file extension of a target's files.
fn extension(target: Target) -> &'static str {
    match target {
        Target::Nftables => "nft",
        Target::Windows => "ps1",
        Target::CiscoIos => "ios",
        Target::ArubaAoscx => "aoscx",
        Target::Junos => "junos",
        Target::AristaEos => "eos",
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
    pub target: Target,
    pub bytes: Vec<u8>,
    pub chains: usize,
    pub rules: usize,
    pub elements: usize,
    /// The device's TCAM budget (switches), when the policy sets one.
    pub tcam: Option<u64>,
    /// The ACLs of a switch file, with what each rolls back to.
    pub acls: Vec<crate::targets::acl::AclRecord>,
}

#[derive(Clone, Debug)]
pub struct Bundle {
    pub policy_name: Option<String>,
    /// sha256 over the policy's sources (base name and content of each file, in order).
    pub policy_digest: String,
    pub sources: Vec<(String, String)>,
    /// Every flow's id, file and line (the manifest's line map).
    pub flows: Vec<bundle::FlowEntry>,
    /// Sorted by path.
    pub files: Vec<BundleFile>,
    /// Declared flows that no rule carries (`zonecheck::compile::unenforced-flow`).
    pub warnings: Vec<Diag>,
    /// The nftables table and Windows rule group the files use (zonecheck.toml), for the
    /// deployment steps of `SUMMARY.md`.
    pub nft_table: String,
    pub windows_group: String,
}

impl Bundle {
    /// The device files as the checker takes them.
    pub fn generated(&self) -> Vec<crate::check::Generated<'_>> {
        self.files
            .iter()
            .map(|f| crate::check::Generated {
                path: &f.path,
                device: &f.device,
                host: f.kind == "host",
                target: f.target,
                bytes: &f.bytes,
            })
            .collect()
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The policy digest: independent of the directory the policy was read from.
pub(crate) fn policy_digest(model: &Model) -> (String, Vec<(String, String)>) {
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

/// Why compile wrote nothing.
#[derive(Debug)]
pub enum Refusal {
    /// The policy cannot be rendered (an interface name, an unsafe string, a flow whose
    /// address families cannot meet, a template): diagnostics for the author.
    Diags(Vec<Diag>),
    /// A generated file does not permit exactly what the policy permits: our own mistake
    /// (or the given templates'). The bundle is returned for the report, never written.
    SelfCheck { bundle: Bundle, mismatched: Vec<crate::check::DeviceCheck> },
    /// The policy does not pass verify ([`compile_model`]): its verdict.
    Unproved(Box<crate::verify::Verdict>),
}

/// Prove `model` as of `today` with the default verify options, then [`compile`] it: the
/// one call for a caller holding a model (tests, benchmarks, tools built on the library).
pub fn compile_model(
    model: &Model,
    options: &Options,
    templates: &Templates,
    today: crate::syntax::date::Date,
) -> Result<Bundle, Refusal> {
    let proved = crate::verify::prove(model, &Default::default(), today).map_err(Refusal::Unproved)?;
    compile(&proved, options, templates)
}

/// Compile every enforcement point (or the one named in `options.device`) of a proved
/// policy, and read every generated file back: the bundle only if each permits exactly
/// what the policy permits (fail closed on our own mistakes).
pub fn compile(proved: &Proved, options: &Options, templates: &Templates) -> Result<Bundle, Refusal> {
    // The checker states on its own what each device must permit: the lowering is not
    // consulted (so a mistake in it shows here too), and its memory is given back first.
    let (bundle, lowered) = build(proved, options, templates).map_err(Refusal::Diags)?;
    drop(lowered);
    let files = bundle.generated();
    let mismatched = crate::check::check_bundle(proved.model(), &files, &options.acl);
    drop(files);
    if mismatched.is_empty() { Ok(bundle) } else { Err(Refusal::SelfCheck { bundle, mismatched }) }
}

/// [`compile`] without the self-check, with the lowered rules of the devices compiled
/// (benchmarks of rendering alone, and callers that check the files themselves).
pub(crate) fn build(
    proved: &Proved,
    options: &Options,
    templates: &Templates,
) -> Result<(Bundle, Vec<lower::DeviceRules>), Vec<Diag>> {
    let model = proved.model();
    let diags = check_names(model);
    if !diags.is_empty() {
        return Err(diags);
    }
    let (digest, sources) = policy_digest(model);
    let mut devices = lower::lower(model);
    let (unenforced_errors, mut warnings): (Vec<Diag>, Vec<Diag>) =
        unenforced_flows(model, &devices).into_iter().partition(|d| d.severity == crate::diagnostics::Severity::Error);
    warnings.extend(self_guard(model, &devices));
    if !unenforced_errors.is_empty() {
        return Err(unenforced_errors);
    }
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
    // The template budget follows the largest device (a bound on runaway templates, not
    // on policies).
    let largest = devices.iter().map(|d| d.chains.iter().map(|c| c.permits.len()).sum::<usize>()).max().unwrap_or(0);
    let scaled = templates.for_input(largest);
    let templates = scaled.as_ref().unwrap_or(templates);
    // Devices render independently (one shared, read-only model): in parallel, gathered
    // back in device order, so the bundle and the diagnostics are those of a serial run.
    let rendered: Vec<Option<Result<BundleFile, Vec<Diag>>>> =
        devices.par_iter().map(|d| render_device(model, d, options, templates, &digest)).collect();
    let mut files = BTreeMap::new();
    let mut diags = Vec::new();
    for r in rendered.into_iter().flatten() {
        match r {
            Ok(f) => {
                files.insert(f.path.clone(), f);
            }
            Err(e) => diags.extend(e),
        }
    }
    if !diags.is_empty() {
        diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        diags.dedup();
        return Err(diags);
    }
    let bundle = Bundle {
        policy_name: model.meta.name.clone(),
        policy_digest: digest,
        sources,
        flows: bundle::flow_map(model),
        files: files.into_values().collect(),
        warnings,
        nft_table: options.nftables.table.clone(),
        windows_group: options.windows.group.clone(),
    };
    Ok((bundle, devices))
}

/// One device's file, or `None` when its target is not selected.
fn render_device(
    model: &Model,
    d: &lower::DeviceRules,
    options: &Options,
    templates: &Templates,
    digest: &str,
) -> Option<Result<BundleFile, Vec<Diag>>> {
    let target = match d.target {
        HostOrDevice::Device(t) => t,
        HostOrDevice::LinuxHost => Target::Nftables,
        HostOrDevice::WindowsHost => Target::Windows,
    };
    if !options.targets.is_empty() && !options.targets.contains(&target) {
        return None;
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
    let path = format!("{kind}/{}.{}", d.name, extension(target));
    let rendered = match target {
        Target::Nftables => nftables::render(model, d, templates, &options.nftables)
            .map(|(text, stats)| (text.into_bytes(), stats, Vec::new()))
            .map_err(|e| vec![e]),
        Target::Windows => crate::targets::windows::render(model, d, templates, &options.windows, digest)
            .map(|(bytes, stats)| (bytes, stats, Vec::new())),
        _ => render_switch(model, d, templates, &options.acl, options.previous.get(&path)),
    };
    Some(rendered.map(|(bytes, stats, acls)| BundleFile {
        path,
        device: d.name.clone(),
        kind,
        target,
        bytes,
        chains: stats.chains,
        rules: stats.rules,
        elements: stats.elements,
        tcam,
        acls,
    }))
}

/// A switch file, its counts and its ACLs. Its rollback steps name the previous bundle's
/// ACLs; when none of the ACLs changed they repeat what the previous file said (so the file
/// stays byte-identical) — unless the file changed all the same (a label, a zone name), in
/// which case rolling it back touches no ACL and the steps name none, rather than ACLs a
/// previous deployment may have removed.
fn render_switch(
    model: &Model,
    d: &lower::DeviceRules,
    templates: &Templates,
    options: &crate::targets::acl::AclOptions,
    previous: Option<&PreviousFile>,
) -> Result<(Vec<u8>, crate::targets::Stats, Vec<crate::targets::acl::AclRecord>), Vec<Diag>> {
    use crate::targets::acl;
    let none = acl::PreviousAcls::new();
    let r = acl::render(model, d, templates, options, previous.map_or(&none, |p| &p.acls))?;
    match previous {
        Some(p) if acl::unchanged(&p.acls, &r.2) && sha256_hex(&r.0) != p.sha256 => {
            acl::render(model, d, templates, options, &none)
        }
        _ => Ok(r),
    }
}

/// DESIGN.md §4a, nothing dropped silently: every declared flow that no rule of any
/// enforcement point carries, with the reason. A flow whose address families (or whose
/// services' ICMP families) cannot meet can carry no packet at all: an error. One whose
/// ends no device, and no host firewall, separates is carried by nothing because nothing
/// filters between them: a warning, since the flow restricts nothing there.
///
/// (See also [`self_guard`].)
pub(crate) fn unenforced_flows(model: &Model, devices: &[lower::DeviceRules]) -> Vec<Diag> {
    use crate::model::{FlowId, Match};
    let mut carried = vec![false; model.flows.len()];
    for d in devices {
        for chain in &d.chains {
            for p in &chain.permits {
                for f in &p.flows {
                    if let Some(c) = carried.get_mut(f.index()) {
                        *c = true;
                    }
                }
            }
        }
    }
    let spaces = addr::zone_spaces(model);
    let mut out = Vec::new();
    for (fi, flow) in model.flows.iter().enumerate() {
        // SaaS to SaaS lies outside every device by design (DESIGN.md §4a): not ours to carry.
        let saas = |n: &crate::model::Node| matches!(n, crate::model::Node::System(s) if model.system(*s).is_saas());
        if carried[fi] || (flow.from.nodes.iter().all(saas) && flow.to.nodes.iter().all(saas)) {
            continue;
        }
        let f = FlowId::from_index(fi);
        let side = |refs: &[crate::model::EndpointRef]| {
            let mut s = std::collections::BTreeSet::new();
            for r in refs {
                addr::ref_space(model, &spaces, *r, &mut s);
            }
            s
        };
        let (from, to) = (side(&flow.from.refs), side(&flow.to.refs));
        let families = |s: &std::collections::BTreeSet<(crate::model::ZoneId, ipnet::IpNet)>| {
            (
                s.iter().any(|(_, n)| matches!(n, ipnet::IpNet::V4(_))),
                s.iter().any(|(_, n)| matches!(n, ipnet::IpNet::V6(_))),
            )
        };
        let ((f4, f6), (t4, t6)) = (families(&from), families(&to));
        let (v4, v6) = (f4 && t4, f6 && t6);
        let matches: Vec<Match> =
            flow.services.iter().flat_map(|s| model.service(*s).matches.iter().copied()).collect();
        let usable = matches.iter().any(|m| match m {
            Match::Icmp(_) => v4,
            Match::Icmpv6(_) => v6,
            _ => v4 || v6,
        });
        let title = model.flow_title(f);
        let fam = |four: bool, six: bool| match (four, six) {
            (true, true) => "IPv4 and IPv6",
            (true, false) => "IPv4 only",
            (false, true) => "IPv6 only",
            (false, false) => "no address",
        };
        if !v4 && !v6 {
            out.push(
                Diag::error(
                    code::COMPILE_UNENFORCED_FLOW,
                    flow.header_span,
                    format!(
                        "`{title}` can carry no packet: its FROM side has {} and its TO side {}",
                        fam(f4, f6),
                        fam(t4, t6)
                    ),
                )
                .help("give both ends addresses of one family (dual-stack), or remove the flow"),
            );
        } else if !usable {
            out.push(
                Diag::error(
                    code::COMPILE_UNENFORCED_FLOW,
                    flow.header_span,
                    format!(
                        "`{title}` can carry no packet: its ends meet over {} only, and its services do not",
                        fam(v4, v6)
                    ),
                )
                .help("use `icmp/…` for IPv4 and `icmpv6/…` for IPv6 (the built-in `ping` has both)"),
            );
        } else {
            let zone = |s: &std::collections::BTreeSet<(crate::model::ZoneId, ipnet::IpNet)>| {
                let mut z: Vec<&str> = s.iter().map(|(z, _)| model.zone(*z).name.as_str()).collect();
                z.dedup();
                z.join(", ")
            };
            out.push(
                Diag::warning(
                    code::COMPILE_UNENFORCED_FLOW,
                    flow.header_span,
                    format!("no rule carries `{title}`: no enforcement point lies between its ends"),
                )
                .help(format!(
                    "its packets pass unfiltered between `{}` and `{}` (one segment, and no host firewall at the receiving end), so the flow restricts nothing; put a device between them or give the receiver platform linux or windows if it should",
                    zone(&from),
                    zone(&to)
                )),
            );
        }
    }
    out
}

/// How the devices guard themselves (DESIGN.md §4a), where that needs the reader's eye:
/// a firewall, or a switch with an address, that no flow lets anyone manage once its file
/// is loaded (`device-lockout`); a switch without an address, whose terminal access the
/// bundle leaves as it is, and flows to a switch's services other than terminal access,
/// which its management ACL does not cover (`unguarded-device`).
pub(crate) fn self_guard(model: &Model, devices: &[lower::DeviceRules]) -> Vec<Diag> {
    use lower::{ChainKind, carries_terminal};
    let mut out = Vec::new();
    for rules in devices {
        let Enforcer::Device(id) = rules.enforcer else { continue };
        let device = model.device(id);
        let input: Vec<&lower::Permit> =
            rules.chains.iter().filter(|c| c.kind == ChainKind::Input).flat_map(|c| &c.permits).collect();
        let name = &device.name;
        let manage = format!(
            "declare its management address and the flows that manage it, e.g. `address …` in `{name}` and `flow <jump host> -> {name} : ssh`"
        );
        match device.kind {
            crate::model::DeviceKind::Firewall if input.is_empty() => {
                let why = if device.node.is_some() { "no flow names it" } else { "it declares no `address`, so no flow can name it" };
                out.push(
                    Diag::warning(
                        code::COMPILE_DEVICE_LOCKOUT,
                        device.name_span,
                        format!("firewall `{name}` accepts no connection to itself once its file is loaded: {why}"),
                    )
                    .help(format!("{manage}; without them it can be managed from its console only")),
                );
            }
            crate::model::DeviceKind::Firewall => {}
            crate::model::DeviceKind::Switch if device.node.is_none() => out.push(
                Diag::warning(
                    code::COMPILE_UNGUARDED_DEVICE,
                    device.name_span,
                    format!("switch `{name}` declares no `address`: its terminal access (SSH, telnet) is not restricted by this bundle"),
                )
                .help(manage),
            ),
            crate::model::DeviceKind::Switch => {
                if !input.iter().any(|p| carries_terminal(p.svc)) {
                    out.push(
                        Diag::warning(
                            code::COMPILE_DEVICE_LOCKOUT,
                            device.name_span,
                            format!("switch `{name}` accepts no SSH or telnet session once its file is loaded: no flow to it carries them"),
                        )
                        .help(format!("{manage}; without them it can be managed from its console only")),
                    );
                }
                let mut other: Vec<crate::model::FlowId> =
                    input.iter().filter(|p| !carries_terminal(p.svc)).flat_map(|p| p.flows.iter().copied()).collect();
                other.sort();
                other.dedup();
                for f in other {
                    out.push(
                        Diag::warning(
                            code::COMPILE_UNGUARDED_DEVICE,
                            model.flow(f).header_span,
                            format!(
                                "`{}` reaches switch `{name}` itself, whose management ACL guards terminal access (SSH, telnet) only: this service on the switch is not restricted by the bundle",
                                model.flow_title(f)
                            ),
                        )
                        .help("restrict the service on the switch itself (an SNMP community ACL, `ip http access-class`…); the flow stays, so the SVI ACLs carry it"),
                    );
                }
            }
        }
    }
    out
}
