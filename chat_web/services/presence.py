"""Who is online: a lease per connected tab, a grace period after the last one leaves.

A user is online while any of their tabs (or API streams) holds a lease; the process
serving a tab renews it every few seconds. When the last tab goes, the user stays
online for the grace period (a reload does not flicker), then their contacts hear
that they went offline and when they were last seen. Nothing here writes to storage.

Who sees whose presence is decided here, in one storage query (ChatRepo.presence_contacts):
the members of a person's groups, and the other member of each direct chat in which both
have sent a message; never across a block. Everyone else sees nothing: neither the news
nor the status (README "Blocking and presence").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chat_web.domain import ChatError
from chat_web.domain.events import presence, user_topic
from chat_web.domain.wire import iso
from chat_web.ports import ChatRepo, Clock, FanOut, PresenceStore

log = logging.getLogger(__name__)

CONTACTS_MAX = 1000  # presence news goes to at most this many contacts (of my latest chats first)


@dataclass(frozen=True, slots=True)
class PresenceStatus:
    online: set[str]
    last_seen: dict[str, datetime]


class PresenceService:
    def __init__(
        self,
        store: PresenceStore,
        chats: ChatRepo,
        fanout: FanOut,
        clock: Clock,
        grace: timedelta = timedelta(seconds=10),
    ):
        self._store = store
        self._chats = chats
        self._fanout = fanout
        self._clock = clock
        self.grace = grace

    async def renew(self, leases: Sequence[tuple[str, str]]) -> None:
        """Keep these (user, tab) pairs online for another grace period; announce newcomers."""
        now = self._clock.now()
        for user_id in await self._store.touch(leases, now + self.grace, now):
            await self._announce(user_id, online=True, last_seen=None)

    async def settle(self, user_id: str, left_at: datetime) -> bool:
        """The user's last tab here left at `left_at`: offline now, unless another tab is live."""
        if not await self._store.settle(user_id, self._clock.now(), left_at):
            return False
        await self._announce(user_id, online=False, last_seen=left_at)
        return True

    async def status(self, viewer_id: str, user_ids: Sequence[str]) -> PresenceStatus:
        """Who of `user_ids` is online, and when the others were last seen, as `viewer_id` may
        know it: people they share no presence with are left out of both."""
        wanted = [u for u in dict.fromkeys(user_ids) if u and u != viewer_id]
        if not wanted:
            return PresenceStatus(online=set(), last_seen={})
        visible = await self._chats.presence_contacts(viewer_id, among=wanted)
        ids = [u for u in wanted if u in visible]
        online = await self._store.online(ids, self._clock.now())
        offline = [u for u in ids if u not in online]
        return PresenceStatus(online=online, last_seen=await self._store.last_seen(offline))

    async def _announce(self, user_id: str, online: bool, last_seen: datetime | None) -> None:
        # Presence is a hint: a failure to tell is logged, never raised.
        try:
            contacts = await self._chats.presence_contacts(user_id, limit=CONTACTS_MAX)
            # Only who is online can see it; the others read presence when they come.
            listening = await self._store.online(sorted(contacts), self._clock.now())
            event = presence(user_id, online, iso(last_seen))
            await asyncio.gather(*(self._fanout.publish(user_topic(c), event) for c in listening))
        except ChatError as exc:
            log.warning("presence of %s not announced: %s", user_id, exc.message)
