"""The session check without a storage round trip per request: recently seen users, per process.

`AuthService.user_for_token` reads the user of a token (for its token version, name and email)
on every request. This cache keeps those rows in the process, and every process forgets a user
as soon as their row changes anywhere:

* a change (rename, sign-out everywhere) is announced on the fan-out's `sessions` topic, which
  every process listens to with one subscription; the writing process forgets at once itself;
* the cache serves only while that subscription is up: before it is, after it fails, and after
  a `resync` (the Redis fan-out reconnected, or the reader fell behind) it is emptied and the
  check reads storage until the subscription is back;
* an entry lives at most `ttl` (30 s by default): the bound on staleness if an announcement is
  lost without the subscription noticing (the publish itself failed while Redis was down).

So a sign-out everywhere refuses the old tokens on every instance within the fan-out's
delivery time (milliseconds), and within `ttl` at worst.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from chat_web.domain import ChatError, User
from chat_web.domain.events import RESYNC
from chat_web.ports import Clock, FanOut

log = logging.getLogger(__name__)

SESSIONS_TOPIC = "sessions"  # every process listens; events name a user whose row changed
USER_CHANGED = "user.changed"
_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


def user_changed(user_id: str) -> dict[str, Any]:
    return {"type": USER_CHANGED, "userId": user_id}


class SessionCache:
    def __init__(
        self, events: FanOut, clock: Clock, ttl: timedelta = timedelta(seconds=30), size: int = 10_000
    ):
        self._events = events
        self._clock = clock
        self._ttl = ttl
        self._size = size
        self._users: OrderedDict[str, tuple[User, datetime]] = OrderedDict()
        # Moves on every forget: a row read from storage before a change is not cached after it.
        self._generation = 0
        self._listening = False
        self._task: asyncio.Task | None = None

    @property
    def listening(self) -> bool:
        """Whether changes made elsewhere reach this process now (only then is anything cached)."""
        return self._listening

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, user_id: str) -> User | None:
        entry = self._users.get(user_id)
        if entry is None:
            return None
        user, expires = entry
        if not self._listening or expires <= self._clock.now():
            del self._users[user_id]
            return None
        return user

    def put(self, user: User, generation: int) -> None:
        """Keep a row read from storage, unless a change came in since the read began (`generation`)."""
        if not self._listening or generation != self._generation:
            return
        self._users[user.id] = (user, self._clock.now() + self._ttl)
        self._users.move_to_end(user.id)
        while len(self._users) > self._size:
            self._users.popitem(last=False)

    def forget(self, user_id: str) -> None:
        self._generation += 1
        self._users.pop(user_id, None)

    def clear(self) -> None:
        self._generation += 1
        self._users.clear()

    async def changed(self, user_id: str) -> None:
        """A user's row changed here: forget it now, and tell every other process."""
        self.forget(user_id)
        try:
            await self._events.publish(SESSIONS_TOPIC, user_changed(user_id))
        except ChatError as exc:  # the others' entries expire within the ttl
            log.warning("user change not announced to other processes: %s", exc.message)

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == USER_CHANGED and isinstance(event.get("userId"), str):
            self.forget(event["userId"])
        elif kind == RESYNC:
            self.clear()  # announcements may have been lost

    async def listen(self) -> None:
        """Follow the `sessions` topic for as long as the process runs, resubscribing after failures."""
        failures = 0
        while True:
            try:
                async with self._events.subscribe(SESSIONS_TOPIC) as events:
                    self._listening, failures = True, 0
                    async for event in events:
                        self._apply(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: serve from storage, try again
                log.warning("session cache off until the fan-out answers: %s", exc)
            finally:
                self._listening = False
                self.clear()
            await asyncio.sleep(_RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)])
            failures += 1

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.listen(), name="session-cache")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
