"""Every storage backend behind one fixture: memory, SQLite, PostgreSQL, MongoDB wire server."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from chat_web.adapters.clock import SystemClock
from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]
CONGO_ENTRY = ROOT / ".tools/congodb/node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js"
CONGO_SERVER = ROOT / "tests/support/congo_server.mjs"


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


BACKENDS = ["memory", "sqlite", "postgresql", "congodb", "mongodb"]


@pytest.fixture(params=BACKENDS)
async def store(request, tmp_path):
    kind = request.param
    if kind == "memory":
        from chat_web.adapters.memory_store import InMemoryStore

        store = InMemoryStore(SystemClock())
    elif kind in ("sqlite", "postgresql"):
        from chat_web.adapters.sql import SqlDatabase, SqlStore

        url = (
            f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
            if kind == "sqlite"
            else request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+asyncpg://")
        )
        db = SqlDatabase(url)
        await db.migrate()
        store = SqlStore(db)
    else:
        from chat_web.adapters.mongo import MongoStore

        if kind == "congodb":
            uri = request.getfixturevalue("congo_uri")
        else:
            uri = os.environ.get("MONGODB_URI", "")
            if not uri:
                pytest.skip("MONGODB_URI is not set: no real MongoDB to run the suite against")
        store = MongoStore(uri, database=f"contract_{uuid.uuid4().hex[:12]}")
        await store.prepare()
    store.kind = kind
    yield store
    if kind in ("congodb", "mongodb"):
        await store.client.drop_database(store.db.name)
    await store.close()


def known_gap(request, store, *kinds: str, reason: str) -> None:
    """Expect the named backends to fail this case, for the reason given; it still runs."""
    if store.kind in kinds:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=False))


CONGO_NO_UNIQUE = "CongoDB (test server) does not enforce unique indexes; a real MongoDB does"
