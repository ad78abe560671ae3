"""The `send-otp` contract: parse one payload and hand it to a sender; pure of any broker.

The app (in-process mail) and `python -m mailer` both call `consume`."""

from __future__ import annotations

import json
from typing import Protocol

from chat_web.domain import MailMessage


class PermanentMailError(Exception):
    """Retrying cannot help (malformed message, address refused): dead-letter it."""


class TransientMailError(Exception):
    """The mail server is down or busy: try again later."""


class MailSender(Protocol):
    def send(self, message: MailMessage) -> None:
        """Deliver or raise PermanentMailError / TransientMailError."""


def parse(data: bytes | str | dict) -> MailMessage:
    """Validate a payload `{to, subject, body[, html]}` (v1 adds id and created_at)."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PermanentMailError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PermanentMailError("payload is not a JSON object")
    fields = {}
    for name in ("to", "subject", "body"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PermanentMailError(f"field {name!r} is missing or not text")
        fields[name] = value
    html = data.get("html") or ""
    if not isinstance(html, str):
        raise PermanentMailError("field 'html' is not text")
    if "@" not in fields["to"] or any(ch in fields["to"] for ch in "\r\n,;"):
        raise PermanentMailError("field 'to' is not a single address")
    return MailMessage(to=fields["to"], subject=fields["subject"], body=fields["body"], html=html)


def consume(data: bytes | str | dict, sender: MailSender) -> MailMessage:
    message = parse(data)
    sender.send(message)
    return message
