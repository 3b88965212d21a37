#!/usr/bin/env bash
# `npm run bench`: ingest, read, growth, small calls and memory, each against a baseline
# measured in the same run. Starts its own embedded PostgreSQL and server (127.0.0.1 only).
# One benchmark alone: npx tsx bench/ingest.ts (read.ts, growth.ts, small-calls.ts, memory.ts).
# TDB_PSQL=/path/to/psql picks the baseline client; TDB_BENCH_DATABASE_URL uses an existing
# cluster instead of an embedded one; TDB_BENCH_CLIENT_WINDOW=<bytes> sets the clients' HTTP/2
# initial window (default: Node's 64 KiB); TDB_BENCH_NODE_ARGS adds Node flags to the server
# process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec npx tsx bench/all.ts "$@"
