"""What the live benchmarks share: a seeded world in a fresh PostgreSQL database, signed-in
tokens without the sign-in round trips, and how to watch a server's CPU and memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.limits import lifted_limits_env

SECRET = "live-benchmark-secret-" + "x" * 26  # the app under test runs with this JWT_SECRET
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class World:
    tokens: list[str]  # one per client
    chats: list[str]  # load chat of the pair (2k, 2k+1)


async def seed(db_url: str, clients: int, history: int, chats_per_user: int) -> World:
    """Users in a ring, each chatting with its `chats_per_user` nearest neighbours; the
    load chat of each pair of clients holds `history` messages, every other chat one."""
    from sqlalchemy import insert, text

    from chat_web.adapters.clock import SystemClock
    from chat_web.adapters.storage.sql import SqlDatabase
    from chat_web.adapters.storage.sql_schema import ChatRow, MemberRow, MessageRow, UserRow
    from chat_web.services.tokens import TokenService

    people = max(clients, chats_per_user + 1 + chats_per_user % 2)
    users = [uuid.uuid4().hex for _ in range(people)]
    pairs: dict[tuple[int, int], int] = {}
    for k in range(clients // 2):
        pairs[(2 * k, 2 * k + 1)] = history
    for user in range(people):
        for step in range(1, chats_per_user // 2 + 1):
            other = (user + step) % people
            pairs.setdefault((min(user, other), max(user, other)), 1)
    db = SqlDatabase(db_url)
    await db.migrate()
    chat_ids = {pair: uuid.uuid4().hex for pair in pairs}
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(UserRow.__table__),
            [
                {"id": u, "email": f"fan{i}@example.com", "name": f"Client {i}", "created_at": START}
                for i, u in enumerate(users)
            ],
        )
        chats, members = [], []
        for n, ((a, b), count) in enumerate(pairs.items()):
            chat_id = chat_ids[(a, b)]
            chats.append(
                {
                    "id": chat_id,
                    "kind": "direct",
                    "title": None,
                    "direct_key": ":".join(sorted((users[a], users[b]))),
                    "created_by": users[a],
                    "created_at": START,
                    "updated_at": START + timedelta(seconds=n),
                    "last_seq": count,
                    "preview": f"message {count}",
                    "preview_sender_id": users[a],
                }
            )
            members += [
                {"chat_id": chat_id, "user_id": users[u], "last_read_seq": count, "joined_at": START}
                for u in (a, b)
            ]
        await conn.execute(insert(ChatRow.__table__), chats)
        await conn.execute(insert(MemberRow.__table__), members)
        messages = []
        for (a, b), count in pairs.items():
            for seq in range(1, count + 1):
                messages.append(
                    {
                        "id": uuid.uuid4().hex,
                        "chat_id": chat_ids[(a, b)],
                        "seq": seq,
                        "sender_id": users[a if seq % 2 else b],
                        "kind": "text",
                        "text": f"message {seq}",
                        "client_id": None,
                        "created_at": START + timedelta(seconds=seq),
                        "deleted": False,
                    }
                )
                if len(messages) >= 10_000:
                    await conn.execute(insert(MessageRow.__table__), messages)
                    messages.clear()
        if messages:
            await conn.execute(insert(MessageRow.__table__), messages)
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await db.close()
    tokens = TokenService(SECRET, timedelta(days=1), SystemClock())
    return World(
        tokens=[tokens.issue(users[i]) for i in range(clients)],
        chats=[chat_ids[(2 * k, 2 * k + 1)] for k in range(clients // 2)],
    )


async def fresh_database() -> tuple[str, str]:
    import asyncpg

    name = f"fanout_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(POSTGRES)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}", name


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def cpu_seconds(root_pid: int) -> float:
    """CPU time used so far by a process and its descendants."""
    total, pending = 0.0, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            pending += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            continue
    return total


async def wait_quiet(pid: int, limit: float = 60.0) -> float:
    """Wait until the app has digested the clients' connections (under 10% of a core for a
    second), so the load meets a steady app: connecting 200 tabs at once is a burst of its own."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        if cpu_seconds(pid) - before < 0.1:
            break
    return time.monotonic() - started


# `reflex run --env prod --backend-only` on a free port (tests.support.processes.serve).
APP_COMMAND = [
    "{python}", "-m", "reflex", "run", "--env", "prod", "--backend-only", "--backend-port", "{port}",
]  # fmt: skip


def app_command() -> list[str]:
    import sys

    return [part.replace("{python}", sys.executable) for part in APP_COMMAND]


def app_env(data_dir: Path, db_url: str, workers: int, smtp_port: int) -> dict[str, str]:
    """The app under test: production mode, Redis for everything live, PostgreSQL, and a real
    SMTP server (production refuses to start without a mail path; nobody signs in here)."""
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS,
        "JWT_SECRET": SECRET,
        "GRANIAN_WORKERS": str(workers),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "RABBITMQ_URL": "",
        # No push service to reach here (production refuses push without a VAPID pair; the
        # push benchmark, benchmarks/push.py, sets its own).
        "PUSH_ENABLED": "false",
        # Every simulated client comes from 127.0.0.1: the per-address caps (sockets, tabs
        # opened a minute, streams) would stop them, so every LIMIT_* is lifted.
        **lifted_limits_env(),
    }


@contextlib.contextmanager
def mail_sink():
    """An SMTP server in this process for the app under test: yields its port."""
    from tests.support.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    try:
        yield sink.port
    finally:
        sink.stop()


@contextlib.asynccontextmanager
async def seeded(clients: int, history: int, chats_per_user: int):
    """A fresh database (dropped afterwards) and an empty Redis database, seeded: yields
    (database URL, World)."""
    from redis.asyncio import Redis

    flush = Redis.from_url(REDIS)
    await flush.flushdb()
    await flush.aclose()
    db_url, db_name = await fresh_database()
    try:
        world = await seed(
            db_url.replace("postgresql://", "postgresql+asyncpg://"), clients, history, chats_per_user
        )
        yield db_url, world
    finally:
        await drop_database(db_name)


async def redis_used_kb() -> int:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS)
    try:
        return int((await client.info("memory"))["used_memory"]) // 1024
    finally:
        await client.aclose()
