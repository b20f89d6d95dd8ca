//! Fix hints, applied: every fix a violation prints, applied to the model, removes its
//! finding.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use proptest::test_runner::TestRunner;
use zonecheck::model::{Carries, ClassId, Model, Node, Platform, Region};

use super::verify_gen;
use super::{cases, load, run_verify};

// ---- fix hints, applied ---------------------------------------------------------------------

/// Every fix a violation prints, applied mechanically to the model, removes the finding it
/// was printed for. For a delivery over a flow: each remedy the hint names — `carries`
/// without the class on that flow, `export CLASS` (forward) or `export CLASS fetched`
/// (answers) where the hint offers it — makes that flow stop delivering the class to the
/// node in that direction. For a SaaS: declaring `holds` with the safeguards admits the
/// class there. For a holder: dropping `holds` ends the holding.
#[test]
fn every_fix_hint_applied_removes_its_finding() {
    use proptest::prelude::*;
    use zonecheck::model::{Auth, Export};
    let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases().min(2_000)) };
    let applied = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&verify_gen::policy(), |p| {
        let model = load("fix.zc", &p.text);
        let verdict = run_verify(&model);
        for v in verdict.violations.iter().take(6) {
            let class = &model.classes[v.class.index()].name;
            let mut fixes: Vec<(String, Model)> = Vec::new();
            match v.path.last() {
                None => {
                    let Node::System(s) = v.node else { continue };
                    let mut m = model.clone();
                    if m.systems[s.index()].platform == Some(Platform::Saas) && v.fix.contains("declare vendor") {
                        let sys = &mut m.systems[s.index()];
                        sys.vendor = Some("Leverandør".into());
                        sys.dpa = Some("DBA-1".into());
                        sys.region = Some(Region::Eea);
                        sys.auth = Some(Auth::Mfa);
                        fixes.push(("safeguards".into(), m));
                    } else {
                        prop_assert!(v.fix.contains("stop declaring `holds"), "{}", v.fix);
                        m.systems[s.index()].holds.retain(|c| *c != v.class);
                        fixes.push(("drop holds".into(), m));
                    }
                }
                Some(last) => {
                    let f = last.flow.index();
                    if v.fix.contains("`carries") {
                        let mut m = model.clone();
                        let flow = &mut m.flows[f];
                        let mut keep: Vec<ClassId> = match &flow.carries {
                            Some(c) => c.classes.clone(),
                            None => (0..model.classes.len()).map(ClassId::from_index).collect(),
                        };
                        keep.retain(|c| *c != v.class);
                        flow.carries = Some(Carries { classes: keep, because: "fix".into(), span: flow.header_span });
                        fixes.push(("carries".into(), m));
                    }
                    let fetched = v.fix.contains(&format!("export {class} fetched"));
                    let sent = v.fix.contains(&format!("export {class} basis"));
                    if fetched || sent {
                        prop_assert_eq!(fetched, !last.forward, "{}: the export offered fits the direction", &v.fix);
                        let mut m = model.clone();
                        let flow = &mut m.flows[f];
                        flow.exports.push(Export {
                            class: v.class,
                            fetched,
                            basis: "fix".into(),
                            span: flow.header_span,
                        });
                        fixes.push(("export".into(), m));
                    }
                    if v.fix.contains("declare `holds")
                        && let Node::System(s) = v.node
                    {
                        let mut m = model.clone();
                        let sys = &mut m.systems[s.index()];
                        sys.holds.push(v.class);
                        sys.vendor = Some("Leverandør".into());
                        sys.dpa = Some("DBA-1".into());
                        sys.region = Some(Region::Eea);
                        sys.auth = Some(Auth::Mfa);
                        fixes.push(("saas holds".into(), m));
                    }
                    prop_assert!(!fixes.is_empty(), "a hint names no remedy: {}", v.fix);
                }
            }
            for (what, m) in fixes {
                let after = run_verify(&m);
                let violated = after.violations.iter().any(|w| w.class == v.class && w.node == v.node);
                let still = violated
                    && match v.path.last() {
                        None => {
                            after.violations.iter().any(|w| w.class == v.class && w.node == v.node && w.path.is_empty())
                        }
                        Some(a) => {
                            // The same channel still delivers the class to the node as a leak.
                            let flow = &m.flows[a.flow.index()];
                            let carries = flow.carries.as_ref().is_none_or(|c| c.classes.contains(&v.class));
                            let senders = if a.forward { &flow.from.nodes } else { &flow.to.nodes };
                            let sent = senders.iter().any(|n| after.classes_at(&m, *n).contains(&v.class));
                            carries && !flow.exports_class(v.class, a.forward) && sent
                        }
                    };
                prop_assert!(
                    !still,
                    "applying `{}` ({}) to the violation of {} at {} left it:\n{}",
                    what,
                    v.fix,
                    class,
                    model.node_name(v.node),
                    p.text
                );
                applied.fetch_add(1, Relaxed);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("fix hints: {} applied, each removed its finding", applied.load(Relaxed));
    assert!(applied.load(Relaxed) > 0);
}
