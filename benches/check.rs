//! `check` benchmark (a bench script, not a timed test): synthetic policies of growing
//! size are compiled, and the core firewall's generated ruleset (`fw-core`, which carries
//! every flow between zones on different ports) is checked against the policy, in process
//! (best of several runs, split into read, evaluate, compare) and end to end with the
//! binary; then the whole bundle's self-check as `compile` runs it. Reports how the time
//! grows with the number of flows.
//!
//! Run: `cargo bench --bench check` (add `-- --quick` for one run each).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

mod common;
use common::best_of;

use zonecheck::check::{Format, check_bundle, check_device};
use zonecheck::internals::{Ifaces, Size, Space, intended, policy, read};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 1 } else { 3 };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let exe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/zonecheck");
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    println!(
        "| flows in policy | fw-core: permits / set elements / bytes | read | evaluate | compare | check in process | `zonecheck check` end to end | bundle self-check (files) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut points = Vec::new();
    for flows in [1_000, 3_000, 10_000, 30_000, 100_000] {
        let size = Size { systems: (flows / 10).max(1_000), flows, classes: 5 };
        let text = policy(size);
        let model = zonecheck::load_str("synth.zc", &text).expect("synthetic policy resolves");
        let templates = zonecheck::targets::Templates::builtin().expect("templates");
        let bundle = zonecheck::compile::compile_model(
            &model,
            &Default::default(),
            &templates,
            zonecheck::syntax::date::Date::today_utc(),
        )
        .expect("compiles");
        let file = bundle.files.iter().find(|f| f.device == "fw-core").expect("fw-core");
        let nft = String::from_utf8_lossy(&file.bytes).into_owned();
        let lowered = zonecheck::internals::lower(&model);
        let lowered_core = lowered.iter().find(|d| d.name == "fw-core").expect("lowered fw-core");
        let permits: usize = lowered_core.chains.iter().map(|c| c.permits.len()).sum();
        let point = model.enforcement_point("fw-core").expect("fw-core");
        let rules = &point;
        let acl = Default::default();

        // The stages, as check_device runs them.
        let (t_read, (rs, mut ifaces)) = best_of(runs, || {
            let mut ifaces = Ifaces::new();
            let _ = intended(&model, rules, &mut ifaces, &acl);
            (read(Format::NftText, &nft, &mut ifaces), ifaces)
        });
        let want = intended(&model, rules, &mut ifaces, &acl);
        // As `check` evaluates and compares: within the device's scope (new and related
        // packets), one input interface at a time.
        let (t_eval, ev) = best_of(runs, || {
            rs.evaluate_within(&want.paths(), Some(&want.scope), ifaces.count(), false).expect("evaluates")
        });
        let (t_cmp, _) = best_of(runs, || {
            let wanted = Space::from_cubes(want.permits.iter().map(|(c, _)| c.clone()));
            let more = ev.permitted.difference(&wanted).expect("more");
            let less = wanted.difference(&ev.permitted).expect("less");
            assert!(more.is_empty() && less.is_empty(), "fw-core must check equal");
        });
        let (t_check, result) = best_of(runs, || check_device(&model, rules, Format::NftText, "fw-core", &nft, &acl));
        assert!(result.equal(), "fw-core must check equal");

        let policy_path = dir.join(format!("synth-{flows}.zc"));
        let nft_path = dir.join(format!("fw-core-{flows}.nft"));
        std::fs::write(&policy_path, &text).expect("write policy");
        std::fs::write(&nft_path, &nft).expect("write ruleset");
        let e2e = if exe.exists() {
            let (t, out) = best_of(runs, || {
                Command::new(&exe)
                    .args(["check"])
                    .arg(&policy_path)
                    .args(["--device", "fw-core"])
                    .arg(&nft_path)
                    .output()
                    .expect("run zonecheck")
            });
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
            ms(t)
        } else {
            "- (cargo build --release first)".into()
        };
        let (t_bundle, mismatched) = best_of(1, || check_bundle(&model, &bundle.generated(), &acl));
        assert!(mismatched.is_empty(), "the bundle must check equal");
        println!(
            "| {flows} | {permits} / {} / {} | {} | {} | {} | {} | {e2e} | {} ({}) |",
            file.elements,
            file.bytes.len(),
            ms(t_read),
            ms(t_eval),
            ms(t_cmp),
            ms(t_check),
            ms(t_bundle),
            bundle.files.len()
        );
        points.push((permits as f64, t_check.as_secs_f64()));
    }
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln(), b + y.ln()));
    let (sxx, sxy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln() * x.ln(), b + x.ln() * y.ln()));
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    println!("\ngrowth: check time ∝ permits^{slope:.2}");
}
