"""Who gets a Web Push for a new message, and when (README "Push notifications").

The announcer hands every message it published here (`notice`, never waiting). For each
member other than the sender who has a push subscription:

* the chat is muted for them, or they blocked the sender: no push;
* none of their tabs is connected (presence): a push at once;
* a tab is connected: the push waits `read_delay`, then goes only if their read cursor
  has not reached the message by then (no tab of theirs showed it).

The decisions run on a task of their own, off the request path; the pushes themselves go
to the push queue (a worker sends them). A message announced twice is decided twice: the
worker's claim on (message, subscription) makes the second push a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chat_web.domain import Message
from chat_web.domain.push import PushJob, PushSubscription, first_line, notice_payload, notice_text
from chat_web.domain.sending import Sent
from chat_web.ports import ChatRepo, Clock, PresenceStore, PushQueue, PushRepo, UserRepo

log = logging.getLogger(__name__)

CLAIMS_KEPT = timedelta(days=1)  # no announcement of a message comes back later than this
PRUNE_EVERY = timedelta(hours=1)
INBOX_MAX = 10_000  # messages waiting for a decision; past that, their pushes are dropped (logged)
WAITING_MAX = 50_000  # messages waiting out the read delay; past that, too (logged)
NO_TITLE = "Chat"


@dataclass(frozen=True, slots=True)
class _Waiting:
    due: datetime
    message: Message
    user_ids: tuple[str, ...]


class PushNotifier:
    def __init__(
        self,
        users: UserRepo,
        chats: ChatRepo,
        subscriptions: PushRepo,
        presence: PresenceStore,
        queue: PushQueue,
        clock: Clock,
        read_delay: timedelta = timedelta(seconds=5),
        inbox_max: int = INBOX_MAX,
    ):
        self._users = users
        self._chats = chats
        self._subscriptions = subscriptions
        self._presence = presence
        self._queue = queue
        self._clock = clock
        self.read_delay = read_delay
        self._inbox: asyncio.Queue[Sent] = asyncio.Queue(inbox_max)
        self._waiting: deque[_Waiting] = deque()  # one delay for all: due times stay in order
        self._task: asyncio.Task | None = None
        self._pruned_at: datetime | None = None
        self.dropped = 0

    def notice(self, sent: Sent) -> None:
        """A message's message.new went out: decide its pushes soon (never blocks the send)."""
        try:
            self._inbox.put_nowait(sent)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "push decisions are %d messages behind; no push for %s", self._inbox.maxsize, sent.message.id
            )

    async def decide(self, sent: Sent) -> None:
        """Push now to the recipients with no connected tab; the others wait for the delay."""
        message = sent.message
        if message.deleted:
            return
        recipients = [u for u in dict.fromkeys(sent.member_ids) if u != message.sender_id]
        subscriptions = await self._subscriptions.for_users(recipients) if recipients else []
        if not subscriptions:
            return  # most people: one lookup and nothing more
        subscribed = sorted({s.user_id for s in subscriptions})
        now = self._clock.now()
        online = await self._presence.online(subscribed, now)
        offline = [u for u in subscribed if u not in online]
        if offline:
            await self._push(message, offline, subscriptions)
        if online and len(self._waiting) >= WAITING_MAX:
            self.dropped += 1
            log.warning("%d messages wait out the read delay; no push for %s", WAITING_MAX, message.id)
        elif online:
            self._waiting.append(_Waiting(now + self.read_delay, message, tuple(sorted(online))))

    async def check_due(self) -> None:
        """The waits that are over: push to whoever has not read the message meanwhile."""
        now = self._clock.now()
        while self._waiting and self._waiting[0].due <= now:
            waiting = self._waiting.popleft()
            try:
                subscriptions = await self._subscriptions.for_users(waiting.user_ids)
                await self._push(waiting.message, waiting.user_ids, subscriptions)
            except Exception:  # noqa: BLE001 - one message's failure must not stop the others
                log.warning("pushes of message %s not sent", waiting.message.id, exc_info=True)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def _push(
        self, message: Message, user_ids: Iterable[str], subscriptions: Sequence[PushSubscription]
    ) -> None:
        found = await self._chats.membership(message.chat_id, message.sender_id)
        if found is None:
            return  # the chat or the sender's membership is gone
        chat, members = found
        cursors = {m.user_id: m for m in members}
        wanted = [
            u
            for u in user_ids
            if (m := cursors.get(u)) is not None and not m.muted and m.last_read_seq < message.seq
        ]
        if wanted:
            blockers = await self._users.blockers_among(wanted, message.sender_id)
            wanted = [u for u in wanted if u not in blockers]
        if not wanted:
            return
        sender = await self._users.get(message.sender_id)
        name = sender.name if sender else None
        is_group = chat.kind == "group"
        # A direct chat is called by the other person's name, as in the chat list.
        title = (chat.title if is_group else name) or NO_TITLE
        line = first_line(message)
        jobs = []
        for sub in subscriptions:
            if sub.user_id not in wanted:
                continue
            mentioned = sub.user_id in message.mention_ids
            heading, body = notice_text(title, is_group, name, mentioned, line)
            jobs.append(
                PushJob(
                    message_id=message.id,
                    subscription_id=sub.id,
                    user_id=sub.user_id,
                    endpoint=sub.endpoint,
                    p256dh=sub.p256dh,
                    auth=sub.auth,
                    payload=notice_payload(message, heading, body),
                )
            )
        if jobs:
            await self._queue.publish(jobs)

    # --- the task --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="push-notifier")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._prune()  # at start, then at most hourly: never in the middle of a burst
            sent = await self._next()
            if sent is not None:
                try:
                    await self.decide(sent)
                except Exception:  # noqa: BLE001 - storage or broker away: this message's push is lost
                    log.warning("pushes of message %s not decided", sent.message.id, exc_info=True)
            await self.check_due()

    async def _prune(self) -> None:
        """Claims of pushes long done are only weight: drop them now and then."""
        now = self._clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            await self._subscriptions.forget_claims(now - CLAIMS_KEPT)
        except Exception:  # noqa: BLE001 - storage away: next time
            log.warning("old push claims not pruned", exc_info=True)

    async def _next(self) -> Sent | None:
        """The next message to decide, or None when a wait is over first."""
        if not self._inbox.empty():
            return self._inbox.get_nowait()
        timeout = None
        if self._waiting:
            timeout = max(0.0, (self._waiting[0].due - self._clock.now()).total_seconds())
        getting = asyncio.ensure_future(self._inbox.get())
        try:
            await asyncio.wait({getting}, timeout=timeout)
        finally:
            if not getting.done():
                getting.cancel()  # a cancelled get takes nothing off the queue
        return getting.result() if getting.done() and not getting.cancelled() else None
