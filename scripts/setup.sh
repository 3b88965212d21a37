#!/usr/bin/env bash
# Installs what the tests need: npm packages (exact versions from package-lock.json).
# Toolchains for the other-language clients are installed by their own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
