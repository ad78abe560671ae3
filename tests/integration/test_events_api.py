"""Real time for API clients: GET /events (Server-Sent Events), GET /sync, typing.

Each test runs real API servers (Granian, like production) and reads their streams with the
example client's own parser (examples/events_client.py).
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from examples.events_client import read_events
from tests.conftest import REDIS_URL, need_service, port_open
from tests.support import api_server
from tests.support.limits import lifted_limits_env
from tests.support.processes import HOST, serving
from tests.support.sign_in import outbox_codes, sign_in


@contextlib.contextmanager
def api(data: Path, port_log: str = "api.log", **env: str) -> Iterator[str]:
    settings = {
        **os.environ,
        **lifted_limits_env(),
        "DATA_DIR": str(data),
        "REFLEX_ENV_MODE": "dev",
        **dict.fromkeys(("REDIS_URL", "RABBITMQ_URL", "MONGODB_URI", "SMTP_HOST", "DATABASE_URL"), ""),
        **env,
    }
    with serving(api_server.COMMAND, "/api/v1/openapi.json", data / port_log, settings) as port:
        yield f"http://{HOST}:{port}/api/v1"


class Person:
    def __init__(self, base: str, data: Path, name: str):
        self.base = base
        self.client = httpx.Client(base_url=base, timeout=10)
        session = sign_in(
            self.client, outbox_codes(data / "outbox.jsonl"), f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        )
        self.token, self.id, self.name = session["token"], session["user"]["id"], session["user"]["name"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, body: dict | None = None, **params) -> httpx.Response:
        response = self.client.post(path, json=body, params=params, headers=self.headers)
        response.raise_for_status()
        return response

    def get(self, path: str, **params) -> dict:
        response = self.client.get(path, params=params, headers=self.headers)
        response.raise_for_status()
        return response.json()

    def say(self, chat_id: str, text: str) -> dict:
        return self.post("/message", {"chatId": chat_id, "text": text, "clientId": uuid.uuid4().hex}).json()


class Stream:
    """A background reader of one /events connection; events land in a queue."""

    def __init__(self, person: Person, base: str | None = None, last_event_id: str | None = None):
        headers = dict(person.headers)
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.events: queue.Queue = queue.Queue()
        self.ended = threading.Event()
        self._client = httpx.Client(base_url=base or person.base, timeout=httpx.Timeout(10, read=60))
        self._response = self._client.send(
            self._client.build_request("GET", "/events", headers=headers), stream=True
        )
        assert self._response.status_code == 200, self._response.read()
        assert self._response.headers["content-type"].startswith("text/event-stream")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            for event in read_events(self._response):
                self.events.put(event)
        self.ended.set()

    def next(self, kind: str | None = None, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if kind is None or event["event"] == kind:
                return event

    def collect(self, kind: str, count: int, timeout: float = 10) -> list[dict]:
        return [self.next(kind, timeout) for _ in range(count)]

    def quiet(self, kind: str, seconds: float = 1.0) -> list[dict]:
        """Every event of this kind that arrives within `seconds`."""
        found, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                event = self.events.get(timeout=left)
                if event["event"] == kind:
                    found.append(event)
        return found

    def close(self) -> None:
        # The reader thread is blocked in a read: shut the socket down under it, as a client
        # that goes away does, so the server sees the connection end now.
        network = self._response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._response.close()
        self._client.close()


def texts(events: list[dict]) -> list[str]:
    return [e["data"]["message"]["text"] for e in events]


@pytest.fixture
def server(tmp_path):
    with api(tmp_path, EVENT_REPLAY_MAX="20") as base:
        yield base, tmp_path


def test_two_api_users_see_each_others_events_in_order(server):
    base, data = server
    ada, bob, eve = Person(base, data, "ada"), Person(base, data, "bob"), Person(base, data, "eve")
    chat = ada.post("/chat/new", {"otherUserId": bob.id}).json()["chatId"]
    ada_stream, bob_stream, eve_stream = Stream(ada), Stream(bob), Stream(eve)
    try:
        for n in range(5):
            (ada if n % 2 == 0 else bob).say(chat, f"line {n}")
        got_bob, got_ada = bob_stream.collect("message.new", 5), ada_stream.collect("message.new", 5)
        assert texts(got_bob) == texts(got_ada) == [f"line {n}" for n in range(5)]
        assert [e["data"]["message"]["seq"] for e in got_bob] == [1, 2, 3, 4, 5]
        assert all(e["id"] and e["data"]["id"] == e["id"] for e in got_bob)  # resumable
        # Typing over the API reaches the other side (and is not replayable: no id).
        bob.post(f"/chat/{chat}/typing")
        typing = ada_stream.next("typing")
        assert typing["data"] == {"type": "typing", "chatId": chat, "userId": bob.id, "name": bob.name}
        assert "id" not in typing
        # Reading shows up as chat.read.
        bob.post(f"/chat/{chat}/read", {"seq": 5})
        read = ada_stream.next("chat.read")
        assert read["data"]["userId"] == bob.id and read["data"]["seq"] == 5
        # Edits and deletions reach both sides, with ids (replayable).
        first = got_bob[0]["data"]["message"]
        ada.client.patch(f"/message/{chat}/{first['id']}", json={"text": "line 0!"}, headers=ada.headers)
        ada.client.delete(f"/message/{chat}/{first['id']}", headers=ada.headers).raise_for_status()
        for stream in (bob_stream, ada_stream):
            edited, deleted = stream.next("message.edited"), stream.next("message.deleted")
            assert edited["id"] and edited["data"]["message"]["text"] == "line 0!"
            assert deleted["data"]["message"]["deleted"] is True and deleted["data"]["message"]["seq"] == 1
        # A non-member never hears a word of it.
        assert eve_stream.quiet("message.new", 0.5) == [] and eve_stream.quiet("typing", 0.1) == []
        assert eve_stream.quiet("message.edited", 0.1) == []
    finally:
        for stream in (ada_stream, bob_stream, eve_stream):
            stream.close()


def test_an_api_client_online_shows_as_online(server):
    base, data = server
    ada, bob = Person(base, data, "ada"), Person(base, data, "bob")
    chat_id = ada.post("/chat/new", {"otherUserId": bob.id}).json()["chatId"]
    ada.say(chat_id, "hi")  # presence is shared once both have written
    bob.say(chat_id, "hi")
    ada_stream = Stream(ada)
    try:
        bob_stream = Stream(bob)
        online = ada_stream.next("presence")["data"]
        assert online == {"type": "presence", "userId": bob.id, "online": True, "lastSeen": None}
        bob_stream.close()
    finally:
        ada_stream.close()


def test_a_reconnect_with_last_event_id_loses_and_repeats_nothing(server):
    base, data = server
    ada, bob = Person(base, data, "ada"), Person(base, data, "bob")
    chat = ada.post("/chat/new", {"otherUserId": bob.id}).json()["chatId"]
    first = Stream(bob)
    ada.say(chat, "before the drop")
    seen = first.next("message.new")
    first.close()  # the connection drops
    for n in range(3):
        ada.say(chat, f"while away {n}")
    again = Stream(bob, last_event_id=seen["id"])
    try:
        missed = again.collect("message.new", 3)
        assert texts(missed) == [f"while away {n}" for n in range(3)]
        ada.say(chat, "live again")
        assert texts([again.next("message.new")]) == ["live again"]
        assert again.quiet("message.new", 0.5) == []  # nothing twice
    finally:
        again.close()


def test_a_client_away_too_long_gets_resync_and_sync_brings_it_level(server):
    base, data = server
    ada, bob = Person(base, data, "ada"), Person(base, data, "bob")
    chat = ada.post("/chat/new", {"otherUserId": bob.id}).json()["chatId"]
    first = Stream(bob)
    ada.say(chat, "seen live")
    seen = first.next("message.new")
    first.close()
    token = bob.get("/sync")["next"]
    time.sleep(0.01)
    for n in range(30):  # more than the server keeps (EVENT_REPLAY_MAX=20)
        ada.say(chat, f"missed {n}")
    again = Stream(bob, last_event_id=seen["id"])
    try:
        assert again.next()["event"] == "resync"
    finally:
        again.close()
    page = bob.get("/sync", since=token)
    (delta,) = [c for c in page["chats"] if c["chat"]["id"] == chat]
    got = [m["text"] for m in delta["messages"]]
    # Everything after the token; the token starts a few seconds early, so a message the
    # client already holds may come again (clients keep one per seq).
    assert got[-30:] == [f"missed {n}" for n in range(30)] and set(got[:-30]) <= {"seen live"}
    assert delta["hasMore"] is False and delta["chat"]["unread"] == 31  # "seen live" too: never read
    assert set(delta["readCursors"]) == {ada.id, bob.id}
    # Nothing new since: the next sync brings nothing the client does not hold already.
    later = bob.get("/sync", since=page["next"])
    held = max(m["seq"] for m in delta["messages"])
    assert all(m["seq"] <= held for c in later["chats"] for m in c["messages"])


def test_sync_from_scratch_pages_through_every_chat(server):
    base, data = server
    ada = Person(base, data, "ada")
    friends = [Person(base, data, f"friend{n}") for n in range(3)]
    for friend in friends:
        chat = ada.post("/chat/new", {"otherUserId": friend.id}).json()["chatId"]
        friend.say(chat, f"hello from {friend.id}")
    first = ada.get("/sync", limit=2, perChat=5)
    assert len(first["chats"]) == 2 and first["nextCursor"]
    rest = ada.get("/sync", limit=2, perChat=5, cursor=first["nextCursor"])
    assert len(rest["chats"]) == 1 and rest["nextCursor"] is None
    ids = {c["chat"]["id"] for c in first["chats"] + rest["chats"]}
    assert len(ids) == 3
    bad = ada.client.get("/sync", params={"since": "not-a-token"}, headers=ada.headers)
    assert bad.status_code == 422 and "since" in bad.json()["detail"]


def test_the_stream_ends_when_its_session_ends(server):
    base, data = server
    bob = Person(base, data, "bob")
    stream = Stream(bob)
    try:
        bob.post("/logout", all="true")
        ended = stream.next("session.ended")
        assert ended["data"]["version"] == 1
        assert stream.ended.wait(5)  # the server closed it
    finally:
        stream.close()
    assert bob.client.get("/events", headers=bob.headers).status_code == 401


def test_a_client_that_leaves_a_quiet_stream_frees_its_place_within_a_couple_of_seconds(tmp_path):
    # One stream per user: the next one is 200 only once the server let go of the first.
    # Nothing is sent on the quiet stream (its heartbeat is 15 s away): the server can only
    # have noticed the departure on the connection itself.
    with api(tmp_path, LIMIT_EVENT_STREAMS_PER_USER="1") as base:
        bob = Person(base, tmp_path, "bob")
        first = Stream(bob)
        assert bob.client.get("/events", headers=bob.headers).status_code == 429
        first.close()
        left, status = time.monotonic(), 429
        while status == 429 and time.monotonic() - left < 5:
            with bob.client.stream("GET", "/events", headers=bob.headers) as again:
                status = again.status_code
            time.sleep(0.05)
        assert status == 200 and time.monotonic() - left < 2.0


def test_events_cross_instances_on_redis(tmp_path):
    need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
    shared = {"REDIS_URL": REDIS_URL, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"}
    with api(tmp_path, "one.log", **shared) as one, api(tmp_path, "two.log", **shared) as two:
        ada, bob = Person(one, tmp_path, "ada"), Person(two, tmp_path, "bob")
        chat = ada.post("/chat/new", {"otherUserId": bob.id}).json()["chatId"]
        stream = Stream(bob, base=two)
        try:
            ada.say(chat, "from instance one")
            seen = stream.next("message.new")
            assert texts([seen]) == ["from instance one"]
        finally:
            stream.close()
        ada.say(chat, "while bob was away")
        # The replay log lives in Redis too: the other instance can resume the stream.
        again = Stream(bob, base=one, last_event_id=seen["id"])
        try:
            assert texts([again.next("message.new")]) == ["while bob was away"]
        finally:
            again.close()
