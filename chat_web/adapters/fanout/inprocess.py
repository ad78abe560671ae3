"""Fan-out inside one process: the embedded default (one app process, no Redis)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from chat_web.adapters.fanout.replay import ReplayLogs
from chat_web.adapters.fanout.subscribers import Subscribers


class InProcessFanOut:
    def __init__(
        self,
        queue_size: int = 1000,
        replay_seconds: float = 600,
        replay_count: int = 1000,
        clock: Callable[[], float] = time.time,
    ):
        self._subscribers = Subscribers(queue_size)
        self._logs = ReplayLogs(replay_seconds, replay_count, clock)

    async def publish(self, topic: str, event: dict[str, Any], replayable: bool = False) -> None:
        if replayable:
            event = {"id": self._logs.append(topic, event), **event}
        self._subscribers.deliver(topic, event)

    async def publish_many(
        self, topics: Sequence[str], event: dict[str, Any], replayable: bool = False
    ) -> list[BaseException]:
        # One after the other: nothing here waits, and a task per topic (gather) cost ~10 us
        # each and a turn of the event loop before the send could answer.
        failed = []
        for topic in topics:
            try:
                await self.publish(topic, event, replayable)
            except Exception as exc:  # noqa: BLE001 - the caller logs it; the others still go out
                failed.append(exc)
        return failed

    async def replay(self, topic: str, after: str) -> list[dict[str, Any]] | None:
        return self._logs.after(topic, after)

    async def forget(self, topics: Sequence[str]) -> None:
        for topic in topics:
            self._logs.drop(topic)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, *topics: str, buffer: int | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        with self._subscribers.added(topics, buffer) as events:
            yield events
