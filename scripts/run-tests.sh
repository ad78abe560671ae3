#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
bash scripts/setup-congodb.sh
ruff check --quiet .
exec python -m pytest "$@"
