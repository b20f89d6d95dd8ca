//! The bundle on disk: device files, `manifest.json`, `SUMMARY.md`, written atomically.
//!
//! The new bundle is built in a temporary directory beside the target and then swapped in
//! with one `renameat2(RENAME_EXCHANGE)` (falling back to two renames where the file system
//! lacks it), so a failed or interrupted run leaves the previous bundle untouched. Device
//! files and the manifest depend only on the policy; `SUMMARY.md` also reports what changed
//! since the bundle it replaces.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Bundle, sha256_hex};

pub const MANIFEST: &str = "manifest.json";
pub const SUMMARY: &str = "SUMMARY.md";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub manifest_version: u32,
    pub zonecheck: String,
    pub policy: PolicyEntry,
    pub files: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntry {
    pub name: Option<String>,
    pub sha256: String,
    pub sources: Vec<SourceEntry>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    pub file: String,
    pub sha256: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub device: String,
    pub kind: String,
    pub target: String,
    pub sha256: String,
    pub bytes: usize,
}

pub fn manifest(bundle: &Bundle) -> Manifest {
    Manifest {
        manifest_version: 1,
        zonecheck: env!("CARGO_PKG_VERSION").to_string(),
        policy: PolicyEntry {
            name: bundle.policy_name.clone(),
            sha256: bundle.policy_digest.clone(),
            sources: bundle.sources.iter().map(|(f, h)| SourceEntry { file: f.clone(), sha256: h.clone() }).collect(),
        },
        files: bundle
            .files
            .iter()
            .map(|f| FileEntry {
                path: f.path.clone(),
                device: f.device.clone(),
                kind: f.kind.to_string(),
                target: f.target.to_string(),
                sha256: sha256_hex(&f.bytes),
                bytes: f.bytes.len(),
            })
            .collect(),
    }
}

/// The bundle that is in `dir` now, if any: its manifest and device files.
pub struct Previous {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
}

