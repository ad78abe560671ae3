"""'Seen by' in a group, live, in headless Chromium: three people, each opening the chat moves
their read cursor, and the sender's page names them under her latest message without a reload.

Runs on the embedded setup and on Redis (the `app_server` fixture's two params).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import need_service
from tests.e2e.conftest import Person, bubbles, open_as, send
from tests.e2e.test_accessibility import FOCUS_RING
from tests.support import axe

pytestmark = pytest.mark.e2e


def test_ada_sees_who_has_read_her_latest_message_as_bob_then_cy_open_the_group(app_server, browser, pages):
    need_service("axe-core", axe.AXE_JS.exists(), "run scripts/setup.sh (installs it into .tools/axe)")
    ada, bob, cy = (Person(app_server, n) for n in ("Ada", "Bob", "Cy"))
    group = ada.api("POST", "/chat/group", json={"title": "Trip", "memberIds": [bob.id, cy.id]}).json()["id"]
    a = open_as(pages, browser, ada, f"/chat/{group}")
    expect(a.locator("#chat-title")).to_have_text("Trip")

    send(a, "Train at 9?")
    send(a, "Or the 10:15")
    mine = a.locator("#messages .msg-line[data-mine='true']")
    expect(mine).to_have_count(2)
    seen_by = a.locator("#seen-by")
    expect(seen_by).to_have_count(0)  # no one has read them yet: no line

    # Bob opens the group (that reads it): Ada's page names him, under her latest message only.
    b = open_as(pages, browser, bob, f"/chat/{group}")
    expect(bubbles(b)).to_have_text(["Train at 9?", "Or the 10:15"])
    expect(seen_by).to_have_text(f"Seen by {bob.name}")
    expect(mine.last.locator("#seen-by")).to_have_count(1)
    expect(a.locator(".seen-by")).to_have_count(1)

    # The full list on request, from the keyboard: the line is the message's next Tab stop
    # (with a whole focus ring), Enter or Space opens the list, Escape closes it.
    mine.last.focus()
    a.keyboard.press("Tab")
    expect(seen_by).to_be_focused()
    ring = a.evaluate(FOCUS_RING)
    assert ring["width"] >= 2 and not ring["clipped"], ring
    a.keyboard.press("Enter")
    listing = a.locator("#seen-list")
    expect(listing).to_be_visible()
    expect(listing.locator("#seen-read li")).to_have_text([bob.name])
    expect(listing.locator("#seen-unread li")).to_have_text([cy.name])
    axe.assert_clean(a, "the seen-by list open (light)")
    a.keyboard.press("Escape")
    expect(listing).to_have_count(0)
    expect(seen_by).to_be_focused()
    a.keyboard.press("Space")  # a button: Space opens it too
    expect(listing).to_be_visible()
    a.keyboard.press("Escape")
    expect(listing).to_have_count(0)

    # Cy opens it too: everyone has read it, live again.
    c = open_as(pages, browser, cy, f"/chat/{group}")
    expect(bubbles(c)).to_have_text(["Train at 9?", "Or the 10:15"])
    expect(seen_by).to_have_text("Seen by everyone")
    seen_by.click()
    expect(listing.locator("#seen-read li")).to_have_text(sorted([bob.name, cy.name], key=str.casefold))
    expect(listing.locator("#seen-unread")).to_have_count(0)
    a.emulate_media(color_scheme="dark")
    a.wait_for_function("document.documentElement.classList.contains('dark')")
    axe.assert_clean(a, "the seen-by list open (dark)")
    a.keyboard.press("Escape")
    expect(listing).to_have_count(0)

    # Bob's own page shows no line under Ada's messages (not his), and nothing of his yet.
    expect(b.locator("#seen-by")).to_have_count(0)
