#!/usr/bin/env bash
# Instructions per log event with and without registered secrets, counted by valgrind
# (cachegrind, no cache simulation): each mode runs with 0 and N events, and the
# difference over N is the cost of one event, set-up cancelled. Counts repeat run to
# run, unlike wall time on a shared machine. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
cargo build -q --release -p dozen-benches --bin log-masking
bin="${CARGO_TARGET_DIR:-target}/release/log-masking"
count() {
    local out
    out=$(mktemp)
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$bin" "$1" "$2" 2>"$out" >/dev/null
    grep -E 'I *refs' "$out" | tr -d ',' | awk '{print $NF}'
    rm -f "$out"
}
base=""
for mode in none five hit; do
    per=$(( ($(count "$mode" "$n") - $(count "$mode" 0)) / n ))
    [ -z "$base" ] && base=$per
    awk -v m="$mode" -v p="$per" -v b="$base" 'BEGIN { printf "%-5s %6d instructions/event  %.2fx of none\n", m, p, p / b }'
done
