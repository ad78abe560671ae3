"""Signing in through the API with a mailed code: from the development outbox, or any mailbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from chat_web.adapters.mail.outbox import latest


def outbox_codes(outbox: Path) -> Callable[[str], str]:
    return lambda email: code_from_outbox(outbox, email)


def code_from_outbox(outbox: Path, email: str) -> str:
    """The code of the newest mail to `email` in the outbox file."""
    mail = next(m for m in latest(outbox, 50) if m["to"] == email)
    return re.search(r"\b(\d{6})\b", mail["body"]).group(1)


def sign_in(api: httpx.Client, code_for: Callable[[str], str], email: str) -> dict:
    """{token, user} of `email`, through POST /login and /verify of a running server; `code_for`
    reads the mailed code (`outbox_codes(path)`, or an SMTP sink's `code_for`)."""
    login = api.post("/login", json={"email": email})
    login.raise_for_status()
    answer = {"email": email, "otp": code_for(email), "challenge": login.json()["challenge"]}
    session = api.post("/verify", json=answer)
    session.raise_for_status()
    return session.json()
