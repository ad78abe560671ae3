"""The embedded mail queue: hands `send-otp` straight to the mailer's own handler."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict

from chat_web.adapters.mail.contract import MailSender, PermanentMailError, TransientMailError, consume
from chat_web.domain import BadInput, MailMessage, ServiceUnavailable

log = logging.getLogger(__name__)


class InProcessMailQueue:
    def __init__(self, sender: MailSender):
        self._sender = sender

    async def publish(self, message: MailMessage) -> None:
        try:
            # SMTP is blocking I/O: keep it off the event loop.
            await asyncio.to_thread(consume, asdict(message), self._sender)
        except TransientMailError as exc:
            log.warning("mail to %s not sent: %s", message.to, exc)
            raise ServiceUnavailable("The mail server cannot be reached; try again shortly.") from exc
        except PermanentMailError as exc:
            log.warning("mail to %s refused: %s", message.to, exc)
            raise BadInput("The mail server refused that address.") from exc
        except Exception as exc:
            # A bug in sending: the user gets a 503 to retry, the log gets the traceback.
            log.exception("mail to %s failed unexpectedly", message.to)
            raise ServiceUnavailable("Mail cannot be sent right now; try again shortly.") from exc
