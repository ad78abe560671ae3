"""PostgreSQL's hot use cases on asyncpg's own pool, one statement each, in autocommit.

The API's busiest requests (a send, the next page of a chat, my chat list) are each one
statement (chat_web/adapters/storage/pg_send.py, pg_reads.py). Through SQLAlchemy one such
statement cost ~270 us of CPU here (a checkout 83 us, the execution 160-190 us); on asyncpg's
pool ~95 us (measured with the same statement on one machine, sequentially). Everything else
keeps SQLAlchemy.

A returned connection is not reset with a query (asyncpg's default `RESET ALL`, `UNLISTEN`,
`pg_advisory_unlock_all()`: a round trip per request): the statements here are single and in
autocommit, and leave no session state. asyncpg still rolls back an open transaction and
waits out a cancelled query before a connection is reused.

A server that goes away mid-statement sometimes leaves asyncpg's protocol stuck in the
operation (`InternalClientError: cannot switch to state 12; another operation (2) is in
progress`, MagicStack/asyncpg#1069) while the socket still looks open. Such a connection
is terminated here, never handed out again, and the error counts as an outage (503).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg

POOL_SIZE = 20  # connections; SQLAlchemy keeps 10 more for the rest


async def _no_reset(_connection: asyncpg.Connection) -> None:
    return None


def driver_url(url: str) -> str:
    """The SQLAlchemy URL (postgresql+asyncpg://...) as asyncpg takes it."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def is_driver_outage(exc: BaseException) -> bool:
    """asyncpg's words for a server that is away, starting, stopping or full."""
    if isinstance(exc, (asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)):
        return True
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, asyncpg.PostgresError) and sqlstate[:2] in {"08", "53", "57", "58"}


class PgPool:
    """Opened at the first statement (the server may not be up when the app starts)."""

    def __init__(self, url: str, size: int = POOL_SIZE):
        self._url = driver_url(url)
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _ready(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._url, min_size=1, max_size=self._size, reset=_no_reset
                    )
        return self._pool

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with (await self._ready()).acquire() as connection:
            try:
                yield connection
            except asyncpg.InternalClientError:
                connection.terminate()  # its protocol is stuck mid-operation
                raise

    async def fetch(self, statement: str, *args) -> list[asyncpg.Record]:
        async with self._connection() as connection:
            return await connection.fetch(statement, *args)

    async def fetchrow(self, statement: str, *args) -> asyncpg.Record | None:
        async with self._connection() as connection:
            return await connection.fetchrow(statement, *args)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
