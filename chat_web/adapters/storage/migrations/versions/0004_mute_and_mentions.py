"""Mute and mentions: a member can mute a chat (no notifications from it, and it leaves the
unread total); a message keeps the members it mentions, and a member the seq of the latest
message that mentioned them (a mention is unread while that is above their read cursor).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("mention_seq", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("mentions", sa.String(1000), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("mentions")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("mention_seq")
        batch.drop_column("muted")
