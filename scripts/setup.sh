#!/usr/bin/env bash
# Installs what the tests need: npm packages (exact versions from package-lock.json).
# Toolchains for the other-language clients are installed by their own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
# `npm install`, not `npm ci`: with this machine's npm 11 config the lock records only this
# platform's optional binaries, which `npm ci` reports as out of sync. Versions stay pinned
# by package.json (exact) and the lock.
npm install --no-audit --no-fund
# Chromium and grpcurl for the browser and CLI-tool suites.
bash scripts/setup-tools.sh
# Python (.venv/) and Go (.bin/ generators, module cache) for clients/python and clients/go.
bash scripts/setup-python.sh
bash scripts/setup-go.sh
