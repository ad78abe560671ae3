"""Editing and deleting a message in headless Chromium: both show live on the other side."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, bubbles, open_as, send

pytestmark = pytest.mark.e2e


def open_menu(page, text: str):
    line = page.locator(".msg.mine", has_text=text)
    line.hover()
    line.locator(".msg-actions").click()


def test_an_edit_and_a_deletion_appear_live_for_the_other_person(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    send(a, "See you at 5")
    send(a, "Bring the cake")
    expect(bubbles(b)).to_have_text(["See you at 5", "Bring the cake"])

    # Ada keeps a draft, edits her first message in the box, and gets the draft back.
    a.locator("#composer").fill("half a thought")
    open_menu(a, "See you at 5")
    a.get_by_role("menuitem", name="Edit").click()
    expect(a.locator("#edit-banner")).to_be_visible()
    expect(a.locator("#composer")).to_have_value("See you at 5")
    a.locator("#composer").fill("See you at 6")
    a.locator("#composer").press("Enter")
    expect(a.locator("#edit-banner")).to_have_count(0)
    expect(a.locator("#composer")).to_have_value("half a thought")
    expect(bubbles(a)).to_have_text(["See you at 6", "Bring the cake"])
    expect(bubbles(b)).to_have_text(["See you at 6", "Bring the cake"])
    expect(b.locator(".msg-line").first.locator(".msg-edited")).to_have_text("edited")

    # Escape leaves an edit unsaved.
    open_menu(a, "Bring the cake")
    a.get_by_role("menuitem", name="Edit").click()
    expect(a.locator("#composer")).to_have_value("Bring the cake")
    a.locator("#composer").press("Escape")
    expect(a.locator("#edit-banner")).to_have_count(0)
    expect(a.locator("#composer")).to_have_value("half a thought")

    # Deleting asks first, then leaves a tombstone on both sides; the list says so too.
    open_menu(a, "Bring the cake")
    a.get_by_role("menuitem", name="Delete").click()
    a.locator("#confirm-delete").click()
    for page in (a, b):
        expect(page.locator(".msg-deleted")).to_have_text("Message deleted")
        expect(page.locator(f'[data-chat-row="{chat_id}"]')).to_contain_text("Message deleted")
    expect(bubbles(b)).to_have_text(["See you at 6", "Message deleted"])

    # A tombstone has no menu; Bob's menu on Ada's message only reacts (see the next test).
    expect(b.locator(".msg-line", has_text="Message deleted").locator(".msg-actions")).to_have_count(0)


def test_a_reaction_shows_on_the_other_side_and_toggles(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    send(a, "Pizza tonight?")
    expect(bubbles(b)).to_have_text(["Pizza tonight?"])

    line = b.locator(".msg.theirs", has_text="Pizza tonight?")
    line.hover()
    line.locator(".msg-actions").click()
    expect(b.get_by_role("menuitem", name="Edit")).to_have_count(0)  # not Bob's message
    b.get_by_role("menuitem", name="React 👍").click()

    chip = a.locator('.chip[data-emoji="👍"]')
    expect(chip).to_have_text("👍1")
    expect(chip).to_have_attribute("title", bob.name)
    expect(chip).to_have_attribute("data-mine", "false")
    chip.click()  # Ada adds hers by clicking the chip
    expect(chip).to_have_text("👍2")
    expect(chip).to_have_attribute("data-mine", "true")
    expect(b.locator('.chip[data-emoji="👍"]')).to_have_text("👍2")
    expect(b.locator('.chip[data-emoji="👍"]')).to_have_attribute("title", f"{bob.name}, {ada.name}")
    b.locator('.chip[data-emoji="👍"]').click()  # Bob takes his back
    expect(chip).to_have_text("👍1")
    expect(chip).to_have_attribute("title", ada.name)


def test_a_reply_quotes_its_original_and_a_click_on_the_quote_goes_back_to_it(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Where shall we meet?", "clientId": "q0"})
    for n in range(45):  # the question scrolls far above what a tab first shows
        bob.api("POST", "/message", json={"chatId": chat_id, "text": f"filler {n}", "clientId": f"f{n}"})
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    expect(bubbles(b).last).to_have_text("filler 44")

    # Bob answers a message from its menu: a banner above the box, then the quote in the bubble.
    line = b.locator(".msg.mine", has_text="filler 44")
    line.hover()
    line.locator(".msg-actions").click()
    b.get_by_role("menuitem", name="Reply").click()
    expect(b.locator("#reply-banner")).to_contain_text("filler 44")
    send(b, "(that was the last one)")
    expect(b.locator("#reply-banner")).to_have_count(0)
    expect(a.locator(".msg-line").last.locator(".quote")).to_contain_text("filler 44")

    # A reply to the old question: Ada clicks its quote and the page goes back to it.
    bob.api(
        "POST", "/message", json={"chatId": chat_id, "text": "At the station", "replyTo": 1, "clientId": "q1"}
    )
    quote = a.locator(".msg-line").last.locator(".quote")
    expect(quote).to_contain_text("Where shall we meet?")
    expect(quote).to_contain_text("You")
    original = a.locator('.msg-line[data-seq="1"]')
    expect(original).to_have_count(0)  # not held yet
    quote.click()
    expect(original).to_be_in_viewport()
    expect(original).to_have_class(re.compile(r"\bfocused\b"))


def test_the_keyboard_edits_the_last_message_drops_a_reply_and_reaches_search(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    # A chat opened with a mouse or a keyboard has the focus in its composer.
    expect(a.locator("#composer")).to_be_focused()
    send(a, "first thing")
    send(a, "last thing")
    expect(bubbles(a)).to_have_text(["first thing", "last thing"])

    # Up in the empty box edits my latest message; Escape leaves it as it was.
    a.locator("#composer").press("ArrowUp")
    expect(a.locator("#edit-banner")).to_be_visible()
    expect(a.locator("#composer")).to_have_value("last thing")
    a.locator("#composer").press("Escape")
    expect(a.locator("#edit-banner")).to_have_count(0)
    expect(a.locator("#composer")).to_have_value("")
    # ... but not while something is written there.
    a.locator("#composer").fill("a draft")
    a.locator("#composer").press("ArrowUp")
    expect(a.locator("#edit-banner")).to_have_count(0)
    a.locator("#composer").fill("")

    # Escape drops a reply being written.
    line = a.locator(".msg.mine", has_text="first thing")
    line.hover()
    line.locator(".msg-actions").click()
    a.get_by_role("menuitem", name="Reply").click()
    expect(a.locator("#cancel-reply")).to_be_visible()
    expect(a.locator("#composer")).to_be_focused()  # a reply is written at once
    a.keyboard.press("Escape")
    expect(a.locator("#cancel-reply")).to_have_count(0)

    # Ctrl+K goes to the search box of the chat list.
    a.keyboard.press("Control+k")
    expect(a.locator("#people-search")).to_be_focused()  # the list searches people until switched

    # A chat entered from the list with the keyboard: the focus lands in its composer.
    a.goto(a.url.rsplit("/", 1)[0])
    row = a.locator(f'[data-chat-row="{chat_id}"]')
    row.focus()
    a.keyboard.press("Enter")
    expect(a).to_have_url(re.compile(rf"/chat/{chat_id}$"))
    expect(a.locator("#composer")).to_be_focused()
