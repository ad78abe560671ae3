"""The mail pipeline against the real RabbitMQ and a real SMTP server in the test process.

The app publishes send-otp; `python -m mailer` (a real subprocess) delivers it. Every test
has its own queue names and deletes them afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pika
import pytest

from chat_web import container
from chat_web.adapters.mail.topology import dead_queue, encode, retry_queue
from chat_web.api.app import create_api
from chat_web.config import Settings
from chat_web.domain import MailMessage, ServiceUnavailable
from tests.conftest import RABBITMQ_URL, need_service, port_open
from tests.support.smtp_sink import SmtpSink, free_port
from tests.support.throwaway import ThrowawayRabbitMQ

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue_name():
    need_service("RabbitMQ", port_open("127.0.0.1", 5672), RABBITMQ_URL)
    name = f"send-otp-test-{uuid.uuid4().hex[:8]}"
    yield name
    try:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        channel = connection.channel()
        for queue in (name, retry_queue(name), dead_queue(name)):
            channel.queue_delete(queue)
        connection.close()
    except pika.exceptions.AMQPError:
        pass


@pytest.fixture
def sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


class Worker:
    """`python -m mailer` in a subprocess, its log in a file."""

    def __init__(self, tmp_path: Path, queue: str, smtp_port: int, **env: str):
        self.log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.env = {
            **os.environ,
            "RABBITMQ_URL": RABBITMQ_URL,
            "MAIL_QUEUE": queue,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "MAIL_RETRY_BASE_SECONDS": "0.2",
            "MAIL_RETRY_MAX_SECONDS": "1",
            "DATA_DIR": str(tmp_path),
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mailer"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        self.wait_for_log("consuming", count=self.text().count("consuming") + 1)
        return self

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def wait_for_log(self, needle: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.text().count(needle) < count:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in the worker log:\n{self.text()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            return self.process.wait(timeout=20)
        return self.process.returncode if self.process else 0


@pytest.fixture
def workers():
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop(signal.SIGKILL)


def publish(queue: str, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    from chat_web.adapters.mail.topology import declare

    declare(channel, queue)
    channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
    connection.close()


def queue_messages(queue: str) -> list[tuple[dict, bytes]]:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    found = []
    while True:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        found.append((dict(properties.headers or {}), body))
    connection.close()
    return found


def dead_letters(queue: str, count: int, timeout: float = 15) -> list[tuple[dict, bytes]]:
    """What reached the dead-letter queue, waiting until `count` did (or the deadline)."""
    deadline = time.monotonic() + timeout
    dead: list = []
    while len(dead) < count and time.monotonic() < deadline:
        dead += queue_messages(dead_queue(queue))
        time.sleep(0.1)
    return dead


def queue_length(queue: str) -> int:
    """Messages ready in the queue (a retry waiting out its backoff counts)."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def mail(to: str) -> bytes:
    return encode(MailMessage(to=to, subject="Your sign-in code", body="Your sign-in code is 123456."))


async def test_a_login_through_the_api_ends_as_a_mail_with_a_code_that_signs_in(
    tmp_path, queue_name, sink, workers
):
    workers.append(Worker(tmp_path, queue_name, sink.port).start())
    settings = Settings(_env_file=None, data_dir=tmp_path, rabbitmq_url=RABBITMQ_URL, mail_queue=queue_name)
    email = f"mailer-{uuid.uuid4().hex[:8]}@example.com"
    async with container.running(settings):
        transport = httpx.ASGITransport(app=create_api())
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
            login = await client.post("/login", json={"email": email})
            assert login.status_code == 200
            (received,) = sink.wait_for(1, address=email)
            assert received.message["Subject"] == "Your sign-in code"
            code = re.search(r"\b(\d{6})\b", received.text()).group(1)
            assert code in received.html()
            assert "expires in 5 minutes" in received.text()
            answer = {"email": email, "otp": code, "challenge": login.json()["challenge"]}
            verified = await client.post("/verify", json=answer)
            assert verified.status_code == 200 and verified.json()["user"]["email"] == email
    assert code not in workers[0].text()  # the log never carries the code


async def test_login_is_503_when_the_broker_is_unreachable_and_the_code_is_withdrawn(tmp_path):
    settings = Settings(
        _env_file=None, data_dir=tmp_path, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    )
    async with container.running(settings) as running:
        transport = httpx.ASGITransport(app=create_api())
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
            response = await client.post("/login", json={"email": "down@example.com"})
            assert response.status_code == 503
            assert "RabbitMQ" in response.json()["detail"]
            # The cooldown was not burned: asking again is 503 again, not 429.
            assert (await client.post("/login", json={"email": "down@example.com"})).status_code == 503
        with pytest.raises(ServiceUnavailable):
            await running.auth.request_code("down@example.com")


def test_smtp_down_for_a_while_then_the_mail_arrives_exactly_once(tmp_path, queue_name, workers):
    port = free_port()
    worker = Worker(tmp_path, queue_name, port, MAIL_MAX_ATTEMPTS="50").start()
    workers.append(worker)
    publish(queue_name, mail("patient@example.com"))
    worker.wait_for_log("retrying in", count=3)  # tried, failed, backing off
    sink = SmtpSink(port).start()
    try:
        assert len(sink.wait_for(1, timeout=15)) == 1
        worker.wait_for_log("mail to patient@example.com sent")
        # No copy is left anywhere that could still be delivered: so exactly once.
        queues = (queue_name, retry_queue(queue_name), dead_queue(queue_name))
        assert [queue_length(q) for q in queues] == [0, 0, 0]
        assert len(sink.mails) == 1
    finally:
        sink.stop()


