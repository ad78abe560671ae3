"""Domain records. Ids are strings so every storage backend fits (SQL keys, Mongo ObjectIds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OtpRecord:
    """A stored one-time code: only its hash, when it expires, and how many tries it had."""

    code_hash: str
    expires_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class MailMessage:
    """The `send-otp` payload handed to the mail queue."""

    to: str
    subject: str
    body: str
    html: str = ""
