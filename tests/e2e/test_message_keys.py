"""The message list from the keyboard and on a touch screen, in headless Chromium.

The keyboard: the list is one Tab stop (a roving tabindex), arrows and Home/End move between
messages, Enter opens a message's menu and Escape brings the focus back (assets/msgkeys.js).
Touch: a long press opens the menu, a swipe right starts a reply (assets/touch.js).
Browser-side behaviour only: one app on embedded defaults is enough.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, bubbles, open_as

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("app_server", ["embedded"], indirect=True)]

MESSAGES = 30

# What has the focus: a message (its text), the composer, or anything else by its name.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'body';
  if (el.matches('.msg-line')) return 'message: ' + el.querySelector('.msg-text')?.textContent;
  if (el.matches('.msg-actions')) return 'msg-actions';
  return el.id || el.getAttribute('aria-label') || el.tagName;
}"""

# The focused element's ring: its outline, and the contrast of its colour on the page.
RING = """() => {
  const s = getComputedStyle(document.activeElement);
  const page = getComputedStyle(document.querySelector('.chat-shell')).backgroundColor;
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const linear = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    const [r, g, b] = rgb(c).map((v) => linear(v / 255));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(s.outlineColor), lum(page)].sort((a, b) => b - a);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), contrast: (hi + 0.05) / (lo + 0.05)};
}"""


def say(who: Person, chat_id: str, text: str) -> None:
    who.api("POST", "/message", json={"chatId": chat_id, "text": text, "clientId": uuid.uuid4().hex})


def a_long_chat(app_server) -> tuple[Person, Person, str]:
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    for n in range(MESSAGES):
        say(bob, chat_id, f"message {n}")
    return ada, bob, chat_id


def focused_message(page):
    return page.locator(".msg-line:focus .msg-text")


def tab_stops_until_composer(page, limit: int = 15) -> list[str]:
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1] == "composer":
            break
    return stops


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_message_list_is_one_tab_stop_with_arrow_keys_and_a_menu_on_enter(
    app_server, browser, pages, theme
):
    ada, bob, chat_id = a_long_chat(app_server)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}", color_scheme=theme)
    expect(bubbles(a).last).to_have_text(f"message {MESSAGES - 1}")
    expect(bubbles(a)).to_have_count(MESSAGES)

    # From the chat's row in the list, Tab crosses the header, then the list once (at its
    # latest message), then the composer: thirty "⋯" buttons are no stops of their own.
    a.locator(f'[data-chat-row="{chat_id}"]').focus()
    stops = tab_stops_until_composer(a)
    assert stops[-1] == "composer", stops
    assert "msg-actions" not in stops, stops
    messages = [stop for stop in stops if stop.startswith("message")]
    assert messages == [f"message: message {MESSAGES - 1}"], stops
    assert len(stops) - stops.index(messages[0]) - 1 <= 3, f"from the list to the composer: {stops}"
    a.keyboard.press("Shift+Tab")  # back into the list, at the same message
    expect(focused_message(a)).to_have_text(f"message {MESSAGES - 1}")

    # A screen reader hears who wrote it, what, and when; a clear ring shows it, 3:1 or more.
    name = rf"^{re.escape(bob.name)}: message {MESSAGES - 1}, \d\d?:\d\d"
    expect(a.locator(".msg-line:focus")).to_have_accessible_name(re.compile(name))
    expect(a.locator(".msg-line:focus")).to_have_role("article")
    ring = a.evaluate(RING)
    assert ring["style"] == "solid" and ring["width"] >= 2 and ring["contrast"] >= 3, ring

    # Arrows move between messages, Home and End to the ends of what the page holds.
    a.keyboard.press("ArrowUp")
    expect(focused_message(a)).to_have_text(f"message {MESSAGES - 2}")
    a.keyboard.press("ArrowUp")
    a.keyboard.press("ArrowDown")
    expect(focused_message(a)).to_have_text(f"message {MESSAGES - 2}")
    a.keyboard.press("Home")
    expect(focused_message(a)).to_have_text(bubbles(a).first.inner_text())
    a.keyboard.press("End")
    expect(focused_message(a)).to_have_text(f"message {MESSAGES - 1}")
    a.keyboard.press("ArrowUp")

    # A new message arrives below: the focus stays on the message it was on.
    say(bob, chat_id, "a new one")
    expect(bubbles(a).last).to_have_text("a new one")
    expect(focused_message(a)).to_have_text(f"message {MESSAGES - 2}")

    # Enter opens that message's menu (its first item takes the focus); Escape closes it and
    # the message has the focus again, not its hidden "⋯".
    a.keyboard.press("Enter")
    expect(a.locator(".msg-menu")).to_be_visible()
    expect(a.get_by_role("menuitem", name="React 👍")).to_be_focused()
    a.keyboard.press("Escape")
    expect(a.locator(".msg-menu")).to_have_count(0)
    expect(focused_message(a)).to_have_text(f"message {MESSAGES - 2}")

    a.keyboard.press(" ")  # Space opens it too
    expect(a.get_by_role("menuitem", name="React 👍")).to_be_focused()
    a.keyboard.press("Escape")
    expect(focused_message(a)).to_have_text(f"message {MESSAGES - 2}")

    # Enter, End (Copy text is the last item on someone else's message), Up to Reply, Enter:
    # a reply to it.
    a.keyboard.press("Enter")
    expect(a.get_by_role("menuitem", name="React 👍")).to_be_focused()
    a.keyboard.press("End")
    expect(a.get_by_role("menuitem", name="Copy text")).to_be_focused()
    a.keyboard.press("ArrowUp")
    expect(a.get_by_role("menuitem", name="Reply")).to_be_focused()
    a.keyboard.press("Enter")
    expect(a.locator("#reply-banner")).to_contain_text(f"message {MESSAGES - 2}")
    expect(a.locator("#composer")).to_be_focused()


