//! Stage 5: check that a ruleset permits exactly what the policy permits (DESIGN.md §6).
//!
//! A reader (`read`) turns a generated file or a live dump into a `ruleset::Ruleset`;
//! evaluating it gives its permitted packets (`space`); `intended` gives what the
//! lowering says the device must permit (the four are internal to the crate). The two are compared within the device's scope
//! (forwarded packets for a firewall or switch, packets to and from a host), and every
//! difference is reported as regions of packets, each with a concrete witness, the rule that
//! decides the witness on the device and the flows that ask for it.

pub(crate) mod intended;
pub(crate) mod origin;
pub(crate) mod read;
pub(crate) mod ruleset;
pub(crate) mod space;

// What a check's result names: the witness packet, the rule that decides it, why the
// policy asks for it, what the reader could not model.
pub use intended::Why;
pub use ruleset::{Origin, Problem};
pub use space::{Ct, Packet, Path};
// The command whose output `check` reads as a live Windows host ([`Format::WindowsExport`]).
pub use read::windows::EXPORT_COMMAND;

use std::collections::BTreeMap;

use crate::model::{AclOptions, EnforcementPoint, HostOrDevice, Model, Target};
use intended::{Expectations, Intended};
use ruleset::{Dead, EvalError, Evaluation, RuleRef, Ruleset};
use space::{Cube, Ifaces, Space};

/// The formats `check` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `nft -j list ruleset`.
    NftJson,
    /// nft text: zonecheck's `.nft` files or `nft list ruleset`.
    NftText,
    CiscoIos,
    AristaEos,
    ArubaAoscx,
    Junos,
    /// zonecheck's PowerShell script.
    WindowsScript,
    /// The JSON export of a live Windows host ([`read::windows::EXPORT_COMMAND`]).
    WindowsExport,
}

impl Format {
    pub const ALL: [(Format, &'static str); 8] = [
        (Format::NftJson, "nft-json"),
        (Format::NftText, "nft"),
        (Format::CiscoIos, "cisco-ios"),
        (Format::AristaEos, "arista-eos"),
        (Format::ArubaAoscx, "aruba-aoscx"),
        (Format::Junos, "junos"),
        (Format::WindowsScript, "windows-script"),
        (Format::WindowsExport, "windows-json"),
    ];

    pub fn name(self) -> &'static str {
        Format::ALL.iter().find(|(f, _)| *f == self).map_or("?", |(_, n)| n)
    }

    pub(crate) fn parse(s: &str) -> Option<Format> {
        Format::ALL.iter().find(|(_, n)| *n == s).map(|(f, _)| *f)
    }

    /// The format of a file meant for a device of this kind, from its name and content.
    pub fn detect(kind: HostOrDevice, file_name: &str, text: &str) -> Option<Format> {
        let json = text.trim_start_matches('\u{feff}').trim_start().starts_with('{');
        Some(match kind {
            HostOrDevice::LinuxHost | HostOrDevice::Device(Target::Nftables) => {
                if json {
                    Format::NftJson
                } else {
                    Format::NftText
                }
            }
            HostOrDevice::WindowsHost | HostOrDevice::Device(Target::Windows) => {
                if json || file_name.ends_with(".json") { Format::WindowsExport } else { Format::WindowsScript }
            }
            HostOrDevice::Device(Target::CiscoIos) => Format::CiscoIos,
            HostOrDevice::Device(Target::AristaEos) => Format::AristaEos,
            HostOrDevice::Device(Target::ArubaAoscx) => Format::ArubaAoscx,
            HostOrDevice::Device(Target::Junos) => Format::Junos,
        })
    }

    /// Can a device of this kind be checked from this format?
    pub(crate) fn fits(self, kind: HostOrDevice) -> bool {
        match kind {
            HostOrDevice::LinuxHost | HostOrDevice::Device(Target::Nftables) => {
                matches!(self, Format::NftJson | Format::NftText)
            }
            HostOrDevice::WindowsHost | HostOrDevice::Device(Target::Windows) => {
                matches!(self, Format::WindowsScript | Format::WindowsExport)
            }
            HostOrDevice::Device(Target::CiscoIos) => self == Format::CiscoIos,
            HostOrDevice::Device(Target::AristaEos) => self == Format::AristaEos,
            HostOrDevice::Device(Target::ArubaAoscx) => self == Format::ArubaAoscx,
            HostOrDevice::Device(Target::Junos) => self == Format::Junos,
        }
    }
}

