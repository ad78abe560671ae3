"""Fan-out over Redis pub/sub: every app process sees the events of the users it serves.

Each process holds ONE pub/sub connection, however many tabs and streams listen:
a topic's Redis channel is subscribed while at least one local reader wants it, and
one reader task hands each message to the local queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError, ResponseError

from chat_web.adapters.fanout.replay import parse_id
from chat_web.adapters.fanout.subscribers import SubscribeBatches, Subscribers
from chat_web.adapters.redis_outage import redis_outages
from chat_web.domain import ServiceUnavailable

log = logging.getLogger(__name__)
_POLL_SECONDS = 1.0
_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
_BUSY_RETRIES = 30  # a socket buffer that stays full this long (about 2 minutes) is not busy

# A replayable event: kept in the topic's stream (trimmed by count and age, the key dropped
# when idle) and published with the id the stream gave it, in one step.
_PUBLISH_REPLAYABLE = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'e', ARGV[1])
redis.call('XTRIM', KEYS[1], 'MINID', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local rest = string.sub(ARGV[1], 2)
local payload
if rest == '}' then payload = '{"id":"' .. id .. '"}' else payload = '{"id":"' .. id .. '",' .. rest end
redis.call('PUBLISH', KEYS[2], payload)
return id
"""


def _unavailable(exc: Exception) -> ServiceUnavailable:
    log.warning("Redis is unavailable: %s: %s", type(exc).__name__, exc)
    return ServiceUnavailable("Redis cannot be reached; try again shortly.")


