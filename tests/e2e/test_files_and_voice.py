"""Files and voice messages on the chat page in headless Chromium, its microphone faked
(`--use-fake-device-for-media-stream`: a beep): Ada sends a file and records voice messages
(holding the mic, and from the keyboard), and Bob sees each bubble live and can fetch them.
At 360 px the composer's buttons and the bubbles fit the screen.

Runs on the embedded setup only (the uploads take the same API path with Redis).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, open_as
from tests.support import axe
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
FAKE_MIC = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture(scope="module")
def mic_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + FAKE_MIC)
        yield browser
        browser.close()


def _recorded_for_a_second(page) -> None:
    """Wait until the recording has run a full second (the page's own timer says so)."""
    expect(page.locator("#record")).to_have_attribute("aria-pressed", "true")
    # Checked on every frame in the page: a poll from here could miss the second that says 0:01.
    page.wait_for_function(
        "() => { const t = document.getElementById('record-time'); return t && t.textContent !== '0:00'; }",
        timeout=10_000,
    )


@pytest.mark.parametrize("app_server", ["embedded"], indirect=True)
def test_a_sends_a_file_and_voice_messages_b_sees_them_live(app_server, mic_browser, pages, tmp_path):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    phone = {"width": 360, "height": 740}
    a = open_as(pages, mic_browser, ada, f"/chat/{chat_id}", viewport=phone)
    b = open_as(pages, mic_browser, bob, f"/chat/{chat_id}")
    expect(a.locator("#messages")).to_have_attribute("data-chat", chat_id)
    expect(b.locator("#messages")).to_have_attribute("data-chat", chat_id)

    # At 360 px every control of the composer is on screen, the text box keeps room.
    for control in ("#composer", "#emoji-button", "#attach", "#attach-file", "#record", "#send"):
        box = a.locator(control).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, control
    assert a.locator("#composer").bounding_box()["width"] >= 100

    # A file: picked, previewed with its name and size, sent with a caption.
    report = tmp_path / "Quarterly report.pdf"
    report.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    a.locator("#file-input").set_input_files(str(report))  # what the paperclip opens
    preview = a.locator("#file-preview")
    expect(preview.locator(".file-preview-name")).to_have_text("Quarterly report.pdf")
    expect(preview.locator(".file-preview-meta")).to_contain_text("5 KB")
    preview.locator("#file-caption").fill("The numbers")
    preview.locator("#file-send").click()
    expect(preview).to_have_count(0)

    link = b.locator("#messages .msg.theirs a.msg-file")
    expect(link).to_have_count(1)
    expect(link.locator(".msg-file-name")).to_have_text("Quarterly report.pdf")
    expect(link.locator(".msg-file-meta")).to_have_text("5 KB · PDF")
    expect(link).to_have_accessible_name(re.compile(r"^Download Quarterly report\.pdf ?, 5 KB · PDF ?$"))
    expect(b.locator("#messages .msg.theirs .msg-text")).to_have_text("The numbers")
    # Fetched with Bob's session cookie, as his browser's download would be.
    fetched = b.context.request.get(link.get_attribute("href"))
    assert fetched.status == 200 and fetched.body() == report.read_bytes()
    assert fetched.headers["content-disposition"].startswith('attachment; filename="Quarterly report.pdf"')
    expect(b.locator(f'[data-chat-row="{chat_id}"]')).to_contain_text("📎 Quarterly report.pdf")

    # A voice message, held: press the mic, keep it down a second, let go.
    mic = a.locator("#record")
    mic.hover()
    a.mouse.down()
    _recorded_for_a_second(a)
    a.mouse.up()
    expect(mic).to_have_attribute("aria-pressed", "false")
    voices = b.locator("#messages .msg.theirs .msg-voice")
    expect(voices).to_have_count(1)
    # Recorded for a second and a little: the server measures 0:01, or a little more on a busy machine.
    expect(voices.locator("audio")).to_have_attribute("aria-label", re.compile(r"^Voice message, 0:0[1-3]$"))
    expect(voices.locator(".msg-voice-length")).to_have_text(re.compile(r"^0:0[1-3]$"))
    b.wait_for_function("audio => audio.readyState >= 1", arg=voices.locator("audio").element_handle())

    # From the keyboard: Enter starts, Enter again sends.
    mic.focus()
    a.keyboard.press("Enter")
    _recorded_for_a_second(a)
    a.keyboard.press("Enter")
    expect(voices).to_have_count(2)
    expect(b.locator(f'[data-chat-row="{chat_id}"]')).to_contain_text("🎤 Voice message (0:0")

    # A quick click-click on the mic records almost nothing: not sent, and a hint (not an
    # error toast) says how the mic works.
    mic.hover()
    a.mouse.down()
    a.mouse.up()
    a.wait_for_timeout(100)
    a.mouse.down()
    a.mouse.up()
    expect(a.locator("#record-hint")).to_have_text("Hold to record, let go to send")
    expect(mic).to_have_attribute("aria-pressed", "false")
    expect(a.locator("[data-sonner-toast]")).to_have_count(0)
    expect(a.locator("#record-hint")).to_have_count(0, timeout=6000)  # gone after a few seconds
    assert voices.count() == 2

    # From the keyboard on Bob's side, a voice message is one message among the others: the
    # arrows move on from it, and its player is in the Tab order only while it is the focused
    # message (the browser's controls would add about six stops per voice message).
    rows = b.locator("#messages .msg-line")
    voice_rows = rows.filter(has=b.locator(".msg-voice"))
    first_voice, last_voice = voice_rows.first, voice_rows.last
    first_voice.focus()
    expect(first_voice.locator("audio")).to_have_attribute("tabindex", "0")
    expect(last_voice.locator("audio")).to_have_attribute("tabindex", "-1")
    b.keyboard.press("ArrowDown")
    expect(last_voice).to_be_focused()
    expect(first_voice.locator("audio")).to_have_attribute("tabindex", "-1")
    b.keyboard.press("ArrowUp")
    b.keyboard.press("ArrowUp")
    expect(rows.filter(has=b.locator(".msg-file"))).to_be_focused()
    b.keyboard.press("ArrowDown")
    expect(first_voice).to_be_focused()
    key = first_voice.get_attribute("data-key")
    stops = []
    for _ in range(15):
        b.keyboard.press("Tab")
        stops.append(
            b.evaluate(
                """() => {
                  const el = document.activeElement;
                  const row = el.closest('.msg-line');
                  return {tag: el.tagName, row: row ? row.dataset.key : null, id: el.id};
                }"""
            )
        )
        if stops[-1]["id"] == "composer":
            break
    assert stops[-1]["id"] == "composer", stops
    assert {"tag": "AUDIO", "row": key, "id": ""} in stops, stops  # its own player
    assert all(stop["row"] in (key, None) for stop in stops), stops  # no other message's controls

    # An SVG dropped on the conversation is no photo the server takes: it goes as a file. Its
    # long name is cut in the middle at 360 px, the extension still in sight.
    svg_name = "The company logo in its final approved version for the 2026 annual report.svg"
    a.evaluate(
        """name => {
          const dropped = new DataTransfer();
          const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>';
          dropped.items.add(new File([svg], name, {type: 'image/svg+xml'}));
          const drop = new DragEvent('drop', {dataTransfer: dropped, bubbles: true, cancelable: true});
          document.getElementById('messages').dispatchEvent(drop);
        }""",
        svg_name,
    )
    expect(a.locator("#file-preview .file-preview-name")).to_have_text(svg_name)
    expect(a.locator("#image-preview")).to_have_count(0)
    a.locator("#file-send").click()
    expect(a.locator("#file-preview")).to_have_count(0)
    svg_link = b.locator("#messages .msg.theirs a.msg-file").last
    expect(svg_link.locator(".msg-file-name")).to_have_text(svg_name)
    expect(svg_link).to_have_accessible_name(re.compile(rf"^Download {re.escape(svg_name)} ?, .*"))
    mine = a.locator("#messages .msg.mine a.msg-file").last
    expect(mine.locator(".msg-file-ext")).to_have_text(".svg")
    stem, ext = mine.locator(".msg-file-stem"), mine.locator(".msg-file-ext")
    assert stem.evaluate("el => el.scrollWidth > el.clientWidth")  # the stem is cut
    ext_box, link_box = ext.bounding_box(), mine.bounding_box()
    assert ext_box["width"] > 0 and ext_box["x"] + ext_box["width"] <= link_box["x"] + link_box["width"]

    # Ada's own bubbles fit her 360 px screen.
    for bubble in a.locator("#messages .msg.mine").all():
        box = bubble.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360

    # Neither page, with these bubbles and controls, has a serious or critical axe finding.
    if axe.AXE_JS.exists():
        for where, page in (("Ada at 360 px", a), ("Bob at 1100 px", b)):
            found = axe.blocking(axe.check(page))
            assert not found, axe.describe(where, found)
