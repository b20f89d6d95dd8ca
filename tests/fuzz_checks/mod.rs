//! The properties the fuzz targets check, shared by `fuzz/fuzz_targets/*.rs` (through a
//! `#[path]` module) and `tests/fuzz_replay.rs`, so a replayed corpus file runs exactly the
//! code a fuzzer ran. No libfuzzer here: each check takes bytes and panics on a finding.

use zonecheck::diagnostics::{Diag, Sources, render};
use zonecheck::syntax::{self, fmt::format_file};

/// Render diagnostics the way the CLI does; miette must accept every span we produce.
fn render_all(diags: &[Diag], sources: &Sources) {
    let _ = render(diags, sources, false, 80);
}

/// `parse`: any UTF-8 text parses (with or without diagnostics) and its diagnostics render.
pub fn check_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = syntax::parse_str("fuzz.zc", text);
    render_all(&parsed.diags, &parsed.sources);
}

/// `resolve`: any UTF-8 text resolves to a model or to diagnostics that render; a model
/// renders as DOT, Mermaid and its canonical text. Returns whether it resolved.
pub fn check_resolve(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else { return false };
    match zonecheck::load_str("fuzz.zc", text) {
        Ok(model) => {
            use zonecheck::report::graph::{View, dot, mermaid};
            let classes = (0..model.classes.len()).map(|i| View::Class(zonecheck::model::ClassId::from_index(i)));
            for view in [View::Zones, View::Systems].into_iter().chain(classes) {
                let _ = dot(&model, view);
                let _ = mermaid(&model, view);
            }
            let _ = model.canonical();
            true
        }
        Err(zonecheck::Errors { sources, diags }) => {
            assert!(!diags.is_empty(), "resolution failed without a diagnostic");
            render_all(&diags, &sources);
            false
        }
    }
}

/// Sorted diagnostic codes of a failed resolution (empty when it resolves).
fn error_codes(result: &Result<zonecheck::Model, zonecheck::Errors>) -> Vec<&'static str> {
    match result {
        Ok(_) => Vec::new(),
        Err(e) => {
            let mut codes: Vec<&'static str> = e.diags.iter().map(|d| d.code.id).collect();
            codes.sort_unstable();
            codes
        }
    }
}

/// `fmt_roundtrip`: text that parses cleanly formats to text that parses cleanly, formats
/// to itself again, and means the same (same canonical model, or the same error codes).
/// Returns whether the input parsed cleanly, i.e. whether there was anything to check.
pub fn check_fmt_roundtrip(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else { return false };
    let parsed = syntax::parse_str("fuzz.zc", text);
    if !parsed.diags.is_empty() {
        return false;
    }
    let Some(file) = parsed.files.first() else { return false };
    // The text the parser saw (a byte-order mark is already stripped).
    let src = syntax::text_of(&parsed.sources, file.file);
    let once = format_file(file, src);

    let reparsed = syntax::parse_str("fuzz.zc", &once);
    assert!(
        reparsed.diags.is_empty(),
        "formatted text does not parse cleanly:\n--- input\n{src}\n--- formatted\n{once}\n--- diagnostics\n{}",
        render(&reparsed.diags, &reparsed.sources, false, 100)
    );
    let twice = format_file(&reparsed.files[0], &once);
    assert_eq!(once, twice, "fmt is not idempotent:\n--- input\n{src}");

    // `load_str` is `resolve(parse_str(..))`; reuse the parses made above.
    let before = zonecheck::resolve(parsed.clone());
    let after = zonecheck::resolve(reparsed);
    match (&before, &after) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.canonical(), b.canonical(), "fmt changed the model:\n--- input\n{src}\n--- formatted\n{once}")
        }
        _ => assert_eq!(
            error_codes(&before),
            error_codes(&after),
            "fmt changed whether or how the policy resolves:\n--- input\n{src}\n--- formatted\n{once}"
        ),
    }
    true
}

