#!/usr/bin/env bash
# What a user pays to adopt dozen: examples/hello (dozen's default features)
# against benches/peer-hello (the same service on axum, tracing-subscriber
# JSON, envy and tokio signals). Run by hand, not by CI:
#
#     bash benches/adoption.sh [N]      # N runs of each build, 3 by default
#
# For each package it measures, N times: the cold build of just that package
# in a fresh target directory, debug and release (seconds, and how many
# crates cargo compiles), and the size of the release binary once stripped.
# The two packages are built alternately, and each run swaps which goes first,
# so a neighbour's load on a shared machine falls on both. It prints each
# measurement as it goes, then the medians and the ratios dozen/peer.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bash benches/adoption.sh [N]  (N: runs of each build, at least 1)" >&2
    exit 2
fi
ours=example-hello
ours_bin=hello
peer=peer-hello
peer_bin=peer-hello
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

# measure PACKAGE BINARY PROFILE: appends `package profile seconds crates bytes`.
measure() {
    local package="$1" binary="$2" profile="$3"
    local target start end seconds crates bytes=0
    local flags=(--locked -p "$package")
    [[ "$profile" == release ]] && flags+=(--release)
    target="$(mktemp -d)"
    start="$(date +%s.%N)"
    if ! CARGO_TARGET_DIR="$target" nice cargo build "${flags[@]}" 2>"$target/log"; then
        cat "$target/log" >&2
        rm -rf "$target"
        return 1
    fi
    end="$(date +%s.%N)"
    seconds="$(echo "$end - $start" | bc)"
    crates="$(grep -c '^ *Compiling ' "$target/log")"
    if [[ "$profile" == release ]]; then
        cp "$target/release/$binary" "$target/stripped"
        strip "$target/stripped"
        bytes="$(stat -c %s "$target/stripped")"
    fi
    rm -rf "$target"
    echo "$package $profile $seconds $crates $bytes" | tee -a "$results"
}

echo "package profile seconds crates stripped-bytes"
for ((run = 1; run <= runs; run++)); do
    for profile in debug release; do
        if ((run % 2)); then
            measure "$ours" "$ours_bin" "$profile"
            measure "$peer" "$peer_bin" "$profile"
        else
            measure "$peer" "$peer_bin" "$profile"
            measure "$ours" "$ours_bin" "$profile"
        fi
    done
done

# median PACKAGE PROFILE FIELD: the median of one column (3 seconds, 4 crates, 5 bytes).
median() {
    awk -v p="$1" -v f="$2" '$1 == p && $2 == f { print $'"$3"' }' "$results" |
        sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo
echo "Medians of $runs run(s); ratio = dozen / peer, lower is better."
echo
echo "| measure | dozen ($ours) | peer ($peer) | ratio |"
echo "|---|---:|---:|---:|"
row() {
    local label="$1" ours_value="$2" peer_value="$3" format="$4"
    printf "| %s | $format | $format | %.2f |\n" "$label" "$ours_value" "$peer_value" \
        "$(echo "scale=4; $ours_value / $peer_value" | bc)"
}
row "cold build, debug (s)" "$(median $ours debug 3)" "$(median $peer debug 3)" "%.1f"
row "cold build, release (s)" "$(median $ours release 3)" "$(median $peer release 3)" "%.1f"
row "crates compiled, debug" "$(median $ours debug 4)" "$(median $peer debug 4)" "%.0f"
row "crates compiled, release" "$(median $ours release 4)" "$(median $peer release 4)" "%.0f"
row "stripped release binary (MB)" "$(echo "scale=4; $(median $ours release 5) / 1000000" | bc)" \
    "$(echo "scale=4; $(median $peer release 5) / 1000000" | bc)" "%.2f"
