//! Windows Defender Firewall: zonecheck's PowerShell scripts ([`read_script`]) and the JSON
//! export of a live host's firewall ([`read_export`], written by [`EXPORT_COMMAND`]).
//!
//! # Evaluation
//!
//! Windows has no rule order. Within a direction a matching Block rule beats every Allow
//! rule, and a packet no rule matches gets the profile's default action. That is first
//! match over a fixed order, which is how the [`Ruleset`] encodes it: chain `inbound` holds
//! every enabled Block rule (drop), then every enabled Allow rule (accept), then each
//! profile's `DefaultInboundAction`, and is a base chain at [`Hook::Input`]; chain
//! `outbound` is the same at [`Hook::Output`] with `DefaultOutboundAction` (see "Profiles").
//! `NotConfigured` means the Windows defaults: Block inbound, Allow outbound.
//!
//! A rule's packets, inbound: path input, LocalAddress = destination, RemoteAddress =
//! source, LocalPort = destination port, RemotePort = source port. Outbound: path output,
//! LocalAddress = source, RemoteAddress = destination, LocalPort = source port, RemotePort
//! = destination port. IcmpType `t` or `t:c` is type (destination port) and code (source
//! port). Interfaces stand for profiles (below) and are otherwise not constrained. The protocol is matched by number only (an
//! `ICMPv6` rule without addresses matches IPv4 packets of protocol 58 as well, as a WFP
//! filter on the protocol number does). An address list holding both families becomes one
//! cube per family; an IPv4 local address with an IPv6 remote one matches nothing.
//!
//! # Profiles
//!
//! Windows keeps three profiles, Domain, Private and Public, and applies to each network
//! interface the profile of its network's category: a host that cannot reach a domain
//! controller (a closed host whose outbound traffic is blocked, say) is not on the Domain
//! profile but on Private or, for a network Windows cannot identify, Public. So **every
//! profile is evaluated**, and each must permit exactly what the policy permits. The
//! ruleset carries the profile in the interface dimension, as Windows does: packets of
//! input interface (inbound) or output interface (outbound) `Domain profile` are evaluated
//! with the Domain profile, `Private profile` with Private, and every other interface
//! (`Public profile` and interfaces nobody named: unidentified networks are Public) with
//! Public. A difference found in one profile only names that profile's interface in its
//! witness (or, for Public, the rule or default that decides it). A rule applies in the
//! profiles its Profile lists (`Any` is all three). Each chain starts with the profiles
//! whose firewall is off (Enabled False: everything passes) and ends with one rule per
//! profile for its default action; those are marked implicit and never advised for
//! removal. Disabled rules are ignored.
//!
//! # What is a problem
//!
//! Every construct that makes a rule apply to only part of the packets it names, or whose
//! packets depend on the host's configuration, is a [`Problem`] and the rule is left out:
//! address keywords (`LocalSubnet`, `DNS`, `DHCP`, `DefaultGateway`, `Internet`,
//! `Intranet`, `PlayToDevice`…), port keywords (`RPC`, `RPC-EPMap`, `IPHTTPS`, `Teredo`…),
//! a Program, Package, Service, InterfaceType, InterfaceAlias, LocalUser, RemoteUser,
//! RemoteMachine, Owner or DynamicTarget other than `Any`, authentication or encryption
//! required, `OverrideBlockRules` (an Allow rule beating Block rules), edge traversal, ports
//! with a protocol other than TCP and UDP. A profile that ignores inbound rules
//! (`AllowInboundRules False`) or is off on some interfaces (`DisabledInterfaceAliases`) is
//! a problem too.
//!
//! # The script
//!
//! [`read_script`] reads what a script of zonecheck's shape leaves in place: the rules its
//! `New-NetFirewallRule` commands create (minus those its own later `Remove-NetFirewallRule`
//! commands remove) and every profile's settings from `Set-NetFirewallProfile`. Rules
//! that existed before the script ran are outside its scope (zonecheck's script removes its
//! own group's older rules first; everything else on the host is what [`read_export`] is
//! for). The lexer follows PowerShell's quoting (the five single-quote characters, doubled
//! to escape; double-quoted strings are literal only without `$` and backtick), comments,
//! backtick line continuation, a UTF-8 BOM and CRLF. A script that does not parse is one
//! problem: PowerShell would run none of it. A value that is not a literal (a subexpression,
//! an expanding string, an unknown variable, splatting), a rule created inside a script
//! block (a condition, loop or function), other firewall-changing commands (`netsh
//! advfirewall`, `Set-NetFirewallRule` after rules were created…), and profile settings
//! the script never sets are problems. Commands that read the effective store
//! (`-PolicyStore ActiveStore`) change nothing, and rules disabled or removed before the
//! script creates any are outside its scope like every other rule on the host.
//!
//! # The export
//!
//! [`read_export`] reads the JSON written by [`EXPORT_COMMAND`]: `{ "Rules": [...],
//! "Profiles": [...] }`. It tolerates what `ConvertTo-Json` does: a one-element array as a
//! scalar, an array wrapped as `{ "value": [...], "Count": n }` (Windows PowerShell 5.1),
//! `null`, numbers and booleans for strings, a UTF-8 BOM. Enumerations given as numbers
//! (the string conversion omitted) map as Windows defines them:
//!
//! - rule `Enabled`: 1 True, 2 False;
//! - `Direction`: 1 Inbound, 2 Outbound;
//! - `Action` and the profiles' default actions: 0 NotConfigured, 2 Allow, 4 Block;
//! - rule `Profile` (flags): 0 Any, 1 Domain, 2 Private, 4 Public, summed;
//! - profile `Enabled` and `AllowInboundRules` (GpoBoolean): 0 False, 1 True,
//!   2 NotConfigured (the Windows default: True).
//!
//! A missing or `null` address, protocol, port or ICMP field is a problem for that rule (the
//! export command always fills them, with `Any` when unconstrained); a missing or `null`
//! condition field (Program, Service…) means no condition. A missing `Profiles` key, or a
//! profile missing from it, is a problem: its default actions are unknown. The export reads
//! the effective store (`ActiveStore`): rules and settings from Group Policy included, as
//! the firewall applies them.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Map, Value};

