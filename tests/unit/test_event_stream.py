"""The API event stream's rules, over in-memory adapters: replay, order, falling behind, ends."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.mail.memory import RecordingMailQueue
from chat_web.adapters.presence.memory import InMemoryPresence
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain.events import session_ended, user_topic
from chat_web.services.auth import AuthService
from chat_web.services.live import LiveHub
from chat_web.services.presence import PresenceService
from chat_web.services.stream import EventStreams
from chat_web.services.tokens import TokenService


@pytest.fixture
async def world(clock):
    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    tokens = TokenService("t" * 40, timedelta(days=1), clock)
    auth = AuthService(
        store.users,
        InMemoryOtpStore(clock),
        InMemoryRateLimiter(clock),
        RecordingMailQueue(),
        tokens,
        clock,
        b"k" * 32,
    )
    live = LiveHub(
        fanout, PresenceService(InMemoryPresence(), store.chats, fanout, clock), clock, sweep_every=3600
    )
    ann = await store.users.get_or_create("ann@example.com", "ann")
    yield (
        fanout,
        EventStreams(fanout, live, auth, heartbeat_seconds=3600, buffer=4),
        ann,
        tokens.issue(ann.id),
    )
    await live.close()


async def frames_until(stream, count: int, timeout: float = 2.0) -> list[str]:
    got = []

    async def take():
        async for frame in stream:
            got.append(frame)
            if len(got) == count:
                return

    await asyncio.wait_for(take(), timeout)
    return got


def data_of(frame: str) -> str:
    return next(line for line in frame.splitlines() if line.startswith("data: "))


async def test_a_stream_resumes_after_its_last_id_without_repeats(world):
    fanout, streams, ann, token = world
    topic = user_topic(ann.id)
    await fanout.publish(topic, {"type": "message.new", "n": 1}, replayable=True)
    stream = streams.frames(ann, token)
    assert (await frames_until(stream, 1))[0].startswith("retry:")
    await fanout.publish(topic, {"type": "message.new", "n": 2}, replayable=True)
    (frame,) = await frames_until(stream, 1)
    seen_id = frame.split("\n")[0].removeprefix("id: ")
    await stream.aclose()
    for n in (3, 4):
        await fanout.publish(topic, {"type": "message.new", "n": n}, replayable=True)
    resumed = streams.frames(ann, token, seen_id)
    frames = await frames_until(resumed, 3)
    assert ['"n":3' in data_of(f) for f in frames[1:]] == [True, False]
    assert '"n":4' in data_of(frames[2])
    await resumed.aclose()


async def test_a_reader_that_falls_behind_gets_resync_and_the_stream_ends(world):
    fanout, streams, ann, token = world
    stream = streams.frames(ann, token)
    await frames_until(stream, 1)
    for n in range(20):  # the client reads nothing meanwhile: far more than the buffer of 4
        await fanout.publish(user_topic(ann.id), {"type": "message.new", "n": n}, replayable=True)
        await asyncio.sleep(0)
    rest = [frame async for frame in stream]
    assert rest[-1].startswith("event: resync")
    assert len(rest) <= 5


async def test_the_stream_ends_when_this_session_ends(world):
    fanout, streams, ann, token = world
    stream = streams.frames(ann, token)
    await frames_until(stream, 1)
    await fanout.publish(user_topic(ann.id), session_ended(token_id="someone-elses"), replayable=True)
    await fanout.publish(user_topic(ann.id), {"type": "typing", "chatId": "c", "userId": "x", "name": "x"})
    passed = await frames_until(stream, 2)
    assert "session.ended" in passed[0] and "typing" in passed[1]  # another session: goes on
    await fanout.publish(user_topic(ann.id), session_ended(version=1), replayable=True)
    rest = [frame async for frame in stream]
    assert len(rest) == 1 and "session.ended" in rest[0]
