#!/usr/bin/env bash
# Go toolchain for clients/go: the code generators protoc-gen-go and protoc-gen-connect-go,
# `go install`ed into .bin/ (git-ignored) at the very versions clients/go/go.mod pins for
# their runtimes (so generated code and runtime always match), and the module's dependencies.
# Idempotent. Without Go it says so loudly; that fails the setup only when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
  echo "setup-go: WARNING go not found: the Go client cannot be generated or tested" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
  exit 0
fi
BIN="$PWD/.bin"
mkdir -p "$BIN"
version() { (cd clients/go && go list -m -f '{{.Version}}' "$1"); }
install() { # module, package, version
  if [ -x "$BIN/$(basename "$2")" ] && go version -m "$BIN/$(basename "$2")" | grep -q "mod[[:space:]]*$1[[:space:]]*$3"; then
    return
  fi
  echo "setup-go: installing $2@$3 into .bin/"
  GOBIN="$BIN" go install "$2@$3"
}
install google.golang.org/protobuf google.golang.org/protobuf/cmd/protoc-gen-go "$(version google.golang.org/protobuf)"
install connectrpc.com/connect connectrpc.com/connect/cmd/protoc-gen-connect-go "$(version connectrpc.com/connect)"
(cd clients/go && go mod download)
echo "setup-go: .bin/protoc-gen-go, .bin/protoc-gen-connect-go ready ($(go version))"
