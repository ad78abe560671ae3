"""Users, chats, members and messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        _utc("created_at"),
    )
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    op.create_index("ix_users_name", "users", ["name"])

    op.create_table(
        "chats",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("title", sa.String(80), nullable=True),
        sa.Column("direct_key", sa.String(80), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("preview", sa.String(200), nullable=False, server_default=""),
        sa.Column("preview_sender_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_chats_direct_key", "chats", ["direct_key"], unique=True)
    op.create_index("ix_chats_updated_at", "chats", ["updated_at"])

    op.create_table(
        "members",
        sa.Column("chat_id", sa.String(32), sa.ForeignKey("chats.id"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("last_read_seq", sa.Integer, nullable=False, server_default="0"),
        _utc("joined_at"),
    )
    op.create_index("ix_members_user_id", "members", ["user_id"])

    op.create_table(
        "messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("chat_id", sa.String(32), sa.ForeignKey("chats.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("sender_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("image_url", sa.String(1000), nullable=True),
        sa.Column("image_public_id", sa.String(300), nullable=True),
        sa.Column("image_width", sa.Integer, nullable=True),
        sa.Column("image_height", sa.Integer, nullable=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        _utc("created_at"),
        _utc("edited_at", nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("chat_id", "seq", name="uq_messages_chat_seq"),
        sa.UniqueConstraint("chat_id", "client_id", "sender_id", name="uq_messages_client_id"),
    )
    op.create_index("ix_messages_sender", "messages", ["sender_id"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("members")
    op.drop_table("chats")
    op.drop_table("users")
