"""Edits, deletions and reactions: a per-chat change count, and on each message the count
of its latest change, so a reader catches up on what changed after the change it last saw;
a message's reactions kept on it as JSON (who reacted with what), read with the message;
and the seq of the message a reply answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("last_change", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("change", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("reactions", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("reply_to", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_messages_chat_change", "messages", ["chat_id", "change"])


def downgrade() -> None:
    op.drop_index("ix_messages_chat_change", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("reply_to")
        batch.drop_column("reactions")
        batch.drop_column("change")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("last_change")