def test_older_messages_keep_the_focus_and_a_message_without_a_menu_opens_none(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    body = {"chatId": chat_id, "text": "soon gone", "clientId": uuid.uuid4().hex}
    gone = bob.api("POST", "/message", json=body).json()
    for n in range(45):  # the page opens with the latest 30: the oldest wait to be loaded above
        say(bob, chat_id, f"filler {n}")
    bob.api("DELETE", f"/message/{chat_id}/{gone['id']}")
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    expect(bubbles(a).last).to_have_text("filler 44")
    expect(bubbles(a)).to_have_count(30)

    # Home goes to the first message held; the list loads the older ones above it (the
    # same elements now show other messages), and the focus stays on that message.
    a.locator(f'[data-chat-row="{chat_id}"]').focus()
    assert "message: filler 44" in tab_stops_until_composer(a)
    a.keyboard.press("Shift+Tab")
    a.keyboard.press("Home")
    expect(focused_message(a)).to_have_text("filler 15")
    expect(bubbles(a)).to_have_count(46)
    expect(focused_message(a)).to_have_text("filler 15")

    # A deleted message has no menu: Enter on it opens nothing (the next key still moves).
    a.keyboard.press("Home")
    expect(focused_message(a)).to_have_text("Message deleted")
    a.keyboard.press("Enter")
    a.keyboard.press("ArrowDown")
    expect(focused_message(a)).to_have_text("filler 0")
    expect(a.locator(".msg-menu")).to_have_count(0)


def test_from_the_keyboard_a_reply_shows_what_it_answers_and_a_message_is_copied(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    body = {"chatId": chat_id, "text": "the question, long ago", "clientId": uuid.uuid4().hex}
    asked = bob.api("POST", "/message", json=body).json()
    for n in range(40):  # the question is above the 30 the page opens with
        say(bob, chat_id, f"filler {n}")
    body = {"chatId": chat_id, "text": "the answer", "clientId": uuid.uuid4().hex, "replyTo": asked["seq"]}
    ada.api("POST", "/message", json=body)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    a.context.grant_permissions(["clipboard-read", "clipboard-write"])
    expect(bubbles(a).last).to_have_text("the answer")

    # The quote's click, from the keyboard: the menu's "Show the message this answers" pages
    # back to the question, and the focus goes with it (the row elements are redrawn with
    # other messages meanwhile: the focus follows the message, not an element).
    a.locator(f'[data-chat-row="{chat_id}"]').focus()
    tab_stops_until_composer(a)
    a.keyboard.press("Shift+Tab")
    expect(focused_message(a)).to_have_text("the answer")
    a.keyboard.press("Enter")
    a.get_by_role("menuitem", name="Show the message this answers").click()
    expect(focused_message(a)).to_have_text("the question, long ago", timeout=10_000)
    a.wait_for_timeout(500)  # the menu's closing gives the focus back after the jump
    expect(focused_message(a)).to_have_text("the question, long ago")
    expect(a.locator(".msg-line:focus")).to_be_in_viewport()

    # Copy text puts the message's text on the clipboard (a long press on a phone opens this
    # menu, so it cannot select the text).
    a.keyboard.press("Enter")
    a.get_by_role("menuitem", name="Copy text").click()
    expect(a.get_by_text("Copied")).to_be_visible()
    assert a.evaluate("navigator.clipboard.readText()") == "the question, long ago"
    # A message that answers none has no such item.
    expect(focused_message(a)).to_have_text("the question, long ago")
    a.keyboard.press("Enter")
    expect(a.get_by_role("menuitem", name="Reply")).to_be_visible()
    expect(a.get_by_role("menuitem", name="Show the message this answers")).to_have_count(0)
    a.keyboard.press("Escape")


def test_offline_a_reply_or_an_edit_waits_for_the_connection_instead_of_landing_late(
    app_server, browser, pages
):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    say(bob, chat_id, "from bob")
    say(ada, chat_id, "mine")
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    expect(bubbles(a)).to_have_text(["from bob", "mine"])
    a.context.set_offline(True)
    expect(a.locator("#offline-banner")).to_be_visible(timeout=11_000)

    # Offline, the page's state takes no events (Reflex would send them on reconnect): Up in
    # the empty composer and the menu's Reply do nothing now, rather than seconds later.
    a.locator("#composer").focus()
    a.keyboard.press("ArrowUp")
    a.locator("#composer").type("typed meanwhile")
    a.locator(".msg-line").first.hover()
    a.locator(".msg-actions").first.click()
    a.locator(".msg-reply").click()
    a.keyboard.press("Escape")
    expect(a.locator("#edit-banner")).not_to_be_visible()
    expect(a.locator("#reply-banner")).not_to_be_visible()

    a.context.set_offline(False)
    expect(a.locator("#offline-banner")).to_have_count(0, timeout=30_000)
    a.wait_for_timeout(3_000)  # what a queue would have sent on reconnect has arrived by now
    expect(a.locator("#edit-banner")).not_to_be_visible()
    expect(a.locator("#reply-banner")).not_to_be_visible()
    expect(a.locator("#composer")).to_have_value("typed meanwhile")  # nothing took its place
    # Online again, the menu works as before.
    a.locator(".msg-line").first.hover()
    a.locator(".msg-actions").first.click()
    a.locator(".msg-reply").click()
    expect(a.locator("#reply-banner")).to_contain_text("from bob")


# --- touch -------------------------------------------------------------------------------------


class Finger:
    """Real touch events in Chromium, through the DevTools protocol."""

    def __init__(self, page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)

    def _touch(self, kind: str, points: list[tuple[float, float]]) -> None:
        touch_points = [{"x": x, "y": y} for x, y in points]
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})

    def long_press(self, x: float, y: float) -> None:
        self._touch("touchStart", [(x, y)])
        self.page.wait_for_timeout(800)  # a press held past the 500 ms the page waits for
        self._touch("touchEnd", [])

    def down(self, x: float, y: float) -> None:
        self.at = (x, y)
        self._touch("touchStart", [self.at])

    def move_by(self, dx: float, dy: float, steps: int = 8) -> None:
        x, y = self.at
        for step in range(1, steps + 1):
            self._touch("touchMove", [(x + dx * step / steps, y + dy * step / steps)])
        self.at = (x + dx, y + dy)

    def up(self) -> None:
        self._touch("touchEnd", [])

    def drag(self, x: float, y: float, dx: float, dy: float) -> None:
        self.down(x, y)
        self.move_by(dx, dy)
        self.up()


