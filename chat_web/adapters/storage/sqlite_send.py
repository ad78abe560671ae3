"""SQLite's send on the driver's own connection (sqlite3), in the writer's transaction.

The same use case as `_send_tx` (chat_web/adapters/storage/sql.py), statement for statement,
without SQLAlchemy's layers around each statement. The writer thread is the one place every
send of the process waits for: under the API load it spent ~3.9 ms a send (SQLAlchemy's
Python per statement, with the event loop holding the GIL between them), and the sends
queued behind it (p50 770 ms, where the reads took 10 ms).

Datetimes are written and read as SQLAlchemy keeps them in SQLite (sqlite_rows.py).
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace

from chat_web.adapters.storage.sql_schema import attachment_to_json, to_message
from chat_web.adapters.storage.sqlite_rows import message_of, named, stamp
from chat_web.domain import Conflict, Forbidden, Message, NewMessage, NotFound, preview_of, quote_of
from chat_web.domain.sending import (
    ACCOUNT_GONE,
    BLOCKED,
    NOT_A_MEMBER,
    REPLY_DELETED,
    REPLY_MISSING,
    MentionFinder,
    Sent,
    seen_range,
)

CONTEXT = """
SELECT m.user_id, m.last_read_seq, m.has_sent, c.kind,
       (SELECT s.id FROM messages AS s
        WHERE s.chat_id = :chat AND s.client_id = :client AND s.sender_id = :sender) AS stored_id,
       EXISTS (SELECT 1 FROM blocks AS b
               WHERE b.blocker_id = m.user_id AND b.blocked_id = :sender) AS blocks_sender,
       c.kind = 'direct' AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = m.user_id) AS gone
FROM members AS m JOIN chats AS c ON c.id = m.chat_id
WHERE m.chat_id = :chat
ORDER BY m.joined_at, m.user_id
"""
BY_ID = "SELECT * FROM messages WHERE id = ?"
BY_SEQ = "SELECT * FROM messages WHERE chat_id = ? AND seq = ?"
NEXT_SEQ = """
UPDATE chats SET last_seq = last_seq + 1, updated_at = :now, preview = :preview, preview_sender_id = :sender
WHERE id = :chat RETURNING last_seq
"""
INSERT = """
INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, image_url, image_public_id, image_width,
                      image_height, client_id, created_at, edited_at, deleted, seen_at, change, reply_to,
                      reactions, mentions, announced, attachment)
VALUES (:id, :chat_id, :seq, :sender_id, :kind, :text, :image_url, :image_public_id, :image_width,
        :image_height, :client_id, :created_at, NULL, 0, NULL, 0, :reply_to, '', :mentions, 0,
        :attachment)
"""
SENDER_READ = "UPDATE members SET last_read_seq = ?, has_sent = 1 WHERE chat_id = ? AND user_id = ?"
NAMES = "SELECT id, name FROM users WHERE id IN ({})"
MARK_MENTIONED = "UPDATE members SET mention_seq = ? WHERE chat_id = ? AND user_id IN ({})"
# Everything up to the lowest read cursor is read by all (the floor read in the same statement).
STAMP_SEEN = """
UPDATE messages SET seen_at = ?
WHERE chat_id = ? AND seq > ? AND seen_at IS NULL
  AND seq <= (SELECT min(last_read_seq) FROM members WHERE chat_id = ?)
"""


def _answered(db: sqlite3.Cursor, chat_id: str, seq: int) -> Message | None:
    row = db.execute(BY_SEQ, (chat_id, seq)).fetchone()
    return message_of(row) if row is not None else None


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def send(
    connection: sqlite3.Connection, message: NewMessage, mentions: MentionFinder | None, now: datetime
) -> Sent:
    """The send use case (MessageRepo.send) in the connection's write transaction (BEGIN IMMEDIATE)."""
    db = named(connection)
    chat_id, sender = message.chat_id, message.sender_id
    context = db.execute(CONTEXT, {"chat": chat_id, "client": message.client_id, "sender": sender}).fetchall()
    member_ids = tuple(row["user_id"] for row in context)
    if context and context[0]["stored_id"] is not None:  # a retry: idempotency before every check
        stored = message_of(db.execute(BY_ID, (context[0]["stored_id"],)).fetchone())
        answered = _answered(db, chat_id, stored.reply_to) if stored.reply_to else None
        quoted = replace(stored, quote=quote_of(answered)) if answered is not None else stored
        return Sent(quoted, False, member_ids, False)
    me = next((row for row in context if row["user_id"] == sender), None)
    if me is None:
        raise Forbidden(NOT_A_MEMBER)
    if any(row["gone"] for row in context):
        raise Forbidden(ACCOUNT_GONE)
    if context[0]["kind"] == "direct" and any(row["blocks_sender"] for row in context):
        raise Forbidden(BLOCKED)
    quote = None
    if message.reply_to:
        original = _answered(db, chat_id, message.reply_to)
        if original is None:
            raise NotFound(REPLY_MISSING)
        if original.deleted:
            raise Conflict(REPLY_DELETED)
        quote = quote_of(original)
    if mentions is not None and context[0]["kind"] == "group":
        people = db.execute(NAMES.format(_marks(len(member_ids))), member_ids).fetchall()
        message = replace(message, mention_ids=mentions([(row["id"], row["name"]) for row in people]))
    at = stamp(now)
    bump = {"chat": chat_id, "now": at, "preview": preview_of(message), "sender": sender}
    (seq,) = db.execute(NEXT_SEQ, bump).fetchone()
    image = message.image
    row = {
        "id": uuid.uuid4().hex,
        "chat_id": chat_id,
        "seq": seq,
        "sender_id": sender,
        "kind": message.kind,
        "text": message.text,
        "image_url": image.url if image else None,
        "image_public_id": image.public_id if image else None,
        "image_width": image.width if image else None,
        "image_height": image.height if image else None,
        "client_id": message.client_id,
        "created_at": at,
        "reply_to": message.reply_to,
        "mentions": " ".join(message.mention_ids),
        "attachment": attachment_to_json(message),
    }
    db.execute(INSERT, row)
    db.execute(SENDER_READ, (seq, chat_id, sender))
    before = me["last_read_seq"]
    if before < seq - 1:  # answering reads what came before: "seen" may complete
        cursors = {r["user_id"]: r["last_read_seq"] for r in context}
        if (floors := seen_range(cursors, sender, before, seq)) is not None:
            db.execute(STAMP_SEEN, (at, chat_id, floors[0], chat_id))
    if message.mention_ids:
        mentioned = message.mention_ids
        db.execute(MARK_MENTIONED.format(_marks(len(mentioned))), (seq, chat_id, *mentioned))
    stored = to_message(
        SimpleNamespace(
            **{**row, "created_at": now},
            edited_at=None,
            deleted=False,
            seen_at=None,
            change=0,
            reactions="",
        )
    )
    others_sent = all(r["has_sent"] for r in context if r["user_id"] != sender)
    opened = context[0]["kind"] == "direct" and not me["has_sent"] and others_sent
    return Sent(replace(stored, quote=quote), True, member_ids, False, opened)
