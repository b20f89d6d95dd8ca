//! Mutation by deleting `carries`, and the properties: generated policies (and them repaired
//! to proved) and the shipped policies agree with the reference and rely on their `carries`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use zonecheck::model::{Carries, ClassId, FlowId, Model, Node, Platform};
use zonecheck::verify::{AssumptionKind, Verdict};

use super::compare::compare;
use super::reference::{Reference, compare_gaps, compare_in_series, reference};
use super::verify_gen;
use super::{cases, load, load_path, run_verify};

// ---- mutation: deleting `carries` ---------------------------------------------------------

#[derive(Default)]
struct Stats {
    cases: AtomicUsize,
    proved_natural: AtomicUsize,
    repaired: AtomicUsize,
    violations: AtomicUsize,
    hops: AtomicUsize,
    /// Enforcement gaps compared, and cases without any.
    gaps: AtomicUsize,
    enforced: AtomicUsize,
    mutants: AtomicUsize,
    relied_mutants: AtomicUsize,
    harmless_mutants: AtomicUsize,
    /// Deleting a `carries` made a class leak that its assumption's `relied_on` omits (the
    /// proof relied on it only indirectly).
    indirect: AtomicUsize,
}

/// The flows with `carries` to delete: all of them, or at most `limit` spread evenly, half
/// of them among those the verdict relies on.
fn mutation_targets(model: &Model, verdict: &Verdict, limit: Option<usize>) -> Vec<usize> {
    let with: Vec<usize> = (0..model.flows.len()).filter(|f| model.flows[*f].carries.is_some()).collect();
    let Some(limit) = limit else { return with };
    let relied = |f: &usize| {
        verdict
            .assumptions
            .iter()
            .any(|a| a.kind == AssumptionKind::Carries { flow: FlowId::from_index(*f) } && !a.relied_on.is_empty())
    };
    let (yes, no): (Vec<usize>, Vec<usize>) = with.into_iter().partition(relied);
    let spread = |v: &[usize], k: usize| -> Vec<usize> {
        if v.len() <= k { v.to_vec() } else { (0..k).map(|i| v[i * v.len() / k]).collect() }
    };
    let half = limit.div_ceil(2);
    let mut out = spread(&yes, half.max(limit.saturating_sub(no.len())));
    out.extend(spread(&no, limit - out.len().min(limit)));
    out.sort_unstable();
    out
}

