"""Passwordless sign-in: a 6-digit code by email, then a JWT session."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from chat_web.domain import (
    ChatError,
    InvalidOtp,
    MailMessage,
    OtpRecord,
    ServiceUnavailable,
    Unauthorized,
    User,
)
from chat_web.domain.events import session_ended, user_topic
from chat_web.ports import Clock, FanOut, MailQueue, OtpStore, RateLimiter, UserRepo
from chat_web.services.limits import AbuseLimits, Check, Limit, LimitGate
from chat_web.services.networks import mailbox_of, network_of
from chat_web.services.sessions import SessionCache
from chat_web.services.tokens import TokenService, token_id
from chat_web.services.validation import clean_name, clean_otp, default_name, normalize_email

log = logging.getLogger(__name__)

OTP_SUBJECT = "Your sign-in code"
_RESEND_TOO_SOON = "A code was sent moments ago; ask again in {seconds} s."
_TOO_MANY_FOR_ACCOUNT = "Too many codes for this address from your network today; try again in {seconds} s."
_TOO_MANY_IN_TOTAL = "Too many sign-in codes are being asked for right now; try again in {seconds} s."
_TOO_MANY_FROM_CLIENT = "Too many sign-in codes from your network; try again in {seconds} s."
_TOO_MANY_TRIES_FROM_CLIENT = "Too many sign-in attempts from your network; try again in {seconds} s."


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    ttl: timedelta = timedelta(minutes=5)
    resend_after: timedelta = timedelta(seconds=60)
    max_attempts: int = 5


@dataclass(frozen=True, slots=True)
class CodeSent:
    """A code is on its way to `email`; only a verify that brings `challenge` back can use it."""

    email: str
    challenge: str


CHALLENGE_MAX = 64
CodeMail = Callable[[str, str, timedelta], MailMessage]  # (address, code, lifetime) -> the mail


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user: User


def wrong_code(tries_left: int) -> InvalidOtp:
    """The one answer to a code that does not sign in, whatever the reason."""
    if tries_left <= 0:
        tries = "no tries"
    else:
        tries = f"{tries_left} {'try' if tries_left == 1 else 'tries'}"
    return InvalidOtp(f"That code is wrong or has expired; {tries} left. Ask for a new code if you need one.")


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
        limits: AbuseLimits | None = None,
        events: FanOut | None = None,
        sessions: SessionCache | None = None,
    ):
        self._users = users
        self._otps = otps
        self._gate = LimitGate(limiter)
        self.limits = limits
        self._mail = mail
        self._tokens = tokens
        self._clock = clock
        self._hash_key = hash_key
        self.policy = policy
        self._events = events  # open tabs hear when their session ends
        self.sessions = sessions  # users of recent session checks (None: storage every time)

    def _hash(self, email: str, code: str) -> str:
        # Keyed so a leaked store does not reveal codes by a 10^6 brute force.
        return hmac.new(self._hash_key, f"{email}:{code}".encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, text: str) -> str:
        """A keyed digest standing for an address in the keys of codes and limits: Redis never
        holds an address, so a deleted account leaves none behind there."""
        return hmac.new(self._hash_key, b"key:" + text.encode(), hashlib.sha256).hexdigest()[:32]

    def _code_key(self, email: str, challenge: str) -> str:
        """Where one browser's code for one address is kept: a code is tied to the challenge
        of the /login that asked for it, so tries that do not bring it back never reach it."""
        return f"{self.pseudonym(email)}#{hashlib.sha256(challenge.encode()).hexdigest()[:32]}"

    def _code_checks(self, email: str, client: str | None) -> list[Check]:
        """The network first, the mailbox's own limits next (counted per network, so strangers
        cannot spend them), the whole site's ceiling last."""
        network, mailbox = network_of(client), self.pseudonym(mailbox_of(email))
        cooldown = Check(
            f"otp-send:{mailbox}:{network}", Limit(1, self.policy.resend_after), _RESEND_TOO_SOON
        )
        limits = self.limits
        if limits is None:  # unit tests of other rules: only the resend cooldown
            return [cooldown]
        checks = [
            cooldown,
            Check(f"codes-account:{mailbox}:{network}", limits.codes_per_account, _TOO_MANY_FOR_ACCOUNT),
            Check("codes-total", limits.codes_total, _TOO_MANY_IN_TOTAL),
        ]
        if client:
            checks.insert(0, Check(f"codes-net:{network}", limits.codes_per_client, _TOO_MANY_FROM_CLIENT))
        return checks

    async def request_code(self, raw_email: object, client: str | None = None) -> CodeSent:
        """Mail a fresh code; the answer is the same whether or not the account exists.

        `client` is the caller's address (the API's client host, the page's client_ip): its
        network is limited too when given. The code works only with the challenge returned.
        """
        email = normalize_email(raw_email)
        taken = await self._gate.check_all(*self._code_checks(email, client))
        challenge = secrets.token_urlsafe(24)
        try:
            await self.mail_code(self._code_key(email, challenge), email, otp_mail)
        except ServiceUnavailable:
            await self._gate.give_back(taken)  # the code never left: the cooldown and counts go back
            raise
        return CodeSent(email=email, challenge=challenge)

    async def verify(
        self, raw_email: object, raw_code: object, challenge: object, client: str | None = None
    ) -> Session:
        """Trade a code for a session. Only tries that bring the code's challenge back count
        against it (5 wrong ones void it); any other try finds no code, and every try that does
        not sign in gets the same answer as one for an address with no code pending."""
        email = normalize_email(raw_email)
        code = clean_otp(raw_code)
        if client and self.limits is not None:
            limit = self.limits.verifies_per_client
            check = Check(f"verify-net:{network_of(client)}", limit, _TOO_MANY_TRIES_FROM_CLIENT)
            await self._gate.check_all(check)
        if not isinstance(challenge, str) or not 0 < len(challenge) <= CHALLENGE_MAX:
            raise wrong_code(0)
        await self.spend_code(self._code_key(email, challenge), email, code)
        user = await self._users.get_or_create(email, default_name(email))
        return Session(token=self._tokens.issue(user.id, user.token_version), user=user)

    async def mail_code(self, key: str, email: str, mail: CodeMail) -> None:
        """Keep a fresh code's hash at `key` and mail the code to `email` (`mail` words it). A
        sign-in code and an account's deletion code live at keys of their own: one never
        replaces the other."""
        code = f"{secrets.randbelow(10**6):06d}"
        record = OtpRecord(
            code_hash=self._hash(email, code),
            expires_at=self._clock.now() + self.policy.ttl,
            attempts=0,
        )
        await self._otps.save(key, record, self.policy.ttl)
        try:
            await self._mail.publish(mail(email, code, self.policy.ttl))
        except ServiceUnavailable:
            await self._otps.delete(key)  # the code never left: withdraw it
            raise

    async def spend_code(self, key: str, email: str, raw_code: object) -> None:
        """Use the code kept at `key`, once; wrong_code otherwise. Only tries that reach the
        key count against it (`max_attempts` wrong ones void it), and every failure gets the
        same answer as a key with no code (an expired, a used and a wrong code alike)."""
        code = clean_otp(raw_code)
        record = await self._otps.take_attempt(key)
        if record is None or record.expires_at <= self._clock.now():
            raise wrong_code(0)
        if not hmac.compare_digest(record.code_hash, self._hash(email, code)):
            left = self.policy.max_attempts - record.attempts
            if left <= 0:
                await self._otps.delete(key)
            raise wrong_code(left)
        if record.attempts > self.policy.max_attempts:
            await self._otps.delete(key)
            raise wrong_code(0)
        if not await self._otps.delete(key):
            # A concurrent request used this code first: it is single-use.
            raise wrong_code(0)

    async def user_for_token(self, token: str | None) -> User:
        """The signed-in user; Unauthorized for a token not ours, expired or signed out."""
        claims = self._tokens.read(token or "")
        user = await self._user(claims.user_id, claims.version)
        if user is None:
            raise Unauthorized("Your account no longer exists; sign in again.")
        if user.token_version != claims.version:
            raise Unauthorized("You were signed out on every device; sign in again.")
        return user

    async def _user(self, user_id: str, version: int) -> User | None:
        cache = self.sessions
        if cache is None:
            return await self._users.get(user_id)
        user = cache.get(user_id)
        # A token newer than the cached row (issued elsewhere after a change this process has
        # not heard of yet) reads storage rather than being refused.
        if user is not None and user.token_version >= version:
            return user
        generation = cache.generation
        user = await self._users.get(user_id)
        if user is not None:
            cache.put(user, generation)
        return user

    def token_version(self, token: str) -> int:
        """The version a (valid) token was issued at; Unauthorized if it is not one of ours."""
        return self._tokens.read(token).version

    async def sign_out_everywhere(self, user: User) -> None:
        """Every session token issued to this user so far stops working, on every device."""
        updated = await self._users.bump_token_version(user.id)
        if updated is None:
            raise Unauthorized("Your account no longer exists; sign in again.")
        await self.user_changed(user.id)
        await self._tell(user.id, session_ended(version=updated.token_version))

    async def sign_out(self, user_id: str, token: str) -> None:
        """This session ends: the tabs that share its token (one browser) sign out too."""
        await self._tell(user_id, session_ended(token_id=token_id(token)))

    async def _tell(self, user_id: str, event: dict) -> None:
        if self._events is None:
            return
        try:
            await self._events.publish(user_topic(user_id), event, replayable=True)
        except ChatError as exc:  # the sign-out itself happened; open tabs learn on their next action
            log.warning("session end not announced: %s", exc.message)

    async def rename(self, user: User, raw_name: object) -> User:
        name = clean_name(raw_name)
        updated = await self._users.update_name(user.id, name)
        if updated is None:
            raise Unauthorized("Your account no longer exists; sign in again.")
        await self.user_changed(user.id)
        return updated

    async def user_changed(self, user_id: str) -> None:
        """The user's row changed (or went): no process answers a session check from the old one."""
        if self.sessions is not None:
            await self.sessions.changed(user_id)
