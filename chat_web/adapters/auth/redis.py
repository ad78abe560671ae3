"""OTP codes and rate limits in Redis, shared by every app process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from chat_web.adapters.redis_outage import redis_outages
from chat_web.domain import OtpRecord

# Count a try and read the code in one step, and never touch a key that is gone
# (HINCRBY on a missing key would create one without a TTL).
_TAKE_ATTEMPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return {redis.call('HGET', KEYS[1], 'hash'), redis.call('HGET', KEYS[1], 'expires'), attempts}
"""


@redis_outages
class RedisOtpStore:
    def __init__(self, redis: Redis, prefix: str = "otp:"):
        self._redis = redis
        self._prefix = prefix
        self._take_attempt = redis.register_script(_TAKE_ATTEMPT)

    def _key(self, email: str) -> str:
        return self._prefix + email

    async def save(self, email: str, record: OtpRecord, ttl: timedelta) -> None:
        key = self._key(email)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(
                key,
                mapping={
                    "hash": record.code_hash,
                    "expires": record.expires_at.timestamp(),
                    "attempts": record.attempts,
                },
            )
            pipe.pexpire(key, int(ttl.total_seconds() * 1000))
            await pipe.execute()

    async def take_attempt(self, email: str) -> OtpRecord | None:
        found = await self._take_attempt(keys=[self._key(email)])
        if not found:
            return None
        code_hash, expires, attempts = found
        return OtpRecord(
            code_hash=code_hash.decode(),
            expires_at=datetime.fromtimestamp(float(expires), UTC),
            attempts=int(attempts),
        )

    async def delete(self, email: str) -> bool:
        return bool(await self._redis.delete(self._key(email)))


@redis_outages
class RedisRateLimiter:
    """Fixed-window counters: INCR plus an expiry set only by the first hit."""

    def __init__(self, redis: Redis, prefix: str = "rate:"):
        self._redis = redis
        self._prefix = prefix

    async def acquire(self, key: str, limit: int, window: timedelta) -> float:
        full_key = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(full_key)
            pipe.pexpire(full_key, int(window.total_seconds() * 1000), nx=True)
            pipe.pttl(full_key)
            count, _, ttl_ms = await pipe.execute()
        if count > limit:
            return max(ttl_ms, 1) / 1000
        return 0.0

    async def release(self, key: str) -> None:
        full_key = self._prefix + key
        if await self._redis.decr(full_key) <= 0:
            await self._redis.delete(full_key)