# The seq of every reply a swipe asked for (the click on #reply-swiped, in the touch's own
# handler): by the time the DevTools call returns, a swipe that would reply has.
RECORD_SWIPES = """() => {
  window.__swipes = [];
  document.addEventListener('click', (e) => {
    if (e.target.id === 'reply-swiped') window.__swipes.push(window.chatReplySeq);
  }, true);
}"""


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_on_a_touch_screen_a_long_press_opens_the_menu_and_a_swipe_right_replies(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    for text in ("Lunch at noon?", "Or one o'clock", "Your call"):
        say(bob, chat_id, text)
    a = open_as(
        pages,
        browser,
        ada,
        f"/chat/{chat_id}",
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
    )
    expect(bubbles(a)).to_have_text(["Lunch at noon?", "Or one o'clock", "Your call"])
    finger = Finger(a)

    # No "⋯" beside the bubbles; a long press opens the message's menu.
    actions = a.locator(".msg-line", has_text="Or one o'clock").locator(".msg-actions")
    assert actions.evaluate("el => getComputedStyle(el).opacity") == "0"
    finger.long_press(*centre(a.locator(".msg", has_text="Or one o'clock")))
    expect(a.locator(".msg-menu")).to_be_visible()
    a.get_by_role("menuitem", name="React 👍").click()
    expect(a.locator(".msg-line", has_text="Or one o'clock").locator(".chip")).to_have_text("👍1")

    # Drags up, to the left, or not far enough to the right are no swipe.
    a.evaluate(RECORD_SWIPES)
    bubble = a.locator(".msg", has_text="Your call")
    x, y = centre(bubble)
    finger.drag(x, y, 10, -120)
    finger.drag(x, y, -110, 0)
    finger.drag(x, y, 40, 0)
    finger.drag(x, y, 90, 90)  # diagonal: the list's
    assert a.evaluate("window.__swipes") == []
    expect(a.locator("#reply-banner")).to_have_count(0)

    # A swipe right: the bubble follows the finger, springs back, and a reply to it starts.
    finger.down(x, y)
    finger.move_by(110, 8)
    assert bubble.evaluate("el => new DOMMatrix(getComputedStyle(el).transform).m41") > 30
    finger.up()
    seq = int(a.locator(".msg-line", has_text="Your call").get_attribute("data-seq"))
    assert a.evaluate("window.__swipes") == [seq]
    expect(a.locator("#reply-banner")).to_contain_text("Your call")
    expect(a.locator("#composer")).to_be_focused()
    expect(bubble).to_have_attribute("style", "")
