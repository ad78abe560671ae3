"""One-call catch-up for API clients: what changed in my chats since a sync token.

`since` omitted: the first page of everything (my chats, latest activity first, each with
its latest messages). With `since`: only the chats with activity after it, each with the
messages that came after it (at most `per_chat`, newest, with `has_more` when there were
more: page back with `before_seq`), the members' read cursors, and my unread count. When
more chats changed than fit a page, `next_cursor` continues the listing with the same
`since`; once it is null, `next` is the token for the next sync. Tokens are opaque.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chat_web.domain import BadInput, Message, User
from chat_web.ports import ChatRepo, Clock, MessageRepo, UserRepo
from chat_web.services.chats import ChatSummary
from chat_web.services.cursor import decode_cursor, encode_cursor, pack, unpack
from chat_web.services.validation import clean_limit

# A write committed just before a sync may carry a time a little earlier than the sync's:
# the next token starts this much earlier, and clients drop what they hold (by seq).
SKEW = timedelta(seconds=5)
TOKEN_MAX = 200
PER_CHAT_MAX = 100
_INVALID = "since is not a sync token; pass `next` back as it was given."


@dataclass(frozen=True, slots=True)
class ChatDelta:
    summary: ChatSummary
    messages: list[Message]  # oldest first
    has_more: bool  # more new messages than these: page back with before_seq
    read_cursors: dict[str, int]  # every member's last_read_seq


@dataclass(frozen=True, slots=True)
class SyncPage:
    chats: list[ChatDelta]
    next_cursor: str | None  # more changed chats: call again with the same since and this
    next: str  # the token for the next sync (once next_cursor is null)


def encode_token(at: datetime) -> str:
    return pack({"v": 1, "t": at.astimezone(UTC).isoformat()})


def decode_token(token: object) -> datetime | None:
    if token is None or token == "":
        return None
    data = unpack(token, TOKEN_MAX, _INVALID)
    try:
        at = datetime.fromisoformat(data["t"])
    except (ValueError, TypeError, KeyError):
        raise BadInput(_INVALID) from None
    if data.get("v") != 1 or at.tzinfo is None:
        raise BadInput(_INVALID)
    return at


class SyncService:
    def __init__(self, users: UserRepo, chats: ChatRepo, messages: MessageRepo, clock: Clock):
        self._users = users
        self._chats = chats
        self._messages = messages
        self._clock = clock

    async def sync(
        self,
        me: User,
        since: object = None,
        cursor: object = None,
        limit: object = None,
        per_chat: object = None,
    ) -> SyncPage:
        after = decode_token(since)
        size, per = clean_limit(limit), clean_limit(per_chat)
        next_token = encode_token(self._clock.now() - SKEW)
        views = await self._chats.list_for_user(me.id, size + 1, decode_cursor(cursor))
        changed = [v for v in views if after is None or v.chat.updated_at > after]
        more = len(changed) > size
        changed = changed[:size]
        people = {
            u.id: u for u in await self._users.get_many([i for v in changed for i in v.chat.member_ids])
        }
        deltas = []
        for view in changed:
            chat = view.chat
            page = await self._messages.page_before(chat.id, None, per)
            fresh = [m for m in page if after is None or m.created_at > after]
            has_more = bool(fresh) and fresh[0].seq > 1 and (after is None or len(fresh) == len(page))
            members = await self._chats.members(chat.id)
            summary = ChatSummary(
                chat=chat,
                unread=view.unread,
                others=[people[i] for i in chat.member_ids if i != me.id and i in people],
            )
            deltas.append(ChatDelta(summary, fresh, has_more, {m.user_id: m.last_read_seq for m in members}))
        last = changed[-1].chat if more else None
        return SyncPage(
            chats=deltas,
            next_cursor=encode_cursor(last.updated_at, last.id) if last else None,
            next=next_token,
        )
