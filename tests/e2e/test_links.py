"""Issue 19 in headless Chromium: links and @mentions in messages, the quote of a captioned
image, the sign-in toast that stays behind, and the 404 page.

Runs on the embedded setup and on Redis (the `app_server` fixture's two params).
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, bubbles, mailed_code, open_as, send
from tests.e2e.test_sign_in import ask_for_code
from tests.support import images

pytestmark = pytest.mark.e2e

HOSTILE = '<img src=x onerror="window.__pwned=1"> javascript:alert(1) "><b>bold</b>'


def test_links_open_in_a_new_tab_mentions_are_marked_and_no_html_gets_in(app_server, browser, pages):
    ada, bob, cyd = Person(app_server, "Ada"), Person(app_server, "Bob"), Person(app_server, "Cyd")
    group = ada.api(
        "POST", "/chat/group", json={"title": "Reading club", "memberIds": [bob.id, cyd.id]}
    ).json()
    a = open_as(pages, browser, ada, f"/chat/{group['id']}")
    b = open_as(pages, browser, bob, f"/chat/{group['id']}")
    expect(b.locator("#chat-title")).to_have_text("Reading club")

    text = (
        f"@{bob.name} read https://en.wikipedia.org/wiki/Ada_(programming_language). "
        f"Also (www.example.org), ask @{cyd.name}! {HOSTILE}"
    )
    send(a, text)
    for page in (a, b):
        expect(bubbles(page)).to_have_text([text])  # every character, as text
        links = page.locator("#messages .msg-text a")
        expect(links).to_have_count(2)
        expect(links.nth(0)).to_have_text("https://en.wikipedia.org/wiki/Ada_(programming_language)")
        expect(links.nth(0)).to_have_attribute(
            "href", "https://en.wikipedia.org/wiki/Ada_(programming_language)"
        )
        expect(links.nth(1)).to_have_text("www.example.org")
        expect(links.nth(1)).to_have_attribute("href", "https://www.example.org")
        for n in range(2):
            expect(links.nth(n)).to_have_attribute("rel", "noopener noreferrer")
            expect(links.nth(n)).to_have_attribute("target", "_blank")
        # Nothing the text held became an element: no image, no bold, no script ran.
        expect(page.locator("#messages .msg-text img, #messages .msg-text b")).to_have_count(0)
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#messages .msg-text a[href^='javascript']").count() == 0

    # Bob is named: his mention is marked more strongly than Cyd's; Ada sees two mentions.
    expect(b.locator("#messages .mention-me")).to_have_text([f"@{bob.name}"])
    expect(b.locator("#messages .mention:not(.mention-me)")).to_have_text([f"@{cyd.name}"])
    expect(a.locator("#messages .mention")).to_have_text([f"@{bob.name}", f"@{cyd.name}"])
    expect(a.locator("#messages .mention-me")).to_have_count(0)
    # After a reload (rows read back from storage) it is the same.
    b.reload()
    expect(b.locator("#messages .msg-text a")).to_have_count(2)
    expect(b.locator("#messages .mention-me")).to_have_text([f"@{bob.name}"])


def test_a_reply_to_a_captioned_image_quotes_the_caption_on_both_sides(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    form = {"chatId": chat_id, "text": "The view from the top", "clientId": uuid.uuid4().hex}
    bob.api(
        "POST",
        "/message",
        data=form,
        files={"image": ("a.jpg", images.encoded("JPEG", (80, 60)), "image/jpeg")},
    )
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    image = a.locator(".msg.theirs", has_text="The view from the top")
    image.hover()
    image.locator(".msg-actions").click()
    a.get_by_role("menuitem", name="Reply").click()
    expect(a.locator("#reply-banner .quote-text")).to_have_text("📷 The view from the top")
    send(a, "Wow")
    for page in (a, b):
        expect(page.locator(".msg-line", has_text="Wow").locator(".quote-text")).to_have_text(
            "📷 The view from the top"
        )
    expect(a.locator(".msg.mine .tick")).to_have_count(1)  # stored: the row read back, same quote
    a.reload()
    expect(a.locator(".msg-line", has_text="Wow").locator(".quote-text")).to_have_text(
        "📷 The view from the top"
    )


def test_the_code_sent_toast_stays_behind_when_signing_in(app_server, browser, pages, context):
    base = app_server["frontend"]
    open_as(
        pages, browser, Person(app_server, "Early")
    )  # /chat built (development mode) before the clock runs
    email = f"toast-{uuid.uuid4().hex[:8]}@example.com"
    page = context.new_page()
    ask_for_code(page, base, email)
    toast = page.locator("[data-sonner-toast]", has_text="We sent a 6-digit code")
    expect(toast).to_be_visible()
    shown_at = time.monotonic()
    code = mailed_code(app_server["data"], email)
    page.locator("#otp-0").click()
    page.keyboard.type(code, delay=20)
    # A newcomer goes on to name themself (the profile's welcome), then to /chat.
    expect(page).to_have_url(re.compile(r"/profile\?welcome=1$"))
    expect(page.locator("#welcome")).to_be_visible()
    page.wait_for_timeout(600)  # a dismissed toast's exit animation is over
    # Left alone, the toast would still be there: it lives 4 s, and Sonner's toaster outlives
    # the client-side move to the next page.
    assert time.monotonic() - shown_at < 3.5, "signing in took too long to tell"
    assert toast.count() == 0


def test_an_unknown_address_shows_the_not_found_page_with_a_way_back(app_server, context):
    page = context.new_page()
    page.goto(f"{app_server['frontend']}/no/such/page")
    expect(page.locator("#not-found")).to_have_text("Page not found")
    expect(page).to_have_title(re.compile("Page not found"))
    back = page.locator("#back-to-chats")
    expect(back).to_have_attribute("href", "/chat")
    back.click()
    expect(page).to_have_url(re.compile(r"/login$"))  # signed out: /chat sends on to sign in
