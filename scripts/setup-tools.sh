#!/usr/bin/env bash
# Installs the outside tools the client suites drive (test/browser, test/cli-tools):
#   - Chromium from Debian (used headless by playwright-core; no browser is downloaded),
#   - grpcurl, pinned, with `go install` into .bin/ (git-ignored).
# `buf curl` comes from @bufbuild/buf in devDependencies. Idempotent: skips what is present.
# Without root, apt or Go it says so and carries on; the suites then skip (or fail when CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

GRPCURL_VERSION=v1.9.3
BIN="$PWD/.bin"

if [ -x /usr/bin/chromium ]; then
  echo "setup-tools: chromium present ($(/usr/bin/chromium --version 2>/dev/null || echo unknown))"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "setup-tools: installing chromium (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation
else
  echo "setup-tools: WARNING chromium missing and cannot apt-get install it (need root + apt); browser tests will skip" >&2
fi

# `go install` leaves `grpcurl -version` unset; the module version is in the build info.
if [ -x "$BIN/grpcurl" ] && command -v go >/dev/null &&
  go version -m "$BIN/grpcurl" 2>/dev/null | grep -q "fullstorydev/grpcurl[[:space:]]*$GRPCURL_VERSION"; then
  echo "setup-tools: grpcurl $GRPCURL_VERSION present in .bin/"
elif command -v go >/dev/null; then
  echo "setup-tools: installing grpcurl $GRPCURL_VERSION into .bin/"
  mkdir -p "$BIN"
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
else
  echo "setup-tools: WARNING go missing, cannot install grpcurl; grpcurl tests will skip" >&2
fi
