//! The JSON export of a live host.

use super::*;

/// The JSON export of a live host's firewall, as written by [`EXPORT_COMMAND`].
pub(crate) fn read_export(text: &str, ifaces: &mut Ifaces) -> Ruleset {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let fail = |message: String, ifaces: &mut Ifaces| unreadable(Problem { line: 0, message }, ifaces);
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        // An export cut off before its closing brace: refused.
        Err(e) if e.is_eof() => {
            let mut rs =
                unreadable(Problem { line: e.line(), message: format!("the export stops early: {e}") }, ifaces);
            rs.incomplete = rs.problems.pop();
            return rs;
        }
        Err(e) => return fail(format!("the export is not JSON: {e}"), ifaces),
    };
    let Some(root) = root.as_object() else {
        return fail(
            "the export is not an object with Rules and Profiles; write it with the export command".into(),
            ifaces,
        );
    };
    let mut problems = Vec::new();
    let mut specs = Vec::new();
    match get(root, "Rules") {
        None => problems
            .push(Problem { line: 0, message: "the export has no Rules; write it with the export command".into() }),
        Some(rules) => {
            for (k, r) in elements(rules).into_iter().enumerate() {
                match r.as_object() {
                    Some(o) => specs.push(export_spec(o)),
                    None if r.is_null() => {}
                    None => problems.push(Problem { line: 0, message: format!("Rules entry {k} is not an object") }),
                }
            }
        }
    }
    // Every profile: a host whose outbound traffic is blocked may never reach a domain
    // controller, and then is on Private or Public, never on Domain.
    let mut profiles: [ProfileSettings; 3] = Default::default();
    match get(root, "Profiles") {
        None => problems
            .push(Problem { line: 0, message: "the export has no Profiles: the default actions are unknown".into() }),
        Some(ps) => {
            let listed = elements(ps);
            for (k, name) in PROFILES.iter().enumerate() {
                let found = listed.iter().find_map(|p| {
                    let o = p.as_object()?;
                    get(o, "Name").and_then(text_of).filter(|n| eq(n, name)).map(|_| o)
                });
                let Some(o) = found else {
                    problems.push(Problem {
                        line: 0,
                        message: format!(
                            "the export's Profiles have no {name} profile: its default actions are unknown"
                        ),
                    });
                    continue;
                };
                for key in PROFILE_KEYS {
                    let Some(v) = get(o, key) else { continue };
                    let value = texts_of(v).unwrap_or_default().join(", ");
                    if let Err(e) = profile_setting(&mut profiles[k], key, &value) {
                        problems.push(Problem { line: 0, message: format!("{name} profile: {e}") });
                    }
                }
            }
        }
    }
    assemble(&specs, &profiles, problems, ifaces)
}

/// The profile settings the export command writes and the reader reads.
const PROFILE_KEYS: [&str; 6] = [
    "Enabled",
    "DefaultInboundAction",
    "DefaultOutboundAction",
    "AllowInboundRules",
    "AllowLocalFirewallRules",
    "DisabledInterfaceAliases",
];

/// A key, case-insensitively (PowerShell's property names are).
pub(super) fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The elements of what should be an array: a scalar is one element, `{ "value": [...] }`
/// (Windows PowerShell 5.1's wrapped arrays) its value, `null` none.
pub(super) fn elements(v: &Value) -> Vec<&Value> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match get(o, "value") {
            Some(inner) if !inner.is_object() => elements(inner),
            _ => vec![v],
        },
        _ => vec![v],
    }
}

/// A scalar as text; a one-element array as its element.
pub(super) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Value::Array(a) if a.len() == 1 => text_of(&a[0]),
        Value::Object(o) => get(o, "value").filter(|x| !x.is_object()).and_then(text_of),
        _ => None,
    }
}

/// A list of texts, flattening nested arrays; `None` for null. Nulls inside are skipped.
pub(super) fn texts_of(v: &Value) -> Option<Vec<String>> {
    if v.is_null() {
        return None;
    }
    let mut out = Vec::new();
    let mut stack = vec![v];
    let mut steps = 0usize;
    while let Some(x) = stack.pop() {
        steps += 1;
        if steps > 1_000_000 {
            break;
        }
        match x {
            Value::Array(a) => stack.extend(a.iter().rev()),
            Value::Object(o) => match get(o, "value") {
                Some(inner) if !inner.is_object() => stack.push(inner),
                _ => {}
            },
            Value::Null => {}
            other => out.extend(text_of(other)),
        }
    }
    Some(out)
}

/// The export's condition fields (no condition when absent or null).
pub(super) const CONDITIONS: &[&str] = &[
    "Program",
    "Package",
    "Service",
    "InterfaceType",
    "InterfaceAlias",
    "LocalUser",
    "RemoteUser",
    "RemoteMachine",
    "Owner",
    "Authentication",
    "Encryption",
    "OverrideBlockRules",
    "EdgeTraversalPolicy",
];

pub(super) fn export_spec(o: &Map<String, Value>) -> Spec {
    let mut s = Spec::new(0);
    let text = |k: &str| get(o, k).and_then(text_of);
    s.name = text("Name");
    s.display = text("DisplayName");
    s.description = text("Description");
    s.group = text("Group").filter(|g| !g.is_empty());
    let required = |k: &str| text(k).ok_or_else(|| format!("{k} is missing or not a single value"));
    s.enabled = required("Enabled").and_then(|v| parse_enabled(&v));
    s.profiles = get(o, "Profile")
        .and_then(texts_of)
        .ok_or_else(|| "Profile is missing".to_string())
        .and_then(|v| profile_bits(&v));
    s.inbound = required("Direction").and_then(|v| parse_direction(&v));
    s.allow = required("Action").and_then(|v| parse_action(&v));
    let mut problems = Vec::new();
    let mut list = |k: &str| match get(o, k).and_then(texts_of) {
        Some(v) => v,
        None => {
            problems.push(format!("{k} is missing or null in the export"));
            Vec::new()
        }
    };
    s.local = list("LocalAddress");
    s.remote = list("RemoteAddress");
    s.lport = list("LocalPort");
    s.rport = list("RemotePort");
    s.icmp = list("IcmpType");
    match text("Protocol") {
        Some(p) => s.protocol = p,
        None => problems.push("Protocol is missing or not a single value".into()),
    }
    for k in CONDITIONS {
        if let Some(v) = get(o, k).and_then(texts_of) {
            s.conditions.push((k.to_string(), v));
        }
    }
    s.problems = problems;
    s
}
