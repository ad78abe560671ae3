"""Session tokens: HS256 JWTs for one user at one token version, from this issuer for this audience."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import jwt

from chat_web.domain import Unauthorized
from chat_web.ports import Clock

ALGORITHM = "HS256"
DEFAULT_ISSUER = DEFAULT_AUDIENCE = "chat_web"
_NOT_VALID = "Your session is not valid; sign in again."
_EXPIRED = "Your session has expired; sign in again."
# Tokens whose signature and claims were checked, kept with their expiry: checking a token
# costs ~50 us (a tenth of a lean request), and a client sends the same one every time.
# A forged or altered token is a different string, so it is never found here.
VERIFIED_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    version: int  # the user's token version when it was issued


def token_id(token: str) -> str:
    """A short, stable name for one token that does not reveal it (for sign-out events)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


class TokenService:
    def __init__(
        self,
        secret: str,
        lifetime: timedelta,
        clock: Clock,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
    ):
        self._secret = secret
        self._lifetime = lifetime
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._verified: dict[str, tuple[TokenClaims, float]] = {}  # token -> (claims, exp)

    def issue(self, user_id: str, version: int = 0) -> str:
        now = self._clock.now()
        claims = {
            "sub": user_id,
            "ver": version,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "exp": now + self._lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> TokenClaims:
        """Who the token was issued to; Unauthorized for anything not ours and current."""
        if not token:
            raise Unauthorized("Sign in first.")
        known = self._verified.get(token)
        if known is None:
            known = self._verify(token)
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = known
        claims, expires = known
        if expires <= self._clock.now().timestamp():
            raise Unauthorized(_EXPIRED)
        return claims

    def _verify(self, token: str) -> tuple[TokenClaims, float]:
        try:
            # Only HS256 is accepted: this rules out `alg: none` and key-confusion tricks.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                # Expiry is checked by `read` against our clock, which tests can move.
                options={"require": ["sub", "exp", "iss", "aud", "ver"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise Unauthorized(_NOT_VALID) from None
        expires = claims["exp"]
        if not isinstance(expires, (int, float)):
            raise Unauthorized(_EXPIRED)
        subject, version = claims.get("sub"), claims.get("ver")
        if not isinstance(subject, str) or not subject:
            raise Unauthorized(_NOT_VALID)
        if not isinstance(version, int) or isinstance(version, bool):
            raise Unauthorized(_NOT_VALID)
        return TokenClaims(subject, version), float(expires)
