"""Alembic environment: run by SqlDatabase.migrate() on a connection it hands over."""

from alembic import context
from sqlmodel import SQLModel

from chat_web.adapters.storage import sql_schema  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
