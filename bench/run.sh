#!/usr/bin/env bash
# `npm run bench`: ingest, read, growth, small calls and memory, each against a baseline
# measured in the same run. Starts its own embedded PostgreSQL and server (127.0.0.1 only).
# One benchmark alone: npx tsx bench/ingest.ts (read.ts, growth.ts, small-calls.ts, memory.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx bench/all.ts "$@"
