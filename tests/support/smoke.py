"""The smoke test of a running production app: health, sign in with a mailed code, send and read.

    smoke("http://127.0.0.1:3000", sink.code_for, metrics_token="...")

Used by CI on the built app (tests/e2e/test_production.py); `code_for(email)` reads the code
from wherever the app's mail went (an SMTP sink in the tests).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx

API = "/api/v1"


def metric(text: str, name: str) -> float:
    """The value of one unlabelled series of a Prometheus text exposition (0 if absent)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def sign_in(http: httpx.Client, code_for: Callable[[str], str], name: str) -> dict:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    login = http.post(f"{API}/login", json={"email": email})
    login.raise_for_status()
    answer = {"email": email, "otp": code_for(email), "challenge": login.json()["challenge"]}
    session = http.post(f"{API}/verify", json=answer)
    session.raise_for_status()
    return session.json()


def smoke(base: str, code_for: Callable[[str], str], metrics_token: str = "") -> None:
    """Raises AssertionError (or an HTTP error) naming the first thing that does not work."""
    scrape = {"Authorization": f"Bearer {metrics_token}"} if metrics_token else {}
    with httpx.Client(base_url=base, timeout=20, follow_redirects=True) as http:
        assert http.get(f"{API}/health").json() == {"status": "ok"}
        ready = http.get(f"{API}/ready")
        assert ready.status_code == 200, ready.text
        page = http.get("/login")
        assert page.status_code == 200 and "<html" in page.text.lower(), "the pages are not served"
        before = http.get("/metrics", headers=scrape).raise_for_status().text

        ada, bob = sign_in(http, code_for, "ada"), sign_in(http, code_for, "bob")
        as_ada = {"Authorization": f"Bearer {ada['token']}"}
        as_bob = {"Authorization": f"Bearer {bob['token']}"}
        chat = http.post(f"{API}/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=as_ada)
        chat_id = chat.raise_for_status().json()["chatId"]
        sent = http.post(
            f"{API}/message", json={"chatId": chat_id, "text": "smoke", "clientId": "s1"}, headers=as_ada
        )
        assert sent.status_code == 201, sent.text
        read = http.get(f"{API}/message/{chat_id}", headers=as_bob).raise_for_status().json()
        assert [m["text"] for m in read["messages"]] == ["smoke"]

        after = http.get("/metrics", headers=scrape).raise_for_status().text

        def grew(name: str) -> float:
            return metric(after, name) - metric(before, name)

        assert grew("chat_messages_stored_total") == 1
        assert grew("chat_sign_in_codes_issued_total") == 2
