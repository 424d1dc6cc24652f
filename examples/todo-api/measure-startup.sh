#!/usr/bin/env bash
# Start-up time of the release build of `todo-api` on a fresh SQLite file
# (the database connected, the migrations applied, the schema checked): exec
# to `/livez` 200 and to `/readyz` 200, median of N runs (default 20); see
# scripts/measure-startup.sh. Usage: examples/todo-api/measure-startup.sh [N]
exec bash "$(dirname "$0")/../../scripts/measure-startup.sh" example-todo-api todo-api "$@"