impl Format {
    /// The format of a generated file of a target.
    pub(crate) fn of_target(target: Target) -> Format {
        match target {
            Target::Nftables => Format::NftText,
            Target::Windows => Format::WindowsScript,
            Target::CiscoIos => Format::CiscoIos,
            Target::AristaEos => Format::AristaEos,
            Target::ArubaAoscx => Format::ArubaAoscx,
            Target::Junos => Format::Junos,
        }
    }
}

/// A generated device file to check, as compile holds it (the checker knows nothing of
/// bundles: compile depends on it, never the other way).
#[derive(Clone, Copy, Debug)]
pub struct Generated<'a> {
    /// Path inside the bundle (`switch/sw-core.ios`), for reports.
    pub path: &'a str,
    pub device: &'a str,
    /// A host's file (else a firewall's or switch's).
    pub host: bool,
    pub target: Target,
    pub bytes: &'a [u8],
}

/// Check generated files against the policy (compile's self-check): the devices that are
/// not equal.
pub fn check_bundle(model: &Model, files: &[Generated], acl: &AclOptions) -> Vec<DeviceCheck> {
    let expected = Expectations::of(model);
    // Looked up by role and name: a file under `host/` is a system's, the rest devices'.
    let points = model.enforcement_points();
    let by_name: BTreeMap<(bool, &str), &EnforcementPoint> =
        points.iter().map(|p| ((p.is_host(), p.name.as_str()), p)).collect();
    let check = |f: &Generated| {
        let text = String::from_utf8_lossy(f.bytes);
        let format = Format::of_target(f.target);
        let point = by_name.get(&(f.host, f.device))?;
        let result = check_one(&expected, point, format, f.path, &text, acl, false);
        (!result.equal()).then_some(result)
    };
    // Files are independent: rayon's pool, one thread per core, balances a large firewall
    // against thousands of small hosts; results come back in file order.
    use rayon::prelude::*;
    let unequal = files
        .par_iter()
        .filter_map(|f| {
            // A check that panicked proves nothing: fail closed.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(f))).unwrap_or_else(|_| {
                Some(DeviceCheck {
                    device: "(self-check)".into(),
                    file: f.path.to_string(),
                    format: Format::NftText,
                    differences: Vec::new(),
                    problems: Vec::new(),
                    incomplete: None,
                    dead: Vec::new(),
                    unchecked: Vec::new(),
                    inconclusive: Some("a check thread failed".into()),
                    rules: 0,
                })
            })
        })
        .collect();
    report_small_device_timings();
    unequal
}

/// Read a file of a format into a ruleset.
pub(crate) fn read(format: Format, text: &str, ifaces: &mut Ifaces) -> Ruleset {
    use read::acl::Dialect;
    // Editors and PowerShell write a UTF-8 byte-order mark; it is no part of line 1.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::NftJson => read::nft::read_json(text, ifaces),
        Format::NftText => read::nft_text::read_text(text, ifaces),
        Format::CiscoIos => read::acl::read(Dialect::CiscoIos, text, ifaces),
        Format::AristaEos => read::acl::read(Dialect::AristaEos, text, ifaces),
        Format::ArubaAoscx => read::acl::read(Dialect::ArubaAoscx, text, ifaces),
        Format::Junos => read::acl::read(Dialect::Junos, text, ifaces),
        Format::WindowsScript => read::windows::read_script(text, ifaces),
        Format::WindowsExport => read::windows::read_export(text, ifaces),
    }
}

/// Which way a difference goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// The device permits packets the policy does not.
    More,
    /// The device drops packets the policy permits.
    Less,
}

/// Regions of one difference that share the deciding rule and the reason: one finding.
#[derive(Clone, Debug)]
pub struct Difference {
    pub direction: Direction,
    /// One packet in the difference.
    pub witness: Packet,
    /// The witness's interfaces by name (`None`: no interface).
    pub interfaces: (Option<String>, Option<String>),
    /// The witness in words (`tcp 10.0.0.2:49152 -> 10.1.0.2:443 (forward, in eth1, out eth2)`).
    pub witness_text: String,
    /// The rule that decides the witness on the device (the last base chain's), if a rule
    /// and not a chain policy does.
    pub rule: Option<Origin>,
    /// Why the policy permits the witness (for `Less`), as flow names.
    pub intended: Option<String>,
    /// The same, as data (flows for related locations).
    pub why: Option<Why>,
    /// How many disjoint regions of packets this finding covers.
    pub regions: usize,
    /// The first region, for people: every dimension that is not "anything".
    pub region: String,
}

