#!/usr/bin/env bash
# Builds the pinned OpenTelemetry Collector distribution the end-to-end tests run
# (test/collector/manifest.yaml) with the official builder, into a cache outside the repo, and prints the
# binary's path as its last line. A build whose inputs (manifest, local Go modules, Go version) hash the
# same is reused, so a second run takes a second. Go is a test dependency only.
#   OTELCOL_SIGMA_TEST_CACHE   cache folder (default ~/.cache/otel-sigma)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/test/collector"
CACHE="${OTELCOL_SIGMA_TEST_CACHE:-$HOME/.cache/otel-sigma}"
BUILDER_VERSION=v0.160.0
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

command -v go >/dev/null || { echo "build-collector: the Go toolchain is needed (go not on PATH)" >&2; exit 1; }
mkdir -p "$CACHE"
HASH="$( { cat "$SRC/manifest.yaml"; find "$SRC/windowseventlog" -type f | LC_ALL=C sort | xargs cat; go version; } | sha256sum | cut -c1-12)"
VERSION="$(sed -n 's/^  version: *//p' "$SRC/manifest.yaml")"
OUT="$CACHE/otelcol-$VERSION-$HASH"
BIN="$OUT/otelcol-sigma-test"

# One build at a time (parallel test processes or CI steps may all ask).
exec 9>"$CACHE/build.lock"
flock 9

if [ ! -x "$BIN" ]; then
  BUILDER="$CACHE/builder-$BUILDER_VERSION/builder"
  if [ ! -x "$BUILDER" ]; then
    echo "build-collector: installing the builder $BUILDER_VERSION" >&2
    GOBIN="$CACHE/builder-$BUILDER_VERSION" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" >&2
  fi
  WORK="$(mktemp -d "$CACHE/build-XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
  sed -e "s|OUTPUT_PATH|$WORK/dist|" -e "s|WINDOWSEVENTLOG_PATH|$SRC/windowseventlog|" "$SRC/manifest.yaml" > "$WORK/manifest.yaml"
  echo "build-collector: building otelcol $VERSION ($HASH); a first build takes several minutes" >&2
  start=$(date +%s)
  "$BUILDER" --config "$WORK/manifest.yaml" >&2
  mkdir -p "$OUT.tmp"
  mv "$WORK/dist/otelcol-sigma-test" "$OUT.tmp/otelcol-sigma-test"
  rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
  echo "build-collector: built in $(( $(date +%s) - start )) s" >&2
fi
echo "$BIN"
