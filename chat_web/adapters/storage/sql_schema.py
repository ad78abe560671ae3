"""SQL tables (SQLModel). Changes go through an Alembic migration in migrations/versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, DateTime, Index, Text, UniqueConstraint, false, text, true
from sqlmodel import Field, SQLModel

from chat_web.domain import Chat, Image, Member, Message, User
from chat_web.domain.files import attachment_of, attachment_record


def utc_column(**kw) -> Column:
    return Column(DateTime(timezone=True), **kw)


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=32)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(max_length=50, index=True)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class ChatRow(SQLModel, table=True):
    __tablename__ = "chats"

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=8)
    title: str | None = Field(default=None, max_length=80)
    # "smaller id:larger id" for direct chats; NULL for groups. Unique: one chat per pair.
    direct_key: str | None = Field(default=None, max_length=80, unique=True, index=True)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    last_seq: int = 0
    preview: str = Field(default="", max_length=200)
    preview_sender_id: str | None = Field(default=None, max_length=32)
    last_change: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class MemberRow(SQLModel, table=True):
    __tablename__ = "members"

    chat_id: str = Field(primary_key=True, max_length=32, foreign_key="chats.id")
    user_id: str = Field(primary_key=True, max_length=32, index=True)
    last_read_seq: int = 0
    joined_at: datetime = Field(sa_column=utc_column(nullable=False))
    muted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    mention_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # They have sent a message in this chat (set by the send, with their read cursor).
    has_sent: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class BlockRow(SQLModel, table=True):
    """`blocker_id` blocked `blocked_id` (README "Blocking and presence")."""

    __tablename__ = "blocks"

    blocker_id: str = Field(primary_key=True, max_length=32)
    blocked_id: str = Field(primary_key=True, max_length=32, index=True)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class PushSubscriptionRow(SQLModel, table=True):
    """A browser's Web Push subscription (README "Push notifications"); id from the endpoint."""

    __tablename__ = "push_subscriptions"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(max_length=32, index=True)
    endpoint: str = Field(sa_column=Column(Text, nullable=False))
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class PushClaimRow(SQLModel, table=True):
    """A push of a message to a subscription was taken by a worker: it never goes twice."""

    __tablename__ = "push_claims"

    message_id: str = Field(primary_key=True, max_length=32)
    subscription_id: str = Field(primary_key=True, max_length=32)
    claimed_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))


class MessageRow(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "seq", name="uq_messages_chat_seq"),
        UniqueConstraint("chat_id", "client_id", "sender_id", name="uq_messages_client_id"),
        Index("ix_messages_sender", "sender_id"),
        Index("ix_messages_chat_change", "chat_id", "change"),
        # The outbox: stored messages whose message.new is not yet known to be published.
        Index(
            "ix_messages_unannounced",
            "created_at",
            sqlite_where=text("NOT announced"),
            postgresql_where=text("NOT announced"),
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    chat_id: str = Field(max_length=32, foreign_key="chats.id")
    seq: int
    sender_id: str = Field(max_length=32)
    kind: str = Field(max_length=8)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    image_url: str | None = Field(default=None, max_length=1000)
    image_public_id: str | None = Field(default=None, max_length=300)
    image_width: int | None = None
    image_height: int | None = None
    client_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    deleted: bool = False
    seen_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    change: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reply_to: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # {"👍": [user ids in order]} as JSON text: read with the message, no join.
    reactions: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))
    mentions: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": ""})  # ids, spaced
    # False from a send's commit until its message.new is published (the relay's outbox).
    # No default on our side: a row written without it (seeding, imports) counts as announced.
    announced: bool | None = Field(
        default=None, sa_column=Column(Boolean, nullable=False, server_default=true())
    )
    # A file's or a voice message's record as JSON text (attachment_to_json); NULL otherwise.
    attachment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


def utc(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; everything in the domain is UTC-aware.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        created_at=utc(row.created_at),
        token_version=row.token_version,
    )


def to_chat(row: ChatRow, member_ids: tuple[str, ...]) -> Chat:
    return Chat(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        title=row.title,
        member_ids=member_ids,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        last_seq=row.last_seq,
        preview=row.preview,
        preview_sender_id=row.preview_sender_id,
        last_change=row.last_change,
    )


def to_member(row: MemberRow) -> Member:
    return Member(
        row.chat_id, row.user_id, row.last_read_seq, utc(row.joined_at), bool(row.muted), row.mention_seq
    )


def to_message(row: MessageRow) -> Message:
    image = None
    if row.image_url:
        image = Image(row.image_url, row.image_public_id or "", row.image_width or 0, row.image_height or 0)
    return Message(
        id=row.id,
        chat_id=row.chat_id,
        seq=row.seq,
        sender_id=row.sender_id,
        kind=row.kind,  # type: ignore[arg-type]
        text=row.text,
        image=image,
        client_id=row.client_id,
        created_at=utc(row.created_at),
        edited_at=utc(row.edited_at) if row.edited_at else None,
        deleted=row.deleted,
        seen_at=utc(row.seen_at) if row.seen_at else None,
        mention_ids=tuple(row.mentions.split()) if row.mentions else (),
        change=row.change,
        reactions=reactions_from_json(row.reactions),
        reply_to=row.reply_to,
        attachment=attachment_of(json.loads(row.attachment)) if row.attachment else None,
    )


def attachment_to_json(message) -> str | None:
    record = attachment_record(message.attachment)
    return json.dumps(record, ensure_ascii=False) if record else None


def reactions_from_json(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not text:
        return ()
    return tuple((emoji, tuple(who)) for emoji, who in json.loads(text).items() if who)


def reactions_to_json(reactions: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return json.dumps({emoji: list(who) for emoji, who in reactions}, ensure_ascii=False) if reactions else ""