def test_a_worker_killed_mid_stream_delivers_everything_after_restart(tmp_path, queue_name, sink, workers):
    sink.handler.delay = 0.1
    first = Worker(tmp_path, queue_name, sink.port, MAIL_PREFETCH="5").start()
    workers.append(first)
    addresses = [f"k{i}@example.com" for i in range(20)]
    for address in addresses:
        publish(queue_name, mail(address))
    sink.wait_for(4)
    first.stop(signal.SIGKILL)  # no goodbye: its unacked messages go back to the queue
    delivered_before = len(sink.mails)
    assert delivered_before < len(addresses)
    workers.append(Worker(tmp_path, queue_name, sink.port).start())
    deadline = time.monotonic() + 30
    while {to for m in sink.mails for to in m.to} != set(addresses) and time.monotonic() < deadline:
        sink.wait_for(len(sink.mails) + 1, timeout=1)
    assert {to for m in sink.mails for to in m.to} == set(addresses)
    # At least once: the mail in flight at the kill may come twice, nothing more.
    assert len(sink.mails) <= len(addresses) + 1


def test_sigterm_finishes_the_mail_in_hand(tmp_path, queue_name, sink, workers):
    sink.handler.delay = 1.0
    worker = Worker(tmp_path, queue_name, sink.port, MAIL_PREFETCH="1").start()
    workers.append(worker)
    publish(queue_name, mail("inhand@example.com"))
    assert sink.handler.receiving.wait(15)  # the worker is inside the SMTP exchange now
    assert worker.stop(signal.SIGTERM) == 0
    assert len(sink.to("inhand@example.com")) == 1
    assert queue_messages(queue_name) == []  # acked, not redelivered


def test_poison_and_permanently_failing_mail_is_dead_lettered_and_the_queue_flows(
    tmp_path, queue_name, sink, workers
):
    workers.append(Worker(tmp_path, queue_name, sink.port, MAIL_MAX_ATTEMPTS="2").start())
    publish(queue_name, b"\x00not json at all")
    publish(queue_name, json.dumps({"to": "x@example.com"}).encode())
    publish(queue_name, mail("reject-me@example.com"))  # the SMTP server refuses: 550
    publish(queue_name, mail("fine@example.com"))
    assert len(sink.wait_for(1, address="fine@example.com")) == 1
    dead = dead_letters(queue_name, 3)
    reasons = sorted(h["x-failure-reason"] for h, _ in dead)
    assert len(dead) == 3
    assert any("not JSON" in r for r in reasons)
    assert any("'subject' is missing" in r for r in reasons)
    assert any("550" in r for r in reasons)
    assert all(r.startswith("permanent") for r in reasons)


def test_transient_failures_give_up_into_the_dead_letter_queue(tmp_path, queue_name, workers):
    workers.append(Worker(tmp_path, queue_name, free_port(), MAIL_MAX_ATTEMPTS="3").start())
    publish(queue_name, mail("never@example.com"))
    ((headers, body),) = dead_letters(queue_name, 1)
    assert headers["x-attempts"] == 3 and "gave up after 3 attempts" in headers["x-failure-reason"]
    assert json.loads(body)["to"] == "never@example.com"


def test_an_outbox_that_cannot_be_written_is_dead_lettered_and_the_worker_keeps_consuming(
    tmp_path, queue_name, workers
):
    folder = tmp_path / "outbox-is-a-folder"
    folder.mkdir()
    worker = Worker(
        tmp_path, queue_name, free_port(), SMTP_HOST="", OUTBOX_PATH=str(folder), MAIL_MAX_ATTEMPTS="2"
    ).start()
    workers.append(worker)
    publish(queue_name, mail("first@example.com"))
    publish(queue_name, mail("second@example.com"))
    dead = dead_letters(queue_name, 2)
    assert sorted(json.loads(body)["to"] for _, body in dead) == ["first@example.com", "second@example.com"]
    assert all("cannot be written" in headers["x-failure-reason"] for headers, _ in dead)
    assert worker.process.poll() is None  # still consuming, not crashed nor looping


async def test_app_and_worker_carry_on_across_a_broker_restart(tmp_path, sink, workers):
    # A throwaway node of our own: the machine's shared broker is never stopped by a test.
    broker = ThrowawayRabbitMQ()
    need_service("a throwaway RabbitMQ node", not broker.missing(), broker.missing())
    broker.start()
    try:
        worker = Worker(tmp_path, "send-otp", sink.port, RABBITMQ_URL=broker.url).start()
        workers.append(worker)
        settings = Settings(_env_file=None, data_dir=tmp_path, rabbitmq_url=broker.url)
        async with container.running(settings) as running:
            await running.auth.request_code("before@example.com")
            assert sink.wait_for(1, address="before@example.com")
            await asyncio.to_thread(broker.stop)
            await asyncio.to_thread(broker.start)
            # The app's publisher reconnects on its own; no restart of anything.
            await running.auth.request_code("after@example.com")
        assert sink.wait_for(1, address="after@example.com", timeout=60), worker.text()
        assert worker.process.poll() is None  # the same worker process, reconnected
        assert worker.text().count("consuming") >= 2
    finally:
        broker.close()
