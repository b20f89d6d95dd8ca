//! Times the stages of `check` on one device file: `cargo run --release --example
//! check_profile -- POLICY DEVICE FILE`; with `ZC_PROFILE_RULES=1` also every rule's
//! number of cubes and of cubes in its effective region (where fragmentation shows).

use std::time::Instant;

use zonecheck::internals::{Expectations, Ifaces, Path, Space, read};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, policy, device, file] = args.as_slice() else {
        eprintln!("usage: check_profile POLICY DEVICE FILE");
        std::process::exit(2);
    };
    let model = zonecheck::load_policy(std::path::Path::new(policy)).unwrap_or_else(|_| std::process::exit(2));
    let text = std::fs::read_to_string(file).expect("readable");
    let point = model.enforcement_point(device).expect("device");
    let rules = &point;
    let t = Instant::now();
    let expected = Expectations::of(&model);
    eprintln!("expect    {:>8.1} ms (once per policy)", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let mut ifaces = Ifaces::new();
    let want = expected.intended(rules, &mut ifaces, &Default::default());
    eprintln!("intended  {:>8.1} ms ({} cubes)", t.elapsed().as_secs_f64() * 1e3, want.permits.len());
    let t = Instant::now();
    let format = zonecheck::check::Format::detect(rules.target, file, &text).expect("format");
    let rs = read(format, &text, &mut ifaces);
    let cubes: usize = rs.chains.iter().flat_map(|c| &c.rules).map(|r| r.matches.len()).sum();
    eprintln!(
        "read      {:>8.1} ms ({} rules, {cubes} cubes)",
        t.elapsed().as_secs_f64() * 1e3,
        rs.chains.iter().map(|c| c.rules.len()).sum::<usize>()
    );
    let t = Instant::now();
    let ev = rs.permitted(&Path::ALL).expect("evaluates");
    eprintln!("evaluate  {:>8.1} ms ({} cubes)", t.elapsed().as_secs_f64() * 1e3, ev.permitted.len());
    if std::env::var_os("ZC_PROFILE_RULES").is_some() {
        for (c, chain) in rs.chains.iter().enumerate() {
            for (k, r) in chain.rules.iter().enumerate() {
                eprintln!(
                    "  {}[{k}] {} cubes -> {} effective: {}",
                    chain.name,
                    r.matches.len(),
                    ev.stats[c][k].effective.len(),
                    r.origin.text.chars().take(60).collect::<String>()
                );
            }
        }
    }
    let t = Instant::now();
    let wanted = Space::from_cubes(want.permits.iter().map(|(c, _)| c.clone()));
    let scope = Space::from_cubes(want.scope.iter().cloned());
    let actual = ev.permitted.intersection(&scope);
    // The comparison is fastest when the device holds the very cubes intended.
    let held: std::collections::HashSet<_> = actual.cubes().iter().collect();
    let identical = wanted.cubes().iter().filter(|c| held.contains(c)).count();
    eprintln!("identical {identical} of {} intended cubes, {} actual", wanted.len(), actual.len());
    if std::env::var_os("ZC_PROFILE_CUBES").is_some() {
        let wanted_set: std::collections::HashSet<_> = wanted.cubes().iter().collect();
        for c in actual.cubes().iter().filter(|c| !wanted_set.contains(c)).take(5) {
            eprintln!("  actual only:   {c:?}");
        }
        for c in wanted.cubes().iter().filter(|c| !held.contains(c)).take(5) {
            eprintln!("  intended only: {c:?}");
        }
    }
    eprintln!("scope     {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let more = actual.difference(&wanted).expect("more");
    eprintln!("more      {:>8.1} ms ({} regions)", t.elapsed().as_secs_f64() * 1e3, more.len());
    let t = Instant::now();
    let less = wanted.difference(&actual).expect("less");
    eprintln!("less      {:>8.1} ms ({} regions)", t.elapsed().as_secs_f64() * 1e3, less.len());
    let t = Instant::now();
    let dead = rs.dead_rules(&ev).expect("dead");
    eprintln!("dead      {:>8.1} ms ({} dead)", t.elapsed().as_secs_f64() * 1e3, dead.len());
}
