"""The session check from a per-process cache: no storage read once warm, and every process
forgets a user as soon as their row changes (over the in-process fan-out)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.mail.memory import RecordingMailQueue
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import ServiceUnavailable, Unauthorized
from chat_web.domain.events import resync
from chat_web.services.auth import AuthService
from chat_web.services.sessions import SESSIONS_TOPIC, SessionCache
from chat_web.services.tokens import TokenService

SECRET = "unit-test-secret-that-is-long-enough-123"


class CountingUsers:
    """The user repository, counting the reads a session check makes."""

    def __init__(self, users):
        self._users = users
        self.reads = 0

    async def get(self, user_id):
        self.reads += 1
        return await self._users.get(user_id)

    def __getattr__(self, name):
        return getattr(self._users, name)


async def wait_until(condition, what: str) -> None:
    """Let the listener tasks run until `condition()` holds (an event was applied), or fail."""
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.001)


@contextlib.asynccontextmanager
async def processes(clock, count: int = 2, fanout=None):
    """`count` app processes' auth services over one store and one fan-out, each with its own cache."""
    store = InMemoryStore(clock)
    fanout = fanout or InProcessFanOut()
    tokens = TokenService(SECRET, timedelta(days=15), clock)
    made = []
    for _ in range(count):
        users = CountingUsers(store.users)
        cache = SessionCache(fanout, clock)
        cache.start()
        auth = AuthService(
            users=users,
            otps=InMemoryOtpStore(clock),
            limiter=InMemoryRateLimiter(clock),
            mail=RecordingMailQueue(),
            tokens=tokens,
            clock=clock,
            hash_key=b"k" * 32,
            events=fanout,
            sessions=cache,
        )
        made.append((auth, users))
    try:
        if not isinstance(fanout, BrokenFanOut):
            await wait_until(lambda: all(a.sessions.listening for a, _ in made), "listening")
        yield made, store, tokens
    finally:
        for auth, _ in made:
            await auth.sessions.close()


async def signed_in(store, tokens, email="ada@example.com"):
    user = await store.users.get_or_create(email, "Ada")
    return user, tokens.issue(user.id, user.token_version)


async def test_a_warm_check_reads_no_storage(clock):
    async with processes(clock, 1) as ([(auth, users)], store, tokens):
        user, token = await signed_in(store, tokens)
        assert (await auth.user_for_token(token)).id == user.id
        assert users.reads == 1
        for _ in range(5):
            assert (await auth.user_for_token(token)).id == user.id
        assert users.reads == 1


async def test_sign_out_everywhere_on_one_process_refuses_the_token_on_the_other(clock):
    async with processes(clock) as ([(a, _), (b, b_users)], store, tokens):
        user, token = await signed_in(store, tokens)
        await a.user_for_token(token)
        await b.user_for_token(token)
        await b.user_for_token(token)
        assert b_users.reads == 1  # B answers from its cache

        await a.sign_out_everywhere(user)
        with pytest.raises(Unauthorized, match="signed out on every device"):
            await a.user_for_token(token)  # the writer forgot at once, without the fan-out
        await wait_until(lambda: b.sessions.get(user.id) is None, "B heard of the sign-out")
        with pytest.raises(Unauthorized, match="signed out on every device"):
            await b.user_for_token(token)
        # A token issued after the sign-out works on both.
        fresh = tokens.issue(user.id, user.token_version + 1)
        assert (await b.user_for_token(fresh)).token_version == user.token_version + 1


async def test_a_rename_on_one_process_shows_on_the_other(clock):
    async with processes(clock) as ([(a, _), (b, _)], store, tokens):
        user, token = await signed_in(store, tokens)
        assert (await b.user_for_token(token)).name == "Ada"
        await a.rename(user, "Ada Lovelace")
        assert (await a.user_for_token(token)).name == "Ada Lovelace"
        await wait_until(lambda: b.sessions.get(user.id) is None, "B heard of the rename")
        assert (await b.user_for_token(token)).name == "Ada Lovelace"


async def test_an_entry_lives_at_most_the_ttl(clock):
    async with processes(clock, 1) as ([(auth, users)], store, tokens):
        user, token = await signed_in(store, tokens)
        await auth.user_for_token(token)
        clock.advance(seconds=29)
        await auth.user_for_token(token)
        assert users.reads == 1
        # A change that was never announced (the publish failed) is seen after the ttl.
        await store.users.bump_token_version(user.id)
        clock.advance(seconds=2)
        with pytest.raises(Unauthorized):
            await auth.user_for_token(token)
        assert users.reads == 2


async def test_a_token_newer_than_the_cached_row_reads_storage(clock):
    async with processes(clock, 1) as ([(auth, users)], store, tokens):
        user, token = await signed_in(store, tokens)
        await auth.user_for_token(token)
        bumped = await store.users.bump_token_version(user.id)  # elsewhere, announcement lost
        fresh = tokens.issue(user.id, bumped.token_version)
        assert (await auth.user_for_token(fresh)).token_version == bumped.token_version
        assert users.reads == 2
        with pytest.raises(Unauthorized):
            await auth.user_for_token(token)  # the row read for the new token replaced the old one


async def test_a_resync_empties_the_cache(clock):
    fanout = InProcessFanOut()
    async with processes(clock, 1, fanout) as ([(auth, users)], store, tokens):
        user, token = await signed_in(store, tokens)
        await auth.user_for_token(token)
        await fanout.publish(SESSIONS_TOPIC, resync())  # what a Redis reconnect delivers
        await wait_until(lambda: auth.sessions.get(user.id) is None, "resync applied")
        await auth.user_for_token(token)
        assert users.reads == 2


async def test_a_row_read_before_a_change_is_not_kept(clock):
    cache = SessionCache(InProcessFanOut(), clock)
    cache.start()
    try:
        await wait_until(lambda: cache.listening, "listening")
        store = InMemoryStore(clock)
        user = await store.users.get_or_create("ada@example.com", "Ada")
        generation = cache.generation  # a check starts its storage read...
        cache.forget(user.id)  # ...a change lands meanwhile...
        cache.put(user, generation)  # ...and the old row it read is not cached
        assert cache.get(user.id) is None
        cache.put(user, cache.generation)
        assert cache.get(user.id) == user
    finally:
        await cache.close()


class BrokenFanOut(InProcessFanOut):
    """A fan-out that cannot take subscriptions (Redis down at start)."""

    def subscribe(self, *topics, buffer=None):
        raise ServiceUnavailable("Redis cannot be reached; try again shortly.")


async def test_without_the_subscription_nothing_is_cached(clock):
    async with processes(clock, 1, BrokenFanOut()) as ([(auth, users)], store, tokens):
        user, token = await signed_in(store, tokens)
        for _ in range(3):
            assert (await auth.user_for_token(token)).id == user.id
        assert not auth.sessions.listening
        assert users.reads == 3
