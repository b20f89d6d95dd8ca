#!/usr/bin/env bash
# zonecheck vs Aerleon on the same synthetic policy, in the same run.
#
#   bash benches/aerleon/run.sh [SYSTEMS FLOWS CLASSES]      (default 1000 10000 3)
#
# Environment: RUNS (timed runs per measurement, best is reported; default 3),
# WORK (scratch directory; default target/aerleon-bench), NO_NFT=1 to skip the nft part.
#
# 1. creates target/aerleon-venv (python3 -m venv) and installs aerleon==$AERLEON_VERSION;
# 2. builds zonecheck and the synth example (release) and writes the policy;
# 3. convert.py writes Aerleon's input (def/networks.yaml, def/services.yaml,
#    policies/pol/zonecheck.yaml: one term per flow) and a one-rule-per-flow nftables
#    ruleset for the firewall fw-core;
# 4. times `zonecheck compile` (whole bundle, and --device fw-core) and Aerleon's `aclgen`,
#    best of RUNS each, and prints the ratio (goal: zonecheck at least 20x faster);
# 5. as root, in a throwaway network namespace, times `nft -f` of zonecheck's
#    firewall/fw-core.nft, of the one-rule-per-flow ruleset and of Aerleon's output, and
#    counts chains, rules, sets and set elements from `nft -j list ruleset`.
set -euo pipefail

AERLEON_VERSION=1.18.0
DEVICE=fw-core

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SYSTEMS=${1:-1000}
FLOWS=${2:-10000}
CLASSES=${3:-3}
RUNS=${RUNS:-3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$ROOT/target/aerleon-venv
WORK=${WORK:-$ROOT/target/aerleon-bench}
CONVERT=$HERE/convert.py

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ ${BASH_VERSINFO[0]} -ge 5 ]] || die "bash 5 or newer is needed (for EPOCHREALTIME)"
for n in "$SYSTEMS" "$FLOWS" "$CLASSES" "$RUNS"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "SYSTEMS FLOWS CLASSES and RUNS must be positive integers, got '$n'"
done
command -v python3 >/dev/null || die "python3 not found"
command -v cargo >/dev/null || die "cargo not found"

