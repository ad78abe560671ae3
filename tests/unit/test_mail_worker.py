"""The worker's handling of one message, with a recording channel instead of a broker."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pika

from chat_web.adapters.mail.contract import TransientMailError
from chat_web.adapters.mail.outbox import OutboxSender
from chat_web.adapters.mail.topology import dead_queue, retry_queue
from mailer.worker import MailWorker, RetryPolicy

PAYLOAD = json.dumps({"to": "a@example.com", "subject": "Hi", "body": "Code 123456"}).encode()


class RecordingChannel:
    def __init__(self):
        self.published: list[tuple[str, dict]] = []
        self.acked: list[int] = []

    def basic_publish(self, exchange, routing_key, body, properties):
        self.published.append((routing_key, dict(properties.headers or {})))

    def basic_ack(self, delivery_tag):
        self.acked.append(delivery_tag)


def deliver(sender, attempts: int = 0, max_attempts: int = 3) -> RecordingChannel:
    worker = MailWorker("amqp://guest:guest@127.0.0.1:1/%2F", "q", sender, RetryPolicy(max_attempts, 1, 1))
    channel = worker._channel = RecordingChannel()
    properties = pika.BasicProperties(headers={"x-attempts": attempts} if attempts else None)
    worker._on_message(channel, SimpleNamespace(delivery_tag=7), properties, PAYLOAD)
    return channel


class Exploding:
    def send(self, message):
        raise RuntimeError("a bug in the sender")


def test_an_unexpected_error_is_dead_lettered_and_acked():
    channel = deliver(Exploding())
    ((queue, headers),) = channel.published
    assert queue == dead_queue("q")
    assert headers["x-failure-reason"] == "unexpected: RuntimeError: a bug in the sender"
    assert channel.acked == [7]  # the queue moves on


def test_an_outbox_that_cannot_be_written_is_retried_then_dead_lettered(tmp_path):
    unwritable = OutboxSender(tmp_path)  # a directory: every write fails with an OSError
    first = deliver(unwritable)
    assert [q for q, _ in first.published] == [retry_queue("q")] and first.acked == [7]
    assert "cannot be written" in first.published[0][1]["x-failure-reason"]
    last = deliver(unwritable, attempts=2, max_attempts=3)
    assert [q for q, _ in last.published] == [dead_queue("q")] and last.acked == [7]


def test_the_outbox_reports_a_write_failure_as_transient(tmp_path):
    import pytest

    from chat_web.domain import MailMessage

    with pytest.raises(TransientMailError, match="outbox"):
        OutboxSender(tmp_path).send(MailMessage(to="a@example.com", subject="s", body="b"))
