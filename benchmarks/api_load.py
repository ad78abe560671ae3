"""API load benchmark: signed-in clients sending and reading over REST against the production server.

    python -m benchmarks.api_load                                # 200 clients, 60 s, PostgreSQL and SQLite
    python -m benchmarks.api_load --clients 50 --seconds 10 --backends sqlite
    python -m benchmarks.api_load --clients 20 --seconds 5 --skip-app   # the floors only

Each run measures, with the same client, first the floor: a bare ASGI "hello" (benchmarks/hello.py)
on Granian, the server `reflex run --env prod` uses. Then, for each storage backend, the lean
floor of the same work (benchmarks/lean_floor.py: the same three routes with the same guarantees
in a raw ASGI app, one Granian worker, one SQL statement per request on PostgreSQL, one
transaction on SQLite) and the app itself, started as `reflex run --env prod --backend-only`.
Every client is its own signed-in user with one keep-alive connection; clients are paired in
direct chats, and each one loops: send a message, read what is new in its chat (after_seq), and
every fourth time list its chats. The app's users sign in through the API (codes from an SMTP
sink); the lean floor's are inserted directly, with tokens of the same claims.

The abuse limits are lifted (all 200 users come from 127.0.0.1). Everything runs on 127.0.0.1
and stops by itself: each phase lasts --seconds, each client makes at most --max-requests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.common import percentile, table
from benchmarks.http1 import Connection
from benchmarks.pyspy_top import recording, top
from tests.support.limits import lifted_limits_env
from tests.support.processes import HOST, serve, serving
from tests.support.sign_in import sign_in
from tests.support.smtp_sink import SmtpSink

API = "/api/v1"
ADMIN_POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def error(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what


@dataclass
class Client:
    token: str
    chat_id: str = ""
    last_seq: int = 0


def sign_in_clients(base: str, code_for: Callable[[str], str], count: int) -> list[Client]:
    """`count` users signed in through the API (codes from an SMTP sink), paired in direct chats."""
    clients: list[Client] = []
    ids: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as api:
        for i in range(count):
            session = sign_in(api, code_for, f"load-{i}-{uuid.uuid4().hex[:8]}@example.com")
            clients.append(Client(session["token"]))
            ids.append(session["user"]["id"])
        for a in range(0, count - 1, 2):
            headers = {"Authorization": f"Bearer {clients[a].token}"}
            chat = api.post("/chat/new", json={"otherUserId": ids[a + 1]}, headers=headers)
            chat.raise_for_status()
            clients[a].chat_id = clients[a + 1].chat_id = chat.json()["chatId"]
    return [c for c in clients if c.chat_id]


async def _timed(tally: Tally, connection: Connection, method: str, path: str, body=None) -> bytes | None:
    began = time.perf_counter()
    try:
        status, answer = await connection.request(method, path, body)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.error(f"{method} {path}: {exc!r}")
        return None
    tally.latencies.append(time.perf_counter() - began)
    if status >= 300:
        tally.error(f"{method} {path}: {status} {answer[:200]!r}")
        return None
    return answer


async def chat_loop(port: int, client: Client, deadline: float, max_requests: int, tally: Tally) -> None:
    connection = Connection(HOST, port, {"Authorization": f"Bearer {client.token}"})
    try:
        for i in range(max_requests // 3):
            if time.monotonic() >= deadline:
                return
            sent = {"chatId": client.chat_id, "text": f"message {i}", "clientId": uuid.uuid4().hex}
            await _timed(tally, connection, "POST", f"{API}/message", sent)
            news = f"{API}/message/{client.chat_id}?after_seq={client.last_seq}&limit=50"
            page = await _timed(tally, connection, "GET", news)
            if page:
                messages = json.loads(page)["messages"]
                client.last_seq = messages[-1]["seq"] if messages else client.last_seq
            if i % 4 == 3:
                await _timed(tally, connection, "GET", f"{API}/chat/all?limit=20")
    finally:
        await connection.close()


async def hello_loop(port: int, deadline: float, max_requests: int, tally: Tally) -> None:
    connection = Connection(HOST, port)
    try:
        for _ in range(max_requests):
            if time.monotonic() >= deadline:
                return
            await _timed(tally, connection, "GET", "/")
    finally:
        await connection.close()


def measure(loops) -> tuple[Tally, float]:
    tally = Tally()

    async def run() -> float:
        began = time.monotonic()
        await asyncio.gather(*(loop(tally) for loop in loops))
        return time.monotonic() - began

    return tally, asyncio.run(run())


HEADERS = ["target", "clients", "requests", "req/s", "p50 ms", "p99 ms", "errors"]
HEADERS += ["of hello", "of the lean floor"]


def row(name: str, clients: int, tally: Tally, elapsed: float, hello=None, lean=None, *, is_lean=False):
    """A table row and its req/s; `hello` and `lean` are the floors' req/s (hello None: this is it)."""
    rate = len(tally.latencies) / elapsed
    ms = [f"{percentile(tally.latencies, p) * 1000:.1f}" for p in (50, 99)] if tally.latencies else ["-", "-"]
    of_hello = f"{rate / hello:.1%}" if hello else "1 (floor)"
    of_lean = "1 (floor)" if is_lean else f"{rate / lean:.1%}" if lean else ""
    cells = [name, str(clients), f"{len(tally.latencies):,}", f"{rate:,.0f}", *ms, str(tally.errors)]
    return [*cells, of_hello, of_lean], rate


def report_errors(name: str, tally: Tally) -> None:
    if tally.errors:
        print(f"{name}: {tally.errors} errors, the first: {tally.first_error}", file=sys.stderr)


