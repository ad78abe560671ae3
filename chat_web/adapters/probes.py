"""Readiness probes: does each configured backing service answer now? (GET /api/v1/ready)

Each probe returns normally when its service answers and raises otherwise; the caller
bounds it with a timeout and shows only the service's name, never the driver's words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Probe = Callable[[], Awaitable[None]]


def database_probe(store: object) -> Probe:
    from chat_web.adapters.storage.sql import SqlStore

    if isinstance(store, SqlStore):

        async def ping_sql() -> None:
            async with store.db.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")

        return ping_sql

    async def ping_mongo() -> None:
        await store.db.command("ping")

    return ping_mongo


def redis_probe(client) -> Probe:
    async def ping() -> None:
        await client.ping()

    return ping


def rabbitmq_probe(queue) -> Probe:
    async def check() -> None:
        if not await asyncio.to_thread(queue.check):
            raise ConnectionError("RabbitMQ did not answer")

    return check
