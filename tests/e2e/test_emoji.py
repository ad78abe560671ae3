"""The composer's emoji picker and the bundled emoji font, in headless Chromium.

This machine has no emoji font of its own (`fc-list | grep -i emoji` finds none), so a colour
emoji on the page can only come from the font the app serves. One app on embedded defaults:
the picker and the font live in the browser, whatever the state manager.
"""

from __future__ import annotations

import io
import re
import uuid

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from scripts.emoji_font import parse_range
from tests.conftest import need_service
from tests.e2e.conftest import Person, bubbles, open_as
from tests.support import axe

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("app_server", ["embedded"], indirect=True)]

FONT_SHEET = "/fonts/emoji/emoji.css"
WIDTHS = {"1280": {"width": 1280, "height": 800}, "360": {"width": 360, "height": 740}}

# A FontFace of the bundled family whose unicode-range covers this code point has loaded (where
# several subsets cover it, the browser loads them one by one until one has the glyph).
FACE_LOADED = """cp => {
  const faces = [...document.fonts].filter(f => f.family.replace(/"/g, '') === 'Noto Color Emoji');
  const covers = f => f.unicodeRange.split(',').some(part => {
    const [a, b] = part.trim().slice(2).split('-').map(h => parseInt(h, 16));
    return cp >= a && cp <= (b ?? a);
  });
  return faces.filter(covers).some(f => f.status === 'loaded');
}"""


def composer(page):
    return page.locator("#composer")


def panel(page):
    return page.locator("#emoji-panel")


def caret_at(page, offset: int) -> None:
    composer(page).evaluate("(box, at) => { box.focus(); box.setSelectionRange(at, at); }", offset)


def emoji_button(page, name: str):
    return panel(page).get_by_role("button", name=name, exact=True)


