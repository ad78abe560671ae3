"""Two app instances on the real Redis: a sign-out everywhere on one refuses the token on the
other as soon as the announcement arrives, though the other answered from its cache before."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from chat_web.config import Settings
from chat_web.container import build_container
from chat_web.domain import Unauthorized
from tests.conftest import REDIS_URL, need_service, port_open
from tests.support.sign_in import code_from_outbox


async def wait_until(condition, what: str) -> None:
    """Wait for an event to be applied (not for a time): fails if it never is."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.005)


class CountingUsers:
    def __init__(self, users):
        self._users = users
        self.reads = 0

    async def get(self, user_id):
        self.reads += 1
        return await self._users.get(user_id)

    def __getattr__(self, name):
        return getattr(self._users, name)


@pytest.fixture
async def instances(tmp_path):
    need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
    settings = Settings(
        _env_file=None, data_dir=tmp_path, redis_url=REDIS_URL, rabbitmq_url="", REFLEX_ENV_MODE="dev"
    )
    a = await build_container(settings)
    try:
        b = await build_container(settings)
        try:
            await wait_until(lambda: a.auth.sessions.listening and b.auth.sessions.listening, "subscribed")
            yield settings, a, b
        finally:
            await b.close()
    finally:
        await a.close()


async def test_sign_out_everywhere_on_a_refuses_the_token_on_b(instances):
    settings, a, b = instances
    email = f"ada-{uuid.uuid4().hex[:10]}@example.com"
    sent = await a.auth.request_code(email)
    session = await a.auth.verify(email, code_from_outbox(settings.outbox_file, email), sent.challenge)
    b.auth._users = counted = CountingUsers(b.auth._users)

    for _ in range(3):
        assert (await b.auth.user_for_token(session.token)).id == session.user.id
    assert counted.reads == 1  # warm: B answers from its own cache

    await a.auth.sign_out_everywhere(session.user)
    await wait_until(lambda: b.auth.sessions.get(session.user.id) is None, "B heard of it over Redis")
    with pytest.raises(Unauthorized, match="signed out on every device"):
        await b.auth.user_for_token(session.token)


async def test_a_rename_on_a_shows_on_b(instances):
    settings, a, b = instances
    email = f"bob-{uuid.uuid4().hex[:10]}@example.com"
    sent = await a.auth.request_code(email)
    session = await a.auth.verify(email, code_from_outbox(settings.outbox_file, email), sent.challenge)
    await b.auth.user_for_token(session.token)
    await a.auth.rename(session.user, "Bob the Builder")
    await wait_until(lambda: b.auth.sessions.get(session.user.id) is None, "B heard of it over Redis")
    assert (await b.auth.user_for_token(session.token)).name == "Bob the Builder"
