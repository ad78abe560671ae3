"""Refuse oversized request bodies under /api with a JSON 413, before reading them whole,
and bodies that arrive too slowly with a 408 (SlowBodyTimeout).

Uploads (multipart bodies to the paths in `uploads`) get their own, larger limit and message:
the image limit, counted as the bytes arrive, so a 6 MB image is refused at its 5th MB.

A request that has no body gets the server's `receive` untouched: an event stream waits on
it for its whole life, and there is nothing to count or time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
SLOW_BODY = "The request body arrived too slowly; send it again on a faster connection."
_HTTP1 = {"1.0", "1.1"}


def has_no_body(scope: Scope) -> bool:
    """An HTTP/1 request without Transfer-Encoding and without a Content-Length above 0 has no
    body: the server reads none (RFC 9112, 6.3). HTTP/2 and 3 may send a body without
    declaring its length, so theirs is always watched."""
    if scope.get("http_version") not in _HTTP1:
        return False
    lengths = []
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return False
        if name == b"content-length":
            lengths.append(value)
    return all(value.strip() == b"0" for value in lengths)


class ApiBodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        prefix: str = "/api/",
        uploads: dict[str, Callable[[], tuple[int, str]]] | None = None,
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix
        self.detail = f"The request body is larger than {max_bytes:,} bytes."
        self.uploads = uploads or {}  # path -> (limit, message), asked per request (settings load late)

    def _limit(self, scope: Scope) -> tuple[int, str]:
        upload = self.uploads.get(scope["path"])
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if upload is not None and content_type.lower().startswith(b"multipart/form-data"):
            return upload()
        return self.max_bytes, self.detail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only the API: the Reflex app mounted below has its own upload handling.
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix) or has_no_body(scope):
            await self.app(scope, receive, send)
            return
        max_bytes, detail = self._limit(scope)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > max_bytes:
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:  # chunked bodies declare no length
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, limited_receive, send)


class SlowBodyTimeout:
    """Refuse a request body that arrives slower than `min_rate()` bytes a second (408, and the
    connection closes), after a grace of `grace()` seconds.

    A rate, not a total time: a 25 MB image on a slow line is fine as long as it keeps coming.
    Only the time spent waiting for the client counts (the allowance is the grace plus one
    second per `min_rate` bytes received), so an app that is slow to read never trips it.
    Once the body is complete, `receive` only passes the server's answers on.
    """

    def __init__(
        self,
        app: ASGIApp,
        min_rate: Callable[[], int],
        grace: Callable[[], float],
        prefix: str = "/api/",
    ):
        self.app = app
        self._min_rate = min_rate  # asked per request: the settings load after the app is built
        self._grace = grace
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix) or has_no_body(scope):
            await self.app(scope, receive, send)
            return
        min_rate, grace = self._min_rate(), self._grace()
        clock = asyncio.get_running_loop().time
        received, waited, complete = 0, 0.0, False

        async def timed_receive() -> Message:
            nonlocal received, waited, complete
            if complete:
                return await receive()
            allowance = grace + received / min_rate - waited
            started = clock()
            try:
                message = await asyncio.wait_for(receive(), max(allowance, 0.001))
            except TimeoutError:
                complete = True
                log.info(
                    "request body too slow on %s: %d bytes in %.1f s (under %d bytes/s); answered 408",
                    scope["path"], received, waited + clock() - started, min_rate,
                )  # fmt: skip
                raise HTTPException(408, SLOW_BODY, headers={"Connection": "close"}) from None
            waited += clock() - started
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            else:
                complete = True  # http.disconnect
            return message

        await self.app(scope, timed_receive, send)
