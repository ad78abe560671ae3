"""A person signs in through the browser with the code from the dev outbox."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.support import axe

pytestmark = pytest.mark.e2e


def code_from_outbox(page: Page, base: str, email: str) -> str:
    page.goto(f"{base}/dev/outbox")
    card = page.locator(".rt-Card", has_text=email).first
    expect(card).to_be_visible()
    return re.search(r"\b(\d{6})\b", card.locator(".outbox-body").inner_text()).group(1)


def ask_for_code(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#send-code").click()
    expect(page).to_have_url(re.compile(r"/verify$"))
    expect(page.get_by_text(email, exact=True)).to_be_visible()


def type_code_from_outbox(page: Page, context, base: str, email: str) -> None:
    outbox = context.new_page()
    code = code_from_outbox(outbox, base, email)
    outbox.close()
    page.locator("#otp-0").click()
    page.keyboard.type(code, delay=40)


def skip_the_welcome(page: Page) -> None:
    """A first sign-in asks for a name (on /profile?welcome=1); this one keeps the default."""
    expect(page).to_have_url(re.compile(r"/profile\?welcome=1$"))
    page.locator("#skip-name").click()
    expect(page).to_have_url(re.compile(r"/chat$"))


def test_new_user_signs_in_renames_reloads_and_signs_out(app_server, context):
    base = app_server["frontend"]
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    page = context.new_page()

    # Signed-out visitors are sent to /login.
    page.goto(f"{base}/chat")
    expect(page).to_have_url(re.compile(r"/login$"))

    ask_for_code(page, base, email)
    expect(page.locator("#resend")).to_be_disabled()
    expect(page.locator("#resend")).to_contain_text("Resend code in")

    # Typing digit by digit moves through the boxes and submits when full. A newcomer is
    # asked for a name first; skipping keeps the email's local part.
    type_code_from_outbox(page, context, base, email)
    expect(page.locator("#welcome")).to_be_visible()
    skip_the_welcome(page)
    expect(page.locator("#signed-in-name")).to_have_text(email.split("@")[0])

    # Signed-in users skip /login.
    page.goto(f"{base}/login")
    expect(page).to_have_url(re.compile(r"/chat$"))

    page.locator("#profile-link").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    page.locator("#name").fill("  Ada Lovelace  ")
    page.locator("#save-name").click()
    expect(page.locator("#signed-in-name")).to_have_text("Ada Lovelace")

    page.reload()
    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.locator("#signed-in-name")).to_have_text("Ada Lovelace")
    expect(page.locator("#name")).to_have_value("Ada Lovelace")

    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"{base}/profile")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_wrong_code_shows_an_error_and_a_pasted_code_signs_in(app_server, context):
    base = app_server["frontend"]
    email = f"paste-{uuid.uuid4().hex[:8]}@example.com"
    page = context.new_page()
    ask_for_code(page, base, email)

    outbox = context.new_page()
    code = code_from_outbox(outbox, base, email)
    outbox.close()

    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page.locator("#otp-0").click()
    page.keyboard.type(wrong, delay=30)
    expect(page.get_by_text(re.compile("That code is wrong or has expired; 4 tries left"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/verify$"))

    # Backspace on an empty box steps back to the previous one.
    page.locator("#otp-2").focus()
    page.keyboard.press("Backspace")
    expect(page.locator("#otp-1")).to_be_focused()

    page.locator("#otp-0").focus()
    page.evaluate(
        """code => {
            const data = new DataTransfer();
            data.setData('text', code);
            document.activeElement.dispatchEvent(
                new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        f" {code[:3]}-{code[3:]} ",
    )
    # Signed in: the newcomer names themself on the welcome page and goes on to the chats.
    expect(page).to_have_url(re.compile(r"/profile\?welcome=1$"))
    page.locator("#name").fill("Grace Hopper")
    page.locator("#save-name").click()
    expect(page).to_have_url(re.compile(r"/chat$"))
    expect(page.locator("#signed-in-name")).to_have_text("Grace Hopper")


def sign_in(page: Page, context, base: str, email: str) -> None:
    ask_for_code(page, base, email)
    type_code_from_outbox(page, context, base, email)
    skip_the_welcome(page)


def test_sign_out_everywhere_ends_the_session_on_another_device(app_server, browser, context):
    base = app_server["frontend"]
    page = context.new_page()
    sign_in(page, context, base, f"everywhere-{uuid.uuid4().hex[:8]}@example.com")
    # A second device holding the same session cookie.
    other_device = browser.new_context(storage_state=context.storage_state())
    try:
        other = other_device.new_page()
        other.goto(f"{base}/chat")
        expect(other.locator("#signed-in-name")).not_to_be_empty()

        page.goto(f"{base}/profile")
        page.locator("#sign-out-everywhere").click()
        # It asks first: cancelling keeps the session.
        page.get_by_role("button", name="Cancel").click()
        expect(page).to_have_url(re.compile(r"/profile$"))
        page.locator("#sign-out-everywhere").click()
        axe.assert_clean(page, "the sign-out-everywhere dialog")  # its red buttons were 3.9 and 4.2:1
        page.locator("#confirm-sign-out-everywhere").click()
        expect(page).to_have_url(re.compile(r"/login$"))

        # The other device's open chat page leaves by itself, and says why.
        expect(other).to_have_url(re.compile(r"/login\?ended=1$"), timeout=15_000)
        expect(other.locator("#ended-notice")).to_contain_text("signed out")
        other.goto(f"{base}/chat")
        expect(other).to_have_url(re.compile(r"/login(\?ended=1)?$"))
    finally:
        other_device.close()