/// `check_read`: the first byte picks a `zonecheck check` format (`data[0] % 8`, in the
/// order of `Format::ALL`), the rest is the file (lossy UTF-8; at most 64 KB). Any text reads
/// into a ruleset whose jumps and bases name existing chains and whose cubes keep to their
/// family; if it evaluates (`permitted` may give up: too fragmented, jumps too deep), finding
/// dead rules does not panic, and for a few packets that can exist (`Packet::is_possible`:
/// witnesses of the first permitted cubes, of the first rules' cubes on every path, and of
/// every path) the concrete `trace` agrees with the symbolic permitted space, and no rule
/// that decides one of them in `trace` is reported unmatchable or shadowed.
pub fn check_read(data: &[u8]) {
    use zonecheck::check::Format;
    use zonecheck::internals::{
        ALL_DIMS, Action, Cube, Dead, Dim, Ifaces, Packet, Path, RuleRef, addr_max, dim_max, read,
    };

    const MAX_LEN: usize = 64 << 10;
    const MAX_PROBES: usize = 160;

    let Some((&first, rest)) = data.split_first() else { return };
    if rest.len() > MAX_LEN {
        return;
    }
    let format = Format::ALL[usize::from(first % 8)].0;
    let text = String::from_utf8_lossy(rest);
    let mut ifaces = Ifaces::new();
    let ruleset = read(format, &text, &mut ifaces);
    let name = format.name();

    // The ruleset is well formed: every chain it names exists, every cube is of one family
    // and within the range of every dimension.
    let chains = ruleset.chains.len();
    for b in &ruleset.bases {
        assert!(b.chain < chains, "{name}: base chain {} of {chains}", b.chain);
    }
    for (c, chain) in ruleset.chains.iter().enumerate() {
        for (k, rule) in chain.rules.iter().enumerate() {
            if let Action::Jump(t) | Action::Goto(t) = rule.action {
                assert!(t < chains, "{name}: rule {k} of chain {c} ({}) jumps to chain {t} of {chains}", chain.name);
            }
            for cube in &rule.matches {
                let v6 = cube.v6();
                let family = cube.field(Dim::Family).intervals();
                assert!(
                    family == [(0, 0)] || family == [(1, 1)],
                    "{name}: rule {k} of chain {c} ({}): a cube of no single family: {cube:?}",
                    chain.name
                );
                for d in ALL_DIMS {
                    let max = if matches!(d, Dim::Src | Dim::Dst) { addr_max(v6) } else { dim_max(d) };
                    if let Some((_, hi)) = cube.field(d).hull() {
                        assert!(
                            hi <= max,
                            "{name}: rule {k} of chain {c} ({}) at line {}: {d:?} beyond {max} in {cube:?}",
                            chain.name,
                            rule.origin.line
                        );
                    }
                }
            }
        }
    }

    let Ok(ev) = ruleset.permitted(&Path::ALL) else { return };
    let dead: Vec<RuleRef> = match ruleset.dead_rules(&ev) {
        Ok(d) => d
            .into_iter()
            .filter(|(_, why)| matches!(why, Dead::Unmatchable | Dead::Shadowed { .. }))
            .map(|(r, _)| r)
            .collect(),
        Err(_) => Vec::new(),
    };

    // Packets to trace: one per permitted cube, then per rule cube and path, then every
    // packet of a path and family. `permitted` only holds packets that can exist on their
    // path (`Cube::on_path`); `trace` is asked about those only.
    let mut probes: Vec<Packet> = ev.permitted.cubes().iter().take(MAX_PROBES / 4).map(Cube::witness).collect();
    for p in &probes {
        assert!(p.is_possible(), "{name}: the permitted space holds a packet that cannot exist: {p:?}");
    }
    'rules: for chain in &ruleset.chains {
        for rule in chain.rules.iter().take(16) {
            for cube in rule.matches.iter().take(2) {
                for path in Path::ALL {
                    if probes.len() >= MAX_PROBES {
                        break 'rules;
                    }
                    if let Some(c) = cube.intersect(&Cube::on_path(cube.v6(), path)) {
                        probes.push(c.witness());
                    }
                }
            }
        }
    }
    for v6 in [false, true] {
        for path in Path::ALL {
            probes.push(Cube::on_path(v6, path).witness());
        }
    }

    for p in &probes {
        let (traced, deciders) = ruleset.trace(p);
        let symbolic = ev.permitted.contains(p);
        assert_eq!(
            traced,
            symbolic,
            "{name}: trace says {} but the permitted space says {} for {p:?} (decided by {deciders:?})",
            if traced { "permitted" } else { "dropped" },
            if symbolic { "permitted" } else { "dropped" },
        );
        for r in deciders.iter().filter_map(|(_, r)| *r) {
            assert!(
                !dead.contains(&r),
                "{name}: rule {r:?} (line {}: {}) decides {p:?} in trace but is reported dead",
                ruleset.rule(r).origin.line,
                ruleset.rule(r).origin.text
            );
        }
    }
}