/// A rule that never decides anything, or whose removal would change nothing.
#[derive(Clone, Debug)]
pub struct DeadRule {
    pub rule: Origin,
    pub chain: String,
    pub kind: &'static str,
    /// For shadowed rules: the earlier rules that cover it together.
    pub by: Vec<Origin>,
}

/// The result for one device.
#[derive(Clone, Debug)]
pub struct DeviceCheck {
    pub device: String,
    pub file: String,
    pub format: Format,
    pub differences: Vec<Difference>,
    /// Constructs the reader does not model: any makes the verdict "cannot decide" and
    /// withholds the advice on dead rules.
    pub problems: Vec<Problem>,
    /// The file is cut off (no final `end`, JSON that stops early): refused, not compared.
    pub incomplete: Option<Problem>,
    /// Shadowed, redundant and unmatchable rules; only sought when every construct of the
    /// file is modelled, and only in chains every packet of which is evaluated.
    pub dead: Vec<DeadRule>,
    /// Chains with rules that the check does not judge, with the reason (input and output
    /// hooks of a firewall, chains only a chain the reader does not model jumps to).
    pub unchecked: Vec<(String, String)>,
    /// The comparison could not finish (fragmentation limit, jumps too deep).
    pub inconclusive: Option<String>,
    /// Rules and cubes read, for the summary.
    pub rules: usize,
}

impl DeviceCheck {
    pub fn equal(&self) -> bool {
        self.differences.is_empty()
            && self.problems.is_empty()
            && self.inconclusive.is_none()
            && self.incomplete.is_none()
    }

    /// Is the verdict "cannot decide": a construct the reader does not model, or a file cut
    /// off? Then even the differences found are not proven (an unmodelled NAT or
    /// inspection may explain them).
    pub(crate) fn undecided(&self) -> bool {
        !self.problems.is_empty() || self.incomplete.is_some()
    }

    /// `equal`, `cannot-decide` (fail closed: never "equal"), `inconclusive` or `different`.
    pub fn verdict(&self) -> &'static str {
        if self.undecided() {
            "cannot-decide"
        } else if self.equal() {
            "equal"
        } else if self.inconclusive.is_some() {
            "inconclusive"
        } else {
            "different"
        }
    }
}

/// Below this many cubes on both sides, the two directions of a comparison run on one
/// thread (a host's; many of them are checked side by side already).
const SMALL_COMPARE: usize = 4096;

/// At most this many findings per device and direction; the rest are counted in the last.
pub(crate) const MAX_FINDINGS: usize = 200;

/// Check one device's file against the policy.
pub fn check_device(
    model: &Model,
    point: &EnforcementPoint,
    format: Format,
    file: &str,
    text: &str,
    acl: &AclOptions,
) -> DeviceCheck {
    check_expected(&Expectations::of(model), point, format, file, text, acl)
}

/// [`check_device`] with the policy's expectations read once, for checking many devices.
pub(crate) fn check_expected(
    expected: &Expectations,
    point: &EnforcementPoint,
    format: Format,
    file: &str,
    text: &str,
    acl: &AclOptions,
) -> DeviceCheck {
    check_one(expected, point, format, file, text, acl, true)
}

