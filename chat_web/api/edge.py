"""The one ASGI layer every request of the process passes (the Reflex app is mounted below it).

What it does, by request:
* every HTTP answer: the security headers (chat_web/api/headers.py), and a count by route
  template, method and status (chat_web/metrics/http.py);
* an /api request with a body: its size limit and its minimum rate (chat_web/api/limits.py);
* a websocket: the cap of sockets per client address (chat_web/api/sockets.py).

One layer instead of five middlewares: each wrapped `send` (and `receive`) is a coroutine
call on every message of every request, and each read the settings and parsed the headers
again (profiled: about a tenth of the API's busy time). A bodiless GET gets no receive wrapper
at all; the headers are built once per Host; the settings are read once, at the first request
(they load after the app is built).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_web.api.headers import SecurityHeaders, with_headers
from chat_web.api.limits import BodyLimit, guarded_receive, has_no_body
from chat_web.api.sockets import SocketCap
from chat_web.metrics.http import RequestCounter


@dataclass(frozen=True)
class EdgeSettings:
    min_body_rate: int  # bytes a second a request body must keep coming at (BODY_MIN_BYTES_PER_SECOND)
    body_grace: float  # seconds before the rate counts (BODY_GRACE_SECONDS)
    sockets_per_client: int  # LIMIT_SOCKETS_PER_CLIENT
    proxy_hops: int  # TRUSTED_PROXY_HOPS


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        settings: Callable[[], EdgeSettings],
        body_limit: BodyLimit,
        headers: SecurityHeaders,
        prefix: str = "/api/",
    ):
        self.app = app
        self._load_settings = settings
        self._settings: EdgeSettings | None = None
        self.body_limit = body_limit
        self.headers = headers
        self.prefix = prefix
        self.sockets = SocketCap()
        self.requests = RequestCounter()

    @property
    def settings(self) -> EdgeSettings:
        if self._settings is None:
            self._settings = self._load_settings()
        return self._settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            settings = self.settings
            await self.sockets.serve(
                self.app, scope, receive, send, settings.sockets_per_client, settings.proxy_hops
            )
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = length = content_type = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
        path = scope["path"]
        extra = self.headers.for_request(path, host)
        status = 500  # unless the app answers

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_headers(message.get("headers", ()), extra)
            await send(message)

        try:
            # A bodiless request keeps the server's own `receive`: an event stream waits on it
            # for hours, for the client to leave.
            if path.startswith(self.prefix) and not has_no_body(scope):
                max_bytes, detail = self.body_limit.of(path, content_type)
                if length.isdigit() and int(length) > max_bytes:
                    await JSONResponse({"detail": detail}, status_code=413)(scope, receive, edge_send)
                    return
                settings = self.settings
                receive = guarded_receive(
                    receive, path, max_bytes, detail, settings.min_body_rate, settings.body_grace
                )
            await self.app(scope, receive, edge_send)
        finally:
            self.requests.note(scope, status)
