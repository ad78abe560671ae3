"""The API event stream's rules, over in-memory adapters: replay, order, falling behind, ends."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.mail.memory import RecordingMailQueue
from chat_web.adapters.presence.memory import InMemoryPresence
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import Message, ServiceUnavailable
from chat_web.domain.events import message_edited, message_new, message_reacted, session_ended, user_topic
from chat_web.services.auth import AuthService
from chat_web.services.live import LiveHub
from chat_web.services.presence import PresenceService
from chat_web.services.repeats import CHATS, WINDOW, RepeatFilter
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


# --- a message published more than once is streamed once ----------------------------------------


def _message(seq: int, change: int = 0, chat_id: str = "c1", text: str = "hi") -> Message:
    return Message(
        id=f"m{seq}", chat_id=chat_id, seq=seq, sender_id="u", kind="text", text=text, image=None,
        client_id=None, created_at=datetime(2026, 1, 1, tzinfo=UTC), change=change,
    )  # fmt: skip


async def test_a_repeated_message_event_is_streamed_once(world):
    fanout, _, ann, token = world
    topic = user_topic(ann.id)
    stream = _streams_over(fanout, world, buffer=64).frames(ann, token)
    await frames_until(stream, 1)
    published = [
        message_new(_message(2)),
        message_new(_message(2)),  # a retried send published it again
        message_new(_message(1)),  # out of order, but new
        message_new(_message(2, chat_id="c2")),  # the same seq in another chat
        message_edited(_message(1, change=1, text="edited")),
        message_edited(_message(1, change=1, text="edited")),  # a relay republished the edit
        message_reacted(_message(1, change=2)),
        message_new(_message(1)),  # the first one again, after everything else
        {"type": "typing", "chatId": "c1", "userId": "x", "name": "x"},  # not a message event
    ]
    for event in published:
        await fanout.publish(topic, event, replayable=True)
    frames = await frames_until(stream, 6)
    sent = [(f.split("event: ")[1].split("\n")[0], data_of(f)) for f in frames]
    assert [kind for kind, _ in sent] == [
        "message.new", "message.new", "message.new", "message.edited", "message.reacted", "typing",
    ]  # fmt: skip
    assert ['"chatId":"c2"' in data for _, data in sent] == [False, False, True, False, False, False]
    await stream.aclose()


def test_the_repeat_filter_is_bounded_and_delivers_what_it_forgot():
    repeats = RepeatFilter()
    first = message_new(_message(1))
    assert repeats.first_time(first) and not repeats.first_time(first)
    # Far newer messages push seq 1 out of the window: a late repeat of it is delivered
    # again (a repeat is harmless to a page that merges by seq; a lost message is not).
    assert repeats.first_time(message_new(_message(1 + WINDOW)))
    assert repeats.first_time(first)
    # Within the window, out-of-order seqs are each delivered once.
    late = message_new(_message(WINDOW))
    assert repeats.first_time(late) and not repeats.first_time(late)
    # Memory is per chat, for a bounded number of chats: the least recent one is forgotten.
    for n in range(CHATS):
        assert repeats.first_time(message_new(_message(1, chat_id=f"other{n}")))
    assert repeats.first_time(late)
    assert len(repeats._chats) == CHATS


# --- a failure after the stream started ends it with resync ---------------------------------------


class _BrokenReplay(InProcessFanOut):
    """Subscribing works; reading what was missed finds the service gone."""

    async def replay(self, topic, after):
        raise ServiceUnavailable("Redis cannot be reached; try again shortly.")


class _NoSubscribe(InProcessFanOut):
    @contextlib.asynccontextmanager
    async def subscribe(self, *topics, buffer=None):
        raise ServiceUnavailable("Redis cannot be reached; try again shortly.")
        yield


def _streams_over(fanout, world, buffer: int = 4) -> EventStreams:
    _, streams, _, _ = world
    return EventStreams(fanout, streams._live, streams._auth, heartbeat_seconds=3600, buffer=buffer)


async def test_a_failure_once_the_stream_started_ends_it_with_resync(world):
    _, _, ann, token = world
    streams = _streams_over(_BrokenReplay(), world)
    frames = [frame async for frame in streams.frames(ann, token, last_event_id="1-0")]
    assert frames[0].startswith("retry:")
    assert len(frames) == 2 and frames[1].startswith("event: resync")
    assert streams.open_streams == 0


async def test_a_failure_before_the_first_frame_is_raised_for_an_error_status(world):
    _, _, ann, token = world
    streams = _streams_over(_NoSubscribe(), world)
    with pytest.raises(ServiceUnavailable):
        await anext(streams.frames(ann, token))


async def test_a_user_holds_at_most_max_per_user_streams_and_a_closed_one_frees_its_place(world, clock):
    import dataclasses

    from chat_web.domain import RateLimited

    _, streams, ann, token = world
    streams.max_per_user = 2
    first, second = streams.frames(ann, token), streams.frames(ann, token)
    for stream in (first, second):
        assert (await frames_until(stream, 1))[0].startswith("retry:")
    assert streams.streams_of(ann.id) == 2
    third = streams.frames(ann, token)
    with pytest.raises(RateLimited, match="at most 2"):
        await anext(third)
    # Someone else is not affected by Ann's streams.
    other = streams.frames(dataclasses.replace(ann, id="someone-else"), token)
    assert (await frames_until(other, 1))[0].startswith("retry:")
    await other.aclose()
    await first.aclose()
    assert streams.streams_of(ann.id) == 1
    again = streams.frames(ann, token)
    assert (await frames_until(again, 1))[0].startswith("retry:")
    await again.aclose()
    await second.aclose()
    assert streams.streams_of(ann.id) == 0 and streams._per_user == {}


# --- the client's departure ends the stream, noticed by one waiting task, not by polling ----------


class _Departure:
    """What the API hands in as `departed`: returns when the client leaves (here: when told)."""

    def __init__(self, fails: bool = False):
        self.left = asyncio.Event()
        self.calls = 0
        self.fails = fails
        self.stopped = False  # stopped waiting because the stream ended first

    async def __call__(self) -> None:
        self.calls += 1
        try:
            await self.left.wait()
        except asyncio.CancelledError:
            self.stopped = True
            raise
        if self.fails:
            raise RuntimeError("the connection cannot be watched")


def _released(streams: EventStreams, fanout: InProcessFanOut, user_id: str) -> bool:
    return (
        not fanout._subscribers.listened(user_topic(user_id))
        and streams.open_streams == 0
        and streams.streams_of(user_id) == 0
        and streams._live._held == {}
    )


@pytest.mark.parametrize("fails", [False, True], ids=["disconnect", "watch-fails"])
async def test_a_quiet_stream_ends_and_lets_go_of_everything_when_its_client_leaves(world, fails):
    fanout, streams, ann, token = world
    departure = _Departure(fails)
    stream = streams.frames(ann, token, departed=departure)
    await frames_until(stream, 1)
    rest = asyncio.create_task(anext(stream, None))
    await asyncio.sleep(0.3)  # quiet: no events, and the heartbeat is an hour away
    assert not rest.done() and departure.calls == 1  # asked once, then waited: no polling
    assert fanout._subscribers.listened(user_topic(ann.id)) and streams.open_streams == 1
    departure.left.set()
    assert await asyncio.wait_for(rest, 1.0) is None  # ended, with nothing more to send
    assert _released(streams, fanout, ann.id)


async def test_events_still_queued_when_the_client_leaves_are_not_sent(world):
    fanout, streams, ann, token = world
    departure = _Departure()
    stream = streams.frames(ann, token, departed=departure)
    await frames_until(stream, 1)
    await fanout.publish(user_topic(ann.id), {"type": "message.new", "n": 1}, replayable=True)
    await frames_until(stream, 1)
    for n in (2, 3):
        await fanout.publish(user_topic(ann.id), {"type": "message.new", "n": n}, replayable=True)
    departure.left.set()
    await asyncio.sleep(0)  # the departure lands behind the queued events: it goes first
    assert [frame async for frame in stream] == []
    assert _released(streams, fanout, ann.id)


async def test_a_stream_that_ends_on_its_own_stops_watching_the_connection_before_it_ends(world):
    fanout, streams, ann, token = world
    departure = _Departure()
    stream = streams.frames(ann, token, departed=departure)
    await frames_until(stream, 1)
    await fanout.publish(user_topic(ann.id), session_ended(version=1), replayable=True)
    rest = [frame async for frame in stream]
    assert len(rest) == 1 and "session.ended" in rest[0]
    assert departure.stopped  # already, not once the generator is collected
    assert _released(streams, fanout, ann.id)


async def test_a_quiet_stream_sends_a_heartbeat_and_an_event_resets_its_timer(world):
    fanout, streams, ann, token = world
    streams.heartbeat_seconds = 0.2
    stream = streams.frames(ann, token, departed=_Departure())
    await frames_until(stream, 1)
    assert await frames_until(stream, 1, timeout=1.0) == [": ping\n\n"]
    await asyncio.sleep(0.1)
    await fanout.publish(user_topic(ann.id), {"type": "message.new", "n": 1}, replayable=True)
    (event,) = await frames_until(stream, 1)
    assert event.startswith("id: ")
    started = asyncio.get_running_loop().time()
    assert await frames_until(stream, 1, timeout=1.0) == [": ping\n\n"]
    assert asyncio.get_running_loop().time() - started >= 0.15  # a full period after the event
    await stream.aclose()
    assert _released(streams, fanout, ann.id)
