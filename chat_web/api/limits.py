"""Request bodies under /api: refused with a JSON 413 when oversized, before they are read whole,
and with a 408 when they arrive too slowly. The edge (chat_web/api/edge.py) applies both.

Uploads (multipart bodies to the paths in `uploads`) get their own, larger limit and message:
the image limit, counted as the bytes arrive, so a 6 MB image is refused at its 5th MB.

The rate, not a total time: a body must keep coming at `min_rate` bytes a second after a
grace of `grace` seconds, so a 25 MB image on a slow line is fine as long as it keeps coming.
Only the time spent waiting for the client counts (the allowance is the grace plus one second
per `min_rate` bytes received), so an app that is slow to read never trips it. Once the body
is complete, `receive` is the server's own again (a stream waits on it for the client to go).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import Message, Receive, Scope

log = logging.getLogger(__name__)
SLOW_BODY = "The request body arrived too slowly; send it again on a faster connection."
_MULTIPART = b"multipart/form-data"
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


class BodyLimit:
    """How large a request body may be, by path and content type."""

    def __init__(self, max_bytes: int, uploads: dict[str, Callable[[], tuple[int, str]]] | None = None):
        self.max_bytes = max_bytes
        self.detail = f"The request body is larger than {max_bytes:,} bytes."
        self.uploads = uploads or {}  # path -> (limit, message), asked per upload (settings load late)

    def of(self, path: str, content_type: bytes) -> tuple[int, str]:
        upload = self.uploads.get(path)
        if upload is not None and content_type.lower().startswith(_MULTIPART):
            return upload()
        return self.max_bytes, self.detail


def guarded_receive(
    receive: Receive, path: str, max_bytes: int, detail: str, min_rate: int, grace: float
) -> Receive:
    """`receive` for a request with a body: counted against `max_bytes` (chunked bodies declare
    no length) and timed against `min_rate` bytes a second after `grace` seconds."""
    clock = asyncio.get_running_loop().time
    received, waited, complete = 0, 0.0, False

    async def body_receive() -> Message:
        nonlocal received, waited, complete
        if complete:
            return await receive()
        allowance = grace + received / min_rate - waited
        started = clock()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for starts a task per call.
            async with asyncio.timeout(max(allowance, 0.001)):
                message = await receive()
        except TimeoutError:
            complete = True
            log.info(
                "request body too slow on %s: %d bytes in %.1f s (under %d bytes/s); answered 408",
                path, received, waited + clock() - started, min_rate,
            )  # fmt: skip
            raise HTTPException(408, SLOW_BODY, headers={"Connection": "close"}) from None
        waited += clock() - started
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            complete = not message.get("more_body", False)
            if received > max_bytes:
                raise HTTPException(413, detail)
        else:
            complete = True  # http.disconnect
        return message

    return body_receive
