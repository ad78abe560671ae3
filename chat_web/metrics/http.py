"""HTTP requests counted by route template (`/api/v1/message/{chat_id}`), method and status.

Labels come from the route that served the request, never from the raw path, so a
client cannot mint new series by asking for made-up URLs.
"""

from __future__ import annotations

from starlette.routing import Mount
from starlette.types import Scope

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


class RequestCounter:
    """Counts an answered request; the labelled child of each (route, method, status) is kept,
    since finding it again cost a lock and a lookup per request. Routes are templates and
    methods and statuses few, so the children are few."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], object] = {}

    def note(self, scope: Scope, status: int) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "other"
        key = (route_label(scope), method, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = HTTP_REQUESTS.labels(key[0], method, str(status))
        child.inc()
