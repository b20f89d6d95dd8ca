//! The bundle on disk: device files, `manifest.json`, `SUMMARY.md`, written atomically.
//!
//! The new bundle is built in a temporary directory beside the target and then swapped in
//! with one `renameat2(RENAME_EXCHANGE)` (falling back to two renames where the file system
//! lacks it), so a failed or interrupted run leaves the previous bundle untouched.
//!
//! A device file changes only when its own rules change (DESIGN.md §7): it names flows by
//! their stable id (`crate::targets::flow_id`) and holds neither the policy digest nor
//! line numbers; switch ACL names end with a hash of their entries. The provenance is here,
//! in `manifest.json`: the policy digest, every flow id with its file and line, and per
//! switch file its ACLs with what each rolls back to. `SUMMARY.md` reports what changed
//! since the bundle it replaces, whose manifest also gives the switch files' rollback steps.

use crate::model::Target;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Bundle, PreviousFile, sha256_hex};
use crate::targets::acl::{AclRecord, base_of, is_acl_name};

pub(crate) const MANIFEST: &str = "manifest.json";
pub(crate) const SUMMARY: &str = "SUMMARY.md";

/// The manifest's version: 2 added `flows` and the switch files' `acls`.
pub(crate) const MANIFEST_VERSION: u32 = 2;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub manifest_version: u32,
    pub zonecheck: String,
    pub policy: PolicyEntry,
    /// Every flow of the policy: the id device files name it by, and where it is declared.
    #[serde(default)]
    pub flows: Vec<FlowEntry>,
    pub files: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FlowEntry {
    pub id: String,
    /// The base name of the policy file.
    pub file: String,
    pub line: usize,
    /// `a -> b : https`.
    pub title: String,
}

