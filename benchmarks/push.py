"""Web Push benchmark: 1,000 subscribed users, 50 messages/s, every recipient offline.

    python -m benchmarks.push                       # embedded: the app process sends the pushes
    python -m benchmarks.push --rabbitmq            # send-push on RabbitMQ, one `python -m mailer.push`
    python -m benchmarks.push --users 1000 --rate 50 --seconds 20

Each message goes from one user to the next in a ring of direct chats (each user writes in
one chat and receives in another); no one has a tab, so each message is one push. Pushes go
to the stand-in push service (tests/support/push_service.py) on 127.0.0.1, which checks the
VAPID token and decrypts each one. Measured: the send to the push handed to the push service
(p50/p99), pushes lost, and the send's own latency with push on against the same run with
push off. It stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pika

from benchmarks.common import percentile, table
from chat_web import container
from chat_web.adapters.mail.topology import dead_queue, declare, retry_queue
from chat_web.adapters.push.keys import new_keys
from chat_web.config import Settings
from tests.support.limits import LIFTED_LIMITS

ROOT = Path(__file__).resolve().parents[1]
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
DRAIN_SECONDS = 30  # after the last send, how long pushes may still arrive
P99_TARGET_MS = 500
SEND_P99_SLACK = 1.10  # push on may cost the send at most 10 % at p99
WARM_UP_SENDS = 50  # the first second's sends (cold caches, first connections) are not timed


class RemotePushService:
    """The stand-in push service in a process of its own (its decryption must not share this
    process's interpreter with the app being measured). Arrival times are time.monotonic(),
    one clock for every process of the machine."""

    def __init__(self, vapid_public_key: str, browsers: int, folder: Path):
        self._log = folder / "pushes.jsonl"
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.push_service",
                "--vapid-public-key",
                vapid_public_key,
                "--browsers",
                str(browsers),
                "--log",
                str(self._log),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = json.loads(self._process.stdout.readline())
        self.browsers: list[dict] = ready["browsers"]
        self.pushes: list[dict] = []
        self.refused: list[str] = []

    def read(self) -> None:
        lines = self._log.read_text().splitlines() if self._log.exists() else []
        entries = [json.loads(line) for line in lines]
        self.pushes = [e for e in entries if "token" in e]
        self.refused = [e["refused"] for e in entries if "refused" in e]

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.read()
        while len(self.pushes) + len(self.refused) < count and time.monotonic() < deadline:
            time.sleep(0.1)
            self.read()

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def start_worker(settings: Settings, keys) -> subprocess.Popen:
    env = {
        **os.environ,
        "RABBITMQ_URL": RABBITMQ_URL,
        "PUSH_QUEUE": settings.push_queue,
        "DATA_DIR": str(settings.data_dir),
        "VAPID_PRIVATE_KEY": keys.private,
        "VAPID_PUBLIC_KEY": keys.public,
        "REFLEX_ENV_MODE": "dev",
        "DATABASE_URL": "",
        "MONGODB_URI": "",
    }
    log = (settings.data_dir / "push-worker.log").open("a")
    return subprocess.Popen(
        [sys.executable, "-m", "mailer.push"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_for_consumer(queue: str, timeout: float = 60.0) -> None:
    """Until the worker consumes the queue: its start-up is not part of what is measured."""
    deadline = time.monotonic() + timeout
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        declare(channel, queue)  # as the app and the worker declare it
        while channel.queue_declare(queue, passive=True).method.consumer_count < 1:
            if time.monotonic() > deadline:
                raise SystemExit(f"no push worker consumed {queue} within {timeout:.0f} s")
            time.sleep(0.1)
    finally:
        connection.close()


def delete_queues(queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    for name in (queue, retry_queue(queue), dead_queue(queue)):
        channel.queue_delete(name)
    connection.close()


async def phase(args, keys, service: RemotePushService, push: bool) -> dict:
    """One run on fresh data: set up users and chats, send at the rate, wait for the pushes."""
    data = Path(tempfile.mkdtemp(prefix="push-bench-"))
    broker = {}
    if args.rabbitmq:
        broker = {"rabbitmq_url": RABBITMQ_URL, "push_queue": f"send-push-bench-{uuid.uuid4().hex[:8]}"}
    settings = Settings(
        _env_file=None,
        data_dir=data,
        REFLEX_ENV_MODE="dev",
        push_enabled=push,
        vapid_private_key=keys.private,
        vapid_public_key=keys.public,
        **broker,
        **LIFTED_LIMITS,
    )
    worker = None
    sent_at: dict[str, float] = {}
    send_ms: list[float] = []
    try:
        async with container.running(settings) as app:
            users = [
                await app.store.users.get_or_create(f"u{i}-{uuid.uuid4().hex[:6]}@example.com", f"User {i}")
                for i in range(args.users)
            ]
            # A ring: user i writes to user i+1 in their direct chat, and never the other way, so
            # no recipient's read cursor moves in that chat (a reply would count as having read).
            ring = []
            for i, sender in enumerate(users):
                recipient = users[(i + 1) % len(users)]
                ring.append(
                    (sender, (await app.store.chats.get_or_create_direct(sender.id, recipient.id)).id)
                )
            if push:
                for user, browser in zip(users, service.browsers, strict=True):
                    held = browser["keys"]
                    await app.push.subscribe(user, browser["endpoint"], held["p256dh"], held["auth"])
            if args.rabbitmq and push:
                worker = start_worker(settings, keys)
                await asyncio.to_thread(wait_for_consumer, settings.push_queue)
            order = list(range(len(ring)))
            random.Random(7).shuffle(order)
            total = int(args.rate * args.seconds)
            pace = 1.0 / args.rate

            async def send(i: int) -> None:
                sender, chat_id = ring[order[i % len(order)]]
                began = time.monotonic()
                message, _ = await app.chats.send_text(sender, chat_id, f"message {i}\nsecond line")
                if i >= WARM_UP_SENDS:
                    send_ms.append((time.monotonic() - began) * 1000)
                sent_at[message.id] = began

            tasks = []
            t0 = time.monotonic()
            for i in range(total):
                await asyncio.sleep(max(0.0, t0 + i * pace - time.monotonic()))
                tasks.append(asyncio.create_task(send(i)))
            await asyncio.gather(*tasks)
            if push:
                await asyncio.to_thread(service.wait_for, total, DRAIN_SECONDS)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
        if args.rabbitmq:
            delete_queues(settings.push_queue)
    service.read()
    arrived: dict[str, float] = {}
    for received in service.pushes:
        arrived.setdefault(received["payload"].get("messageId"), received["at"])
    push_ms = [(arrived[m] - began) * 1000 for m, began in sent_at.items() if m in arrived]
    return {
        "send_ms": send_ms,
        "push_ms": push_ms,
        "lost": len(sent_at) - len(push_ms),
        "total": len(sent_at),
    }


async def run(args) -> None:
    keys = new_keys()
    service = RemotePushService(keys.public, args.users, Path(tempfile.mkdtemp(prefix="push-service-")))
    try:
        off = await phase(args, keys, service, push=False)
        on = await phase(args, keys, service, push=True)
    finally:
        service.stop()
    send_off, send_on = percentile(off["send_ms"], 99), percentile(on["send_ms"], 99)
    push_p99 = percentile(on["push_ms"], 99) if on["push_ms"] else float("inf")
    mode = "RabbitMQ send-push + 1 worker" if args.rabbitmq else "embedded (in-process queue)"
    rows = [
        ["setup", f"{args.users:,} subscribed users, {args.rate:g} msg/s for {args.seconds:g} s, {mode}"],
        ["pushes handed to the push service", f"{len(on['push_ms']):,}/{on['total']:,} (lost {on['lost']})"],
        ["send -> push service p50", f"{percentile(on['push_ms'], 50):.1f} ms" if on["push_ms"] else "-"],
        ["send -> push service p99", f"{push_p99:.1f} ms (target <= {P99_TARGET_MS} ms)"],
        ["refused by the push service", str(len(service.refused))],
        [
            "send p50 push off / on",
            f"{percentile(off['send_ms'], 50):.2f} / {percentile(on['send_ms'], 50):.2f} ms",
        ],
        [
            "send p99 push off / on",
            f"{send_off:.2f} / {send_on:.2f} ms ({(send_on / send_off - 1) * 100:+.1f} %)",
        ],
    ]
    print(table(["measure", "value"], rows))
    verdicts = {
        f"push p99 <= {P99_TARGET_MS} ms": push_p99 <= P99_TARGET_MS,
        "no push lost": on["lost"] == 0 and not service.refused,
        "send p99 within 10 %": send_on <= send_off * SEND_P99_SLACK,
    }
    print("\n".join(f"{'PASS' if ok else 'FAIL'}  {name}" for name, ok in verdicts.items()))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1000, help="subscribed users")
    parser.add_argument("--rate", type=float, default=50, help="messages per second")
    parser.add_argument("--seconds", type=float, default=20, help="how long the sends last")
    parser.add_argument("--rabbitmq", action="store_true", help="send-push on RabbitMQ and one push worker")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
