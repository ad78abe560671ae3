"""Publish after commit, and never lose the announcement: the send path's outbox relay.

A send stores its message with `announced = false` in the same transaction. The service
then publishes message.new and hands the id here; ids are marked announced in batches
(one write for many sends, off the request path). What was never marked, because the
publish failed or the process died between commit and publish, is found by the sweep
after a grace period and published again. Readers merge by seq, so an event that went
out twice costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import timedelta

from chat_web.domain.events import message_new, user_topic
from chat_web.domain.sending import Sent
from chat_web.ports import Clock, FanOut, MessageRepo

log = logging.getLogger(__name__)

SWEEP_BATCH = 200
MARK_RETRY_MAX = 1_000  # ids carried to the next round when their rows were busy
RECENT_MAX = 10_000  # ids this process published lately, for retries before the batch is marked


async def publish_to(fanout: FanOut, user_ids: Sequence[str], event: dict, replayable: bool = True) -> bool:
    """Tell every user's topic; True if every publish went through (failures are logged:
    the write is stored, readers catch up by seq)."""
    topics = [user_topic(u) for u in dict.fromkeys(user_ids)]
    failed = await fanout.publish_many(topics, event, replayable)
    for failure in failed:
        if isinstance(failure, asyncio.CancelledError):
            raise failure
        log.warning("event %s not published: %s", event.get("type"), failure)
    return not failed


class Announcer:
    def __init__(
        self,
        messages: MessageRepo,
        fanout: FanOut,
        clock: Clock,
        *,
        flush_every: float = 0.2,
        sweep_every: float = 2.0,
        grace: timedelta = timedelta(seconds=5),
        on_announced: Callable[[Sent], None] | None = None,
    ):
        self._messages = messages
        self._fanout = fanout
        self._clock = clock
        self._flush_every = flush_every
        self._sweep_every = sweep_every
        self._grace = grace
        # Told of every message published (Web Push decides from there); must not block.
        self._on_announced = on_announced
        self._done: list[str] = []  # published, not yet marked in storage
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task | None = None

    def announced(self, sent: Sent) -> bool:
        """Whether this message's message.new is known to be out (stored, or by this process)."""
        return sent.announced or sent.message.id in self._recent

    async def announce(self, sent: Sent) -> bool:
        """Publish a stored message's message.new to its chat's members; True if it went out."""
        if await publish_to(self._fanout, sent.member_ids, message_new(sent.message)):
            self._done.append(sent.message.id)
            self._recent[sent.message.id] = None
            if len(self._recent) > RECENT_MAX:
                self._recent.popitem(last=False)
            if self._on_announced is not None:
                self._on_announced(sent)
            return True
        return False

    async def flush(self) -> None:
        """Mark what was published (one storage write for the batch)."""
        if not self._done:
            return
        batch, self._done = self._done, []
        try:
            # Rows a send holds right now are skipped; they wait for the next round. A row
            # that is gone (its chat deleted) comes back too, so the batch is not kept forever.
            left = await self._messages.mark_announced(batch)
            self._done.extend(left[:MARK_RETRY_MAX])
        except Exception:  # noqa: BLE001 - unmarked messages are only announced again
            log.warning("could not mark %d messages announced; the sweep will repeat them", len(batch))

    async def sweep(self) -> int:
        """Announce what stayed unannounced past the grace period; how many went out."""
        await self.flush()
        stale = await self._messages.unannounced(self._clock.now() - self._grace, SWEEP_BATCH)
        published = 0
        for sent in stale:
            published += await self.announce(sent)
        await self.flush()
        return published

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="message-announcer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()  # the first sweep at start: what a dead process left
        while True:
            try:
                if loop.time() >= next_sweep:
                    await self.sweep()
                    next_sweep = loop.time() + self._sweep_every
                else:
                    await self.flush()
            except Exception:  # noqa: BLE001 - storage away: try again on the next round
                log.warning("message announcer: storage not reachable; retrying", exc_info=True)
            await asyncio.sleep(self._flush_every)
