"""MongoDB storage on PyMongo's async API (AsyncMongoClient).

Ids are ObjectIds; business keys (email, direct-chat pair key, client ids) have their
own unique indexes. A message's seq comes from `find_one_and_update($inc)` on its chat.
No multi-document transactions and no change streams are used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ExecutionTimeout, PyMongoError

from chat_web.adapters.outage import translate_outages
from chat_web.adapters.storage.mongo_push import MongoPushRepo, prepare_push
from chat_web.adapters.storage.mongo_search import prepare_words, words_filter, words_of
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
    ServiceUnavailable,
    User,
    direct_key,
    preview_of,
    quote_of,
)
from chat_web.domain.files import attachment_of, attachment_record
from chat_web.domain.models import DELETED_PREVIEW, REACTIONS
from chat_web.domain.people import people_query
from chat_web.domain.search import SearchHit, SearchQuery
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
from chat_web.ports import ChatKey

log = logging.getLogger(__name__)


def is_outage(exc: BaseException) -> bool:
    """The server is away, switching primaries or too slow (AutoReconnect is a ConnectionFailure)."""
    return isinstance(exc, (ConnectionFailure, ExecutionTimeout, OSError))


# Every repository method: a server that went away answers 503 naming it, never a 500.
_outages = translate_outages(is_outage, lambda _repo: "MongoDB")
_outages(MongoPushRepo)


def _oid(value: str) -> ObjectId | None:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def _now() -> datetime:
    # Mongo keeps milliseconds; trimming here keeps what we return equal to what we store.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _user(doc: dict) -> User:
    return User(
        id=str(doc["_id"]),
        email=doc["email"],
        name=doc["name"],
        created_at=_utc(doc["created_at"]),
        token_version=doc.get("token_version", 0),
    )


def _chat(doc: dict) -> Chat:
    return Chat(
        id=str(doc["_id"]),
        kind=doc["kind"],
        title=doc.get("title"),
        member_ids=tuple(str(m) for m in doc.get("member_ids", [])),
        created_by=str(doc["created_by"]),
        created_at=_utc(doc["created_at"]),
        updated_at=_utc(doc["updated_at"]),
        last_seq=doc.get("last_seq", 0),
        preview=doc.get("preview", ""),
        preview_sender_id=str(doc["preview_sender_id"]) if doc.get("preview_sender_id") else None,
        last_change=doc.get("last_change", 0),
    )


def _member(doc: dict) -> Member:
    return Member(
        str(doc["chat_id"]),
        str(doc["user_id"]),
        doc.get("last_read_seq", 0),
        _utc(doc["joined_at"]),
        bool(doc.get("muted", False)),
        doc.get("mention_seq", 0),
    )


def _message(doc: dict) -> Message:
    image = doc.get("image")
    return Message(
        id=str(doc["_id"]),
        chat_id=str(doc["chat_id"]),
        seq=doc["seq"],
        sender_id=str(doc["sender_id"]),
        kind=doc["kind"],
        text=doc.get("text", ""),
        image=Image(**image) if image else None,
        attachment=attachment_of(doc.get("attachment")),
        client_id=doc.get("client_id"),
        created_at=_utc(doc["created_at"]),
        edited_at=_utc(doc["edited_at"]) if doc.get("edited_at") else None,
        deleted=doc.get("deleted", False),
        seen_at=_utc(doc["seen_at"]) if doc.get("seen_at") else None,
        mention_ids=tuple(str(i) for i in doc.get("mentions", ())),
        change=doc.get("change", 0),
        reply_to=doc.get("reply_to", 0),
        reactions=tuple(
            (emoji, tuple(str(u) for u in who))
            for emoji in REACTIONS
            if (who := (doc.get("reactions") or {}).get(emoji))
        ),
    )


class MongoStore:
    backend = "mongodb"

    def __init__(self, uri: str, database: str | None = None):
        self.client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
        self.db = self.client[database] if database else self.client.get_default_database("chat")
        self.users = MongoUserRepo(self.db)
        self.chats = MongoChatRepo(self.db)
        self.messages = MongoMessageRepo(self.db, self.chats)
        self.push = MongoPushRepo(self.db)

    async def prepare(self) -> None:
        """Check the server answers and create the indexes (idempotent)."""
        try:
            await self.db.command("ping")
            await self.db.users.create_index([("email", ASCENDING)], unique=True)
            await self.db.users.create_index([("name_lower", ASCENDING)])
            await self.db.chats.create_index(
                [("direct_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"direct_key": {"$type": "string"}},
            )
            await self.db.chats.create_index([("member_ids", ASCENDING), ("updated_at", DESCENDING)])
            await self.db.members.create_index([("chat_id", ASCENDING), ("user_id", ASCENDING)], unique=True)
            await self.db.members.create_index([("user_id", ASCENDING)])
            await self.db.blocks.create_index(
                [("blocker_id", ASCENDING), ("blocked_id", ASCENDING)], unique=True
            )
            await self.db.blocks.create_index([("blocked_id", ASCENDING)])
            await self.db.messages.create_index([("chat_id", ASCENDING), ("seq", ASCENDING)], unique=True)
            await self.db.messages.create_index([("chat_id", ASCENDING), ("change", ASCENDING)])
            await self.db.messages.create_index(
                [("created_at", ASCENDING)],
                name="messages_unannounced",
                partialFilterExpression={"announced": False},
            )
            await self.db.messages.create_index(
                [("chat_id", ASCENDING), ("client_id", ASCENDING), ("sender_id", ASCENDING)],
                unique=True,
                partialFilterExpression={"client_id": {"$type": "string"}},
            )
            await prepare_push(self.db)
            # Message search: a stored words field and its index (mongo_search.py).
            await prepare_words(self.db.messages)
        except PyMongoError as exc:
            # The driver's words (hosts, reason) go to the log; callers read only the name.
            log.warning("MONGODB_URI: MongoDB cannot be reached: %s", exc)
            raise ServiceUnavailable("MongoDB cannot be reached; try again shortly.") from exc

    async def close(self) -> None:
        await self.client.close()


@_outages
class MongoUserRepo:
    def __init__(self, db):
        self._users = db.users
        self._blocks = db.blocks

    async def get(self, user_id: str) -> User | None:
        oid = _oid(user_id)
        doc = await self._users.find_one({"_id": oid}) if oid else None
        return _user(doc) if doc else None

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        oids = [o for o in map(_oid, dict.fromkeys(user_ids)) if o]
        if not oids:
            return []
        return [_user(doc) async for doc in self._users.find({"_id": {"$in": oids}})]

    async def get_by_email(self, email: str) -> User | None:
        doc = await self._users.find_one({"email": email})
        return _user(doc) if doc else None

    async def get_or_create(self, email: str, name: str) -> User:
        existing = await self.get_by_email(email)
        if existing:
            return existing
        doc = {"email": email, "name": name, "name_lower": name.lower(), "created_at": _now()}
        try:
            await self._users.insert_one(doc)
        except DuplicateKeyError:
            winner = await self.get_by_email(email)
            if winner is None:
                raise
            return winner
        return _user(doc)

    async def update_name(self, user_id: str, name: str) -> User | None:
        oid = _oid(user_id)
        if oid is None:
            return None
        doc = await self._users.find_one_and_update(
            {"_id": oid},
            {"$set": {"name": name, "name_lower": name.lower()}},
            return_document=ReturnDocument.AFTER,
        )
        return _user(doc) if doc else None

    async def bump_token_version(self, user_id: str) -> User | None:
        oid = _oid(user_id)
        if oid is None:
            return None
        doc = await self._users.find_one_and_update(
            {"_id": oid}, {"$inc": {"token_version": 1}}, return_document=ReturnDocument.AFTER
        )
        return _user(doc) if doc else None

    async def search(
        self, query: str, limit: int, offset: int = 0, exclude_id: str | None = None
    ) -> list[User]:
        wanted = people_query(query)
        if wanted.empty:
            return []
        found: dict[str, Any]
        if wanted.email:
            found = {"email": wanted.email}  # stored normalized (lower-case); its unique index answers
        else:
            # Each word starts the name or follows a space in it.
            found = {"$and": [{"name_lower": {"$regex": f"(^| ){re.escape(w)}"}} for w in wanted.words]}
        if exclude_id and (oid := _oid(exclude_id)):
            # The one searching, and whoever blocked them, are not found.
            blockers = [doc["blocker_id"] async for doc in self._blocks.find({"blocked_id": oid})]
            found["_id"] = {"$nin": [oid, *blockers]}
        cursor = self._users.find(found).sort([("name_lower", ASCENDING), ("_id", ASCENDING)])
        return [_user(doc) async for doc in cursor.skip(offset).limit(limit)]

    async def block(self, blocker_id: str, blocked_id: str, at: datetime) -> bool:
        blocker, blocked = _oid(blocker_id), _oid(blocked_id)
        if blocker is None or blocked is None:
            return False
        # An upsert, not an insert: a second block finds the first even where the unique
        # index is not enforced (CongoDB).
        done = await self._blocks.update_one(
            {"blocker_id": blocker, "blocked_id": blocked}, {"$setOnInsert": {"created_at": at}}, upsert=True
        )
        return done.upserted_id is not None

    async def unblock(self, blocker_id: str, blocked_id: str) -> bool:
        blocker, blocked = _oid(blocker_id), _oid(blocked_id)
        if blocker is None or blocked is None:
            return False
        return (
            await self._blocks.delete_one({"blocker_id": blocker, "blocked_id": blocked})
        ).deleted_count > 0

    async def blocked(self, blocker_id: str) -> list[User]:
        blocker = _oid(blocker_id)
        if blocker is None:
            return []
        cursor = self._blocks.find({"blocker_id": blocker}).sort(
            [("created_at", DESCENDING), ("blocked_id", ASCENDING)]
        )
        order = [doc["blocked_id"] async for doc in cursor]
        users = {doc["_id"]: _user(doc) async for doc in self._users.find({"_id": {"$in": order}})}
        return [users[oid] for oid in order if oid in users]

    async def blockers_among(self, user_ids: Sequence[str], blocked_id: str) -> set[str]:
        blocked, oids = _oid(blocked_id), [o for o in map(_oid, dict.fromkeys(user_ids)) if o]
        if blocked is None or not oids:
            return set()
        cursor = self._blocks.find({"blocked_id": blocked, "blocker_id": {"$in": oids}})
        return {str(doc["blocker_id"]) async for doc in cursor}

    async def delete(self, user_id: str) -> None:
        if oid := _oid(user_id):
            await self._users.delete_one({"_id": oid})
            await self._blocks.delete_many({"$or": [{"blocker_id": oid}, {"blocked_id": oid}]})


@_outages
class MongoChatRepo:
    def __init__(self, db):
        self._chats = db.chats
        self._members = db.members
        self._messages = db.messages
        self._users = db.users
        self._blocks = db.blocks

    async def get(self, chat_id: str) -> Chat | None:
        oid = _oid(chat_id)
        doc = await self._chats.find_one({"_id": oid}) if oid else None
        return _chat(doc) if doc else None

    async def _create(self, kind: str, title: str | None, creator_id: str, member_ids, key=None) -> Chat:
        now = _now()
        members = [_oid(u) for u in dict.fromkeys([creator_id, *member_ids])]
        doc: dict[str, Any] = {
            "kind": kind,
            "title": title,
            "member_ids": members,
            "created_by": _oid(creator_id),
            "created_at": now,
            "updated_at": now,
            "last_seq": 0,
            "preview": "",
            "preview_sender_id": None,
        }
        if key:
            doc["direct_key"] = key
        await self._chats.insert_one(doc)
        # Membership rows are written after the chat: a reader never sees a member of a
        # chat that does not exist. A crash in between leaves a chat nobody can open.
        await self._members.insert_many(
            [{"chat_id": doc["_id"], "user_id": u, "last_read_seq": 0, "joined_at": now} for u in members]
        )
        return _chat(doc)

    async def find_direct(self, user_a: str, user_b: str) -> Chat | None:
        doc = await self._chats.find_one({"direct_key": direct_key(user_a, user_b)})
        return _chat(doc) if doc else None

    async def get_or_create_direct(self, user_a: str, user_b: str) -> Chat:
        key = direct_key(user_a, user_b)
        if doc := await self._chats.find_one({"direct_key": key}):
            return _chat(doc)
        try:
            return await self._create("direct", None, user_a, [user_b], key)
        except DuplicateKeyError:
            doc = await self._chats.find_one({"direct_key": key})
            if doc is None:
                raise
            return _chat(doc)

    async def create_group(self, creator_id: str, title: str, member_ids: Sequence[str]) -> Chat:
        return await self._create("group", title, creator_id, member_ids)

    async def add_members(self, chat_id: str, user_ids: Sequence[str]) -> Chat | None:
        oid = _oid(chat_id)
        chat = await self._chats.find_one({"_id": oid}) if oid else None
        if chat is None:
            return None
        now = _now()
        for user_oid in [o for o in map(_oid, dict.fromkeys(user_ids)) if o]:
            if user_oid in chat["member_ids"]:
                continue
            try:
                await self._members.insert_one(
                    {"chat_id": oid, "user_id": user_oid, "last_read_seq": chat["last_seq"], "joined_at": now}
                )
            except DuplicateKeyError:
                pass
            await self._chats.update_one({"_id": oid}, {"$addToSet": {"member_ids": user_oid}})
        return await self.get(chat_id)

    async def remove_member(self, chat_id: str, user_id: str) -> Chat | None:
        oid, user_oid = _oid(chat_id), _oid(user_id)
        if oid is None:
            return None
        if user_oid is not None:
            await self._chats.update_one({"_id": oid}, {"$pull": {"member_ids": user_oid}})
            await self._members.delete_one({"chat_id": oid, "user_id": user_oid})
            # The creator left: the group passes to the longest-standing member.
            heir = await self._members.find_one(
                {"chat_id": oid}, {"user_id": 1}, sort=[("joined_at", ASCENDING), ("user_id", ASCENDING)]
            )
            if heir is not None:
                await self._chats.update_one(
                    {"_id": oid, "created_by": user_oid}, {"$set": {"created_by": heir["user_id"]}}
                )
        return await self.get(chat_id)

    async def rename_group(self, chat_id: str, title: str) -> Chat | None:
        oid = _oid(chat_id)
        if oid is None:
            return None
        doc = await self._chats.find_one_and_update(
            {"_id": oid, "kind": "group"}, {"$set": {"title": title}}, return_document=ReturnDocument.AFTER
        )
        return _chat(doc) if doc else None

    async def member(self, chat_id: str, user_id: str) -> Member | None:
        oid, user_oid = _oid(chat_id), _oid(user_id)
        if oid is None or user_oid is None:
            return None
        doc = await self._members.find_one({"chat_id": oid, "user_id": user_oid})
        return _member(doc) if doc else None

    async def members(self, chat_id: str) -> list[Member]:
        oid = _oid(chat_id)
        if oid is None:
            return []
        cursor = self._members.find({"chat_id": oid}).sort([("joined_at", ASCENDING), ("user_id", ASCENDING)])
        return [_member(doc) async for doc in cursor]

    async def membership(self, chat_id: str, user_id: str) -> tuple[Chat, list[Member]] | None:
        members = await self.members(chat_id)
        if not any(m.user_id == user_id for m in members):
            return None
        chat = await self.get(chat_id)
        return (chat, members) if chat else None

    async def list_for_user(
        self, user_id: str, limit: int = 50, older_than: ChatKey | None = None
    ) -> list[ChatView]:
        user_oid = _oid(user_id)
        if user_oid is None:
            return []
        query: dict[str, Any] = {"member_ids": user_oid}
        if older_than is not None:
            at, chat_id = older_than
            older: list[dict[str, Any]] = [{"updated_at": {"$lt": at}}]
            if chat_oid := _oid(chat_id):
                older.append({"updated_at": at, "_id": {"$lt": chat_oid}})
            query["$or"] = older
        cursor = self._chats.find(query).sort([("updated_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        chats = [doc async for doc in cursor]
        mine = {
            doc["chat_id"]: doc
            async for doc in self._members.find(
                {"user_id": user_oid, "chat_id": {"$in": [c["_id"] for c in chats]}}
            )
        }
        return [ChatView(_chat(c), _member(mine[c["_id"]])) for c in chats if c["_id"] in mine]

    async def listing(self, user_id: str, limit: int, older_than: ChatKey | None = None) -> ChatListing:
        views = await self.list_for_user(user_id, limit, older_than)
        ids = {_oid(u) for v in views for u in v.chat.member_ids} - {None}
        people = {str(doc["_id"]): _user(doc) async for doc in self._users.find({"_id": {"$in": list(ids)}})}
        return ChatListing(views, people)

    async def mark_read(self, chat_id: str, user_id: str, seq: int) -> Member | None:
        oid, user_oid = _oid(chat_id), _oid(user_id)
        chat = await self._chats.find_one({"_id": oid}, {"last_seq": 1}) if oid else None
        if chat is None or user_oid is None:
            return None
        # $max only ever moves the cursor forward, whatever order the updates land in.
        doc = await self._members.find_one_and_update(
            {"chat_id": oid, "user_id": user_oid},
            {"$max": {"last_read_seq": min(seq, chat["last_seq"])}},
            return_document=ReturnDocument.AFTER,
        )
        return _member(doc) if doc else None

    async def read_up_to(self, chat_id: str, user_id: str, seq: int, at: datetime) -> ReadMove | None:
        oid, user_oid = _oid(chat_id), _oid(user_id)
        if oid is None or user_oid is None:
            return None
        members = await self.members(chat_id)
        before = next((m for m in members if m.user_id == user_id), None)
        chat = await self._chats.find_one({"_id": oid}, {"last_seq": 1})
        if before is None or chat is None:
            return None
        after = await self.mark_read(chat_id, user_id, seq) or before
        cursors = {m.user_id: m.last_read_seq for m in members}
        if (stamp := seen_range(cursors, user_id, before.last_read_seq, after.last_read_seq)) is not None:
            await _stamp_seen(self._messages, oid, *stamp, at)
        return ReadMove(before.last_read_seq, after.last_read_seq, after, tuple(m.user_id for m in members))

    async def presence_contacts(
        self, user_id: str, among: Sequence[str] | None = None, limit: int = 1000
    ) -> set[str]:
        me = _oid(user_id)
        if me is None or (among is not None and not among):
            return set()
        query: dict[str, Any] = {"member_ids": me}
        wanted = None
        if among is not None:
            wanted = {o for o in map(_oid, among) if o is not None}
            query = {"$and": [query, {"member_ids": {"$in": list(wanted)}}]}
        cursor = self._chats.find(query, {"kind": 1, "member_ids": 1}).sort([("updated_at", DESCENDING)])
        chats = [doc async for doc in cursor.limit(_CONTACT_CHATS_MAX)]
        directs = [c["_id"] for c in chats if c["kind"] == "direct"]
        senders: dict[ObjectId, set[ObjectId]] = {}
        if directs:
            async for doc in self._members.find(
                {"chat_id": {"$in": directs}, "has_sent": True}, {"chat_id": 1, "user_id": 1}
            ):
                senders.setdefault(doc["chat_id"], set()).add(doc["user_id"])
        apart = {
            doc["blocked_id"] if doc["blocker_id"] == me else doc["blocker_id"]
            async for doc in self._blocks.find({"$or": [{"blocker_id": me}, {"blocked_id": me}]})
        }
        found: dict[ObjectId, None] = {}  # newest chat first, each person once
        for chat in chats:
            if chat["kind"] == "direct" and me not in senders.get(chat["_id"], set()):
                continue
            for other in chat["member_ids"]:
                if other == me or other in apart or (wanted is not None and other not in wanted):
                    continue
                if chat["kind"] == "direct" and other not in senders.get(chat["_id"], set()):
                    continue
                found.setdefault(other)
        return {str(oid) for oid in list(found)[:limit]}

    async def set_muted(self, chat_id: str, user_id: str, muted: bool) -> Member | None:
        oid, user_oid = _oid(chat_id), _oid(user_id)
        if oid is None or user_oid is None:
            return None
        doc = await self._members.find_one_and_update(
            {"chat_id": oid, "user_id": user_oid},
            {"$set": {"muted": muted}},
            return_document=ReturnDocument.AFTER,
        )
        return _member(doc) if doc else None

    async def unread_total(self, user_id: str, excluding: Sequence[str] = ()) -> int:
        user_oid = _oid(user_id)
        if user_oid is None:
            return 0
        left_out = {oid for oid in map(_oid, excluding) if oid is not None}
        # Two reads rather than a $lookup: my memberships, then those chats' last seqs.
        reads = {
            doc["chat_id"]: doc.get("last_read_seq", 0)
            async for doc in self._members.find({"user_id": user_oid, "muted": {"$ne": True}})
            if doc["chat_id"] not in left_out
        }
        if not reads:
            return 0
        cursor = self._chats.find({"_id": {"$in": list(reads)}}, {"last_seq": 1})
        return sum([max(0, doc.get("last_seq", 0) - reads[doc["_id"]]) async for doc in cursor])


_CONTACT_CHATS_MAX = 1000  # the latest chats whose members' presence a user shares


async def _stamp_seen(messages, chat_oid: ObjectId, after_seq: int, up_to_seq: int, at: datetime) -> None:
    await messages.update_many(
        {"chat_id": chat_oid, "seq": {"$gt": after_seq, "$lte": up_to_seq}, "seen_at": None},
        {"$set": {"seen_at": at.replace(microsecond=at.microsecond // 1000 * 1000)}},
    )


# What a deleted message keeps: its place (seq), sender, times; none of its content.
_TOMBSTONE = {
    "text": "", "words": [], "deleted": True, "image": None, "attachment": None, "mentions": [],
    "reactions": {},
}  # fmt: skip


def _message_doc(chat_oid: ObjectId, message: NewMessage, now: datetime) -> dict[str, Any]:
    image = message.image
    doc: dict[str, Any] = {
        "chat_id": chat_oid,
        "sender_id": _oid(message.sender_id),
        "kind": message.kind,
        "text": message.text,
        "words": words_of(message.text),
        "image": (
            {"url": image.url, "public_id": image.public_id, "width": image.width, "height": image.height}
            if image
            else None
        ),
        "created_at": now,
        "deleted": False,
    }
    if message.attachment is not None:
        doc["attachment"] = attachment_record(message.attachment)
    if message.client_id:
        doc["client_id"] = message.client_id
    if message.mention_ids:
        doc["mentions"] = [_oid(i) for i in message.mention_ids]
    if message.reply_to:
        doc["reply_to"] = message.reply_to
    return doc


class _ClientIdTaken(Exception):
    """A concurrent retry stored this client id first."""


_SEQ_RACES = 50  # concurrent senders to one chat that one send may lose to before giving up


@_outages
class MongoMessageRepo:
    def __init__(self, db, chats: MongoChatRepo):
        self._chats_repo = chats
        self._blocks = db.blocks
        self._messages = db.messages
        self._chats = db.chats
        self._members = db.members
        self._users = db.users

    async def _insert_next(self, chat_oid: ObjectId, doc: dict[str, Any]) -> int:
        """Insert with the chat's next seq; that seq exists only once the insert succeeded.

        Without a transaction, taking the seq from a counter first leaves a hole when the
        insert fails. Here the seq is one past the highest stored, and the unique
        (chat_id, seq) index decides between concurrent senders: the loser tries the next.
        """
        for _ in range(_SEQ_RACES):
            top = await self._messages.find_one({"chat_id": chat_oid}, {"seq": 1}, sort=[("seq", DESCENDING)])
            doc["seq"] = (top["seq"] if top else 0) + 1
            doc.pop("_id", None)
            try:
                await self._messages.insert_one(doc)
                return doc["seq"]
            except DuplicateKeyError as exc:
                if "client_id" in str((exc.details or {}).get("keyPattern", "")):
                    raise _ClientIdTaken from exc
        raise ServiceUnavailable("The conversation is too busy right now; try again.")

    async def _advance_chat(self, chat_oid: ObjectId, message: NewMessage, seq: int, now: datetime) -> None:
        # The chat moves to this message only if no later one got there first.
        await self._chats.update_one(
            {"_id": chat_oid, "last_seq": {"$lt": seq}},
            {
                "$set": {
                    "last_seq": seq,
                    "updated_at": now,
                    "preview": preview_of(message),
                    "preview_sender_id": _oid(message.sender_id),
                }
            },
        )

    async def _member_ids(self, chat_oid: ObjectId) -> tuple[str, ...]:
        cursor = self._members.find({"chat_id": chat_oid}, {"user_id": 1}).sort(
            [("joined_at", ASCENDING), ("user_id", ASCENDING)]
        )
        return tuple([str(doc["user_id"]) async for doc in cursor])

    async def _with_quote(self, message: Message) -> Message:
        if not message.reply_to:
            return message
        original = await self._messages.find_one({"chat_id": _oid(message.chat_id), "seq": message.reply_to})
        return replace(message, quote=quote_of(_message(original))) if original else message

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
        chat_oid = _oid(chat_id)
        if chat_oid is None:
            return None
        members = [
            _member(doc)
            async for doc in self._members.find({"chat_id": chat_oid}).sort(
                [("joined_at", ASCENDING), ("user_id", ASCENDING)]
            )
        ]
        doc = (
            await self._chats.find_one({"_id": chat_oid})
            if any(m.user_id == user_id for m in members)
            else None
        )
        if doc is None:
            return None
        chat = _chat(doc)
        read = None
        mine = next(m for m in members if m.user_id == user_id)
        if read_latest and mine.last_read_seq < chat.last_seq:
            read = await self._chats_repo.read_up_to(chat_id, user_id, chat.last_seq, at or _now())
            members = [read.member if m.user_id == user_id else m for m in members] if read else members
        if after_seq is not None:
            page = await self.page_after(chat_id, after_seq, limit)
        else:
            page = await self.page_before(chat_id, before_seq, limit)
        changes = []
        if changed_after is not None and changed_after < chat.last_change:
            changes = await self.changed_after(chat_id, changed_after, changes_max)
        quoted = [await self._with_quote(m) for m in (*page, *changes)]
        oids = [oid for oid in (_oid(m.user_id) for m in members) if oid is not None]
        people = {str(u["_id"]): _user(u) async for u in self._users.find({"_id": {"$in": oids}})}
        return Window(chat, members, people, quoted[: len(page)], quoted[len(page) :], read)

    async def find_sent(self, chat_id: str, sender_id: str, client_id: str) -> Sent | None:
        chat_oid, sender_oid = _oid(chat_id), _oid(sender_id)
        if chat_oid is None or sender_oid is None:
            return None
        doc = await self._messages.find_one(
            {"chat_id": chat_oid, "client_id": client_id, "sender_id": sender_oid}
        )
        if doc is None:
            return None
        message = await self._with_quote(_message(doc))
        return Sent(message, False, await self._member_ids(chat_oid), doc.get("announced", True))

    async def send(self, message: NewMessage, mentions: MentionFinder | None = None) -> Sent:
        chat_oid, sender_oid = _oid(message.chat_id), _oid(message.sender_id)
        if chat_oid is None or sender_oid is None:
            raise Forbidden(NOT_A_MEMBER)
        if message.client_id and (
            stored := await self.find_sent(message.chat_id, message.sender_id, message.client_id)
        ):
            return stored
        members = [
            doc
            async for doc in self._members.find({"chat_id": chat_oid}).sort(
                [("joined_at", ASCENDING), ("user_id", ASCENDING)]
            )
        ]
        me = next((doc for doc in members if doc["user_id"] == sender_oid), None)
        chat = await self._chats.find_one({"_id": chat_oid}, {"kind": 1}) if me else None
        if me is None or chat is None:
            raise Forbidden(NOT_A_MEMBER)
        if chat.get("kind") == "direct":
            others = [doc["user_id"] for doc in members if doc["user_id"] != sender_oid]
            if await self._users.count_documents({"_id": {"$in": others}}) < len(others):
                raise Forbidden(ACCOUNT_GONE)
            if await self._blocks.find_one({"blocked_id": sender_oid, "blocker_id": {"$in": others}}):
                raise Forbidden(BLOCKED)
        member_ids = tuple(str(doc["user_id"]) for doc in members)
        quote = None
        if message.reply_to:
            original = await self._messages.find_one({"chat_id": chat_oid, "seq": message.reply_to})
            if original is None:
                raise NotFound(REPLY_MISSING)
            if original.get("deleted"):
                raise Conflict(REPLY_DELETED)
            quote = quote_of(_message(original))
        if mentions is not None and chat.get("kind") == "group":
            people = self._users.find({"_id": {"$in": [doc["user_id"] for doc in members]}}, {"name": 1})
            message = replace(
                message, mention_ids=mentions([(str(u["_id"]), u["name"]) async for u in people])
            )
        now = _now()
        doc = {**_message_doc(chat_oid, message, now), "announced": False}
        try:
            seq = await self._insert_next(chat_oid, doc)
        except _ClientIdTaken:
            stored = await self.find_sent(message.chat_id, message.sender_id, message.client_id or "")
            if stored is None:
                raise
            return stored
        await self._advance_chat(chat_oid, message, seq, now)
        await self._members.update_one(
            {"_id": me["_id"]}, {"$max": {"last_read_seq": seq}, "$set": {"has_sent": True}}
        )
        cursors = {str(d["user_id"]): d.get("last_read_seq", 0) for d in members}
        if (stamp := seen_range(cursors, message.sender_id, me.get("last_read_seq", 0), seq)) is not None:
            await _stamp_seen(self._messages, chat_oid, *stamp, now)
        if message.mention_ids:
            await self._members.update_many(
                {"chat_id": chat_oid, "user_id": {"$in": [_oid(i) for i in message.mention_ids]}},
                {"$max": {"mention_seq": seq}},
            )
        others_sent = all(d.get("has_sent") for d in members if d["user_id"] != sender_oid)
        opened = chat.get("kind") == "direct" and not me.get("has_sent") and others_sent
        return Sent(replace(_message(doc), quote=quote), True, member_ids, False, opened)

    async def mark_announced(self, message_ids: Sequence[str]) -> list[str]:
        oids = [oid for oid in map(_oid, message_ids) if oid is not None]
        if oids:
            await self._messages.update_many({"_id": {"$in": oids}}, {"$set": {"announced": True}})
        return []

    async def unannounced(self, stored_before: datetime, limit: int) -> list[Sent]:
        cursor = self._messages.find({"announced": False, "created_at": {"$lt": stored_before}})
        docs = [doc async for doc in cursor.sort("created_at", ASCENDING).limit(limit)]
        found = []
        for doc in docs:
            message = await self._with_quote(_message(doc))
            found.append(Sent(message, True, await self._member_ids(doc["chat_id"]), False))
        return found

    async def _by_client_id(self, chat_oid: ObjectId, message: NewMessage) -> Message | None:
        doc = await self._messages.find_one(
            {"chat_id": chat_oid, "client_id": message.client_id, "sender_id": _oid(message.sender_id)}
        )
        return _message(doc) if doc else None

    async def append(self, message: NewMessage) -> tuple[Message, bool]:
        chat_oid = _oid(message.chat_id)
        if chat_oid is None:
            raise NotFound("That conversation does not exist.")
        if message.client_id and (existing := await self._by_client_id(chat_oid, message)):
            return existing, False
        if await self._chats.find_one({"_id": chat_oid}, {"_id": 1}) is None:
            raise NotFound("That conversation does not exist.")
        now = _now()
        doc = _message_doc(chat_oid, message, now)
        try:
            seq = await self._insert_next(chat_oid, doc)
        except _ClientIdTaken:
            if existing := await self._by_client_id(chat_oid, message):
                return existing, False
            raise
        await self._advance_chat(chat_oid, message, seq, now)
        await self._members.update_one(
            {"chat_id": chat_oid, "user_id": _oid(message.sender_id)},
            {"$max": {"last_read_seq": seq}, "$set": {"has_sent": True}},
        )
        if message.mention_ids:
            await self._members.update_many(
                {"chat_id": chat_oid, "user_id": {"$in": [_oid(i) for i in message.mention_ids]}},
                {"$max": {"mention_seq": seq}},
            )
        return _message(doc), True

    async def by_seqs(self, chat_id: str, seqs: Sequence[int]) -> list[Message]:
        oid = _oid(chat_id)
        if oid is None or not seqs:
            return []
        cursor = self._messages.find({"chat_id": oid, "seq": {"$in": sorted(set(seqs))}}).sort(
            "seq", ASCENDING
        )
        return [_message(doc) async for doc in cursor]

    async def get(self, chat_id: str, message_id: str) -> Message | None:
        oid, message_oid = _oid(chat_id), _oid(message_id)
        if oid is None or message_oid is None:
            return None
        doc = await self._messages.find_one({"_id": message_oid, "chat_id": oid})
        return _message(doc) if doc else None

    async def _change(self, message: Message, values: dict[str, Any]) -> Message | None:
        # No transaction: the count is taken first, so a change that then finds the message
        # deleted leaves a gap in the counts, which readers do not mind (they only compare).
        fields = {k: v for k, v in values.items() if k in ("text", "deleted")}
        chat = await self._chats.find_one_and_update(
            {"_id": _oid(message.chat_id)},
            {"$inc": {"last_change": 1}},
            projection={"last_change": 1, "last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        if chat is None:
            return None
        doc = await self._messages.find_one_and_update(
            {"_id": _oid(message.id), "deleted": {"$ne": True}},
            {"$set": {**values, "change": chat["last_change"]}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        if chat["last_seq"] == message.seq:
            await self._chats.update_one(
                {"_id": chat["_id"], "last_seq": message.seq},
                {"$set": {"preview": preview_of(replace(message, **fields))}},
            )
        return _message(doc)

    async def edit(self, chat_id: str, message_id: str, text: str, at: datetime) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return None
        return await self._change(message, {"text": text, "words": words_of(text), "edited_at": at})

    async def delete(self, chat_id: str, message_id: str, at: datetime) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return message
        return await self._change(message, dict(_TOMBSTONE)) or await self.get(chat_id, message_id)

    async def react(self, chat_id: str, message_id: str, user_id: str, emoji: str) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return None
        chat = await self._chats.find_one_and_update(
            {"_id": _oid(chat_id)},
            {"$inc": {"last_change": 1}},
            projection={"last_change": 1},
            return_document=ReturnDocument.AFTER,
        )
        if chat is None:
            return None
        # $addToSet / $pull on the emoji's list: atomic against other reactions to the message.
        field, user = f"reactions.{emoji}", _oid(user_id)
        reacted = any(emoji == e and user_id in who for e, who in message.reactions)
        operation = {"$pull": {field: user}} if reacted else {"$addToSet": {field: user}}
        doc = await self._messages.find_one_and_update(
            {"_id": _oid(message_id), "deleted": {"$ne": True}},
            {**operation, "$set": {"change": chat["last_change"]}},
            return_document=ReturnDocument.AFTER,
        )
        return _message(doc) if doc else None

    async def erase_sender(self, chat_id: str, sender_id: str) -> list[Image | Attachment]:
        chat_oid, sender = _oid(chat_id), _oid(sender_id)
        if chat_oid is None or sender is None:
            return []
        theirs = {"chat_id": chat_oid, "sender_id": sender, "deleted": {"$ne": True}}
        docs = [
            doc
            async for doc in self._messages.find(theirs, {"image": 1, "attachment": 1, "seq": 1}).sort(
                "seq", ASCENDING
            )
        ]
        if not docs:
            return []
        chat = await self._chats.find_one_and_update(
            {"_id": chat_oid},
            {"$inc": {"last_change": len(docs)}},
            projection={"last_change": 1},
            return_document=ReturnDocument.AFTER,
        )
        if chat is None:
            return []
        first = chat["last_change"] - len(docs)
        await self._messages.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], "deleted": {"$ne": True}},
                    {"$set": {**_TOMBSTONE, "change": first + i}},
                )
                for i, doc in enumerate(docs, start=1)
            ],
            ordered=False,
        )
        await self._chats.update_one(
            {"_id": chat_oid, "preview_sender_id": sender}, {"$set": {"preview": DELETED_PREVIEW}}
        )
        images = [Image(**doc["image"]) for doc in docs if doc.get("image")]
        return images + [attachment_of(doc["attachment"]) for doc in docs if doc.get("attachment")]

    async def purge_search_index(self) -> None:
        return None  # the words searched are a field of the message, changed with it

    async def changed_after(self, chat_id: str, change: int, limit: int) -> list[Message]:
        oid = _oid(chat_id)
        if oid is None:
            return []
        cursor = self._messages.find({"chat_id": oid, "change": {"$gt": change}}).sort("change", ASCENDING)
        return [_message(doc) async for doc in cursor.limit(limit)]

    async def page_before(self, chat_id: str, before_seq: int | None, limit: int) -> list[Message]:
        oid = _oid(chat_id)
        if oid is None:
            return []
        query: dict[str, Any] = {"chat_id": oid}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        docs = [doc async for doc in self._messages.find(query).sort("seq", DESCENDING).limit(limit)]
        return [_message(doc) for doc in reversed(docs)]

    async def mark_seen(self, chat_id: str, after_seq: int, up_to_seq: int, at: datetime) -> None:
        if oid := _oid(chat_id):
            await _stamp_seen(self._messages, oid, after_seq, up_to_seq, at)

    async def page_after(self, chat_id: str, after_seq: int, limit: int) -> list[Message]:
        oid = _oid(chat_id)
        if oid is None:
            return []
        cursor = self._messages.find({"chat_id": oid, "seq": {"$gt": after_seq}}).sort("seq", ASCENDING)
        return [_message(doc) async for doc in cursor.limit(limit)]

    async def search(
        self, user_id: str, query: SearchQuery, limit: int, before: str | None = None
    ) -> list[SearchHit]:
        user_oid = _oid(user_id)
        if query.empty or user_oid is None:
            return []
        chat_oids = [
            doc["chat_id"] async for doc in self._members.find({"user_id": user_oid}, {"chat_id": 1})
        ]
        if not chat_oids:
            return []
        found: dict[str, Any] = {
            **words_filter(query),
            "chat_id": {"$in": chat_oids},
            "deleted": {"$ne": True},
        }
        if before is not None:
            at, message_oid = _search_key(before)
            found["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": message_oid}}]
        cursor = self._messages.find(found).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        docs = [doc async for doc in cursor.limit(limit)]
        chats = {
            doc["_id"]: _chat(doc)
            async for doc in self._chats.find({"_id": {"$in": list({d["chat_id"] for d in docs})}})
        }
        return [
            SearchHit(
                _message(doc), chats[doc["chat_id"]], f"{_utc(doc['created_at']).isoformat()}~{doc['_id']}"
            )
            for doc in docs
            if doc["chat_id"] in chats
        ]


def _search_key(key: str) -> tuple[datetime, ObjectId]:
    at, _, message_id = key.partition("~")
    oid = _oid(message_id)
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        when = None
    if oid is None or when is None or when.tzinfo is None:
        raise BadInput("cursor is not valid; pass nextCursor back as it was given.")
    return when, oid
