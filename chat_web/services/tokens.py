"""Session tokens: HS256 JWTs whose subject is the user id."""

from __future__ import annotations

from datetime import timedelta

import jwt

from chat_web.domain import Unauthorized
from chat_web.ports import Clock

ALGORITHM = "HS256"


class TokenService:
    def __init__(self, secret: str, lifetime: timedelta, clock: Clock):
        self._secret = secret
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, user_id: str) -> str:
        now = self._clock.now()
        claims = {"sub": user_id, "iat": now, "exp": now + self._lifetime}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def subject(self, token: str) -> str:
        """The user id the token was issued to; Unauthorized for anything not ours and current."""
        if not token:
            raise Unauthorized("Sign in first.")
        try:
            # Only HS256 is accepted: this rules out `alg: none` and key-confusion tricks.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                # Expiry is checked below against our clock, which tests can move.
                options={"require": ["sub", "exp"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise Unauthorized("Your session is not valid; sign in again.") from None
        expires = claims["exp"]
        if not isinstance(expires, (int, float)) or expires <= self._clock.now().timestamp():
            raise Unauthorized("Your session has expired; sign in again.")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthorized("Your session is not valid; sign in again.")
        return subject