/// The flows' line map for the manifest, in declaration order.
pub(crate) fn flow_map(model: &crate::model::Model) -> Vec<FlowEntry> {
    (0..model.flows.len())
        .map(|i| {
            let f = crate::model::FlowId::from_index(i);
            let span = model.flow(f).header_span;
            let name = model.sources.name(span.file);
            FlowEntry {
                id: crate::targets::flow_id(model, f).to_string(),
                file: name.rsplit(['/', '\\']).next().unwrap_or(name).to_string(),
                line: model.sources.line_col(span).0,
                title: model.flow_title(f),
            }
        })
        .collect()
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyEntry {
    pub name: Option<String>,
    pub sha256: String,
    pub sources: Vec<SourceEntry>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceEntry {
    pub file: String,
    pub sha256: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    pub path: String,
    pub device: String,
    pub kind: String,
    pub target: String,
    pub sha256: String,
    pub bytes: usize,
    /// A switch file's ACLs (none for other targets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acls: Vec<AclRecord>,
}

pub(crate) fn manifest(bundle: &Bundle) -> Manifest {
    Manifest {
        manifest_version: MANIFEST_VERSION,
        zonecheck: env!("CARGO_PKG_VERSION").to_string(),
        policy: PolicyEntry {
            name: bundle.policy_name.clone(),
            sha256: bundle.policy_digest.clone(),
            sources: bundle.sources.iter().map(|(f, h)| SourceEntry { file: f.clone(), sha256: h.clone() }).collect(),
        },
        flows: bundle.flows.clone(),
        // Hashing 100 MB of host files is the manifest's cost: on every core, in order.
        files: bundle
            .files
            .par_iter()
            .map(|f| FileEntry {
                path: f.path.clone(),
                device: f.device.clone(),
                kind: f.kind.to_string(),
                target: f.target.name().to_string(),
                sha256: sha256_hex(&f.bytes),
                bytes: f.bytes.len(),
                acls: f.acls.clone(),
            })
            .collect(),
    }
}

/// The bundle that is in `dir` now, if any: its manifest and device files.
pub(crate) struct Previous {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
}

pub(crate) fn read_previous(dir: &Path) -> Option<Previous> {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let manifest: Manifest = serde_json::from_str(&text).ok()?;
    let files = manifest
        .files
        .par_iter()
        .filter_map(|f| {
            // Only paths the manifest itself names, and only inside the bundle.
            if f.path.split('/').any(|c| c == ".." || c.is_empty()) {
                return None;
            }
            std::fs::read(dir.join(&f.path)).ok().map(|b| (f.path.clone(), b))
        })
        .collect();
    Some(Previous { manifest, files })
}

/// What the previous bundle's manifest recorded per device file, for compiling the next one
/// (the switch files' rollback steps). The manifest is a file on disk, not zonecheck's own
/// memory: a file whose ACL names are not names zonecheck writes ([`is_acl_name`]) is taken
/// to have recorded none, so nothing from it reaches a switch file but such names.
pub(crate) fn previous_files(prev: &Previous) -> BTreeMap<String, PreviousFile> {
    prev.manifest
        .files
        .iter()
        .map(|f| {
            let valid = f.acls.iter().all(|a| is_acl_name(&a.name) && a.rollback.as_deref().is_none_or(is_acl_name));
            let acls = f
                .acls
                .iter()
                .filter(|_| valid)
                .map(|a| (base_of(&a.name).to_string(), (a.name.clone(), a.rollback.clone())));
            (f.path.clone(), PreviousFile { sha256: f.sha256.clone(), acls: acls.collect() })
        })
        .collect()
}

/// Lines added and removed between two texts (as multisets of lines).
fn line_delta(old: &[u8], new: &[u8]) -> (usize, usize) {
    let mut count: BTreeMap<&[u8], i64> = BTreeMap::new();
    for l in old.split(|b| *b == b'\n') {
        *count.entry(l).or_default() -= 1;
    }
    for l in new.split(|b| *b == b'\n') {
        *count.entry(l).or_default() += 1;
    }
    let added = count.values().filter(|v| **v > 0).map(|v| *v as usize).sum();
    let removed = count.values().filter(|v| **v < 0).map(|v| (-*v) as usize).sum();
    (added, removed)
}

pub(crate) fn summary(bundle: &Bundle, previous: Option<&Previous>, verdict_line: &str) -> String {
    let mut s = String::new();
    let name = bundle.policy_name.as_deref().unwrap_or("policy");
    let _ = writeln!(s, "# zonecheck bundle — {name}\n");
    let _ = writeln!(s, "- policy sha256: `{}`", bundle.policy_digest);
    let _ = writeln!(s, "- zonecheck {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "- verify: {verdict_line}");
    let _ = writeln!(s, "- every file is listed with its sha256 in `manifest.json`\n");
    let _ = writeln!(s, "## Devices\n");
    let _ = writeln!(
        s,
        "| device | kind | target | file | rules (nftables) / firewall rules (Windows) / ACL entries (switches) | set elements | TCAM budget |"
    );
    let _ = writeln!(s, "|---|---|---|---|---:|---:|---:|");
    for f in &bundle.files {
        let elements = if f.target == Target::Nftables { f.elements.to_string() } else { "–".into() };
        let budget = f.tcam.map_or("–".to_string(), |t| t.to_string());
        let _ = writeln!(
            s,
            "| {} | {} | {} | `{}` | {} | {elements} | {budget} |",
            md(&f.device),
            f.kind,
            f.target.name(),
            f.path,
            f.rules,
        );
    }
    let over: Vec<&super::BundleFile> =
        bundle.files.iter().filter(|f| f.tcam.is_some_and(|limit| f.rules as u64 > limit)).collect();
    if !over.is_empty() {
        let _ = writeln!(s);
        for f in over {
            let _ = writeln!(
                s,
                "**Warning:** `{}` needs {} ACL entries, above its TCAM budget of {} (`tcam` in the policy). \
                 The switch may refuse the ACL or fall back to software forwarding: split the zones over more \
                 switches, or narrow the flows.",
                md(&f.device),
                f.rules,
                f.tcam.unwrap_or_default()
            );
        }
    }
    changes(&mut s, bundle, previous);
    let has = |ext: &str| bundle.files.iter().any(|f| f.path.ends_with(ext));
    if has(".ps1") {
        let _ = writeln!(
            s,
            "\n## Deploy (Windows Defender Firewall: `host/*.ps1`)\n\n\
             Run the host's script in an elevated PowerShell (`powershell -ExecutionPolicy Bypass -File host\\NAME.ps1`).\n\
             It removes and recreates the rules of its own group (`{group}`), sets the default inbound action of all\n\
             three profiles (Domain, Private, Public) to Block (outbound too for closed-zone hosts), turns on logging of\n\
             dropped packets and prints what it removed and created. On closed-zone hosts it also disables every enabled\n\
             Allow rule outside its group (Windows' Core Networking and File and Printer Sharing rules, rules made by hand),\n\
             and refuses to run, changing nothing, while Group Policy or another store it cannot change holds one. Last, it\n\
             reads back the firewall in effect (the active store, where Group Policy wins) and stops with an error unless\n\
             profiles and rules are as written. Running it again gives the same rules. Roll back by running the previous\n\
             bundle's script (rules it disabled stay disabled: `Enable-NetFirewallRule -Name …`). It rests on Windows\n\
             Defender Firewall being the host's only packet filter; check a fresh export now and then (`zonecheck check`).",
            group = bundle.windows_group
        );
    }
    if has(".ios") || has(".aoscx") || has(".junos") || has(".eos") {
        let _ = writeln!(
            s,
            "\n## Deploy (switch ACLs: `switch/*`)\n\n\
             Each file defines its ACLs and then applies them to the SVIs. An ACL's name ends with a hash of its entries:\n\
             a changed ACL gets a new name and is defined beside the one in use, and replacing the ACL on an interface is\n\
             one command, so the change is hitless; an unchanged ACL keeps its name. Paste or push only the files listed as\n\
             changed or added above, in configuration mode, check the entry counts against the table above, then remove\n\
             the ACLs they replaced (named in each file's Step 3 and above). The rollback section at the end of each file\n\
             re-applies the ACLs the previous bundle in this directory had applied."
        );
    }
    let _ = writeln!(
        s,
        "\n## Deploy (nftables: `firewall/*.nft`, `host/*.nft`)\n\n\
         1. Copy the device's file to it and compare its sha256 with `manifest.json`.\n\
         2. Check it: `nft -c -f FILE` (as root; on a host with other tables, `unshare -n nft -c -f FILE` checks it in isolation).\n\
         3. Load it: `nft -f FILE`. The file replaces its table in one transaction (`inet {table}` on a firewall,\n   \
            `inet {table}_host` on a host, so a firewall managed as a Linux host keeps both); other tables\n   \
            (firewalld, Docker, libvirt) are not touched. Connections opened under an earlier ruleset are checked\n   \
            again against this one (they lack its connection mark): those it no longer permits stop at their next\n   \
            packet, the rest go on. A host deployed by a bundle older than this one holds its rules in\n   \
            `inet {table}`: delete that table once after loading the new file.\n\
         4. Confirm with `nft list ruleset`; denied packets are logged with the prefix `zc drop DEVICE`.\n\n\
         ## Roll back\n\n\
         Load the previous bundle's file for the device with `nft -f` the same way: it replaces the table as a whole,\n\
         so nothing of the newer ruleset remains. Keep every bundle you deploy (for example in git); `manifest.json`\n\
         names the policy by its sha256. To remove zonecheck's rules entirely: `nft delete table inet {table}`\n\
         (`inet {table}_host` on a host).",
        table = bundle.nft_table
    );
    s
}

/// The section on what changed since the previous bundle in the directory: the policy
/// digest, every device file as added, changed, removed or unchanged, and for the switch
/// files that changed, which ACL replaces which (the rollback names the old one).
fn changes(s: &mut String, bundle: &Bundle, previous: Option<&Previous>) {
    let _ = writeln!(s, "\n## Changes since the previous bundle in this directory\n");
    let Some(prev) = previous else {
        let _ = writeln!(s, "This is the first bundle in this directory: every file is new.");
        return;
    };
    if prev.manifest.policy.sha256 == bundle.policy_digest {
        let _ = writeln!(s, "The policy is unchanged (same sha256).");
    } else {
        let old = &prev.manifest.policy.sha256;
        let old = if old.len() == 64 && old.bytes().all(|b| b.is_ascii_hexdigit()) { old.as_str() } else { "?" };
        let _ = writeln!(s, "The policy changed: sha256 `{old}` → `{}`.", bundle.policy_digest);
    }
    let old_sha: BTreeMap<&str, &str> =
        prev.manifest.files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
    let (mut added, mut changed, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
    for f in &bundle.files {
        // The recorded sha256 when the file itself is gone or unreadable.
        match (prev.files.get(&f.path), old_sha.get(f.path.as_str())) {
            (Some(old), _) if *old == f.bytes => unchanged.push(f),
            (None, Some(sha)) if *sha == sha256_hex(&f.bytes) => unchanged.push(f),
            (None, None) => added.push(f),
            (old, _) => changed.push((f, old)),
        }
    }
    let removed: Vec<&FileEntry> =
        prev.manifest.files.iter().filter(|p| !bundle.files.iter().any(|f| f.path == p.path)).collect();
    let _ = writeln!(
        s,
        "{} changed, {} unchanged, {} added, {} removed. Deploy the changed and added files only: an unchanged file \
         is byte-identical to the one in the previous bundle.\n",
        changed.len(),
        unchanged.len(),
        added.len(),
        removed.len()
    );
    for (f, old) in &changed {
        match old {
            Some(old) => {
                let (a, r) = line_delta(old, &f.bytes);
                let _ = writeln!(s, "- changed: `{}` (+{a} −{r} lines)", f.path);
            }
            None => {
                let _ = writeln!(s, "- changed: `{}`", f.path);
            }
        }
        for acl in &f.acls {
            match &acl.rollback {
                Some(old) if !has_acl(prev, &f.path, &acl.name) => {
                    let _ = writeln!(
                        s,
                        "  - {} {}: `{}` replaces `{old}` (the file's rollback re-applies `{old}`)",
                        md(&acl.interface),
                        acl.family,
                        acl.name
                    );
                }
                _ if has_acl(prev, &f.path, &acl.name) => {
                    let _ = writeln!(s, "  - {} {}: `{}` unchanged", md(&acl.interface), acl.family, acl.name);
                }
                _ => {
                    let _ = writeln!(s, "  - {} {}: `{}` is new", md(&acl.interface), acl.family, acl.name);
                }
            }
        }
    }
    for f in &added {
        let _ = writeln!(s, "- added: `{}`", f.path);
    }
    for p in &removed {
        let how = match p.target.as_str() {
            "nftables" => {
                "remove the `inet zonecheck` (or, on a host, `inet zonecheck_host`) table there by hand".to_string()
            }
            "windows" => "remove the rules of its zonecheck group there by hand".to_string(),
            _ if !p.acls.is_empty() && p.acls.iter().all(|a| is_acl_name(&a.name)) => {
                let names: Vec<String> = p.acls.iter().map(|a| format!("`{}`", a.name)).collect();
                format!("remove its ACLs there by hand: {}", names.join(", "))
            }
            _ => "remove its zonecheck ACLs there by hand".to_string(),
        };
        let _ = writeln!(s, "- removed: `{}` (its device is no longer compiled: {how})", md(&p.path));
    }
    if !unchanged.is_empty() {
        let names: Vec<String> = unchanged.iter().map(|f| format!("`{}`", f.path)).collect();
        let _ = writeln!(s, "- unchanged: {}", names.join(", "));
    }
    if changed.is_empty() && added.is_empty() && removed.is_empty() {
        let _ = writeln!(s, "\nNo device file changed.");
    }
}

/// Whether the previous bundle's file at `path` holds the ACL `name`.
fn has_acl(prev: &Previous, path: &str, name: &str) -> bool {
    prev.manifest.files.iter().any(|f| f.path == path && f.acls.iter().any(|a| a.name == name))
}

fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

/// All files of the bundle, by path inside it (device files, manifest, summary); the device
/// files borrowed from the bundle, not copied.
pub(crate) fn contents<'a>(
    bundle: &'a Bundle,
    previous: Option<&Previous>,
    verdict_line: &str,
) -> BTreeMap<String, Cow<'a, [u8]>> {
    let mut out: BTreeMap<String, Cow<'a, [u8]>> =
        bundle.files.iter().map(|f| (f.path.clone(), Cow::Borrowed(f.bytes.as_slice()))).collect();
    let (mut m, summary) = rayon::join(
        || serde_json::to_string_pretty(&manifest(bundle)).unwrap_or_default(),
        || summary(bundle, previous, verdict_line),
    );
    m.push('\n');
    out.insert(MANIFEST.into(), Cow::Owned(m.into_bytes()));
    out.insert(SUMMARY.into(), Cow::Owned(summary.into_bytes()));
    out
}

#[derive(Debug)]
pub(crate) enum WriteError {
    /// `dir` exists and does not look like a zonecheck bundle: refuse to replace it.
    NotABundle(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::NotABundle(p) => write!(
                f,
                "`{}` exists and is not a zonecheck bundle (no manifest.json); refusing to replace it",
                p.display()
            ),
            WriteError::Io(p, e) => write!(f, "cannot write `{}`: {e}", p.display()),
        }
    }
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |e| WriteError::Io(p.to_path_buf(), e)
}

/// Write the bundle into `dir`, replacing what is there atomically.
pub(crate) fn write<B: AsRef<[u8]> + Sync>(dir: &Path, files: &BTreeMap<String, B>) -> Result<(), WriteError> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty && !dir.join(MANIFEST).is_file() {
            return Err(WriteError::NotABundle(dir.to_path_buf()));
        }
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bundle".into());
    // Staged beside the bundle (one file system, so the swap is a rename); removed on any
    // return, and by the guard's drop if compile stops midway.
    let staging =
        tempfile::Builder::new().prefix(&format!(".{base}.zonecheck-new-")).tempdir_in(parent).map_err(io(parent))?;
    // The bundle itself is a directory inside it, made like any other (the staging
    // directory is private, mode 0700; the bundle keeps the user's umask).
    let tmp = staging.path().join(&base);
    let result = (|| {
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        // Directories first, then the files in parallel (each is created and written on its
        // own; a bundle holds thousands). The first error in path order is reported.
        let dirs: BTreeSet<PathBuf> =
            files.keys().filter_map(|path| tmp.join(path).parent().map(Path::to_path_buf)).collect();
        for d in &dirs {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        // A file the bundle in place already holds byte for byte is linked from it, not
        // written again: recompiling after a small change allocates inodes only for the
        // files that changed (on ext4, allocating thousands of inodes just freed by the
        // previous swap costs seconds).
        let previous = dir.join(MANIFEST).is_file().then_some(dir);
        // Only files of the user compiling (the owner of the new bundle) are linked.
        let owner = owner_of(&tmp);
        let written: Vec<Result<(), WriteError>> = files
            .par_iter()
            .map(|(path, bytes)| {
                let p = tmp.join(path);
                if let Some(old) = previous.map(|d| d.join(path))
                    && same_file_content(&old, bytes.as_ref(), owner)
                    && std::fs::hard_link(&old, &p).is_ok()
                {
                    return Ok(());
                }
                let mut f = std::fs::File::create(&p).map_err(io(&p))?;
                f.write_all(bytes.as_ref()).map_err(io(&p))
            })
            .collect();
        written.into_iter().collect::<Result<(), WriteError>>()?;
        // One flush of the whole file system instead of an fsync per file (a bundle can
        // hold thousands of host files): the new bundle is on disk before it is swapped in.
        sync_dir(&tmp).map_err(io(&tmp))?;
        swap_in(&tmp, dir)?;
        sync_dir(parent).map_err(io(parent))
    })();
    remove_tree(&tmp);
    drop(staging);
    result
}

/// Does the regular file at `path` (not a symbolic link) hold exactly `bytes`, owned by
/// `owner` and writable by its owner only? (Anyone else could change a linked file after
/// compile read it; a file someone made writable to others is written afresh.)
fn same_file_content(path: &Path, bytes: &[u8], owner: Option<u32>) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
    #[cfg(unix)]
    let private = {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        meta.permissions().mode() & 0o022 == 0 && Some(meta.uid()) == owner
    };
    #[cfg(not(unix))]
    let private = owner.is_some();
    meta.is_file() && private && meta.len() == bytes.len() as u64 && std::fs::read(path).is_ok_and(|old| old == bytes)
}