/// [`check_device`], with or without the search for dead rules (compile's self-check only
/// needs equality).
fn check_one(
    expected: &Expectations,
    point: &EnforcementPoint,
    format: Format,
    file: &str,
    text: &str,
    acl: &AclOptions,
    dead_rules: bool,
) -> DeviceCheck {
    let mut laps = DeviceLaps::start();
    let mut ifaces = Ifaces::new();
    let model = expected.model();
    let intended = expected.intended(point, &mut ifaces, acl);
    laps.lap("intended");
    ifaces.seal();
    let ruleset = read(format, text, &mut ifaces);
    laps.lap("read");
    let mut out = DeviceCheck {
        device: point.name.clone(),
        file: file.to_string(),
        format,
        differences: Vec::new(),
        problems: ruleset.problems.clone(),
        incomplete: ruleset.incomplete.clone(),
        dead: Vec::new(),
        unchecked: Vec::new(),
        inconclusive: None,
        rules: ruleset.chains.iter().map(|c| c.rules.len()).sum(),
    };
    if out.incomplete.is_some() {
        // A file cut short proves nothing about the rules that are missing.
        return out;
    }
    // Advice to remove a rule is sound only when every construct that could change the
    // conclusion was read.
    let dead_rules = dead_rules && ruleset.problems.is_empty();
    if dead_rules {
        out.unchecked = ruleset
            .unchecked(&intended.paths())
            .into_iter()
            .map(|(c, why)| (ruleset.chains[c].name.clone(), why))
            .collect();
    }
    match compare(model, intended, &ruleset, &ifaces, dead_rules, &mut laps) {
        Ok((differences, dead)) => {
            out.differences = differences;
            out.dead = dead;
        }
        Err(EvalError::TooFragmented) => {
            out.inconclusive =
                Some(format!("{}; the ruleset is too irregular to compare exactly", space::TooFragmented))
        }
        Err(EvalError::TooDeep(chain)) => {
            out.inconclusive = Some(format!("jumps nest deeper than the kernel allows, through chain {chain}"))
        }
    }
    laps.report(file, format);
    out
}

/// With `ZONECHECK_TIMINGS` set (as for `cli::Laps`, the command's stages), the stages of
/// each device check that takes long enough to matter, on standard error.
struct DeviceLaps {
    on: bool,
    start: std::time::Instant,
    last: std::time::Instant,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl DeviceLaps {
    /// Devices checked faster than this are not reported.
    const REPORTED: std::time::Duration = std::time::Duration::from_millis(100);

    fn start() -> DeviceLaps {
        static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let on = *ON.get_or_init(|| std::env::var_os("ZONECHECK_TIMINGS").is_some());
        let now = std::time::Instant::now();
        DeviceLaps { on, start: now, last: now, laps: Vec::new() }
    }

    fn lap(&mut self, stage: &'static str) {
        if self.on {
            let now = std::time::Instant::now();
            self.laps.push((stage, now - self.last));
            self.last = now;
        }
    }

    fn report(&self, file: &str, format: Format) {
        if !self.on {
            return;
        }
        if self.start.elapsed() >= Self::REPORTED {
            eprintln!("timing:   {file}: {}", laps_text(&self.laps));
            return;
        }
        // The quick ones are summed per format: ten thousand hosts of a millisecond each
        // are most of a bundle's work.
        let mut small = SMALL_DEVICES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (count, sums) = small.entry(format.name()).or_default();
        *count += 1;
        for (stage, d) in &self.laps {
            match sums.iter_mut().find(|(s, _)| s == stage) {
                Some((_, sum)) => *sum += *d,
                None => sums.push((stage, *d)),
            }
        }
    }
}

/// Per format, the devices checked faster than [`DeviceLaps::REPORTED`] and their stages'
/// summed time (CPU time on all threads, not wall time).
type SmallDevices = BTreeMap<&'static str, (usize, Vec<(&'static str, std::time::Duration)>)>;
static SMALL_DEVICES: std::sync::Mutex<SmallDevices> = std::sync::Mutex::new(BTreeMap::new());

