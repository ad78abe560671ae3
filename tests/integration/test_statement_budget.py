"""What one request costs the database, counted (not timed): SQL statements and connection
checkouts per route on SQLite and PostgreSQL, against a budget. Load cannot change these
numbers, so the test holds on any machine; a change that adds a round trip fails here.

Budgets (README "The cost of one request"): every route at most one connection checkout,
the session check included (the token version is cached per process).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from chat_web import container
from tests.integration.conftest import new_session


@dataclass
class Counts:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0


@contextlib.contextmanager
def counting():
    """Count what the app's storage engines do inside the block."""
    db = container.current().store.db
    engines = {id(e.sync_engine): e.sync_engine for e in (db.engine, db.writer)}.values()
    counts = Counts()

    def on_statement(_conn, _cursor, statement, *_args):
        counts.statements.append(" ".join(statement.split())[:80])

    def on_checkout(*_args):
        counts.checkouts += 1

    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield counts
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_statement)
            event.remove(engine.pool, "checkout", on_checkout)


# route -> (most statements, most checkouts); BEGIN/COMMIT are not statements the driver runs
BUDGET = {
    "send": (6, 1),
    "after_seq": (3, 1),
    "open_unread": (8, 1),
    "chat_list": (3, 1),
}


async def measure(client, request) -> Counts:
    with counting() as counts:
        response = await request()
    assert response.status_code < 300, response.text
    return counts


@pytest.fixture
async def talking(client, settings, pair):
    """Ann and Bob mid-conversation: each has sent, and Bob has unread messages."""
    ann, bob, chat_id = pair
    # The relay marks announced messages in batches off the request path: not this count.
    await container.current().chats.announcer.stop()
    for i, who in enumerate((ann, bob, ann, ann)):
        body = {"chatId": chat_id, "text": f"message {i}", "clientId": f"warm-{i}"}
        assert (await client.post("/message", json=body, headers=who["headers"])).status_code == 201
    # Warm: the first request of a session may load what is then cached.
    await client.get("/chat/all", headers=bob["headers"])
    await client.get("/chat/all", headers=ann["headers"])
    return ann, bob, chat_id


def within(counts: Counts, route: str) -> None:
    most_statements, most_checkouts = BUDGET[route]
    detail = (
        f"{route}: {len(counts.statements)} statements, {counts.checkouts} checkouts: {counts.statements}"
    )
    assert len(counts.statements) <= most_statements and counts.checkouts <= most_checkouts, detail


async def test_a_send_is_a_few_statements_on_one_connection(client, talking):
    ann, _, chat_id = talking
    body = {"chatId": chat_id, "text": "counted", "clientId": "counted-1"}
    counts = await measure(client, lambda: client.post("/message", json=body, headers=ann["headers"]))
    within(counts, "send")


async def test_a_retried_send_is_one_statement_more_at_most(client, talking):
    ann, _, chat_id = talking
    body = {"chatId": chat_id, "text": "again", "clientId": "warm-0"}
    counts = await measure(client, lambda: client.post("/message", json=body, headers=ann["headers"]))
    within(counts, "send")


async def test_reading_what_is_new_is_one_connection(client, talking):
    _, bob, chat_id = talking
    url = f"/message/{chat_id}?after_seq=1&limit=50"
    within(await measure(client, lambda: client.get(url, headers=bob["headers"])), "after_seq")


async def test_opening_the_latest_page_with_unread_messages_is_one_connection(client, talking):
    _, bob, chat_id = talking
    url = f"/message/{chat_id}?limit=50"
    within(await measure(client, lambda: client.get(url, headers=bob["headers"])), "open_unread")


async def test_listing_my_chats_is_one_connection(client, talking, settings):
    _, bob, _ = talking
    other = await new_session(client, settings, "cy")
    await client.post("/chat/new", json={"otherUserId": other["user"]["id"]}, headers=bob["headers"])
    await client.get("/chat/all", headers=bob["headers"])
    within(
        await measure(client, lambda: client.get("/chat/all?limit=20", headers=bob["headers"])), "chat_list"
    )
