"""Two app instances on Redis and PostgreSQL behind a load balancer: A and B on different ones.

The browsers reach the backends through a proxy the test steers, so Ada's live
connection lands on instance 1 and Bob's on instance 2; what one sends reaches the
other through Redis. Bob then drops off and comes back on instance 1.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.conftest import REDIS_URL, need_service, port_open
from tests.e2e.conftest import (
    CUT_LIVE_SOCKET,
    START_TIMEOUT,
    Person,
    app_env,
    bubbles,
    free_port,
    need_bun,
    open_as,
    send,
    start_app,
    stop_app,
    wait_for,
)
from tests.support.tcp_proxy import SteerableProxy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory, postgres_url):
    need_bun()
    need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
    data = tmp_path_factory.mktemp("scale-out")
    frontend, first, second = free_port(), free_port(), free_port()
    proxy = SteerableProxy([first, second]).start()
    # Every browser talks to the proxy; the proxy picks the instance.
    env = app_env(
        data, REDIS_URL=REDIS_URL, DATABASE_URL=postgres_url, REFLEX_API_URL=f"http://localhost:{proxy.port}"
    )
    one = start_app(env, data / "one.log", "--frontend-port", str(frontend), "--backend-port", str(first))
    two = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        wait_for(f"http://127.0.0.1:{first}/ping", one, data / "one.log", deadline)
        wait_for(f"http://127.0.0.1:{frontend}/login", one, data / "one.log", deadline)
        # The second instance starts once the first has compiled the app.
        two = start_app(env, data / "two.log", "--backend-only", "--backend-port", str(second))
        wait_for(f"http://127.0.0.1:{second}/ping", two, data / "two.log", deadline)
        yield {
            "frontend": f"http://localhost:{frontend}",
            "backend": f"http://localhost:{first}",
            "data": data,
            "proxy": proxy,
        }
    finally:
        for process in (two, one):
            if process is not None:
                stop_app(process)
        proxy.stop()


def tab_token(page) -> str:
    return page.evaluate("window.sessionStorage.getItem('token')")


def test_people_on_different_instances_chat_live_and_survive_a_move(two_instances, browser, pages):
    proxy: SteerableProxy = two_instances["proxy"]
    ada, bob = Person(two_instances, "Ada"), Person(two_instances, "Bob")
    chat_id = ada.chat_with(bob)

    proxy.steer(0)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    proxy.steer(1)
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    assert tab_token(a) in proxy.tokens_on(0) and tab_token(a) not in proxy.tokens_on(1)
    assert tab_token(b) in proxy.tokens_on(1) and tab_token(b) not in proxy.tokens_on(0)

    expect(a.locator("#chat-status")).to_have_text("online")  # presence crosses instances
    send(a, "from instance one")
    expect(bubbles(b)).to_have_text(["from instance one"])
    expect(a.locator(".msg.mine .tick.seen")).to_have_count(1)
    b.locator("#composer").click()
    b.keyboard.type("from instance two", delay=30)
    expect(a.locator("#chat-typing")).to_have_text("typing…")
    b.locator("#composer").press("Enter")
    expect(bubbles(a)).to_have_text(["from instance one", "from instance two"])

    # Bob drops off; when he comes back, the balancer sends him to instance one.
    b.context.set_offline(True)
    b.evaluate(CUT_LIVE_SOCKET)
    sent = [f"while away {n}" for n in range(5)]
    for text in sent:
        send(a, text)
    proxy.steer(0)
    b.context.set_offline(False)
    expect(bubbles(b)).to_have_text(["from instance one", "from instance two", *sent], timeout=30_000)
    assert tab_token(b) in proxy.tokens_on(0)
    b.wait_for_timeout(1_500)
    expect(bubbles(b)).to_have_count(7)  # once each
    send(b, "back, on instance one")
    expect(bubbles(a)).to_have_text(
        ["from instance one", "from instance two", *sent, "back, on instance one"]
    )
