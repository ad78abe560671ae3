"""SQLite's hot reads on the driver's own connection (sqlite3), in a reader thread: a page of a
chat that does not read it (MessageRepo.window) and a page of my chats (ChatRepo.listing).

The same use cases as `_window_tx` and `_listing_tx` (chat_web/adapters/storage/sql.py),
statement for statement, without SQLAlchemy's layers: measured on one reader, a page of new
messages cost 333 us of CPU through them and 41 us on sqlite3 (the reader threads share the
GIL with the event loop).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from chat_web.adapters.storage.sql_schema import to_chat, to_member, to_user
from chat_web.adapters.storage.sqlite_rows import fields, message_of, named, stamp
from chat_web.domain import ChatView, Message
from chat_web.domain.sending import ChatListing, Window, with_quotes
from chat_web.ports import ChatKey

_USER = "u.id AS u_id, u.email AS u_email, u.name AS u_name, u.created_at AS u_created_at, " \
        "u.token_version AS u_token_version"  # fmt: skip
_CHAT = ", ".join(
    f"c.{name} AS c_{name}"
    for name in ("id", "kind", "title", "created_by", "created_at", "updated_at", "last_seq", "preview",
                 "preview_sender_id", "last_change")
)  # fmt: skip
_MEMBER_TIMES, _USER_TIMES, _CHAT_TIMES = ("joined_at",), ("created_at",), ("created_at", "updated_at")

CONTEXT = f"""
SELECT m.*, {_USER}, {_CHAT}
FROM members AS m JOIN chats AS c ON c.id = m.chat_id LEFT JOIN users AS u ON u.id = m.user_id
WHERE m.chat_id = ? ORDER BY m.joined_at, m.user_id
"""
PAGE_AFTER = "SELECT * FROM messages WHERE chat_id = ? AND seq > ? ORDER BY seq LIMIT ?"
PAGE_BEFORE = "SELECT * FROM messages WHERE chat_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?"
PAGE_LATEST = "SELECT * FROM messages WHERE chat_id = ? ORDER BY seq DESC LIMIT ?"
CHANGED_AFTER = "SELECT * FROM messages WHERE chat_id = ? AND change > ? ORDER BY change LIMIT ?"
BY_SEQS = "SELECT * FROM messages WHERE chat_id = ? AND seq IN ({})"
CHATS_OF_USER = f"""
SELECT m.*, {_CHAT}
FROM members AS m JOIN chats AS c ON c.id = m.chat_id
WHERE m.user_id = ? {{older}}
ORDER BY c.updated_at DESC, c.id DESC LIMIT ?
"""
CHATS_OLDER = "AND (c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))"
PEOPLE_OF_CHATS = f"""
SELECT m.chat_id, m.user_id, {_USER}
FROM members AS m LEFT JOIN users AS u ON u.id = m.user_id
WHERE m.chat_id IN ({{}}) ORDER BY m.joined_at, m.user_id
"""


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _user(row: sqlite3.Row):
    return to_user(fields(row, "u_", _USER_TIMES)) if row["u_id"] is not None else None


def _quoted(db: sqlite3.Cursor, chat_id: str, messages: list[Message]) -> list[Message]:
    """Each reply's quote, reading the answered messages not in hand in one statement."""
    return with_quotes(
        messages,
        lambda seqs: [
            message_of(row) for row in db.execute(BY_SEQS.format(_marks(len(seqs))), (chat_id, *seqs))
        ],
    )


def window(
    connection: sqlite3.Connection,
    chat_id: str,
    user_id: str,
    limit: int,
    before_seq: int | None,
    after_seq: int | None,
    changed_after: int | None,
    changes_max: int,
) -> Window | None:
    """MessageRepo.window when it does not read the chat (that one writes: `_window_tx`)."""
    db = named(connection)
    rows = db.execute(CONTEXT, (chat_id,)).fetchall()
    if not any(row["user_id"] == user_id for row in rows):
        return None
    chat = to_chat(fields(rows[0], "c_", _CHAT_TIMES), tuple(row["user_id"] for row in rows))
    members = [to_member(fields(row, times=_MEMBER_TIMES)) for row in rows]
    if after_seq is not None:
        page = [message_of(row) for row in db.execute(PAGE_AFTER, (chat_id, after_seq, limit))]
    else:
        found = db.execute(PAGE_LATEST, (chat_id, limit)) if before_seq is None else db.execute(
            PAGE_BEFORE, (chat_id, before_seq, limit)
        )  # fmt: skip
        page = [message_of(row) for row in reversed(found.fetchall())]
    changes = []
    if changed_after is not None and changed_after < chat.last_change:
        found = db.execute(CHANGED_AFTER, (chat_id, changed_after, changes_max))
        changes = [message_of(row) for row in found]
    quoted = _quoted(db, chat_id, [*page, *changes])
    people = {user.id: user for row in rows if (user := _user(row)) is not None}
    return Window(chat, members, people, quoted[: len(page)], quoted[len(page) :], None)


def listing(
    connection: sqlite3.Connection, user_id: str, limit: int, older_than: ChatKey | None
) -> ChatListing:
    """ChatRepo.listing: my chats, latest activity first, with their members' users."""
    db = named(connection)
    if older_than is None:
        rows = db.execute(CHATS_OF_USER.format(older=""), (user_id, limit)).fetchall()
    else:
        at, last_id = stamp(older_than[0]), older_than[1]
        rows = db.execute(
            CHATS_OF_USER.format(older=CHATS_OLDER), (user_id, at, at, last_id, limit)
        ).fetchall()
    members: dict[str, list[str]] = defaultdict(list)
    people = {}
    if rows:
        chat_ids = [row["c_id"] for row in rows]
        for row in db.execute(PEOPLE_OF_CHATS.format(_marks(len(chat_ids))), chat_ids):
            members[row["chat_id"]].append(row["user_id"])
            if (user := _user(row)) is not None:
                people[user.id] = user
    views = [
        ChatView(
            to_chat(fields(row, "c_", _CHAT_TIMES), tuple(members[row["c_id"]])),
            to_member(fields(row, times=_MEMBER_TIMES)),
        )
        for row in rows
    ]
    return ChatListing(views, people)
