"""PostgreSQL's hot reads in one statement each (one round trip): a page of a chat with
everything a reader sees of it (MessageRepo.window, when it does not read the chat), and
a page of my chats with their people (ChatRepo.listing).

A statement returns one kind of row, so each is a UNION ALL of parts: `part` says which,
`ord` keeps each part's order, and the columns of the other parts are NULL. The results are
what `_window_tx` and `_listing_tx` (chat_web/adapters/storage/sql.py) build from two to five
statements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from types import SimpleNamespace

from sqlalchemy.dialects import postgresql

from chat_web.adapters.storage.sql_schema import (
    ChatRow,
    MemberRow,
    MessageRow,
    UserRow,
    to_chat,
    to_member,
    to_message,
    to_user,
)
from chat_web.domain import ChatView, Message, User, quote_of
from chat_web.domain.sending import ChatListing, Window
from chat_web.ports import ChatKey

_DIALECT = postgresql.dialect()


def _columns(table, prefix: str = "") -> list[tuple[str, str, str]]:
    """(column, name in the result, SQL type) of a table's columns."""
    return [(c.name, prefix + c.name, c.type.compile(dialect=_DIALECT)) for c in table.columns]


_MEMBER = _columns(MemberRow.__table__)
_USER = _columns(UserRow.__table__, "u_")
_CHAT = _columns(ChatRow.__table__, "c_")
_MESSAGE = _columns(MessageRow.__table__, "m_")


def _select(alias: str, own: list, every: list) -> str:
    """Every part's columns in one order (UNION ALL pairs them by position): `alias`'s own
    (column, result name) where they are, NULL typed as the other parts' elsewhere."""
    mine = {name: column for column, name, _ in own}
    return ", ".join(
        f"{alias}.{mine[name]} AS {name}" if name in mine else f"NULL::{kind} AS {name}"
        for _, name, kind in every
    )


# --- a page of a chat ------------------------------------------------------------------------

_CONTEXT = _MEMBER + _USER + _CHAT
# $1 chat, $2 reader, $3 the page's seq bound, $4 page size, $5 changed after (NULL: none),
# $6 changes at most. Nothing of the messages for a reader who is not a member.
_WINDOW = """
WITH m AS (
    SELECT {member}, {user}, {chat}
    FROM members AS mm JOIN chats AS cc ON cc.id = mm.chat_id LEFT JOIN users AS uu ON uu.id = mm.user_id
    WHERE mm.chat_id = $1
), page AS (
    SELECT * FROM messages
    WHERE chat_id = $1 AND {bound} AND EXISTS (SELECT 1 FROM m WHERE user_id = $2)
    ORDER BY seq {direction} LIMIT $4
), changes AS (
    SELECT * FROM messages
    WHERE $5::int IS NOT NULL AND chat_id = $1 AND change > $5 AND EXISTS (SELECT 1 FROM m WHERE user_id = $2)
    ORDER BY change LIMIT $6
), quoted AS (
    SELECT * FROM messages
    WHERE chat_id = $1
      AND seq IN (SELECT reply_to FROM page WHERE reply_to > 0
                  UNION SELECT reply_to FROM changes WHERE reply_to > 0)
)
SELECT 0 AS part, row_number() OVER (ORDER BY joined_at, user_id) AS ord, {context_part} FROM m
UNION ALL SELECT 1, row_number() OVER (ORDER BY seq), {message_part} FROM page AS x
UNION ALL SELECT 2, row_number() OVER (ORDER BY change), {message_part} FROM changes AS x
UNION ALL SELECT 3, seq, {message_part} FROM quoted AS x
ORDER BY part, ord
"""


def _window_sql(bound: str, direction: str) -> str:
    return _WINDOW.format(
        member=", ".join(f"mm.{c} AS {n}" for c, n, _ in _MEMBER),
        user=", ".join(f"uu.{c} AS {n}" for c, n, _ in _USER),
        chat=", ".join(f"cc.{c} AS {n}" for c, n, _ in _CHAT),
        bound=bound,
        direction=direction,
        context_part=_select("m", [(n, n, k) for _, n, k in _CONTEXT], _CONTEXT + _MESSAGE),
        message_part=_select("x", _MESSAGE, _CONTEXT + _MESSAGE),
    )


WINDOW_AFTER = _window_sql("seq > $3", "")
WINDOW_BEFORE = _window_sql("seq < $3", "DESC")
WINDOW_LATEST = _window_sql("$3::int IS NULL", "DESC")  # $3 is NULL: no bound


