"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from chat_web.adapters.storage import sql_schema  # noqa: F401  (registers the tables)
from chat_web.adapters.storage.sql import MIGRATIONS, SqlDatabase, SqlStore, search_migration
from chat_web.domain import NewMessage
from chat_web.domain.search import search_query
from tests.support.postgres import temporary_database

# Each backend's own full-text index (the message_search migration) lives outside the models: the FTS5
# table and its shadow tables on SQLite, a generated tsvector column and its GIN index on
# PostgreSQL. test_upgrade_indexes_the_messages_already_stored checks them instead.
# The revision before search: what an existing database was at.
BEFORE_SEARCH = search_migration().down_revision
SEARCH_OBJECTS = ("messages_fts", "search_vector", "ix_messages_search")  # prefixes


def _not_search(_object, name, _type, _reflected, _compare_to) -> bool:
    return not (name or "").startswith(SEARCH_OBJECTS)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    return request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+asyncpg://")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A database nothing has migrated yet (on PostgreSQL, not the session's shared one)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    with temporary_database(request.getfixturevalue("postgres_url"), "chat_migrate") as url:
        yield url.replace("postgresql://", "postgresql+asyncpg://")


async def test_migrated_schema_matches_the_models(database_url):
    db = SqlDatabase(database_url)
    await db.migrate()
    await db.migrate()  # idempotent: a second start changes nothing
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_object": _not_search}), SQLModel.metadata
            )
        )
    await db.close()
    assert diff == []


async def _alembic(db: SqlDatabase, action, revision: str) -> None:
    def run(connection) -> None:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        action(config, revision)

    async with db.engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


async def test_upgrade_indexes_the_messages_already_stored(empty_database_url):
    db = SqlDatabase(empty_database_url)
    store = SqlStore(db)
    try:
        await _alembic(db, command.upgrade, BEFORE_SEARCH)  # a database from before search
        # Written in that revision's columns (today's repositories name columns added since).
        now = datetime.now(UTC)
        async with db.engine.begin() as conn:
            for user_id, name in (("ada", "Ada"), ("bob", "Bob")):
                await conn.execute(
                    text("INSERT INTO users (id, email, name, created_at) VALUES (:id, :email, :name, :at)"),
                    {"id": user_id, "email": f"{user_id}@example.com", "name": name, "at": now},
                )
            await conn.execute(
                text(
                    "INSERT INTO chats (id, kind, direct_key, created_by, created_at, updated_at, last_seq)"
                    " VALUES ('c1', 'direct', 'ada:bob', 'ada', :at, :at, 1)"
                ),
                {"at": now},
            )
            for user_id in ("ada", "bob"):
                await conn.execute(
                    text(
                        "INSERT INTO members (chat_id, user_id, last_read_seq, joined_at)"
                        " VALUES ('c1', :u, 0, :at)"
                    ),
                    {"u": user_id, "at": now},
                )
            await conn.execute(
                text(
                    "INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, created_at)"
                    " VALUES ('m1', 'c1', 1, 'ada', 'text', 'The Zeppelin lands at noon', :at)"
                ),
                {"at": now},
            )
        await db.migrate()  # to the latest revision, as the app does at start
        ada, bob = await store.users.get("ada"), await store.users.get("bob")
        chat, old = await store.chats.get("c1"), await store.messages.get("c1", "m1")
        # 0008 marks who has sent where: Ada had, so Bob's first message makes an exchange.
        assert await store.chats.presence_contacts(ada.id) == set()
        assert [h.message.id for h in await store.messages.search(bob.id, search_query("zeppelin"), 10)] == [
            old.id
        ]
        new, _ = await store.messages.append(
            NewMessage(chat_id=chat.id, sender_id=bob.id, kind="text", text="zeppelin spotted")
        )
        hits = await store.messages.search(ada.id, search_query("ZEPPELIN"), 10)
        assert [h.message.id for h in hits] == [new.id, old.id]
        assert await store.chats.presence_contacts(ada.id) == {bob.id}
        # And back down and up again: the downgrade leaves nothing behind that the upgrade trips on.
        await _alembic(db, command.downgrade, BEFORE_SEARCH)
        await db.migrate()
        assert len(await store.messages.search(ada.id, search_query("zeppelin"), 10)) == 2
    finally:
        await db.close()


async def test_the_prefix_indexes_are_built_from_the_messages_already_stored(tmp_path):
    """0009 creates SQLite's FTS5 table again with prefix indexes, from the stored messages."""
    db = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path / 'prefix.db'}")
    store = SqlStore(db)

    async def fts_table() -> str:
        async with db.engine.connect() as conn:
            return (
                await conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'")
            ).scalar()

    try:
        await _alembic(db, command.upgrade, "0008")
        await db.migrate()  # a store of today's revision to write through
        ada = await store.users.get_or_create("ada@example.com", "Ada")
        bob = await store.users.get_or_create("bob@example.com", "Bob")
        chat = await store.chats.get_or_create_direct(ada.id, bob.id)
        # Stored through today's columns, then back to before the prefixes (0011 to 0009 undone).
        old, _ = await store.messages.append(
            NewMessage(chat_id=chat.id, sender_id=ada.id, kind="text", text="The Zeppelin lands")
        )
        await _alembic(db, command.downgrade, "0008")
        assert "prefix" not in await fts_table()
        await _alembic(db, command.upgrade, "0009")
        assert "prefix='2 3'" in await fts_table()
        await db.migrate()  # the revisions after 0009 (today's repositories read their columns)
        for typed in ("ze", "zep", "zeppelin", "the zepp"):
            assert [h.message.id for h in await store.messages.search(bob.id, search_query(typed), 10)] == [
                old.id
            ], typed
        new, _ = await store.messages.append(
            NewMessage(chat_id=chat.id, sender_id=bob.id, kind="text", text="zeppelins everywhere")
        )
        hits = await store.messages.search(ada.id, search_query("ZE"), 10)
        assert [h.message.id for h in hits] == [new.id, old.id]
        # Down again: the plain table, rebuilt, still answers prefixes (without an index of them).
        await _alembic(db, command.downgrade, "0008")
        assert "prefix" not in await fts_table()
        # Asked directly: today's repositories read columns that 0008 does not have.
        async with db.engine.connect() as conn:
            found = await conn.exec_driver_sql(
                "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'text : (\"zep\" *)'"
            )
            assert found.scalar() == 2
    finally:
        await db.close()
