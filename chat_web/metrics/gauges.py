"""Gauges read from the running app: set at every scrape, and every few seconds in each worker
(a scrape reaches one worker; with several, the others' shares must not go stale)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from chat_web import container
from chat_web.domain import ServiceUnavailable
from chat_web.metrics import CONNECTED_TABS

REFRESH_EVERY = 5.0  # seconds


def refresh_gauges() -> None:
    try:
        CONNECTED_TABS.set(container.current().live.tab_count)
    except ServiceUnavailable:
        CONNECTED_TABS.set(0)


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
