"""One suite over every FanOut: in-process and Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
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


@pytest.fixture(params=["in-process", "redis"])
async def fanout_small_log(request):
    """Adapters that keep only a few replayable events, as if the window had passed."""
    if request.param == "in-process":
        yield InProcessFanOut(replay_count=5)
        return
    from chat_web.adapters.fanout.redis import RedisFanOut

    client = await open_redis()
    yield RedisFanOut(client, prefix=f"test:{uuid.uuid4().hex}:", replay_count=5)
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


async def test_one_event_to_many_topics_reaches_each_with_its_own_id(fanout):
    async with fanout.subscribe("user:a") as a, fanout.subscribe("user:b") as b:
        failed = await fanout.publish_many(["user:a", "user:b"], {"type": "message.new"}, replayable=True)
        got_a, got_b = await next_event(a), await next_event(b)
    assert failed == []
    assert got_a["type"] == got_b["type"] == "message.new" and got_a["id"] and got_b["id"]
    assert await fanout.replay("user:b", got_b["id"]) == []


async def test_publish_without_subscribers(fanout):
    await fanout.publish("user:nobody", {"x": 1})


async def test_a_reader_that_falls_behind_is_told_to_resync():
    # A stalled reader loses the backlog, but is told so: it catches up from storage.
    fanout = InProcessFanOut(queue_size=3)
    async with fanout.subscribe("user:a") as events:
        for n in range(5):
            await fanout.publish("user:a", {"n": n})
        got = [await next_event(events) for _ in range(3)]
    assert got[0] == {"type": "resync"}
    assert {"type": "resync"} in got and got[-1] == {"n": 4}


async def _named_redis(name: str):
    from redis.asyncio import Redis

    await (await open_redis()).aclose()  # the missing-service rule
    from tests.conftest import REDIS_URL

    return Redis.from_url(REDIS_URL, client_name=name)


async def _pubsub_clients(admin, name: str) -> list[dict]:
    return [c for c in await admin.client_list() if c.get("name") == name and int(c.get("sub", 0)) > 0]


async def test_redis_holds_one_pubsub_connection_for_any_number_of_subscribers():
    from chat_web.adapters.fanout.redis import RedisFanOut

    name = f"fanout-{uuid.uuid4().hex[:8]}"
    client, admin = await _named_redis(name), await open_redis()
    fanout = RedisFanOut(client, prefix=f"test:{name}:")
    try:
        async with contextlib.AsyncExitStack() as stack:
            streams = [await stack.enter_async_context(fanout.subscribe(f"user:{n}")) for n in range(40)]
            assert len(await _pubsub_clients(admin, name)) == 1
            await fanout.publish("user:7", {"to": 7})
            await fanout.publish("user:39", {"to": 39})
            assert await next_event(streams[7]) == {"to": 7}
            assert await next_event(streams[39]) == {"to": 39}
        # Every subscriber left: the channels are unsubscribed, nothing is delivered. The
        # UNSUBSCRIBE goes out from the connection's own task, so it may land a moment later.
        deadline = asyncio.get_running_loop().time() + 5
        while (await admin.pubsub_numsub(f"test:{name}:user:7"))[0][
            1
        ] and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        assert (await admin.pubsub_numsub(f"test:{name}:user:7"))[0][1] == 0
    finally:
        await fanout.close()
        await client.aclose()
        await admin.aclose()


async def test_redis_subscribers_resync_after_the_connection_is_cut():
    from chat_web.adapters.fanout.redis import RedisFanOut

    name = f"fanout-{uuid.uuid4().hex[:8]}"
    client, admin = await _named_redis(name), await open_redis()
    fanout = RedisFanOut(client, prefix=f"test:{name}:")
    try:
        async with fanout.subscribe("user:a") as events:
            (connection,) = await _pubsub_clients(admin, name)
            await admin.client_kill_filter(_id=connection["id"])
            # The reader reconnects by itself and says that events may have been lost.
            assert await next_event(events, timeout=10) == {"type": "resync"}
            await fanout.publish("user:a", {"after": True})
            assert await next_event(events) == {"after": True}
    finally:
        await fanout.close()
        await client.aclose()
        await admin.aclose()


# --- replay: what a reader missed, by event id ---------------------------------------------------


async def test_replayable_events_get_increasing_ids_and_can_be_replayed(fanout):
    async with fanout.subscribe("user:r") as events:
        await fanout.publish("user:r", {"type": "message.new", "n": 1}, replayable=True)
        await fanout.publish("user:r", {"type": "typing", "n": 2})  # for now only: no id
        await fanout.publish("user:r", {"type": "chat.read", "n": 3}, replayable=True)
        await fanout.publish("user:r", {"type": "chat.changed", "n": 4}, replayable=True)
        live = [await next_event(events) for _ in range(4)]
    assert [e["n"] for e in live] == [1, 2, 3, 4]
    assert "id" not in live[1]
    ids = [live[0]["id"], live[2]["id"], live[3]["id"]]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-")))) and len(set(ids)) == 3
    # A reader that saw the first event gets exactly the replayable ones after it.
    missed = await fanout.replay("user:r", ids[0])
    assert [(e["id"], e["n"]) for e in missed] == [(ids[1], 3), (ids[2], 4)]
    assert await fanout.replay("user:r", ids[2]) == []  # nothing new
    assert await fanout.replay("user:other", ids[0]) is None  # nothing kept there: resync
    assert await fanout.replay("user:r", "not-an-id") is None
    assert await fanout.replay("user:r", "99999999999999-0") is None  # from the future


async def test_a_reader_further_back_than_what_is_kept_must_resync(fanout_small_log):
    fanout = fanout_small_log
    async with fanout.subscribe("user:k") as events:
        for n in range(30):
            await fanout.publish("user:k", {"type": "message.new", "n": n}, replayable=True)
        seen = [await next_event(events) for _ in range(30)]
    assert await fanout.replay("user:k", seen[0]["id"]) is None  # its successors were trimmed
    recent = await fanout.replay("user:k", seen[-2]["id"])
    assert [e["n"] for e in recent] == [29]


# --- bursts of subscribers (thousands of API streams opening at once) ---------------------------


async def _redis_fanout(name: str):
    from chat_web.adapters.fanout.redis import RedisFanOut

    client = await open_redis()
    return client, RedisFanOut(client, prefix=f"test:{name}:")


async def _open_together(fanout, count: int, stack: contextlib.AsyncExitStack) -> list:
    """`count` subscribers (each on its own topic and the shared `room`), opened at once."""
    opened = await asyncio.gather(
        *(stack.enter_async_context(fanout.subscribe(f"user:{n}", "room")) for n in range(count))
    )
    return list(opened)


async def _until_redis_has(admin, name: str, *topics: str) -> None:
    """SUBSCRIBE went out; wait until Redis has applied it (PUBSUB NUMSUB counts it)."""

    async def counted() -> None:
        while not all(n == 1 for _, n in await admin.pubsub_numsub(*(f"test:{name}:{t}" for t in topics))):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(counted(), 30)


def _count_subscribes(monkeypatch, fail_first: list[BaseException] | None = None) -> list[int]:
    """Counts SUBSCRIBE commands (channels in each); optionally the first ones fail."""
    from redis.asyncio.client import PubSub

    sizes: list[int] = []
    real = PubSub.subscribe

    async def subscribe(self, *channels, **handlers):
        if fail_first:
            raise fail_first.pop(0)
        sizes.append(len(channels))
        return await real(self, *channels, **handlers)

    monkeypatch.setattr(PubSub, "subscribe", subscribe)
    return sizes


async def test_redis_a_burst_of_2000_subscribers_shares_a_few_subscribes_and_all_get_events(monkeypatch):
    name = f"burst-{uuid.uuid4().hex[:8]}"
    client, fanout = await _redis_fanout(name)
    admin = await open_redis()
    sizes = _count_subscribes(monkeypatch)
    try:
        async with contextlib.AsyncExitStack() as stack:
            streams = await asyncio.wait_for(_open_together(fanout, 2000, stack), 60)
            assert sum(sizes) == 2001  # every channel once: 2,000 users and the room
            assert len(sizes) < 20  # in a few commands, not one per subscriber
            await _until_redis_has(admin, name, "user:1999", "room")
            await fanout.publish("room", {"to": "all"})
            got = await asyncio.gather(*(next_event(events, timeout=30) for events in streams))
            assert got == [{"to": "all"}] * 2000
            await fanout.publish("user:1234", {"to": 1234})
            assert await next_event(streams[1234], timeout=10) == {"to": 1234}
    finally:
        await fanout.close()
        await client.aclose()
        await admin.aclose()


async def test_redis_a_full_socket_buffer_while_subscribing_is_retried_not_an_outage(monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    name = f"busy-{uuid.uuid4().hex[:8]}"
    client, fanout = await _redis_fanout(name)
    admin = await open_redis()
    try:
        async with fanout.subscribe("user:early") as early, contextlib.AsyncExitStack() as stack:
            # The next two SUBSCRIBEs hit a full socket buffer, as redis-py reports it.
            full = BlockingIOError(11, "Resource temporarily unavailable")
            wrapped = RedisConnectionError("Error 11 while writing to socket.")
            wrapped.__cause__ = full
            _count_subscribes(monkeypatch, fail_first=[full, wrapped])
            streams = await asyncio.wait_for(_open_together(fanout, 200, stack), 60)  # none refused
            await _until_redis_has(admin, name, "user:199", "room")
            await fanout.publish("room", {"to": "all"})
            got = await asyncio.gather(*(next_event(events, timeout=10) for events in streams))
            assert got == [{"to": "all"}] * 200
            # A reader that was listening while the connection broke may have missed events.
            assert await next_event(early) == {"type": "resync"}
    finally:
        await fanout.close()
        await client.aclose()
        await admin.aclose()
