#!/usr/bin/env bash
# Fails when generated code is stale. Regenerates everything (scripts/generate.sh: buf lint,
# buf format, TypeScript, Python, Go) in a scratch copy of the inputs and compares the result
# with gen/, clients/python/src/tdb_client/gen and clients/go/gen in the working tree, which
# it never touches. Run by `npm test` (scripts/test.sh) before the suites.
# Needs the tools of scripts/setup.sh; without them it warns, and fails only when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

for tool in node_modules/.bin/buf .venv/bin/python .bin/protoc-gen-go .bin/protoc-gen-connect-go; do
  if [ ! -x "$tool" ]; then
    echo "check-generated: WARNING $tool is missing (run bash scripts/setup.sh): generated code NOT checked" >&2
    if [ "${CI:-}" = true ]; then exit 1; fi
    exit 0
  fi
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r proto third_party buf.yaml buf.gen*.yaml scripts package.json "$scratch/"
ln -s "$root/node_modules" "$root/.venv" "$root/.bin" "$scratch/"
(cd "$scratch" && bash scripts/generate.sh >/dev/null 2>"$scratch/generate.log") || {
  cat "$scratch/generate.log" >&2
  echo "check-generated: generation failed" >&2
  exit 1
}

stale=0
for dir in gen clients/ts/src/gen clients/python/src/tdb_client/gen clients/go/gen; do
  if ! diff -r -q -x __pycache__ "$scratch/$dir" "$dir" >&2; then
    stale=1
  fi
done
if [ "$stale" = 1 ]; then
  echo "check-generated: generated code is stale: run npm run generate and commit the result" >&2
  exit 1
fi
echo "check-generated: gen/, clients/ts, clients/python and clients/go match proto/"