pub fn read_previous(dir: &Path) -> Option<Previous> {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let manifest: Manifest = serde_json::from_str(&text).ok()?;
    let files = manifest
        .files
        .iter()
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

pub fn summary(bundle: &Bundle, previous: Option<&Previous>, verdict_line: &str) -> String {
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
        let elements = if f.target == "nftables" { f.elements.to_string() } else { "–".into() };
        let budget = f.tcam.map_or("–".to_string(), |t| t.to_string());
        let _ = writeln!(
            s,
            "| {} | {} | {} | `{}` | {} | {elements} | {budget} |",
            md(&f.device),
            f.kind,
            f.target,
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
    let _ = writeln!(s, "\n## Changes since the previous bundle in this directory\n");
    match previous {
        None => {
            let _ = writeln!(s, "This is the first bundle in this directory.");
        }
        Some(prev) => {
            if prev.manifest.policy.sha256 == bundle.policy_digest {
                let _ = writeln!(s, "The policy is unchanged (same sha256).");
            } else {
                let _ = writeln!(
                    s,
                    "The policy changed: sha256 `{}` → `{}`.",
                    prev.manifest.policy.sha256, bundle.policy_digest
                );
            }
            let mut any = false;
            for f in &bundle.files {
                match prev.files.get(&f.path) {
                    None => {
                        any = true;
                        let _ = writeln!(s, "- added: `{}`", f.path);
                    }
                    Some(old) if *old != f.bytes => {
                        any = true;
                        let (a, r) = line_delta(old, &f.bytes);
                        let _ = writeln!(s, "- changed: `{}` (+{a} −{r} lines)", f.path);
                    }
                    Some(_) => {}
                }
            }
            for p in prev.files.keys() {
                if !bundle.files.iter().any(|f| &f.path == p) {
                    any = true;
                    let _ = writeln!(
                        s,
                        "- removed: `{p}` (its device is no longer in the policy: remove the `inet zonecheck` table there by hand)"
                    );
                }
            }
            if !any {
                let _ = writeln!(s, "No device file changed.");
            }
        }
    }
    let has = |ext: &str| bundle.files.iter().any(|f| f.path.ends_with(ext));
    if has(".ps1") {
        let _ = writeln!(
            s,
            "\n## Deploy (Windows Defender Firewall: `host/*.ps1`)\n\n\
             Run the host's script in an elevated PowerShell (`powershell -ExecutionPolicy Bypass -File host\\NAME.ps1`).\n\
             It removes and recreates the rules of its own group (`zonecheck`), sets the default inbound action of all\n\
             three profiles (Domain, Private, Public) to Block (outbound too for closed-zone hosts), turns on logging of\n\
             dropped packets and prints what it removed and created. On closed-zone hosts it also disables every enabled\n\
             Allow rule outside its group (Windows' Core Networking and File and Printer Sharing rules, rules made by hand),\n\
             and refuses to run, changing nothing, while Group Policy or another store it cannot change holds one. Last, it\n\
             reads back the firewall in effect (the active store, where Group Policy wins) and stops with an error unless\n\
             profiles and rules are as written. Running it again gives the same rules. Roll back by running the previous\n\
             bundle's script (rules it disabled stay disabled: `Enable-NetFirewallRule -Name …`). It rests on Windows\n\
             Defender Firewall being the host's only packet filter; check a fresh export now and then (`zonecheck check`)."
        );
    }
    if has(".ios") || has(".aoscx") || has(".junos") || has(".eos") {
        let _ = writeln!(
            s,
            "\n## Deploy (switch ACLs: `switch/*`)\n\n\
             Each file defines new, versioned ACLs (the name ends with the policy digest) and then applies them to the SVIs;\n\
             replacing the ACL on an interface is one command, so the change is hitless. Paste or push it in configuration\n\
             mode, check the entry counts against the table above, then remove the previous version's ACLs. The rollback\n\
             section at the end of each file re-applies the previous version."
        );
    }
    let _ = writeln!(
        s,
        "\n## Deploy (nftables: `firewall/*.nft`, `host/*.nft`)\n\n\
         1. Copy the device's file to it and compare its sha256 with `manifest.json`.\n\
         2. Check it: `nft -c -f FILE` (as root; on a host with other tables, `unshare -n nft -c -f FILE` checks it in isolation).\n\
         3. Load it: `nft -f FILE`. The file replaces the table `inet zonecheck` in one transaction; other tables\n   \
            (firewalld, Docker, libvirt) are not touched, and established connections survive.\n\
         4. Confirm with `nft list table inet zonecheck`; denied packets are logged with the prefix `zc drop DEVICE`.\n\n\
         ## Roll back\n\n\
         Load the previous bundle's file for the device with `nft -f` the same way: it replaces the table as a whole,\n\
         so nothing of the newer ruleset remains. Keep every bundle you deploy (for example in git); `manifest.json`\n\
         names the policy by its sha256. To remove zonecheck's rules entirely: `nft delete table inet zonecheck`."
    );
    s
}

fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

/// All files of the bundle, by path inside it (device files, manifest, summary).
pub fn contents(bundle: &Bundle, previous: Option<&Previous>, verdict_line: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = bundle.files.iter().map(|f| (f.path.clone(), f.bytes.clone())).collect();
    let mut m = serde_json::to_string_pretty(&manifest(bundle)).unwrap_or_default();
    m.push('\n');
    out.insert(MANIFEST.into(), m.into_bytes());
    out.insert(SUMMARY.into(), summary(bundle, previous, verdict_line).into_bytes());
    out
}

#[derive(Debug)]
pub enum WriteError {
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
pub fn write(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), WriteError> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty && !dir.join(MANIFEST).is_file() {
            return Err(WriteError::NotABundle(dir.to_path_buf()));
        }
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bundle".into());
    let tmp = parent.join(format!(".{base}.zonecheck-new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| {
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        for (path, bytes) in files {
            let p = tmp.join(path);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(io(d))?;
            }
            let mut f = std::fs::File::create(&p).map_err(io(&p))?;
            f.write_all(bytes).map_err(io(&p))?;
        }
        // One flush of the whole file system instead of an fsync per file (a bundle can
        // hold thousands of host files): the new bundle is on disk before it is swapped in.
        sync_dir(&tmp).map_err(io(&tmp))?;
        swap_in(&tmp, dir)?;
        sync_dir(parent).map_err(io(parent))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
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
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is open for the duration of the call.
        if unsafe { libc::syncfs(d.as_raw_fd()) } == 0 {
            return Ok(());
        }
    }
    d.sync_all()
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc =
        unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no RENAME_EXCHANGE"))
}
