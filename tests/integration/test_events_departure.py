"""GET /events notices a departed client from the ASGI receive channel, through the whole API
stack (every middleware included), without asking again and again.

Driven at the ASGI level so the test sees every `receive` the app makes: an idle stream makes
one waiting call and nothing more until the client goes. Both branches of Starlette's
StreamingResponse matter (it listens itself below ASGI spec 2.4: Granian reports 2.3).
"""

from __future__ import annotations

import asyncio

import pytest

from chat_web import container
from chat_web.domain.events import user_topic
from tests.integration.conftest import new_session, running_api, settings_for


@pytest.fixture
async def api(request, tmp_path):
    async with running_api(settings_for(request, "sqlite", tmp_path)) as http:
        yield http, http._transport.app


class Client:
    """One connection's receive and send: a bodyless GET, then a departure when told."""

    def __init__(self) -> None:
        self.receives = 0
        self.left = asyncio.Event()
        self.sent: list[dict] = []
        self.first_frame = asyncio.Event()

    async def receive(self) -> dict:
        self.receives += 1
        if self.receives == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.first_frame.set()


def events_scope(token: str, spec_version: str) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": spec_version}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": "/api/v1/events", "raw_path": b"/api/v1/events",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 50000), "server": ("test", 80),
        "headers": [(b"host", b"test"), (b"authorization", f"Bearer {token}".encode())],
    }  # fmt: skip


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
async def test_a_quiet_stream_waits_once_and_ends_promptly_when_its_client_leaves(
    api, tmp_path, request, spec_version
):
    http, app = api
    settings = settings_for(request, "sqlite", tmp_path)
    me = await new_session(http, settings, "quiet")
    streams, fanout = container.current().streams, container.current().fanout
    client = Client()
    serving = asyncio.create_task(app(events_scope(me["token"], spec_version), client.receive, client.send))
    await asyncio.wait_for(client.first_frame.wait(), 5)
    assert client.sent[0]["status"] == 200 and client.sent[1]["body"].startswith(b"retry:")

    await asyncio.sleep(1.5)  # quiet: the heartbeat is 15 s away
    assert client.receives == 2  # the empty body, then one call waiting for the disconnect
    assert streams.streams_of(me["user"]["id"]) == 1

    client.left.set()
    await asyncio.wait_for(serving, 1.0)  # ended within a second of the departure
    assert streams.streams_of(me["user"]["id"]) == 0 and streams.open_streams == 0
    assert not fanout._subscribers.listened(user_topic(me["user"]["id"]))
    assert container.current().live._held == {}
    assert client.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
