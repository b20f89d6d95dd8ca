//! Scale benchmark (a bench script, not a timed test): generates synthetic policies of
//! 1k/10k systems and 10k/100k flows, times each stage in process (best of several
//! runs), measures end-to-end `zonecheck verify` wall time and peak memory as a child
//! process, and fits the growth exponent of time against size.
//!
//! Run: `cargo bench --bench scale` (add `-- --quick` for fewer repetitions).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

mod common;
use common::best_of;

use zonecheck::internals::{Size, policy};

/// The peak memory (MB) a run with `ZONECHECK_TIMINGS` reported on stderr. Not the
/// parent's `getrusage` of its children: a child spawned by this large process counts the
/// parent's memory it shared before `exec`.
fn reported_peak_mb(stderr: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("timing: ")?.split(", peak ").nth(1)?.strip_suffix(" MB")?.parse().ok())
        .max()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 1 } else { 3 };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scale");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let exe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/zonecheck");
    let have_exe = exe.exists();
    if !have_exe {
        eprintln!("note: {} not built; run `cargo build --release` for end-to-end numbers", exe.display());
    }
    let sizes = [
        Size { systems: 1_000, flows: 10_000, classes: 3 },
        Size { systems: 10_000, flows: 10_000, classes: 5 },
        Size { systems: 1_000, flows: 100_000, classes: 5 },
        Size { systems: 10_000, flows: 100_000, classes: 10 },
    ];
    println!(
        "| systems | flows | classes | bytes | parse | resolve | verify | compile (all nftables files) | end-to-end verify | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut points = Vec::new();
    for size in sizes {
        let text = policy(size);
        let path = dir.join(format!("synth-{}-{}.zc", size.systems, size.flows));
        std::fs::write(&path, &text).expect("write policy");
        let (t_parse, parsed) = best_of(runs, || zonecheck::syntax::parse_str("synth.zc", &text));
        assert!(parsed.diags.is_empty(), "generated policy must parse");
        let (t_resolve, model) =
            best_of(runs, || zonecheck::resolve(parsed.clone()).expect("generated policy must resolve"));
        let (t_verify, verdict) = best_of(runs, || zonecheck::verify::verify(&model, &Default::default()));
        assert!(verdict.proved(), "generated policy is meant to be proved");
        let templates = zonecheck::targets::Templates::builtin().expect("built-in templates");
        let (t_compile, bundle) = {
            let proved =
                zonecheck::verify::prove(&model, &Default::default(), zonecheck::syntax::date::Date::today_utc())
                    .expect("proves");
            best_of(runs, || zonecheck::internals::build(&proved, &Default::default(), &templates).expect("compiles").0)
        };
        let (e2e, rss) = if have_exe {
            let (t, status) = best_of(runs, || {
                Command::new(&exe)
                    .env("ZONECHECK_TIMINGS", "1")
                    .arg("verify")
                    .arg(&path)
                    .arg("--format")
                    .arg("json")
                    .output()
                    .expect("run zonecheck")
            });
            assert!(
                status.status.code().is_some_and(|c| c <= 1),
                "zonecheck verify failed: {}",
                String::from_utf8_lossy(&status.stderr)
            );
            let peak = reported_peak_mb(&status.stderr).map_or("-".into(), |mb| format!("{mb} MB"));
            (format!("{:.0} ms", t.as_secs_f64() * 1e3), peak)
        } else {
            ("-".into(), "-".into())
        };
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        let compiled = format!("{} ({} files)", ms(t_compile), bundle.files.len());
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            size.systems,
            size.flows,
            size.classes,
            text.len(),
            ms(t_parse),
            ms(t_resolve),
            ms(t_verify),
            compiled,
            e2e,
            rss
        );
        points.push(((size.systems + size.flows) as f64, (t_parse + t_resolve + t_verify).as_secs_f64()));
    }
    // Least-squares slope of log(time) against log(systems + flows).
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln(), b + y.ln()));
    let (sxx, sxy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x.ln() * x.ln(), b + x.ln() * y.ln()));
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    println!("\ngrowth: time ∝ size^{slope:.2} (size = systems + flows; parse + resolve + verify in process)");
}
