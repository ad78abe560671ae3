"""One suite over every PresenceStore: in-process and Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_web.adapters.presence.memory import InMemoryPresence
from tests.conftest import open_redis

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=["in-process", "redis"])
async def presence(request):
    if request.param == "in-process":
        yield InMemoryPresence()
        return
    from chat_web.adapters.presence.redis import RedisPresence

    client = await open_redis()
    yield RedisPresence(client, prefix=f"test:{uuid.uuid4().hex}:presence:")
    await client.aclose()


async def test_first_lease_brings_a_user_online_and_later_ones_do_not(presence):
    assert await presence.touch([("ann", "tab1")], until=at(10), now=at(0)) == ["ann"]
    assert await presence.touch([("ann", "tab2"), ("bob", "tab3")], until=at(10), now=at(1)) == ["bob"]
    assert await presence.touch([("ann", "tab1")], until=at(13), now=at(3)) == []
    assert await presence.online(["ann", "bob", "cyd"], now=at(5)) == {"ann", "bob"}


async def test_a_user_stays_online_while_any_lease_lasts(presence):
    await presence.touch([("ann", "tab1")], until=at(10), now=at(0))
    await presence.touch([("ann", "tab2")], until=at(20), now=at(0))
    assert await presence.online(["ann"], now=at(15)) == {"ann"}
    assert not await presence.settle("ann", now=at(15), left_at=at(5))
    assert await presence.online(["ann"], now=at(20)) == set()


async def test_settle_records_last_seen_only_once_every_lease_ended(presence):
    await presence.touch([("ann", "tab1")], until=at(10), now=at(0))
    assert not await presence.settle("ann", now=at(9), left_at=at(0))
    assert await presence.last_seen(["ann"]) == {}
    assert await presence.settle("ann", now=at(11), left_at=at(1))
    assert await presence.last_seen(["ann", "bob"]) == {"ann": at(1)}
    # Coming back after the lease ended counts as coming online again.
    assert await presence.touch([("ann", "tab9")], until=at(30), now=at(20)) == ["ann"]


async def test_empty_questions(presence):
    assert await presence.touch([], until=at(10), now=at(0)) == []
    assert await presence.online([], now=at(0)) == set()
    assert await presence.last_seen([]) == {}