@redis_outages  # publish: 503 naming Redis, never a 500
class RedisFanOut:
    def __init__(
        self,
        redis: Redis,
        prefix: str = "chat:events:",
        queue_size: int = 1000,
        replay_seconds: float = 600,
        replay_count: int = 1000,
    ):
        self._redis = redis
        self._prefix = prefix
        self._replay_seconds = replay_seconds
        self._replay_count = replay_count
        self._publish_replayable = redis.register_script(_PUBLISH_REPLAYABLE)
        self._subscribers = Subscribers(queue_size)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task | None = None
        self._changing = asyncio.Lock()  # subscribe/unsubscribe commands, one at a time
        self._channels: set[str] = set()  # topics whose SUBSCRIBE went out
        # Topics asked for while a SUBSCRIBE was on its way: the next one carries them all.
        self._batch = SubscribeBatches()

    async def publish(self, topic: str, event: dict[str, Any], replayable: bool = False) -> None:
        if not replayable:
            await self._redis.publish(self._prefix + topic, json.dumps(event))
            return
        horizon_ms = int((time.time() - self._replay_seconds) * 1000)
        await self._publish_replayable(
            keys=[self._stream(topic), self._prefix + topic],
            args=[json.dumps(event), self._replay_count, f"{horizon_ms}-0", int(self._replay_seconds) + 60],
        )

    async def publish_many(
        self, topics: Sequence[str], event: dict[str, Any], replayable: bool = False
    ) -> list[BaseException]:
        # Side by side: each is a round trip to Redis.
        results = await asyncio.gather(
            *(self.publish(topic, event, replayable) for topic in topics), return_exceptions=True
        )
        return [r for r in results if isinstance(r, BaseException)]

    def _stream(self, topic: str) -> str:
        return f"{self._prefix}log:{topic}"

    async def replay(self, topic: str, after: str) -> list[dict[str, Any]] | None:
        wanted = parse_id(after)
        if wanted is None:
            return None
        key = self._stream(topic)
        try:
            info = await self._redis.xinfo_stream(key)
        except ResponseError:
            return None  # no stream: nothing kept for this topic (idle too long, or never)
        last = parse_id(_text(info.get("last-generated-id"))) or (0, 0)
        if wanted >= last:
            return [] if wanted == last else None
        first = info.get("first-entry")
        if not first or wanted < (parse_id(_text(first[0])) or (0, 0)):
            # What came right after `wanted` was trimmed away (or the log started afresh).
            return None
        entries = await self._redis.xrange(key, min=f"({after}", max="+")
        return [{"id": _text(entry_id), **json.loads(fields[b"e"])} for entry_id, fields in entries]

    async def forget(self, topics: Sequence[str]) -> None:
        if topics:
            await self._redis.delete(*(self._stream(topic) for topic in topics))

    @property
    def pubsub_connections(self) -> int:
        """How many Redis pub/sub connections this process holds (0 or 1)."""
        return int(self._pubsub is not None and self._pubsub.connection is not None)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, *topics: str, buffer: int | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Raises ServiceUnavailable if Redis cannot take the subscription now."""
        try:
            with self._subscribers.added(topics, buffer) as events:
                await self._subscribe(topics)
                yield events
        finally:
            await self._unsubscribe_unused(topics)

    async def _subscribe(self, topics: tuple[str, ...]) -> None:
        """Returns once every topic's SUBSCRIBE went out. A burst of new readers shares one
        SUBSCRIBE of many channels instead of queueing one command each."""
        new = [t for t in topics if t not in self._channels]
        if not new:
            return
        waiting = self._batch.join(new)
        if self._batch.needs_sender():
            self._batch.sender = asyncio.create_task(self._send_batches(), name="fanout-subscribe")
        # Shielded: a reader that leaves while its batch is on the way does not cancel it
        # for the others.
        await asyncio.shield(waiting)

    async def _send_batches(self) -> None:
        while self._batch.pending:
            async with self._changing:
                topics, done = self._batch.take()
                try:
                    await self._send_subscribe([t for t in topics if t not in self._channels])
                except ServiceUnavailable as exc:
                    done.set_exception(exc)
                    done.exception()  # retrieved here: every waiter gets it too
                else:
                    self._channels.update(topics)
                    if self._reader is None or self._reader.done():
                        self._reader = asyncio.create_task(self._read(self._pubsub), name="fanout-reader")
                    done.set_result(None)
                finally:
                    self._batch.settled(topics)
            # Readers that left while their SUBSCRIBE was on its way.
            await self._unsubscribe_unused(tuple(topics))

    async def _send_subscribe(self, topics: list[str]) -> None:
        """SUBSCRIBE, tried again with backoff. A full socket buffer (BlockingIOError) is a
        busy moment, not an outage: it never counts towards declaring Redis down."""
        if not topics:
            return
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        failures = busy = 0
        while True:
            try:
                await self._pubsub.subscribe(*(self._prefix + t for t in topics))
                if failures or busy:
                    # A failed write drops the connection (redis-py re-subscribes on the way
                    # back): what was published meanwhile is gone, so the readers that were
                    # already listening catch up from storage. The new ones lost nothing.
                    self._subscribers.resync(self._channels)
                return
            except (RedisError, OSError) as exc:
                if _busy(exc):
                    busy += 1
                    if busy > _BUSY_RETRIES:
                        raise _unavailable(exc) from exc
                else:
                    failures += 1
                    if failures > len(_RETRY_SECONDS):
                        raise _unavailable(exc) from exc
                if failures + busy == 1:
                    log.warning("fan-out: SUBSCRIBE of %d channels failed (%s); retrying", len(topics), exc)
                pause = _RETRY_SECONDS[min(failures + busy, len(_RETRY_SECONDS)) - 1]
                await asyncio.sleep(pause)

    async def _unsubscribe_unused(self, topics: tuple[str, ...]) -> None:
        async with self._changing:
            # Only what nobody here listens to now (someone may have come back meanwhile).
            gone = [t for t in topics if t in self._channels and not self._subscribers.listened(t)]
            if not gone or self._pubsub is None:
                return
            self._channels.difference_update(gone)
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(*(self._prefix + t for t in gone))

    async def _read(self, pubsub: PubSub) -> None:
        failures = 0
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL_SECONDS)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                # redis-py reconnects on the next read and re-subscribes every channel.
                if not failures:
                    log.warning("fan-out: Redis pub/sub lost (%s); reconnecting", exc)
                await asyncio.sleep(_RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)])
                failures += 1
                continue
            if failures:
                # Back after a broken connection: whatever was published meanwhile is gone
                # from pub/sub, so every local reader catches up from storage.
                log.info("fan-out: Redis pub/sub is back; readers resync from storage")
                failures = 0
                self._subscribers.resync_all()
            if message is not None and message.get("type") == "message":
                self._dispatch(message["channel"], message["data"])

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        topic = channel.decode()[len(self._prefix) :]
        try:
            event = json.loads(data)
        except ValueError:
            log.warning("fan-out: dropped a message that is not JSON on %s", topic)
            return
        self._subscribers.deliver(topic, event)

    async def close(self) -> None:
        if self._batch.sender is not None:
            self._batch.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._batch.sender
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
            self._pubsub = None


def _busy(exc: BaseException) -> bool:
    """The socket's send buffer was full (redis-py may wrap it in a ConnectionError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BlockingIOError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
