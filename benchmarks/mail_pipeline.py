"""Mail pipeline benchmark: logins -> RabbitMQ -> `python -m mailer` -> an SMTP sink.

    python -m benchmarks.mail_pipeline                  # 2,000 mails for throughput, 50 logins/s for 20 s
    python -m benchmarks.mail_pipeline --burst 500 --rate 20 --seconds 10

Everything runs on 127.0.0.1: the real RabbitMQ from RABBITMQ_URL (default guest@localhost),
an aiosmtpd sink in this process, and one worker subprocess. It stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pika

from benchmarks.common import percentile, table
from chat_web import container
from chat_web.adapters.mail.topology import dead_queue, retry_queue
from chat_web.api.app import create_api
from chat_web.config import Settings
from tests.support.limits import LIFTED_LIMITS
from tests.support.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[1]
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def start_worker(queue: str, smtp_port: int, data: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "RABBITMQ_URL": RABBITMQ_URL,
        "MAIL_QUEUE": queue,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "DATA_DIR": str(data),
        "MAIL_PREFETCH": "50",
    }
    log = (data / "worker.log").open("a")
    return subprocess.Popen(
        [sys.executable, "-m", "mailer"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def delete_queues(queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    for name in (queue, retry_queue(queue), dead_queue(queue)):
        channel.queue_delete(name)
    connection.close()


async def login(client: httpx.AsyncClient, email: str) -> float:
    began = time.monotonic()
    response = await client.post("/login", json={"email": email})
    response.raise_for_status()
    return began


async def run(args) -> None:
    queue = f"send-otp-bench-{uuid.uuid4().hex[:8]}"
    sink = SmtpSink().start()
    data = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    # Every login comes from 127.0.0.1: the abuse limits would measure themselves.
    settings = Settings(
        _env_file=None, data_dir=data, rabbitmq_url=RABBITMQ_URL, mail_queue=queue, **LIFTED_LIMITS
    )
    worker = None
    try:
        async with container.running(settings):
            transport = httpx.ASGITransport(app=create_api())
            async with httpx.AsyncClient(transport=transport, base_url="http://bench/api/v1") as client:
                # 1. Throughput: queue a burst with no worker running, then time one worker draining it.
                tag = uuid.uuid4().hex[:6]
                semaphore = asyncio.Semaphore(50)

                async def bounded(i: int) -> None:
                    async with semaphore:
                        await login(client, f"burst{i}-{tag}@example.com")

                began = time.monotonic()
                await asyncio.gather(*[bounded(i) for i in range(args.burst)])
                publish_rate = args.burst / (time.monotonic() - began)
                worker = start_worker(queue, sink.port, data)
                started = time.monotonic()
                mails = await asyncio.to_thread(sink.wait_for, args.burst, 120)
                if len(mails) < args.burst:
                    raise SystemExit(f"only {len(mails)} of {args.burst} mails arrived")
                first, last = min(m.at for m in mails), max(m.at for m in mails)
                startup = first - started
                throughput = (args.burst - 1) / (last - first)  # from the first mail to the last

                # 2. Latency at a steady rate: login to the mail in the inbox.
                before = len(sink.mails)
                sent: dict[str, float] = {}
                total = int(args.rate * args.seconds)
                pace = 1.0 / args.rate
                tasks = []
                t0 = time.monotonic()
                for i in range(total):
                    email = f"steady{i}-{tag}@example.com"
                    await asyncio.sleep(max(0.0, t0 + i * pace - time.monotonic()))
                    sent[email] = time.monotonic()
                    tasks.append(asyncio.create_task(login(client, email)))
                await asyncio.gather(*tasks)
                await asyncio.to_thread(sink.wait_for, before + total, 60)
        arrived = {to: m.at for m in sink.mails for to in m.to if to in sent}
        latencies = [(arrived[e] - sent[e]) * 1000 for e in sent if e in arrived]
        print(
            table(
                ["measure", "value"],
                [
                    [
                        "burst logins queued (API + publish, 50 in flight)",
                        f"{args.burst:,} at {publish_rate:,.0f}/s",
                    ],
                    ["one worker draining the burst", f"{throughput:,.0f} mails/s"],
                    ["worker start to its first mail", f"{startup * 1000:,.0f} ms"],
                    [
                        f"steady logins ({args.rate}/s for {args.seconds}s)",
                        f"{len(latencies):,}/{total:,} delivered",
                    ],
                    ["login-to-inbox latency p50", f"{percentile(latencies, 50):.1f} ms"],
                    ["login-to-inbox latency p99", f"{percentile(latencies, 99):.1f} ms"],
                ],
            )
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
        sink.stop()
        delete_queues(queue)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=2000, help="mails queued before the worker starts")
    parser.add_argument("--rate", type=float, default=50, help="steady logins per second")
    parser.add_argument("--seconds", type=float, default=20, help="how long the steady phase lasts")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
