"""Choose how mail leaves: SMTP when configured, else the development outbox."""

from __future__ import annotations

import logging

from chat_web.adapters.mail.contract import MailSender
from chat_web.adapters.mail.outbox import OutboxSender
from chat_web.adapters.mail.smtp import SmtpSender
from chat_web.config import Settings

log = logging.getLogger("mailer")


def sender_for(settings: Settings) -> MailSender:
    if settings.smtp_host:
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            mail_from=settings.mail_from,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value(),
            tls=settings.smtp_tls,
        )
    if not settings.is_dev:
        log.warning("SMTP_HOST is not set: mail is only written to %s", settings.outbox_file)
    return OutboxSender(settings.outbox_file)
