"""Live delivery: the events of every user whose tabs are connected to this process.

One fan-out subscription per user with tabs here (the Redis adapter carries all of
them on one connection); each event goes to every tab of that user, in order. The
hub also notices tabs whose socket went away (the UI framework has no hook for it),
keeps the presence lease of each live tab, and settles who went offline.

Every queue here has a bound: a user whose tabs fall that far behind, a tab whose
delivery fails, and every tab after the fan-out reconnects catch up from storage
instead (a `resync`), spread over a short window so storage is not hit all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chat_web.domain import ChatError
from chat_web.domain.events import CHAT_READ, MESSAGE_NEW, PRESENCE, RESYNC, resync, user_topic
from chat_web.ports import Clock, FanOut, TabGateway
from chat_web.services.presence import PresenceService

log = logging.getLogger(__name__)

_SUBSCRIBE_RETRY = (0.5, 1.0, 2.0, 5.0)
BATCH_MAX = 100  # events applied to a tab in one state update
ECHOES_MAX = 50  # a tab's own sends and reads still on their way back
QUEUE_MAX = 1000  # events waiting for one user's tabs; past that they resync from storage
RESYNC_SPREAD = 2.0  # seconds: resyncs due at the same moment are spread over this window


@dataclass
class _UserStream:
    user_id: str
    tabs: set[str] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None  # follows the user's topic
    behind: set[str] = field(default_factory=set)  # tabs that must catch up from storage
    resyncing: asyncio.Task | None = None  # tells the tabs behind to catch up, a little later


class LiveHub:
    def __init__(
        self,
        fanout: FanOut,
        presence: PresenceService,
        clock: Clock,
        tabs: TabGateway | None = None,
        sweep_every: float = 2.0,
        queue_max: int = QUEUE_MAX,
        resync_spread: float = RESYNC_SPREAD,
        rng: random.Random | None = None,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self._fanout = fanout
        self._presence = presence
        self._clock = clock
        self._tabs = tabs
        self._sweep_every = sweep_every
        self._queue_max = max(2, queue_max)  # room for a resync and the event after it
        self._resync_spread = resync_spread
        self._rng = rng or random.Random()
        self._pause = pause  # how a resync waits for its turn (tests watch the schedule)
        self._user_of: dict[str, str] = {}  # tab -> user
        self._streams: dict[str, _UserStream] = {}  # user -> their tabs here
        self._leaving: dict[str, datetime] = {}  # user -> when their last tab here left
        self._watching: dict[str, set[str]] = {}  # tab -> users whose presence it shows
        self._echoes: dict[str, deque[tuple]] = {}  # tab -> events it has applied already
        self._held: dict[str, str] = {}  # API event stream -> its user (presence only)
        self._holding: Counter[str] = (
            Counter()
        )  # user -> their streams in _held (5,000 leaving at once: no scan each)
        self._sweeper: asyncio.Task | None = None

    def bind(self, tabs: TabGateway) -> None:
        self._tabs = tabs

    @property
    def tab_count(self) -> int:
        return len(self._user_of)

    def user_of(self, tab: str) -> str | None:
        return self._user_of.get(tab)

    # --- tabs -----------------------------------------------------------------------------------

    async def attach(self, tab: str, user_id: str, wait: float = 5.0) -> bool:
        """Follow this tab's user from now on. True if the tab was not followed here already:
        it may have missed events and must catch up from storage."""
        if self._user_of.get(tab) == user_id:
            return False
        if tab in self._user_of:
            await self.detach(tab)
        self._ensure_sweeper()
        self._user_of[tab] = user_id
        self._leaving.pop(user_id, None)
        stream = self._streams.get(user_id)
        if stream is None:
            stream = self._streams[user_id] = _UserStream(user_id)
            stream.task = asyncio.create_task(self._follow(user_id, stream), name=f"live:{user_id}")
        stream.tabs.add(tab)
        # Storage is read after this returns: wait until no event can fall between the two.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stream.ready.wait(), wait)
        await self._renew([(user_id, tab)])
        return True

    async def detach(self, tab: str) -> None:
        self._watching.pop(tab, None)
        self._echoes.pop(tab, None)
        user_id = self._user_of.pop(tab, None)
        if user_id is None:
            return
        stream = self._streams.get(user_id)
        if stream is not None:
            stream.tabs.discard(tab)
            stream.behind.discard(tab)
            if not stream.tabs:
                del self._streams[user_id]
                # A task of this stream detaching its last tab ends by itself once it sees the
                # stream gone: cancelling it here would cut off the lease renewal just below.
                _cancel_unless_current(stream.task)
                _cancel_unless_current(stream.resyncing)
                if not self._holding[user_id]:
                    # The grace period starts now: a reload within it does not flicker offline.
                    self._leaving[user_id] = self._clock.now()
        await self._renew([(user_id, tab)])

    async def hold_presence(self, holder: str, user_id: str) -> None:
        """An API client's event stream keeps its user online, like a tab (no delivery: the
        stream reads the fan-out itself)."""
        self._ensure_sweeper()
        previous = self._held.get(holder)
        if previous is not None:
            self._drop_holding(previous)
        self._held[holder] = user_id
        self._holding[user_id] += 1
        self._leaving.pop(user_id, None)
        await self._renew([(user_id, holder)])

    async def release_presence(self, holder: str) -> None:
        user_id = self._held.pop(holder, None)
        if user_id is None:
            return
        self._drop_holding(user_id)
        if user_id not in self._streams and not self._holding[user_id]:
            self._leaving[user_id] = self._clock.now()
        await self._renew([(user_id, holder)])

    # --- events ---------------------------------------------------------------------------------

    async def _follow(self, user_id: str, stream: _UserStream) -> None:
        failures = 0
        while self._streams.get(user_id) is stream:
            try:
                async with self._fanout.subscribe(user_topic(user_id)) as events:
                    stream.ready.set()
                    if failures:
                        # Events published while we could not listen are lost: catch up.
                        self._resync_later(stream, stream.tabs)
                        failures = 0
                    await self._deliver_in_batches(stream, events)
            except ChatError as exc:
                delay = _SUBSCRIBE_RETRY[min(failures, len(_SUBSCRIBE_RETRY) - 1)]
                if not failures:
                    log.warning("live events of %s paused: %s", user_id, exc.message)
                failures += 1
                stream.ready.set()  # the tab works from storage meanwhile
                await asyncio.sleep(delay)

    async def _deliver_in_batches(self, stream: _UserStream, events: AsyncIterator[dict[str, Any]]) -> None:
        """Whatever arrived while the previous delivery ran goes to the tabs in one update:
        under load, a tab's state is locked and written once per batch, not once per event.
        Returns once the stream has no tab left."""
        waiting: asyncio.Queue = asyncio.Queue(self._queue_max)

        async def pump() -> None:
            async for event in events:
                _enqueue(waiting, event, stream.user_id)

        pumping = asyncio.create_task(pump())
        try:
            while self._streams.get(stream.user_id) is stream:
                batch = [await waiting.get()]
                while not waiting.empty() and len(batch) < BATCH_MAX:
                    batch.append(waiting.get_nowait())
                await self._deliver(stream, batch)
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping

    async def _deliver(self, stream: _UserStream, events: list[dict[str, Any]]) -> None:
        if self._tabs is None:
            return
        if any(event.get("type") == RESYNC for event in events):
            # Events may be lost before this point: every tab catches up, in its turn.
            self._resync_later(stream, stream.tabs)
            events = [event for event in events if event.get("type") != RESYNC]
        deliveries = {tab: wanted for tab in list(stream.tabs) if (wanted := self._relevant(tab, events))}
        failed = await self._hand_over(stream, deliveries)
        self._resync_later(stream, failed)

    async def _hand_over(self, stream: _UserStream, deliveries: dict[str, list[dict[str, Any]]]) -> set[str]:
        """Deliver to each tab; the tabs whose delivery failed (they must resync)."""
        if self._tabs is None or not deliveries:
            return set()
        results = await asyncio.gather(
            *(self._tabs.deliver(tab, stream.user_id, wanted) for tab, wanted in deliveries.items()),
            return_exceptions=True,
        )
        failed = set()
        for tab, result in zip(deliveries, results, strict=True):
            if isinstance(result, Exception):
                # Not the tab's token: whoever holds one can reach that tab's state.
                log.warning("a live event for one of %s's tabs not applied: %r", stream.user_id, result)
                failed.add(tab)
            elif result is False:
                await self.detach(tab)
        return failed

    def _resync_later(self, stream: _UserStream, tabs: Iterable[str]) -> None:
        """These tabs catch up from storage after a random pause within the spread: after a
        reconnect every stream of the process asks at once, and storage would get them all."""
        stream.behind.update(tabs)
        if not stream.behind or self._streams.get(stream.user_id) is not stream:
            return
        if stream.resyncing is None or stream.resyncing.done():
            name = f"resync:{stream.user_id}"
            stream.resyncing = asyncio.create_task(self._resync_behind(stream), name=name)

    async def _resync_behind(self, stream: _UserStream) -> None:
        # A tab whose resync fails too stays behind and is tried again after another pause;
        # one that has gone is dropped by detach (or by the sweep, once its socket left).
        while stream.behind and self._streams.get(stream.user_id) is stream:
            await self._pause(self._rng.uniform(0, self._resync_spread))
            tabs, stream.behind = stream.behind & stream.tabs, set()
            stream.behind |= await self._hand_over(stream, {tab: [resync()] for tab in tabs})

    def resync_tab(self, tab: str) -> None:
        """This tab's saved page state fell behind what it showed (the UI framework lost a
        write): it catches up from storage, like a tab whose delivery failed."""
        user_id = self._user_of.get(tab)
        stream = self._streams.get(user_id) if user_id is not None else None
        if stream is not None:
            self._resync_later(stream, {tab})

    def watch(self, tab: str, user_ids: Iterable[str]) -> None:
        """The people whose presence this tab shows: news about anyone else is not worth
        waking its state for (a user with many contacts coming online would otherwise
        touch every contact's every tab)."""
        self._watching[tab] = set(user_ids)

    def expect_echo(self, tab: str, key: tuple) -> None:
        """This tab applies this send or read itself (`message_echo`, `read_echo`): when the
        fan-out brings the event back, it is not worth waking the tab's state for."""
        self._echoes.setdefault(tab, deque(maxlen=ECHOES_MAX)).append(key)

    def _relevant(self, tab: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        watching = self._watching.get(tab)
        echoes = self._echoes.get(tab)
        wanted = []
        for event in events:
            if watching is not None and event.get("type") == PRESENCE and event.get("userId") not in watching:
                continue
            if echoes and (key := _echo_key(event)) in echoes:
                echoes.remove(key)
                continue
            wanted.append(event)
        return wanted

    # --- liveness and presence ------------------------------------------------------------------

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="live-sweeper")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every)
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - the sweeper must outlive any one failure
                log.exception("live sweep failed")

    async def sweep(self) -> None:
        """Drop tabs whose socket left; renew the leases of the others; settle who left."""
        if self._tabs is not None:
            for tab in [t for t in self._user_of if not self._tabs.connected(t)]:
                await self.detach(tab)
        holders = [*self._user_of.items(), *self._held.items()]
        await self._renew([(user, holder) for holder, user in holders])
        due = self._clock.now() - self._presence.grace
        for user_id, left_at in list(self._leaving.items()):
            if left_at <= due and user_id not in self._streams and not self._holding[user_id]:
                del self._leaving[user_id]
                try:
                    await self._presence.settle(user_id, left_at)
                except ChatError as exc:
                    log.warning("presence of %s not settled: %s", user_id, exc.message)

    def _drop_holding(self, user_id: str) -> None:
        self._holding[user_id] -= 1
        if self._holding[user_id] <= 0:
            del self._holding[user_id]

    async def _renew(self, leases: list[tuple[str, str]]) -> None:
        if not leases:
            return
        try:
            await self._presence.renew(leases)
        except ChatError as exc:
            log.warning("presence leases not renewed: %s", exc.message)

    async def close(self) -> None:
        tasks = [t for s in self._streams.values() for t in (s.task, s.resyncing) if t is not None]
        if self._sweeper is not None:
            tasks.append(self._sweeper)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._streams.clear()
        self._user_of.clear()


