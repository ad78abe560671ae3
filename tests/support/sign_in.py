"""Signing in through the API with the code from the development outbox."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from chat_web.adapters.mail.outbox import latest


def code_from_outbox(outbox: Path, email: str) -> str:
    """The code of the newest mail to `email` in the outbox file."""
    mail = next(m for m in latest(outbox, 50) if m["to"] == email)
    return re.search(r"\b(\d{6})\b", mail["body"]).group(1)


def sign_in(api: httpx.Client, outbox: Path, email: str) -> dict:
    """{token, user} of `email`, through POST /login and /verify of a running server."""
    api.post("/login", json={"email": email}).raise_for_status()
    session = api.post("/verify", json={"email": email, "otp": code_from_outbox(outbox, email)})
    session.raise_for_status()
    return session.json()
