#!/usr/bin/env bash
# A short, bounded fuzz pass for CI: for each target, replay the committed corpus
# (fuzz/corpus/<target>/) and then fuzz for FUZZ_SECONDS (20 by default). Any crash, a
# panic or a broken check, fails the script, with the input left under
# fuzz/artifacts/<target>/ and the command that reproduces it.
#
# Environment:
#   FUZZ_TARGETS     the targets to run, space-separated (default: all of them)
#   FUZZ_SECONDS     fuzzing time per target, after the corpus replay (default: 20)
#   FUZZ_REPLAY_ONLY targets whose corpus is replayed but not fuzzed: for a target whose
#                    known crashes (fuzz/known-crashes/) are not fixed yet, which fuzzing
#                    finds again in seconds; the replay still guards what is fixed
#   FUZZ_TARGET_DIR  cargo's target directory for the fuzz build (default: fuzz/target),
#                    kept apart from the workspace's because the flags differ
#
# cargo-fuzz needs nightly features; the stable toolchain gives them with
# RUSTC_BOOTSTRAP=1, set here for the fuzz build only. The build has no sanitizer: the
# crates under test forbid `unsafe`, so AddressSanitizer would find nothing that a panic
# does not, and it roughly doubles the build and halves the executions. Debug assertions
# are on, so arithmetic overflow panics.
set -euo pipefail

cd "$(dirname "$0")"
all_targets="service_url redact_urls trace_headers config_env"
targets="${FUZZ_TARGETS:-$all_targets}"
seconds="${FUZZ_SECONDS:-20}"
replay_only=" ${FUZZ_REPLAY_ONLY:-} "
flags=(--debug-assertions --sanitizer=none)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    env -u CARGO_TARGET_DIR cargo install cargo-fuzz --locked --version 0.13.2
    echo "fuzz: installed at ${SECONDS}s"
fi
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
export RUSTC_BOOTSTRAP=1

echo "fuzz: building ${targets}"
for target in $targets; do
    cargo fuzz build "${flags[@]}" "$target"
done
echo "fuzz: built at ${SECONDS}s"

passed=0
failed=0
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
    # New inputs go to a scratch directory; the committed corpus is only read.
    mkdir -p "$scratch/$target" "corpus/$target"
    if [[ "$replay_only" == *" $target "* ]]; then
        limit=(-runs=0)
        echo "fuzz: $target: corpus of $(find "corpus/$target" -type f | wc -l) inputs, no fuzzing"
    else
        limit=(-max_total_time="$seconds")
        echo "fuzz: $target: corpus of $(find "corpus/$target" -type f | wc -l) inputs, then ${seconds}s"
    fi
    if cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
        "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$scratch/$target.log" 2>&1; then
        grep -E '^(stat::number_of_executed_units|Done )' "$scratch/$target.log" || true
        passed=$((passed + 1))
    else
        echo "fuzz: $target FAILED"
        grep -A 40 -E "panicked at|ERROR: libFuzzer" "$scratch/$target.log" | head -60 || true
        grep -A 1 -E "^Reproduce with:" "$scratch/$target.log" || true
        failed=$((failed + 1))
    fi
done

echo "fuzz: done at ${SECONDS}s"
echo "fuzz: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
