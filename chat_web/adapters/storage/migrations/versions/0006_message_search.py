"""Full-text search over message texts, each backend with its own engine.

SQLite: an FTS5 table over messages.text (external content: the text is stored once, in
messages), kept in step by triggers; it indexes chat_id too, so that "these words, in
these chats" is one FTS5 query (doclists merged in the engine, not a row lookup per match).
PostgreSQL: a stored tsvector column and a GIN index, and an index to read a chat newest first.
Both tokenize the way chat_web.domain.search does: runs of letters and digits, any case,
no stemming, no stop words. Messages already stored are indexed by the upgrade itself.

SQLite caveat: the FTS table follows messages by rowid. VACUUM, or a batch migration that
copies the messages table, may renumber rowids: afterwards run
`INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')` (and recreate the triggers).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Anything but letters and digits separates words, as in chat_web.domain.search.
PG_SEARCH_VECTOR = "to_tsvector('simple'::regconfig, regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))"

_SQLITE_TABLE = [
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, chat_id, content='messages', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 0 separators _')""",
]
SQLITE_TRIGGERS = [
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, text, chat_id) VALUES (new.rowid, new.text, new.chat_id);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text, chat_id)
            VALUES ('delete', old.rowid, old.text, old.chat_id);
    END""",
    # Only a change of the text touches the index (not seen_at stamps or flags).
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, chat_id ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text, chat_id)
            VALUES ('delete', old.rowid, old.text, old.chat_id);
        INSERT INTO messages_fts(rowid, text, chat_id) VALUES (new.rowid, new.text, new.chat_id);
    END""",
]
SQLITE_REBUILD = "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')"
_SQLITE_UP = [*_SQLITE_TABLE, *SQLITE_TRIGGERS, SQLITE_REBUILD]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
]

# fastupdate off: a new message goes straight into the index instead of a pending list
# that every search would have to read through until the next vacuum.
PG_GIN_INDEX = "CREATE INDEX ix_messages_search ON messages USING gin (search_vector) WITH (fastupdate = off)"

_POSTGRES_UP = [
    # A generated column: every insert and text change keeps it in step, and adding it
    # computes it for the messages already there.
    f"ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_SEARCH_VECTOR}) STORED",
    PG_GIN_INDEX,
    # Newest first within one chat: a common word is found by reading my chats backwards,
    # a few rows each, instead of every match in the database.
    "CREATE INDEX ix_messages_search_recent ON messages (chat_id, created_at DESC, id DESC)",
]

_POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_messages_search_recent",
    "DROP INDEX IF EXISTS ix_messages_search",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(_SQLITE_UP if dialect == "sqlite" else _POSTGRES_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(_SQLITE_DOWN if dialect == "sqlite" else _POSTGRES_DOWN)
