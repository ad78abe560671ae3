"""Fan-out inside one process: the embedded default (one app process, no Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)


class InProcessFanOut:
    def __init__(self, queue_size: int = 1000):
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                # A stalled reader loses its oldest events; it catches up from storage by seq.
                queue.get_nowait()
                log.warning("fan-out queue full on %s: dropped the oldest event", topic)
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue = asyncio.Queue(self._queue_size)
        for topic in topics:
            self._subscribers[topic].add(queue)

        async def events() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            for topic in topics:
                self._subscribers[topic].discard(queue)
                if not self._subscribers[topic]:
                    del self._subscribers[topic]
