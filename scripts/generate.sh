#!/usr/bin/env bash
# `npm run generate`: regenerates every client from proto/ with local plugins only.
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf lint
npx buf format -d --exit-code proto
npx buf generate
