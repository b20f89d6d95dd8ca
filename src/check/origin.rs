//! Which device a file says it was generated for.
//!
//! Every file zonecheck writes opens with a header naming its device (`# zonecheck 0.1.0 —
//! firewall fw-kjerne — …`, `! zonecheck 0.1.0 - cisco-ios - switch sw-core - …`,
//! `# zonecheck 0.1.0 - Windows Defender Firewall for host epj …`), and nftables keeps the
//! table comment (`zonecheck firewall fw-kjerne: …`) in a live dump. `check --device NAME
//! FILE` uses this to say plainly that a file belongs to another device, rather than
//! report every rule of it as a difference.

/// How far into a file the header is looked for (a live JSON dump keeps the table comment
/// near its start, after the metainfo object).
const HEAD: usize = 4096;

/// The device named by the first zonecheck header or table comment in the file, if any.
pub(crate) fn named_device(text: &str) -> Option<&str> {
    let mut end = HEAD.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let at = head.find("zonecheck ")?;
    // The header's own line (or, in JSON, the rest of the comment string). The first
    // marker wins: a policy title later on the line may hold the same words.
    let line = head[at..].split(['\n', '"']).next().unwrap_or("");
    let (i, marker) = ["firewall ", "switch ", "host "].iter().filter_map(|m| line.find(m).map(|i| (i, *m))).min()?;
    let rest = &line[i + marker.len()..];
    let name = rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).next()?;
    name.starts_with(|c: char| c.is_ascii_lowercase()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::named_device;

    #[test]
    fn headers_of_every_target_name_their_device() {
        assert_eq!(
            named_device("#!/usr/sbin/nft -f\n# zonecheck 0.1.0 — firewall fw-kjerne — Fjordvik\n"),
            Some("fw-kjerne")
        );
        assert_eq!(named_device("#!/usr/sbin/nft -f\n# zonecheck 0.1.0 — host siem — Fjordvik\n"), Some("siem"));
        assert_eq!(
            named_device("! zonecheck 0.1.0 - cisco-ios - switch sw-core (Kjerne) - Fjordvik\n"),
            Some("sw-core")
        );
        assert_eq!(named_device("/* zonecheck 0.1.0 - junos - switch sw-ex - F */\n"), Some("sw-ex"));
        assert_eq!(
            named_device(
                "#Requires -RunAsAdministrator\n# zonecheck 0.1.0 - Windows Defender Firewall for host epj (EPJ)\n"
            ),
            Some("epj")
        );
        assert_eq!(
            named_device(
                r#"{"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "zonecheck", "comment": "zonecheck host siem: Fjordvik"}}]}"#
            ),
            Some("siem")
        );
    }

    #[test]
    fn files_without_a_header_name_nothing() {
        assert_eq!(named_device("table inet filter {\n}\n"), None);
        assert_eq!(named_device("ip access-list extended X\n"), None);
        assert_eq!(named_device(""), None);
        assert_eq!(named_device("# zonecheck 0.1.0 — host siem — Policy of the firewall team\n"), Some("siem"));
        assert_eq!(named_device("é".repeat(5000).as_str()), None);
    }
}
