"""The RabbitMQ consumer loop: handle, then ack; retry with backoff; dead-letter the rest.

The broker part lives here only: what a message means is the handler's (`consume` for
mail, `PushDelivery.deliver` for pushes), so tests call that directly. `QueueWorker` is
the loop for any queue declared by chat_web/adapters/mail/topology.py; `MailWorker` is
send-otp's, the push worker (mailer/push.py) send-push's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pika
import pika.exceptions

from chat_web.adapters.mail.contract import MailSender, PermanentMailError, TransientMailError, consume
from chat_web.adapters.mail.topology import RetryPolicy, close_quietly, dead_queue, declare, retry_queue
from chat_web.metrics import MAILS_FAILED, MAILS_SENT

log = logging.getLogger("mailer.worker")

ATTEMPTS_HEADER = "x-attempts"
REASON_HEADER = "x-failure-reason"

__all__ = ["ATTEMPTS_HEADER", "REASON_HEADER", "MailWorker", "QueueWorker", "RetryPolicy"]


class QueueWorker:
    """Consumes one queue: `handle(body)` returns a line for the log, or raises one of
    `permanent` (dead-letter now) or `transient` (retry later, dead-letter past the attempts).
    Subclasses may count outcomes (`_counted`)."""

    what = "message"  # how the log names one

    def __init__(
        self,
        url: str,
        queue: str,
        handle: Callable[[bytes], str],
        permanent: tuple[type[Exception], ...],
        transient: tuple[type[Exception], ...],
        policy: RetryPolicy = RetryPolicy(),
        prefetch: int = 20,
    ):
        self._params = pika.URLParameters(url)
        self._params.heartbeat = 30
        self._queue = queue
        self._handle = handle
        self._permanent = permanent
        self._transient = transient
        self._policy = policy
        self._prefetch = prefetch
        self._stopping = False
        self._connection: pika.BlockingConnection | None = None
        self._channel = None

    # --- lifecycle ------------------------------------------------------------------------------

    def run(self) -> None:
        """Consume until stop(); reconnect with backoff when the broker goes away."""
        pause = 1.0
        while not self._stopping:
            try:
                self._connect()
                pause = 1.0
                self._channel.start_consuming()
            except pika.exceptions.ChannelClosedByBroker as exc:
                # A channel error is a bug or a misconfiguration (say a queue declared with
                # other arguments): retrying would loop, so stop and say why.
                log.error("RabbitMQ closed the channel: %s %s; stopping", exc.reply_code, exc.reply_text)
                raise
            except (
                pika.exceptions.AMQPConnectionError,
                pika.exceptions.ConnectionClosedByBroker,
                OSError,
            ) as exc:
                if self._stopping:
                    break
                log.warning("RabbitMQ connection lost (%r); reconnecting in %.0f s", exc, pause)
                time.sleep(pause)
                pause = min(pause * 2, 30.0)
            finally:
                self._close()
        log.info("%s worker stopped", self._queue)

    def stop(self) -> None:
        """Finish the message in hand, then return from run(). Safe from a signal handler."""
        self._stopping = True
        connection = self._connection
        if connection is not None and connection.is_open:
            connection.add_callback_threadsafe(self._stop_consuming)

    def _stop_consuming(self) -> None:
        if self._channel is not None and self._channel.is_open:
            self._channel.stop_consuming()

    def _connect(self) -> None:
        self._connection = pika.BlockingConnection(self._params)
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()  # a retry or dead-letter copy is safe before we ack
        declare(self._channel, self._queue)
        self._channel.basic_qos(prefetch_count=self._prefetch)
        self._channel.basic_consume(self._queue, self._on_message)
        log.info("consuming %s (prefetch %d)", self._queue, self._prefetch)

    def _close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        close_quietly(connection)

    # --- one message ----------------------------------------------------------------------------

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        headers = dict(properties.headers or {})
        attempt = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        try:
            done = self._handle(body)
            self._counted("sent")
            log.info("%s (attempt %d)", done, attempt)
        except self._permanent as exc:
            self._dead_letter(body, headers, attempt, f"permanent: {exc}")
        except self._transient as exc:
            if attempt >= self._policy.max_attempts:
                self._dead_letter(body, headers, attempt, f"gave up after {attempt} attempts: {exc}")
            else:
                self._retry_later(body, headers, attempt, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in one message must not stop the queue
            log.exception("unexpected error handling a %s", self.what)
            self._dead_letter(body, headers, attempt, f"unexpected: {type(exc).__name__}: {exc}")
        # Ack only once the work is done, or a copy is safely requeued.
        channel.basic_ack(method.delivery_tag)
        if self._stopping:
            channel.stop_consuming()

    def _counted(self, outcome: str) -> None:
        """One more message sent, retried or dead-lettered (metrics of subclasses)."""

    def _republish(self, queue: str, body: bytes, headers: dict, expiration_ms: int | None = None) -> None:
        self._channel.basic_publish(
            exchange="",
            routing_key=queue,
            body=body,
            properties=pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent,
                content_type="application/json",
                headers=headers,
                expiration=str(expiration_ms) if expiration_ms is not None else None,
            ),
        )

    def _retry_later(self, body: bytes, headers: dict, attempt: int, reason: str) -> None:
        delay = self._policy.delay(attempt)
        self._counted("retry")
        log.warning("%s not sent (attempt %d): %s; retrying in %.1f s", self.what, attempt, reason, delay)
        headers = {**headers, ATTEMPTS_HEADER: attempt, REASON_HEADER: reason[:500]}
        self._republish(retry_queue(self._queue), body, headers, expiration_ms=int(delay * 1000))

    def _dead_letter(self, body: bytes, headers: dict, attempt: int, reason: str) -> None:
        self._counted("dead")
        log.error("%s dead-lettered to %s: %s", self.what, dead_queue(self._queue), reason)
        headers = {**headers, ATTEMPTS_HEADER: attempt, REASON_HEADER: reason[:500]}
        self._republish(dead_queue(self._queue), body, headers)


class MailWorker(QueueWorker):
    """send-otp: each message is a mail for the SMTP server."""

    what = "mail"

    def __init__(
        self,
        url: str,
        queue: str,
        sender: MailSender,
        policy: RetryPolicy = RetryPolicy(),
        prefetch: int = 20,
    ):
        super().__init__(
            url,
            queue,
            lambda body: f"mail to {consume(body, sender).to} sent",
            (PermanentMailError,),
            (TransientMailError,),
            policy,
            prefetch,
        )

    def _counted(self, outcome: str) -> None:
        if outcome == "sent":
            MAILS_SENT.inc()
        else:
            MAILS_FAILED.labels(outcome).inc()
