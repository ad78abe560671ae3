"""axe-core over every page, at 1280 and 360 px, light and dark: no serious or critical finding.

One app (embedded defaults: accessibility does not depend on the state manager), one browser,
and one signed-in person whose cookie each context carries. Every check prints what axe
found, so a failure says which rule, where, and why.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import need_service
from tests.e2e.conftest import Person, mailed_code
from tests.support import axe

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("app_server", ["embedded"], indirect=True)]

WIDTHS = {"1280": {"width": 1280, "height": 800}, "360": {"width": 360, "height": 740}}
THEMES = ["light", "dark"]
# Moderate in axe's scale, but part of the audit: every page has a <main> and an <h1>.
STRUCTURE_RULES = {"landmark-one-main", "page-has-heading-one"}


@pytest.fixture(scope="module")
def scene(app_server):
    """Ada, with a group and a direct chat with Bob: a few messages, an edited one, a reply."""
    need_service("axe-core", axe.AXE_JS.exists(), "run scripts/setup.sh (installs it into .tools/axe)")
    ada, bob, cyd = Person(app_server, "Ada"), Person(app_server, "Bob"), Person(app_server, "Cyd")

    def say(who: Person, chat_id: str, text: str, **extra) -> dict:
        body = {"chatId": chat_id, "text": text, "clientId": uuid.uuid4().hex, **extra}
        return who.api("POST", "/message", json=body).json()

    group = ada.api("POST", "/chat/group", json={"title": "Weekend trip", "memberIds": [bob.id, cyd.id]})
    say(cyd, group.json()["id"], "Train or car?")
    chat_id = ada.chat_with(bob)
    say(bob, chat_id, "Morning! Did you see the draft I sent yesterday?")
    notes = say(ada, chat_id, "Yes, it looks grate. Two small notes")
    fixed = {"text": "Yes, it looks great. Two small notes"}
    ada.api("PATCH", f"/message/{chat_id}/{notes['id']}", json=fixed)
    say(bob, chat_id, "Good catch, fixing both now.", replyTo=notes["seq"])
    say(ada, chat_id, "On it!")
    return {"ada": ada, "chat_id": chat_id}


def _context(browser, theme: str, width: str, person: Person | None = None):
    context = browser.new_context(viewport=WIDTHS[width], color_scheme=theme)
    context.set_default_timeout(30_000)  # a route's first visit waits for its build in development
    if person is not None:
        context.add_cookies(
            [{"name": "chat_session", "value": person.token, "url": person.server["frontend"]}]
        )
    return context


def _settle(page, theme: str) -> None:
    """Let the theme and fonts land (axe reads computed colours) before a check."""
    page.wait_for_function(
        "dark => document.documentElement.classList.contains('dark') === dark", arg=theme == "dark"
    )
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(300)  # Radix transitions (hover, focus) run 100-200 ms


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("theme", THEMES)
def test_no_serious_or_critical_accessibility_findings(app_server, scene, browser, theme, width):
    found: list[tuple[str, list[dict]]] = []

    def check(page, where: str) -> None:
        _settle(page, theme)
        found.append((f"{where} ({width} px, {theme})", axe.check(page)))

    base = app_server["frontend"]
    ada = scene["ada"]
    signed_out = _context(browser, theme, width)
    signed_in = _context(browser, theme, width, ada)
    try:
        page = signed_out.new_page()
        page.goto(f"{base}/login")
        expect(page.locator("#email")).to_be_visible()
        check(page, "/login")
        email = f"axe-{uuid.uuid4().hex[:8]}@example.com"
        page.locator("#email").fill(email)
        page.locator("#send-code").click()
        expect(page.locator("#otp-0")).to_be_visible()
        expect(page.locator("[data-sonner-toast]")).to_be_visible()  # "We sent a code": its colours too
        check(page, "/verify")
        wrong = f"{(int(mailed_code(app_server['data'], email)) + 1) % 10**6:06d}"
        page.locator("#otp-0").click()
        page.keyboard.type(wrong, delay=30)  # the sixth digit submits
        expect(page.locator("[data-sonner-toast][data-type='error']")).to_be_visible()
        check(page, "/verify, a wrong code")

        page = signed_in.new_page()
        page.goto(f"{base}/chat")
        expect(page.locator("#profile-link")).to_have_text(ada.name)
        rows = page.locator("[data-chat-row]")
        expect(rows).to_have_count(2)
        check(page, "/chat")
        rows.first.hover()
        check(page, "/chat, a row hovered")

        page.goto(f"{base}/chat/{scene['chat_id']}")
        expect(page.locator("#messages .msg-text")).to_have_count(4)
        expect(page.locator(".msg-edited")).to_have_count(1)
        expect(page.locator(".quote")).to_have_count(1)
        check(page, "/chat/<id>")
        if width == "1280":  # on a phone the list is hidden while a conversation is open
            page.locator("[data-chat-row]:not(.active)").hover()
            check(page, "/chat/<id>, another row hovered")

        page.goto(f"{base}/profile")
        expect(page.locator("#name")).to_have_value(ada.name)
        check(page, "/profile")
    finally:
        signed_out.close()
        signed_in.close()

    report = "\n".join(axe.describe(where, violations) for where, violations in found)
    print(report)  # shown with the failure, moderate and minor findings included
    failing = [(where, axe.blocking(violations, also=STRUCTURE_RULES)) for where, violations in found]
    failing = [axe.describe(where, violations) for where, violations in failing if violations]
    assert not failing, "axe found serious/critical (or landmark/heading) violations:\n" + "\n".join(failing)


# The focused element's ring (its own outline, or a text field's, drawn by the field's box) and
# whether the nearest box that clips its overflow cuts into it.
FOCUS_RING = """() => {
  const el = document.activeElement;
  let owner = el;
  while (owner && getComputedStyle(owner).outlineStyle === 'none') owner = owner.parentElement;
  const name = el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.tagName;
  const row = el.matches('[data-chat-row]');
  if (!owner || owner === document.body) return {name, row, ring: null};
  const s = getComputedStyle(owner);
  const out = parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset);
  const r = owner.getBoundingClientRect();
  let clipped = false;
  for (let a = owner.parentElement; a; a = a.parentElement) {
    const cs = getComputedStyle(a);
    if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
    const c = a.getBoundingClientRect();
    clipped = r.left - out < c.left - 0.5 || r.top - out < c.top - 0.5
      || r.right + out > c.right + 0.5 || r.bottom + out > c.bottom + 0.5;
    break;
  }
  return {name, row, ring: `${s.outlineStyle} ${s.outlineWidth} offset ${s.outlineOffset}`,
          width: parseFloat(s.outlineWidth), clipped};
}"""


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_keyboard_stop_shows_a_whole_focus_ring(app_server, scene, browser, width):
    """Tab through the chat page: every stop has a ring of 2 px or more that nothing clips
    (a chat row's used to sit outside the row, cut by the list's scroll box to one line)."""
    context = _context(browser, "light", width, scene["ada"])
    try:
        page = context.new_page()
        # A phone shows the list, a wide screen the list and the conversation.
        path = f"/chat/{scene['chat_id']}" if width == "1280" else "/chat"
        page.goto(f"{app_server['frontend']}{path}")
        expect(page.locator("#profile-link")).to_have_text(scene["ada"].name)
        # From the top of the page (an opened chat puts the focus in its composer): a click
        # on the page's corner moves where the next Tab starts from.
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.mouse.click(1, 1)
        stops = []
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement === document.body"):
                break
            stops.append(page.evaluate(FOCUS_RING))
    finally:
        context.close()
    print("\n".join(str(stop) for stop in stops))
    assert sum(stop["row"] for stop in stops) == 2, "both chat rows are keyboard stops"
    bad = [stop for stop in stops if not stop["ring"] or stop["width"] < 2 or stop["clipped"]]
    assert not bad, f"focus rings missing, thin or clipped: {bad}"
