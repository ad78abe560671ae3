"""Queues on RabbitMQ (pika): a dedicated publisher thread with publisher confirms. The mail
queue (send-otp) is one; the push queue (send-push, chat_web/adapters/push/amqp.py) another.

pika's BlockingConnection is not thread-safe and blocks, so one thread owns it and the
event loop only waits on a future: publishing never blocks the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading

import pika
import pika.exceptions

from chat_web.adapters.mail.topology import close_quietly, declare, encode
from chat_web.domain import MailMessage, ServiceUnavailable

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 10.0
_IDLE_TICK = 1.0  # seconds between heartbeat servicing when there is nothing to publish


class _Stop:
    pass


class AmqpPublisher:
    """Publishes bodies to one durable queue (declared with its retry and dead queues)."""

    def __init__(self, url: str, queue_name: str, what: str = "mail queue"):
        self._params = pika.URLParameters(url)
        self._params.connection_attempts = 1
        self._params.socket_timeout = 5
        self._params.blocked_connection_timeout = 10
        self._params.heartbeat = 30
        self._queue_name = queue_name
        self._what = what  # how a 503 names it: "The mail queue (RabbitMQ) ..."
        self._jobs: queue.Queue = queue.Queue()
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._thread = threading.Thread(target=self._run, name=f"amqp-publisher-{queue_name}", daemon=True)
        self._thread.start()

    # --- event-loop side ------------------------------------------------------------------------

    async def publish_body(self, body: bytes) -> None:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((body, future))
        try:
            await asyncio.wait_for(asyncio.wrap_future(future), PUBLISH_TIMEOUT)
        except TimeoutError:
            raise ServiceUnavailable(
                f"The {self._what} (RabbitMQ) did not answer; try again shortly."
            ) from None

    def check(self) -> bool:
        """Whether the broker answers now (used to warn at start-up)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((None, future))
        try:
            future.result(timeout=PUBLISH_TIMEOUT)
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable now"
            return False

    async def close(self) -> None:
        self._jobs.put(_Stop())
        await asyncio.to_thread(self._thread.join, 5)

    # --- publisher thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=_IDLE_TICK)
            except queue.Empty:
                self._service_heartbeats()
                continue
            if isinstance(job, _Stop):
                self._disconnect()
                return
            body, future = job
            if future.set_running_or_notify_cancel():
                self._publish_with_one_reconnect(body, future)

    def _publish_with_one_reconnect(self, body: bytes | None, future: concurrent.futures.Future) -> None:
        # A broker restart breaks the old connection: the first failure reconnects and
        # tries again; only a second failure reaches the user as a 503.
        error: Exception | None = None
        for _ in range(2):
            try:
                self._ensure_connected()
                if body is not None:
                    self._channel.basic_publish(
                        exchange="",
                        routing_key=self._queue_name,
                        body=body,
                        properties=pika.BasicProperties(
                            delivery_mode=pika.DeliveryMode.Persistent, content_type="application/json"
                        ),
                        mandatory=True,
                    )
                future.set_result(None)
                return
            except (pika.exceptions.AMQPError, OSError) as exc:
                error = exc
                self._disconnect()
            except Exception as exc:  # noqa: BLE001 - the thread must live on: this is the 503 path
                log.exception("unexpected error publishing to RabbitMQ")
                error = exc
                self._disconnect()
        log.warning("%s unavailable: %r", self._what, error)
        future.set_exception(
            ServiceUnavailable(f"The {self._what} (RabbitMQ) cannot be reached; try again shortly.")
        )

    def _ensure_connected(self) -> None:
        if self._connection is not None and self._connection.is_open and self._channel.is_open:
            return
        self._disconnect()
        self._connection = pika.BlockingConnection(self._params)
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()  # basic_publish now returns once the broker has it
        declare(self._channel, self._queue_name)
        log.info("connected to RabbitMQ; publishing to %s", self._queue_name)

    def _service_heartbeats(self) -> None:
        if self._connection is None or not self._connection.is_open:
            return
        try:
            self._connection.process_data_events(time_limit=0)
        except Exception:  # noqa: BLE001 - a broken connection is reopened by the next publish
            self._disconnect()

    def _disconnect(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        close_quietly(connection)


class AmqpMailQueue(AmqpPublisher):
    """send-otp: each sign-in code's mail, for `python -m mailer`."""

    def __init__(self, url: str, queue_name: str):
        super().__init__(url, queue_name, "mail queue")

    async def publish(self, message: MailMessage) -> None:
        await self.publish_body(encode(message))
