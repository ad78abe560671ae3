"""Two and three people chatting live in headless Chromium, on the running app.

Runs on the embedded setup and on Redis (the `app_server` fixture's two params).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CUT_LIVE_SOCKET, Person, bubbles, open_as, send

pytestmark = pytest.mark.e2e


def test_two_people_chat_live_with_ticks_typing_and_unread_badges(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    a = open_as(pages, browser, ada)
    b = open_as(pages, browser, bob)

    # Ada finds Bob by name and opens a direct chat from the search results.
    a.locator("#people-search").fill(bob.name)
    a.locator(f'[data-person="{bob.name}"]').click()
    expect(a).to_have_url(re.compile(r"/chat/\w+$"))
    chat_id = a.url.rsplit("/", 1)[1]
    expect(a.locator("#chat-title")).to_have_text(bob.name)
    # Bob's tab is open, but a stranger's presence is not shown before an exchange.
    expect(a.locator("#chat-status")).not_to_have_text("online")

    send(a, "Hello Bob!")
    expect(a.locator(".msg.mine .tick")).to_have_count(1)
    expect(a.locator(".msg.mine .tick.seen")).to_have_count(0)

    # Bob, on his chat list, sees the new chat rise with an unread badge.
    row = b.locator(f'[data-chat-row="{chat_id}"]')
    expect(row.locator(".unread-badge")).to_have_text("1")
    expect(row).to_contain_text("Hello Bob!")
    send_more = ["Are you there?", "Ping"]
    for text in send_more:
        send(a, text)
    expect(row.locator(".unread-badge")).to_have_text("3")

    # Bob opens it: he sees the messages once, in order, and Ada's ticks double.
    row.click()
    expect(bubbles(b)).to_have_text(["Hello Bob!", *send_more])
    expect(row.locator(".unread-badge")).to_have_count(0)
    expect(a.locator(".msg.mine .tick.seen")).to_have_count(3)

    # Bob types: Ada sees "typing…", which goes away by itself about 5 s later.
    b.locator("#composer").click()
    b.keyboard.type("On my way", delay=40)
    expect(a.locator("#chat-typing")).to_be_visible()
    expect(a.locator("#chat-typing")).to_have_text("typing…")
    expect(a.locator("#chat-typing")).to_be_hidden(timeout=8_000)

    # Bob sends; Ada, at the bottom of the chat, gets it and reads it at once.
    b.locator("#composer").press("Enter")
    expect(bubbles(a)).to_have_text(["Hello Bob!", *send_more, "On my way"])
    expect(b.locator(".msg.mine .tick.seen")).to_have_count(1)
    expect(a.locator(f'[data-chat-row="{chat_id}"] .unread-badge')).to_have_count(0)
    expect(a.locator("#chat-status")).to_have_text("online")  # both have written now

    # The draft of a chat survives switching away and back.
    a.locator("#composer").fill("half a thought")
    a.goto(f"{app_server['frontend']}/chat")
    expect(a.locator("#messages")).to_have_count(0)
    a.locator(f'[data-chat-row="{chat_id}"]').click()
    expect(a.locator("#composer")).to_have_value("half a thought")


def test_every_tab_of_a_user_follows_along(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    first = open_as(pages, browser, ada)
    second = first.context.new_page()  # a second tab of the same browser
    second.goto(f"{app_server['frontend']}/chat")
    bob.api("POST", "/message", json={"chatId": chat_id, "text": "Two tabs?", "clientId": "t1"})
    for tab in (first, second):
        expect(tab.locator(f'[data-chat-row="{chat_id}"] .unread-badge')).to_have_text("1")
    # Reading it in one tab clears the badge in the other.
    first.locator(f'[data-chat-row="{chat_id}"]').click()
    expect(bubbles(first)).to_have_text(["Two tabs?"])
    expect(second.locator(f'[data-chat-row="{chat_id}"] .unread-badge')).to_have_count(0)
    # A message sent from one tab shows in the other.
    send(first, "Yes, two.")
    second.locator(f'[data-chat-row="{chat_id}"]').click()
    expect(bubbles(second)).to_have_text(["Two tabs?", "Yes, two."])
    # Signing out in one tab signs the other out too (same browser, same session).
    first.locator("#sign-out").click()
    expect(first).to_have_url(re.compile(r"/login$"))
    # ... and says why it left.
    expect(second).to_have_url(re.compile(r"/login\?ended=1$"))
    expect(second.locator("#ended-notice")).to_be_visible()


def test_a_message_sent_through_the_api_appears_in_the_browser(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    expect(b.locator("#chat-title")).to_have_text(ada.name)
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Sent with curl", "clientId": "api-1"})
    # A retry with the same clientId stores nothing new.
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Sent with curl", "clientId": "api-1"})
    expect(bubbles(b)).to_have_text(["Sent with curl"])
    # Bob read it on screen, so the API shows it seen.
    history = ada.api("GET", f"/message/{chat_id}").json()["messages"]
    assert [m["text"] for m in history] == ["Sent with curl"]


def test_a_reader_who_drops_off_gets_everything_once_in_order(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    send(a, "before the drop")
    expect(bubbles(b)).to_have_text(["before the drop"])

    b.context.set_offline(True)
    b.evaluate(CUT_LIVE_SOCKET)  # the network drop closes the live connection
    sent = [f"while you were away {n}" for n in range(5)]
    for text in sent:
        send(a, text)
    expect(a.locator(".msg.mine .tick")).to_have_count(6)
    a.wait_for_timeout(3_000)  # long enough for the server to notice the tab is gone
    expect(bubbles(b)).to_have_text(["before the drop"])

    b.context.set_offline(False)
    expect(bubbles(b)).to_have_text(["before the drop", *sent], timeout=30_000)
    # ... and exactly once: nothing is repeated after catching up.
    b.wait_for_timeout(1_500)
    expect(bubbles(b)).to_have_count(6)
    expect(a.locator(".msg.mine .tick.seen")).to_have_count(6)


def test_a_silent_drop_shows_the_offline_banner_within_ten_seconds(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    send(a, "before the drop")
    expect(bubbles(b)).to_have_text(["before the drop"])

    # Offline with the socket left open: nothing answers, nothing closes (Wi-Fi gone).
    a.context.set_offline(True)
    expect(a.locator("#offline-banner")).to_be_visible(timeout=11_000)  # the heartbeat: 5 + 5 s

    a.context.set_offline(False)
    expect(a.locator("#offline-banner")).to_have_count(0, timeout=30_000)
    send(a, "after the drop")
    expect(bubbles(b)).to_have_text(["before the drop", "after the drop"])


def test_the_composer_loses_nothing_typed_fast_sent_twice_or_written_offline(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    expect(a.locator("#composer")).to_be_visible()
    # Typing on right after Enter starts the next message; nothing is cut.
    a.locator("#composer").click()
    a.keyboard.type("ok\nsure\nsee you\n", delay=25)
    expect(bubbles(b)).to_have_text(["ok", "sure", "see you"])
    # Two Enters at once send once; an empty box sends nothing.
    a.locator("#composer").fill("just once")
    a.locator("#composer").press("Enter")
    a.locator("#composer").press("Enter")
    a.locator("#composer").press("Enter")
    expect(bubbles(b)).to_have_text(["ok", "sure", "see you", "just once"])
    # Offline: the app says so; what is sent shows at once and goes when the connection is back.
    a.context.set_offline(True)
    a.evaluate(CUT_LIVE_SOCKET)
    expect(a.locator("#offline-banner")).to_be_visible(timeout=15_000)
    send(a, "written while offline")
    expect(a.locator("#unsent .msg-text")).to_have_text(["written while offline"])
    a.context.set_offline(False)
    expect(a.locator("#offline-banner")).to_have_count(0, timeout=30_000)
    expect(bubbles(b)).to_have_text(["ok", "sure", "see you", "just once", "written while offline"])
    expect(a.locator("#unsent .msg-line")).to_have_count(0)
    expect(bubbles(a)).to_have_count(5)
    # Over the limit: the button is off and the counter says why.
    a.locator("#composer").fill("x" * 4001)
    expect(a.locator("#composer-count")).to_contain_text("Too long")
    expect(a.locator("#send")).to_be_disabled()


def test_a_group_of_three_sees_each_message_once_and_who_is_typing(app_server, browser, pages):
    ada, bob, cyd = Person(app_server, "Ada"), Person(app_server, "Bob"), Person(app_server, "Cyd")
    a = open_as(pages, browser, ada)
    # Ada makes the group in the "new group" dialog.
    a.locator("#new-group").click()
    a.locator("#group-title").fill("Trip planning")
    for person in (bob, cyd):
        a.locator("#group-search").fill(person.name)
        a.locator(f'[data-group-hit="{person.name}"]').click()
    a.locator("#create-group").click()
    expect(a.locator("#chat-title")).to_have_text("Trip planning")
    group = a.url.rsplit("/", 1)[1]
    b, c = (open_as(pages, browser, p, f"/chat/{group}") for p in (bob, cyd))
    for page in (a, b, c):
        expect(page.locator("#chat-title")).to_have_text("Trip planning")
        expect(page.locator("#chat-status")).to_have_text("3 members")

    c.locator("#composer").click()
    c.keyboard.type("Train or car?", delay=30)
    expect(a.locator("#chat-typing")).to_have_text(f"{cyd.name} is typing…")
    c.locator("#composer").press("Enter")
    send(b, "Train!")
    send(a, "Train it is")
    expected = ["Train or car?", "Train!", "Train it is"]
    for page in (a, b, c):
        expect(bubbles(page)).to_have_text(expected)
    # A group shows who wrote what; two ticks once both others have read it.
    expect(a.locator(".msg.theirs .msg-sender").first).to_have_text(cyd.name)
    expect(a.locator(".msg.mine .tick.seen")).to_have_count(1)


def test_presence_lasts_a_grace_period_then_shows_last_seen(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.exchanged_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    expect(a.locator("#chat-status")).to_have_text("online")
    row_dot = a.locator(f'[data-chat-row="{chat_id}"] .online-dot')
    expect(row_dot).to_have_count(1)
    # A reload is not a departure: still online throughout.
    b.reload()
    expect(b.locator("#chat-title")).to_have_text(ada.name)
    a.wait_for_timeout(2_000)
    expect(a.locator("#chat-status")).to_have_text("online")
    # Bob closes his tab: online through the 10 s grace, then "last seen" with the time.
    pages.remove(b)
    b.context.close()
    a.wait_for_timeout(6_000)
    expect(a.locator("#chat-status")).to_have_text("online")
    expect(a.locator("#chat-status")).to_have_text(
        re.compile(r"^last seen today at \d\d:\d\d$"), timeout=20_000
    )
    expect(row_dot).to_have_count(0)


def test_the_page_works_at_360_px_and_in_dark_mode(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Small screens too", "clientId": "s1"})
    phone = {"viewport": {"width": 360, "height": 740}, "color_scheme": "dark"}
    b = open_as(pages, browser, bob, "/chat", **phone)
    # A phone shows the list alone, then the conversation alone, with a way back.
    expect(b.locator(".conversation")).to_be_hidden()
    b.locator(f'[data-chat-row="{chat_id}"]').click()
    expect(bubbles(b)).to_have_text(["Small screens too"])
    expect(b.locator(".sidebar")).to_be_hidden()
    assert b.evaluate("document.documentElement.scrollWidth") <= 360  # nothing spills sideways
    background = b.evaluate("getComputedStyle(document.querySelector('.chat-shell')).backgroundColor")
    assert _is_dark(background), background
    b.locator(".back-link").click()
    expect(b.locator(".sidebar")).to_be_visible()


def _is_dark(css_color: str) -> bool:
    channels = [float(x) for x in re.findall(r"[\d.]+", css_color)[:3]]
    return sum(channels) / 3 < 80
