"""API event streams under load: 500 clients on GET /events while messages flow over REST.

    python -m benchmarks.events                       # 500 streams, 50 messages/s for 60 s
    python -m benchmarks.events --streams 100 --seconds 10
    python -m benchmarks.events --streams 5000 --workers 2   # opened 250 at a time

Seeds a fresh PostgreSQL database (one direct chat per pair of users), starts the app in
production mode with Redis (`reflex run --env prod --backend-only`), opens one Server-Sent
Events stream per user (in batches of --open-batch, each batch open before the next
starts, as a crowd arrives rather than in one instant), then sends 50 messages a second in
total with POST /message, round robin over the pairs. For each message: POST start -> the
recipient's `message.new` event (latency), and whether every recipient got it exactly once
(lost / duplicated). It prints the app's resident memory per open stream. Only 127.0.0.1;
bounded; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from benchmarks.common import percentile, table
from benchmarks.world import app_command, app_env, mail_sink, seeded, wait_quiet
from tests.support.processes import resident_kb, serve

_STREAMING = aiohttp.ClientTimeout(total=None)


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    got: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    measuring: bool = False
    refused: list[str] = field(default_factory=list)  # streams that could not open, and why


async def follow(session: aiohttp.ClientSession, base: str, token: str, me: int, tally: Tally, ready) -> None:
    """Read one user's stream; count each message meant for this user (sent by the partner)."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        response = await session.get(f"{base}/events", headers=headers, timeout=_STREAMING)
    except aiohttp.ClientError as exc:
        tally.refused.append(f"{type(exc).__name__}: {exc}")
        ready.set()  # counted, not waited for: the next batch goes on
        return
    async with response as r:
        if r.status != 200:
            tally.refused.append(f"{r.status} {(await r.text())[:160]}")
            ready.set()
            return
        ready.set()
        async for raw in r.content:
            line = raw.decode().rstrip("\n")
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event.get("type") != "message.new":
                continue
            text = event["message"]["text"]
            sender = int(text.rsplit(" ", 1)[1])
            if sender == me or not tally.measuring:
                continue  # my own message coming back to me
            tally.got[text] = tally.got.get(text, 0) + 1
            if tally.got[text] == 1 and text in tally.sent_at:
                tally.latency_ms.append((time.perf_counter() - tally.sent_at[text]) * 1000)


OPEN_SECONDS_PER_BATCH = 60  # a batch that is not open by then is a failed run, not a slow one


async def open_streams(session, base, tokens, tally: Tally, batch: int) -> list[asyncio.Task]:
    """One follower per user, `batch` at a time: each batch's streams answered (or were
    refused) before the next batch starts."""
    followers: list[asyncio.Task] = []
    for first in range(0, len(tokens), batch):
        readies = []
        for i in range(first, min(first + batch, len(tokens))):
            ready = asyncio.Event()
            readies.append(ready)
            followers.append(asyncio.create_task(follow(session, base, tokens[i], i, tally, ready)))
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), OPEN_SECONDS_PER_BATCH)
    return followers


def raise_open_files_limit() -> None:
    """Thousands of streams are thousands of sockets here and in the app (which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def drive(session, base, tokens, chats, tally: Tally, rate: float, seconds: float) -> int:
    total, pairs = int(rate * seconds), len(chats)
    tally.measuring = True
    started = time.perf_counter()
    pending = set()
    for n in range(total):
        pair, turn = n % pairs, (n // pairs) % 2
        sender = 2 * pair + turn
        text = f"event bench {n} from {sender}"
        tally.sent_at[text] = time.perf_counter()
        body = {"chatId": chats[pair], "text": text, "clientId": uuid.uuid4().hex}
        headers = {"Authorization": f"Bearer {tokens[sender]}"}
        pending.add(asyncio.create_task(_post(session, f"{base}/message", body, headers)))
        pending = {t for t in pending if not t.done()}
        delay = started + (n + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.gather(*pending)
    deadline = time.perf_counter() + 5
    while len(tally.got) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    tally.measuring = False
    return total


async def _post(session, url, body, headers) -> None:
    async with session.post(url, json=body, headers=headers) as response:
        if response.status >= 300:
            print(f"send failed: {response.status} {await response.text()}", file=sys.stderr)


async def run(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="events-bench-"))
    print(f"seeding {args.streams} users in {args.streams // 2} direct chats", file=sys.stderr)
    async with seeded(args.streams, history=10, chats_per_user=2) as (db_url, world):
        stack = contextlib.ExitStack()
        env = app_env(workdir / "data", db_url, args.workers, stack.enter_context(mail_sink()))
        env.update(
            {f"LIMIT_{name}": "1000000000" for name in ("MESSAGES_PER_10_SECONDS", "MESSAGES_PER_HOUR")}
        )
        with stack, serve(app_command(), "/ping", workdir / "app.log", env) as app:
            base = f"http://127.0.0.1:{app.port}/api/v1"
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                await asyncio.sleep(1.0)
                memory_before = resident_kb(app.process.pid)
                tally = Tally()
                followers = await open_streams(session, base, world.tokens, tally, args.open_batch)
                await wait_quiet(app.process.pid)
                memory_after = resident_kb(app.process.pid)
                print(
                    f"{len(followers) - len(tally.refused)} streams open, {len(tally.refused)} refused; "
                    f"load for {args.seconds:.0f} s",
                    file=sys.stderr,
                )
                for reason in sorted(set(tally.refused))[:5]:
                    print(f"  refused: {reason}", file=sys.stderr)
                sent = await drive(session, base, world.tokens, world.chats, tally, args.rate, args.seconds)
                for task in followers:
                    task.cancel()
                await asyncio.gather(*followers, return_exceptions=True)
    lost = sum(1 for text in tally.sent_at if tally.got.get(text, 0) == 0)
    duplicated = sum(count - 1 for count in tally.got.values() if count > 1)
    latency = tally.latency_ms or [float("nan")]
    print()
    print(
        f"{args.streams} event streams, {args.rate:.0f} messages/s over REST for {args.seconds:.0f} s; "
        f"app: reflex run --env prod, Redis, PostgreSQL, GRANIAN_WORKERS={args.workers}"
    )
    print(
        table(
            ["sent", "delivered", "p50 ms", "p99 ms", "max ms", "lost", "dup", "app KB / stream"],
            [
                [
                    f"{sent}",
                    f"{len(tally.got)}",
                    f"{percentile(latency, 50):.1f}",
                    f"{percentile(latency, 99):.1f}",
                    f"{max(latency):.1f}",
                    f"{lost}",
                    f"{duplicated}",
                    f"{(memory_after - memory_before) / args.streams:.0f}",
                ]
            ],
        )
    )
    print(f"(logs in {workdir})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second, in total")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="GRANIAN_WORKERS of the app")
    parser.add_argument("--open-batch", type=int, default=250, help="streams opened at once")
    args = parser.parse_args()
    if args.streams % 2 or not 2 <= args.streams <= 5000:
        parser.error("--streams must be an even number from 2 to 5000")
    if not 1 <= args.open_batch <= 5000:
        parser.error("--open-batch must be from 1 to 5000")
    if not 0 < args.seconds <= 300 or not 0 < args.rate <= 500:
        parser.error("--seconds must be in (0, 300] and --rate in (0, 500]")
    raise_open_files_limit()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
