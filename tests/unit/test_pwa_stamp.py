"""The production build's stamp on the service worker (chat_web/pwa.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chat_web.pwa import InstallableApp, build_stamp, stamp_worker

WORKER_SOURCE = Path(__file__).resolve().parents[2] / "assets" / "sw.js"


def a_build(folder: Path) -> Path:
    files = {
        "index.html": "<p>home</p>",
        "chat/index.html": "<p>chat</p>",
        "chat.html": "<p>chat</p>",
        "__spa-fallback.html": "<p>any</p>",
        "assets/root-abc123.js": "export{}",
        "assets/root-abc123.js.gz": "not the shell",
        "chat.css": "body{}",
        "manifest.webmanifest": "{}",
        "icons/icon-192.png": "png",
        "fonts/emoji/0.woff2": "a font",
        "sw.js": WORKER_SOURCE.read_text(),
    }
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)
    return folder


def stamped(source: str) -> tuple[str, list[str]]:
    version = re.search(r'^const VERSION = "([^"]*)";$', source, re.MULTILINE).group(1)
    shell = re.search(r"^const SHELL = (\[.*?\]);$", source, re.MULTILINE | re.DOTALL).group(1)
    return version, json.loads(shell)


def test_the_built_worker_gets_the_version_and_the_shell_of_its_build(tmp_path):
    build = a_build(tmp_path)
    InstallableApp().post_build(static_dir=build)
    version, shell = stamped((build / "sw.js").read_text())
    assert re.fullmatch(r"[0-9a-f]{16}", version)
    # Pages by the URL they are asked for; scripts, styles, the manifest and icons by file;
    # no compressed copies, no fonts (kept when used), not the worker itself.
    assert shell == [
        "/",
        "/__spa-fallback.html",
        "/assets/root-abc123.js",
        "/chat",
        "/chat.css",
        "/icons/icon-192.png",
        "/manifest.webmanifest",
    ]


def test_any_change_to_the_build_changes_the_version(tmp_path):
    build = a_build(tmp_path)
    first, _ = build_stamp(build)
    assert build_stamp(build)[0] == first  # the same build, the same version
    (build / "chat.css").write_text("body{color:red}")
    second, _ = build_stamp(build)
    (build / "sw.js").write_text("// a worker that caches otherwise")
    third, _ = build_stamp(build)
    (build / "assets" / "root-abc123.js.gz").write_text("compressed again")  # a copy, not a file of its own
    assert len({first, second, third, build_stamp(build)[0]}) == 3


def test_a_worker_without_its_lines_stops_the_build():
    with pytest.raises(RuntimeError, match="lost its line"):
        stamp_worker("const VERSION = 'x';", "v", [])
    source = WORKER_SOURCE.read_text()
    assert stamped(source) == ("development", [])  # what a development server serves
    assert stamped(stamp_worker(source, "0123", ["/chat"])) == ("0123", ["/chat"])
