"""The installable app (README: Installable app): what every page's head links, and the
production build's stamp on the service worker.

The worker (assets/sw.js) and its registration (assets/pwa.js) are plain files Reflex serves
at the site's root. A development server serves the worker as it is; after a production
build (`reflex export`, scripts/build.sh) the plugin below writes into the built copy the
build's version (a hash of every file it emitted, the worker's own source included) and
its shell (the pages, scripts, styles, manifest and icons the worker caches when it
installs). So each deploy that changes anything ships a worker that differs, which is what
makes browsers install it, under a cache name of its own. It runs before Reflex compresses
the build, so the .gz/.br copies carry the stamp too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import reflex as rx
from reflex_base.plugins.base import Plugin

WORKER = "sw.js"
MANIFEST = "/manifest.webmanifest"
# The page background of each scheme (Radix: white; slate-1 of the dark theme), so an
# installed app's title bar is the page's own colour.
THEME_LIGHT = "#ffffff"
THEME_DARK = "#111113"

_VERSION_LINE = 'const VERSION = "development";\n'
_SHELL_LINE = "const SHELL = [];\n"
_SIDECARS = (".gz", ".br", ".zst")
_SHELL_SUFFIXES = (".js", ".css", ".webmanifest")
_SPA_FALLBACK = "__spa-fallback.html"


def head_components() -> list[rx.Component]:
    """Linked from every page: the manifest, the theme colours, the icons, the registration."""
    return [
        rx.el.link(rel="manifest", href=MANIFEST),
        # `media` as an attribute: Reflex reads a `media=` prop as a style.
        *(
            rx.el.meta(name="theme-color", content=colour, custom_attrs={"media": media})
            for media, colour in (
                ("(prefers-color-scheme: light)", THEME_LIGHT),
                ("(prefers-color-scheme: dark)", THEME_DARK),
            )
        ),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
        # The tab's icon too (the browser asked for a /favicon.ico there is none of).
        rx.el.link(rel="icon", type="image/png", sizes="192x192", href="/icons/icon-192.png"),
        # After the page: pwa.js waits for the load event before it registers the worker.
        rx.el.script(src="/pwa.js", defer=True),
    ]


def _built_files(static_dir: Path) -> list[Path]:
    return sorted(path for path in static_dir.rglob("*") if path.is_file() and path.suffix not in _SIDECARS)


def _url_of(relative: str) -> str | None:
    """The URL the worker caches for a built file, or None if it is not part of the shell."""
    if relative.endswith(".html"):
        if relative == _SPA_FALLBACK:
            return f"/{relative}"
        page = relative.removesuffix(".html")
        if page == "index" or page.endswith("/index"):
            page = page.removesuffix("index").rstrip("/")
        return f"/{page}"
    if relative == WORKER:
        return None  # the browser fetches it itself, past every cache
    if relative.startswith("icons/") or relative.endswith(_SHELL_SUFFIXES):
        return f"/{relative}"
    return None  # fonts and the like: kept when a page first uses them


def build_stamp(static_dir: Path) -> tuple[str, list[str]]:
    """The version (a hash of every built file, the worker's unstamped source too) and the shell's URLs."""
    digest = hashlib.sha256()
    shell: set[str] = set()
    for path in _built_files(static_dir):
        relative = path.relative_to(static_dir).as_posix()
        digest.update(relative.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        if (url := _url_of(relative)) is not None:
            shell.add(url)
    return digest.hexdigest()[:16], sorted(shell)


def stamp_worker(source: str, version: str, shell: list[str]) -> str:
    """The worker's source with this version and shell in place of the development values."""
    for line in (_VERSION_LINE, _SHELL_LINE):
        if source.count(line) != 1:
            raise RuntimeError(
                f"chat_web.pwa: assets/{WORKER} lost its line {line.strip()!r}; update the plugin."
            )
    return source.replace(_VERSION_LINE, f"const VERSION = {json.dumps(version)};\n").replace(
        _SHELL_LINE, f"const SHELL = {json.dumps(shell, indent=2)};\n"
    )


class InstallableApp(Plugin):
    def post_build(self, **context) -> None:
        static_dir: Path = context["static_dir"]
        worker = static_dir / WORKER
        if not worker.exists():
            raise RuntimeError(f"chat_web.pwa: the build has no {WORKER} (assets/{WORKER} is its source).")
        version, shell = build_stamp(static_dir)
        worker.write_text(stamp_worker(worker.read_text(), version, shell))
