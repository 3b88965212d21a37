#!/usr/bin/env bash
# Python toolchain for clients/python: a virtualenv at .venv/ (git-ignored) with the pinned
# packages of clients/python/requirements-dev.txt (grpcio-tools for generation, the client's
# runtime dependencies, pytest) and the client itself, editable. Idempotent.
# Without a usable python3 it says so loudly; that fails the setup only when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
missing() {
  echo "setup-python: WARNING $1: the Python client cannot be generated or tested" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
  exit 0
}
command -v "$PYTHON" >/dev/null || missing "$PYTHON not found"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || missing "$PYTHON is older than 3.10"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || missing "$PYTHON lacks venv/ensurepip (Debian: apt-get install python3-venv)"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install -r clients/python/requirements-dev.txt
# hatchling (the build backend) is pinned above, so no isolated build env is downloaded.
"${pip[@]}" install --no-build-isolation --no-deps -e ./clients/python
echo "setup-python: .venv ready ($(.venv/bin/python --version))"
