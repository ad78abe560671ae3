"""Refuse oversized request bodies under /api with a JSON 413, before reading them whole.

Uploads (multipart bodies to the paths in `uploads`) get their own, larger limit and message:
the image limit, counted as the bytes arrive, so a 6 MB image is refused at its 5th MB.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
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
