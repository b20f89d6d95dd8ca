//! Mutation testing of `check`: every single-rule mutation of a generated artifact that
//! changes behaviour must be reported, with a witness packet that is truly in the
//! difference.
//!
//! For each artifact (Fjordvik's firewall, a Linux host, two switches and a Windows host,
//! and the firewall and host of generated policies) the original must check equal; then
//! every mutant from `common/mutate.rs` is checked:
//!
//! - *killed*: `check` reports differences. Each witness is traced rule by rule through the
//!   mutant (the concrete semantics, not the symbolic one that found it): its fate there
//!   must differ from what the policy intends, and from its fate in the original.
//! - *killed, fail closed*: the reader reports a construct it cannot model.
//! - *equivalent*: `check` says equal. Then the mutant must really be equivalent: the
//!   witness packet of every cube of every rule, original and mutant, gets the same fate in
//!   both.
//!
//! The mutation score is killed / (mutants − equivalent); it is printed per artifact and
//! must be 100 %.

#[path = "../../tests/common/mutate.rs"]
mod mutate;
#[allow(dead_code)]
#[path = "../../tests/kernel/policy_gen.rs"]
mod policy_gen;

use std::collections::BTreeMap;

use crate::check::intended::intended;
use crate::check::ruleset::Ruleset;
use crate::check::space::{Ifaces, Packet, Space};
use crate::check::{Format, check_device, read};
use crate::model::EnforcementPoint;
use crate::model::Model;
use crate::targets::acl::AclOptions;
use mutate::{Kind, mutants};

#[derive(Default, Debug)]
struct Score {
    mutants: usize,
    killed: usize,
    fail_closed: usize,
    equivalent: usize,
    witnesses: usize,
    by_op: BTreeMap<&'static str, (usize, usize)>,
}

impl Score {
    fn add(&mut self, o: &Score) {
        self.mutants += o.mutants;
        self.killed += o.killed;
        self.fail_closed += o.fail_closed;
        self.equivalent += o.equivalent;
        self.witnesses += o.witnesses;
        for (op, (n, k)) in &o.by_op {
            let e = self.by_op.entry(op).or_default();
            e.0 += n;
            e.1 += k;
        }
    }

    fn line(&self, what: &str) -> String {
        let live = self.mutants - self.equivalent;
        let score = if live == 0 { 100.0 } else { 100.0 * (self.killed + self.fail_closed) as f64 / live as f64 };
        format!(
            "{what}: {} mutants, {} killed with a witness ({} witnesses confirmed), {} fail closed, {} equivalent: score {score:.1} %",
            self.mutants, self.killed, self.witnesses, self.fail_closed, self.equivalent
        )
    }
}

/// Interface numbers exactly as `check_device` assigns them: the intended space first.
fn read_like_check(model: &Model, rules: &EnforcementPoint, format: Format, text: &str) -> (Ruleset, Space, Space) {
    let mut ifaces = Ifaces::new();
    let want = intended(model, rules, &mut ifaces, &AclOptions::default());
    let rs = read(format, text, &mut ifaces);
    let permits = Space::from_cubes(want.permits.iter().map(|(c, _)| c.clone()));
    (rs, permits, Space::from_cubes(want.scope))
}

/// Sample packets: the witness of every cube of every rule (capped per rule).
fn samples(rs: &Ruleset) -> Vec<Packet> {
    rs.chains.iter().flat_map(|c| &c.rules).flat_map(|r| r.matches.iter().take(64).map(|c| c.witness())).collect()
}

