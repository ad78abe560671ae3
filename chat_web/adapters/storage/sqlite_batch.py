"""SQLite's sends in batches: every send waiting for the writer runs in one thread hop and one
transaction (group commit).

The writer thread is where every send of the process waits. Each sqlite3 call lets go of the
GIL and must win it back from the event loop, which holds it while it serves the other
requests: under the API load a send took ~3 ms in the writer for 0.3 ms of work (a dozen
hand-overs: the hop there and back, BEGIN, each statement, COMMIT), and 150 sends stood in
line (p50 of a send 770 ms, of a read 10 ms). Taken together, the sends waiting share one
hop, one BEGIN IMMEDIATE and one COMMIT, and their callers hear back only after the COMMIT
(publish after commit holds).

A send that refuses (not a member, a block, the answered message gone: a ChatError) does so
before it writes, so the others go on. Anything else may have left half a send in the
transaction: it is rolled back, and the batch runs again one send a transaction.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from sqlalchemy import Connection, Engine

from chat_web.domain import ChatError

BATCH_MAX = 64  # sends in one transaction at most


class SendBatches:
    def __init__(self, engine: Engine, thread: Executor):
        self._engine = engine  # the writer's (BEGIN IMMEDIATE on begin)
        self._thread = thread  # the one writer thread
        self._lock = threading.Lock()
        self._waiting: list[tuple[Callable[[Connection], Any], asyncio.Future]] = []
        self._draining = False

    async def run(self, use_case: Callable[[Connection], Any]) -> Any:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        with self._lock:
            self._waiting.append((use_case, done))
            start = not self._draining
            self._draining = True
        if start:
            loop.run_in_executor(self._thread, self._drain, loop)
        return await done

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the writer thread: one batch; then, if sends came meanwhile, the next one goes to
        the back of the thread's queue (the other writes waiting there get their turn)."""
        with self._lock:
            batch, self._waiting = self._waiting[:BATCH_MAX], self._waiting[BATCH_MAX:]
        loop.call_soon_threadsafe(_settle, batch, self._run(batch))
        with self._lock:
            self._draining = bool(self._waiting)
            if self._draining:
                self._thread.submit(self._drain, loop)

    def _run(self, batch: list) -> list[tuple[bool, Any]]:
        try:
            return self._together(batch)
        except Exception:  # noqa: BLE001 - rolled back: each send again on its own
            return [self._alone(use_case) for use_case, _ in batch]

    def _together(self, batch: list) -> list[tuple[bool, Any]]:
        outcomes = []
        with self._engine.begin() as conn:
            for use_case, _ in batch:
                try:
                    outcomes.append((True, use_case(conn)))
                except ChatError as refused:  # refused before it wrote anything
                    outcomes.append((False, refused))
        return outcomes

    def _alone(self, use_case: Callable[[Connection], Any]) -> tuple[bool, Any]:
        try:
            with self._engine.begin() as conn:
                return True, use_case(conn)
        except Exception as failed:  # noqa: BLE001 - the caller's to raise
            return False, failed


def _settle(batch: list, outcomes: list[tuple[bool, Any]]) -> None:
    for (_, done), (ok, value) in zip(batch, outcomes, strict=True):
        if done.cancelled():
            continue
        if ok:
            done.set_result(value)
        else:
            done.set_exception(value)
