"""asyncpg's pool as the hot statements use it (chat_web/adapters/storage/pg_pool.py)."""

from __future__ import annotations

import asyncpg
import pytest

from chat_web.adapters.storage.pg_pool import PgPool, is_driver_outage
from tests.conftest import POSTGRES_URL, need_service, port_open


@pytest.fixture
async def pool():
    need_service("PostgreSQL", port_open("127.0.0.1", 5432))
    pool = PgPool(POSTGRES_URL, size=1)
    yield pool
    await pool.close()


async def backend_pid(pool: PgPool) -> int:
    return (await pool.fetchrow("SELECT pg_backend_pid() AS pid"))["pid"]


async def test_a_connection_stuck_mid_operation_is_dropped_and_counts_as_an_outage(pool, monkeypatch):
    """A server that went away mid-statement can leave asyncpg's protocol stuck in the operation
    (a CI run under PostgreSQL's stop and start got it as a 500): the one connection of this pool
    must not come back for the next statement."""
    stuck = await backend_pid(pool)

    async def stuck_mid_operation(self, *args, **kwargs):
        raise asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")

    for method in ("fetch", "fetchrow"):
        with monkeypatch.context() as patch:
            patch.setattr(asyncpg.Connection, method, stuck_mid_operation)
            with pytest.raises(asyncpg.InternalClientError) as raised:
                await getattr(pool, method)("SELECT 1")
        assert is_driver_outage(raised.value)  # a 503 naming the database, not a 500
        fresh = await backend_pid(pool)
        assert fresh != stuck
        stuck = fresh


async def test_a_statement_that_fails_on_its_own_keeps_the_connection(pool):
    before = await backend_pid(pool)
    with pytest.raises(asyncpg.PostgresError) as raised:
        await pool.fetch("SELECT 1 / 0")
    assert not is_driver_outage(raised.value)
    assert await backend_pid(pool) == before
