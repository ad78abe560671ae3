"""Fan-out inside one process: the embedded default (one app process, no Redis)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from chat_web.adapters.fanout.subscribers import Subscribers


class InProcessFanOut:
    def __init__(self, queue_size: int = 1000):
        self._subscribers = Subscribers(queue_size)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        self._subscribers.deliver(topic, event)

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        with self._subscribers.added(topics) as events:
            yield events
