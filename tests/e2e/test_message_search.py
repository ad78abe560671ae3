"""Message search in headless Chromium: find an older message by a word (or the start of one,
while typing), open the chat at it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, bubbles, open_as

pytestmark = pytest.mark.e2e

LATER = 120  # messages after the one searched for: it is far above the latest page


def test_a_search_finds_an_older_message_and_opens_the_chat_at_it(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = bob.chat_with(ada)
    bob.api("POST", "/message", json={"chatId": chat_id, "text": "I pinned the plan"})
    bob.api("POST", "/message", json={"chatId": chat_id, "text": "spin class at six?"})
    bob.api("POST", "/message", json={"chatId": chat_id, "text": "The <b>blue</b> Zeppelin lands at noon"})
    for n in range(1, LATER + 1):
        bob.api("POST", "/message", json={"chatId": chat_id, "text": f"later {n}"})

    a = open_as(pages, browser, ada)
    a.locator("#search-mode").get_by_role("radio", name="Messages").click()
    box = a.locator("#message-search")
    # While typing, the last word matches the start of a word: "pin" finds "pinned", not "spin".
    box.press_sequentially("pin", delay=60)
    result = a.locator("[data-found]")
    expect(result).to_have_count(1)
    expect(result.locator("mark.hit")).to_have_text("pinned")
    expect(result).to_contain_text("I pinned the plan")

    box.fill("zeppelin")
    expect(result).to_have_count(1)
    expect(result).to_contain_text(bob.name)
    expect(result.locator("mark.hit")).to_have_text("Zeppelin")
    expect(result).to_contain_text("The <b>blue</b> Zeppelin")  # the message's text, as text
    expect(result.locator("b")).to_have_count(0)

    result.click()
    expect(a).to_have_url(re.compile(rf"/chat/{chat_id}$"))
    target = a.locator(".msg-line", has_text="Zeppelin lands")
    expect(target).to_have_class(re.compile(r"\bfocused\b"))
    expect(target).to_be_in_viewport()
    expect(bubbles(a).filter(has_text=re.compile(rf"^later {LATER}$"))).to_have_count(0)

    # Scrolling down pages in the newer messages, up to the live end.
    messages = a.locator("#messages")
    last = bubbles(a).filter(has_text=re.compile(rf"^later {LATER}$"))
    for _ in range(30):
        if last.count():
            break
        messages.evaluate("el => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); }")
        a.wait_for_timeout(400)
    expect(last).to_have_count(1)
    expect(messages).to_have_attribute("data-newer-waiting", "false")
    shown = [int(t.split()[1]) for t in bubbles(a).all_inner_texts() if t.startswith("later ")]
    assert shown == list(range(shown[0], LATER + 1))  # in order, no gaps, no repeats

    # At the live end, a new message arrives live as usual.
    bob.api("POST", "/message", json={"chatId": chat_id, "text": "still there?"})
    expect(bubbles(a).last).to_have_text("still there?")
