#!/usr/bin/env bash
# Start-up time of the release build of `hello`: exec to `/livez` 200 and to
# `/readyz` 200, median of N runs (default 20); see scripts/measure-startup.sh.
# Usage: examples/hello/measure-startup.sh [N]
exec bash "$(dirname "$0")/../../scripts/measure-startup.sh" example-hello hello "$@"
