"""The HTTP side of an event stream: noticing that its client left, and the response itself.

One task per stream waits on the ASGI receive channel for `http.disconnect` (`departure`);
the frame iterator ends itself when it comes (EventStreams' `departed`), so its cleanup
(unsubscribing, releasing presence) runs in full instead of under a cancellation.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def departure(receive: Receive) -> None:
    """Returns once the client has gone. A GET's (empty) body comes first; after it, the
    server answers the next receive only when the connection ends, so this waits for free."""
    while (await receive())["type"] != "http.disconnect":
        pass


class EventStreamResponse(StreamingResponse):
    """Frames until the iterator ends; the iterator watches for the client's departure itself.

    Starlette's StreamingResponse listens for the disconnect on its own when the server
    reports ASGI spec < 2.4 (Granian says 2.3) and then cancels the iterator; at 2.4 it
    notices only at its next write. Either way a second waiter, or a late one: this response
    does not listen, and it closes the iterator whatever ends the response.
    """

    def __init__(
        self,
        frames: AsyncGenerator[str, None],
        status_code: int = 200,  # FastAPI reads its default for the OpenAPI document
        headers: Mapping[str, str] | None = None,
    ):
        # The media type is given here, not as a class attribute: FastAPI would document the
        # route's JSON errors as event streams too.
        super().__init__(frames, status_code, {**SSE_HEADERS, **(headers or {})}, "text/event-stream")
        self._frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with contextlib.aclosing(self._frames):
            with contextlib.suppress(OSError):  # the client left while a frame was on its way
                await self.stream_response(send)
