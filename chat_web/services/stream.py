"""A signed-in API client's live events, as Server-Sent Events frames.

The same events the page applies (one JSON per event, from chat_web.domain.events), in
order: replayable ones (stored writes) carry an `id`, so a client that reconnects with
`Last-Event-ID` first gets exactly what it missed, or one `resync` when that is no longer
kept (then `GET /sync` brings it level). A comment every few seconds keeps proxies from
closing the stream. The stream ends when its client leaves (the caller's `departed()`
returns; one task waits on it, so a quiet stream costs nothing between heartbeats). A
reader too slow to keep up gets `resync` and the stream ends, so a slow reader never slows
anyone down. The stream ends with `session.ended` when its token stops being valid. A
failure once the stream has started ends it with `resync` (the client reconnects and
catches up), never with a broken response. A message event repeated by the fan-out (a
retried or relayed publish) is sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from chat_web.domain import ChatError, RateLimited, User
from chat_web.domain.events import (
    CHAT_CHANGED,
    CHAT_READ,
    MESSAGE_DELETED,
    MESSAGE_EDITED,
    MESSAGE_NEW,
    MESSAGE_REACTED,
    PRESENCE,
    RESYNC,
    SESSION_ENDED,
    TYPING,
    resync,
    session_ended,
    user_topic,
)
from chat_web.ports import FanOut
from chat_web.services.auth import AuthService
from chat_web.services.live import LiveHub
from chat_web.services.repeats import RepeatFilter
from chat_web.services.tokens import token_id

STREAMED = {
    MESSAGE_NEW,
    MESSAGE_EDITED,
    MESSAGE_DELETED,
    MESSAGE_REACTED,
    CHAT_READ,
    CHAT_CHANGED,
    TYPING,
    PRESENCE,
    SESSION_ENDED,
    RESYNC,
}
log = logging.getLogger(__name__)
RETRY_MS = 3000  # how long an EventSource waits before it reconnects
_GONE = object()  # the client left: the stream ends


def sse_frame(event: dict[str, Any]) -> str:
    lines = []
    if "id" in event:
        lines.append(f"id: {event['id']}")
    lines.append(f"event: {event.get('type', 'message')}")
    lines.append("data: " + json.dumps(event, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines) + "\n\n"


def _replace_all(queue: asyncio.Queue, item: object) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(item)


def _id_key(event_id: object) -> tuple[int, int]:
    ms, _, n = str(event_id).partition("-")
    return (int(ms), int(n)) if ms.isdigit() and n.isdigit() else (0, 0)


class EventStreams:
    def __init__(
        self,
        fanout: FanOut,
        live: LiveHub,
        auth: AuthService,
        heartbeat_seconds: float = 15.0,
        buffer: int = 256,
        max_per_user: int = 10,
    ):
        self._fanout = fanout
        self._live = live
        self._auth = auth
        self.heartbeat_seconds = heartbeat_seconds
        self.buffer = buffer
        self.open_streams = 0
        # Streams a user may hold open at once in this process; one more is refused (429).
        self.max_per_user = max_per_user
        self._per_user: dict[str, int] = {}

    async def frames(
        self,
        me: User,
        token: str,
        last_event_id: str | None = None,
        departed: Callable[[], Awaitable[object]] | None = None,
    ) -> AsyncIterator[str]:
        """The stream's frames until the client leaves (`departed()` returns, or fails: then
        nobody can tell whether the client is there), its session ends, or it falls behind.
        A failure before the first frame is raised (the caller can still answer with an error
        status); after it, the stream ends with `resync`."""
        held = self._per_user.get(me.id, 0)
        if held >= self.max_per_user:
            raise RateLimited(
                f"You have {held} event streams open; close one first (at most {self.max_per_user}).",
                retry_after=RETRY_MS // 1000,
            )
        self._per_user[me.id] = held + 1  # counted before the first await: no race past the cap
        started = False
        try:
            async with contextlib.aclosing(self._frames(me, token, last_event_id, departed)) as inner:
                try:
                    async for frame in inner:
                        started = True
                        yield frame
                except Exception as exc:
                    if not started:
                        raise
                    # Headers are sent: an error status is no longer possible, and a response cut
                    # mid-stream looks like a network fault. resync says "reconnect and catch up".
                    if isinstance(exc, ChatError):
                        log.warning("event stream ended by a failure: %s", exc.message)
                    else:
                        log.exception("event stream ended by a failure")
                    yield sse_frame(resync())
        finally:
            left = self._per_user.pop(me.id, 1) - 1
            if left > 0:
                self._per_user[me.id] = left

    def streams_of(self, user_id: str) -> int:
        """Streams this user holds open in this process."""
        return self._per_user.get(user_id, 0)

    async def _frames(
        self,
        me: User,
        token: str,
        last_event_id: str | None,
        departed: Callable[[], Awaitable[object]] | None,
    ) -> AsyncIterator[str]:
        repeats = RepeatFilter()
        topic = user_topic(me.id)
        holder = f"stream:{uuid.uuid4().hex}"
        async with self._fanout.subscribe(topic, buffer=self.buffer) as events:
            # Subscribed first, replayed second: nothing falls between the two.
            self.open_streams += 1
            await self._live.hold_presence(holder, me.id)
            heartbeats = self._with_heartbeats(events, departed)
            try:
                yield f"retry: {RETRY_MS}\n\n"
                newest = (0, 0)
                if last_event_id:
                    missed = await self._fanout.replay(topic, last_event_id)
                    if missed is None:
                        yield sse_frame(resync())
                    else:
                        for event in missed:
                            newest = max(newest, _id_key(event["id"]))
                            if repeats.first_time(event):
                                yield sse_frame(event)
                async for event in heartbeats:
                    if event is None:
                        yield ": ping\n\n"
                        if not await self._still_signed_in(token):
                            yield sse_frame(session_ended(token_id=token_id(token)))
                            return
                        continue
                    kind = event.get("type")
                    if kind not in STREAMED:
                        continue
                    if "id" in event:
                        key = _id_key(event["id"])
                        if key <= newest:
                            continue  # already sent by the replay
                        newest = key
                    if not repeats.first_time(event):
                        continue  # published again (a retry, a relay): the client has it
                    yield sse_frame(event)
                    if kind == RESYNC:
                        return  # fell behind (or the fan-out lost events): reconnect and replay
                    if kind == SESSION_ENDED and self._ends(event, token):
                        return
            finally:
                # Closed here, not when collected: its departure watch stops waiting on the
                # connection before the response ends.
                await heartbeats.aclose()
                self.open_streams -= 1
                await self._live.release_presence(holder)

    async def _with_heartbeats(
        self, events: AsyncIterator[dict[str, Any]], departed: Callable[[], Awaitable[object]] | None
    ) -> AsyncIterator[Any]:
        """The events, with None whenever none came for a heartbeat period, until the client
        leaves. Nothing here wakes between events but the heartbeat's timer: one task waits for
        the departure and ends the wait. Bounded: a reader `buffer` events behind gets `resync`
        instead of a growing backlog."""
        waiting: asyncio.Queue = asyncio.Queue(self.buffer)

        async def pump() -> None:
            async for event in events:
                try:
                    waiting.put_nowait(event)
                except asyncio.QueueFull:
                    _replace_all(waiting, resync())
                    return

        async def watch(departed: Callable[[], Awaitable[object]]) -> None:
            try:
                await departed()
            except Exception:
                log.info("event stream ended: its client's connection cannot be watched", exc_info=True)
            _replace_all(waiting, _GONE)  # what is still queued has nobody to go to

        tasks = [asyncio.create_task(pump())]
        if departed is not None:
            tasks.append(asyncio.create_task(watch(departed)))
        try:
            while True:
                try:
                    # A random 75-100 % of the period: streams opened together (a deploy,
                    # a reconnect wave) would otherwise ping, and check their token, together.
                    async with asyncio.timeout(self.heartbeat_seconds * random.uniform(0.75, 1.0)):
                        event = await waiting.get()
                except TimeoutError:
                    yield None
                    continue
                if event is _GONE:
                    return
                yield event
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)  # stopped, not only asked to: the watch holds a receive

    async def _still_signed_in(self, token: str) -> bool:
        try:
            await self._auth.user_for_token(token)
        except ChatError as exc:
            return exc.status_code != 401  # a store that is away is not a sign-out
        return True

    def _ends(self, event: dict[str, Any], token: str) -> bool:
        if event.get("tokenId") == token_id(token):
            return True
        version = event.get("version")
        if isinstance(version, int):
            try:
                return self._auth.token_version(token) < version
            except ChatError:
                return True
        return False
