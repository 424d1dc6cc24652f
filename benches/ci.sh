#!/usr/bin/env bash
# Short benchmark run for CI: every group briefly, then the report, which fails
# when a dozen/peer ratio is worse than its committed baseline (benches/baseline.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
export CRITERION_HOME="$PWD/target/criterion"
rm -rf "$CRITERION_HOME"
cargo bench -p dozen-benches --benches -- --warm-up-time 0.5 --measurement-time 1 --noplot
cargo run -q -p dozen-benches --bin bench-report