use super::{Action, Base, Chain, Hook, Ifaces, Origin, Problem, Rule, Ruleset, narrow};
use crate::check::space::{Cube, Dim, Field, Path, addr_max, addr_value};

/// The PowerShell (5.1 or later, as administrator) that writes a host's active firewall
/// rules and profiles to `firewall.json` for `read_export`. It looks up each rule's
/// filters one by one, which takes a minute or two on a host with many rules.
pub const EXPORT_COMMAND: &str = r#"$rules = Get-NetFirewallRule -PolicyStore ActiveStore | ForEach-Object {
  $a = $_ | Get-NetFirewallAddressFilter; $p = $_ | Get-NetFirewallPortFilter
  $app = $_ | Get-NetFirewallApplicationFilter; $sec = $_ | Get-NetFirewallSecurityFilter
  [pscustomobject]@{ Name = $_.Name; DisplayName = $_.DisplayName; Description = $_.Description; Group = $_.Group;
    Enabled = "$($_.Enabled)"; Direction = "$($_.Direction)"; Action = "$($_.Action)"; Profile = "$($_.Profile)";
    EdgeTraversalPolicy = "$($_.EdgeTraversalPolicy)"; Owner = $_.Owner;
    LocalAddress = @($a.LocalAddress); RemoteAddress = @($a.RemoteAddress); Protocol = "$($p.Protocol)";
    LocalPort = @($p.LocalPort); RemotePort = @($p.RemotePort); IcmpType = @($p.IcmpType);
    Program = $app.Program; Package = $app.Package; Service = ($_ | Get-NetFirewallServiceFilter).Service;
    InterfaceType = "$(($_ | Get-NetFirewallInterfaceTypeFilter).InterfaceType)";
    InterfaceAlias = @(($_ | Get-NetFirewallInterfaceFilter).InterfaceAlias);
    LocalUser = $sec.LocalUser; RemoteUser = $sec.RemoteUser; RemoteMachine = $sec.RemoteMachine;
    Authentication = "$($sec.Authentication)"; Encryption = "$($sec.Encryption)";
    OverrideBlockRules = "$($sec.OverrideBlockRules)" }
}
$profiles = Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
  [pscustomobject]@{ Name = "$($_.Name)"; Enabled = "$($_.Enabled)";
    DefaultInboundAction = "$($_.DefaultInboundAction)"; DefaultOutboundAction = "$($_.DefaultOutboundAction)";
    AllowInboundRules = "$($_.AllowInboundRules)"; AllowLocalFirewallRules = "$($_.AllowLocalFirewallRules)";
    DisabledInterfaceAliases = @($_.DisabledInterfaceAliases) }
}
@{ Rules = @($rules); Profiles = @($profiles) } | ConvertTo-Json -Depth 5 | Set-Content -Encoding UTF8 firewall.json"#;

