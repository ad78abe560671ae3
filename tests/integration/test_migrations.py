"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from chat_web.adapters.storage import sql_schema  # noqa: F401  (registers the tables)
from chat_web.adapters.storage.sql import SqlDatabase


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    return request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+asyncpg://")


async def test_migrated_schema_matches_the_models(database_url):
    db = SqlDatabase(database_url)
    await db.migrate()
    await db.migrate()  # idempotent: a second start changes nothing
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )
    await db.close()
    assert diff == []
