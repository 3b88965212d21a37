#!/usr/bin/env bash
# `npm test`: every suite, against real PostgreSQL (embedded unless TDB_DATABASE_URL is set).
# With arguments (`npm test -- test/foo.test.ts`) only vitest runs, with those arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
# Server processes in the suites run the compiled server (dist/), as `npm start` does: build
# it from the current source first.
bash scripts/build.sh
if [ $# -gt 0 ]; then exec npx vitest run "$@"; fi

bash scripts/check-generated.sh
npx vitest run

# The Python and Go clients against a live server of their own (test/helpers/serve-for-tests.ts).
# A missing toolchain is said loudly; it fails the run when CI=true and skips the suite otherwise.
missing() {
  echo "test: WARNING $1: the $2 client suite did NOT run" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
}
if [ -x .venv/bin/python ]; then
  .venv/bin/python -m pytest clients/python/tests
  # And as a user installs it: a wheel in a fresh virtualenv.
  bash scripts/test-python-wheel.sh
else
  missing ".venv/bin/python is missing (run bash scripts/setup.sh)" Python
fi
if command -v go >/dev/null; then
  # -count=1: results from a live server must never come from the test cache.
  (cd clients/go && go test -count=1 ./...)
  # And as a user's module imports it: a module of its own outside clients/go.
  (cd test/go-consumer && go test -count=1 ./...)
else
  missing "go is not installed" Go
fi
