"""Users, chats and messages in process memory: for unit tests and the contract suite.

Every method runs without awaiting in between its reads and writes, so on one event
loop each is atomic, which is what the SQL and Mongo adapters get from the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from chat_web.adapters.storage.memory_push import InMemoryPushRepo
from chat_web.domain import (
    Attachment,
    BadInput,
    Chat,
    ChatView,
    Conflict,
    Forbidden,
    Image,
    Member,
    Message,
    NewMessage,
    NotFound,
    User,
    direct_key,
    preview_of,
    quote_of,
    toggled,
)
from chat_web.domain.people import name_matches, people_query
from chat_web.domain.search import SearchHit, SearchQuery, text_words
from chat_web.domain.sending import (
    ACCOUNT_GONE,
    BLOCKED,
    NOT_A_MEMBER,
    REPLY_DELETED,
    REPLY_MISSING,
    ChatListing,
    MentionFinder,
    ReadMove,
    Sent,
    Window,
    seen_range,
)
from chat_web.ports import ChatKey, Clock


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class _Data:
    users: dict[str, User] = field(default_factory=dict)
    user_by_email: dict[str, str] = field(default_factory=dict)
    chats: dict[str, Chat] = field(default_factory=dict)
    direct: dict[str, str] = field(default_factory=dict)
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    messages: dict[str, list[Message]] = field(default_factory=dict)  # chat id -> by seq - 1
    by_client_id: dict[tuple[str, str, str], int] = field(default_factory=dict)  # -> seq
    stored: int = 0  # messages ever stored: a message's place in the newest-first search order
    order: dict[str, int] = field(default_factory=dict)  # message id -> its place
    unannounced: dict[str, tuple[str, int]] = field(default_factory=dict)  # message id -> (chat, seq)
    blocks: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (blocker, blocked) -> when
    has_sent: set[tuple[str, str]] = field(default_factory=set)  # (chat, member) who sent there


class InMemoryStore:
    """One shared dataset behind the three repositories."""

    backend = "memory"

    def __init__(self, clock: Clock):
        data = _Data()
        self.users = InMemoryUserRepo(data, clock)
        self.chats = InMemoryChatRepo(data, clock)
        self.messages = InMemoryMessageRepo(data, clock, self.chats)
        self.push = InMemoryPushRepo()

    async def close(self) -> None:
        return None


class InMemoryUserRepo:
    def __init__(self, data: _Data, clock: Clock):
        self._d = data
        self._clock = clock

    async def get(self, user_id: str) -> User | None:
        return self._d.users.get(user_id)

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        return [self._d.users[i] for i in dict.fromkeys(user_ids) if i in self._d.users]

    async def get_by_email(self, email: str) -> User | None:
        user_id = self._d.user_by_email.get(email)
        return self._d.users.get(user_id) if user_id else None

    async def get_or_create(self, email: str, name: str) -> User:
        existing = await self.get_by_email(email)
        if existing:
            return existing
        user = User(id=_new_id(), email=email, name=name, created_at=self._clock.now())
        self._d.users[user.id] = user
        self._d.user_by_email[email] = user.id
        return user

    async def update_name(self, user_id: str, name: str) -> User | None:
        user = self._d.users.get(user_id)
        if user is None:
            return None
        self._d.users[user_id] = replace(user, name=name)
        return self._d.users[user_id]

    async def bump_token_version(self, user_id: str) -> User | None:
        user = self._d.users.get(user_id)
        if user is None:
            return None
        self._d.users[user_id] = replace(user, token_version=user.token_version + 1)
        return self._d.users[user_id]

    async def search(
        self, query: str, limit: int, offset: int = 0, exclude_id: str | None = None
    ) -> list[User]:
        wanted = people_query(query)
        if wanted.email:
            found = [u for u in self._d.users.values() if u.email.lower() == wanted.email]
        else:
            found = [u for u in self._d.users.values() if name_matches(u.name, wanted)]
        blockers = {blocker for blocker, blocked in self._d.blocks if blocked == exclude_id}
        found = [u for u in found if u.id != exclude_id and u.id not in blockers]
        found.sort(key=lambda u: (u.name.lower(), u.id))
        return found[offset : offset + limit]

    async def block(self, blocker_id: str, blocked_id: str, at: datetime) -> bool:
        if (blocker_id, blocked_id) in self._d.blocks:
            return False
        self._d.blocks[(blocker_id, blocked_id)] = at
        return True

    async def unblock(self, blocker_id: str, blocked_id: str) -> bool:
        return self._d.blocks.pop((blocker_id, blocked_id), None) is not None

    async def blocked(self, blocker_id: str) -> list[User]:
        mine = [(at, blocked) for (blocker, blocked), at in self._d.blocks.items() if blocker == blocker_id]
        mine.sort(key=lambda pair: (-pair[0].timestamp(), pair[1]))
        return [self._d.users[b] for _, b in mine if b in self._d.users]

    async def blockers_among(self, user_ids: Sequence[str], blocked_id: str) -> set[str]:
        return {u for u in user_ids if (u, blocked_id) in self._d.blocks}

    async def delete(self, user_id: str) -> None:
        user = self._d.users.pop(user_id, None)
        if user:
            self._d.user_by_email.pop(user.email, None)
        for pair in [pair for pair in self._d.blocks if user_id in pair]:
            del self._d.blocks[pair]


class InMemoryChatRepo:
    def __init__(self, data: _Data, clock: Clock):
        self._d = data
        self._clock = clock

    def _create(self, kind, title, creator_id: str, member_ids: Sequence[str]) -> Chat:
        now = self._clock.now()
        members = tuple(dict.fromkeys([creator_id, *member_ids]))
        chat = Chat(
            id=_new_id(),
            kind=kind,
            title=title,
            member_ids=members,
            created_by=creator_id,
            created_at=now,
            updated_at=now,
        )
        self._d.chats[chat.id] = chat
        self._d.messages[chat.id] = []
        for user_id in members:
            self._d.members[(chat.id, user_id)] = Member(chat.id, user_id, 0, now)
        return chat

    async def get(self, chat_id: str) -> Chat | None:
        return self._d.chats.get(chat_id)

    async def find_direct(self, user_a: str, user_b: str) -> Chat | None:
        chat_id = self._d.direct.get(direct_key(user_a, user_b))
        return self._d.chats.get(chat_id) if chat_id else None

    async def get_or_create_direct(self, user_a: str, user_b: str) -> Chat:
        key = direct_key(user_a, user_b)
        if key in self._d.direct:
            return self._d.chats[self._d.direct[key]]
        chat = self._create("direct", None, user_a, [user_b])
        self._d.direct[key] = chat.id
        return chat

    async def create_group(self, creator_id: str, title: str, member_ids: Sequence[str]) -> Chat:
        return self._create("group", title, creator_id, member_ids)

    async def add_members(self, chat_id: str, user_ids: Sequence[str]) -> Chat | None:
        chat = self._d.chats.get(chat_id)
        if chat is None:
            return None
        now = self._clock.now()
        new = [u for u in dict.fromkeys(user_ids) if u not in chat.member_ids]
        for user_id in new:
            # A newcomer starts with everything so far read: no backlog of unread.
            self._d.members[(chat_id, user_id)] = Member(chat_id, user_id, chat.last_seq, now)
        chat = replace(chat, member_ids=chat.member_ids + tuple(new))
        self._d.chats[chat_id] = chat
        return chat

    async def remove_member(self, chat_id: str, user_id: str) -> Chat | None:
        chat = self._d.chats.get(chat_id)
        if chat is None:
            return None
        self._d.members.pop((chat_id, user_id), None)
        self._d.has_sent.discard((chat_id, user_id))
        remaining = [self._d.members[(chat_id, u)] for u in chat.member_ids if u != user_id]
        creator = chat.created_by
        if creator == user_id and remaining:
            creator = min(remaining, key=lambda m: (m.joined_at, m.user_id)).user_id
        chat = replace(chat, member_ids=tuple(m.user_id for m in remaining), created_by=creator)
        self._d.chats[chat_id] = chat
        return chat

    async def rename_group(self, chat_id: str, title: str) -> Chat | None:
        chat = self._d.chats.get(chat_id)
        if chat is None or chat.kind != "group":
            return None
        chat = replace(chat, title=title)
        self._d.chats[chat_id] = chat
        return chat

    async def member(self, chat_id: str, user_id: str) -> Member | None:
        return self._d.members.get((chat_id, user_id))

    async def members(self, chat_id: str) -> list[Member]:
        chat = self._d.chats.get(chat_id)
        return [self._d.members[(chat_id, u)] for u in chat.member_ids] if chat else []

    async def membership(self, chat_id: str, user_id: str) -> tuple[Chat, list[Member]] | None:
        chat = self._d.chats.get(chat_id)
        if chat is None or (chat_id, user_id) not in self._d.members:
            return None
        return chat, await self.members(chat_id)

    async def list_for_user(
        self, user_id: str, limit: int = 50, older_than: ChatKey | None = None
    ) -> list[ChatView]:
        views = [
            ChatView(chat, self._d.members[(chat.id, user_id)])
            for chat in self._d.chats.values()
            if (chat.id, user_id) in self._d.members
            and (older_than is None or (chat.updated_at, chat.id) < older_than)
        ]
        views.sort(key=lambda v: (v.chat.updated_at, v.chat.id), reverse=True)
        return views[:limit]

    async def listing(self, user_id: str, limit: int, older_than: ChatKey | None = None) -> ChatListing:
        views = await self.list_for_user(user_id, limit, older_than)
        ids = {u for v in views for u in v.chat.member_ids}
        return ChatListing(views, {u: self._d.users[u] for u in ids if u in self._d.users})

    async def mark_read(self, chat_id: str, user_id: str, seq: int) -> Member | None:
        member = self._d.members.get((chat_id, user_id))
        chat = self._d.chats.get(chat_id)
        if member is None or chat is None:
            return None
        target = min(max(seq, member.last_read_seq), chat.last_seq)
        member = replace(member, last_read_seq=target)
        self._d.members[(chat_id, user_id)] = member
        return member

    async def read_up_to(self, chat_id: str, user_id: str, seq: int, at: datetime) -> ReadMove | None:
        chat, before = self._d.chats.get(chat_id), self._d.members.get((chat_id, user_id))
        if chat is None or before is None:
            return None
        after = await self.mark_read(chat_id, user_id, seq)
        cursors = {u: self._d.members[(chat_id, u)].last_read_seq for u in chat.member_ids}
        stamp = seen_range(cursors, user_id, before.last_read_seq, after.last_read_seq)
        if stamp is not None:
            _stamp_seen(self._d, chat_id, *stamp, at)
        return ReadMove(before.last_read_seq, after.last_read_seq, after, chat.member_ids)

    async def presence_contacts(
        self, user_id: str, among: Sequence[str] | None = None, limit: int = 1000
    ) -> set[str]:
        wanted = None if among is None else set(among)
        latest: dict[str, datetime] = {}
        for chat in self._d.chats.values():
            if (chat.id, user_id) not in self._d.members:
                continue
            for other in chat.member_ids:
                if other == user_id or (wanted is not None and other not in wanted):
                    continue
                exchanged = {(chat.id, user_id), (chat.id, other)} <= self._d.has_sent
                if chat.kind != "group" and not exchanged:
                    continue
                if (user_id, other) in self._d.blocks or (other, user_id) in self._d.blocks:
                    continue
                latest[other] = max(latest.get(other, chat.updated_at), chat.updated_at)
        return set(sorted(latest, key=latest.__getitem__, reverse=True)[:limit])

    async def set_muted(self, chat_id: str, user_id: str, muted: bool) -> Member | None:
        member = self._d.members.get((chat_id, user_id))
        if member is None:
            return None
        member = replace(member, muted=muted)
        self._d.members[(chat_id, user_id)] = member
        return member

    async def unread_total(self, user_id: str, excluding: Sequence[str] = ()) -> int:
        left_out = set(excluding)
        return sum(
            max(0, self._d.chats[chat_id].last_seq - member.last_read_seq)
            for (chat_id, member_id), member in self._d.members.items()
            if member_id == user_id
            and not member.muted
            and chat_id in self._d.chats
            and chat_id not in left_out
        )


def _stamp_seen(data: _Data, chat_id: str, after_seq: int, up_to_seq: int, at: datetime) -> None:
    messages = data.messages.get(chat_id, [])
    for index in range(max(0, after_seq), min(up_to_seq, len(messages))):
        if messages[index].seen_at is None:
            messages[index] = replace(messages[index], seen_at=at)


class InMemoryMessageRepo:
    def __init__(self, data: _Data, clock: Clock, chats: InMemoryChatRepo):
        self._d = data
        self._clock = clock
        self._chats = chats

    def _sent(self, message: Message, created: bool) -> Sent:
        chat = self._d.chats[message.chat_id]
        if message.reply_to and message.quote is None and message.reply_to <= len(self._d.messages[chat.id]):
            message = replace(message, quote=quote_of(self._d.messages[chat.id][message.reply_to - 1]))
        return Sent(message, created, chat.member_ids, message.id not in self._d.unannounced)

    async def window(
        self,
        chat_id: str,
        user_id: str,
        *,
        limit: int,
        before_seq: int | None = None,
        after_seq: int | None = None,
        read_latest: bool = False,
        changed_after: int | None = None,
        changes_max: int = 0,
        at: datetime | None = None,
    ) -> Window | None:
        chat = self._d.chats.get(chat_id)
        if chat is None or (chat_id, user_id) not in self._d.members:
            return None
        read = None
        if read_latest and self._d.members[(chat_id, user_id)].last_read_seq < chat.last_seq:
            read = await self._chats.read_up_to(chat_id, user_id, chat.last_seq, at or self._clock.now())
        if after_seq is not None:
            page = await self.page_after(chat_id, after_seq, limit)
        else:
            page = await self.page_before(chat_id, before_seq, limit)
        changes = []
        if changed_after is not None and changed_after < chat.last_change:
            changes = await self.changed_after(chat_id, changed_after, changes_max)
        history = self._d.messages[chat_id]
        quoted = [
            replace(m, quote=quote_of(history[m.reply_to - 1])) if 0 < m.reply_to <= len(history) else m
            for m in (*page, *changes)
        ]
        members = [self._d.members[(chat_id, u)] for u in chat.member_ids]
        people = {u: self._d.users[u] for u in chat.member_ids if u in self._d.users}
        return Window(chat, members, people, quoted[: len(page)], quoted[len(page) :], read)

    async def find_sent(self, chat_id: str, sender_id: str, client_id: str) -> Sent | None:
        seq = self._d.by_client_id.get((chat_id, sender_id, client_id))
        return None if seq is None else self._sent(self._d.messages[chat_id][seq - 1], False)

    async def send(self, message: NewMessage, mentions: MentionFinder | None = None) -> Sent:
        if message.client_id:
            stored = await self.find_sent(message.chat_id, message.sender_id, message.client_id)
            if stored is not None:
                return stored
        chat = self._d.chats.get(message.chat_id)
        sender = self._d.members.get((message.chat_id, message.sender_id))
        if chat is None or sender is None:
            raise Forbidden(NOT_A_MEMBER)
        if chat.kind == "direct":
            if any(u not in self._d.users for u in chat.member_ids):
                raise Forbidden(ACCOUNT_GONE)
            if any((u, message.sender_id) in self._d.blocks for u in chat.member_ids):
                raise Forbidden(BLOCKED)
        history = self._d.messages[chat.id]
        if message.reply_to:
            if message.reply_to > len(history):
                raise NotFound(REPLY_MISSING)
            if history[message.reply_to - 1].deleted:
                raise Conflict(REPLY_DELETED)
        if mentions is not None and chat.kind == "group":
            people = [(u, self._d.users[u].name) for u in chat.member_ids if u in self._d.users]
            message = replace(message, mention_ids=mentions(people))
        sent_here = {u for c, u in self._d.has_sent if c == chat.id}
        others_sent = all(u in sent_here for u in chat.member_ids if u != message.sender_id)
        opened = chat.kind == "direct" and message.sender_id not in sent_here and others_sent
        stored, _ = await self.append(message)
        self._d.unannounced[stored.id] = (chat.id, stored.seq)
        cursors = {u: self._d.members[(chat.id, u)].last_read_seq for u in chat.member_ids}
        stamp = seen_range(cursors, message.sender_id, sender.last_read_seq, stored.seq)
        if stamp is not None:
            _stamp_seen(self._d, chat.id, *stamp, stored.created_at)
            stored = history[stored.seq - 1]
        return replace(self._sent(stored, True), opened_exchange=opened)

    async def mark_announced(self, message_ids: Sequence[str]) -> list[str]:
        for message_id in message_ids:
            self._d.unannounced.pop(message_id, None)
        return []

    async def unannounced(self, stored_before: datetime, limit: int) -> list[Sent]:
        found = [self._d.messages[chat_id][seq - 1] for chat_id, seq in self._d.unannounced.values()]
        found = sorted((m for m in found if m.created_at < stored_before), key=lambda m: m.created_at)
        return [self._sent(m, True) for m in found[:limit]]

    async def append(self, message: NewMessage) -> tuple[Message, bool]:
        if message.client_id:
            key = (message.chat_id, message.sender_id, message.client_id)
            if key in self._d.by_client_id:
                return self._d.messages[message.chat_id][self._d.by_client_id[key] - 1], False
        chat = self._d.chats.get(message.chat_id)
        if chat is None:
            raise NotFound("That conversation does not exist.")
        now = self._clock.now()
        stored = Message(
            id=_new_id(),
            chat_id=chat.id,
            seq=chat.last_seq + 1,
            sender_id=message.sender_id,
            kind=message.kind,
            text=message.text,
            image=message.image,
            attachment=message.attachment,
            client_id=message.client_id,
            created_at=now,
            mention_ids=message.mention_ids,
            reply_to=message.reply_to,
        )
        self._d.messages[chat.id].append(stored)
        self._d.stored += 1
        self._d.order[stored.id] = self._d.stored
        if message.client_id:
            self._d.by_client_id[(chat.id, message.sender_id, message.client_id)] = stored.seq
        self._d.chats[chat.id] = replace(
            chat,
            last_seq=stored.seq,
            updated_at=now,
            preview=preview_of(message),
            preview_sender_id=message.sender_id,
        )
        sender = self._d.members.get((chat.id, message.sender_id))
        if sender is not None:
            self._d.members[(chat.id, message.sender_id)] = replace(sender, last_read_seq=stored.seq)
            self._d.has_sent.add((chat.id, message.sender_id))
        for user_id in message.mention_ids:
            if (named := self._d.members.get((chat.id, user_id))) is not None:
                self._d.members[(chat.id, user_id)] = replace(named, mention_seq=stored.seq)
        return stored, True

    async def page_before(self, chat_id: str, before_seq: int | None, limit: int) -> list[Message]:
        messages = self._d.messages.get(chat_id, [])
        end = len(messages) if before_seq is None else max(0, min(before_seq - 1, len(messages)))
        return messages[max(0, end - limit) : end]

    async def mark_seen(self, chat_id: str, after_seq: int, up_to_seq: int, at: datetime) -> None:
        _stamp_seen(self._d, chat_id, after_seq, up_to_seq, at)

    async def page_after(self, chat_id: str, after_seq: int, limit: int) -> list[Message]:
        messages = self._d.messages.get(chat_id, [])
        start = max(0, after_seq)
        return messages[start : start + limit]

    async def by_seqs(self, chat_id: str, seqs: Sequence[int]) -> list[Message]:
        messages = self._d.messages.get(chat_id, [])
        return [messages[s - 1] for s in sorted(set(seqs)) if 1 <= s <= len(messages)]

    async def get(self, chat_id: str, message_id: str) -> Message | None:
        return next((m for m in self._d.messages.get(chat_id, []) if m.id == message_id), None)

    def _change(self, message: Message, **fields) -> Message:
        chat = self._d.chats[message.chat_id]
        changed = replace(message, change=chat.last_change + 1, **fields)
        self._d.messages[chat.id][message.seq - 1] = changed
        preview = preview_of(changed) if message.seq == chat.last_seq else chat.preview
        self._d.chats[chat.id] = replace(chat, last_change=changed.change, preview=preview)
        return changed

    async def edit(self, chat_id: str, message_id: str, text: str, at: datetime) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return None
        return self._change(message, text=text, edited_at=at)

    async def delete(self, chat_id: str, message_id: str, at: datetime) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return message
        return self._change(
            message, text="", image=None, attachment=None, deleted=True, mention_ids=(), reactions=()
        )

    async def react(self, chat_id: str, message_id: str, user_id: str, emoji: str) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return None
        chat = self._d.chats[chat_id]
        reacted = replace(
            message, reactions=toggled(message.reactions, emoji, user_id), change=chat.last_change + 1
        )
        self._d.messages[chat_id][message.seq - 1] = reacted
        self._d.chats[chat_id] = replace(chat, last_change=reacted.change)
        return reacted

    async def erase_sender(self, chat_id: str, sender_id: str) -> list[Image | Attachment]:
        images, attachments = [], []
        for message in list(self._d.messages.get(chat_id, [])):
            if message.sender_id == sender_id and not message.deleted:
                images += [message.image] if message.image is not None else []
                attachments += [message.attachment] if message.attachment is not None else []
                self._change(
                    message, text="", image=None, attachment=None, deleted=True, mention_ids=(), reactions=()
                )
        return images + attachments

    async def purge_search_index(self) -> None:
        return None  # the words searched are a field of the message, changed with it

    async def changed_after(self, chat_id: str, change: int, limit: int) -> list[Message]:
        changed = [m for m in self._d.messages.get(chat_id, []) if m.change > change]
        return sorted(changed, key=lambda m: m.change)[:limit]

    async def search(
        self, user_id: str, query: SearchQuery, limit: int, before: str | None = None
    ) -> list[SearchHit]:
        # A plain word match over every message of my chats, in store order (newest first).
        start = _place(before)
        found = [
            (self._d.order[m.id], m, chat)
            for (chat_id, member), chat in ((k, self._d.chats[k[0]]) for k in self._d.members)
            if member == user_id
            for m in self._d.messages.get(chat_id, [])
            if not m.deleted and self._d.order[m.id] < start and query.matches(text_words(m.text))
        ]
        found.sort(key=lambda hit: hit[0], reverse=True)
        return [SearchHit(m, chat, str(place)) for place, m, chat in found[:limit]]


def _place(key: str | None) -> float:
    if key is None:
        return float("inf")
    if not (key.isascii() and key.isdigit()) or len(key) > 18:
        raise BadInput("cursor is not valid; pass nextCursor back as it was given.")
    return int(key)
