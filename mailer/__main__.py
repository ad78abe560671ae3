"""`python -m mailer`: consume send-otp from RabbitMQ and send the mail over SMTP."""

from __future__ import annotations

import logging
import signal
import sys

from chat_web.adapters.mail.delivery import sender_for
from chat_web.config import get_settings
from mailer.worker import MailWorker, RetryPolicy


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if not settings.rabbitmq_url:
        print("mailer: RABBITMQ_URL is not set; the worker needs RabbitMQ.", file=sys.stderr)
        return 2
    if not settings.smtp_host:
        logging.getLogger("mailer").warning("SMTP_HOST is not set: mail goes to %s", settings.outbox_file)
    worker = MailWorker(
        settings.rabbitmq_url,
        settings.mail_queue,
        sender_for(settings),
        RetryPolicy(
            settings.mail_max_attempts, settings.mail_retry_base_seconds, settings.mail_retry_max_seconds
        ),
        prefetch=settings.mail_prefetch,
    )

    def on_signal(signum, _frame) -> None:
        logging.getLogger("mailer").info("signal %d: finishing the message in hand", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
