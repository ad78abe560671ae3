"""Presence in Redis, shared by every app process: a sorted set of tab leases per user.

`presence:tabs:<user>` scores each tab with the time its lease ends; a user is online
while any lease is in the future. Last-seen times live in one hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis

from chat_web.adapters.redis_outage import redis_outages

# Drop expired leases, note whether any was left, add this one: one step, so two
# processes cannot both miss (or both see) the user coming online.
_TOUCH = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return before
"""

_SETTLE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


@redis_outages  # every method: 503 naming Redis, never a 500
class RedisPresence:
    def __init__(self, redis: Redis, prefix: str = "presence:"):
        self._redis = redis
        self._prefix = prefix
        self._last_seen_key = f"{prefix}last-seen"
        self._touch = redis.register_script(_TOUCH)
        self._settle = redis.register_script(_SETTLE)

    def _key(self, user_id: str) -> str:
        return f"{self._prefix}tabs:{user_id}"

    async def touch(self, leases: Sequence[tuple[str, str]], until: datetime, now: datetime) -> list[str]:
        if not leases:
            return []
        keep = max(60, int((until - now).total_seconds()) * 2)
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, tab in leases:
                await self._touch(
                    keys=[self._key(user_id)],
                    args=[now.timestamp(), until.timestamp(), tab, keep],
                    client=pipe,
                )
            before = await pipe.execute()
        came = [user_id for (user_id, _), count in zip(leases, before, strict=True) if int(count) == 0]
        return list(dict.fromkeys(came))

    async def settle(self, user_id: str, now: datetime, left_at: datetime) -> bool:
        settled = await self._settle(
            keys=[self._key(user_id), self._last_seen_key],
            args=[now.timestamp(), user_id, left_at.timestamp()],
        )
        return bool(settled)

    async def online(self, user_ids: Sequence[str], now: datetime) -> set[str]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in ids:
                pipe.zcount(self._key(user_id), f"({now.timestamp()}", "+inf")
            counts = await pipe.execute()
        return {u for u, n in zip(ids, counts, strict=True) if int(n) > 0}

    async def last_seen(self, user_ids: Sequence[str]) -> dict[str, datetime]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        values = await self._redis.hmget(self._last_seen_key, ids)
        return {u: datetime.fromtimestamp(float(v), UTC) for u, v in zip(ids, values, strict=True) if v}
