"""One suite over every OtpStore and RateLimiter: in-process and Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.clock import SystemClock
from chat_web.domain import OtpRecord
from tests.conftest import open_redis


@pytest.fixture(params=["memory", "redis"])
async def backend(request):
    if request.param == "memory":
        clock = SystemClock()
        yield InMemoryOtpStore(clock), InMemoryRateLimiter(clock)
        return
    from chat_web.adapters.auth.redis import RedisOtpStore, RedisRateLimiter

    client = await open_redis()
    prefix = f"test:{uuid.uuid4().hex}:"
    yield RedisOtpStore(client, prefix + "otp:"), RedisRateLimiter(client, prefix + "rate:")
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def record(**kw) -> OtpRecord:
    base = dict(code_hash="h" * 64, expires_at=datetime.now(UTC) + timedelta(minutes=5), attempts=0)
    return OtpRecord(**{**base, **kw})


async def test_take_attempt_counts_and_returns_the_record(backend):
    otps, _ = backend
    saved = record()
    await otps.save("a@example.com", saved, timedelta(minutes=5))
    first = await otps.take_attempt("a@example.com")
    second = await otps.take_attempt("a@example.com")
    assert (first.attempts, second.attempts) == (1, 2)
    assert second.code_hash == saved.code_hash
    assert abs((second.expires_at - saved.expires_at).total_seconds()) < 0.001


async def test_missing_code(backend):
    otps, _ = backend
    assert await otps.take_attempt("nobody@example.com") is None
    assert await otps.delete("nobody@example.com") is False
    # Asking about a missing code must not create one.
    assert await otps.take_attempt("nobody@example.com") is None


async def test_save_replaces_and_resets_the_count(backend):
    otps, _ = backend
    await otps.save("a@example.com", record(code_hash="1" * 64), timedelta(minutes=5))
    await otps.take_attempt("a@example.com")
    await otps.save("a@example.com", record(code_hash="2" * 64), timedelta(minutes=5))
    again = await otps.take_attempt("a@example.com")
    assert (again.code_hash, again.attempts) == ("2" * 64, 1)


async def test_delete_succeeds_once_even_when_racing(backend):
    otps, _ = backend
    await otps.save("a@example.com", record(), timedelta(minutes=5))
    results = await asyncio.gather(*[otps.delete("a@example.com") for _ in range(20)])
    assert results.count(True) == 1


async def test_concurrent_attempts_are_each_counted(backend):
    otps, _ = backend
    await otps.save("a@example.com", record(), timedelta(minutes=5))
    taken = await asyncio.gather(*[otps.take_attempt("a@example.com") for _ in range(25)])
    assert sorted(t.attempts for t in taken) == list(range(1, 26))


async def eventually(condition, timeout: float = 5.0) -> None:
    """Wait until the async condition holds; fail at the deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def test_store_forgets_after_ttl(backend):
    otps, _ = backend
    await otps.save("a@example.com", record(), timedelta(milliseconds=300))
    assert await otps.take_attempt("a@example.com") is not None  # there until the TTL ends

    async def forgotten() -> bool:
        return await otps.take_attempt("a@example.com") is None

    await eventually(forgotten)


async def test_limiter_allows_up_to_the_limit_then_reports_the_wait(backend):
    _, limiter = backend
    window = timedelta(seconds=60)
    assert [await limiter.acquire("k", 2, window) for _ in range(2)] == [0.0, 0.0]
    wait = await limiter.acquire("k", 2, window)
    assert 59 < wait <= 60


async def test_limiter_window_ends(backend):
    _, limiter = backend
    window = timedelta(milliseconds=300)
    assert await limiter.acquire("k", 1, window) == 0.0
    assert 0 < await limiter.acquire("k", 1, window) <= 0.3

    async def allowed_again() -> bool:
        return await limiter.acquire("k", 1, window) == 0.0

    await eventually(allowed_again)


async def test_limiter_release_gives_the_hit_back(backend):
    _, limiter = backend
    assert await limiter.acquire("k", 1, timedelta(seconds=60)) == 0.0
    await limiter.release("k")
    assert await limiter.acquire("k", 1, timedelta(seconds=60)) == 0.0
    await limiter.release("never-used")  # harmless


async def test_limiter_keys_are_independent(backend):
    _, limiter = backend
    assert await limiter.acquire("a", 1, timedelta(seconds=60)) == 0.0
    assert await limiter.acquire("b", 1, timedelta(seconds=60)) == 0.0


async def test_concurrent_hits_admit_exactly_the_limit(backend):
    _, limiter = backend
    waits = await asyncio.gather(*[limiter.acquire("burst", 3, timedelta(seconds=60)) for _ in range(30)])
    assert sum(1 for w in waits if w == 0.0) == 3
