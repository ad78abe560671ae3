"""Live fan-out benchmark: clients that speak Reflex's websocket protocol, like the browser.

    python -m benchmarks.fanout                     # 200 clients, 50 msg/s for 60 s, two world sizes
    python -m benchmarks.fanout --seconds 20 --sizes small
    python -m benchmarks.fanout --clients 1000 --workers 2 --rates 25 50 100 200 400   # capacity sweep

For each world size (history of the load chats, chats per user) it seeds a fresh
PostgreSQL database, starts the app in production mode with Redis (`reflex run --env
prod --backend-only`), connects the clients to `/chat/<their chat>` (100 direct chats,
one per pair of clients), and sends 50 messages a second in total the way the page does
(assets/sends.js: over the websocket, the event ComposerState.send_from_page with a clientId, whose
answer shows the row in the sending tab; with --sends api, or both, as the page sends when its
socket does not answer: POST /api/v1/message, the stored message coming back over the socket).
It measures send -> recipient latency
(the recipient's delta that shows the message), lost and duplicated messages, bytes on the wire per delivered
message, and the app's resident memory per connected client. In the same run, the same
clients and load go through two floors: a bare python-socketio relay (benchmarks/relay.py),
and the lean floor of the same work (benchmarks/live_floor.py: python-socketio with its Redis
manager, the one-statement send on asyncpg, an emit to the recipient's room after the
commit, as many workers as the app) on a world seeded the same way.

With --rates, a capacity sweep instead: the app (first size) and the lean floor, each
started once with its clients connected, take every rate in turn for --seconds (the server
left to go quiet between rates); the figures go to a CSV (--csv) and a chart of p50 and p99
against the rate (--chart, benchmarks/capacity_chart.py). It only talks to 127.0.0.1 and
stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import socketio

from benchmarks.common import percentile, process_tree_cpu_seconds, table
from benchmarks.world import (
    REDIS,
    SECRET,
    app_command,
    app_env,
    mail_sink,
    redis_used_kb,
    seeded,
    wait_quiet,
)
from chat_web.state.rows import WINDOW_PARTS
from tests.support.processes import resident_kb, serve

SIZES = {"small": (100, 20), "large": (5000, 200)}  # (history per load chat, chats per user)


# --- clients ---------------------------------------------------------------------------------


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)  # text -> when it was sent
    latency_ms: list[float] = field(default_factory=list)
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (sent at, latency ms)
    delivered: set[str] = field(default_factory=set)
    duplicated: int = 0
    bytes_in: int = 0
    measuring: bool = False
    # Why a message was lost: the sender saw it stored (a seq) or refused, or a tab's socket
    # closed under it (these clients do not reconnect, as a browser would).
    stored: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    dropped_sockets: int = 0

    def record(self, text: str, sent: float, now: float) -> None:
        if text in self.delivered:
            self.duplicated += 1
        self.delivered.add(text)
        self.latency_ms.append((now - sent) * 1000)
        self.timeline.append((sent, (now - sent) * 1000))

    def over_time(self, buckets: int = 6) -> str:
        """p50/p99 per slice of the run: a steady load shows flat figures, a backlog a rise."""
        if not self.timeline:
            return ""
        start = min(t for t, _ in self.timeline)
        span = max(t for t, _ in self.timeline) - start or 1.0
        parts = []
        for b in range(buckets):
            part = [
                ms
                for t, ms in self.timeline
                if b <= (t - start) / span * buckets < b + 1 or (b == buckets - 1 and t - start == span)
            ]
            if part:
                parts.append(f"{percentile(part, 50):.0f}/{percentile(part, 99):.0f}")
        return " ".join(parts)


class CountingClient(socketio.AsyncClient):
    """A python-socketio client that counts the bytes of every packet it receives."""

    tally: Tally

    async def _handle_eio_message(self, data):
        if self.tally.measuring:
            self.tally.bytes_in += len(data) if isinstance(data, (str, bytes)) else 0
        return await super()._handle_eio_message(data)


class ReflexClient:
    """One browser tab on /chat/<chat>, over Reflex's Socket.IO protocol."""

    def __init__(self, url: str, token: str, chat: str, tally: Tally, http: httpx.AsyncClient, sends: str):
        from chat_web.state.chat import ChatState
        from chat_web.state.chat_list import ChatListState
        from chat_web.state.composer import ComposerState
        from chat_web.state.session import SessionState

        self.url, self.token, self.chat, self.tally, self.http = url, token, chat, tally, http
        self.sends = sends  # "socket" or "api"
        self.posting: set[asyncio.Task] = set()
        self.answers: dict[str, str] = {}  # clientId -> text, of sends over the socket not answered yet
        self.tab = str(uuid.uuid4())
        self.state = ChatState.get_full_name()  # the open conversation's window
        self.list_state = ChatListState.get_full_name()  # which chat is open
        self.composer = ComposerState.get_full_name()
        self.session_var = f"{SessionState.get_full_name()}.token_rx_state_"
        self.hydrated = asyncio.Event()
        self.seen_keys: set[str] = set()
        self.sio = CountingClient(reconnection=False)
        self.sio.tally = tally
        self.sio.on("event", self._on_event, namespace="/_event")
        self.sio.on("disconnect", self._on_disconnect, namespace="/_event")
        self.closing = False

    def _on_disconnect(self, *_) -> None:
        if not self.closing:
            self.tally.dropped_sockets += 1

    def _router(self) -> dict:
        path = f"/chat/{self.chat}"
        return {"pathname": path, "asPath": path, "query": {"chat_id": self.chat}}

    async def connect(self) -> None:
        boot = {
            "name": "reflex___state____state.hydrate_and_load",
            "payload": {"vars": {self.session_var: self.token}},
            "router_data": self._router(),
        }
        await self.sio.connect(
            f"{self.url}?token={self.tab}",
            socketio_path="/_event",
            namespaces=["/_event"],
            transports=["websocket"],
            auth={"event": boot},
            wait_timeout=30,
        )

    async def send(self, text: str) -> None:
        """As the page script sends: over the socket, or through the API."""
        self.tally.sent_at[text] = time.perf_counter()
        if self.sends == "socket":
            item = {"chatId": self.chat, "text": text, "clientId": uuid.uuid4().hex}
            self.answers[item["clientId"]] = text
            await self.sio.emit(
                "event",
                {
                    "name": f"{self.composer}.send_from_page",
                    "payload": {"item": item},
                    "router_data": self._router(),
                },
                namespace="/_event",
            )
            return
        task = asyncio.create_task(self._post(text))
        self.posting.add(task)  # held: the loop keeps only a weak reference to a task
        task.add_done_callback(self.posting.discard)

    async def _post(self, text: str) -> None:
        try:
            answer = await self.http.post(
                f"{self.url}/api/v1/message",
                json={"chatId": self.chat, "text": text, "clientId": uuid.uuid4().hex},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError:
            return  # no answer: counted as such if it is lost
        (self.tally.stored if answer.status_code in (200, 201) else self.tally.refused).add(text)

    async def _on_event(self, update: dict) -> None:
        now = time.perf_counter()
        for event in (update or {}).get("events") or ():
            self._on_answer(str((event.get("payload") or {}).get("javascript_code") or ""))
        delta = (update or {}).get("delta") or {}
        if (delta.get(self.list_state) or {}).get("open_id_rx_state_") == self.chat:
            self.hydrated.set()
        mine = delta.get(self.state) or {}
        # The window is `older` + short tail blocks: a message may first show in any of them.
        rows = [row for name in WINDOW_PARTS for row in mine.get(f"{name}_rx_state_") or ()]
        if not rows:
            return
        seqs = [row["seq"] for row in rows]
        self.tally.duplicated += len(seqs) - len(set(seqs))  # a message shown twice
        for row in rows:
            key, text = row["key"], row["text"]
            if row.get("mine"):
                self.tally.stored.add(text)
                continue
            if key in self.seen_keys:
                continue
            self.seen_keys.add(key)
            sent = self.tally.sent_at.get(text)
            if sent is not None and self.tally.measuring:
                self.tally.record(text, sent, now)

    def _on_answer(self, script: str) -> None:
        """The answer to a send over the socket: window.chatSends.answered({...})."""
        found = re.search(r"answered\((\{.*\})\)", script)
        if not found:
            return
        answer = json.loads(found.group(1))
        text = self.answers.pop(answer.get("id"), None)
        if text is not None:
            (self.tally.stored if answer.get("status") in (200, 201) else self.tally.refused).add(text)

    async def close(self) -> None:
        self.closing = True
        await self.sio.disconnect()


class RelayClient:
    """The same client against the bare relay: send to the partner, get `message`."""

    def __init__(self, url: str, token: str, partner: str, tally: Tally):
        self.url, self.token, self.partner, self.tally = url, token, partner, tally
        self.hydrated = asyncio.Event()
        self.sio = CountingClient(reconnection=False)
        self.sio.tally = tally
        self.sio.on("message", self._on_message)

    async def connect(self) -> None:
        await self.sio.connect(
            f"{self.url}?token={self.token}",
            socketio_path="/_event",
            transports=["websocket"],
            wait_timeout=30,
        )
        self.hydrated.set()

    async def send(self, text: str) -> None:
        self.tally.sent_at[text] = time.perf_counter()
        await self.sio.emit("send", {"to": self.partner, "text": text})

    async def _on_message(self, data: dict) -> None:
        now = time.perf_counter()
        text = data.get("text", "")
        sent = self.tally.sent_at.get(text)
        if sent is not None and self.tally.measuring:
            self.tally.record(text, sent, now)

    async def close(self) -> None:
        await self.sio.disconnect()


class LeanClient(RelayClient):
    """The same client against the lean floor: a session token, `send` into its chat."""

    def __init__(self, url: str, token: str, chat: str, tally: Tally):
        super().__init__(url, token, "", tally)
        self.chat = chat

    async def send(self, text: str) -> None:
        self.tally.sent_at[text] = time.perf_counter()
        await self.sio.emit("send", {"chatId": self.chat, "text": text, "clientId": uuid.uuid4().hex})


def retally(clients: list, tally: Tally) -> None:
    """A fresh count for the next rate of a sweep, on clients that stay connected."""
    for client in clients:
        client.tally = client.sio.tally = tally


async def connect_all(clients: list, batch: int = 20) -> None:
    for start in range(0, len(clients), batch):
        await asyncio.gather(*(c.connect() for c in clients[start : start + batch]))
    await asyncio.wait_for(asyncio.gather(*(c.hydrated.wait() for c in clients)), 120)


async def connect_measured(clients: list, pid: int) -> tuple[float, float]:
    """Connect the clients; (seconds the app took to go quiet, its resident KB per client).

    The first tenth connect before the memory is read: a server's first connections load
    what it keeps for all of them (lazy imports, pools, compiled statements, allocator
    arenas), which is not what one more tab costs. The rest are counted."""
    warm = max(2, len(clients) // 10)
    await connect_all(clients[:warm])
    await wait_quiet(pid)
    before = resident_kb(pid)
    await connect_all(clients[warm:])
    settled = await wait_quiet(pid)
    return settled, (resident_kb(pid) - before) / max(1, len(clients) - warm)


async def drive(
    clients: list, tally: Tally, rate: float, seconds: float, drain: float = 5.0, tag: str = ""
) -> int:
    """Send `rate` messages a second in total, round-robin over the pairs, alternating sides
    (`tag` in every text, so that a late delivery of an earlier run is not counted)."""
    pairs = len(clients) // 2
    total = int(rate * seconds)
    tally.measuring = True
    started = time.perf_counter()
    for n in range(total):
        pair, turn = n % pairs, (n // pairs) % 2
        sender = clients[2 * pair + turn]
        await sender.send(f"bench {tag}{n} from {2 * pair + turn}")
        delay = started + (n + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    deadline = time.perf_counter() + drain
    while len(tally.delivered) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    tally.measuring = False
    return total


# --- runs ------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    sent: int
    tally: Tally
    seconds: float
    memory_per_client_kb: float | None = None
    redis_per_client_kb: float | None = None
    rate: float = 0.0
    cpu_seconds: float | None = None  # the server's (all workers) while this load ran

    @property
    def cpu_ms_per_delivered(self) -> float | None:
        if self.cpu_seconds is None:
            return None
        return 1000 * self.cpu_seconds / max(len(self.tally.delivered), 1)

    @property
    def lost(self) -> int:
        return self.sent - len(self.tally.delivered)

    def p(self, pct: float) -> float:
        return percentile(self.tally.latency_ms, pct) if self.tally.latency_ms else float("nan")

    def why_lost(self) -> str:
        """Of the lost: stored (the sender saw its seq) but never shown to the other tab,
        refused (the sender's page said "not sent"), or no answer either way."""
        missing = set(self.tally.sent_at) - self.tally.delivered
        stored = len(missing & self.tally.stored)
        refused = len(missing & self.tally.refused)
        unanswered = len(missing) - stored - refused
        return (
            f"{len(missing)} lost: {stored} stored but not shown, {refused} refused, {unanswered} "
            f"without an answer; {self.tally.dropped_sockets} sockets closed by the server"
        )


async def sweep(
    label: str, clients: list, pid: int, rates: list[float], seconds: float, drain: float = 5.0
) -> list[Result]:
    """Every rate in turn on connected clients; the server goes quiet before the next one."""
    results = []
    for i, rate in enumerate(rates):
        if i:
            await wait_quiet(pid)
        tally = Tally()
        retally(clients, tally)
        print(f"{label}: {rate:g} messages/s for {seconds:.0f} s", file=sys.stderr, flush=True)
        started, cpu = time.perf_counter(), process_tree_cpu_seconds(pid)
        sent = await drive(clients, tally, rate, seconds, drain=drain, tag=f"r{i}-")
        elapsed, cpu = time.perf_counter() - started, process_tree_cpu_seconds(pid) - cpu
        results.append(Result(label, sent, tally, elapsed, rate=rate, cpu_seconds=cpu))
    return results


async def run_app(args, size: str, workdir: Path, rates: list[float], sends: str = "socket") -> list[Result]:
    history, chats_per_user = SIZES[size]
    print(
        f"[{size}] seeding: {args.clients} clients, {history} messages per load chat, "
        f"{chats_per_user} chats each",
        file=sys.stderr,
    )
    async with seeded(args.clients, history, chats_per_user) as (db_url, world):
        with contextlib.ExitStack() as stack:
            env = app_env(workdir / f"data-{size}", db_url, args.workers, stack.enter_context(mail_sink()))
            app = stack.enter_context(serve(app_command(), "/ping", workdir / f"app-{size}.log", env))
            await asyncio.sleep(1.0)
            redis_before = await redis_used_kb()
            tally = Tally()
            http = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=100))
            clients = [
                ReflexClient(
                    f"http://127.0.0.1:{app.port}", world.tokens[i], world.chats[i // 2], tally, http, sends
                )
                for i in range(args.clients)
            ]
            settled, memory_per_client = await connect_measured(clients, app.process.pid)
            redis_after = await redis_used_kb()
            print(
                f"[{size}] {len(clients)} clients connected, app quiet after {settled:.0f} s; "
                f"load for {args.seconds:.0f} s at each rate",
                file=sys.stderr,
            )
            how = "over the socket" if sends == "socket" else "through the API"
            label = f"app, {size} ({history} msgs, {chats_per_user} chats), sends {how}"
            results = await sweep(label, clients, app.process.pid, rates, args.seconds, args.drain)
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
            await http.aclose()
    for r in results:
        r.memory_per_client_kb = memory_per_client
        r.redis_per_client_kb = (redis_after - redis_before) / len(clients)
    return results


LEAN_COMMAND = [
    sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}",
    "--workers", "{workers}", "benchmarks.live_floor:app",
]  # fmt: skip
LEAN_LABEL = "floor: lean (socketio + Redis + asyncpg)"


async def run_lean(args, workdir: Path, rates: list[float]) -> list[Result]:
    """The lean floor of the same work, on a world seeded like the app's first size."""
    history, chats_per_user = SIZES[args.sizes[0]]
    print(f"[lean floor] seeding: {args.clients} clients", file=sys.stderr)
    async with seeded(args.clients, history, chats_per_user) as (db_url, world):
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": REDIS,
            "JWT_SECRET": SECRET,
            "LIVE_FLOOR_CHANNEL": f"live-floor-{uuid.uuid4().hex[:8]}",
        }
        command = [part.replace("{workers}", str(args.workers)) for part in LEAN_COMMAND]
        ready = "/_event/?EIO=4&transport=polling"
        with serve(command, ready, workdir / "lean-floor.log", env) as lean:
            await asyncio.sleep(1.0)
            clients = [
                LeanClient(f"http://127.0.0.1:{lean.port}", world.tokens[i], world.chats[i // 2], Tally())
                for i in range(args.clients)
            ]
            _, memory_per_client = await connect_measured(clients, lean.process.pid)
            results = await sweep(LEAN_LABEL, clients, lean.process.pid, rates, args.seconds, args.drain)
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    for r in results:
        r.memory_per_client_kb = memory_per_client
    return results


RELAY_COMMAND = [
    sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}",
    "--workers", "1", "benchmarks.relay:app",
]  # fmt: skip


async def run_relay(args, workdir: Path) -> Result:
    ready = "/_event/?EIO=4&transport=polling"
    with serve(RELAY_COMMAND, ready, workdir / "relay.log", {**os.environ}) as relay:
        tally = Tally()
        tokens = [f"t{i}" for i in range(args.clients)]
        clients = [
            RelayClient(f"http://127.0.0.1:{relay.port}", tokens[i], tokens[i ^ 1], tally)
            for i in range(args.clients)
        ]
        _, memory_per_client = await connect_measured(clients, relay.process.pid)
        started, cpu = time.perf_counter(), process_tree_cpu_seconds(relay.process.pid)
        sent = await drive(clients, tally, args.rate, args.seconds, drain=args.drain)
        elapsed, cpu = time.perf_counter() - started, process_tree_cpu_seconds(relay.process.pid) - cpu
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return Result(
        "floor: bare python-socketio relay",
        sent,
        tally,
        elapsed,
        memory_per_client,
        rate=args.rate,
        cpu_seconds=cpu,
    )


def report(results: list[Result], relay: Result | None, lean: Result | None) -> str:
    return table(HEADERS, report_rows(results, relay, lean))


def report_rows(results: list[Result], relay: Result | None, lean: Result | None) -> list[list[str]]:
    rows = []
    for r in [*results, *(f for f in (lean, relay) if f is not None)]:
        delivered = len(r.tally.delivered)

        def versus(floor: Result | None, r=r) -> str:
            if floor is None:
                return ""
            return "1x" if r is floor else f"{r.p(50) / floor.p(50):.1f}x / {r.p(99) / floor.p(99):.1f}x"

        rows.append(
            [
                r.label,
                f"{r.rate:g}",
                f"{r.sent}",
                f"{r.p(50):.1f}",
                f"{r.p(99):.1f}",
                f"{max(r.tally.latency_ms, default=float('nan')):.1f}",
                f"{r.lost}",
                f"{r.tally.duplicated}",
                f"{r.tally.bytes_in / max(delivered, 1) / 1024:.1f}",
                "" if r.cpu_ms_per_delivered is None else f"{r.cpu_ms_per_delivered:.2f}",
                "" if r.memory_per_client_kb is None else f"{r.memory_per_client_kb:.0f}",
                "" if r.redis_per_client_kb is None else f"{r.redis_per_client_kb:.0f}",
                versus(relay),
                versus(lean),
            ]
        )
    return rows


HEADERS = ["run", "msg/s", "sent", "p50 ms", "p99 ms", "max ms", "lost", "dup", "KB in / delivered msg"]
HEADERS += ["server CPU ms / delivered msg"]
HEADERS += ["server KB / client", "Redis KB / client", "p50 / p99 vs relay", "p50 / p99 vs lean floor"]


CSV_FIELDS = ["target", "tabs", "workers", "rate", "seconds", "sent", "delivered", "lost", "dup"]
CSV_FIELDS += ["p50_ms", "p99_ms", "max_ms", "server_kb_per_tab"]


def write_csv(path: Path, args, results: list[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        for r in results:
            target = "lean floor" if r.label == LEAN_LABEL else "app" + r.label.partition("chats)")[2]
            writer.writerow(
                [
                    target, args.clients, args.workers, f"{r.rate:g}", f"{r.seconds:.1f}", r.sent,
                    len(r.tally.delivered), r.lost, r.tally.duplicated, f"{r.p(50):.2f}", f"{r.p(99):.2f}",
                    f"{max(r.tally.latency_ms, default=float('nan')):.2f}",
                    "" if r.memory_per_client_kb is None else f"{r.memory_per_client_kb:.0f}",
                ]
            )  # fmt: skip


async def main_sweep(args, workdir: Path) -> None:
    rates = sorted(args.rates)
    apps = [await run_app(args, args.sizes[0], workdir, rates, sends) for sends in args.sends]
    lean = await run_lean(args, workdir, rates)
    print()
    print(
        f"{args.clients} tabs in {args.clients // 2} direct chats, {args.seconds:.0f} s at each rate; app: "
        f"reflex run --env prod, Redis, PostgreSQL, GRANIAN_WORKERS={args.workers}; the lean floor on as many"
    )
    by_rate = zip(*apps, lean, strict=True)
    print(table(HEADERS, [row for *a, f in by_rate for row in report_rows(a, None, f)]))
    app = [r for results in apps for r in results]
    for r in app:
        if r.lost or r.tally.dropped_sockets:
            print(f"  {r.rate:g} messages/s: {r.why_lost()}")
    results = [*app, *lean]
    csv_path = Path(args.csv) if args.csv else workdir / "capacity.csv"
    write_csv(csv_path, args, results)
    print(f"\nCSV: {csv_path}")
    if args.chart:
        from benchmarks.capacity_chart import draw

        draw(csv_path, Path(args.chart))
        print(f"chart: {args.chart}")
    print(f"(logs in {workdir})")


async def main_async(args) -> None:
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="fanout-bench-"))
    if args.rates:
        await main_sweep(args, workdir)
        return
    results = []
    for size in args.sizes:
        for sends in args.sends:
            results += await run_app(args, size, workdir, [args.rate], sends)
    (lean,) = await run_lean(args, workdir, [args.rate])
    relay = await run_relay(args, workdir)
    print()
    print(
        f"{args.clients} clients in {args.clients // 2} direct chats, {args.rate:.0f} messages/s for "
        f"{args.seconds:.0f} s; app: reflex run --env prod, Redis, PostgreSQL, GRANIAN_WORKERS={args.workers}"
    )
    print(report(results, relay, lean))
    print("\np50/p99 ms over the run, in sixths:")
    for r in [*results, lean, relay]:
        print(f"  {r.label}: {r.tally.over_time()}")
    for r in results:
        if r.lost or r.tally.dropped_sockets:
            print(f"  {r.label}: {r.why_lost()}")
    if len(results) == 2 and len(args.sizes) == 2:
        small, large = (r.tally.bytes_in / max(len(r.tally.delivered), 1) for r in results)
        print(f"\nbytes per delivered message, large world / small world: {large / small:.2f}x")
    print(f"(logs in {workdir})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second, in total")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="seconds to wait for late deliveries before counting the rest lost",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="GRANIAN_WORKERS of the app (and the lean floor)"
    )
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["small", "large"])
    parser.add_argument(
        "--rates", nargs="+", type=float, help="a capacity sweep over these rates (messages/s)"
    )
    parser.add_argument(
        "--sends",
        nargs="+",
        choices=["socket", "api"],
        default=["socket"],
        help="how the clients send: over the socket (as the page does while it is up), the API, or both",
    )
    parser.add_argument("--csv", help="the sweep's CSV (default: capacity.csv in the run's log folder)")
    parser.add_argument("--chart", help="draw the sweep's chart here (docs/capacity.png for the README)")
    args = parser.parse_args()
    if args.clients % 2 or args.clients < 2 or args.clients > 1000:
        parser.error("--clients must be an even number from 2 to 1000")
    rates = args.rates or [args.rate]
    if not 0 < args.seconds <= 300 or not all(0 < r <= 500 for r in rates) or len(rates) > 10:
        parser.error("--seconds must be in (0, 300], every rate in (0, 500], and at most 10 rates")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
