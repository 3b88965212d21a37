#!/usr/bin/env bash
# `npm test`: every suite, against real PostgreSQL (embedded unless TDB_DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."
npx vitest run "$@"
