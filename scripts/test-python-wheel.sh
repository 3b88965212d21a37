#!/usr/bin/env bash
# The Python client as a user gets it: a wheel built with the standard tooling
# (`python -m build`), installed into a fresh virtualenv, and the client suite run against
# that install — the source tree is not importable there (tests/ sits beside src/, not in it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m build --wheel --no-isolation --outdir "$work/dist" clients/python >/dev/null
wheel=$(ls "$work"/dist/tdb_client-*.whl)
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" pytest==9.2.0
where=$("$work/venv/bin/python" -c 'import tdb_client, os; print(os.path.dirname(tdb_client.__file__))')
case "$where" in
  "$work/venv/"*) echo "test-python-wheel: $(basename "$wheel") installed in a fresh venv ($where)" ;;
  *) echo "test-python-wheel: tdb_client imported from $where, not from the wheel" >&2; exit 1 ;;
esac
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider clients/python/tests