/// The owner of `path` (None where files have no numeric owner: nothing is linked there).
fn owner_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| m.uid())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Remove a bundle directory (the previous bundle after the swap, or a failed new one): the
/// files of its subdirectories in parallel, then whatever is left.
fn remove_tree(dir: &Path) {
    // The entries of a directory that are directories (`dirs`) or files (unreadable: none).
    let entries = |d: &Path, dirs: bool| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| if dirs { t.is_dir() } else { t.is_file() }))
            .map(|e| e.path())
            .collect()
    };
    for sub in entries(dir, true) {
        let files = entries(&sub, false);
        files.par_iter().for_each(|f| {
            let _ = std::fs::remove_file(f);
        });
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Put `new` at `dir`: exchange atomically if `dir` exists, else rename.
fn swap_in(new: &Path, dir: &Path) -> Result<(), WriteError> {
    if !dir.exists() {
        return std::fs::rename(new, dir).map_err(io(dir));
    }
    if exchange(new, dir).is_ok() {
        // `new` now holds the previous bundle; the caller removes it.
        return Ok(());
    }
    // No RENAME_EXCHANGE here: move the old bundle aside, move the new one in, and put
    // the old one back if that fails.
    let old = new.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(dir, &old).map_err(io(dir))?;
    if let Err(e) = std::fs::rename(new, dir) {
        let _ = std::fs::rename(&old, dir);
        return Err(WriteError::Io(dir.to_path_buf(), e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Flush the file system holding `dir` (syncfs), or at least the directory itself.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let d = std::fs::File::open(dir)?;
    #[cfg(target_os = "linux")]
    if rustix::fs::syncfs(&d).is_ok() {
        return Ok(());
    }
    d.sync_all()
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no RENAME_EXCHANGE"))
}
