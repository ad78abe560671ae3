"""A person's own data on the profile page: Ada downloads hers as a zip; Ada deletes her account,
confirmed by the code mailed for it, and Bob, in their chat at the time, sees her message become
a tombstone from "Deleted account".

Runs on the embedded setup and on Redis (the `app_server` fixture's two params).
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

import pytest
from playwright.sync_api import expect

from chat_web.services.accounts import DELETION_SUBJECT
from chat_web.state.chat_edits import DELETED_TEXT
from tests.e2e.conftest import Person, bubbles, open_as
from tests.support import axe

pytestmark = pytest.mark.e2e


def deletion_code(data_dir, email: str, timeout: float = 10.0) -> str:
    """The code of the deletion mail (not a sign-in code mailed to the same address before)."""
    deadline = time.monotonic() + timeout
    outbox = data_dir / "outbox.jsonl"
    while time.monotonic() < deadline:
        for line in reversed(outbox.read_text().splitlines() if outbox.exists() else []):
            mail = json.loads(line)
            if mail.get("to") == email and mail.get("subject") == DELETION_SUBJECT:
                return re.search(r"\b(\d{6})\b", mail["body"]).group(1)
        time.sleep(0.1)
    raise AssertionError(f"no deletion code was mailed to {email}")


def test_ada_deletes_her_account_and_bob_sees_her_message_go(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.exchanged_with(bob)
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    expect(bubbles(b)).to_have_text([f"Hi, {ada.name} here", f"Hi, {bob.name} here"])
    expect(b.locator("#chat-title")).to_have_text(ada.name)

    a = open_as(pages, browser, ada)
    a.locator("#profile-link").click()
    a.locator("#delete-account").click()
    a.locator("#mail-deletion-code").click()
    code_box = a.locator("#deletion-code")
    expect(code_box).to_be_focused()
    code = deletion_code(app_server["data"], ada.email)

    # A wrong code says so under the box and deletes nothing.
    code_box.fill("000000" if code != "000000" else "111111")
    a.locator("#confirm-delete-account").click()
    expect(a.locator("#deletion-problem")).to_contain_text("4 tries left")
    axe.assert_clean(a, "the deletion dialog, a wrong code")
    expect(bubbles(b)).to_have_text([f"Hi, {ada.name} here", f"Hi, {bob.name} here"])

    code_box.fill(code)
    a.locator("#confirm-delete-account").click()
    expect(a).to_have_url(re.compile(r"/login$"))
    expect(a.get_by_text("Your account is deleted")).to_be_visible()

    # Bob's open chat catches up at once: her message is a tombstone, his is kept, and the
    # chat is with "Deleted account".
    expect(b.locator("#messages .msg-deleted")).to_have_text([DELETED_TEXT])
    expect(bubbles(b).last).to_have_text(f"Hi, {bob.name} here")
    expect(b.locator("#chat-title")).to_have_text("Deleted account")
    expect(b.get_by_text(ada.name)).to_have_count(0)
    # Nobody would read a reply: the composer gives way to a note saying so.
    expect(b.locator("#gone-note")).to_contain_text("This account was deleted")
    expect(b.locator("#composer")).to_have_count(0)


def test_ada_downloads_her_data_from_the_profile_page(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.exchanged_with(bob)
    a = open_as(pages, browser, ada)
    a.locator("#profile-link").click()
    a.locator("#start-export").click()
    link = a.locator("#export-download")
    expect(link).to_be_visible()
    expect(a.get_by_text("the link works until")).to_be_visible()
    axe.assert_clean(a, "the profile page with a ready export")

    # The link downloads with the page's own session (the cookie), and holds the chat.
    zip_bytes = a.request.get(link.get_attribute("href")).body()
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    assert json.loads(archive.read("profile.json"))["email"] == ada.email
    lines = archive.read(f"chats/{chat_id}/messages.jsonl").decode().splitlines()
    assert [json.loads(line)["text"] for line in lines] == [f"Hi, {ada.name} here", f"Hi, {bob.name} here"]

    # Coming back to the page shows the same download, without preparing it again.
    a.reload()
    expect(a.locator("#export-download")).to_have_attribute("href", link.get_attribute("href"))
    expect(a.locator("#start-export")).to_have_text("Prepare it again")