/// A rule's settings as text, whichever reader found them, before they become cubes.
#[derive(Clone, Debug)]
struct Spec {
    line: usize,
    name: Option<String>,
    display: Option<String>,
    description: Option<String>,
    group: Option<String>,
    enabled: Result<bool, String>,
    /// The profiles the rule applies in ([`PROFILES`] bits: 1 Domain, 2 Private, 4 Public).
    profiles: Result<u8, String>,
    inbound: Result<bool, String>,
    allow: Result<bool, String>,
    local: Vec<String>,
    remote: Vec<String>,
    protocol: String,
    lport: Vec<String>,
    rport: Vec<String>,
    icmp: Vec<String>,
    /// Conditions beyond packets (Program, Service…), by parameter name.
    conditions: Vec<(String, Vec<String>)>,
    /// Why the rule cannot be read, if it is enabled and in some profile.
    problems: Vec<String>,
}

impl Spec {
    /// New-NetFirewallRule's defaults: enabled, every profile, inbound, allow, any packet.
    fn new(line: usize) -> Spec {
        let any = || vec!["Any".to_string()];
        Spec {
            line,
            name: None,
            display: None,
            description: None,
            group: None,
            enabled: Ok(true),
            profiles: Ok(ALL_PROFILES),
            inbound: Ok(true),
            allow: Ok(true),
            local: any(),
            remote: any(),
            protocol: "Any".into(),
            lport: any(),
            rport: any(),
            icmp: any(),
            conditions: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or("(no name)");
        match &self.display {
            Some(d) if d != name => format!("rule `{name}` ({d})"),
            _ => format!("rule `{name}`"),
        }
    }
}

/// The three profiles, in the order of their bits in a rule's Profile (1, 2, 4).
pub(crate) const PROFILES: [&str; 3] = ["Domain", "Private", "Public"];

/// Every profile's bit.
const ALL_PROFILES: u8 = 7;

/// The interface name that stands for a profile in the ruleset (see "Profiles" above):
/// `Domain profile`, `Private profile`, `Public profile`.
pub(crate) fn profile_interface(profile: &str) -> String {
    format!("{profile} profile")
}

/// One profile's settings, as far as known.
#[derive(Clone, Debug, Default)]
struct ProfileSettings {
    enabled: Option<bool>,
    inbound_allow: Option<bool>,
    outbound_allow: Option<bool>,
}

mod export;
mod lex;
mod rules;
mod script;
#[cfg(test)]
mod tests;
mod values;

pub(crate) use export::read_export;
use lex::*;
use rules::*;
pub(crate) use script::read_script;
use values::*;