def coloured_pixels(png: bytes) -> int:
    """Pixels that are clearly not grey: the page's text and bubbles are all greys here."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if max(r, g, b) - min(r, g, b) > 60)


def say(who: Person, chat_id: str, text: str) -> None:
    who.api("POST", "/message", json={"chatId": chat_id, "text": text, "clientId": uuid.uuid4().hex})


def test_a_picked_emoji_goes_in_at_the_caret_and_is_sent_in_colour(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")

    composer(a).fill("Hello world")
    caret_at(a, len("Hello"))
    expect(panel(a)).to_be_hidden()
    a.locator("#emoji-button").click()
    expect(panel(a)).to_be_visible()
    expect(a.locator("#emoji-button")).to_have_attribute("aria-expanded", "true")
    options = panel(a).locator(".emoji-option")
    assert 60 <= options.count() <= 100
    assert all(label for label in options.evaluate_all("all => all.map(o => o.ariaLabel)"))

    # Two picks in a row: each at the caret, the text around it kept, the panel still open.
    emoji_button(a, "grinning face").click()
    expect(composer(a)).to_have_value("Hello😀 world")
    expect(panel(a)).to_be_visible()
    emoji_button(a, "thumbs up").click()
    expect(composer(a)).to_have_value("Hello😀👍 world")

    # A selection is replaced, as typing would.
    composer(a).evaluate("box => box.setSelectionRange(box.value.length - 5, box.value.length)")
    emoji_button(a, "red heart").click()
    expect(composer(a)).to_have_value("Hello😀👍 ❤️")

    a.keyboard.press("Escape")
    expect(panel(a)).to_be_hidden()
    expect(composer(a)).to_be_focused()
    expect(a.locator("#emoji-button")).to_have_attribute("aria-expanded", "false")

    composer(a).press("Enter")
    expect(composer(a)).to_have_value("")
    expect(bubbles(b)).to_have_text(["Hello😀👍 ❤️"])

    # Bob's page draws the emoji with the app's font: its face is loaded and the glyphs are
    # in colour (with no font for them, or one Chromium cannot draw, they are grey or blank).
    b.wait_for_function(FACE_LOADED, arg=ord("😀"))
    assert b.evaluate("""document.fonts.check('16px "Noto Color Emoji"', '😀')""")
    assert coloured_pixels(bubbles(b).first.screenshot()) > 20


def test_the_picker_works_from_the_keyboard(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    composer(a).fill("Yes ")
    composer(a).press("End")
    composer(a).press("Tab")
    expect(a.locator("#emoji-button")).to_be_focused()
    a.keyboard.press("Enter")
    expect(emoji_button(a, "grinning face")).to_be_focused()

    a.keyboard.press("ArrowRight")
    expect(emoji_button(a, "grinning face with big eyes")).to_be_focused()
    # Down: the emoji below in the grid, whatever the number of columns.
    above = emoji_button(a, "grinning face with big eyes").bounding_box()
    a.keyboard.press("ArrowDown")
    below = a.evaluate("document.activeElement.getBoundingClientRect().toJSON()")
    assert below["y"] > above["y"] and abs(below["x"] - above["x"]) < 2
    a.keyboard.press("ArrowUp")
    expect(emoji_button(a, "grinning face with big eyes")).to_be_focused()
    a.keyboard.press("Enter")
    expect(composer(a)).to_have_value("Yes 😃")
    a.keyboard.press("End")
    expect(emoji_button(a, "red question mark")).to_be_focused()
    a.keyboard.press("Enter")
    expect(composer(a)).to_have_value("Yes 😃❓")
    expect(panel(a)).to_be_visible()

    # Only one emoji is a Tab stop: Tab leaves the grid (for the attach button) and closes it.
    a.keyboard.press("Tab")
    expect(a.locator("#attach")).to_be_focused()
    expect(panel(a)).to_be_hidden()

    # Opened again, the focus is on the last one picked; Escape gives the composer the focus.
    a.locator("#emoji-button").focus()
    a.keyboard.press("Enter")
    expect(emoji_button(a, "red question mark")).to_be_focused()
    a.keyboard.press("Escape")
    expect(panel(a)).to_be_hidden()
    expect(composer(a)).to_be_focused()


def test_a_click_outside_closes_the_picker_and_a_full_composer_takes_no_more(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    a.locator("#emoji-button").click()
    expect(panel(a)).to_be_visible()
    a.locator(".history-start").click()  # nothing that takes the focus itself
    expect(panel(a)).to_be_hidden()
    expect(composer(a)).to_be_focused()

    # The limit counts code points, as the server does: 3,999 letters and one emoji fit.
    limit = int(a.locator("#composer-count").get_attribute("data-limit"))
    composer(a).fill("a" * (limit - 1))
    a.locator("#emoji-button").click()
    emoji_button(a, "fire").click()
    expect(composer(a)).to_have_value("a" * (limit - 1) + "🔥")
    expect(a.locator("#composer-count")).to_have_text(f"{limit:,} / {limit:,}")  # the counter heard it
    emoji_button(a, "fire").click()
    expect(composer(a)).to_have_value("a" * (limit - 1) + "🔥")
    expect(a.locator("#composer-count")).to_have_attribute("data-over", "0")


def test_the_app_serves_the_font_and_a_page_without_emoji_downloads_none(app_server, browser, pages):
    base = app_server["frontend"]
    sheet = httpx.get(f"{base}{FONT_SHEET}", timeout=10)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    files = re.findall(r'url\("([^"]+\.woff2)"\)', sheet.text)
    ranges = re.findall(r"unicode-range:\s*([^;]+);", sheet.text)
    assert len(files) == len(ranges) >= 10
    font = httpx.get(f"{base}/fonts/emoji/{files[0]}", timeout=10)
    assert font.status_code == 200
    assert font.headers["content-type"] == "font/woff2"
    assert font.content[:4] == b"wOF2"
    # No subset covers digits or #: text with numbers never reaches the font.
    covered = [span for text in ranges for span in parse_range(text)]
    assert not [span for span in covered for ch in "0123456789#*" if span[0] <= ord(ch) <= span[1]]

    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    say(bob, chat_id, "Meeting at 10:30 in room #4, bring 2 copies (draft v3).")
    # Every request of the page from its first one on.
    fetched: list[str] = []
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(30_000)
    context.add_cookies([{"name": "chat_session", "value": ada.token, "url": base}])
    context.on("request", lambda request: fetched.append(request.url))
    page = context.new_page()
    pages.append(page)
    page.goto(f"{base}/chat/{chat_id}")
    expect(bubbles(page)).to_have_count(1)
    expect(page.locator("#profile-link")).to_have_text(ada.name)
    page.wait_for_function("() => !!document.getElementById('emoji-font')?.sheet")
    page.evaluate("document.fonts.ready.then(() => true)")
    assert not [url for url in fetched if url.endswith(".woff2")], fetched

    # The same page fetches a subset once an emoji arrives (so the check above could fail).
    say(bob, chat_id, "Done 🎉")
    expect(bubbles(page)).to_have_count(2)
    page.wait_for_function(FACE_LOADED, arg=ord("🎉"))
    assert [url for url in fetched if "/fonts/emoji/" in url and url.endswith(".woff2")]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_open_picker_has_no_serious_accessibility_findings(app_server, browser, theme, width):
    need_service("axe-core", axe.AXE_JS.exists(), "run scripts/setup.sh (installs it into .tools/axe)")
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    say(bob, chat_id, "Coffee? ☕")
    page = ada.page(browser, f"/chat/{chat_id}", viewport=WIDTHS[width], color_scheme=theme)
    try:
        expect(bubbles(page)).to_have_count(1)
        page.wait_for_function(
            "dark => document.documentElement.classList.contains('dark') === dark", arg=theme == "dark"
        )
        page.locator("#emoji-button").click()
        expect(emoji_button(page, "grinning face")).to_be_focused()
        # On a phone too, the panel is on the screen and leaves the text being typed uncovered.
        box, typed = panel(page).bounding_box(), composer(page).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[width]["width"]
        assert box["y"] >= 0 and box["y"] + box["height"] <= typed["y"]
        page.evaluate("document.fonts.ready.then(() => true)")
        violations = axe.check(page)
    finally:
        page.context.close()
    print(axe.describe(f"picker open ({width} px, {theme})", violations))
    blocking = axe.blocking(violations)
    assert not blocking, axe.describe(f"picker open ({width} px, {theme})", blocking)
