"""One suite over every FanOut: in-process and Redis pub/sub."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from tests.conftest import open_redis


@pytest.fixture(params=["in-process", "redis"])
async def fanout(request):
    if request.param == "in-process":
        yield InProcessFanOut()
        return
    from chat_web.adapters.fanout.redis import RedisFanOut

    client = await open_redis()
    yield RedisFanOut(client, prefix=f"test:{uuid.uuid4().hex}:")
    await client.aclose()


async def next_event(events, timeout=2.0):
    return await asyncio.wait_for(anext(events), timeout)


async def test_subscriber_gets_events_of_its_topics_in_order(fanout):
    async with fanout.subscribe("user:a", "user:b") as events:
        await fanout.publish("user:a", {"n": 1})
        await fanout.publish("user:other", {"n": "not mine"})
        await fanout.publish("user:b", {"n": 2})
        await fanout.publish("user:a", {"n": 3, "text": "Zoë 🚀"})
        got = [await next_event(events) for _ in range(3)]
    assert got == [{"n": 1}, {"n": 2}, {"n": 3, "text": "Zoë 🚀"}]


async def test_every_subscriber_of_a_topic_gets_the_event(fanout):
    async with fanout.subscribe("user:a") as first, fanout.subscribe("user:a") as second:
        await fanout.publish("user:a", {"type": "message.new"})
        assert await next_event(first) == await next_event(second) == {"type": "message.new"}


async def test_no_event_after_unsubscribing(fanout):
    async with fanout.subscribe("user:a") as events:
        pass
    await fanout.publish("user:a", {"late": True})  # nobody listens: nothing breaks
    async with fanout.subscribe("user:a") as events:
        await fanout.publish("user:a", {"fresh": True})
        assert await next_event(events) == {"fresh": True}  # nothing kept from before


async def test_publish_without_subscribers(fanout):
    await fanout.publish("user:nobody", {"x": 1})
