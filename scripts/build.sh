#!/usr/bin/env bash
# `npm run build` (also run by `npm install`, as `prepare`): compiles src/ and gen/ to dist/,
# which `npm start` and `tdb` run, and copies the SQL migrations beside their runner.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
cp -r src/store/migrations dist/src/store/migrations
