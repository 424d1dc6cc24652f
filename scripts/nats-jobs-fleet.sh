#!/usr/bin/env bash
# dozen-jobs on NATS JetStream: 8 worker processes on N jobs (default 10,000,
# as in the test suite) against a private nats-server, every job completed at
# least once and none lost, with the times printed. Give a larger N to load
# it harder. Needs nats-server (2.9 or later) on PATH.
# Usage: scripts/nats-jobs-fleet.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOZEN_JOBS_NATS_JOBS="${1:-10000}"
exec cargo test -q -p dozen-jobs --all-features --test it -- \
    nats::eight_worker_processes_complete_every_job --exact --nocapture
