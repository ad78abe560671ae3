"""Push subscriptions and push claims in MongoDB.

`push_subscriptions` is keyed by `sid` (the endpoint's id; _id stays an ObjectId);
`push_claims` by (message_id, subscription_id), unique: a claim is an upsert that only
the first caller inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from chat_web.domain.push import PushSubscription


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _subscription(doc: dict) -> PushSubscription:
    return PushSubscription(
        doc["sid"], doc["user_id"], doc["endpoint"], doc["p256dh"], doc["auth"], _utc(doc["created_at"])
    )


async def prepare_push(db) -> None:
    await db.push_subscriptions.create_index([("sid", ASCENDING)], unique=True)
    await db.push_subscriptions.create_index([("user_id", ASCENDING), ("created_at", DESCENDING)])
    await db.push_claims.create_index(
        [("message_id", ASCENDING), ("subscription_id", ASCENDING)], unique=True
    )
    await db.push_claims.create_index([("claimed_at", ASCENDING)])


class MongoPushRepo:
    def __init__(self, db):
        self._subs = db.push_subscriptions
        self._claims = db.push_claims

    async def save(self, subscription: PushSubscription, keep: int) -> None:
        doc = {
            "sid": subscription.id,
            "user_id": subscription.user_id,
            "endpoint": subscription.endpoint,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth,
            "created_at": subscription.created_at,
        }
        try:
            await self._subs.replace_one({"sid": subscription.id}, doc, upsert=True)
        except DuplicateKeyError:
            pass  # the same browser registered at the same moment: that document stands
        older = self._subs.find({"user_id": subscription.user_id}, {"sid": 1}).sort(
            [("created_at", DESCENDING), ("sid", DESCENDING)]
        )
        extra = [doc["sid"] async for doc in older.skip(keep)]
        if extra:
            await self._subs.delete_many({"sid": {"$in": extra}})

    async def remove(self, user_id: str, endpoint: str) -> bool:
        done = await self._subs.delete_many({"user_id": user_id, "endpoint": endpoint})
        return done.deleted_count > 0

    async def drop(self, subscription_id: str) -> None:
        await self._subs.delete_many({"sid": subscription_id})

    async def forget_user(self, user_id: str) -> int:
        done = await self._subs.delete_many({"user_id": user_id})
        return done.deleted_count

    async def for_users(self, user_ids: Sequence[str]) -> list[PushSubscription]:
        if not user_ids:
            return []
        return [
            _subscription(doc) async for doc in self._subs.find({"user_id": {"$in": list(set(user_ids))}})
        ]

    async def claim(self, message_id: str, subscription_id: str, at: datetime) -> bool:
        key = {"message_id": message_id, "subscription_id": subscription_id}
        try:
            done = await self._claims.update_one(key, {"$setOnInsert": {"claimed_at": at}}, upsert=True)
        except DuplicateKeyError:
            return False  # another upsert inserted it at the same moment
        return done.upserted_id is not None

    async def release(self, message_id: str, subscription_id: str) -> None:
        await self._claims.delete_many({"message_id": message_id, "subscription_id": subscription_id})

    async def forget_claims(self, before: datetime) -> int:
        done = await self._claims.delete_many({"claimed_at": {"$lt": before}})
        return done.deleted_count
