#!/usr/bin/env bash
# Start-up time of the release build of an example: from the exec to the first
# `/livez` 200, and to the first `/readyz` 200, median (and min, max) of N runs
# (default 20). Each run gets a fresh SQLite file as DATABASE_URL (an app
# without a database ignores it), so an app with migrations applies them
# every time. Polls over bash's /dev/tcp, so no client process is started
# inside the measured time.
# Usage: scripts/measure-startup.sh PACKAGE BINARY [N]
set -euo pipefail
cd "$(dirname "$0")/.."
package="$1"
binary="$2"
runs="${3:-20}"
cargo build -q --release -p "$package"
bin="${CARGO_TARGET_DIR:-target}/release/$binary"
port="${PORT:-18090}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

now_us() { local t="${EPOCHREALTIME/./}"; echo "${t#0}"; }

# Succeeds when GET $1 answers 200 (in this shell: no subshell, no fork).
answers_200() {
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
    local status=""
    read -r _ status _ <&3 || true
    exec 3>&-
    [ "$status" = 200 ]
}

median() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median %.1f ms  min %.1f ms  max %.1f ms\n", m / 1000, v[1] / 1000, v[NR] / 1000 }'; }

live=()
ready=()
for run in $(seq "$runs"); do
    url="sqlite://$dir/app-$run.db?mode=rwc"
    start=$(now_us)
    PORT="$port" DATABASE_URL="$url" LOG_FORMAT=json "$bin" >/dev/null &
    pid=$!
    until answers_200 /livez; do :; done
    live+=($(( $(now_us) - start )))
    until answers_200 /readyz; do :; done
    ready+=($(( $(now_us) - start )))
    kill -TERM "$pid"
    wait "$pid"
done
printf 'exec to /livez 200:  '; printf '%s\n' "${live[@]}" | median
printf 'exec to /readyz 200: '; printf '%s\n' "${ready[@]}" | median
