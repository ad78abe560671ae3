"""Live fan-out benchmark: clients that speak Reflex's websocket protocol, like the browser.

    python -m benchmarks.fanout                     # 200 clients, 50 msg/s for 60 s, two world sizes
    python -m benchmarks.fanout --seconds 20 --sizes small

For each world size (history of the load chats, chats per user) it seeds a fresh
PostgreSQL database, starts the app in production mode with Redis (`reflex run --env
prod --backend-only`), connects the clients to `/chat/<their chat>` (100 direct chats,
one per pair of clients), and sends 50 messages a second in total through the page's
own `send` event. It measures send -> recipient latency (the recipient's delta that
shows the message), lost and duplicated messages, bytes on the wire per delivered
message, and the app's resident memory per connected client. In the same run, the same
clients and load go through a bare python-socketio relay (benchmarks/relay.py) as the
floor. It only talks to 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import socketio

from benchmarks.common import percentile, table
from benchmarks.world import app_command, app_env, mail_sink, redis_used_kb, resident_kb, seeded, wait_quiet
from tests.support.processes import serve

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

    def __init__(self, url: str, token: str, chat: str, tally: Tally):
        from chat_web.state.chat import ChatState
        from chat_web.state.session import SessionState

        self.url, self.token, self.chat, self.tally = url, token, chat, tally
        self.tab = str(uuid.uuid4())
        self.state = ChatState.get_full_name()
        self.session_var = f"{SessionState.get_full_name()}.token_rx_state_"
        self.hydrated = asyncio.Event()
        self.seen_keys: set[str] = set()
        self.sio = CountingClient(reconnection=False)
        self.sio.tally = tally
        self.sio.on("event", self._on_event, namespace="/_event")

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
        self.tally.sent_at[text] = time.perf_counter()
        await self.sio.emit(
            "event",
            {
                "name": f"{self.state}.send",
                "payload": {"form_data": {"text": text}},
                "router_data": self._router(),
            },
            namespace="/_event",
        )

    async def _on_event(self, update: dict) -> None:
        now = time.perf_counter()
        delta = (update or {}).get("delta") or {}
        mine = delta.get(self.state) or {}
        if mine.get("open_id_rx_state_") == self.chat:
            self.hydrated.set()
        rows = mine.get("recent_rx_state_")
        if not rows:
            return
        seqs = [row["seq"] for row in rows]
        self.tally.duplicated += len(seqs) - len(set(seqs))  # a message shown twice
        for row in rows:
            key, text = row["key"], row["text"]
            if key in self.seen_keys or row.get("mine"):
                continue
            self.seen_keys.add(key)
            sent = self.tally.sent_at.get(text)
            if sent is not None and self.tally.measuring:
                self.tally.record(text, sent, now)

    async def close(self) -> None:
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


async def connect_all(clients: list, batch: int = 20) -> None:
    for start in range(0, len(clients), batch):
        await asyncio.gather(*(c.connect() for c in clients[start : start + batch]))
    await asyncio.wait_for(asyncio.gather(*(c.hydrated.wait() for c in clients)), 120)


async def drive(clients: list, tally: Tally, rate: float, seconds: float, drain: float = 5.0) -> int:
    """Send `rate` messages a second in total, round-robin over the pairs, alternating sides."""
    pairs = len(clients) // 2
    total = int(rate * seconds)
    tally.measuring = True
    started = time.perf_counter()
    for n in range(total):
        pair, turn = n % pairs, (n // pairs) % 2
        sender = clients[2 * pair + turn]
        await sender.send(f"bench {n} from {2 * pair + turn}")
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

    @property
    def lost(self) -> int:
        return self.sent - len(self.tally.delivered)

    def p(self, pct: float) -> float:
        return percentile(self.tally.latency_ms, pct) if self.tally.latency_ms else float("nan")


async def run_app(args, size: str, workdir: Path) -> Result:
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
            memory_before, redis_before = resident_kb(app.process.pid), await redis_used_kb()
            tally = Tally()
            clients = [
                ReflexClient(f"http://127.0.0.1:{app.port}", world.tokens[i], world.chats[i // 2], tally)
                for i in range(args.clients)
            ]
            await connect_all(clients)
            settled = await wait_quiet(app.process.pid)
            memory_after, redis_after = resident_kb(app.process.pid), await redis_used_kb()
            print(
                f"[{size}] {len(clients)} clients connected, app quiet after {settled:.0f} s; "
                f"load for {args.seconds:.0f} s",
                file=sys.stderr,
            )
            started = time.perf_counter()
            sent = await drive(clients, tally, args.rate, args.seconds)
            elapsed = time.perf_counter() - started
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return Result(
        f"app, {size} ({history} msgs, {chats_per_user} chats)",
        sent,
        tally,
        elapsed,
        (memory_after - memory_before) / len(clients),
        (redis_after - redis_before) / len(clients),
    )


RELAY_COMMAND = [
    sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}",
    "--workers", "1", "benchmarks.relay:app",
]  # fmt: skip


async def run_floor(args, workdir: Path) -> Result:
    ready = "/_event/?EIO=4&transport=polling"
    with serve(RELAY_COMMAND, ready, workdir / "relay.log", {**os.environ}) as relay:
        tally = Tally()
        tokens = [f"t{i}" for i in range(args.clients)]
        clients = [
            RelayClient(f"http://127.0.0.1:{relay.port}", tokens[i], tokens[i ^ 1], tally)
            for i in range(args.clients)
        ]
        memory_before = resident_kb(relay.process.pid)
        await connect_all(clients)
        memory_after = resident_kb(relay.process.pid)
        started = time.perf_counter()
        sent = await drive(clients, tally, args.rate, args.seconds)
        elapsed = time.perf_counter() - started
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return Result(
        "floor: bare python-socketio relay",
        sent,
        tally,
        elapsed,
        (memory_after - memory_before) / len(clients),
    )


def report(results: list[Result], floor: Result) -> str:
    rows = []
    for r in [*results, floor]:
        delivered = len(r.tally.delivered)
        rows.append(
            [
                r.label,
                f"{r.sent}",
                f"{r.p(50):.1f}",
                f"{r.p(99):.1f}",
                f"{max(r.tally.latency_ms, default=float('nan')):.1f}",
                f"{r.lost}",
                f"{r.tally.duplicated}",
                f"{r.tally.bytes_in / max(delivered, 1) / 1024:.1f}",
                "" if r.memory_per_client_kb is None else f"{r.memory_per_client_kb:.0f}",
                "" if r.redis_per_client_kb is None else f"{r.redis_per_client_kb:.0f}",
                f"{r.p(50) / floor.p(50):.1f}x / {r.p(99) / floor.p(99):.1f}x" if r is not floor else "1x",
            ]
        )
    return table(
        [
            "run",
            "sent",
            "p50 ms",
            "p99 ms",
            "max ms",
            "lost",
            "dup",
            "KB in / delivered msg",
            "app KB / client",
            "Redis KB / client",
            "p50 / p99 vs floor",
        ],
        rows,
    )


async def main_async(args) -> None:
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="fanout-bench-"))
    results = [await run_app(args, size, workdir) for size in args.sizes]
    floor = await run_floor(args, workdir)
    print()
    print(
        f"{args.clients} clients in {args.clients // 2} direct chats, {args.rate:.0f} messages/s for "
        f"{args.seconds:.0f} s; app: reflex run --env prod, Redis, PostgreSQL, GRANIAN_WORKERS={args.workers}"
    )
    print(report(results, floor))
    print("\np50/p99 ms over the run, in sixths:")
    for r in [*results, floor]:
        print(f"  {r.label}: {r.tally.over_time()}")
    if len(results) == 2:
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
    parser.add_argument("--workers", type=int, default=1, help="GRANIAN_WORKERS of the app")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["small", "large"])
    args = parser.parse_args()
    if args.clients % 2 or args.clients < 2 or args.clients > 1000:
        parser.error("--clients must be an even number from 2 to 1000")
    if not 0 < args.seconds <= 300 or not 0 < args.rate <= 500:
        parser.error("--seconds must be in (0, 300] and --rate in (0, 500]")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
