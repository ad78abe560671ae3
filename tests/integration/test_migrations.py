"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from chat_web.adapters.storage import sql_schema  # noqa: F401  (registers the tables)
from chat_web.adapters.storage.sql import MIGRATIONS, SqlDatabase, SqlStore, search_migration
from chat_web.domain import NewMessage
from chat_web.domain.search import search_terms
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
        ada = await store.users.get_or_create("ada@example.com", "Ada")
        bob = await store.users.get_or_create("bob@example.com", "Bob")
        chat = await store.chats.get_or_create_direct(ada.id, bob.id)
        old, _ = await store.messages.append(
            NewMessage(chat_id=chat.id, sender_id=ada.id, kind="text", text="The Zeppelin lands at noon")
        )
        await db.migrate()  # to the latest revision, as the app does at start
        assert [h.message.id for h in await store.messages.search(bob.id, search_terms("zeppelin"), 10)] == [
            old.id
        ]
        new, _ = await store.messages.append(
            NewMessage(chat_id=chat.id, sender_id=bob.id, kind="text", text="zeppelin spotted")
        )
        hits = await store.messages.search(ada.id, search_terms("ZEPPELIN"), 10)
        assert [h.message.id for h in hits] == [new.id, old.id]
        # And back down and up again: the downgrade leaves nothing behind that the upgrade trips on.
        await _alembic(db, command.downgrade, BEFORE_SEARCH)
        await db.migrate()
        assert len(await store.messages.search(ada.id, search_terms("zeppelin"), 10)) == 2
    finally:
        await db.close()
