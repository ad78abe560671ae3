"""The lean floor of the API load benchmark: the same three routes, the same work, the least code.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mydb JWT_SECRET=... \\
        python -m granian --interface asgi --workers 1 benchmarks.lean_floor:app

A raw ASGI app (no framework) serving what benchmarks/api_load.py's client loop asks for, with
the same request and response shapes as chat_web (chat_web/api/chats.py, chat_schemas.py):

* POST /api/v1/message {chatId, text, clientId}: 201 with the message, 200 with the stored one
  for a repeated clientId;
* GET /api/v1/message/{chatId}?after_seq=&limit=: what came after after_seq, oldest first;
* GET /api/v1/chat/all?limit=&cursor=: my chats, latest activity first.

The same guarantees as the app, on the app's own schema (its Alembic migrations run at start):

* a Bearer JWT with the claims of chat_web/services/tokens.py, and the user's token version,
  read from storage once per user and then cached in this process (this floor has no
  sign-out route, so nothing invalidates it; the app must, through its fan-out);
* membership checked inside the statement: an outsider gets 403 and changes nothing;
* a gap-free seq: the chat row is incremented first (its lock queues sends to one chat) and
  a failed insert rolls the increment back;
* an idempotent clientId: the unique index (chat_id, client_id, sender_id) holds; a retry
  gets the stored message (200), costs no limit, and stores nothing;
* read marking: a send moves the sender's last_read_seq to the new seq, an after_seq read
  moves the reader's to the last seq it returns, and both stamp seen_at on the messages that
  every member has now read (the range between the old and the new read floor only);
* the per-user message limits counted as the app counts them without Redis: fixed windows in
  process (LIMIT_MESSAGES_PER_10_SECONDS, LIMIT_MESSAGES_PER_HOUR), hits given back when
  the send stored nothing.

PostgreSQL (asyncpg, a pool): one statement per request, a CTE chain. SQLite (sqlite3): one
writer connection on a thread of its own, one transaction per request (BEGIN IMMEDIATE, a
few statements, one thread hop); the chat list reads on a second connection and thread.
Not served, because the benchmark does not use them: images, replies (replyTo), mentions
(groups only), before_seq and changed_after pages.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import jwt

PREFIX = "/api/v1"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TEXT_MAX, CLIENT_ID_MAX, PAGE_DEFAULT, PAGE_MAX, SEQ_MAX = 4000, 64, 50, 100, 2**31 - 1
PREVIEW_CHARS = 120
BODY_MAX = 64 * 1024
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores datetimes in SQLite


class Refused(Exception):
    def __init__(self, status: int, detail: str, headers: tuple = ()):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


# --- the session: a JWT and the user's token version ---------------------------------------------


def mint(
    secret: str, user_id: str, version: int = 0, issuer: str = "chat_web", audience: str = "chat_web"
) -> str:  # noqa: E501
    """A session token with the claims chat_web's TokenService issues."""
    now = datetime.now(UTC)
    claims = {"sub": user_id, "ver": version, "iss": issuer, "aud": audience, "iat": now,
              "exp": now + timedelta(days=1)}  # fmt: skip
    return jwt.encode(claims, secret, algorithm="HS256")


