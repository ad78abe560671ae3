"""Push subscriptions and push claims in process memory (unit tests, the contract suite)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chat_web.domain.push import PushSubscription


class InMemoryPushRepo:
    def __init__(self) -> None:
        self._subscriptions: dict[str, PushSubscription] = {}  # id -> subscription
        self._claims: dict[tuple[str, str], datetime] = {}  # (message, subscription) -> when

    async def save(self, subscription: PushSubscription, keep: int) -> None:
        self._subscriptions[subscription.id] = subscription
        mine = sorted(
            (s for s in self._subscriptions.values() if s.user_id == subscription.user_id),
            key=lambda s: (s.created_at, s.id),
            reverse=True,
        )
        for old in mine[keep:]:
            del self._subscriptions[old.id]

    async def remove(self, user_id: str, endpoint: str) -> bool:
        found = next(
            (s for s in self._subscriptions.values() if s.endpoint == endpoint and s.user_id == user_id), None
        )
        if found is None:
            return False
        del self._subscriptions[found.id]
        return True

    async def drop(self, subscription_id: str) -> None:
        self._subscriptions.pop(subscription_id, None)

    async def forget_user(self, user_id: str) -> int:
        mine = [s.id for s in self._subscriptions.values() if s.user_id == user_id]
        for sub_id in mine:
            del self._subscriptions[sub_id]
        return len(mine)

    async def for_users(self, user_ids: Sequence[str]) -> list[PushSubscription]:
        wanted = set(user_ids)
        return [s for s in self._subscriptions.values() if s.user_id in wanted]

    async def claim(self, message_id: str, subscription_id: str, at: datetime) -> bool:
        if (message_id, subscription_id) in self._claims:
            return False
        self._claims[(message_id, subscription_id)] = at
        return True

    async def release(self, message_id: str, subscription_id: str) -> None:
        self._claims.pop((message_id, subscription_id), None)

    async def forget_claims(self, before: datetime) -> int:
        old = [key for key, at in self._claims.items() if at < before]
        for key in old:
            del self._claims[key]
        return len(old)
