"""A push sender on an event loop of its own thread, for the app that sends pushes itself
(no RABBITMQ_URL): each push's encryption and HTTP round trip stay off the loop that serves
requests (measured: on that loop they cost the send's p99 a quarter; README "Push delivery").
Claims and drops still run on the app's loop: the storage driver's connections belong to it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from chat_web.domain.push import PushJob
from chat_web.ports import PushSender


class ThreadedSender:
    def __init__(self, make: Callable[[], PushSender]):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="push-sender", daemon=True)
        self._thread.start()
        self._sender = make()  # its HTTP client opens its connections on the thread's loop

    async def send(self, job: PushJob) -> int:
        running = asyncio.run_coroutine_threadsafe(self._sender.send(job), self._loop)
        return await asyncio.wrap_future(running)

    async def close(self) -> None:
        closing = getattr(self._sender, "close", None)
        if closing is not None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(closing(), self._loop))
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 5)
        self._loop.close()
