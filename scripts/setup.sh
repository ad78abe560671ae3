#!/usr/bin/env bash
# Prepare everything the app and its tests need, idempotently: a virtualenv with the
# pinned packages and bun (Reflex's JS runtime) from the npm registry, and the colour emoji
# font the pages fall back to (npm too), put where the app serves it.
# For the tests (not the runtime image) it also brings axe-core, the accessibility checker the
# browser tests inject into pages. Source it (`. scripts/setup.sh`) to get REFLEX_BUN_PATH,
# AXE_CORE_JS and the venv on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
TOOLS="$ROOT/.tools"
BUN_VERSION="1.4.4"
AXE_VERSION="4.14.1"
EMOJI_FONT_VERSION="0.2.0" # @infolektuell/noto-color-emoji: Noto Color Emoji as COLRv1, OFL 1.1
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating the virtualenv in .venv"
  "$PYTHON" -m venv "$VENV"
fi

# Reinstall only when the requirements changed since the last successful install.
# REQUIREMENTS=requirements-app.txt installs the runtime packages only (the container image).
REQUIREMENTS="${REQUIREMENTS:-requirements.txt}"
stamp="$VENV/.requirements.sha256"
want="$(cat "$ROOT/$REQUIREMENTS" "$ROOT/requirements-app.txt" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages from $REQUIREMENTS"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/$REQUIREMENTS"
  echo "$want" > "$stamp"
fi

BUN="$TOOLS/node_modules/bun/bin/bun.exe"
if [ ! -x "$BUN" ] || [ "$("$BUN" --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  command -v npm >/dev/null || { echo "setup: npm is needed to install bun (apt-get install nodejs npm)" >&2; exit 1; }
  echo "setup: installing bun $BUN_VERSION from the npm registry into .tools"
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "bun@$BUN_VERSION" >/dev/null
fi

# The emoji font, in a prefix of its own like axe-core below; scripts/emoji_font.py copies its
# woff2 subsets and writes their @font-face sheet into assets/fonts/emoji (gitignored), which
# Reflex serves at /fonts/emoji/ in development and copies into the production build. The
# runtime image needs it too, so this runs for every REQUIREMENTS.
EMOJI_PACKAGE="$TOOLS/emoji/node_modules/@infolektuell/noto-color-emoji"
emoji_have="$(node -p "require('$EMOJI_PACKAGE/package.json').version" 2>/dev/null || true)"
if [ "$emoji_have" != "$EMOJI_FONT_VERSION" ]; then
  command -v npm >/dev/null || { echo "setup: npm is needed to install the emoji font (apt-get install nodejs npm)" >&2; exit 1; }
  echo "setup: installing @infolektuell/noto-color-emoji $EMOJI_FONT_VERSION from the npm registry into .tools/emoji"
  mkdir -p "$TOOLS/emoji"
  npm install --silent --no-audit --no-fund --save-exact --prefix "$TOOLS/emoji" \
    "@infolektuell/noto-color-emoji@$EMOJI_FONT_VERSION" >/dev/null
fi
"$VENV/bin/python" "$ROOT/scripts/emoji_font.py" "$EMOJI_PACKAGE" "$ROOT/assets/fonts/emoji"

# axe-core in a prefix of its own, so installing it never rewrites bun's tree. Only with the
# test requirements: the runtime image (REQUIREMENTS=requirements-app.txt) has no use for it.
AXE="$TOOLS/axe/node_modules/axe-core/axe.min.js"
if [ "$REQUIREMENTS" = "requirements.txt" ]; then
  axe_have="$(node -p "require('$TOOLS/axe/node_modules/axe-core/package.json').version" 2>/dev/null || true)"
  if [ ! -f "$AXE" ] || [ "$axe_have" != "$AXE_VERSION" ]; then
    command -v npm >/dev/null || { echo "setup: npm is needed to install axe-core (apt-get install nodejs npm)" >&2; exit 1; }
    echo "setup: installing axe-core $AXE_VERSION from the npm registry into .tools/axe"
    mkdir -p "$TOOLS/axe"
    npm install --silent --no-audit --no-fund --save-exact --prefix "$TOOLS/axe" "axe-core@$AXE_VERSION" >/dev/null
  fi
  export AXE_CORE_JS="$AXE"
fi

export REFLEX_BUN_PATH="$BUN"
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
