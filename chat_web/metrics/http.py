"""HTTP requests counted by route template (`/api/v1/message/{chat_id}`), method and status.

Labels come from the route that served the request, never from the raw path, so a
client cannot mint new series by asking for made-up URLs.
"""

from __future__ import annotations

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_web.metrics import HTTP_REQUESTS

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return "unmatched"
    if isinstance(route, Mount):
        # Reflex's compiled pages are one mount; each page is not worth a series.
        return "frontend" if route.name == "frontend" else (route.path or "/") + "/*"
    return getattr(route, "path", None) or "unmatched"


class HttpMetrics:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless the app answers

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            HTTP_REQUESTS.labels(route_label(scope), method, str(status)).inc()
