#!/usr/bin/env bash
# Refresh the vendored browser assets under erp/static/vendor/ from the npm registry.
# Not part of `make run` or `make test`: the files are committed, so the app works offline.
# Change a version here, run `make vendor`, look at the pages, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=erp/static/vendor
HTMX_VERSION=2.0.11
ECHARTS_VERSION=6.1.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # package version -> unpacked in $work/<package>
  local package=$1 version=$2
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  mkdir -p "$work/$package"
  tar -xzf "$work"/"${package//\//-}"-"$version".tgz -C "$work/$package" --strip-components=1
}

fetch htmx.org "$HTMX_VERSION"
mkdir -p "$VENDOR/htmx"
cp "$work/htmx.org/dist/htmx.min.js" "$VENDOR/htmx/"
cp "$work/htmx.org/LICENSE" "$VENDOR/htmx/LICENSE"

fetch echarts "$ECHARTS_VERSION"
mkdir -p "$VENDOR/echarts"
cp "$work/echarts/dist/echarts.min.js" "$VENDOR/echarts/"
cp "$work/echarts/LICENSE" "$VENDOR/echarts/LICENSE"
cp "$work/echarts/NOTICE" "$VENDOR/echarts/NOTICE" 2>/dev/null || true

cat > "$VENDOR/VENDORED.md" <<NOTE
# Vendored browser assets

Copied unchanged from the npm registry by \`scripts/vendor.sh\` (\`make vendor\`); served
by the app itself, so pages work without internet.

| directory | npm package | version | file | licence |
|---|---|---|---|---|
| htmx/ | htmx.org | $HTMX_VERSION | dist/htmx.min.js | 0BSD (htmx/LICENSE) |
| echarts/ | echarts | $ECHARTS_VERSION | dist/echarts.min.js | Apache-2.0 (echarts/LICENSE, NOTICE) |
NOTE
echo "vendored htmx.org $HTMX_VERSION and echarts $ECHARTS_VERSION into $VENDOR"
