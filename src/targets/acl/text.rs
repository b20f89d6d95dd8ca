//! Free text in switch files: remarks and comments as every CLI can take them, the zones
//! behind an interface, the header.

use super::*;

/// ASCII free text for a remark, comment or annotation, at most `max` bytes.
///
/// Switch CLIs take the rest of the line as the text, so the one danger is a line break;
/// beyond that they differ (`?` opens context help when pasted, `"` may open a quoted
/// argument, a Junos `/* */` comment ends at `*/`, some firmware chokes on non-ASCII). So
/// the text is reduced to printable ASCII: Norwegian and other common letters are
/// transliterated (æ → ae, ø → oe, å → aa), typographic quotes and dashes become ASCII,
/// control characters and other whitespace become spaces, `?`, `"` and `\` are dropped —
/// and `*` too when `junos` — and anything else outside ASCII is dropped.
pub(crate) fn cli_text(s: &str, max: usize, junos: bool) -> String {
    fn push(t: &str, out: &mut String) {
        for c in t.chars() {
            if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            out.push(c);
        }
    }
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        let t: &str = match c {
            'æ' | 'ä' => "ae",
            'Æ' | 'Ä' => "AE",
            'ø' | 'ö' => "oe",
            'Ø' | 'Ö' => "OE",
            'å' => "aa",
            'Å' => "AA",
            'ü' => "ue",
            'Ü' => "UE",
            'ß' => "ss",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'É' | 'È' | 'Ê' | 'Ë' => "E",
            'á' | 'à' | 'â' => "a",
            'Á' | 'À' | 'Â' => "A",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' => "o",
            'ú' | 'ù' | 'û' => "u",
            'ñ' => "n",
            'ç' => "c",
            '§' => "par.",
            '‘' | '’' | '‚' | '‛' | '′' | '`' => "'",
            '–' | '—' | '‐' | '‑' | '−' => "-",
            '…' => "...",
            '→' => "->",
            '?' | '"' | '\\' => "",
            '*' if junos => "",
            c if c.is_control() || c.is_whitespace() => " ",
            c if c.is_ascii_graphic() => {
                let mut buf = [0u8; 4];
                let t: &str = c.encode_utf8(&mut buf);
                push(t, &mut out);
                continue;
            }
            _ => "",
        };
        push(t, &mut out);
    }
    let mut out = out.trim().to_string();
    out.truncate(max);
    out.trim_end().to_string()
}

/// Whether entry `i` serves the same flows in the same way as the one before it: a remark
/// then covers both (a remark describes the entries that follow it).
pub(crate) fn same_as_previous(entries: &[Ace], i: usize) -> bool {
    i > 0 && entries[i - 1].kind == entries[i].kind && entries[i - 1].flows == entries[i].flows
}

/// A remark naming an entry's flows by their stable ids: `zc f-3a9c1d0e a -> b : https:
/// description` (`manifest.json` maps the id to its file and line).
pub(crate) fn remark(model: &Model, a: &Ace, max: usize, junos: bool) -> String {
    let prefix = match a.kind {
        AceKind::Forward => "zc",
        AceKind::Return => "zc return",
        AceKind::Nd => return "zc IPv6 neighbour discovery".into(),
        AceKind::Deny => return "zc default deny".into(),
        AceKind::TerminalDeny => return "zc terminal access (SSH, telnet) that no flow declares".into(),
        AceKind::ControlPlane => return "zc the rest of the control plane (routing, DHCP relay, ND) as before".into(),
    };
    let text = match a.flows.as_slice() {
        [one] => format!(
            "{prefix} {} {}: {}",
            crate::targets::flow_id(model, *one),
            model.flow_title(*one),
            model.flow(*one).description
        ),
        flows => {
            let mut out = format!("{prefix} flows");
            for (i, f) in flows.iter().enumerate() {
                let r = cli_text(crate::targets::flow_id(model, *f), max, junos);
                let more = format!(" +{}", flows.len() - i);
                if out.len() + 2 + r.len() + more.len() > max && i + 1 < flows.len() {
                    out.push_str(&more);
                    break;
                }
                out.push_str(if i == 0 { " " } else { ", " });
                out.push_str(&r);
            }
            out
        }
    };
    cli_text(&text, max, junos)
}

/// The zones behind an interface, for comments: `adm-klient (Administrativt nett)`.
pub(crate) fn zones_text(model: &Model, id: DeviceId, iface: usize) -> String {
    let i = &model.devices[id.index()].interfaces[iface];
    let zones: Vec<String> = i
        .zones
        .iter()
        .map(|z| {
            let z = model.zone(*z);
            match &z.label {
                Some(l) => format!("{} ({l})", z.name),
                None => z.name.clone(),
            }
        })
        .collect();
    zones.join(", ")
}

/// Comment lines at the top of every switch file (already safe free text). Nothing in them
/// changes when the policy is edited elsewhere: the provenance is in `manifest.json`.
pub(crate) fn header(model: &Model, rules: &DeviceRules, how: &str, junos: bool) -> Vec<String> {
    let (label, target) = match rules.enforcer {
        Enforcer::Device(id) => {
            let d = &model.devices[id.index()];
            (d.label.clone(), d.target.word())
        }
        Enforcer::Host(_) => (None, "?"),
    };
    let policy = model.meta.name.clone().unwrap_or_else(|| "policy".into());
    let what = match label {
        Some(l) => format!("switch {} ({l})", rules.name),
        None => format!("switch {}", rules.name),
    };
    let lines = [
        format!("zonecheck {} - {target} - {what} - {policy}", env!("CARGO_PKG_VERSION")),
        format!("Generated: do not edit by hand. {how}"),
        crate::targets::nftables::PROVENANCE.to_string(),
    ];
    lines.iter().map(|l| cli_text(l, 200, junos)).collect()
}
