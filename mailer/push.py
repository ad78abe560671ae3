"""`python -m mailer.push`: consume send-push from RabbitMQ and hand each push to the browser's
push service. Run as many as needed: they share the queue, and each push is claimed in
storage first, so none goes out twice."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from chat_web.adapters.clock import SystemClock
from chat_web.adapters.mail.topology import RetryPolicy
from chat_web.adapters.push.jobs import parse
from chat_web.adapters.push.keys import vapid_keys
from chat_web.adapters.push.webpush import WebPushSender
from chat_web.config import ConfigError, Settings, get_settings
from chat_web.container import open_store
from chat_web.domain import ServiceUnavailable
from chat_web.domain.push import PermanentPushError, TransientPushError
from chat_web.logs import configure_logging
from chat_web.metrics import PUSHES
from chat_web.services.push_delivery import Outcome, PushDelivery
from mailer.worker import QueueWorker

log = logging.getLogger("mailer.push")


class PushWorker(QueueWorker):
    """Each message is one push (chat_web/adapters/push/jobs.py); the delivery runs on this
    worker's own event loop (the storage driver and the HTTP client are async)."""

    what = "push"

    def __init__(self, settings: Settings, queue: str | None = None):
        self._loop = asyncio.new_event_loop()
        self._store = self._loop.run_until_complete(open_store(settings))
        self._sender = WebPushSender(vapid_keys(settings), settings.vapid_subject)
        self._delivery = PushDelivery(self._store.push, self._sender, SystemClock())
        super().__init__(
            settings.rabbitmq_url.get_secret_value(),
            queue or settings.push_queue,
            self._deliver,
            (PermanentPushError,),
            # The database away is worth waiting for, like the push service.
            (TransientPushError, ServiceUnavailable),
            RetryPolicy(
                settings.push_max_attempts, settings.push_retry_base_seconds, settings.push_retry_max_seconds
            ),
            settings.push_prefetch,
        )

    def _deliver(self, body: bytes) -> str:
        job = parse(body)
        outcome = self._loop.run_until_complete(self._delivery.deliver(job))
        if outcome is not Outcome.SENT:
            PUSHES.labels(outcome.value).inc()  # "sent" is counted by the loop
        return f"push of message {job.message_id} to {job.subscription_id}: {outcome}"

    def _counted(self, outcome: str) -> None:
        PUSHES.labels(outcome).inc()

    def close(self) -> None:
        """Let go of the database and the HTTP client (after run() returned)."""
        self._loop.run_until_complete(self._sender.close())
        self._loop.run_until_complete(self._store.close())
        self._loop.close()


def check(settings: Settings) -> None:
    if not settings.rabbitmq_url.get_secret_value():
        raise ConfigError("RABBITMQ_URL is not set; the push worker reads its pushes from RabbitMQ.")
    if not settings.push_enabled:
        raise ConfigError("PUSH_ENABLED is off; there are no pushes to send.")
    vapid_keys(settings)  # the pair, checked (production: set; development: DATA_DIR's)


def main() -> int:
    settings = get_settings()
    try:
        check(settings)
    except ConfigError as exc:
        print(f"push worker refuses to start: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    try:
        worker = PushWorker(settings)
    except ServiceUnavailable as exc:
        print(f"push worker cannot start: {exc.message}", file=sys.stderr)
        return 3

    def on_signal(signum, _frame) -> None:
        log.info("signal %d: finishing the push in hand", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        worker.run()
    finally:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
