"""Real delivery over SMTP with the `emails` package."""

from __future__ import annotations

import logging
import smtplib
import threading

import emails
from emails.backend.smtp import SMTPBackend

from chat_web.adapters.mail.contract import PermanentMailError, TransientMailError
from chat_web.domain import MailMessage

log = logging.getLogger("mailer.smtp")


class SmtpSender:
    def __init__(
        self,
        host: str,
        port: int,
        mail_from: str,
        user: str = "",
        password: str = "",
        tls: str = "none",
        timeout: float = 10.0,
    ):
        self.mail_from = mail_from
        self.options: dict = {
            "host": host,
            "port": port,
            "timeout": timeout,
            # A fixed HELO name: looking up our own FQDN can hang on a closed network.
            "local_hostname": "localhost",
            "fail_silently": True,
        }
        if tls == "starttls":
            self.options["tls"] = True
        elif tls == "tls":
            self.options["ssl"] = True
        if user:
            self.options["user"] = user
            self.options["password"] = password
        # One connection kept open across mails (emails reconnects once if the server
        # dropped it); a new connection per mail cost more than the mail itself.
        self._backend = SMTPBackend(**self.options)
        self._lock = threading.Lock()  # one SMTP conversation at a time on that connection

    def send(self, message: MailMessage) -> None:
        mail = emails.Message(
            subject=message.subject,
            text=message.body,
            html=message.html or None,
            mail_from=self.mail_from,
        )
        with self._lock:
            response = mail.send(to=message.to, smtp=self._backend)
            if not response.success:
                # Start the next mail on a fresh connection, whatever state this one is in.
                self._backend.close()
        if response.success:
            log.info("mail to %s accepted by %s", message.to, self.options["host"])
            return
        code = response.status_code
        error = response.error
        if isinstance(error, smtplib.SMTPRecipientsRefused) or (code is not None and 500 <= code < 600):
            raise PermanentMailError(f"SMTP refused the mail: {code} {error or response.status_text!r}")
        raise TransientMailError(f"SMTP not available: {code} {error!r}")
