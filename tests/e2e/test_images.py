"""Images on the chat page in headless Chromium: Ada sends one with a caption, Bob sees the
thumbnail live and opens it full size; a file that is no image is refused with a toast.

Runs on the embedded setup and on Redis (the `app_server` fixture's two params).
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, open_as
from tests.support import images

pytestmark = pytest.mark.e2e


def test_a_sends_an_image_with_a_caption_b_sees_it_live_and_opens_it(app_server, browser, pages, tmp_path):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    expect(a.locator("#messages")).to_have_attribute("data-chat", chat_id)
    expect(b.locator("#messages")).to_have_attribute("data-chat", chat_id)

    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(images.encoded("JPEG", (2400, 1600)))
    a.locator("#image-input").set_input_files(str(photo))  # what the attach button opens
    preview = a.locator("#image-preview")
    expect(preview.locator("img")).to_be_visible()
    preview.locator("#image-caption").fill("The view from the top")
    preview.locator("#image-send").click()
    expect(preview).to_have_count(0)  # uploaded: the preview closes

    # Bob's page gets it live: a thumbnail sized from the stored 1600x1067 before it loads.
    thumb = b.locator("#messages .msg.theirs a.msg-image img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("width", "320")
    expect(thumb).to_have_attribute("height", "213")
    expect(b.locator("#messages .msg.theirs .msg-text")).to_have_text("The view from the top")
    b.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=thumb.element_handle())
    # Ada sees her own, stored (a tick), and the chat list says what it was.
    expect(a.locator("#messages .msg.mine a.msg-image img")).to_have_count(1)
    expect(a.locator("#messages .msg.mine .tick")).to_have_count(1)
    expect(b.locator(f'[data-chat-row="{chat_id}"]')).to_contain_text("📷 Image")

    # A click opens the full size over the page; Escape closes it.
    thumb.click()
    full = b.locator("#lightbox img")
    expect(full).to_be_visible()
    b.wait_for_function("img => img.complete && img.naturalWidth === 1600", arg=full.element_handle())
    b.keyboard.press("Escape")
    expect(b.locator("#lightbox")).to_have_count(0)


def test_paste_and_drop_open_the_preview_and_a_bad_file_gets_a_toast(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}", viewport={"width": 360, "height": 740})
    expect(a.locator("#messages")).to_have_attribute("data-chat", chat_id)
    png = base64.b64encode(images.encoded("PNG", (300, 200))).decode()
    make_file = f"""name => {{
        const bytes = Uint8Array.from(atob("{png}"), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], name, {{type: "image/png"}}));
        return data;
    }}"""

    # Pasted into the composer.
    a.locator("#composer").click()
    a.evaluate(
        f"""() => {{
        const data = ({make_file})("pasted.png");
        document.getElementById("composer").dispatchEvent(
            new ClipboardEvent("paste", {{clipboardData: data, bubbles: true, cancelable: true}}));
    }}"""
    )
    expect(a.locator("#image-preview img")).to_be_visible()
    a.locator("#image-cancel").click()
    expect(a.locator("#image-preview")).to_have_count(0)

    # Dropped on the conversation, then sent without a caption.
    a.evaluate(
        f"""() => {{
        const data = ({make_file})("dropped.png");
        const zone = document.getElementById("messages");
        const options = {{dataTransfer: data, bubbles: true, cancelable: true}};
        zone.dispatchEvent(new DragEvent("dragover", options));
        zone.dispatchEvent(new DragEvent("drop", options));
    }}"""
    )
    expect(a.locator("#image-preview img")).to_be_visible()
    a.locator("#image-send").click()
    expect(a.locator("#messages .msg.mine a.msg-image img")).to_have_count(1)
    expect(a.locator("#messages .msg.mine a.msg-image img")).to_have_attribute("width", "300")

    # A text file named like a picture: the server says what it is, as a toast.
    a.evaluate(
        """() => {
        const data = new DataTransfer();
        data.items.add(new File(["just words"], "notes.png", {type: "image/png"}));
        const zone = document.getElementById("messages");
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }"""
    )
    # The page reads it first: refused before any preview (the server would refuse it too).
    expect(a.get_by_text("That file is not an image").first).to_be_visible()
    expect(a.locator("#image-preview")).to_have_count(0)
    expect(a.locator("#messages .msg.mine a.msg-image")).to_have_count(1)  # nothing more was sent


def test_a_photo_over_the_limit_is_scaled_down_in_the_browser_and_a_non_image_refused(
    app_server, browser, pages, tmp_path
):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    expect(a.locator("#messages")).to_have_attribute("data-chat", chat_id)
    limit = int(a.locator("#image-input").get_attribute("data-max-bytes"))

    # A phone photo bigger than the server takes: the page makes a smaller JPEG of it first.
    big = tmp_path / "IMG_0001.jpg"
    big.write_bytes(images.noise_jpeg(int(limit * 1.6)))
    assert big.stat().st_size > limit
    a.locator("#image-input").set_input_files(str(big))
    expect(a.locator("#image-preview img")).to_be_visible(timeout=20_000)
    a.locator("#image-send").click()
    expect(a.locator("#image-preview")).to_have_count(0, timeout=30_000)
    stored = ada.api("GET", f"/message/{chat_id}").json()["messages"][-1]
    assert stored["kind"] == "image"
    assert max(stored["image"]["width"], stored["image"]["height"]) <= 2560

    # Not an image at all: a toast, and no preview.
    notes = tmp_path / "notes.txt"
    notes.write_text("just words")
    a.locator("#image-input").set_input_files(str(notes))
    expect(a.get_by_text("That file is not an image").first).to_be_visible()
    expect(a.locator("#image-preview")).to_have_count(0)