def drive(name: str, port: int, clients: list[Client], args) -> tuple[Tally, float]:
    print(f"{name}: {len(clients)} clients for {args.seconds} s", file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.seconds
    loops = [(lambda tally, c=c: chat_loop(port, c, deadline, args.max_requests, tally)) for c in clients]
    tally, elapsed = measure(loops)
    report_errors(name, tally)
    return tally, elapsed


def app_env(data_dir: Path, database_url: str, smtp_port: int) -> dict[str, str]:
    # Production refuses to start without a real mail path: codes go to an SMTP server here.
    return {
        **os.environ,
        **lifted_limits_env(),
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "MONGODB_URI": "",
        "REDIS_URL": "",
        "RABBITMQ_URL": "",
        "PUSH_ENABLED": "false",  # production refuses push without a VAPID pair; none is measured here
        "SMTP_HOST": HOST,
        "SMTP_PORT": str(smtp_port),
        "JWT_SECRET": secrets.token_urlsafe(48),  # production refuses anything shorter than 32 bytes
        "REFLEX_TELEMETRY_ENABLED": "false",
    }


def _database(stack: contextlib.ExitStack, backend: str, data: Path, sqlite_url: str) -> str:
    if backend != "postgresql":
        return sqlite_url
    from tests.support.postgres import temporary_database

    return stack.enter_context(temporary_database(ADMIN_POSTGRES_URL, "chat_load"))


LEAN_COMMAND = [
    sys.executable, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", "{port}",
    "--workers", "1", "--log-level", "warning", "benchmarks.lean_floor:app",
]  # fmt: skip


def run_lean(backend: str, args, hello: float) -> tuple[list[str], float]:
    """The lean floor on a fresh database of `backend`: the app's schema, users inserted directly."""
    from benchmarks import lean_floor

    with contextlib.ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"api-load-lean-{backend}-")))
        url = _database(stack, backend, data, f"sqlite:///{data / 'lean.db'}")
        secret = secrets.token_urlsafe(48)
        env = {**os.environ, **lifted_limits_env(), "DATABASE_URL": url, "JWT_SECRET": secret}
        port = stack.enter_context(serving(LEAN_COMMAND, "/health", data / "lean.log", env))
        seeded = asyncio.run(lean_floor.seed(url, secret, args.clients))
        clients = [Client(token, chat) for token, chat in seeded]
        name = f"lean floor on {backend}"
        tally, elapsed = drive(name, port, clients, args)
        return row(name, len(clients), tally, elapsed, hello, is_lean=True)


def run_backend(backend: str, args, hello: float, lean: float | None) -> list[str]:
    with contextlib.ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"api-load-{backend}-")))
        url = _database(stack, backend, data, "")
        command = [
            sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-only",
            "--backend-port", "{port}", "--loglevel", "warning",
        ]  # fmt: skip
        mail = SmtpSink().start()
        stack.callback(mail.stop)
        env = app_env(data, url, mail.port)
        served = stack.enter_context(serve(command, f"{API}/openapi.json", data / "app.log", env))
        port = served.port
        print(f"{backend}: signing in {args.clients} users", file=sys.stderr, flush=True)
        clients = sign_in_clients(f"http://{HOST}:{port}{API}", mail.code_for, args.clients)
        name = f"chat_web on {backend}"
        if args.profile:
            # py-spy samples the server (and its workers) for the whole loaded phase.
            args.profile.mkdir(parents=True, exist_ok=True)
            samples = args.profile / f"chat_web-{backend}.txt"
            with recording(served.process.pid, args.seconds, samples):
                tally, elapsed = drive(name, port, clients, args)
            print(f"\n{name}: where the time goes ({samples})\n{top(samples)}\n", file=sys.stderr)
        else:
            tally, elapsed = drive(name, port, clients, args)
        if tally.errors:  # the server's side of the first failures, before its folder goes
            print(_tracebacks(data / "app.log"), file=sys.stderr)
        return row(name, len(clients), tally, elapsed, hello, lean)[0]


def _tracebacks(log: Path, most: int = 2) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    found = [part[:3000] for part in text.split("Traceback (most recent call last)")[1 : most + 1]]
    return "\n---\n".join(found) or "(no traceback in the app's log)"


def run_hello(args) -> tuple[list[str], float]:
    with tempfile.TemporaryDirectory(prefix="api-load-hello-") as data:
        command = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", "{port}",
            "--log-level", "warning", "benchmarks.hello:app",
        ]  # fmt: skip
        with serving(command, "/", Path(data) / "hello.log", dict(os.environ)) as port:
            print(f"hello: {args.clients} clients for {args.seconds} s", file=sys.stderr, flush=True)
            deadline = time.monotonic() + args.seconds
            loops = [lambda tally: hello_loop(port, deadline, args.max_requests, tally)] * args.clients
            tally, elapsed = measure(loops)
    report_errors("hello", tally)
    return row("bare ASGI hello (floor)", args.clients, tally, elapsed, None)


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=100_000, help="per client, a safety bound")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--skip-app", action="store_true", help="the floors only (hello and lean)")
    parser.add_argument("--skip-lean", action="store_true", help="no lean floor rows")
    parser.add_argument("--profile", type=Path, help="record the app with py-spy into this folder")
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or not 2 <= args.clients <= 2000:
        parser.error("--seconds must be in (0, 600] and --clients in [2, 2000]")
    hello_row, hello = run_hello(args)
    rows = [hello_row]
    for backend in args.backends.split(","):
        lean = None
        if not args.skip_lean:
            lean_row, lean = run_lean(backend, args, hello)
            rows.append(lean_row)
        if not args.skip_app:
            rows.append(run_backend(backend, args, hello, lean))
    print(table(HEADERS, rows))
    return 1 if any(r[6] != "0" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
