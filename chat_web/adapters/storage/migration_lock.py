"""One migrating process at a time on a SQLite database file.

Two backend workers that start together on a fresh DATA_DIR would both run Alembic, and
the second fails ("table alembic_version already exists"). PostgreSQL has an advisory
lock for that (SqlDatabase.migrate); SQLite gets an exclusive flock on a file beside the
database. The lock is taken in a worker thread, so the event loop keeps serving (/health,
/ready saying "starting") while this process waits its turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database (nothing to share)."""
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".migrate.lock")


@contextlib.asynccontextmanager
async def migration_lock(database: Path) -> AsyncIterator[None]:
    """Hold the database's migration lock for the block (other processes wait for it)."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    taking = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
    try:
        await asyncio.shield(taking)
    except BaseException:
        # Cancelled (or failed) while the thread still waits: the descriptor is closed only
        # when the thread is done with it, which also releases a lock it got late.
        taking.add_done_callback(lambda done: _close_after(done, fd))
        raise
    try:
        yield
    finally:
        # Closing the only descriptor of the file releases the flock.
        os.close(fd)


def _close_after(done: asyncio.Future, fd: int) -> None:
    if not done.cancelled():
        done.exception()  # retrieved: a late failure of the wait is not worth a warning
    os.close(fd)