fn laps_text(laps: &[(&'static str, std::time::Duration)]) -> String {
    laps.iter().map(|(s, d)| format!("{s} {:.1} ms", d.as_secs_f64() * 1e3)).collect::<Vec<_>>().join(", ")
}

/// With `ZONECHECK_TIMINGS` set, print and reset the summed stages of the devices too quick
/// to be reported one by one.
pub(crate) fn report_small_device_timings() {
    let mut small = SMALL_DEVICES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (format, (count, sums)) in std::mem::take(&mut *small) {
        eprintln!("timing:   {count} quick {format} devices, summed: {}", laps_text(&sums));
    }
}

/// Region cubes of one direction grouped into findings.
fn findings(
    model: &Model,
    direction: Direction,
    regions: Vec<Cube>,
    wanted: &Wanted,
    ruleset: &Ruleset,
    ev: &Evaluation,
    ifaces: &Ifaces,
) -> Vec<Difference> {
    let mut groups: BTreeMap<(Option<RuleRef>, Option<String>), Difference> = BTreeMap::new();
    let mut overflow = 0;
    // Each region's witness, the rule that decides it and why it is intended, side by side
    // (a device far from its policy has hundreds of thousands); then grouped in order.
    use rayon::prelude::*;
    let traced: Vec<(Cube, Packet, Option<RuleRef>, Option<&Why>)> = regions
        .into_par_iter()
        .with_min_len(256)
        .map(|region| {
            let witness = region.witness();
            let (_, deciders) = ruleset.trace_in(&witness, ev);
            let rule = deciders.last().and_then(|(_, r)| *r);
            // A region the device permits beyond the policy lies outside every intended cube.
            let reason = if direction == Direction::Less { wanted.why(&witness) } else { None };
            (region, witness, rule, reason)
        })
        .collect();
    for (region, witness, rule, reason) in traced {
        let reason = reason.cloned();
        let why = reason.as_ref().map(|w| why_text(model, w));
        let key = (rule, why.clone());
        if let Some(d) = groups.get_mut(&key) {
            d.regions += 1;
            continue;
        }
        if groups.len() >= MAX_FINDINGS {
            overflow += 1;
            continue;
        }
        groups.insert(
            key,
            Difference {
                direction,
                witness,
                witness_text: witness.describe(ifaces),
                interfaces: (
                    (witness.iif != 0).then(|| ifaces.name(witness.iif)),
                    (witness.oif != 0).then(|| ifaces.name(witness.oif)),
                ),
                rule: rule.map(|r| ruleset.rule(r).origin.clone()),
                intended: why,
                why: reason,
                regions: 1,
                region: describe_region(&region, ifaces),
            },
        );
    }
    let mut out: Vec<Difference> = groups.into_values().collect();
    if let Some(last) = out.last_mut() {
        last.regions += overflow;
    }
    out.sort_by_key(|d| d.witness);
    out
}

fn why_text(model: &Model, w: &Why) -> String {
    let flows = |fs: &[crate::model::FlowId]| {
        fs.iter()
            .map(|f| format!("{} {}", model.flow_location(*f), model.flow_title(*f)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match w {
        Why::Flows(fs) => format!("flow {}", flows(fs)),
        Why::Answers(fs) => format!("answers to flow {}", flows(fs)),
        Why::Related(fs) => format!("ICMP errors between the addresses of flow {}", flows(fs)),
        Why::Baseline(s) => (*s).to_string(),
    }
}

/// Every dimension of a region that is not "anything", in the engineer's words.
pub(crate) fn describe_region(c: &Cube, ifaces: &Ifaces) -> String {
    use space::{Dim, Field, addr_max, addr_of, dim_max};
    let v6 = c.v6();
    let full = |d: Dim| Field::range(0, if matches!(d, Dim::Src | Dim::Dst) { addr_max(v6) } else { dim_max(d) });
    let mut parts = vec![if v6 { "ipv6".to_string() } else { "ipv4".to_string() }];
    // ICMP keeps its type in the destination port and its code in the source port.
    let icmp = match &*c.field(Dim::Proto).intervals() {
        [(1, 1)] => Some(false),
        [(58, 58)] => Some(true),
        _ => None,
    };
    for (d, label) in [
        (Dim::Path, "path"),
        (Dim::Iif, "in"),
        (Dim::Oif, "out"),
        (Dim::Src, "src"),
        (Dim::Dst, "dst"),
        (Dim::Proto, "proto"),
        (Dim::Sport, if icmp.is_some() { "icmp code" } else { "sport" }),
        (Dim::Dport, if icmp.is_some() { "icmp type" } else { "dport" }),
        (Dim::Flags, "ack/rst"),
        (Dim::Ct, "ct state"),
        (Dim::Hops, if v6 { "hop limit" } else { "ttl" }),
    ] {
        let f = c.field(d);
        if *f == full(d) {
            continue;
        }
        if matches!(d, Dim::Iif | Dim::Oif) {
            parts.push(format!("{label} {}", ifaces.describe(f)));
            continue;
        }
        let shown: Vec<String> = f
            .intervals()
            .iter()
            .take(4)
            .map(|&(lo, hi)| match d {
                Dim::Src | Dim::Dst => range_text(v6, lo, hi, addr_of),
                Dim::Path if lo == hi => space::Path::ALL[lo as usize].name().to_string(),
                Dim::Proto if lo == hi => space::proto_name(lo as u8),
                Dim::Ct if lo == hi => {
                    space::Ct::ALL.get(lo as usize).map_or_else(|| lo.to_string(), |c| c.name().into())
                }
                Dim::Dport if lo == hi && icmp.is_some() => {
                    match space::icmp_type_name(icmp == Some(true), lo as u16) {
                        Some(n) => n.to_string(),
                        None => lo.to_string(),
                    }
                }
                _ if lo == hi => lo.to_string(),
                _ => format!("{lo}-{hi}"),
            })
            .collect();
        let more =
            if f.intervals().len() > 4 { format!(" (+{} more)", f.intervals().len() - 4) } else { String::new() };
        parts.push(format!("{label} {}{more}", shown.join(",")));
    }
    parts.join(" ")
}

/// An address range as a prefix when it is one.
fn range_text(v6: bool, lo: u128, hi: u128, addr_of: fn(bool, u128) -> std::net::IpAddr) -> String {
    let span = hi - lo;
    if lo == hi {
        return addr_of(v6, lo).to_string();
    }
    if span.checked_add(1).is_none_or(|n| n.is_power_of_two() && lo & span == 0) {
        let bits = if v6 { 128 } else { 32 };
        let len = bits - (128 - span.leading_zeros());
        return format!("{}/{len}", addr_of(v6, lo));
    }
    format!("{}-{}", addr_of(v6, lo), addr_of(v6, hi))
}

type Compared = (Vec<Difference>, Vec<DeadRule>);

/// What the policy asks of the device, as a space, and why each of its cubes is asked for.
struct Wanted {
    space: Space,
    /// Per cube of `space`.
    whys: Vec<Why>,
}

impl Wanted {
    /// The cubes of the intended permits move into the space (not copied); empty ones,
    /// which a space leaves out, contain no packet and so give no reason either.
    fn of(permits: Vec<(Cube, Why)>) -> Wanted {
        // Sized once: a large firewall's cubes are a few hundred megabytes, not to be moved
        // again by a growing vector.
        let (mut cubes, mut whys) = (Vec::with_capacity(permits.len()), Vec::with_capacity(permits.len()));
        for (c, why) in permits.into_iter().filter(|(c, _)| !c.is_empty()) {
            cubes.push(c);
            whys.push(why);
        }
        Wanted { space: Space::from_cubes(cubes), whys }
    }

    /// Why a packet is intended: the first reason found ([`Intended::why`]).
    fn why(&self, p: &Packet) -> Option<&Why> {
        self.space.first_containing(p).map(|i| &self.whys[i])
    }
}

/// The comparison proper: actual within scope against intended, both ways.
fn compare(
    model: &Model,
    intended: Intended,
    ruleset: &Ruleset,
    ifaces: &Ifaces,
    dead_rules: bool,
    laps: &mut DeviceLaps,
) -> Result<Compared, EvalError> {
    // What the device permits is needed within the scope only; the search for dead rules
    // reads statistics over every packet.
    let mut ev = ruleset.evaluate_within(&intended.paths(), Some(&intended.scope), ifaces.count(), dead_rules)?;
    laps.lap("evaluate");
    let actual = std::mem::take(&mut ev.permitted);
    let wanted = Wanted::of(intended.permits);
    laps.lap("index intended");
    let (more, less) = if actual.len() + wanted.space.len() < SMALL_COMPARE {
        (actual.difference(&wanted.space), wanted.space.difference(&actual))
    } else {
        rayon::join(|| actual.difference(&wanted.space), || wanted.space.difference(&actual))
    };
    let (more, less) = (more?, less?);
    drop(actual);
    laps.lap("difference");
    let mut differences = findings(model, Direction::More, more, &wanted, ruleset, &ev, ifaces);
    differences.extend(findings(model, Direction::Less, less, &wanted, ruleset, &ev, ifaces));
    if !dead_rules {
        return Ok((differences, Vec::new()));
    }
    let dead = ruleset
        .dead_rules(&ev)?
        .into_iter()
        .map(|(r, kind)| DeadRule {
            rule: ruleset.rule(r).origin.clone(),
            chain: ruleset.chains[r.chain].name.clone(),
            kind: match kind {
                Dead::Unmatchable => "unmatchable",
                Dead::Shadowed { .. } => "shadowed",
                Dead::Redundant => "redundant",
            },
            by: match kind {
                Dead::Shadowed { by } => by.iter().map(|b| ruleset.rule(*b).origin.clone()).collect(),
                _ => Vec::new(),
            },
        })
        .collect();
    Ok((differences, dead))
}
