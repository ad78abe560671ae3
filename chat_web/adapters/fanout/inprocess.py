"""Fan-out inside one process: the embedded default (one app process, no Redis)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from chat_web.adapters.fanout.replay import TopicLog
from chat_web.adapters.fanout.subscribers import Subscribers


class InProcessFanOut:
    def __init__(self, queue_size: int = 1000, replay_seconds: float = 600, replay_count: int = 1000):
        self._subscribers = Subscribers(queue_size)
        self._logs: dict[str, TopicLog] = {}
        self._keep = (replay_seconds, replay_count)

    async def publish(self, topic: str, event: dict[str, Any], replayable: bool = False) -> None:
        if replayable:
            log = self._logs.setdefault(topic, TopicLog(*self._keep))
            event = {"id": log.append(event), **event}
        self._subscribers.deliver(topic, event)

    async def replay(self, topic: str, after: str) -> list[dict[str, Any]] | None:
        log = self._logs.get(topic)
        if log is None:
            # Nothing replayable was published here since this process started.
            return None
        return log.after(after)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, *topics: str, buffer: int | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        with self._subscribers.added(topics, buffer) as events:
            yield events
