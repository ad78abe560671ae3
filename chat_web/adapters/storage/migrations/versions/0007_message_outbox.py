"""The send path's outbox: `messages.announced` is false from the send's commit until its
message.new event is published, so a message stored by a process that died (or whose
publish failed) before announcing it is found and announced by the relay.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): SQLite keeps the search triggers on the table.
    op.add_column("messages", sa.Column("announced", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_index(
        "ix_messages_unannounced",
        "messages",
        ["created_at"],
        sqlite_where=sa.text("NOT announced"),
        postgresql_where=sa.text("NOT announced"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_unannounced", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("announced")
