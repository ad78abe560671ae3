"""The local side of a fan-out: which queues of this process listen to which topics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from chat_web.domain.events import resync

log = logging.getLogger(__name__)


class Subscribers:
    def __init__(self, queue_size: int = 1000):
        self._queue_size = queue_size
        self._by_topic: dict[str, set[asyncio.Queue]] = defaultdict(set)

    @property
    def topics(self) -> list[str]:
        return list(self._by_topic)

    def deliver(self, topic: str, event: dict[str, Any]) -> None:
        for queue in list(self._by_topic.get(topic, ())):
            _put(queue, event)

    def resync_all(self) -> None:
        """Events may have been lost (a broken connection): every reader catches up from storage."""
        self.resync(self._by_topic)

    def resync(self, topics: Iterable[str]) -> None:
        """Events of these topics may have been lost: their readers catch up (once each)."""
        queues = {q for topic in topics for q in self._by_topic.get(topic, ())}
        for queue in queues:
            _put(queue, resync())

    @contextlib.contextmanager
    def added(
        self, topics: Iterable[str], buffer: int | None = None
    ) -> Iterator[AsyncIterator[dict[str, Any]]]:
        """A new queue on these topics (of `buffer` events at most), for the life of the block."""
        topics = list(dict.fromkeys(topics))
        queue: asyncio.Queue = asyncio.Queue(buffer or self._queue_size)
        for topic in topics:
            self._by_topic[topic].add(queue)

        async def events() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            for topic in topics:
                group = self._by_topic.get(topic)
                if group is not None:
                    group.discard(queue)
                    if not group:
                        del self._by_topic[topic]

    def listened(self, topic: str) -> bool:
        return bool(self._by_topic.get(topic))


def _put(queue: asyncio.Queue, event: dict[str, Any]) -> None:
    if queue.full():
        # A stalled reader: rather than losing events silently, it is told to catch up
        # from storage by seq, which loses nothing.
        while not queue.empty():
            queue.get_nowait()
        log.warning("fan-out queue full: its reader resyncs from storage")
        queue.put_nowait(resync())
        if event.get("type") == "resync":
            return
    queue.put_nowait(event)


class SubscribeBatches:
    """Topics waiting for their SUBSCRIBE, gathered into batches: while one command is on its
    way, every topic asked for joins the next one, so a burst of readers costs a few commands
    of many channels each (one command per reader filled the socket and broke the connection)."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self._next: asyncio.Future | None = None
        self._waiting: dict[str, asyncio.Future] = {}  # topic -> its batch (pending or on its way)
        self.sender: asyncio.Task | None = None

    def join(self, topics: Iterable[str]) -> asyncio.Future:
        """The future of the batch(es) that will subscribe these topics (done when all are)."""
        batches = []
        for topic in topics:
            batch = self._waiting.get(topic)
            if batch is None:
                if self._next is None:
                    self._next = asyncio.get_running_loop().create_future()
                batch = self._waiting[topic] = self._next
                self.pending.append(topic)
            batches.append(batch)
        unique = list(dict.fromkeys(batches))
        return unique[0] if len(unique) == 1 else asyncio.ensure_future(_all(unique))

    def needs_sender(self) -> bool:
        return bool(self.pending) and (self.sender is None or self.sender.done())

    def take(self) -> tuple[list[str], asyncio.Future]:
        """The next batch to send (and its future); new topics start another one."""
        topics, done = self.pending, self._next
        self.pending, self._next = [], None
        return topics, done

    def settled(self, topics: Iterable[str]) -> None:
        for topic in topics:
            self._waiting.pop(topic, None)


async def _all(batches: list[asyncio.Future]) -> None:
    for batch in batches:
        await asyncio.shield(batch)
