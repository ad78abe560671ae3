#!/usr/bin/env bash
# Set up (idempotent) and run the app on embedded defaults: http://localhost:3000
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec reflex run "$@"