/// Delete the `carries` of flows (see [`mutation_targets`]) one at a time and check the
/// consequences against the verdict's assumptions and the reference.
fn mutation_check(
    model: &Model,
    verdict: &Verdict,
    r: &Reference,
    stats: &Stats,
    limit: Option<usize>,
) -> Result<(), String> {
    let mut m = model.clone();
    let base: BTreeSet<(usize, Node)> = r.violations.keys().copied().collect();
    let base_verify: BTreeSet<(ClassId, Node)> = verdict.violations.iter().map(|v| (v.class, v.node)).collect();
    for f in mutation_targets(model, verdict, limit) {
        let title = model.flow_title(FlowId::from_index(f));
        let Some(a) =
            verdict.assumptions.iter().find(|a| a.kind == AssumptionKind::Carries { flow: FlowId::from_index(f) })
        else {
            return Err(format!("the `carries` of `{title}` is not listed as an assumption"));
        };
        if let Some(c) = a.relied_on.iter().find(|c| !a.classes.contains(c)) {
            return Err(format!(
                "`{title}`: relied on `{}`, which it does not list as stopped",
                model.classes[c.index()].name
            ));
        }
        let saved = m.flows[f].carries.take();
        let v2 = run_verify(&m);
        let r2 = reference(&m);
        stats.mutants.fetch_add(1, Relaxed);
        compare(&m, &v2, &r2).map_err(|e| format!("after deleting the `carries` of `{title}`: {e}"))?;
        if !a.relied_on.is_empty() {
            stats.relied_mutants.fetch_add(1, Relaxed);
            if !v2
                .violations
                .iter()
                .any(|v| a.relied_on.contains(&v.class) && !base_verify.contains(&(v.class, v.node)))
            {
                let names: Vec<&str> = a.relied_on.iter().map(|c| model.classes[c.index()].name.as_str()).collect();
                return Err(format!(
                    "deleting the `carries` of `{title}` (relied on for {names:?}) creates no violation of those classes"
                ));
            }
        }
        let after: BTreeSet<(usize, Node)> = r2.violations.keys().copied().collect();
        if after == base {
            stats.harmless_mutants.fetch_add(1, Relaxed);
            let got: BTreeSet<(ClassId, Node)> = v2.violations.iter().map(|v| (v.class, v.node)).collect();
            if got != base_verify {
                return Err(format!("deleting the harmless `carries` of `{title}` changes verify's violations"));
            }
        } else if after
            .iter()
            .any(|(c, n)| !base.contains(&(*c, *n)) && !a.relied_on.contains(&ClassId::from_index(*c)))
        {
            stats.indirect.fetch_add(1, Relaxed);
        }
        // On a proved policy, `relied_on` is exact: it names precisely the classes that
        // deleting the `carries` makes leak, directly or further down the graph.
        if base.is_empty() {
            let leaked: BTreeSet<ClassId> = after.iter().map(|(c, _)| ClassId::from_index(*c)).collect();
            let relied: BTreeSet<ClassId> = a.relied_on.iter().copied().collect();
            if leaked != relied {
                let names =
                    |s: &BTreeSet<ClassId>| s.iter().map(|c| model.classes[c.index()].name.clone()).collect::<Vec<_>>();
                return Err(format!(
                    "`{title}`: relied_on {:?}, but deleting the `carries` leaks {:?}",
                    names(&relied),
                    names(&leaked)
                ));
            }
        }
        m.flows[f].carries = saved;
    }
    Ok(())
}

/// Make a model provable by the reference's lights: drop `holds` where a class is not
/// allowed and narrow `carries` on every channel that leaks, until nothing leaks.
fn repair(model: &Model) -> Model {
    let mut m = model.clone();
    let all: Vec<ClassId> = (0..m.classes.len()).map(ClassId::from_index).collect();
    loop {
        let r = reference(&m);
        if r.violations.is_empty() {
            return m;
        }
        for &(c, node) in r.violations.keys() {
            let class = ClassId::from_index(c);
            if let Node::System(s) = node
                && m.systems[s.index()].holds.contains(&class)
            {
                m.systems[s.index()].holds.retain(|x| *x != class);
                continue;
            }
            let flows: BTreeSet<usize> = r.leaking_into(c, r.index[&node]).map(|ch| ch.flow).collect();
            for f in flows {
                let flow = &mut m.flows[f];
                let mut classes = flow.carries.as_ref().map_or_else(|| all.clone(), |cr| cr.classes.clone());
                classes.retain(|x| *x != class);
                flow.carries =
                    Some(Carries { classes, because: "repaired by the test".into(), span: flow.header_span });
            }
        }
    }
}

fn check_case(text: &str, stats: &Stats) -> Result<(), String> {
    let model = load("gen.zc", text);
    let verdict = run_verify(&model);
    let r = reference(&model);
    compare(&model, &verdict, &r)?;
    compare_gaps(&model, &verdict, &r)?;
    compare_in_series(&model, &verdict, &r, text.len())?;
    stats.cases.fetch_add(1, Relaxed);
    stats.gaps.fetch_add(verdict.enforcement.gaps.len(), Relaxed);
    if verdict.enforcement.enforced() {
        stats.enforced.fetch_add(1, Relaxed);
    }
    stats.violations.fetch_add(verdict.violations.len(), Relaxed);
    stats.hops.fetch_add(verdict.violations.iter().map(|v| v.path.len()).sum::<usize>(), Relaxed);
    if r.violations.is_empty() {
        stats.proved_natural.fetch_add(1, Relaxed);
        mutation_check(&model, &verdict, &r, stats, MUTANTS_PER_CASE)?;
    } else {
        let fixed = repair(&model);
        let v = run_verify(&fixed);
        let rf = reference(&fixed);
        compare(&fixed, &v, &rf).map_err(|e| format!("repaired model: {e}"))?;
        compare_in_series(&fixed, &v, &rf, text.len()).map_err(|e| format!("repaired model: {e}"))?;
        if !v.proved() {
            return Err("the repaired model is not proved".into());
        }
        stats.repaired.fetch_add(1, Relaxed);
        mutation_check(&fixed, &v, &rf, stats, MUTANTS_PER_CASE).map_err(|e| format!("repaired model: {e}"))?;
    }
    Ok(())
}

