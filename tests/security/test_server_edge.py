"""Issue 18's server edges against the app over real sockets (`reflex run --backend-only`):
websockets per address, slow request bodies, and a client that leaves mid-upload."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
import uuid

import httpx
import pytest
import socketio

from tests.e2e.conftest import app_env
from tests.support import images
from tests.support.hostile import HostileTab
from tests.support.processes import serve
from tests.support.sign_in import outbox_codes, sign_in
from tests.support.smoke import metric

COMMAND = [
    sys.executable, "-m", "reflex", "run", "--env", "dev", "--backend-only", "--backend-port", "{port}",
]  # fmt: skip
SOCKETS = 3
MIN_RATE = 2000  # bytes a second, after
GRACE = 1.0  # second


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("edges")
    env = app_env(
        data,
        REFLEX_STATES_WORKDIR=str(data / "states"),
        LIMIT_SOCKETS_PER_CLIENT=str(SOCKETS),
        BODY_MIN_BYTES_PER_SECOND=str(MIN_RATE),
        BODY_GRACE_SECONDS=str(GRACE),
    )
    with serve(COMMAND, "/ping", data / "app.log", env) as served:
        base = f"http://127.0.0.1:{served.port}"
        api = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
        codes = outbox_codes(data / "outbox.jsonl")
        ann, bob = sign_in(api, codes, "ann@example.com"), sign_in(api, codes, "bob@example.com")
        as_ann = {"Authorization": f"Bearer {ann['token']}"}
        chat = api.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=as_ann).json()
        yield {"base": base, "port": served.port, "log": data / "app.log", "ann": ann, "chat": chat["chatId"]}
        api.close()


def raw_request(port: int, head: str, body: bytes) -> socket.socket:
    """A connection that has sent the request line, the headers and `body` (all or part of it)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(head.encode() + b"\r\n" + body)
    return conn


def read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the timeout fails the test)."""
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def wait_for_log(log, text: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = log.read_text()
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in the log")


async def refused(tab: HostileTab) -> None:
    """Let go of the HTTP session a refused connect leaves open."""
    await tab.sio.eio._reset()


async def test_one_address_holds_at_most_the_cap_of_sockets_and_a_closed_one_frees_a_place(app):
    tabs = [HostileTab(app["base"]) for _ in range(SOCKETS)]
    for tab in tabs:
        await tab.connect()
    one_more = HostileTab(app["base"])
    with pytest.raises(socketio.exceptions.ConnectionError):
        await one_more.connect()
    await refused(one_more)
    await tabs[0].close()
    # The server notices the close on its own time: a new socket gets in once it has.
    again = HostileTab(app["base"])
    for _ in range(200):
        try:
            await again.connect()
            break
        except socketio.exceptions.ConnectionError:
            await refused(again)
            again = HostileTab(app["base"])
            await asyncio.sleep(0.05)
    assert again.sio.connected
    for tab in [*tabs[1:], again]:
        await tab.close()


def test_a_body_that_stops_coming_gets_408_and_the_connection_closes(app):
    body = b'{"email": "slow@example.com"}'
    head = (
        "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) + 10_000}\r\n"
    )
    conn = raw_request(app["port"], head, body)  # and then nothing more
    answer = read_all(conn)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"too slowly" in answer


def test_a_long_body_that_keeps_its_rate_is_taken_though_it_lasts_past_the_grace(app):
    # 2.5 s of body at ~4,000 bytes a second: longer than the grace, faster than the floor.
    import json

    message = {"chatId": app["chat"], "text": "x" * 3900, "clientId": uuid.uuid4().hex}
    body = json.dumps(message).encode()
    body += b" " * (10_000 - len(body))  # JSON allows trailing spaces
    head = (
        "POST /api/v1/message HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {app['ann']['token']}\r\nConnection: close\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    conn = raw_request(app["port"], head, b"")
    started = time.monotonic()
    for offset in range(0, len(body), 400):
        conn.sendall(body[offset : offset + 400])
        time.sleep(0.1)  # the deliberate pace of a slow line
    assert time.monotonic() - started > GRACE * 2
    answer = read_all(conn)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]


def test_a_client_that_leaves_mid_upload_is_logged_as_such_not_as_a_500(app):
    boundary = uuid.uuid4().hex
    image = images.encoded("PNG", (1200, 900))
    parts = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="chatId"\r\n\r\n{app["chat"]}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body = parts + image + f"\r\n--{boundary}--\r\n".encode()
    head = (
        "POST /api/v1/message HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {app['ann']['token']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n"
    )
    conn = raw_request(app["port"], head, body[: len(body) // 2])
    conn.close()  # half the image sent, then gone

    log = wait_for_log(app["log"], "client disconnected during the request body: POST /api/v1/message")
    assert "Traceback" not in log and "unexpected error" not in log
    metrics = httpx.get(f"{app['base']}/metrics").text
    assert 'route="/api/v1/message",status="499"' in metrics
    assert 'status="500"' not in metrics
    assert metric(metrics, "chat_messages_stored_total") >= 1  # the paced send above was stored
