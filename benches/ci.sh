#!/usr/bin/env bash
# Short benchmark run for CI: every group briefly, then the report, which fails
# when a dozen/peer wall-clock ratio of an I/O-bound group is worse than its
# committed baseline (benches/baseline.txt), then the instruction counts of the
# CPU-bound groups, gated against benches/icount-baseline.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export CRITERION_HOME="$PWD/target/criterion"
rm -rf "$CRITERION_HOME"
# Groups whose iteration is a long round (jobs) take a smaller input in short mode.
export DOZEN_BENCH_SHORT=1
cargo bench -p dozen-benches --benches -- --warm-up-time 0.5 --measurement-time 1 --noplot
cargo run -q -p dozen-benches --bin bench-report
# The CPU-bound groups are gated on instruction counts (5 % margin), not wall time.
bash benches/icount.sh