def window_query(before_seq: int | None, after_seq: int | None) -> tuple[str, int | None]:
    """The statement for these cursors and its seq bound (the page comes oldest first)."""
    if after_seq is not None:
        return WINDOW_AFTER, after_seq
    if before_seq is not None:
        return WINDOW_BEFORE, before_seq
    return WINDOW_LATEST, None


def _fields(row, names) -> SimpleNamespace:
    return SimpleNamespace(**{column: row[name] for column, name, _ in names})


def _message(row) -> Message:
    return to_message(_fields(row, _MESSAGE))


def window_of(rows, user_id: str) -> Window | None:
    context = [row for row in rows if row["part"] == 0]
    mine = next((row for row in context if row["user_id"] == user_id), None)
    if mine is None:
        return None
    member_ids = tuple(row["user_id"] for row in context)
    chat = to_chat(_fields(context[0], _CHAT), member_ids)
    members = [to_member(_fields(row, _MEMBER)) for row in context]
    page = [_message(row) for row in rows if row["part"] == 1]
    changes = [_message(row) for row in rows if row["part"] == 2]
    answered = {row["m_seq"]: _message(row) for row in rows if row["part"] == 3}
    people = {}
    for row in context:
        if row["u_id"] is not None:
            people[row["u_id"]] = to_user(_fields(row, _USER))
    quote = {seq: quote_of(message) for seq, message in answered.items()}
    page, changes = ([_quoted(m, quote) for m in part] for part in (page, changes))
    return Window(chat, members, people, page, changes, None)


def _quoted(message: Message, quotes: dict) -> Message:
    found = quotes.get(message.reply_to) if message.reply_to else None
    return replace(message, quote=found) if found is not None else message


# --- a page of my chats ----------------------------------------------------------------------

_PERSON = [("chat_id", "p_chat_id", "VARCHAR(32)"), ("user_id", "p_user_id", "VARCHAR(32)"), *_USER]
_MINE = _MEMBER + _CHAT
# $1 me, $2 page size; older pages: $3 updated_at, $4 id of the last chat of the page before.
_LISTING = """
WITH mine AS (
    SELECT {member}, {chat}
    FROM members AS mm JOIN chats AS cc ON cc.id = mm.chat_id
    WHERE mm.user_id = $1 {older}
    ORDER BY cc.updated_at DESC, cc.id DESC LIMIT $2
), people AS (
    SELECT o.chat_id AS p_chat_id, o.user_id AS p_user_id, o.joined_at AS p_joined_at, {user}
    FROM members AS o LEFT JOIN users AS uu ON uu.id = o.user_id
    WHERE o.chat_id IN (SELECT c_id FROM mine)
)
SELECT 0 AS part, row_number() OVER (ORDER BY c_updated_at DESC, c_id DESC) AS ord, {mine_part} FROM mine
UNION ALL
SELECT 1, row_number() OVER (ORDER BY p_joined_at, p_user_id), {people_part} FROM people
ORDER BY part, ord
"""


def _listing_sql(older: str) -> str:
    return _LISTING.format(
        member=", ".join(f"mm.{c} AS {n}" for c, n, _ in _MEMBER),
        chat=", ".join(f"cc.{c} AS {n}" for c, n, _ in _CHAT),
        user=", ".join(f"uu.{c} AS {n}" for c, n, _ in _USER),
        older=older,
        mine_part=_select("mine", [(n, n, k) for _, n, k in _MINE], _MINE + _PERSON),
        people_part=_select("people", [(n, n, k) for _, n, k in _PERSON], _MINE + _PERSON),
    )


LISTING = _listing_sql("")
LISTING_OLDER = _listing_sql("AND (cc.updated_at < $3 OR (cc.updated_at = $3 AND cc.id < $4))")


def listing_params(user_id: str, limit: int, older_than: ChatKey | None) -> tuple:
    return (user_id, limit) if older_than is None else (user_id, limit, *older_than)


def listing_of(rows) -> ChatListing:
    members: dict[str, list[str]] = defaultdict(list)
    people: dict[str, User] = {}
    for row in rows:
        if row["part"] == 1:
            members[row["p_chat_id"]].append(row["p_user_id"])
            if row["u_id"] is not None:
                people[row["u_id"]] = to_user(_fields(row, _USER))
    views = [
        ChatView(to_chat(_fields(row, _CHAT), tuple(members[row["c_id"]])), to_member(_fields(row, _MEMBER)))
        for row in rows
        if row["part"] == 0
    ]
    return ChatListing(views, people)
