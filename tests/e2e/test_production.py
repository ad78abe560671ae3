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
from tests.support.production import ProductionServer, build, production_env
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
    smoke(production.url, mail.code_for)


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
    expect(page).to_have_url(f"{production.url}/chat", timeout=20_000)
    cookie = next(c for c in page.context.cookies() if c["name"] == "chat_session")
    assert not cookie["secure"]  # served over plain HTTP: a Secure cookie would not come back
    # The tab counts once its websocket has attached, which may trail the page by a moment.
    deadline, tabs = time.monotonic() + 10, 0.0
    while tabs < 1 and time.monotonic() < deadline:
        tabs = metric(httpx.get(f"{production.url}/metrics").text, "chat_connected_tabs")
        if tabs < 1:
            time.sleep(0.2)
    assert tabs >= 1
