"""The production build, started as the container starts it: build once, serve on one port.

scripts/build.sh then scripts/serve.sh (what the Dockerfile runs), on a port the build never
heard of; mail goes to a real SMTP server (an aiosmtpd sink). The smoke test, the metrics,
and a person signing in and chatting in Chromium through the pages of that one port.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import need_bun
from tests.support.production import METRICS_AUTH, METRICS_TOKEN, ProductionServer, build, production_env
from tests.support.smoke import metric, smoke
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def mail():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def production(tmp_path_factory, mail):
    need_bun()
    build()
    data = tmp_path_factory.mktemp("production")
    env = production_env(data, SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail.port))
    server = ProductionServer(env, data / "app.log").start()
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_the_built_app_passes_the_smoke_test(production, mail):
    smoke(production.url, mail.code_for, metrics_token=METRICS_TOKEN)


def test_a_person_signs_in_and_chats_through_the_one_port(production, mail, browser, pages):
    import httpx

    page = browser.new_page()
    pages.append(page)
    page.goto(f"{production.url}/login")
    email = "prod-ada@example.com"
    page.locator("#email").fill(email)
    page.locator("#send-code").click()
    expect(page).to_have_url(f"{production.url}/verify", timeout=20_000)
    page.locator("#otp-0").click()
    page.keyboard.type(mail.code_for(email), delay=40)
    # A first sign-in asks for a name; skipping goes on to the chats.
    expect(page).to_have_url(f"{production.url}/profile?welcome=1", timeout=20_000)
    page.locator("#skip-name").click()
    expect(page).to_have_url(f"{production.url}/chat", timeout=20_000)
    cookie = next(c for c in page.context.cookies() if c["name"] == "chat_session")
    assert not cookie["secure"]  # served over plain HTTP: a Secure cookie would not come back
    # The tab counts once its websocket has attached, which may trail the page by a moment.
    deadline, tabs = time.monotonic() + 10, 0.0
    while tabs < 1 and time.monotonic() < deadline:
        tabs = metric(
            httpx.get(f"{production.url}/metrics", headers=METRICS_AUTH).text, "chat_connected_tabs"
        )
        if tabs < 1:
            time.sleep(0.2)
    assert tabs >= 1


# Every Content-Security-Policy violation of the page, whether Chromium only logs it or fires
# the event, ends up in the console messages the test collects.
REPORT_CSP_VIOLATIONS = """
window.__cspViolations = 0;
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations += 1;
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI} ${e.sample || ""}`);
});
"""


def test_the_pages_work_under_their_content_security_policy(production, mail, browser, pages, tmp_path):
    import httpx

    from tests.support import images
    from tests.support.smoke import sign_in

    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(20_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    complaints: list[str] = []

    def note(message) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text or "Refused to" in text:
            complaints.append(f"{message.type}: {text}")

    context.on("console", note)
    page = context.new_page()
    pages.append(page)

    first = page.goto(f"{production.url}/login")
    policy = first.headers["content-security-policy"]
    assert (
        "frame-ancestors 'none'" in policy
        and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    )
    assert first.headers["x-frame-options"] == "DENY" and first.headers["x-content-type-options"] == "nosniff"

    # Sign in through the pages: the code boxes and the redirect run Reflex's call_script.
    email = "csp-ada@example.com"
    page.locator("#email").fill(email)
    page.locator("#send-code").click()
    expect(page).to_have_url(f"{production.url}/verify", timeout=20_000)
    page.locator("#otp-0").click()
    page.keyboard.type(mail.code_for(email), delay=40)
    # A first sign-in asks for a name; skipping goes on to the chats.
    expect(page).to_have_url(f"{production.url}/profile?welcome=1", timeout=20_000)
    page.locator("#skip-name").click()
    expect(page).to_have_url(f"{production.url}/chat", timeout=20_000)

    # Bob (over the API) and Ada's chat with him; Ada sends text and an image, Bob answers live.
    with httpx.Client(base_url=production.url, timeout=20) as http:
        bob = sign_in(http, mail.code_for, "csp-bob")
        ada_token = next(c for c in context.cookies() if c["name"] == "chat_session")["value"]
        chat = http.post(
            "/api/v1/chat/new",
            json={"otherUserId": bob["user"]["id"]},
            headers={"Authorization": f"Bearer {ada_token}"},
        )
        chat_id = chat.raise_for_status().json()["chatId"]
        page.goto(f"{production.url}/chat/{chat_id}")
        expect(page.locator("#messages")).to_have_attribute("data-chat", chat_id)

        page.locator("#composer").fill("hello under a CSP")
        page.locator("#composer").press("Enter")
        expect(page.locator("#messages .msg.mine .msg-text")).to_have_text(["hello under a CSP"])

        photo = tmp_path / "csp.png"
        photo.write_bytes(images.encoded("PNG", (300, 200)))
        page.locator("#image-input").set_input_files(str(photo))
        expect(page.locator("#image-preview img")).to_be_visible()  # a blob: URL
        page.locator("#image-send").click()
        mine = page.locator("#messages .msg.mine a.msg-image img")
        expect(mine).to_have_count(1)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=mine.element_handle())

        answer = http.post(
            "/api/v1/message",
            json={"chatId": chat_id, "text": "seen it", "clientId": "csp-1"},
            headers={"Authorization": f"Bearer {bob['token']}"},
        )
        assert answer.status_code == 201, answer.text
    expect(page.locator("#messages .msg.theirs .msg-text")).to_have_text(["seen it"])  # over the websocket

    assert complaints == []

    # The policy is enforced, and the watch above sees it: a script injected into the page is refused.
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__injected = true";
        document.body.appendChild(script);
    }""")
    page.wait_for_function("() => window.__cspViolations > 0")
    assert page.evaluate("() => window.__injected") is None
    assert any("script-src" in complaint for complaint in complaints), complaints
