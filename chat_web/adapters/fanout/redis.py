"""Fan-out over Redis pub/sub: every app process sees every event."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from chat_web.adapters.redis_outage import redis_outages


@redis_outages  # publish: 503 naming Redis, never a 500
class RedisFanOut:
    def __init__(self, redis: Redis, prefix: str = "chat:events:"):
        self._redis = redis
        self._prefix = prefix

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, json.dumps(event))

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*(self._prefix + t for t in topics))

        async def events() -> AsyncIterator[dict[str, Any]]:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    yield json.loads(item["data"])

        try:
            yield events()
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe()
            await pubsub.aclose()
