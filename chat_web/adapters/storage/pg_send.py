"""PostgreSQL's send in one statement: one round trip, run as its own transaction (autocommit).

The statement does what `_send_tx` (chat_web/adapters/storage/sql.py) does in five or six:
the checks (a stored client id first, then membership, a block, the answered message), the
chat's next seq, the insert, the sender's cursor and `has_sent`, and the seen stamp on what
the answer read. Every write in it waits for `bump` (the chat row's update), so the chat row
is locked before any member or message row, as in every other write of a chat (no deadlocks);
the insert is `announced = false` (the outbox). A failed insert (a concurrent retry of the
same client id) fails the whole statement: the seq increment goes with it, so seqs stay
gap-free.

One statement reads one snapshot, taken before it waited for the chat's lock. The seq is
right whatever happened meanwhile (an UPDATE re-reads the row it waited for), but a message
stored by another send while we waited is not in our snapshot, so our seen stamp cannot reach
it. The answer says so (the chat's seq moved by more than ours): `SqlMessageRepo` then
stamps again, in a transaction of its own that takes the chat's lock first (rare: two sends
to one chat within the same moment).

A group message that may mention someone needs the members' names before it is stored (the
mention finder runs in Python): the statement then stores nothing and says so, and the send
takes the transaction path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace

from chat_web.adapters.storage.sql_schema import MessageRow, attachment_to_json, to_message
from chat_web.domain import Conflict, Forbidden, NewMessage, NotFound, preview_of, quote_of
from chat_web.domain.sending import ACCOUNT_GONE, BLOCKED, NOT_A_MEMBER, REPLY_DELETED, REPLY_MISSING, Sent

_COLUMNS = [column.name for column in MessageRow.__table__.columns]
_OLD = ", ".join(f"old.{name} AS o_{name}" for name in _COLUMNS)
_ANSWERED = ", ".join(f"answered.{name} AS a_{name}" for name in _COLUMNS)

# $1 chat, $2 sender, $3 client id, $4 reply_to (0: none), $5 now, $6 preview, $7 new id,
# $8 kind, $9 text, $10-$13 image url, public id, width, height, $14 mentions,
# $15 the text may mention someone (then a group's message waits for the names),
# $16 a file's or voice message's attachment (JSON text, or NULL).
SEND = f"""
WITH ctx AS (
    SELECT m.user_id, m.last_read_seq, m.has_sent, m.joined_at, c.kind, c.last_seq,
           EXISTS (SELECT 1 FROM blocks AS b
                   WHERE b.blocker_id = m.user_id AND b.blocked_id = $2) AS blocks_sender,
           c.kind = 'direct' AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = m.user_id) AS gone
    FROM members AS m JOIN chats AS c ON c.id = m.chat_id
    WHERE m.chat_id = $1
), me AS (
    SELECT last_read_seq, has_sent FROM ctx WHERE user_id = $2
), old AS (
    SELECT * FROM messages
    WHERE chat_id = $1 AND client_id = $3 AND sender_id = $2 AND EXISTS (SELECT 1 FROM ctx)
), answered AS (
    SELECT * FROM messages
    WHERE chat_id = $1 AND seq = COALESCE((SELECT reply_to FROM old), $4::int) AND seq > 0
), go AS (
    SELECT 1 FROM me
    WHERE NOT EXISTS (SELECT 1 FROM old)
      AND NOT EXISTS (SELECT 1 FROM ctx WHERE gone OR (kind = 'direct' AND blocks_sender))
      AND ($4::int = 0 OR EXISTS (SELECT 1 FROM answered WHERE NOT deleted))
      AND NOT ($15::bool AND EXISTS (SELECT 1 FROM ctx WHERE kind = 'group'))
), bump AS (
    UPDATE chats SET last_seq = last_seq + 1, updated_at = $5, preview = $6, preview_sender_id = $2
    WHERE id = $1 AND EXISTS (SELECT 1 FROM go)
    RETURNING id, last_seq
), ins AS (
    INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, image_url, image_public_id,
                          image_width, image_height, client_id, created_at, deleted, seen_at,
                          change, reply_to, reactions, mentions, announced, attachment)
    -- bump.id, not $1: a chat id longer than the column (no chat of ours) would fail the
    -- constant's cast to varchar(32) at plan time, even with nothing to insert
    SELECT $7, bump.id, bump.last_seq, $2, $8, $9, $10, $11, $12, $13, $3, $5, false,
           -- read by every other member at once when there is none
           CASE WHEN EXISTS (SELECT 1 FROM ctx WHERE user_id <> $2) THEN NULL ELSE $5::timestamptz END,
           0, $4::int, '', $14, false, $16::text
    FROM bump
    RETURNING seq, seen_at
), cursor AS (
    UPDATE members SET last_read_seq = bump.last_seq, has_sent = true FROM bump
    WHERE members.chat_id = $1 AND members.user_id = $2
), seen AS (
    -- answering reads what came before: what every member has now read is seen
    UPDATE messages SET seen_at = $5
    WHERE chat_id = $1 AND seen_at IS NULL AND EXISTS (SELECT 1 FROM bump)
      AND (SELECT last_read_seq FROM me) < (SELECT last_seq FROM bump) - 1
      AND seq > (SELECT min(last_read_seq) FROM ctx)
      AND seq <= LEAST((SELECT last_seq FROM bump),
                       (SELECT min(last_read_seq) FROM ctx WHERE user_id <> $2))
)
SELECT (SELECT seq FROM ins) AS new_seq, (SELECT seen_at FROM ins) AS new_seen_at,
       (SELECT last_seq FROM ctx LIMIT 1) AS chat_last_seq,
       (SELECT kind FROM ctx LIMIT 1) AS chat_kind,
       -- text[], not varchar[]: asyncpg decodes it without asking the server for the type first
       (SELECT array_agg(user_id::text ORDER BY joined_at, user_id) FROM ctx) AS member_ids,
       me.last_read_seq AS my_read, me.has_sent AS i_sent,
       NOT EXISTS (SELECT 1 FROM ctx WHERE user_id <> $2 AND NOT has_sent) AS others_sent,
       EXISTS (SELECT 1 FROM ctx WHERE kind = 'direct' AND blocks_sender) AS blocked,
       EXISTS (SELECT 1 FROM ctx WHERE gone) AS gone,
       {_OLD}, {_ANSWERED}
