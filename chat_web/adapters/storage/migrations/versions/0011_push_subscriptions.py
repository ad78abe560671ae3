"""Web Push: `push_subscriptions` holds each browser's subscription (its id derived from the
endpoint); `push_claims` records which message went to which subscription, so a message
announced twice or a worker restarted never pushes twice (old claims are pruned).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_push_subscriptions_user_id", "push_subscriptions", ["user_id"])
    op.create_table(
        "push_claims",
        sa.Column("message_id", sa.String(32), primary_key=True),
        sa.Column("subscription_id", sa.String(32), primary_key=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_push_claims_claimed_at", "push_claims", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_push_claims_claimed_at", table_name="push_claims")
    op.drop_table("push_claims")
    op.drop_index("ix_push_subscriptions_user_id", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
