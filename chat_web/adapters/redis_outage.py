"""What counts as Redis being away, for every Redis adapter (OTP store, limits, fan-out)."""

from __future__ import annotations

from redis.exceptions import RedisError

from chat_web.adapters.outage import translate_outages


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, (RedisError, OSError))


# On a Redis adapter class: every public method answers 503 naming Redis, never a 500.
redis_outages = translate_outages(is_outage, lambda _adapter: "Redis")
