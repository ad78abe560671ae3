"""How many requests one Granian worker keeps open at once.

Granian admits `backpressure` requests per worker at a time, by default its accept backlog
(1024) divided by the workers: 512 each with two. A websocket and an API event stream are
requests that stay open for hours, so that default capped a two-worker server at about a
thousand tabs and streams; one more waited in the queue without an answer (the events
benchmark saw batches of streams never open). Reflex builds the Granian server itself and
takes no such setting, so its server class gets our default before Reflex starts it.
"""

from __future__ import annotations


def allow_open_requests(per_worker: int) -> None:
    """Let each Granian worker hold `per_worker` requests open (idempotent)."""
    import granian.server as server

    base = server.Server
    if getattr(base, "chat_web_open_requests", None) is not None:
        base.chat_web_open_requests = per_worker
        return

    class Server(base):  # type: ignore[misc, valid-type]
        chat_web_open_requests = per_worker

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("backpressure", type(self).chat_web_open_requests)
            kwargs.setdefault("backlog", max(2048, min(type(self).chat_web_open_requests, 65535)))
            super().__init__(*args, **kwargs)

    server.Server = Server
