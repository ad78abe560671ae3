"""A fresh PostgreSQL database on a server, dropped afterwards: for tests, fuzz runs and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor


def _admin(server_url: str, sql: str) -> None:
    import asyncpg

    async def execute() -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    # In a thread of its own: the caller may be inside a running event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, execute()).result()


@contextlib.contextmanager
def temporary_database(server_url: str, prefix: str = "chat_test") -> Iterator[str]:
    """`server_url` names any database of the server; yields the URL of a new, empty one."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