# Microseconds since the epoch, without forking.
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
# Seconds with three decimals from microseconds.
secs() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }
size() { awk -v b="$(stat -c %s "$1")" 'BEGIN { if (b >= 1048576) printf "%.1f MB", b / 1048576; else printf "%.0f KB", b / 1024 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# best_of PREP CMD...: run PREP (untimed) then CMD, RUNS times; BEST_US = fastest wall time.
# CMD's output goes to $WORK/last.log; a failing run stops the script with that log.
BEST_US=
best_of() {
    local prep=$1; shift
    local i t0 t1 d
    BEST_US=
    for ((i = 1; i <= RUNS; i++)); do
        $prep
        t0=$(now_us)
        if ! "$@" >"$WORK/last.log" 2>&1; then
            cat "$WORK/last.log" >&2
            die "command failed: $*"
        fi
        t1=$(now_us)
        d=$((t1 - t0))
        if [[ -z $BEST_US || $d -lt $BEST_US ]]; then BEST_US=$d; fi
        say "  run $i: $(secs "$d") s"
    done
}

mkdir -p "$WORK"
LOAD_START=$(loadavg)

# --- 1. Aerleon in a venv -------------------------------------------------------------
have_version() { "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("aerleon"))' 2>/dev/null; }
if [[ ! -x $VENV/bin/aclgen || $(have_version) != "$AERLEON_VERSION" ]]; then
    say "creating $VENV with aerleon==$AERLEON_VERSION"
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "aerleon==$AERLEON_VERSION" ||
        die "pip install aerleon==$AERLEON_VERSION failed"
fi
[[ $(have_version) == "$AERLEON_VERSION" ]] || die "aerleon $AERLEON_VERSION is not importable from $VENV"

# --- 2. zonecheck and the policy -------------------------------------------------------
say "building zonecheck (release)"
(cd "$ROOT" && cargo build --release --quiet --bin zonecheck --example synth) ||
    die "cargo build --release failed (is someone in the middle of an edit?)"
# Time a frozen copy, so a concurrent rebuild cannot swap the binary between runs.
cp "$TARGET_DIR/release/zonecheck" "$WORK/zonecheck"
ZC=$WORK/zonecheck
ZC_VERSION=$("$ZC" --version 2>/dev/null || echo zonecheck)

POLICY=$WORK/policy.zc
say "generating the policy: $SYSTEMS systems, $FLOWS flows, $CLASSES classes"
"$TARGET_DIR/release/examples/synth" "$SYSTEMS" "$FLOWS" "$CLASSES" >"$POLICY"
NFLOWS=$(grep -c '^flow ' "$POLICY") || true
[[ $NFLOWS -eq $FLOWS ]] || die "the policy has $NFLOWS flows, expected $FLOWS"

# --- 3. Aerleon input and the one-rule-per-flow ruleset ---------------------------------
AER_IN=$WORK/aerleon-in
rm -rf "$AER_IN"
say "converting for Aerleon"
python3 "$CONVERT" aerleon "$POLICY" "$AER_IN" >&2
AER_TERMS=$(grep -c '^      - name: ' "$AER_IN/policies/pol/zonecheck.yaml") || true
LINEAR=$WORK/linear-$DEVICE.nft
say "writing the one-rule-per-flow ruleset for $DEVICE"
python3 "$CONVERT" linear "$POLICY" "$LINEAR" --device "$DEVICE" --tuples "$WORK/linear-$DEVICE.tsv" >&2
# The same for every flow (not loaded; its tuples are what Aerleon's output must accept).
python3 "$CONVERT" linear "$POLICY" "$WORK/linear-all.nft" --tuples "$WORK/linear-all.tsv" >&2

# --- 4. generator timings ------------------------------------------------------------
ZC_OUT=$WORK/zonecheck-out
ZC_FW_OUT=$WORK/zonecheck-fw-out
AER_OUT=$WORK/aerleon-out
prep_zc() { rm -rf "$ZC_OUT"; }
prep_zc_fw() { rm -rf "$ZC_FW_OUT"; }
prep_aer() { rm -rf "$AER_OUT" && mkdir -p "$AER_OUT"; }

say "timing: zonecheck compile (all devices), best of $RUNS"
best_of prep_zc "$ZC" compile "$POLICY" -o "$ZC_OUT"
ZC_US=$BEST_US
ZC_FILES=$(find "$ZC_OUT" -name '*.nft' | wc -l)
ZC_FW=$ZC_OUT/firewall/$DEVICE.nft
[[ -s $ZC_FW ]] || die "zonecheck wrote no $ZC_FW"

say "timing: zonecheck compile --device $DEVICE, best of $RUNS"
best_of prep_zc_fw "$ZC" compile "$POLICY" -o "$ZC_FW_OUT" --device "$DEVICE"
ZC_FW_US=$BEST_US
cmp -s "$ZC_FW" "$ZC_FW_OUT/firewall/$DEVICE.nft" || die "--device $DEVICE wrote a different $DEVICE.nft than the whole bundle"

# One policy file: --max_renderers=1 renders it in-process instead of through a pool of 10
# worker processes (which only adds overhead here, about 1-2 s), the faster choice for Aerleon.
say "timing: aerleon aclgen (nftables), best of $RUNS (this takes a while)"
best_of prep_aer "$VENV/bin/aclgen" --base_directory="$AER_IN/policies" \
    --definitions_directory="$AER_IN/def" --output_directory="$AER_OUT" --max_renderers=1
AER_US=$BEST_US
cp "$WORK/last.log" "$WORK/aerleon.log"
AER_NFT=$AER_OUT/zonecheck.nft
if grep -qE 'error encountered|done, with errors|Traceback' "$WORK/aerleon.log" || [[ ! -s $AER_NFT ]]; then
    cat "$WORK/aerleon.log" >&2
    die "Aerleon reported errors or wrote no $AER_NFT"
fi
read -r AER_CHAINS AER_RULES AER_JUMPS < <(python3 "$CONVERT" count-aerleon "$AER_NFT")
[[ $AER_CHAINS -eq $((AER_TERMS + 1)) ]] ||
    die "Aerleon wrote $AER_CHAINS chains for $AER_TERMS terms (expected one chain per term plus the base chain)"
say "aerleon: $(size "$AER_NFT"), $AER_CHAINS chains, $AER_RULES term rules, $AER_JUMPS jumps; log: $WORK/aerleon.log"

# same_tuples TSV RULESET NAME: do they accept the same (saddr, daddr, proto, port) tuples?
same_tuples() {
    local out=$WORK/compare-$3.txt
    say "checking: $(basename "$2") accepts the tuples of $(basename "$1" .tsv)"
    if python3 "$CONVERT" compare "$1" "$2" >"$out"; then
        echo "yes, $(awk '{print $3}' "$out") tuples"
    else
        cat "$out" >&2
        echo "**NO** (see $out)"
    fi
}
SAME_ZC=$(same_tuples "$WORK/linear-$DEVICE.tsv" "$ZC_FW" zonecheck)
SAME_AER=$(same_tuples "$WORK/linear-all.tsv" "$AER_NFT" aerleon)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
R_ALL=$(ratio "$AER_US" "$ZC_US")
R_FW=$(ratio "$AER_US" "$ZC_FW_US")
GOAL=$(awk -v a="$AER_US" -v b="$ZC_US" 'BEGIN { print (a / b >= 20 ? "met" : "NOT met") }')

# --- 5. nft -f in a throwaway network namespace ------------------------------------------
NS=zcbench-$$
NS_MADE=
cleanup() {
    if [[ -n $NS_MADE ]]; then ip netns delete "$NS" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NFT_ROWS=
NFT_NOTE=
nft_load() { # LABEL SCOPE FILE
    local label=$1 scope=$2 file=$3 counts err
    say "timing: nft -f $(basename "$file") ($label), best of $RUNS"
    ip netns exec "$NS" nft flush ruleset
    if ! err=$(ip netns exec "$NS" nft -c -f "$file" 2>&1); then
        say "  $label does not load: $(head -c 300 <<<"$err")"
        NFT_ROWS+="| $label | $scope | $(size "$file") | does not load: \`$(head -n1 <<<"$err" | tr '|' '/')\` | | | | |"$'\n'
        return 0
    fi
    flush_ns() { ip netns exec "$NS" nft flush ruleset; }
    best_of flush_ns ip netns exec "$NS" nft -f "$file"
    read -r _tables chains rules sets elements < <(ip netns exec "$NS" nft -j list ruleset | python3 "$CONVERT" count-json)
    NFT_ROWS+="| $label | $scope | $(size "$file") | $chains | $rules | $sets | $elements | $(secs "$BEST_US") s |"$'\n'
}

if [[ ${NO_NFT:-} == 1 ]]; then
    NFT_NOTE="skipped (NO_NFT=1)"
elif [[ $EUID -ne 0 ]]; then
    NFT_NOTE="skipped: not root (network namespaces and nft need root)"
elif ! command -v nft >/dev/null || ! command -v ip >/dev/null; then
    NFT_NOTE="skipped: nft or ip (iproute2) is not installed"
elif ! ip netns add "$NS" 2>"$WORK/netns.err"; then
    NFT_NOTE="skipped: cannot create a network namespace: $(cat "$WORK/netns.err")"
else
    NS_MADE=1
    NFT_VERSION=$(nft --version)
    nft_load "zonecheck \`firewall/$DEVICE.nft\`" "flows crossing $DEVICE" "$ZC_FW"
    nft_load "one rule per (flow, address pair, port)" "flows crossing $DEVICE" "$LINEAR"
    nft_load "Aerleon \`zonecheck.nft\`" "all $FLOWS flows" "$AER_NFT"
    ip netns exec "$NS" nft flush ruleset
fi

# --- report ---------------------------------------------------------------------------
LOAD_END=$(loadavg)
cat <<EOF

## zonecheck vs Aerleon: $SYSTEMS systems, $FLOWS flows, $CLASSES confined classes

$ZC_VERSION, aerleon $AERLEON_VERSION (Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())')), $(nproc) cores,
load average $LOAD_START at the start and $LOAD_END at the end. Wall time, best of $RUNS.

| generator | output | wall time |
|---|---|---:|
| \`zonecheck compile\` (whole bundle) | $ZC_FILES nftables files, $(du -sh "$ZC_OUT" | cut -f1) | $(secs "$ZC_US") s |
| \`zonecheck compile --device $DEVICE\` | \`$DEVICE.nft\`, $(size "$ZC_FW") | $(secs "$ZC_FW_US") s |
| Aerleon \`aclgen\` (nftables, $AER_TERMS terms) | \`zonecheck.nft\`, $(size "$AER_NFT"), $AER_CHAINS chains, $AER_RULES term rules + $AER_JUMPS jumps | $(secs "$AER_US") s |

Aerleon / zonecheck: **${R_ALL}×** (whole bundle), **${R_FW}×** (\`--device $DEVICE\` only).
Goal zonecheck ≥ 20× faster: **$GOAL**.

Same accepted (saddr, daddr, proto, port) tuples as one rule per (flow, address pair,
port): zonecheck's \`$DEVICE.nft\` vs the flows crossing $DEVICE: $SAME_ZC; Aerleon's
output vs all flows: $SAME_AER.

### \`nft -f\` into an empty network namespace

EOF
if [[ -n $NFT_NOTE ]]; then
    echo "$NFT_NOTE"
else
    cat <<EOF
$NFT_VERSION; rules, chains, sets and set elements counted in \`nft -j list ruleset\` after loading.

| ruleset | scope | file | chains | rules | sets | set elements | load |
|---|---|---:|---:|---:|---:|---:|---:|
${NFT_ROWS%$'\n'}
EOF
fi
echo
echo "Files are in $WORK."
