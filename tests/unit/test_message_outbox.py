"""Publish after commit: a stored message is always announced, once per reader, and retries of a
send are idempotent (no second message, no limit spent, published again only if it may not
have gone out)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryRateLimiter
from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import NewMessage, RateLimited, ServiceUnavailable
from chat_web.domain.events import MESSAGE_NEW, user_topic
from chat_web.services.announcer import Announcer
from chat_web.services.chats import ChatService
from chat_web.services.limits import AbuseLimits, Limit

MINUTE = timedelta(minutes=1)
ROOMY = Limit(1000, MINUTE)


class FlakyFanOut(InProcessFanOut):
    """Refuses the next `failures` publishes, as a Redis that just went away would."""

    def __init__(self):
        super().__init__()
        self.failures = 0

    async def publish(self, topic, event, replayable=False):
        if self.failures > 0:
            self.failures -= 1
            raise ServiceUnavailable("Redis cannot be reached; try again shortly.")
        await super().publish(topic, event, replayable)


@contextlib.asynccontextmanager
async def inbox(fanout, user):
    """What `user`'s tabs would receive: message.new events, collected as they come."""
    received: list[dict] = []

    async def read(events):
        async for event in events:
            if event["type"] == MESSAGE_NEW:
                received.append(event)

    async with fanout.subscribe(user_topic(user.id)) as events:
        reader = asyncio.create_task(read(events))
        await asyncio.sleep(0)
        try:
            yield received
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
def world(clock):
    store = InMemoryStore(clock)
    fanout = FlakyFanOut()
    burst = Limit(3, MINUTE)
    limits = AbuseLimits(*([ROOMY] * 9))
    limits = replace(limits, messages_burst=burst)
    chats = ChatService(
        store.users,
        store.chats,
        store.messages,
        fanout,
        clock,
        limiter=InMemoryRateLimiter(clock),
        limits=limits,
    )
    return chats, store, fanout


async def pair(chats, store):
    ann = await store.users.get_or_create("ann@example.com", "Ann")
    bob = await store.users.get_or_create("bob@example.com", "Bob")
    return ann, bob, await chats.open_direct(ann, bob.id)


async def test_a_publish_that_fails_after_commit_is_no_error_and_the_sweep_delivers_it_once(world, clock):
    chats, store, fanout = world
    ann, bob, chat = await pair(chats, store)
    async with inbox(fanout, bob) as bobs:
        fanout.failures = 2  # both topics of the first publish
        message, created = await chats.send_text(ann, chat.id, "stored, not yet told", "c-1")
        await settle()
        assert created and bobs == []
        await chats.announcer.sweep()  # within the grace period: the sender may still publish
        await settle()
        assert bobs == []
        clock.advance(seconds=6)
        assert await chats.announcer.sweep() == 1
        await chats.announcer.sweep()
        await settle()
        assert [e["message"]["id"] for e in bobs] == [message.id]


async def test_a_process_that_died_before_announcing_is_covered_by_the_next_ones_first_sweep(world, clock):
    chats, store, fanout = world
    ann, bob, chat = await pair(chats, store)
    # The dying process committed the send and never published.
    sent = await store.messages.send(NewMessage(chat.id, ann.id, "text", text="last words"))
    clock.advance(seconds=10)
    async with inbox(fanout, bob) as bobs:
        restarted = Announcer(store.messages, fanout, clock, sweep_every=3600)
        restarted.start()
        try:
            for _ in range(50):
                if bobs:
                    break
                await asyncio.sleep(0.01)
        finally:
            await restarted.stop()
        assert [e["message"]["id"] for e in bobs] == [sent.message.id]
    assert await store.messages.unannounced(clock.now(), 10) == []


async def test_a_retry_of_an_unannounced_message_publishes_it_and_the_sweep_does_not_repeat_it(world, clock):
    chats, store, fanout = world
    ann, bob, chat = await pair(chats, store)
    async with inbox(fanout, bob) as bobs:
        fanout.failures = 2
        first, _ = await chats.send_text(ann, chat.id, "hello?", "c-1")
        again, created = await chats.send_text(ann, chat.id, "hello?", "c-1")
        assert again.id == first.id and not created
        await settle()
        assert [e["message"]["id"] for e in bobs] == [first.id]
        again, created = await chats.send_text(ann, chat.id, "hello?", "c-1")  # announced now: quiet
        clock.advance(seconds=60)
        await chats.announcer.sweep()
        await settle()
        assert [e["message"]["id"] for e in bobs] == [first.id]


async def test_retries_cost_no_limit_and_pass_even_when_limited(world):
    chats, store, _ = world
    ann, _, chat = await pair(chats, store)
    first, _ = await chats.send_text(ann, chat.id, "one", "c-1")
    for _ in range(5):
        again, created = await chats.send_text(ann, chat.id, "one", "c-1")
        assert again.id == first.id and not created
    await chats.send_text(ann, chat.id, "two", "c-2")
    await chats.send_text(ann, chat.id, "three", "c-3")  # the burst of 3 is used up by 3 messages
    with pytest.raises(RateLimited):
        await chats.send_text(ann, chat.id, "four", "c-4")
    again, created = await chats.send_text(ann, chat.id, "one", "c-1")  # limited, yet a retry
    assert again.id == first.id and not created


async def test_a_retried_reply_whose_original_was_deleted_meanwhile_gets_the_stored_reply(world):
    chats, store, _ = world
    ann, bob, chat = await pair(chats, store)
    question, _ = await chats.send_text(bob, chat.id, "lunch?")
    reply, _ = await chats.send_text(ann, chat.id, "yes", "r-1", reply_to=question.seq)
    await chats.delete_message(bob, chat.id, question.id)
    again, created = await chats.send_text(ann, chat.id, "yes", "r-1", reply_to=question.seq)
    assert again.id == reply.id and not created and again.quote is not None
