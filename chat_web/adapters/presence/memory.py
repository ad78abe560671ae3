"""Presence in one process: the embedded default."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime


class InMemoryPresence:
    def __init__(self):
        self._leases: dict[str, dict[str, datetime]] = defaultdict(dict)
        self._last_seen: dict[str, datetime] = {}

    def _live(self, user_id: str, now: datetime) -> dict[str, datetime]:
        leases = self._leases.get(user_id, {})
        for tab in [t for t, until in leases.items() if until <= now]:
            del leases[tab]
        if not leases:
            self._leases.pop(user_id, None)
        return leases

    async def touch(self, leases: Sequence[tuple[str, str]], until: datetime, now: datetime) -> list[str]:
        came_online = []
        for user_id, tab in leases:
            if not self._live(user_id, now):
                came_online.append(user_id)
            self._leases[user_id][tab] = until
        return list(dict.fromkeys(came_online))

    async def settle(self, user_id: str, now: datetime, left_at: datetime) -> bool:
        if self._live(user_id, now):
            return False
        self._last_seen[user_id] = left_at
        return True

    async def online(self, user_ids: Sequence[str], now: datetime) -> set[str]:
        return {u for u in user_ids if self._live(u, now)}

    async def last_seen(self, user_ids: Sequence[str]) -> dict[str, datetime]:
        return {u: self._last_seen[u] for u in user_ids if u in self._last_seen}
