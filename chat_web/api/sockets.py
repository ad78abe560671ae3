"""Websockets open at once from one client address, capped (LIMIT_SOCKETS_PER_CLIENT).

Every socket holds a Socket.IO session and, once it hydrates, a tab's state tree: a client
that opens a thousand of them costs the process a hundred megabytes and more. One address
may hold this many at once in this process; beyond it the upgrade is refused (HTTP 403,
before the socket is accepted or any state is made), and a closed socket frees its place.
The address is the one the outermost trusted proxy saw (TRUSTED_PROXY_HOPS), the same rule
as the per-address limits of the API and the pages.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)
POLICY_VIOLATION = 1008  # websocket close code: refused by policy
_WARN_EVERY = 60.0  # seconds between two log lines about the same address


def client_address(scope: Scope, proxy_hops: int) -> str | None:
    """The caller's address: behind `proxy_hops` trusted proxies, the one the outermost saw
    (from X-Forwarded-For); otherwise the peer's, since a client may write any X-Forwarded-For."""
    if proxy_hops:
        headers = dict(scope.get("headers") or [])
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
        hops = [ip.strip() for ip in forwarded.split(",") if ip.strip()]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    client = scope.get("client")
    return client[0] if client else None


class SocketCap:
    """Open websockets per client address; the edge asks before each upgrade."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._warned: dict[str, float] = {}

    def open_from(self, address: str) -> int:
        return self._open.get(address, 0)

    async def serve(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int, hops: int
    ) -> None:
        """Run the socket through `app`, or refuse it when its address holds `limit` already."""
        address = client_address(scope, hops) or "unknown"
        held = self._open.get(address, 0)
        if held >= limit:
            self._note_refusal(address, limit)
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
            return
        self._open[address] = held + 1  # counted before the first await: no race past the cap
        try:
            await app(scope, receive, send)
        finally:
            left = self._open.pop(address, 1) - 1
            if left > 0:
                self._open[address] = left

    def _note_refusal(self, address: str, limit: int) -> None:
        now = time.monotonic()
        if now - self._warned.get(address, -_WARN_EVERY) < _WARN_EVERY:
            return
        if len(self._warned) > 10_000:
            self._warned.clear()
        self._warned[address] = now
        log.warning(
            "websocket refused: %s already holds %d sockets (LIMIT_SOCKETS_PER_CLIENT)", address, limit
        )
