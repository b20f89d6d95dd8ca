//! Write a synthetic policy: `cargo run --release --example synth -- SYSTEMS FLOWS CLASSES > policy.zc`.
fn main() {
    let arg = |i: usize, d: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let size = zonecheck::internals::Size { systems: arg(1, 1000), flows: arg(2, 10_000), classes: arg(3, 5) };
    print!("{}", zonecheck::internals::policy(size));
}
