#!/usr/bin/env bash
# The hello service under load: examples/hello (dozen, JSON logs) against hello-peer (the same
# one-route service on plain axum with tower-http's TraceLayer and tracing-subscriber's
# fmt().json(), one INFO line per request), both built in release, both writing their lines to
# /dev/null. wrk drives each on loopback with 1 thread and 32 connections; the two are measured
# in turn, ROUNDS times, DURATION each, after a 1 s warm-up, and the script prints requests/s
# and p99 latency for each run, their medians, and the ratios dozen/peer.
#
# Reported, not gated, and not run by CI: wall time on a shared machine moves too much to gate.
#
# Usage: bash benches/load.sh   (ROUNDS=3 DURATION=4s by default; installs wrk with apt-get
# when it is missing and the script runs as root)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
duration=${DURATION:-4s}
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
    else
        echo "error: wrk is not installed (Debian: apt-get install wrk)" >&2
        exit 1
    fi
fi
command -v curl >/dev/null || { echo "error: curl is not installed" >&2; exit 1; }
cargo build -q --release -p example-hello --bin hello -p dozen-benches --bin hello-peer
bin="${CARGO_TARGET_DIR:-target}/release"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start() { # name port command... : starts a service on PORT=port and waits until it answers
    local name=$1 port=$2
    shift 2
    PORT=$port LOG_FORMAT=json "$@" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/" >/dev/null && return
        sleep 0.1
    done
    echo "error: $name did not answer on port $port" >&2
    exit 1
}
start dozen 18401 "$bin/hello"
start peer 18402 "$bin/hello-peer"

run() { # port -> "requests/s p99-in-ms"
    local out
    wrk -t1 -c32 -d1s "http://127.0.0.1:$1/" >/dev/null
    out=$(wrk -t1 -c32 -d"$duration" --latency "http://127.0.0.1:$1/")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "error: wrk saw failed requests on port $1:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '
        /Requests\/sec:/ { rps = $2 }
        $1 == "99%" {
            v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
            p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v
        }
        END { printf "%.0f %.3f\n", rps, p99 }' <<<"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-5s %-6s %12s %10s\n' round subject requests/s "p99 ms"
dozen_rps=() dozen_p99=() peer_rps=() peer_p99=()
for round in $(seq "$rounds"); do
    read -r rps p99 < <(run 18401)
    dozen_rps+=("$rps") dozen_p99+=("$p99")
    printf '%-5s %-6s %12s %10s\n' "$round" dozen "$rps" "$p99"
    read -r rps p99 < <(run 18402)
    peer_rps+=("$rps") peer_p99+=("$p99")
    printf '%-5s %-6s %12s %10s\n' "$round" peer "$rps" "$p99"
done

d_rps=$(printf '%s\n' "${dozen_rps[@]}" | median)
d_p99=$(printf '%s\n' "${dozen_p99[@]}" | median)
p_rps=$(printf '%s\n' "${peer_rps[@]}" | median)
p_p99=$(printf '%s\n' "${peer_p99[@]}" | median)
echo
awk -v dr="$d_rps" -v dp="$d_p99" -v pr="$p_rps" -v pp="$p_p99" 'BEGIN {
    printf "median  dozen %.0f requests/s, p99 %.3f ms; peer %.0f requests/s, p99 %.3f ms\n", dr, dp, pr, pp
    printf "ratios  requests/s dozen/peer %.2f (higher is better), p99 dozen/peer %.2f (lower is better)\n", dr / pr, dp / pp
}'
