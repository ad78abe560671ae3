"""The RabbitMQ queues of a work pipeline (send-otp, send-push), declared the same way by the
app and the worker, and how a failed message is retried.

<queue>        durable work queue the app publishes to and the worker consumes
<queue>.retry  holds a message for its backoff (per-message expiration), then
               dead-letters it back to <queue>
<queue>.dead   messages that cannot be delivered, with the reason in their headers
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pika.exceptions

from chat_web.domain import MailMessage

PAYLOAD_VERSION = 1


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 2.0
    max_seconds: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the given (1-based) failed attempt: 2, 4, 8, ... capped."""
        return min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))


def retry_queue(queue: str) -> str:
    return f"{queue}.retry"


def dead_queue(queue: str) -> str:
    return f"{queue}.dead"


def declare(channel, queue: str) -> None:
    channel.queue_declare(queue=queue, durable=True)
    channel.queue_declare(
        queue=retry_queue(queue),
        durable=True,
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue},
    )
    channel.queue_declare(queue=dead_queue(queue), durable=True)


def encode(message: MailMessage) -> bytes:
    """The `send-otp` payload, version 1."""
    return json.dumps(
        {
            "v": PAYLOAD_VERSION,
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "html": message.html,
            "id": uuid.uuid4().hex,
            "created_at": datetime.now(UTC).isoformat(),
        }
    ).encode()


def close_quietly(connection) -> None:
    """Close a pika connection that may already be broken; errors change nothing here."""
    if connection is not None and connection.is_open:
        try:
            connection.close()
        except (pika.exceptions.AMQPError, OSError):
            pass
