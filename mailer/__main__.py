"""`python -m mailer`: consume send-otp from RabbitMQ and send the mail over SMTP."""

from __future__ import annotations

import logging
import signal
import sys

from chat_web.adapters.mail.delivery import sender_for
from chat_web.config import ConfigError, get_settings
from chat_web.logs import configure_logging
from mailer.worker import MailWorker, RetryPolicy

log = logging.getLogger("mailer")


def main() -> int:
    settings = get_settings()  # a malformed setting stops here, with one line naming it
    try:
        settings.check_mailer()
    except ConfigError as exc:
        print(f"mailer refuses to start: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    for warning in settings.original_warnings:
        log.warning(warning)
    if not settings.smtp_host:
        log.warning("SMTP_HOST is not set: mail goes to the development outbox %s", settings.outbox_file)
    if settings.mailer_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.mailer_metrics_port)  # GET /metrics: mails sent and failed
        log.info("metrics on port %d", settings.mailer_metrics_port)
    worker = MailWorker(
        settings.rabbitmq_url.get_secret_value(),
        settings.mail_queue,
        sender_for(settings),
        RetryPolicy(
            settings.mail_max_attempts, settings.mail_retry_base_seconds, settings.mail_retry_max_seconds
        ),
        prefetch=settings.mail_prefetch,
    )

    def on_signal(signum, _frame) -> None:
        log.info("signal %d: finishing the message in hand", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
