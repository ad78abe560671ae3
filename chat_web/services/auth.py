"""Passwordless sign-in: a 6-digit code by email, then a JWT session."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from chat_web.domain import (
    InvalidOtp,
    MailMessage,
    OtpRecord,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    User,
)
from chat_web.ports import Clock, MailQueue, OtpStore, RateLimiter, UserRepo
from chat_web.services.tokens import TokenService
from chat_web.services.validation import clean_name, clean_otp, default_name, normalize_email

OTP_SUBJECT = "Your sign-in code"


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    ttl: timedelta = timedelta(minutes=5)
    resend_after: timedelta = timedelta(seconds=60)
    max_attempts: int = 5


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user: User


def otp_mail(email: str, code: str, ttl: timedelta) -> MailMessage:
    minutes = max(1, round(ttl.total_seconds() / 60))
    text = f"Your sign-in code is {code}. It expires in {minutes} minutes."
    html = (
        "<p>Your sign-in code is</p>"
        f'<p style="font-size:28px;letter-spacing:6px"><b>{escape(code)}</b></p>'
        f"<p>It expires in {minutes} minutes. If you did not ask for it, ignore this mail.</p>"
    )
    return MailMessage(to=email, subject=OTP_SUBJECT, body=text, html=html)


class AuthService:
    def __init__(
        self,
        users: UserRepo,
        otps: OtpStore,
        limiter: RateLimiter,
        mail: MailQueue,
        tokens: TokenService,
        clock: Clock,
        hash_key: bytes,
        policy: OtpPolicy = OtpPolicy(),
    ):
        self._users = users
        self._otps = otps
        self._limiter = limiter
        self._mail = mail
        self._tokens = tokens
        self._clock = clock
        self._hash_key = hash_key
        self.policy = policy

    def _hash(self, email: str, code: str) -> str:
        # Keyed so a leaked store does not reveal codes by a 10^6 brute force.
        return hmac.new(self._hash_key, f"{email}:{code}".encode(), hashlib.sha256).hexdigest()

    async def request_code(self, raw_email: object) -> str:
        """Mail a fresh code; the answer is the same whether or not the account exists."""
        email = normalize_email(raw_email)
        cooldown_key = f"otp-send:{email}"
        wait = await self._limiter.acquire(cooldown_key, 1, self.policy.resend_after)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise RateLimited(f"A code was sent moments ago; ask again in {seconds} s.", seconds)
        code = f"{secrets.randbelow(10**6):06d}"
        record = OtpRecord(
            code_hash=self._hash(email, code),
            expires_at=self._clock.now() + self.policy.ttl,
            attempts=0,
        )
        await self._otps.save(email, record, self.policy.ttl)
        try:
            await self._mail.publish(otp_mail(email, code, self.policy.ttl))
        except ServiceUnavailable:
            # The code never left: withdraw it and give the cooldown back.
            await self._otps.delete(email)
            await self._limiter.release(cooldown_key)
            raise
        return email

    async def verify(self, raw_email: object, raw_code: object) -> Session:
        email = normalize_email(raw_email)
        code = clean_otp(raw_code)
        record = await self._otps.take_attempt(email)
        if record is None or record.expires_at <= self._clock.now():
            raise InvalidOtp("The code is wrong or has expired; ask for a new one.")
        if record.attempts > self.policy.max_attempts:
            await self._otps.delete(email)
            raise InvalidOtp("Too many wrong tries; ask for a new code.")
        if not hmac.compare_digest(record.code_hash, self._hash(email, code)):
            left = self.policy.max_attempts - record.attempts
            if left <= 0:
                await self._otps.delete(email)
                raise InvalidOtp("Too many wrong tries; ask for a new code.")
            raise InvalidOtp(f"That code is wrong; {left} {'try' if left == 1 else 'tries'} left.")
        if not await self._otps.delete(email):
            # A concurrent request used this code first: it is single-use.
            raise InvalidOtp("The code is wrong or has expired; ask for a new one.")
        user = await self._users.get_or_create(email, default_name(email))
        return Session(token=self._tokens.issue(user.id), user=user)

    async def user_for_token(self, token: str | None) -> User:
        user_id = self._tokens.subject(token or "")
        user = await self._users.get(user_id)
        if user is None:
            raise Unauthorized("Your account no longer exists; sign in again.")
        return user

    async def rename(self, user: User, raw_name: object) -> User:
        name = clean_name(raw_name)
        updated = await self._users.update_name(user.id, name)
        if updated is None:
            raise Unauthorized("Your account no longer exists; sign in again.")
        return updated
