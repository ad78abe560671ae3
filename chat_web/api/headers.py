"""Security headers on every HTTP answer of the process: the pages, the API and the media.

The production frontend is Reflex's static build, mounted below the API (chat_web/serve.py),
so the edge (chat_web/api/edge.py), which adds these, sees every page. The Content-Security-Policy:

* `script-src 'self'` plus the SHA-256 of each inline script the build's HTML files carry
  (React Router's hydration context, the theme and scroll restorers): they are fixed at build
  time, so they are hashed once, at the first request, and no other inline script runs.
  `'unsafe-eval'` because Reflex runs `rx.call_script` (and `call_function`) through `eval`
  in the browser, and the pages use it (the code boxes, the conversation's scroll).
* `style-src 'self' 'unsafe-inline'`: Emotion and Radix put `<style>` elements and `style`
  attributes in the page, at build time and while it runs.
* `connect-src 'self'` and the websocket of the same host (`ws:`/`wss:`);
  `img-src 'self' data: blob:` (a picked image's preview is a blob) and Cloudinary's host
  when CLOUDINARY_URL is set; `frame-ancestors 'none'`, `object-src 'none'`,
  `base-uri 'self'`, `form-action 'self'`.
* `worker-src 'self'` and `manifest-src 'self'`: the installable app's service worker
  (`/sw.js`) and its manifest (`/manifest.webmanifest`), both served by the app itself.

A header the route set itself (the media route's sandbox CSP) is kept. FastAPI's own
`/docs` page loads Swagger UI from its CDN with an inline script: it gets a policy of its own.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parents[2] / ".web" / "build" / "client"
CLOUDINARY_DELIVERY = "https://res.cloudinary.com"
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTR = re.compile(rb"\ssrc\s*=", re.IGNORECASE)
# A Host header we may repeat inside the policy: a name or an address, an optional port.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")

FIXED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"
)


def inline_script_hashes(folder: Path) -> list[str]:
    """`'sha256-…'` of every inline script in the HTML files under `folder` (sorted, unique)."""
    hashes: set[str] = set()
    if not folder.is_dir():
        return []
    for page in folder.rglob("*.html"):
        for attributes, body in _INLINE_SCRIPT.findall(page.read_bytes()):
            if _SRC_ATTR.search(attributes):
                continue
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def content_security_policy(
    host: str | None, script_hashes: Iterable[str], image_hosts: Iterable[str]
) -> str:
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self' 'unsafe-eval'", *script_hashes]),
            "style-src 'self' 'unsafe-inline'",
            " ".join(["img-src 'self' data: blob:", *image_hosts]),
            "font-src 'self' data:",
            f"connect-src 'self'{sockets}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def cloudinary_hosts(cloudinary_url: str) -> list[str]:
    """Where Cloudinary serves the images of this CLOUDINARY_URL (its CDN, or a private one)."""
    if not cloudinary_url:
        return []
    from chat_web.adapters.media.cloudinary import cloudinary_options

    options = cloudinary_options(cloudinary_url)
    hosts = [CLOUDINARY_DELIVERY]
    for name in ("secure_distribution", "cname"):
        value = options.get(name, "").strip().strip("/")
        if value and _HOST.match(value):
            hosts.append(f"https://{value}")
    return hosts


_FIXED_RAW = [(name.encode(), value.encode()) for name, value in FIXED.items()]
_CSP = b"content-security-policy"
_HOSTS_KEPT = 256  # policies kept by Host header; a client picks the header, so the cache is bounded


class SecurityHeaders:
    """The security headers of an answer, as raw ASGI header pairs (the edge adds them).

    The policy depends only on the path (the docs page) and the Host header, so each
    host's header list is built once: the edge adds them to every answer of the process.
    """

    def __init__(
        self,
        image_hosts: Callable[[], list[str]] = list,
        build_dir: Path = BUILD_DIR,
        docs_path: str = "/api/v1/docs",
    ):
        self._image_hosts = image_hosts  # asked once, at the first request (settings load late)
        self._build_dir = build_dir
        self._docs_path = docs_path
        self._policy_parts: tuple[list[str], list[str]] | None = None
        self._by_host: dict[bytes, list[tuple[bytes, bytes]]] = {}
        self._docs = [*_FIXED_RAW, (_CSP, DOCS_POLICY.encode())]

    def _parts(self) -> tuple[list[str], list[str]]:
        if self._policy_parts is None:
            self._policy_parts = (inline_script_hashes(self._build_dir), self._image_hosts())
        return self._policy_parts

    def policy_for(self, path: str, host: bytes) -> str:
        if path == self._docs_path:
            return DOCS_POLICY
        hashes, images = self._parts()
        return content_security_policy(host.decode("latin-1"), hashes, images)

    def for_request(self, path: str, host: bytes) -> list[tuple[bytes, bytes]]:
        """The headers every answer to this request carries (shared: do not change it)."""
        if path == self._docs_path:
            return self._docs
        wanted = self._by_host.get(host)
        if wanted is None:
            if len(self._by_host) >= _HOSTS_KEPT:
                self._by_host.clear()
            policy = self.policy_for(path, host).encode("latin-1")
            wanted = self._by_host[host] = [*_FIXED_RAW, (_CSP, policy)]
        return wanted


def with_headers(headers: Iterable[tuple[bytes, bytes]], wanted: list[tuple[bytes, bytes]]) -> list:
    """`headers` plus each of `wanted` the answer does not set itself (names compared lowercase)."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    return [*headers, *(pair for pair in wanted if pair[0] not in present)]
