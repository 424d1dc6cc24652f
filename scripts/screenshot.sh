#!/usr/bin/env bash
# Regenerates docs/terminal.svg, the README's picture of the pretty log format:
# a real run of todo-api on a fresh SQLite file in a tmux terminal (start, two
# requests, SIGTERM, clean exit), captured with its colours and turned into
# SVG by scripts/ansi2svg.py. Needs tmux, curl and python3.
#
# Usage: bash scripts/screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p example-todo-api
bin=$PWD/target/debug/todo-api
[ -n "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/debug/todo-api
work=$(mktemp -d)
trap 'tmux kill-session -t dozen-shot 2>/dev/null || true; rm -rf "$work"' EXIT
port=18$((RANDOM % 900 + 100))
tmux new-session -d -s dozen-shot -x 150 -y 30 \
    "cd $work && PORT=$port LOG_FORMAT=pretty $bin; echo; echo \"exit code \$?\"; sleep 30"
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs -X POST -H 'content-type: application/json' -d '{"title":"write the guide"}' \
    "http://127.0.0.1:$port/todos" >/dev/null
curl -fs "http://127.0.0.1:$port/todos" >/dev/null
sleep 0.3
pkill -TERM -f "^$bin\$" || pkill -TERM -x todo-api
for _ in $(seq 1 100); do
    tmux capture-pane -p -t dozen-shot | grep -q "exit code" && break
    sleep 0.1
done
tmux capture-pane -e -p -t dozen-shot | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' \
    | python3 scripts/ansi2svg.py > docs/terminal.svg
echo "wrote docs/terminal.svg"
