"""Push subscriptions and push claims in SQL (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from chat_web.adapters.storage.sql_schema import PushClaimRow, PushSubscriptionRow, utc
from chat_web.domain.push import PushSubscription

if TYPE_CHECKING:
    from chat_web.adapters.storage.sql import SqlDatabase

_subs = PushSubscriptionRow.__table__
_claims = PushClaimRow.__table__


def _subscription(row) -> PushSubscription:
    return PushSubscription(row.id, row.user_id, row.endpoint, row.p256dh, row.auth, utc(row.created_at))


class SqlPushRepo:
    def __init__(self, db: SqlDatabase):
        self._db = db

    async def save(self, subscription: PushSubscription, keep: int) -> None:
        values = {
            "id": subscription.id,
            "user_id": subscription.user_id,
            "endpoint": subscription.endpoint,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth,
            "created_at": subscription.created_at,
        }
        try:
            async with self._db.write() as conn:
                await conn.execute(delete(_subs).where(_subs.c.id == subscription.id))
                await conn.execute(insert(_subs).values(**values))
                older = await conn.execute(
                    select(_subs.c.id)
                    .where(_subs.c.user_id == subscription.user_id)
                    .order_by(_subs.c.created_at.desc(), _subs.c.id.desc())
                    .offset(keep)
                )
                extra = [row.id for row in older]
                if extra:
                    await conn.execute(delete(_subs).where(_subs.c.id.in_(extra)))
        except IntegrityError:
            pass  # the same browser registered at the same moment: that row stands

    async def remove(self, user_id: str, endpoint: str) -> bool:
        async with self._db.write() as conn:
            done = await conn.execute(
                delete(_subs).where(_subs.c.user_id == user_id, _subs.c.endpoint == endpoint)
            )
        return done.rowcount > 0

    async def drop(self, subscription_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(delete(_subs).where(_subs.c.id == subscription_id))

    async def forget_user(self, user_id: str) -> int:
        async with self._db.write() as conn:
            done = await conn.execute(delete(_subs).where(_subs.c.user_id == user_id))
        return done.rowcount

    async def for_users(self, user_ids: Sequence[str]) -> list[PushSubscription]:
        if not user_ids:
            return []
        async with self._db.read() as conn:
            rows = await conn.execute(select(_subs).where(_subs.c.user_id.in_(set(user_ids))))
            return [_subscription(row) for row in rows]

    async def claim(self, message_id: str, subscription_id: str, at: datetime) -> bool:
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(_claims).values(
                        message_id=message_id, subscription_id=subscription_id, claimed_at=at
                    )
                )
        except IntegrityError:
            return False  # the primary key: someone claimed it first
        return True

    async def release(self, message_id: str, subscription_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                delete(_claims).where(
                    _claims.c.message_id == message_id, _claims.c.subscription_id == subscription_id
                )
            )

    async def forget_claims(self, before: datetime) -> int:
        async with self._db.write() as conn:
            done = await conn.execute(delete(_claims).where(_claims.c.claimed_at < before))
        return done.rowcount
