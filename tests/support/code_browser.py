"""A browser for service-level tests: it keeps the challenge of each code it asked for and
brings it back to verify, as the sign-in page does."""

from __future__ import annotations

from chat_web.domain import BadInput
from chat_web.services.auth import AuthService
from chat_web.services.validation import normalize_email


class CodeBrowser:
    def __init__(self, auth: AuthService):
        self.auth = auth
        self.challenges: dict[str, str] = {}

    async def request_code(self, email, client: str | None = None) -> str:
        sent = await self.auth.request_code(email, client=client)
        self.challenges[sent.email] = sent.challenge
        return sent.email

    def challenge(self, email) -> str:
        try:
            return self.challenges.get(normalize_email(email), "")
        except BadInput:
            return ""

    async def verify(self, email, code, client: str | None = None):
        return await self.auth.verify(email, code, self.challenge(email), client=client)

    def code_key(self, email: str) -> str:
        """Where the code this browser asked for is kept in the OTP store."""
        return self.auth._code_key(email, self.challenges[email])

    def __getattr__(self, name):
        return getattr(self.auth, name)