class Sessions:
    def __init__(self, secret: str, issuer: str, audience: str, store):
        self.secret, self.issuer, self.audience, self.store = secret, issuer, audience, store
        self.versions: dict[str, int] = {}  # user id -> token version, cached per process

    async def user_of(self, authorization: bytes | None) -> str:
        scheme, _, token = (authorization or b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(401, "Send `Authorization: Bearer <token>`; sign in to get one.")
        try:
            claims = jwt.decode(
                token.strip(), self.secret, algorithms=["HS256"], issuer=self.issuer,
                audience=self.audience, options={"require": ["sub", "exp", "iss", "aud", "ver"]},
            )  # fmt: skip
        except jwt.PyJWTError:
            raise Refused(401, "Your session is not valid; sign in again.") from None
        user, version = claims["sub"], claims["ver"]
        if not isinstance(user, str) or not user or not isinstance(version, int) or isinstance(version, bool):
            raise Refused(401, "Your session is not valid; sign in again.")
        known = self.versions.get(user)
        if known != version:  # first sight of this user, or a token newer than the cache
            known = await self.store.token_version(user)
            if known is None:
                raise Refused(401, "Your account no longer exists; sign in again.")
            self.versions[user] = known
        if known != version:
            raise Refused(401, "You were signed out on every device; sign in again.")
        return user


# --- the message limits, in process (chat_web/services/limits.py over InMemoryRateLimiter) ------


class Windows:
    """Fixed-window counters: a window opens at its first hit and lasts `seconds`."""

    def __init__(self):
        self.items: dict[str, list[float]] = {}  # key -> [deadline, count]
        self.writes = 0

    def acquire(self, key: str, limit: int, seconds: float) -> float:
        now = time.monotonic()
        self.writes += 1
        if self.writes % 4096 == 0:
            for stale in [k for k, (deadline, _) in self.items.items() if deadline <= now]:
                del self.items[stale]
        item = self.items.get(key)
        if item is None or item[0] <= now:
            item = self.items[key] = [now + seconds, 0]
        item[1] += 1
        return max(item[0] - now, 0.001) if item[1] > limit else 0.0

    def release(self, key: str) -> None:
        item = self.items.get(key)
        if item is not None:
            item[1] -= 1
            if item[1] <= 0:
                del self.items[key]


class Limits:
    def __init__(self, burst: int, sustained: int):
        self.windows = Windows()
        self.checks = (
            ("messages-burst:", burst, 10.0, "You are sending messages too fast; wait {seconds} s."),
            ("messages-sustained:", sustained, 3600.0, "You have sent a great many messages lately; wait {seconds} s."),  # noqa: E501
        )  # fmt: skip

    def take(self, user: str) -> None:
        """Count one send on every limit; all or none (hits given back when one refuses)."""
        taken = []
        for prefix, count, seconds, refusal in self.checks:
            wait = self.windows.acquire(prefix + user, count, seconds)
            if wait > 0:
                for key in [*taken, prefix + user]:
                    self.windows.release(key)
                seconds = max(1, int(-(-wait // 1)))
                retry = ((b"retry-after", str(seconds).encode()),)
                raise Refused(429, refusal.format(seconds=seconds), retry)
            taken.append(prefix + user)

    def give_back(self, user: str) -> None:
        for prefix, *_ in self.checks:
            self.windows.release(prefix + user)


# --- JSON shapes (chat_web.domain.wire.message_json, ChatOut, HistoryOut) --------------------------


def iso(at) -> str | None:
    if at is None:
        return None
    if isinstance(at, str):  # SQLite
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_json(chat_id, row, seen: bool, seen_at=None) -> dict:
    """row: (id, seq, sender_id, kind, text, client_id, created_at, edited_at, deleted,
    change, reply_to, reactions, mentions)."""
    (
        mid,
        seq,
        sender,
        kind,
        text,
        client_id,
        created,
        edited,
        deleted,
        change,
        reply_to,
        reactions,
        mentions,
    ) = row
    return {
        "id": mid, "chatId": chat_id, "seq": seq, "senderId": sender, "kind": kind, "text": text,
        "image": None, "clientId": client_id, "createdAt": iso(created), "editedAt": iso(edited),
        "deleted": bool(deleted), "seen": seen, "seenAt": iso(seen_at) if seen else None,
        "mentions": mentions.split() if mentions else [], "change": change,
        "reactions": [{"emoji": e, "userIds": who} for e, who in json.loads(reactions).items() if who]
        if reactions else [],
        "replyTo": {"seq": reply_to, "senderId": None, "text": "", "kind": "text", "deleted": False}
        if reply_to else None,
    }  # fmt: skip


def chat_json(row, others: list[dict]) -> dict:
    """row: (id, kind, title, created_by, updated_at, last_seq, preview, preview_sender_id,
    last_read_seq, muted, mention_seq)."""
    chat_id, kind, title, created_by, updated_at, last_seq, preview, preview_by, read, muted, mention = row
    return {
        "id": chat_id, "chatId": chat_id, "kind": kind, "title": title, "members": others,
        "createdBy": created_by,
        "latestMessage": {"text": preview, "senderId": preview_by} if last_seq else None,
        "lastSeq": last_seq, "unread": max(0, last_seq - read), "muted": bool(muted),
        "mentioned": mention > read, "updatedAt": iso(updated_at),
    }  # fmt: skip


def preview_of(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def encode_cursor(updated_at, chat_id: str) -> str:
    at = datetime.fromisoformat(updated_at) if isinstance(updated_at, str) else updated_at
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    raw = json.dumps([at.isoformat(), chat_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, chat_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or not isinstance(chat_id, str) or len(chat_id) > 64:
            raise ValueError(cursor)
    except (ValueError, TypeError):
        raise Refused(400, "cursor is not valid; pass nextCursor back as it was given.") from None
    return when.astimezone(UTC), chat_id


# --- PostgreSQL: one statement per request ------------------------------------------------------

_MESSAGE_COLUMNS = "id, seq, sender_id, kind, text, client_id, created_at, edited_at, deleted, change, reply_to, reactions, mentions"  # noqa: E501

PG_SEND = f"""
WITH me AS (
    SELECT last_read_seq FROM members WHERE chat_id = $1 AND user_id = $2
), old AS (
    SELECT {_MESSAGE_COLUMNS} FROM messages
    WHERE chat_id = $1 AND client_id = $3 AND sender_id = $2 AND EXISTS (SELECT 1 FROM me)
), bump AS (
    UPDATE chats SET last_seq = last_seq + 1, updated_at = $6, preview = $7, preview_sender_id = $2
    WHERE id = $1 AND EXISTS (SELECT 1 FROM me) AND NOT EXISTS (SELECT 1 FROM old)
    RETURNING last_seq
), ins AS (
    INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, client_id, created_at, deleted,
                          change, reply_to, reactions, mentions)
    SELECT $4, $1, last_seq, $2, 'text', $5, $3, $6, false, 0, 0, '', '' FROM bump
    RETURNING seq
), cursor AS (
    UPDATE members SET last_read_seq = bump.last_seq FROM bump
    WHERE members.chat_id = $1 AND members.user_id = $2
), seen AS (
    UPDATE messages SET seen_at = $6
    WHERE chat_id = $1 AND seen_at IS NULL AND EXISTS (SELECT 1 FROM bump)
      AND seq > (SELECT last_read_seq FROM me)
      AND seq <= LEAST((SELECT last_seq FROM bump),
                       (SELECT min(last_read_seq) FROM members WHERE chat_id = $1 AND user_id <> $2))
)
SELECT (SELECT seq FROM ins) AS new_seq,
       (SELECT array_agg(user_id) FROM members WHERE chat_id = $1 AND user_id <> $2) AS others,
       old.*
FROM me LEFT JOIN old ON true
"""

# Only after a unique violation: two sends with one clientId at once (the other one won).
PG_STORED = f"""
SELECT NULL::int AS new_seq,
       (SELECT array_agg(user_id) FROM members WHERE chat_id = $1 AND user_id <> $2) AS others,
       {_MESSAGE_COLUMNS}
FROM messages WHERE chat_id = $1 AND client_id = $3 AND sender_id = $2
  AND EXISTS (SELECT 1 FROM members WHERE chat_id = $1 AND user_id = $2)
"""

PG_AFTER = f"""
WITH me AS (
    SELECT m.last_read_seq, c.kind, c.last_seq, c.last_change
    FROM members m JOIN chats c ON c.id = m.chat_id
    WHERE m.chat_id = $1 AND m.user_id = $2
), page AS (
    SELECT {_MESSAGE_COLUMNS}, seen_at FROM messages
    WHERE chat_id = $1 AND seq > $3 AND EXISTS (SELECT 1 FROM me)
    ORDER BY seq LIMIT $4
), others AS (
    SELECT array_agg(o.user_id ORDER BY o.joined_at, o.user_id) AS ids,
           array_agg(u.name ORDER BY o.joined_at, o.user_id) AS names,
           min(o.last_read_seq) AS floor
    FROM members o LEFT JOIN users u ON u.id = o.user_id
    WHERE o.chat_id = $1 AND o.user_id <> $2
), moved AS (
    UPDATE members SET last_read_seq = top.seq
    FROM (SELECT max(seq) AS seq FROM page) top
    WHERE members.chat_id = $1 AND members.user_id = $2 AND members.last_read_seq < top.seq
    RETURNING members.last_read_seq
), seen AS (
    UPDATE messages SET seen_at = $5
    WHERE chat_id = $1 AND seen_at IS NULL AND EXISTS (SELECT 1 FROM moved)
      AND seq > (SELECT last_read_seq FROM me)
      AND seq <= LEAST((SELECT last_read_seq FROM moved), (SELECT floor FROM others))
)
SELECT me.kind AS chat_kind, me.last_seq, me.last_change, me.last_read_seq AS read_before,
       (SELECT last_read_seq FROM moved) AS read_after, others.ids, others.names, others.floor,
       page.*
FROM me CROSS JOIN others LEFT JOIN page ON true
ORDER BY page.seq
"""

PG_CHATS = """
SELECT c.*, o.ids, o.names
FROM (
    SELECT ch.id, ch.kind, ch.title, ch.created_by, ch.updated_at, ch.last_seq, ch.preview,
           ch.preview_sender_id, m.last_read_seq, m.muted, m.mention_seq
    FROM members m JOIN chats ch ON ch.id = m.chat_id
    WHERE m.user_id = $1
      AND ($3::timestamptz IS NULL OR (ch.updated_at, ch.id) < ($3::timestamptz, $4::varchar))
    ORDER BY ch.updated_at DESC, ch.id DESC
    LIMIT $2
) c
LEFT JOIN LATERAL (
    SELECT array_agg(x.user_id ORDER BY x.joined_at, x.user_id) AS ids,
           array_agg(u.name ORDER BY x.joined_at, x.user_id) AS names
    FROM members x LEFT JOIN users u ON u.id = x.user_id
    WHERE x.chat_id = c.id AND x.user_id <> $1
) o ON true
ORDER BY c.updated_at DESC, c.id DESC
"""


def _people(ids, names) -> list[dict]:
    return [{"id": i, "name": n} for i, n in zip(ids or (), names or (), strict=False) if n is not None]


class PgStore:
    def __init__(self, url: str, pool_size: int):
        self.url, self.pool_size, self.pool = url, pool_size, None

    async def open(self) -> None:
        import asyncpg

        size = self.pool_size
        self.pool = await asyncpg.create_pool(self.url, min_size=min(4, size), max_size=size)

    async def close(self) -> None:
        await self.pool.close()

    async def token_version(self, user: str) -> int | None:
        return await self.pool.fetchval("SELECT token_version FROM users WHERE id = $1", user)

    async def send(self, user: str, chat: str, text: str, client_id: str | None):
        """(message JSON, created, other member ids), or None for an outsider."""
        import asyncpg

        now, mid = datetime.now(UTC), uuid.uuid4().hex
        try:
            row = await self.pool.fetchrow(PG_SEND, chat, user, client_id, mid, text, now, preview_of(text))
        except asyncpg.UniqueViolationError:
            row = await self.pool.fetchrow(PG_STORED, chat, user, client_id)
        if row is None:
            return None
        others = list(row["others"] or ())
        if row["new_seq"] is not None:
            stored = (mid, row["new_seq"], user, "text", text, client_id, now, None, False, 0, 0, "", "")
            return message_json(chat, stored, False), True, others
        return message_json(chat, tuple(row)[2:15], False), False, others

    async def stored(self, user: str, chat: str, client_id: str) -> dict | None:
        row = await self.pool.fetchrow(PG_STORED, chat, user, client_id)
        return None if row is None else message_json(chat, tuple(row)[2:15], False)

    async def after(self, user: str, chat: str, after_seq: int, limit: int) -> dict | None:
        now = datetime.now(UTC)
        rows = await self.pool.fetch(PG_AFTER, chat, user, after_seq, limit, now)
        if not rows:
            return None
        first = rows[0]
        mine = first["read_after"] if first["read_after"] is not None else first["read_before"]
        floor = mine if first["floor"] is None else min(mine, first["floor"])
        messages = []
        for row in rows:
            if row["id"] is None:
                continue
            seen = row["seq"] <= floor
            messages.append(message_json(chat, tuple(row)[8:21], seen, row["seen_at"] or now))
        has_more = bool(messages) and messages[-1]["seq"] < first["last_seq"]
        others = _people(first["ids"], first["names"])
        return _history(first["chat_kind"], messages, has_more, others, first["last_change"])

    async def chats(self, user: str, limit: int, before: tuple[datetime, str] | None) -> list:
        at, chat_id = before or (None, None)
        rows = await self.pool.fetch(PG_CHATS, user, limit, at, chat_id)
        return [(tuple(r)[:11], _people(r["ids"], r["names"])) for r in rows]


def _history(kind, messages, has_more, others, last_change) -> dict:
    return {"messages": messages, "hasMore": has_more,
            "user": others[0] if kind == "direct" and others else None, "members": others,
            "changed": [], "lastChange": last_change}  # fmt: skip


# --- SQLite: one transaction per request on one writer thread ------------------------------------

SQ_SEND_CHECK = f"""
SELECT m.last_read_seq,
       (SELECT min(o.last_read_seq) FROM members o WHERE o.chat_id = m.chat_id AND o.user_id <> m.user_id),
       {", ".join("g." + c for c in _MESSAGE_COLUMNS.split(", "))}
FROM members m LEFT JOIN messages g ON g.chat_id = m.chat_id AND g.sender_id = m.user_id AND g.client_id = ?
WHERE m.chat_id = ? AND m.user_id = ?
"""
SQ_BUMP = """UPDATE chats SET last_seq = last_seq + 1, updated_at = ?, preview = ?, preview_sender_id = ?
WHERE id = ? RETURNING last_seq"""
SQ_INSERT = """INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, client_id, created_at, deleted,
    change, reply_to, reactions, mentions) VALUES (?, ?, ?, ?, 'text', ?, ?, ?, 0, 0, 0, '', '')"""
SQ_CURSOR = "UPDATE members SET last_read_seq = ? WHERE chat_id = ? AND user_id = ?"
SQ_SEEN = "UPDATE messages SET seen_at = ? WHERE chat_id = ? AND seq > ? AND seq <= ? AND seen_at IS NULL"
SQ_ME = """
SELECT m.last_read_seq, c.kind, c.last_seq, c.last_change,
       (SELECT min(o.last_read_seq) FROM members o WHERE o.chat_id = m.chat_id AND o.user_id <> m.user_id),
       (SELECT json_group_array(json_array(p.user_id, u.name)) FROM
           (SELECT o.user_id, o.joined_at FROM members o
            WHERE o.chat_id = m.chat_id AND o.user_id <> m.user_id
            ORDER BY o.joined_at, o.user_id) p JOIN users u ON u.id = p.user_id)
FROM members m JOIN chats c ON c.id = m.chat_id WHERE m.chat_id = ? AND m.user_id = ?
"""
SQ_PAGE = (
    f"SELECT {_MESSAGE_COLUMNS}, seen_at FROM messages WHERE chat_id = ? AND seq > ? ORDER BY seq LIMIT ?"  # noqa: E501
)
SQ_CHATS = """
SELECT c.id, c.kind, c.title, c.created_by, c.updated_at, c.last_seq, c.preview, c.preview_sender_id,
       m.last_read_seq, m.muted, m.mention_seq,
       (SELECT json_group_array(json_array(p.user_id, u.name)) FROM
           (SELECT o.user_id, o.joined_at FROM members o WHERE o.chat_id = c.id AND o.user_id <> m.user_id
            ORDER BY o.joined_at, o.user_id) p JOIN users u ON u.id = p.user_id)
FROM members m JOIN chats c ON c.id = m.chat_id
WHERE m.user_id = ? {}
ORDER BY c.updated_at DESC, c.id DESC LIMIT ?
"""


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _sqlite_people(blob: str | None) -> list[dict]:
    return [{"id": i, "name": n} for i, n in json.loads(blob or "[]")]


class SqliteStore:
    def __init__(self, path: str):
        self.path = path
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="lean-writer")
        self.reader = ThreadPoolExecutor(1, thread_name_prefix="lean-reader")
        self.wconn = self.rconn = None

    async def open(self) -> None:
        self.wconn, self.rconn = _sqlite_connect(self.path), _sqlite_connect(self.path)

    async def close(self) -> None:
        self.writer.shutdown()
        self.reader.shutdown()
        self.wconn.close()
        self.rconn.close()

    async def _on(self, pool, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def token_version(self, user: str) -> int | None:
        def read():
            row = self.rconn.execute("SELECT token_version FROM users WHERE id = ?", (user,)).fetchone()
            return row[0] if row else None

        return await self._on(self.reader, read)

    def _send(self, user, chat, text, client_id, mid, now):
        conn, stamp = self.wconn, now.strftime(SQLITE_TIME)
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(SQ_SEND_CHECK, (client_id, chat, user)).fetchone()
            if row is None:
                return None
            if row[2] is not None:  # a retry: the stored message
                return row[2:], False
            (seq,) = conn.execute(SQ_BUMP, (stamp, preview_of(text), user, chat)).fetchone()
            conn.execute(SQ_INSERT, (mid, chat, seq, user, text, client_id, stamp))
            conn.execute(SQ_CURSOR, (seq, chat, user))
            before, others = row[0], row[1]
            top = seq if others is None else min(seq, others)
            if top > before:
                conn.execute(SQ_SEEN, (stamp, chat, before, top))
            conn.execute("COMMIT")
            return (mid, seq, user, "text", text, client_id, now, None, False, 0, 0, "", ""), True
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    async def send(self, user: str, chat: str, text: str, client_id: str | None):
        now, mid = datetime.now(UTC), uuid.uuid4().hex
        found = await self._on(self.writer, self._send, user, chat, text, client_id, mid, now)
        if found is None:
            return None
        row, created = found
        return message_json(chat, row, False), created, []

    def _after(self, user, chat, after_seq, limit, now):
        conn, stamp = self.wconn, now.strftime(SQLITE_TIME)
        conn.execute("BEGIN IMMEDIATE")
        try:
            me = conn.execute(SQ_ME, (chat, user)).fetchone()
            if me is None:
                return None
            page = conn.execute(SQ_PAGE, (chat, after_seq, limit)).fetchall()
            before, others = me[0], me[4]
            after = max(before, page[-1][1]) if page else before
            if after > before:
                conn.execute(SQ_CURSOR, (after, chat, user))
                top = after if others is None else min(after, others)
                if top > before:
                    conn.execute(SQ_SEEN, (stamp, chat, before, top))
            conn.execute("COMMIT")
            return me, page, after
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    async def stored(self, user: str, chat: str, client_id: str) -> dict | None:
        def read():
            return self.rconn.execute(SQ_SEND_CHECK, (client_id, chat, user)).fetchone()

        row = await self._on(self.reader, read)
        return None if row is None or row[2] is None else message_json(chat, row[2:], False)

    async def after(self, user: str, chat: str, after_seq: int, limit: int) -> dict | None:
        now = datetime.now(UTC)
        found = await self._on(self.writer, self._after, user, chat, after_seq, limit, now)
        if found is None:
            return None
        (_, kind, last_seq, last_change, others_floor, people), page, mine = found
        floor = mine if others_floor is None else min(mine, others_floor)
        messages = [message_json(chat, row[:13], row[1] <= floor, row[13] or now) for row in page]
        has_more = bool(messages) and messages[-1]["seq"] < last_seq
        return _history(kind, messages, has_more, _sqlite_people(people), last_change)

    async def chats(self, user: str, limit: int, before: tuple[datetime, str] | None) -> list:
        if before is None:
            sql, args = SQ_CHATS.format(""), (user, limit)
        else:
            sql = SQ_CHATS.format("AND (c.updated_at, c.id) < (?, ?)")
            args = (user, before[0].strftime(SQLITE_TIME), before[1], limit)

        def read():
            return self.rconn.execute(sql, args).fetchall()

        rows = await self._on(self.reader, read)
        return [(row[:11], _sqlite_people(row[11])) for row in rows]


# --- the ASGI app --------------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url.replace("sqlite://", "sqlite+aiosqlite://", 1) if url.startswith("sqlite://") else url


def plain_url(url: str) -> str:
    """The driver's URL (SQLAlchemy's driver names taken out)."""
    url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return url.replace("sqlite+aiosqlite://", "sqlite://", 1)


def make_store(url: str):
    url = plain_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        return PgStore(url, int(os.environ.get("LEAN_POOL_SIZE", "20")))
    if url.startswith("sqlite:///"):
        return SqliteStore(url[len("sqlite:///") :])
    raise SystemExit("DATABASE_URL: postgresql://... or sqlite:///path")


async def migrate(url: str) -> None:
    """The app's own schema: its Alembic migrations."""
    from chat_web.adapters.storage.sql import SqlDatabase

    db = SqlDatabase(sqlalchemy_url(url))
    try:
        await db.migrate()
    finally:
        await db.close()


def _query(scope) -> dict[str, str]:
    return dict(parse_qsl(scope["query_string"].decode("latin-1")))


def _number(query: dict, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Refused(422, f"{name}: must be a whole number from {low} to {high}")
    return int(raw)


class LeanApp:
    def __init__(self):
        self.url = plain_url(os.environ["DATABASE_URL"])
        self.store = make_store(self.url)
        self.sessions = Sessions(
            os.environ["JWT_SECRET"],
            os.environ.get("JWT_ISSUER", "chat_web"),
            os.environ.get("JWT_AUDIENCE", "chat_web"),
            self.store,
        )
        self.limits = Limits(
            int(os.environ.get("LIMIT_MESSAGES_PER_10_SECONDS", "20")),
            int(os.environ.get("LIMIT_MESSAGES_PER_HOUR", "600")),
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            try:
                status, body = await self._route(scope, receive)
                headers = ()
            except Refused as refused:
                status, body, headers = refused.status, {"detail": refused.detail}, refused.headers
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            length = str(len(payload)).encode()
            head = [(b"content-type", b"application/json"), (b"content-length", length), *headers]
            await send({"type": "http.response.start", "status": status, "headers": head})
            await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await migrate(self.url)
                    await self.store.open()
                except Exception as exc:  # noqa: BLE001 - told to the server, which stops
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope, receive) -> tuple[int, object]:
        path, method = scope["path"], scope["method"]
        if path == "/health":
            return 200, {"status": "ok"}
        authorization = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if path == PREFIX + "/message" and method == "POST":
            user = await self.sessions.user_of(authorization)
            return await self._send(user, await _body(receive))
        if path.startswith(PREFIX + "/message/") and method == "GET":
            chat = path[len(PREFIX + "/message/") :]
            if not ID_RE.match(chat):
                raise Refused(422, "chat_id: not a valid id")
            query = _query(scope)
            after_seq = _number(query, "after_seq", None, 0, SEQ_MAX)
            limit = _number(query, "limit", PAGE_DEFAULT, 1, PAGE_MAX)
            if after_seq is None:
                raise Refused(400, "This floor serves after_seq pages only.")
            user = await self.sessions.user_of(authorization)
            page = await self.store.after(user, chat, after_seq, limit)
            if page is None:
                raise Refused(403, "You are not a member of this conversation.")
            return 200, page
        if path == PREFIX + "/chat/all" and method == "GET":
            query = _query(scope)
            limit = _number(query, "limit", PAGE_DEFAULT, 1, PAGE_MAX)
            before = decode_cursor(query.get("cursor"))
            user = await self.sessions.user_of(authorization)
            rows = await self.store.chats(user, limit + 1, before)
            more, rows = len(rows) > limit, rows[:limit]
            last = rows[-1][0] if more else None
            return 200, {
                "chats": [chat_json(row, others) for row, others in rows],
                "nextCursor": encode_cursor(last[4], last[0]) if last else None,
            }
        raise Refused(404, "Not Found")

    async def _send(self, user: str, raw: bytes) -> tuple[int, object]:
        try:
            body = json.loads(raw)
        except ValueError:
            raise Refused(422, "body: not valid JSON") from None
        if not isinstance(body, dict):
            raise Refused(422, "body: an object is expected")
        chat, text, client_id = body.get("chatId"), body.get("text"), body.get("clientId")
        if not isinstance(chat, str) or not ID_RE.match(chat):
            raise Refused(422, "chatId: not a valid id")
        if body.get("replyTo"):
            raise Refused(400, "This floor does not serve replies.")
        if not isinstance(text, str) or "\x00" in text:
            raise Refused(400, "The message must be text, without NUL characters.")
        text = text.strip()
        if not text or len(text) > TEXT_MAX:
            raise Refused(400, f"A message is 1 to {TEXT_MAX} characters.")
        if client_id == "":
            client_id = None
        if client_id is not None and (
            not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX or not client_id.isprintable()
        ):
            raise Refused(400, f"clientId must be printable text of at most {CLIENT_ID_MAX} characters.")
        try:
            self.limits.take(user)
        except Refused:
            # Idempotency first: a retry of a stored message is answered even past the limit.
            if client_id is None or (stored := await self.store.stored(user, chat, client_id)) is None:
                raise
            return 200, stored
        found = await self.store.send(user, chat, text, client_id)
        if found is None or not found[1]:
            self.limits.give_back(user)  # stored nothing: an outsider, or a retry
        if found is None:
            raise Refused(403, "You are not a member of this conversation.")
        message, created, _ = found
        return (201 if created else 200), message


async def _body(receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > BODY_MAX:
            raise Refused(413, "The request body is too large.")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


_built: LeanApp | None = None


async def app(scope, receive, send) -> None:
    """The ASGI app, built from the environment on first use (importing this module reads none)."""
    global _built
    if _built is None:
        _built = LeanApp()
    await _built(scope, receive, send)


# --- seeding for the benchmark: users inserted directly, tokens minted -----------------------------


async def seed(url: str, secret: str, count: int) -> list[tuple[str, str]]:
    """`count` users paired in direct chats (the schema must exist): [(token, chat id)]."""
    now = datetime.now(UTC)
    users = [uuid.uuid4().hex for _ in range(count - count % 2)]
    chats = [uuid.uuid4().hex for _ in range(len(users) // 2)]
    user_rows = [(u, f"lean-{u[:12]}@example.com", f"Lean {i}", now) for i, u in enumerate(users)]
    chat_rows = [
        (c, "direct", ":".join(sorted(users[2 * k : 2 * k + 2])), users[2 * k], now, now)
        for k, c in enumerate(chats)
    ]
    member_rows = [(chats[i // 2], u, now) for i, u in enumerate(users)]
    url = plain_url(url)
    if isinstance(make_store(url), PgStore):
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.executemany(
                    "INSERT INTO users (id, email, name, created_at, token_version)"
                    " VALUES ($1, $2, $3, $4, 0)",
                    user_rows,
                )
                await conn.executemany(
                    "INSERT INTO chats (id, kind, direct_key, created_by, created_at, updated_at,"
                    " last_seq, preview, last_change) VALUES ($1, $2, $3, $4, $5, $6, 0, '', 0)",
                    chat_rows,
                )
                await conn.executemany(
                    "INSERT INTO members (chat_id, user_id, last_read_seq, joined_at, muted, mention_seq)"
                    " VALUES ($1, $2, 0, $3, false, 0)",
                    member_rows,
                )
        finally:
            await conn.close()
    else:
        conn = _sqlite_connect(url[len("sqlite:///") :])
        stamp = now.strftime(SQLITE_TIME)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO users (id, email, name, created_at, token_version) VALUES (?, ?, ?, ?, 0)",
                [(*r[:3], stamp) for r in user_rows],
            )
            conn.executemany(
                "INSERT INTO chats (id, kind, direct_key, created_by, created_at, updated_at,"
                " last_seq, preview, last_change) VALUES (?, ?, ?, ?, ?, ?, 0, '', 0)",
                [(*r[:4], stamp, stamp) for r in chat_rows],
            )
            conn.executemany(
                "INSERT INTO members (chat_id, user_id, last_read_seq, joined_at, muted, mention_seq)"
                " VALUES (?, ?, 0, ?, 0, 0)",
                [(*r[:2], stamp) for r in member_rows],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
    return [(mint(secret, u), chats[i // 2]) for i, u in enumerate(users)]
