"""What one request costs the database, counted (not timed): round trips (SQL statements, and
on PostgreSQL each transaction's BEGIN and COMMIT) and connection checkouts per route on SQLite
and PostgreSQL, against a budget. Load cannot change these numbers, so the test holds on any
machine; a change that adds a round trip fails here.

Budgets (README "What one request costs the database"): every route at most one connection
checkout, the session check included (the token version is cached per process).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from chat_web import container
from tests.integration.conftest import new_session, settings_for


@dataclass
class Counts:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0
    transactions: int = 0  # PostgreSQL transactions (a BEGIN and a COMMIT each); autocommit has none

    @property
    def round_trips(self) -> int:
        """What the database is asked: its statements, and each transaction's BEGIN and COMMIT."""
        return len(self.statements) + 2 * self.transactions


def engines_of(db) -> tuple[list, list]:
    """The engines the store runs statements on, as (async engines, SQLite's blocking ones):
    on SQLite the hot use cases run on the driver's own connections (one thread hop each),
    some on sqlite3 itself (chat_web/adapters/storage/sqlite_send.py)."""
    engines = list({id(e): e for e in (db.engine.sync_engine, db.writer.sync_engine)}.values())
    return engines, [getattr(db, name) for name in ("_sync_writer", "_sync_reader") if hasattr(db, name)]


@contextlib.contextmanager
def counting():
    """Count what the app's storage engines do inside the block."""
    db = container.current().store.db
    counts = Counts()

    def on_statement(_conn, _cursor, statement, *_args):
        counts.statements.append(" ".join(statement.split())[:80])

    def on_checkout(*_args):
        counts.checkouts += 1

    def on_begin(conn):
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        if conn.dialect.name == "postgresql" and not autocommit:
            counts.transactions += 1

    last_traced = [""]

    def on_sqlite(statement: str) -> None:
        # A trigger's program is reported too, as "-- TRIGGER name" or (Python 3.11 expands it)
        # with its triggering statement's text again: it is part of that statement.
        if statement.startswith("--"):
            return
        head = statement.split("(", 1)[0]  # INSERT INTO messages
        if head != last_traced[0]:
            on_statement(None, None, statement)
        last_traced[0] = head

    def traced(dbapi_connection, *_args):
        dbapi_connection.set_trace_callback(on_sqlite)

    def untraced(dbapi_connection, *_args):
        dbapi_connection.set_trace_callback(None)

    engines, blocking = engines_of(db)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine, "begin", on_begin)
        event.listen(engine.pool, "checkout", on_checkout)
    # Every statement sqlite3 runs on them (COMMIT too), whoever issued it.
    for engine in blocking:
        event.listen(engine.pool, "checkout", on_checkout)
        event.listen(engine.pool, "checkout", traced)
        event.listen(engine.pool, "checkin", untraced)
    direct = getattr(db, "direct", None)  # PostgreSQL's hot use cases on asyncpg's pool
    if direct is not None:
        for name in ("fetch", "fetchrow"):
            setattr(direct, name, counted(getattr(direct, name), on_statement, on_checkout))
    try:
        yield counts
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_statement)
            event.remove(engine, "begin", on_begin)
            event.remove(engine.pool, "checkout", on_checkout)
        for engine in blocking:
            event.remove(engine.pool, "checkout", on_checkout)
            event.remove(engine.pool, "checkout", traced)
            event.remove(engine.pool, "checkin", untraced)
        if direct is not None:
            for name in ("fetch", "fetchrow"):
                delattr(direct, name)  # the class's own again


def counted(fetch, on_statement, on_checkout):
    """A PgPool fetch that is counted: one statement on one connection of the pool, autocommit."""

    async def fetch_counted(statement, *args):
        on_checkout()
        on_statement(None, None, statement)
        return await fetch(statement, *args)

    return fetch_counted


# route -> (most round trips, most checkouts) on (SQLite, PostgreSQL). SQLite's "round trips"
# are its statements (BEGIN IMMEDIATE and COMMIT included): it runs in process, one thread
# hop a use case.
BUDGET = {
    # PostgreSQL: one statement in autocommit (chat_web/adapters/storage/pg_send.py); SQLite:
    # BEGIN IMMEDIATE, the checks, seq, insert, cursor (and the seen stamp), COMMIT, one hop.
    "send": ((7, 1), (1, 1)),
    # PostgreSQL: the members, the page, the changes and the quotes in one statement (pg_reads.py)
    "after_seq": ((3, 1), (1, 1)),
    "open_unread": ((9, 1), (8, 1)),
    "chat_list": ((3, 1), (1, 1)),
}


async def measure(client, request) -> Counts:
    with counting() as counts:
        response = await request()
    assert response.status_code < 300, response.text
    return counts


@pytest.fixture(params=["sqlite", "postgresql"])
async def settings(request, tmp_path):
    # The push decision runs on a task of its own after a send (one SELECT of the members'
    # subscriptions) and would land in these counts at random: push is off here, and
    # benchmarks/push.py measures what it costs a send.
    return settings_for(request, request.param, tmp_path).model_copy(update={"push_enabled": False})


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
    backend = container.current().store.db.backend
    most_trips, most_checkouts = BUDGET[route][backend == "postgresql"]
    detail = (
        f"{route} on {backend}: {counts.round_trips} round trips ({len(counts.statements)} statements, "
        f"{counts.transactions} transactions), {counts.checkouts} checkouts: {counts.statements}"
    )
    assert counts.round_trips <= most_trips and counts.checkouts <= most_checkouts, detail


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
