#!/bin/sh
# Usage: fuzz/run.sh TARGET SECONDS [extra libFuzzer flags]
# Runs one already-built fuzz target (RUSTC_BOOTSTRAP=1 cargo fuzz build -s none -a) on its
# corpus with the dictionary, at low priority, logging to fuzz/artifacts/logs/TARGET-<time>.log.
set -eu
cd "$(dirname "$0")"
t=$1; secs=$2; shift 2
mkdir -p corpus/$t artifacts/$t artifacts/logs
log=artifacts/logs/$t-$(date +%Y%m%d-%H%M%S).log
echo "$log"
nice -n 15 target/x86_64-unknown-linux-gnu/release/$t \
  -artifact_prefix=artifacts/$t/ -dict=zc.dict -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
  -max_total_time="$secs" -print_final_stats=1 "$@" corpus/$t seeds > "$log" 2>&1 || true
grep -E 'stat::|Done|DONE|panicked|ERROR|Test unit written' "$log" | tail -12
