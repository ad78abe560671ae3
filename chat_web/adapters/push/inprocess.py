"""The embedded send-push: the worker's own `deliver` (on a thread of its own, threaded.py),
fed by tasks of this process.

Used when RABBITMQ_URL is not set. Retries follow the same policy as the worker's
(backoff, then given up and logged); a bounded queue, so a push service that is down
cannot grow this process's memory without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from chat_web.adapters.mail.topology import RetryPolicy
from chat_web.domain import ServiceUnavailable
from chat_web.domain.push import PermanentPushError, PushJob, TransientPushError
from chat_web.metrics import PUSHES
from chat_web.services.push_delivery import Outcome

log = logging.getLogger(__name__)


class Deliverer(Protocol):
    async def deliver(self, job: PushJob) -> Outcome: ...


QUEUE_MAX = 10_000
WORKERS = 8  # pushes in flight at once (each mostly waits on the push service)


class InProcessPushQueue:
    def __init__(self, delivery: Deliverer, policy: RetryPolicy = RetryPolicy(), workers: int = WORKERS):
        self._delivery = delivery
        self._policy = policy
        self._jobs: asyncio.Queue[tuple[PushJob, int]] = asyncio.Queue(QUEUE_MAX)
        self._workers = workers
        self._tasks: list[asyncio.Task] = []
        self._retries: set[asyncio.TimerHandle] = set()

    async def publish(self, jobs: Sequence[PushJob]) -> None:
        self._start()
        for job in jobs:
            try:
                self._jobs.put_nowait((job, 1))
            except asyncio.QueueFull:
                raise ServiceUnavailable("The push queue is full; pushes are not sent.") from None

    @property
    def pending(self) -> int:
        """Pushes waiting: queued, or waiting for their retry."""
        return self._jobs.qsize() + len(self._retries)

    def _start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work(), name=f"push-{i}") for i in range(self._workers)]

    async def _work(self) -> None:
        while True:
            job, attempt = await self._jobs.get()
            try:
                PUSHES.labels((await self._delivery.deliver(job)).value).inc()
            except TransientPushError as exc:
                self._retry_later(job, attempt, exc)
            except PermanentPushError as exc:
                PUSHES.labels("dead").inc()
                log.error("push of message %s refused: %s", job.message_id, exc)
            except Exception:  # noqa: BLE001 - storage away or a bug: this push is lost, the next goes on
                log.warning("push of message %s failed", job.message_id, exc_info=True)

    def _retry_later(self, job: PushJob, attempt: int, exc: Exception) -> None:
        if attempt >= self._policy.max_attempts:
            PUSHES.labels("dead").inc()
            log.error("push of message %s given up after %d attempts: %s", job.message_id, attempt, exc)
            return
        delay = self._policy.delay(attempt)
        PUSHES.labels("retry").inc()
        log.warning("push not sent (attempt %d): %s; retrying in %.1f s", attempt, exc, delay)

        def again() -> None:
            self._retries.discard(handle)
            with contextlib.suppress(asyncio.QueueFull):
                self._jobs.put_nowait((job, attempt + 1))

        handle = asyncio.get_running_loop().call_later(delay, again)
        self._retries.add(handle)

    async def close(self) -> None:
        for handle in self._retries:
            handle.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
