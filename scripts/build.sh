#!/usr/bin/env bash
# Build the production frontend into .web/build/client, once: the container image runs this
# at build time, and CI runs the same before its production tests. The build serves any host,
# port and scheme (chat_web/portable_frontend.py), so no URL is baked in.
#   REQUIREMENTS=requirements-app.txt scripts/build.sh     # the image: runtime packages only
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
export REFLEX_TELEMETRY_ENABLED=false
reflex export --frontend-only --no-zip --env prod --loglevel "${BUILD_LOGLEVEL:-warning}"
test -f .web/build/client/index.html
echo "build: the production frontend is in .web/build/client"
