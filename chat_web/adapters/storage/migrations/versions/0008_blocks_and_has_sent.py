"""Blocking and presence by exchange: `blocks` holds who blocked whom (a blocked person cannot
message the blocker in their direct chat, add them to groups, see their presence or find
them); `members.has_sent` says a member has sent a message in that chat (a direct chat where
both have sent shows each one's presence to the other). Filled from the messages stored.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.String(32), primary_key=True),
        sa.Column("blocked_id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_blocks_blocked_id", "blocks", ["blocked_id"])
    # A plain ADD COLUMN (no batch copy of members).
    op.add_column("members", sa.Column("has_sent", sa.Boolean, nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE members SET has_sent = TRUE WHERE EXISTS (SELECT 1 FROM messages AS m"
        " WHERE m.chat_id = members.chat_id AND m.sender_id = members.user_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("has_sent")
    op.drop_index("ix_blocks_blocked_id", table_name="blocks")
    op.drop_table("blocks")
