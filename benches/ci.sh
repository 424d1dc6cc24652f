#!/usr/bin/env bash
# Short benchmark run for CI: every group once, briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p dozen-benches -- --warm-up-time 0.5 --measurement-time 1 --noplot
