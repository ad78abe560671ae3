#!/usr/bin/env bash
# The long fuzz run: Schemathesis against the API on SQLite and PostgreSQL with many examples
# per route (the test suite runs the same with a few). Extra arguments go to the runner, e.g.
#   scripts/fuzz-api.sh --examples 2000 --backends postgresql --max-time 600
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec python -m tests.support.fuzz "$@"