def _cancel_unless_current(task: asyncio.Task | None) -> None:
    if task is not None and task is not asyncio.current_task():
        task.cancel()


def _enqueue(queue: asyncio.Queue, event: dict[str, Any], user_id: str) -> None:
    """Too far behind: the backlog is dropped for one resync (storage has every stored event)."""
    if queue.full():
        while not queue.empty():
            queue.get_nowait()
        log.warning("live events of %s: the tabs fell %d events behind and resync", user_id, queue.maxsize)
        queue.put_nowait(resync())
        if event.get("type") == RESYNC:
            return
    queue.put_nowait(event)


def message_echo(chat_id: str, sender_id: str, client_id: str) -> tuple:
    return (MESSAGE_NEW, chat_id, sender_id, client_id)


def read_echo(chat_id: str, user_id: str, seq: int) -> tuple:
    return (CHAT_READ, chat_id, user_id, seq)


def _echo_key(event: dict[str, Any]) -> tuple | None:
    """What identifies a send or a read when it comes back as an event."""
    kind = event.get("type")
    if kind == MESSAGE_NEW:
        message = event.get("message") or {}
        return message_echo(event.get("chatId"), message.get("senderId"), message.get("clientId"))
    if kind == CHAT_READ:
        return read_echo(event.get("chatId"), event.get("userId"), event.get("seq"))
    return None