/// Deleted `carries` per generated case (the shipped policies get all of theirs).
const MUTANTS_PER_CASE: Option<usize> = Some(4);

#[test]
fn verify_agrees_with_naive_reference() {
    let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases()) };
    let stats = Stats::default();
    let start = Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&verify_gen::policy(), |p| check_case(&p.text, &stats).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{e}");
    }
    let n = |a: &AtomicUsize| a.load(Relaxed);
    eprintln!(
        "verify_differential: {} cases in {:.1?}: {} proved as generated, {} repaired to proved; {} violations ({} hops) compared; \
         {} enforcement gaps compared, {} cases enforced; {} carries deleted ({} relied on, {} harmless, {} leaked a class their relied_on omits)",
        n(&stats.cases),
        start.elapsed(),
        n(&stats.proved_natural),
        n(&stats.repaired),
        n(&stats.violations),
        n(&stats.hops),
        n(&stats.gaps),
        n(&stats.enforced),
        n(&stats.mutants),
        n(&stats.relied_mutants),
        n(&stats.harmless_mutants),
        n(&stats.indirect),
    );
}

/// The shipped policies: the same comparison, and the mutation check on every `carries`.
#[test]
fn shipped_policies_agree_and_rely_on_their_carries() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut paths = vec![root.join("fjordvik")];
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("policies/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "zc"))
        .collect();
    files.sort();
    paths.extend(files);
    let stats = Stats::default();
    for path in &paths {
        let model = load_path(path);
        let verdict = run_verify(&model);
        let r = reference(&model);
        compare(&model, &verdict, &r).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compare_gaps(&model, &verdict, &r).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for probe in 0..r.confined.len() {
            compare_in_series(&model, &verdict, &r, probe).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        assert!(verdict.enforcement.enforced(), "{}: shipped policies are enforced", path.display());
        mutation_check(&model, &verdict, &r, &stats, None).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Enforcement mutants: take one interface off a device, or one host's platform away;
        // verify and the reference must agree on the gaps that opens.
        let mut mutants = Vec::new();
        for (d, device) in model.devices.iter().enumerate() {
            for i in 0..device.interfaces.len() {
                let mut m = model.clone();
                m.devices[d].interfaces.remove(i);
                mutants.push(m);
            }
        }
        for (s, sys) in model.systems.iter().enumerate() {
            if matches!(sys.platform, Some(Platform::Linux | Platform::Windows)) {
                let mut m = model.clone();
                m.systems[s].platform = Some(Platform::Appliance);
                mutants.push(m);
            }
        }
        for m in &mutants {
            let v = run_verify(m);
            let rm = reference(m);
            compare_gaps(m, &v, &rm).unwrap_or_else(|e| panic!("{} (mutant): {e}", path.display()));
            stats.gaps.fetch_add(usize::from(!v.enforcement.enforced()), Relaxed);
            stats.enforced.fetch_add(1, Relaxed);
        }
    }
    let n = |a: &AtomicUsize| a.load(Relaxed);
    eprintln!(
        "shipped policies: {} policies, {} enforcement mutants ({} open a gap), {} carries deleted ({} relied on, {} harmless, {} leaked a class their relied_on omits)",
        paths.len(),
        n(&stats.enforced),
        n(&stats.gaps),
        n(&stats.mutants),
        n(&stats.relied_mutants),
        n(&stats.harmless_mutants),
        n(&stats.indirect)
    );
    assert!(n(&stats.relied_mutants) > 0, "the shipped policies rely on some `carries`");
    assert!(n(&stats.gaps) > 0, "taking an interface or a host firewall away opens some gap");
}
