#!/usr/bin/env bash
# Instruction counts per operation for the CPU-bound groups (log, log-pretty, request, url, config), dozen and
# its peers in the same run, and the gate on their ratios.
#
# Each subject runs under valgrind (cachegrind, no cache simulation) with N and 2N operations;
# the difference over N is the cost of one, so the subscriber's, runtime's and process's
# set-up cancels. Counts repeat from run to run whatever else the machine is doing, unlike wall
# time, so the gate's margin is narrow: a ratio dozen/peer above its committed value in
# benches/icount-baseline.txt by more than 5 % fails.
#
# Usage: bash benches/icount.sh [--no-gate]   (needs valgrind; about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
gate=1
[ "${1:-}" = "--no-gate" ] && gate=0
command -v valgrind >/dev/null || { echo "error: valgrind is not installed" >&2; exit 1; }
cargo build -q --release -p dozen-benches --bin icount
bin="${CARGO_TARGET_DIR:-target}/release/icount"
# The config group's own binary: it loads the configuration N times from its 80-variable
# environment in a child process (DOZEN_BENCH_CONFIG_LOOP=peer:N), as its criterion run does.
config_bin=$(cargo bench -q -p dozen-benches --bench config --no-run --message-format=json 2>/dev/null \
    | grep '"kind":\["bench"\]' | grep '"name":"config"' \
    | grep -o '"executable":"[^"]*"' | tail -n1 | cut -d'"' -f4)
[ -x "$config_bin" ] || { echo "error: the config benchmark was not built" >&2; exit 1; }

count() { # group id n -> instructions of the whole process (and its children)
    local out
    out=$(mktemp)
    if [ "$1" = config ]; then
        DOZEN_BENCH_CONFIG_LOOP="$2:$3" valgrind --tool=cachegrind --cache-sim=no \
            --trace-children=yes --cachegrind-out-file=/dev/null "$config_bin" 2>"$out" >/dev/null
    else
        valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
            "$bin" "$1" "$2" "$3" 2>"$out" >/dev/null
    fi
    grep -E 'I *refs' "$out" | tr -d ',' | awk '{sum += $NF} END {print sum}'
    rm -f "$out"
}

per_op() { # group id n
    local a b
    a=$(count "$1" "$2" "$3")
    b=$(count "$1" "$2" $(( $3 * 2 )))
    echo $(( (b - a) / $3 ))
}

declare -A per
subjects=(
    "log dozen-log 2000" "log dozen-log-5-secrets 2000" "log tracing-stackdriver 2000" "log fmt-json 2000" "log fmt-text 2000"
    "log-pretty dozen-log-pretty 2000" "log-pretty fmt-text-ansi 2000"
    "request dozen-log 2000" "request tower-http-trace 2000"
    # The router alone, with no logging: what both request layers stand on. Not gated.
    "request no-log 2000"
    "url dozen-backing 200" "url url 200" "url sqlx-pg 200"
    "config dozen-config 200" "config envy 200"
    # dozen-config's other modes, not gated: documented in its README.
    "config dozen-config-map 200" "config dozen-config-all 200" "config dozen-config-strict 200"
    "config dozen-config-report 200" "config dozen-config-describe 20"
)
for subject in "${subjects[@]}"; do
    set -- $subject
    per["$1 $2"]=$(per_op "$1" "$2" "$3")
    printf '%-11s %-20s %8d instructions/op\n' "$1" "$2" "${per["$1 $2"]}"
done

echo
failed=0
while read -r group ours peer baseline; do
    case "$group" in '' | '#'*) continue ;; esac
    a=${per["$group $ours"]:-}
    b=${per["$group $peer"]:-}
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo "error: benches/icount-baseline.txt names $group $ours/$peer, which were not counted" >&2
        failed=1
        continue
    fi
    verdict=$(awk -v g="$group" -v o="$ours" -v p="$peer" -v a="$a" -v b="$b" -v base="$baseline" 'BEGIN {
        r = a / b; limit = base * 1.05
        printf "%-11s %-17s / %-20s %.3f  (baseline %.3f, limit %.3f)  %s\n", g, o, p, r, base, limit, (r <= limit ? "ok" : "WORSE")
    }')
    printf '%s\n' "$verdict"
    case "$verdict" in *WORSE*) failed=1 ;; esac
done < benches/icount-baseline.txt

if [ "$failed" = 1 ] && [ "$gate" = 1 ]; then
    echo "error: an instruction-count ratio is worse than its baseline by more than 5 %" >&2
    exit 1
fi