fn run(model: &Model, device: &str, format: Format, kind: Kind, text: &str, per_op: usize) -> Score {
    let point = model.enforcement_point(device).unwrap_or_else(|| panic!("no device {device}"));
    let rules = &point;
    let acl = AclOptions::default();
    let original = check_device(model, rules, format, device, text, &acl);
    assert!(original.equal(), "{device}: the generated artifact must check equal: {original:#?}");
    let (orig_rs, _, _) = read_like_check(model, rules, format, text);
    let mut score = Score::default();
    for m in mutants(kind, text, per_op) {
        score.mutants += 1;
        let entry = score.by_op.entry(m.op).or_default();
        entry.0 += 1;
        let result = check_device(model, rules, format, "mutant", &m.text, &acl);
        let (mut_rs, permits, scope) = read_like_check(model, rules, format, &m.text);
        if !result.problems.is_empty() {
            score.fail_closed += 1;
            entry.1 += 1;
            continue;
        }
        assert!(result.inconclusive.is_none(), "{device} {} line {}: inconclusive", m.op, m.line);
        if result.differences.is_empty() {
            // Claimed equivalent: no sampled packet may tell the two apart.
            let mut points = samples(&orig_rs);
            points.extend(samples(&mut_rs));
            for p in points.iter().filter(|p| scope.contains(p)) {
                assert_eq!(
                    orig_rs.trace(p).0,
                    mut_rs.trace(p).0,
                    "{device}: check calls the mutant ({} at line {}) equal, but {p:?} fares differently\n{}",
                    m.op,
                    m.line,
                    m.text
                );
            }
            score.equivalent += 1;
            continue;
        }
        score.killed += 1;
        entry.1 += 1;
        for d in &result.differences {
            let w = &d.witness;
            let in_mutant = mut_rs.trace(w).0;
            assert_ne!(
                in_mutant,
                permits.contains(w),
                "{device} {} line {}: witness {} is not in the difference",
                m.op,
                m.line,
                d.witness_text
            );
            assert_ne!(
                in_mutant,
                orig_rs.trace(w).0,
                "{device} {} line {}: witness {} fares the same in the original",
                m.op,
                m.line,
                d.witness_text
            );
            score.witnesses += 1;
        }
    }
    eprintln!("{}", score.line(device));
    for (op, (n, k)) in &score.by_op {
        eprintln!("    {op:<16} {k:>4} of {n:>4} killed");
    }
    score
}

fn fjordvik() -> (Model, BTreeMap<String, String>) {
    let model = crate::load_policy(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/fjordvik")))
        .unwrap_or_else(|e| panic!("{:?}", e.diags));
    let files = compiled(&model);
    (model, files)
}

/// Device name → its generated text.
fn compiled(model: &Model) -> BTreeMap<String, String> {
    compiled_with_target(model).into_iter().map(|(d, (_, t))| (d, t)).collect()
}

/// Device name → (target, generated text).
fn compiled_with_target(model: &Model) -> BTreeMap<String, (crate::model::Target, String)> {
    let templates = crate::targets::Templates::builtin().expect("templates");
    let bundle =
        crate::compile::compile_model(model, &Default::default(), &templates, crate::syntax::date::Date::today_utc())
            .expect("compiles");
    bundle.files.into_iter().map(|f| (f.device, (f.target, String::from_utf8_lossy(&f.bytes).into_owned()))).collect()
}

#[test]
fn every_behaviour_changing_mutation_of_fjordvik_is_reported_with_a_true_witness() {
    let (model, files) = fjordvik();
    let mut total = Score::default();
    for (device, format, kind, per_op) in [
        ("fw-kjerne", Format::NftText, Kind::Nft, 40),
        ("monitor", Format::NftText, Kind::Nft, 40),
        ("sw-core", Format::CiscoIos, Kind::Cli, 40),
        ("sw-skole", Format::ArubaAoscx, Kind::Cli, 40),
        ("ddc", Format::WindowsScript, Kind::Windows, 40),
        ("epj-plo-app", Format::WindowsScript, Kind::Windows, 40),
    ] {
        total.add(&run(&model, device, format, kind, &files[device], per_op));
    }
    eprintln!("{}", total.line("fjordvik, all artifacts"));
    assert!(total.killed > total.mutants / 2, "the mutation operators should mostly change behaviour: {total:?}");
}

#[test]
fn every_behaviour_changing_mutation_of_generated_policies_is_reported() {
    let mut total = Score::default();
    for seed in 1..=12u64 {
        let g = policy_gen::generate(seed);
        let model = crate::load_str("gen.zc", &g.text).unwrap_or_else(|e| panic!("{:?}", e.diags));
        for (device, (target, text)) in &compiled_with_target(&model) {
            let (format, kind) = match *target {
                crate::model::Target::Nftables => (Format::NftText, Kind::Nft),
                crate::model::Target::Windows => (Format::WindowsScript, Kind::Windows),
                other => panic!("a generated policy with a {} device", other.name()),
            };
            total.add(&run(&model, device, format, kind, text, 8));
        }
    }
    eprintln!("{}", total.line("generated policies"));
    assert!(total.killed > total.mutants / 2, "{total:?}");
}
