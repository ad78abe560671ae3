"""What the services need from the outside world; adapters implement these."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from chat_web.domain import MailMessage, OtpRecord, User


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class UserRepo(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def get_or_create(self, email: str, name: str) -> User:
        """The user with this email, created with `name` if new (safe under concurrency)."""

    async def update_name(self, user_id: str, name: str) -> User | None: ...


class OtpStore(Protocol):
    async def save(self, email: str, record: OtpRecord, ttl: timedelta) -> None:
        """Replace any code of this email; the store forgets it after `ttl`."""

    async def take_attempt(self, email: str) -> OtpRecord | None:
        """Count one more try atomically and return the record with the new count."""

    async def delete(self, email: str) -> bool:
        """Forget the code; True only for the caller that actually removed it."""


class RateLimiter(Protocol):
    async def acquire(self, key: str, limit: int, window: timedelta) -> float:
        """Count a hit; 0 when allowed, else the seconds until the window ends."""

    async def release(self, key: str) -> None:
        """Give back the last hit (the action it guarded did not happen)."""


class MailQueue(Protocol):
    async def publish(self, message: MailMessage) -> None:
        """Hand a mail over for delivery; raises ServiceUnavailable if it cannot."""
