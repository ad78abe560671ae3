"""Message search while typing: SQLite's FTS5 table gets prefix indexes of 2 and 3 characters.

The last word of a query matches the start of a word (`pin` finds "pinned"). Without a prefix
index FTS5 answers `"pi" *` by merging the lists of every word that starts with `pi` (for a
two-letter start of common words, most of the table) before it can return the newest page;
with one, the start is a word of the index like any other, read newest first and stopped
after a page (a longer start is asked by its first 3 characters, see sql.py's
_FTS_PREFIX_MAX). FTS5 cannot change the option of
an existing table: the table is created again with it, and rebuilt from the messages stored
(the triggers are recreated with it, as in 0006). PostgreSQL needs nothing: its GIN index
answers `word:*` already.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_DROP = [
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
]


def _table(options: str) -> str:
    return f"""CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, chat_id, content='messages', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 0 separators _'{options})"""


_TRIGGERS = [
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, text, chat_id) VALUES (new.rowid, new.text, new.chat_id);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text, chat_id)
            VALUES ('delete', old.rowid, old.text, old.chat_id);
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, chat_id ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text, chat_id)
            VALUES ('delete', old.rowid, old.text, old.chat_id);
        INSERT INTO messages_fts(rowid, text, chat_id) VALUES (new.rowid, new.text, new.chat_id);
    END""",
]
_REBUILD = "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')"


def _recreate(options: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in [*_DROP, _table(options), *_TRIGGERS, _REBUILD]:
        op.execute(statement)


def upgrade() -> None:
    _recreate(", prefix='2 3'")


def downgrade() -> None:
    _recreate("")
