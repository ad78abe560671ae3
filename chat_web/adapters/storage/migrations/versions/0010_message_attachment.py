"""Files and voice messages: a message's attachment (its url, id, name, size, type and a
voice message's length) as one JSON text column, read with the message like its reactions.
Nothing queries inside it, so one nullable column serves both kinds; the `kind` column
(8 characters) already holds `file` and `voice`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both dialects: SQLite's batch mode would copy the table and lose
    # the search index's triggers.
    op.add_column("messages", sa.Column("attachment", sa.Text, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN too (SQLite 3.35+), for the same reason.
    op.execute("ALTER TABLE messages DROP COLUMN attachment")
