"""Abuse limits through the services, over the in-process limiter and a clock the tests move."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.mail.memory import RecordingMailQueue
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import InvalidOtp, RateLimited, ServiceUnavailable
from chat_web.services.auth import AuthService
from chat_web.services.chats import ChatService
from chat_web.services.limits import AbuseLimits, Limit
from chat_web.services.tokens import TokenService
from tests.support.code_browser import CodeBrowser

MINUTE = timedelta(minutes=1)
ROOMY = Limit(1000, MINUTE)
ROOMY_LIMITS = AbuseLimits(*([ROOMY] * 9))


def build(clock, **tight: Limit):
    limits = replace(ROOMY_LIMITS, **tight)
    store, limiter, mail = InMemoryStore(clock), InMemoryRateLimiter(clock), RecordingMailQueue()
    auth = CodeBrowser(
        AuthService(
            users=store.users,
            otps=InMemoryOtpStore(clock),
            limiter=limiter,
            mail=mail,
            tokens=TokenService("unit-test-secret-that-is-long-enough-123", timedelta(days=1), clock),
            clock=clock,
            hash_key=b"k" * 32,
            limits=limits,
        )
    )
    chats = ChatService(
        store.users, store.chats, store.messages, InProcessFanOut(), clock, limiter=limiter, limits=limits
    )
    return auth, chats, store, mail


async def refused(call) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        await call
    return caught.value


async def test_codes_per_client_network(clock):
    auth, *_ = build(clock, codes_per_client=Limit(2, MINUTE))
    await auth.request_code("a@example.com", client="10.0.0.1")
    await auth.request_code("b@example.com", client="10.0.0.1")
    caught = await refused(auth.request_code("c@example.com", client="10.0.0.1"))
    assert caught.retry_after == 60 and "your network" in caught.message
    await refused(auth.request_code("c@example.com", client="10.0.0.2"))  # the same /24
    await auth.request_code("c@example.com", client="10.0.1.2")  # another network
    clock.advance(seconds=60)
    await auth.request_code("d@example.com", client="10.0.0.1")  # a new window


async def test_codes_in_total(clock):
    auth, _, _, mail = build(clock, codes_total=Limit(3, MINUTE))
    for i in range(3):
        await auth.request_code(f"u{i}@example.com", client=f"10.0.0.{i}")
    await refused(auth.request_code("u9@example.com", client="10.0.0.9"))
    assert len(mail.sent) == 3


async def test_codes_per_account_per_day(clock):
    auth, *_ = build(clock, codes_per_account=Limit(3, timedelta(days=1)))
    for _ in range(3):
        await auth.request_code("a@example.com")
        clock.advance(seconds=61)  # past the resend cooldown
    caught = await refused(auth.request_code("A@example.com"))
    assert "today" in caught.message and caught.retry_after > 23 * 3600
    clock.advance(days=1)
    await auth.request_code("a@example.com")


async def test_a_refused_request_costs_nothing_and_neither_does_a_mail_outage(clock):
    auth, _, _, mail = build(clock, codes_per_client=Limit(2, MINUTE))
    await auth.request_code("a@example.com", client="10.0.0.1")
    for _ in range(3):  # the resend cooldown refuses: the address's count stays at one
        await refused(auth.request_code("a@example.com", client="10.0.0.1"))
    mail.fail_with = ServiceUnavailable("broker down")
    with pytest.raises(ServiceUnavailable):
        await auth.request_code("b@example.com", client="10.0.0.1")
    mail.fail_with = None
    await auth.request_code("b@example.com", client="10.0.0.1")
    await refused(auth.request_code("c@example.com", client="10.0.0.1"))


async def test_verify_attempts_per_client_network(clock):
    auth, *_ = build(clock, verifies_per_client=Limit(3, MINUTE))
    for i in range(3):
        with pytest.raises(InvalidOtp):
            await auth.verify(f"u{i}@example.com", "123456", client="10.0.0.1")
    caught = await refused(auth.verify("u9@example.com", "123456", client="10.0.0.1"))
    assert "attempts" in caught.message
    await refused(auth.verify("u9@example.com", "123456", client="10.0.0.2"))  # the same /24
    with pytest.raises(InvalidOtp):  # another network still gets its answer
        await auth.verify("u9@example.com", "123456", client="10.0.1.2")


async def test_messages_burst_then_sustained_rate(clock):
    _, chats, store, _ = build(
        clock, messages_burst=Limit(3, timedelta(seconds=10)), messages_sustained=Limit(5, timedelta(hours=1))
    )
    ann = await store.users.get_or_create("ann@example.com", "ann")
    bob = await store.users.get_or_create("bob@example.com", "bob")
    chat = await chats.open_direct(ann, bob.id)
    for i in range(3):
        await chats.send_text(ann, chat.id, f"m{i}")
    burst = await refused(chats.send_text(ann, chat.id, "too fast"))
    assert burst.retry_after == 10 and "too fast" in burst.message
    await chats.send_text(bob, chat.id, "bob has his own limits")
    clock.advance(seconds=10)
    await chats.send_text(ann, chat.id, "m3")
    await chats.send_text(ann, chat.id, "m4")
    sustained = await refused(chats.send_text(ann, chat.id, "one too many this hour"))
    assert sustained.retry_after > 3000
    assert (await store.chats.get(chat.id)).last_seq == 6  # nothing refused was stored


async def test_user_searches_per_user(clock):
    _, chats, store, _ = build(clock, searches=Limit(2, MINUTE))
    ann = await store.users.get_or_create("ann@example.com", "ann")
    await chats.search_users(ann, "a")
    await chats.search_users(ann, "b")
    caught = await refused(chats.search_users(ann, "c"))
    assert "searches" in caught.message.lower()


async def test_message_searches_share_the_searches_limit(clock):
    _, chats, store, _ = build(clock, searches=Limit(2, MINUTE))
    ann = await store.users.get_or_create("ann@example.com", "ann")
    await chats.search_messages(ann, "lunch")
    await chats.search_users(ann, "b")
    caught = await refused(chats.search_messages(ann, "dinner"))
    assert "searches" in caught.message.lower() and caught.retry_after >= 1


async def test_new_groups_and_direct_chats_per_user(clock):
    _, chats, store, _ = build(clock, chats_created=Limit(3, MINUTE))
    ann, bob, cat, dan, eve = [
        await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob", "cat", "dan", "eve")
    ]
    first = await chats.open_direct(ann, bob.id)
    await chats.create_group(ann, "one", [bob.id, cat.id])
    await chats.create_group(ann, "two", [bob.id, cat.id])
    caught = await refused(chats.create_group(ann, "three", [bob.id, cat.id]))
    assert caught.retry_after == 60 and "conversations" in caught.message
    await refused(chats.open_direct(ann, dan.id))
    assert (await chats.open_direct(ann, bob.id)).id == first.id  # reopening costs nothing
    assert len(await store.chats.list_for_user(ann.id)) == 3  # nothing refused was stored
    await chats.open_direct(eve, dan.id)  # eve has her own limit
    clock.advance(seconds=60)
    await chats.open_direct(ann, dan.id)
