//! `zonecheck init [DIR]`: a small starter policy that teaches the language.
//!
//! The policy has one closed zone with a holder of health data, a client zone reaching it
//! only through a VDI, a log flow out of the closed zone justified with `allow`, and a
//! firewall between the zones. It verifies PROVED without warnings and compiles as written
//! (tests/it/cli.rs runs both on the written files).

use std::path::Path;

use crate::cli::Exit;
use crate::diagnostics::{Diag, Sources, Span, code};

/// The starter policy, `policy.zc`.
pub(crate) const POLICY: &str = r#"# A starter policy written by `zonecheck init`. Read it top to bottom, change the names
# and addresses to your own, and run:
#   zonecheck verify .            prove that health data stays in the closed zone
#   zonecheck compile . -o bundle write the firewall configurations
#   zonecheck fmt .               put the files in canonical layout
# `#` starts a comment; statements end at a newline or `;`.

policy "Eksempel kommune" { owner "IT-seksjonen"; contact "it@eksempel.kommune.no" }

# A data class. `special` marks GDPR art. 9 data; `confined` allows it only in zones of
# trust `closed` (`confined to ZONE, ...` names the zones instead). verify proves that no
# flow carries it anywhere else, or prints the shortest path by which it leaks.
class helse "Helseopplysninger" { special; confined }

# Zones are address spaces with a trust level: closed, internal, dmz, partner, external.
# An address belongs to the zone with the longest matching prefix, so `internet` is every
# address no other zone claims.
zone sikker "Lukket sone" { trust closed; net 10.10.10.0/24 }
zone adm "Administrativt nett" { trust internal; net 10.10.32.0/20 }
zone internet "Internett" { trust external; net 0.0.0.0/0, ::/0 }

# Systems are where data lives. `holds` names the classes a system keeps. Platform linux
# or windows gives the system a host firewall in the bundle as well.
system journal "Journalsystem" {
  zone sikker
  address 10.10.10.10
  platform linux
  holds helse
  owner "Helse og omsorg"
}
system vdi "Lukket VDI" {
  zone sikker
  address 10.10.10.20
  platform windows
  role vdi
}
system siem "Sikkerhetslogg" {
  zone adm
  address 10.10.33.20
  platform linux
  role siem
}

# Flows are the permitted connections, each with its documented need. A connection is a
# two-way channel: whatever the server holds can travel back to the client.
flow vdi -> journal : https "Saksbehandlere bruker journalen fra lukket VDI"

# The whole `adm` zone may open the VDI's screen. The screen carries no health data out
# because clipboard, drives and printers are off: an assumption a firewall cannot enforce,
# so it needs a reason, and verify lists it under the assumptions the proof relies on.
flow adm -> vdi : ica "Saksbehandlere åpner lukket VDI" {
  carries none because "ICA: utklippstavle, klientdisker og skrivere er slått av"
}

# Leaving the closed zone is warned about (lint `closed-egress`); where it is right,
# `allow LINT because "..."` accepts it, and the reason shows in every report.
flow [journal, vdi] -> siem : syslog-tls "Sikkerhetslogg" {
  carries none because "Kun tekniske hendelser, ingen pasientdata"
  allow closed-egress because "Logging til SIEM er avtalt i ROS-analysen"
}

# Enforcement points. A firewall separates the zones on different interfaces; the flows
# between them become its rules. Every linux and windows system gets a host firewall too.
firewall fw "Kjernebrannmur" {
  target nftables
  interface eth0 zone internet
  interface eth1 zone sikker
  interface eth2 zone adm
}
"#;

/// Project settings that are not policy, `zonecheck.toml`.
pub(crate) const CONFIG: &str = r#"# zonecheck.toml: project settings that are not policy (see README.md).

[output]
dir = "bundle"            # where `zonecheck compile` writes without -o (from where you run it)

[lints]
# unused = "warn"         # allow | warn | error, per lint
"#;

/// Write the starter files into `dir` (created if missing); never overwrite a file, and
/// never add a policy file to a directory that already holds one.
pub(crate) fn run(dir: &Path) -> Exit {
    let files = [("policy.zc", POLICY), ("zonecheck.toml", CONFIG)];
    // Every `.zc` file of a directory is one policy: a starter beside another policy's
    // files would merge with them.
    let mut existing: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "zc"))
        .chain(files.iter().map(|(n, _)| dir.join(n)).filter(|p| p.exists()))
        .map(|p| p.display().to_string())
        .collect();
    existing.sort();
    existing.dedup();
    if !existing.is_empty() {
        crate::cli::print_diags(
            &[Diag::error(
                code::INIT_EXISTS,
                Span::NONE,
                format!("{} already exist{}", existing.join(" and "), if existing.len() == 1 { "s" } else { "" }),
            )
            .help("init never overwrites or joins another policy; choose a new directory: `zonecheck init my-policy`")],
            &Sources::default(),
        );
        return Exit::Input;
    }
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        for (name, text) in files {
            crate::cli::write_atomically(&dir.join(name), text.as_bytes())?;
        }
        Ok(())
    });
    if let Err(e) = written {
        crate::cli::print_diags(
            &[Diag::error(code::INIT_WRITE, Span::NONE, format!("cannot write into {}: {e}", dir.display()))
                .help("check the directory's path and permissions")],
            &Sources::default(),
        );
        return Exit::Input;
    }
    let shown = dir.display();
    crate::cli::out(&format!(
        "wrote {shown}/policy.zc and {shown}/zonecheck.toml\nnext: zonecheck verify {shown}   then   zonecheck compile {shown} -o {shown}/bundle\n"
    ));
    Exit::Success
}