FROM (SELECT 1) AS one
LEFT JOIN me ON true LEFT JOIN old ON true LEFT JOIN answered ON true
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    sent: Sent | None  # None: a group message that may mention someone (the transaction path)
    # Another send stored a message while this one waited for the chat: the seen stamp
    # from the sender's old cursor (`stamp_from`) must be done again, with the lock held.
    raced: bool = False
    stamp_from: int = 0


def params(message: NewMessage, may_mention: bool, now: datetime) -> tuple:
    image = message.image
    return (
        message.chat_id,
        message.sender_id,
        message.client_id,
        message.reply_to or 0,
        now,
        preview_of(message),
        uuid.uuid4().hex,
        message.kind,
        message.text,
        image.url if image else None,
        image.public_id if image else None,
        image.width if image else None,
        image.height if image else None,
        " ".join(message.mention_ids),
        may_mention,
        attachment_to_json(message),
    )


def _stored(row, prefix: str):
    if row[prefix + "id"] is None:  # the common case: no retry, no answered message
        return None
    return to_message(SimpleNamespace(**{name: row[prefix + name] for name in _COLUMNS}))


def outcome(row, sent_params: tuple) -> Outcome:
    """What the statement's one row says: the stored or found message, or the refusal."""
    member_ids = tuple(row["member_ids"] or ())
    answered = _stored(row, "a_")
    old = _stored(row, "o_")
    if old is not None:  # a retry: idempotency before every check
        quote = quote_of(answered) if answered is not None and old.reply_to else None
        return Outcome(Sent(_quoted(old, quote), False, member_ids, bool(row["o_announced"])))
    if row["my_read"] is None:
        raise Forbidden(NOT_A_MEMBER)
    if row["gone"]:
        raise Forbidden(ACCOUNT_GONE)
    if row["blocked"]:
        raise Forbidden(BLOCKED)
    (chat_id, sender, client_id, reply_to, now, _, new_id, kind, text, url, public_id, width, height,
     mentions, _, attachment) = sent_params  # fmt: skip
    if reply_to and answered is None:
        raise NotFound(REPLY_MISSING)
    if reply_to and answered.deleted:
        raise Conflict(REPLY_DELETED)
    if row["new_seq"] is None:
        return Outcome(None)  # a group's message that may mention: the names come first
    seq = row["new_seq"]
    message = to_message(
        SimpleNamespace(
            id=new_id, chat_id=chat_id, seq=seq, sender_id=sender, kind=kind, text=text,
            image_url=url, image_public_id=public_id, image_width=width, image_height=height,
            client_id=client_id, created_at=now, edited_at=None, deleted=False,
            seen_at=row["new_seen_at"], mentions=mentions, change=0, reactions="", reply_to=reply_to,
            attachment=attachment,
        )
    )  # fmt: skip
    quote = quote_of(answered) if answered is not None else None
    opened = row["chat_kind"] == "direct" and not row["i_sent"] and row["others_sent"]
    sent = Sent(_quoted(message, quote), True, member_ids, False, opened)
    return Outcome(sent, raced=seq - 1 != row["chat_last_seq"], stamp_from=row["my_read"])


def _quoted(message, quote):
    return replace(message, quote=quote) if quote is not None else message
