#!/usr/bin/env bash
# Install CongoDB, the MongoDB-wire-compatible test server from the npm package
# @push.rocks/smartmongo@2.2.0, into .tools/congodb (idempotent). A plain
# `npm install` of that package fails on dependency versions, so its runtime
# dependencies go in first and the package itself is unpacked next to them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.tools/congodb"
ENTRY="$DIR/node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js"
[ -f "$ENTRY" ] && exit 0
command -v npm >/dev/null || { echo "setup: npm is needed for the MongoDB test server" >&2; exit 1; }
echo "setup: installing the CongoDB test server into .tools/congodb"
mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name": "congodb-test-server", "private": true, "type": "module"}' > package.json
npm install --silent --no-audit --no-fund @push.rocks/smartfs@1.5.0 @push.rocks/smartpath@6.0.0 \
  @push.rocks/smartpromise@4.2.3 @push.rocks/smartrx@3.0.10 bson@6.10.4 mingo@7.2.7 >/dev/null
tarball="$(npm pack --silent @push.rocks/smartmongo@2.2.0 | tail -n1)"
mkdir -p node_modules/@push.rocks/smartmongo
tar xzf "$tarball" -C node_modules/@push.rocks/smartmongo --strip-components=1
rm -f "$tarball"
