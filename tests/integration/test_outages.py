"""A backing service stops under traffic and starts again: requests get 503 naming it, never a
500, and the same app process recovers by itself.

Each test runs its own throwaway server (tests/support/throwaway.py); the machine's shared
PostgreSQL, Redis and RabbitMQ are never stopped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest

from chat_web.config import Settings
from tests.conftest import need_service
from tests.integration.conftest import new_session, running_api
from tests.support.limits import LIFTED_LIMITS
from tests.support.throwaway import ThrowawayPostgres, ThrowawayRabbitMQ, ThrowawayRedis


def throwaway(server_class):
    server = server_class()
    need_service(server_class.__name__, not server.missing(), server.missing())
    return server


class Traffic:
    """Requests in a loop while the test stops and starts a service; every answer is kept."""

    def __init__(self, request: Callable[[int], Awaitable[httpx.Response]]):
        self._request = request
        self.answers: list[tuple[int, str]] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        for i in range(1_000_000):
            response = await self._request(i)
            detail = response.json().get("detail", "") if response.status_code >= 400 else ""
            self.answers.append((response.status_code, str(detail)))
            await asyncio.sleep(0.01)

    def __enter__(self) -> Traffic:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_exc) -> None:
        self._task.cancel()

    async def wait_for(self, status: int, count: int = 3, timeout: float = 30) -> None:
        """Until `count` answers with this status arrived after now (the loop must stay alive)."""
        start, deadline = len(self.answers), time.monotonic() + timeout
        while sum(1 for s, _ in self.answers[start:] if s == status) < count:
            if self._task.done():
                self._task.result()  # re-raise what killed the loop
            assert time.monotonic() < deadline, f"no {status} in time: {Counter(self.answers[start:])}"
            await asyncio.sleep(0.05)

    def statuses(self) -> Counter:
        return Counter(status for status, _ in self.answers)


def assert_outage_named(traffic: Traffic, ok: set[int], service: str) -> None:
    statuses = traffic.statuses()
    assert set(statuses) <= ok | {503}, statuses
    unavailable = {detail for status, detail in traffic.answers if status == 503}
    assert unavailable and all(service in detail for detail in unavailable), unavailable


async def stop_and_start(server, traffic: Traffic, ok: int, timeout: float = 30) -> None:
    """Answers `ok`, then 503 while the server is down, then `ok` again from the same process."""
    await traffic.wait_for(ok)
    await asyncio.to_thread(server.stop)
    await traffic.wait_for(503)
    await asyncio.to_thread(server.start)
    await traffic.wait_for(ok, timeout=timeout)


async def test_postgresql_stops_and_starts_under_traffic(tmp_path):
    server = throwaway(ThrowawayPostgres).start()
    try:
        settings = Settings(_env_file=None, data_dir=tmp_path, database_url=server.url, **LIFTED_LIMITS)
        async with running_api(settings) as client:
            ann = await new_session(client, settings, "ann")
            bob = await new_session(client, settings, "bob")
            other = {"otherUserId": bob["user"]["id"]}
            chat_id = (await client.post("/chat/new", json=other, headers=ann["headers"])).json()["chatId"]

            async def send_and_read(i: int) -> httpx.Response:
                if i % 2:
                    return await client.get(f"/message/{chat_id}?limit=5", headers=bob["headers"])
                body = {"chatId": chat_id, "text": f"m{i}", "clientId": f"c{i}"}
                return await client.post("/message", json=body, headers=ann["headers"])

            with Traffic(send_and_read) as traffic:
                await stop_and_start(server, traffic, 201)
                await traffic.wait_for(200)
            assert_outage_named(traffic, {200, 201}, "database (postgresql)")
            history = await client.get(f"/message/{chat_id}?limit=100", headers=ann["headers"])
            seqs = [m["seq"] for m in history.json()["messages"]]
            assert seqs == list(range(1, len(seqs) + 1))  # whatever was stored has no gaps
    finally:
        server.close()


@pytest.mark.parametrize(
    ("server_class", "setting", "named", "timeout"),
    [(ThrowawayRedis, "redis_url", "Redis", 30), (ThrowawayRabbitMQ, "rabbitmq_url", "RabbitMQ", 60)],
)
async def test_sign_in_codes_survive_the_service_stopping_and_starting(
    tmp_path, server_class, setting, named, timeout
):
    """Asking for a code needs Redis (the code, the limits) and RabbitMQ (the mail)."""
    server = throwaway(server_class).start()
    try:
        settings = Settings(_env_file=None, data_dir=tmp_path, **{setting: server.url}, **LIFTED_LIMITS)
        async with running_api(settings) as client:

            async def ask_for_a_code(_: int) -> httpx.Response:
                return await client.post("/login", json={"email": f"o-{uuid.uuid4().hex[:12]}@example.com"})

            with Traffic(ask_for_a_code) as traffic:
                await stop_and_start(server, traffic, 200, timeout)
            assert_outage_named(traffic, {200}, named)
    finally:
        server.close()
