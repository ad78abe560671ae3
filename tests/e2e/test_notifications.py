"""Notifications in headless Chromium: the unread count in the title, a browser notification
for a message that arrives while the tab is hidden, per-chat mute, and the notifications
button: on with permission granted even where push fails, and explained where blocked.

Headless Chromium has no visible/hidden tabs or notification centre of its own, so each
page gets a stand-in before it loads: `document.visibilityState` the test can flip, a
`Notification` that records what the page asked to show, and a push service that cannot be
reached (`PushManager.subscribe` fails as in a private window; tests/e2e/test_push.py has
one that works).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, bubbles, open_as

pytestmark = pytest.mark.e2e

STAND_INS = """
(() => {
  window.__notes = [];
  window.Notification = class {
    constructor(title, options) { window.__notes.push({ title, body: (options || {}).body }); }
    close() {}
    static get permission() { return window.__permission || "granted"; }
    static requestPermission() {
      if (window.__permission === "denied") return Promise.resolve("denied");
      window.__permission = "granted";
      sessionStorage.setItem("granted", "1"); // kept through a reload, as a browser keeps it
      return Promise.resolve("granted");
    }
  };
  let hidden = false;
  Object.defineProperty(document, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(document, "hidden", { get: () => hidden });
  window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
  window.__subscribeTries = 0;
  PushManager.prototype.subscribe = function () {
    window.__subscribeTries += 1;
    return Promise.reject(new DOMException("Registration failed - push service not available", "AbortError"));
  };
})();
"""
TAB_ONLY = "Notifications on while this tab is open; this browser can't get them with the tab closed."
BLOCKED = "Notifications are blocked in this browser's site settings."


def with_stand_ins(page, path: str):
    page.context.add_init_script(STAND_INS)
    page.goto(path)
    expect(page.locator("#notify-feed")).to_have_count(1)
    return page


def notes(page) -> list[dict]:
    return page.evaluate("window.__notes")


def turn_on(page):
    """The notifications button, clicked: on (in the tab at least; push fails here)."""
    button = page.locator("#notify-enable")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_attribute("title", TAB_ONLY)


def test_title_counts_unread_hidden_tabs_notify_and_muted_chats_stay_quiet(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    base = app_server["frontend"]
    b = with_stand_ins(open_as(pages, browser, bob), f"{base}/chat")
    a = with_stand_ins(open_as(pages, browser, ada), f"{base}/chat")
    expect(b).to_have_title("Chat")
    for page in (a, b):
        turn_on(page)
    for page in (a, b):  # listed: the tab follows live events (it attaches before it lists)
        expect(page.locator(f'[data-chat-row="{chat_id}"]')).to_be_visible()

    # Bob's tab is in the background: Ada's message shows as a notification and in the title.
    b.evaluate("window.__setHidden(true)")
    a.evaluate("window.__setHidden(true)")
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Are you up?", "clientId": "n1"})
    expect(b).to_have_title("(1) Chat")
    b.wait_for_function("window.__notes.length > 0")
    assert notes(b) == [{"title": ada.name, "body": "Are you up?"}]
    expect(a.locator(f'[data-chat-row="{chat_id}"]')).to_contain_text("Are you up?")
    assert notes(a) == []  # never for my own message, even in a hidden tab

    # In front, a new message counts in the title but pops up nothing.
    b.evaluate("window.__setHidden(false)")
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Hello?", "clientId": "n2"})
    expect(b).to_have_title("(2) Chat")
    assert len(notes(b)) == 1

    # Reading the chat empties the count; Bob mutes it.
    b.locator(f'[data-chat-row="{chat_id}"]').click()
    expect(bubbles(b)).to_have_text(["Are you up?", "Hello?"])
    expect(b).to_have_title("Chat")
    b.locator("#mute-toggle").click()
    expect(b.locator("#mute-toggle")).to_have_attribute("data-muted", "true")
    expect(b.locator(f'[data-chat-row="{chat_id}"] .muted-icon')).to_have_count(1)

    # Muted: back on the list and hidden, a new message raises a grey badge and nothing else.
    b.goto(f"{base}/chat")
    expect(b.locator(f'[data-chat-row="{chat_id}"] .muted-icon')).to_have_count(1)
    b.evaluate("window.__setHidden(true)")
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Muted one", "clientId": "n3"})
    expect(b.locator(f'[data-chat-row="{chat_id}"] .unread-badge.muted')).to_have_text("1")
    expect(b).to_have_title("Chat")
    assert notes(b) == []  # the page loaded again: its recorder is new and stays empty

    # Unmuted again, the next message notifies and counts.
    b.locator(f'[data-chat-row="{chat_id}"]').click()
    b.locator("#mute-toggle").click()
    expect(b.locator("#mute-toggle")).to_have_attribute("data-muted", "false")
    b.goto(f"{base}/chat")
    expect(b.locator(f'[data-chat-row="{chat_id}"]')).to_be_visible()
    expect(b.locator(f'[data-chat-row="{chat_id}"] .muted-icon')).to_have_count(0)
    b.evaluate("window.__setHidden(true)")
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Loud again", "clientId": "n4"})
    expect(b).to_have_title("(1) Chat")
    b.wait_for_function("window.__notes.length > 0")
    assert notes(b) == [{"title": ada.name, "body": "Loud again"}]


def test_permission_is_asked_from_the_button_and_notifications_work_without_push(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    b = open_as(pages, browser, bob)
    # Not asked yet; granted by the click, and kept through a reload (as a browser keeps it).
    b.context.add_init_script(
        "window.__permission = sessionStorage.getItem('granted') ? 'granted' : 'default';"
    )
    with_stand_ins(b, f"{app_server['frontend']}/chat")
    button = b.locator("#notify-enable")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_attribute("title", "Notifications off")
    expect(button).to_have_accessible_name("Notifications")
    assert b.evaluate("Notification.permission") == "default"  # nothing asked yet
    assert b.evaluate("window.__subscribeTries") == 0
    expect(b.locator("#notify-note")).to_be_hidden()

    # Granted, but this browser cannot subscribe to push: on all the same, and it says how.
    button.click()
    b.wait_for_function("Notification.permission === 'granted'")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(b.locator("#notify-note")).to_have_text(TAB_ONLY)
    expect(b.locator("#notify-note")).to_be_visible()
    expect(button).to_have_attribute("title", TAB_ONLY)
    assert b.evaluate("window.__subscribeTries") == 1  # push was tried

    # A message from Ada while the tab is in the background shows a notification.
    expect(b.locator(f'[data-chat-row="{chat_id}"]')).to_be_visible()
    b.evaluate("window.__setHidden(true)")
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Still on?", "clientId": "p1"})
    b.wait_for_function("window.__notes.length > 0")
    assert notes(b) == [{"title": ada.name, "body": "Still on?"}]

    # Still on after a reload (the choice is kept), and off again from the button: quiet.
    b.reload()
    expect(b.locator("#notify-feed")).to_have_count(1)
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(b.locator("#notify-note")).to_be_hidden()
    expect(b.locator(f'[data-chat-row="{chat_id}"]')).to_be_visible()
    b.evaluate("window.__setHidden(true)")
    ada.api("POST", "/message", json={"chatId": chat_id, "text": "Hello?", "clientId": "p2"})
    expect(b).to_have_title("(2) Chat")
    assert notes(b) == []


def test_blocked_notifications_are_explained_not_hidden(app_server, browser, pages):
    bob = Person(app_server, "Bob")
    b = open_as(pages, browser, bob)
    b.context.add_init_script("window.__permission = 'denied';")
    with_stand_ins(b, f"{app_server['frontend']}/chat")
    button = b.locator("#notify-enable")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_attribute("title", BLOCKED)
    expect(button).to_have_accessible_name("Notifications (blocked)")
    button.click(force=True)  # Playwright waits for aria-disabled to go; a reader can click it
    expect(b.locator("#notify-note")).to_have_text(BLOCKED)
    expect(b.locator("#notify-note")).to_be_visible()
    assert b.evaluate("Notification.permission") == "denied"


def test_at_completes_a_member_and_the_mentioned_one_is_told(app_server, browser, pages):
    ada, bob, cyd = Person(app_server, "Ada"), Person(app_server, "Bob"), Person(app_server, "Cyd")
    group = ada.api("POST", "/chat/group", json={"title": "Lunch club", "memberIds": [bob.id, cyd.id]}).json()
    base = app_server["frontend"]
    c = with_stand_ins(open_as(pages, browser, cyd), f"{base}/chat")
    turn_on(c)
    b = with_stand_ins(open_as(pages, browser, bob), f"{base}/chat/{group['id']}")
    expect(b.locator("#chat-title")).to_have_text("Lunch club")
    expect(c.locator(f'[data-chat-row="{group["id"]}"]')).to_be_visible()
    c.evaluate("window.__setHidden(true)")

    box = b.locator("#composer")
    box.click()
    b.keyboard.type("Table at noon @cy", delay=20)
    options = b.locator("#mention-list .mention-option")
    expect(options).to_have_text([cyd.name])  # only the member whose name starts so
    box.press("Enter")  # picks the name; does not send
    expect(box).to_have_value(f"Table at noon @{cyd.name} ")
    expect(b.locator("#mention-list")).to_be_hidden()
    b.keyboard.type("ok?", delay=20)
    box.press("Enter")
    expect(bubbles(b)).to_have_text([f"Table at noon @{cyd.name} ok?"])

    row = c.locator(f'[data-chat-row="{group["id"]}"]')
    expect(row.locator(".mention-badge")).to_have_text("@")
    c.wait_for_function("window.__notes.length > 0")
    assert notes(c) == [
        {"title": "Lunch club", "body": f"{bob.name} mentioned you: Table at noon @{cyd.name} ok?"}
    ]

    # Escape closes the list and Enter sends the text as typed.
    b.keyboard.type("@a", delay=20)
    expect(options).to_have_text([ada.name])
    box.press("Escape")
    expect(b.locator("#mention-list")).to_be_hidden()
    box.press("Enter")
    expect(bubbles(b)).to_have_text([f"Table at noon @{cyd.name} ok?", "@a"])

    # Reading the chat takes the mark away.
    c.evaluate("window.__setHidden(false)")
    row.click()
    expect(row.locator(".mention-badge")).to_have_count(0)
