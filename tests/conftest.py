"""Shared test helpers: a movable clock and the rule for missing services."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONGO_ENTRY = ROOT / ".tools/congodb/node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js"
CONGO_SERVER = ROOT / "tests/support/congo_server.mjs"

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, available: bool, how: str = "") -> None:
    """Under CI a missing service fails the test; elsewhere it skips with the reason."""
    if available:
        return
    reason = f"{name} is not reachable{': ' + how if how else ''}"
    if IN_CI:
        pytest.fail(f"{reason} (CI=true requires it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    from tests.support.postgres import temporary_database

    need_service("PostgreSQL", port_open("127.0.0.1", 5432), POSTGRES_URL)
    with temporary_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="session")
def congo_uri():
    """CongoDB, a MongoDB wire-protocol server in memory (not MongoDB: see its gaps)."""
    need_service("CongoDB test server", CONGO_ENTRY.exists(), "run scripts/setup-congodb.sh")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        ["node", str(CONGO_SERVER), str(CONGO_ENTRY), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    line = process.stdout.readline()
    while "ready" not in line and time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
    if "ready" not in line:
        process.kill()
        pytest.fail(f"CongoDB did not start: {line}{process.stdout.read()}")
    yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    process.terminate()
    process.wait(timeout=10)


async def open_redis():
    """A client of the real Redis (test database 15), or the missing-service rule."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
        reachable = True
    except (RedisError, OSError):
        reachable = False
        await client.aclose()
    need_service("Redis", reachable, REDIS_URL)
    return client


class FakeClock:
    def __init__(self, start: datetime | None = None):
        self.current = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def world(clock, monkeypatch):
    """The chat page's state over in-memory adapters (tests/support/chat_page.py), on the test
    clock. A module that means another world defines its own `world`."""
    from chat_web import container
    from chat_web.state.chat_list import ChatListState
    from tests.support.chat_page import World

    w = World(clock)
    monkeypatch.setattr(container, "_current", w.container)
    # The page's "now" is the test clock's now.
    monkeypatch.setattr(ChatListState, "_now", lambda self: clock.now())
    yield w
    await w.live.close()


_ORDER = ("tests/unit", "tests/contract", "tests/integration", "tests/e2e")


def pytest_collection_modifyitems(items):
    """Fast tests first; the browser tests, which start the app, last."""

    def rank(item) -> int:
        path = str(item.path).replace("\\", "/")
        return next((i for i, part in enumerate(_ORDER) if f"/{part}/" in path), len(_ORDER))

    items.sort(key=rank)
