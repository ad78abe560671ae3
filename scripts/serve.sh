#!/usr/bin/env bash
# Start the built app (scripts/build.sh) in production mode on one port: PORT (default 3000),
# for pages, websocket, REST API and /metrics. Every setting comes from the environment
# (README: Configuration); the app refuses to start on an unsafe or malformed one.
# The container's CMD; CI starts the app the same way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -x .venv/bin/python ]; then PATH="$PWD/.venv/bin:$PATH"; fi
export REFLEX_TELEMETRY_ENABLED="${REFLEX_TELEMETRY_ENABLED:-false}"
exec python -m chat_web.serve
