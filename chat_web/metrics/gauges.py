"""Gauges read from the running app: set at every scrape, and every few seconds in each worker
(a scrape reaches one worker; with several, the others' shares must not go stale).

What a gauge reads is registered by the composition root (`count_tabs_with`): metrics sit
at the edges and never reach back up into the container."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable

from chat_web.metrics import CONNECTED_TABS

REFRESH_EVERY = 5.0  # seconds

_tab_count: Callable[[], int] | None = None  # None while no container runs in this process


def count_tabs_with(provider: Callable[[], int] | None) -> None:
    """How many tabs follow live events here (the live hub's count); None: none running."""
    global _tab_count
    _tab_count = provider


def refresh_gauges() -> None:
    CONNECTED_TABS.set(_tab_count() if _tab_count is not None else 0)


@contextlib.asynccontextmanager
async def gauges_kept_fresh(multiprocess_dir: object) -> AsyncIterator[None]:
    async def refresh_forever() -> None:
        while True:
            refresh_gauges()
            await asyncio.sleep(REFRESH_EVERY)

    task = asyncio.create_task(refresh_forever(), name="metrics-gauges")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if multiprocess_dir:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # its live gauges leave the sum
