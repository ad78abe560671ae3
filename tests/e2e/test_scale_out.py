"""Two production app instances behind a load balancer, sharing Redis, RabbitMQ and PostgreSQL.

Each instance is the built app started as the container starts it (scripts/serve.sh, one
port); sign-in codes go through RabbitMQ to a real `python -m mailer` worker and an SMTP
server. The browsers reach the instances through a proxy the test steers, so Ada's tab
lands on instance A and Bob's on instance B; what one sends reaches the other through Redis.
Then A goes away, gracefully (SIGTERM, as `docker stop` does) or not (SIGKILL), and Ada's
tab comes back on B without losing a message.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import RABBITMQ_URL, REDIS_URL, need_service, port_open
from tests.e2e.conftest import CUT_LIVE_SOCKET, Person, bubbles, need_bun, open_as, send
from tests.support.limits import lifted_limits_env
from tests.support.processes import ROOT, stop_group
from tests.support.production import ProductionServer, build, production_env
from tests.support.smtp_sink import SmtpSink
from tests.support.tcp_proxy import SteerableProxy

pytestmark = pytest.mark.e2e

# Reflex's Redis lock on a tab's state outlives a killed process (rxconfig.py: 25 s leases
# under a 30 s lock). Measured here: the tab does not wait for it (B hands it a fresh token
# and state within a second), but B's own graceful stop waits for that lock to expire (20 s
# of every run). For the SIGKILL test only, the lock expires after LOCK_SECONDS.
LOCK_SECONDS = 6


@pytest.fixture(scope="module")
def shared(tmp_path_factory, postgres_url):
    """What both instances share: PostgreSQL, Redis, a RabbitMQ queue with its mail worker, SMTP."""
    need_bun()
    need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
    need_service("RabbitMQ", port_open("127.0.0.1", 5672), RABBITMQ_URL)
    build()
    data = tmp_path_factory.mktemp("scale-out")
    mail = SmtpSink().start()
    settings = {
        "DATABASE_URL": postgres_url,
        "REDIS_URL": REDIS_URL,
        "RABBITMQ_URL": RABBITMQ_URL,
        "MAIL_QUEUE": f"send-otp-{uuid.uuid4().hex[:8]}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail.port),
        "GRANIAN_WORKERS": "1",
        **lifted_limits_env(),
    }
    worker_env = production_env(data, **settings, REFLEX_ENV_MODE="prod")
    del worker_env["PROMETHEUS_MULTIPROC_DIR"]  # one process: its metrics stay in memory
    with (data / "mailer.log").open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "mailer"],
            cwd=ROOT,
            env=worker_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield {"data": data, "mail": mail, "settings": settings}
    finally:
        stop_group(worker)
        mail.stop()


def start_instances(shared: dict, name: str, **extra: str) -> list[ProductionServer]:
    servers = []
    for which in ("a", "b"):
        data = shared["data"] / f"{name}-{which}"
        data.mkdir()
        env = production_env(data, **shared["settings"], **extra)
        servers.append(ProductionServer(env, data / "app.log").start())
    for server in servers:
        server.wait_ready()
    return servers


@pytest.fixture
def cluster(request, shared):
    """Instances A and B behind the steerable proxy; the server dict the e2e helpers take."""
    extra = getattr(request, "param", {})
    servers = start_instances(shared, request.node.name[:40], **extra)
    proxy = SteerableProxy([s.port for s in servers]).start()
    url = f"http://localhost:{proxy.port}"  # every browser and API call goes through the proxy
    try:
        yield {"frontend": url, "backend": url, "mail": shared["mail"], "proxy": proxy, "servers": servers}
    finally:
        proxy.stop()
        for server in servers:
            server.stop()


def tab_token(page) -> str:
    return page.evaluate("window.sessionStorage.getItem('token')")


def two_people_on_two_instances(cluster, browser, pages):
    proxy: SteerableProxy = cluster["proxy"]
    ada, bob = Person(cluster, "Ada"), Person(cluster, "Bob")
    chat_id = ada.chat_with(bob)
    proxy.steer(0)
    a = open_as(pages, browser, ada, f"/chat/{chat_id}")
    proxy.steer(1)
    b = open_as(pages, browser, bob, f"/chat/{chat_id}")
    assert tab_token(a) in proxy.tokens_on(0) and tab_token(a) not in proxy.tokens_on(1)
    assert tab_token(b) in proxy.tokens_on(1) and tab_token(b) not in proxy.tokens_on(0)
    return ada, bob, chat_id, a, b


def test_people_on_different_instances_chat_live_and_survive_a_move(cluster, browser, pages):
    proxy: SteerableProxy = cluster["proxy"]
    _, _, _, a, b = two_people_on_two_instances(cluster, browser, pages)

    send(a, "from instance one")
    expect(bubbles(b)).to_have_text(["from instance one"])
    expect(a.locator(".msg.mine .tick.seen")).to_have_count(1)
    b.locator("#composer").click()
    b.keyboard.type("from instance two", delay=30)
    expect(a.locator("#chat-typing")).to_have_text("typing…")
    b.locator("#composer").press("Enter")
    expect(bubbles(a)).to_have_text(["from instance one", "from instance two"])
    expect(a.locator("#chat-status")).to_have_text("online")  # both wrote: presence crosses instances

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
    # Bob's first send after the move may wait for his tab's state lock to come over from
    # instance two (not diagnosed: it took over 5 s once, in a clean-clone CI run).
    expect(bubbles(a)).to_have_text(
        ["from instance one", "from instance two", *sent, "back, on instance one"], timeout=15_000
    )


class SlowSend:
    """A POST /message whose body arrives in two halves: in flight for as long as the test likes."""

    def __init__(self, port: int, token: str, chat_id: str, text: str, client_id: str):
        import json

        body = json.dumps({"chatId": chat_id, "text": text, "clientId": client_id}).encode()
        head = (
            f"POST /api/v1/message HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self._rest = body[len(body) // 2 :]
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=30)
        self._socket.sendall(head + body[: len(body) // 2])

    def finish(self) -> str:
        """The rest of the body; the status line of the answer ('' if the server went away)."""
        try:
            self._socket.sendall(self._rest)
            answer = b""
            while chunk := self._socket.recv(65536):
                answer += chunk
            return answer.split(b"\r\n", 1)[0].decode()
        except OSError:
            return ""
        finally:
            self._socket.close()


def move_off_a_dying_instance(cluster, browser, pages, signum: int) -> float:
    """Ada (on A) and Bob (on B) chat; A gets `signum` with a send in flight; Ada's tab moves to
    B and misses nothing. Returns the seconds from the signal to Ada's tab being live on B."""
    proxy: SteerableProxy = cluster["proxy"]
    first, _second = cluster["servers"]
    ada, bob, chat_id, a, b = two_people_on_two_instances(cluster, browser, pages)
    send(a, "hello from A")
    expect(bubbles(b)).to_have_text(["hello from A"])
    send(b, "hello from B")
    expect(bubbles(a)).to_have_text(["hello from A", "hello from B"])

    socket_token = tab_token(a)
    in_flight = SlowSend(first.port, ada.token, chat_id, "sent while A stops", "in-flight-1")
    proxy.steer(1)  # the balancer takes A out: new connections go to B
    signalled = time.monotonic()
    first.signal(signum)
    time.sleep(0.5)
    status = in_flight.finish()
    if signum == signal.SIGTERM:
        assert status.endswith("201 Created"), status  # A finished it before it stopped
    else:
        # A died with it: the client's retry (same clientId) goes to B and stores it exactly once.
        again = {"chatId": chat_id, "text": "sent while A stops", "clientId": "in-flight-1"}
        retry = ada.api("POST", "/message", json=again)
        assert retry.status_code in (200, 201)
    while_moving = [f"while Ada moves {n}" for n in range(3)]
    for text in while_moving:
        send(b, text)

    everything = ["hello from A", "hello from B", "sent while A stops", *while_moving]
    expect(bubbles(a)).to_have_text(everything, timeout=60_000)
    moved_after = time.monotonic() - signalled
    # Her socket reconnected to B (after a SIGKILL, B gives the tab a fresh token: Reflex sees
    # the old one as still held by A's dead process, as for a duplicated tab).
    assert socket_token in proxy.tokens_on(1)
    send(a, "on B now")
    expect(bubbles(b)).to_have_text([*everything, "on B now"])
    a.wait_for_timeout(1_000)
    expect(bubbles(a)).to_have_count(len(everything) + 1)  # once each
    history = [m["text"] for m in ada.api("GET", f"/message/{chat_id}").json()["messages"]]
    assert history == [*everything, "on B now"]
    return moved_after


def test_sigterm_finishes_in_flight_requests_and_the_tab_moves_without_loss(cluster, browser, pages):
    moved_after = move_off_a_dying_instance(cluster, browser, pages, signal.SIGTERM)
    first = cluster["servers"][0]
    assert first.wait_exit(timeout=30) == 0, first.tail()
    print(f"SIGTERM: Ada's tab was live on B {moved_after:.1f} s after the signal")


@pytest.mark.parametrize(
    "cluster",
    [{"REFLEX_REDIS_LOCK_EXPIRATION": str(LOCK_SECONDS * 1000), "REFLEX_OPLOCK_HOLD_TIME": "4s"}],
    indirect=True,
)
def test_sigkill_loses_no_message_either(cluster, browser, pages):
    moved_after = move_off_a_dying_instance(cluster, browser, pages, signal.SIGKILL)
    print(f"SIGKILL: Ada's tab was live on B {moved_after:.1f} s after the signal")
    assert moved_after < 15
