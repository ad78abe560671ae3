"""Domain records. Ids are strings so every storage backend fits (SQL keys, Mongo ObjectIds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ChatKind = Literal["direct", "group"]
MessageKind = Literal["text", "image"]

PREVIEW_CHARS = 120
IMAGE_PREVIEW = "📷 Image"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    created_at: datetime
    # Session tokens carry the version they were issued at; moving it on signs out everywhere.
    token_version: int = 0


@dataclass(frozen=True, slots=True)
class OtpRecord:
    """A stored one-time code: only its hash, when it expires, and how many tries it had."""

    code_hash: str
    expires_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class MailMessage:
    """The `send-otp` payload handed to the mail queue."""

    to: str
    subject: str
    body: str
    html: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    url: str  # the full-size image: an app path (/api/v1/media/<id>) or a Cloudinary URL
    public_id: str
    width: int  # of the full-size image, so a page can size it before it loads
    height: int


THUMB_EDGE = 320  # a thumbnail fits THUMB_EDGE x THUMB_EDGE
_CLOUDINARY_UPLOAD = "/image/upload/"


def thumbnail_url(image: Image) -> str:
    """Where the image's thumbnail is, derived from where the image is (nothing else is stored).

    A Cloudinary delivery URL gets a resize transformation; the app's own media path has
    its thumbnail one segment below.
    """
    if _CLOUDINARY_UPLOAD in image.url:
        head, _, tail = image.url.partition(_CLOUDINARY_UPLOAD)
        return f"{head}{_CLOUDINARY_UPLOAD}c_limit,w_{THUMB_EDGE},h_{THUMB_EDGE}/{tail}"
    return f"{image.url}/thumb"


@dataclass(frozen=True, slots=True)
class Chat:
    id: str
    kind: ChatKind
    title: str | None
    member_ids: tuple[str, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime  # latest activity: creation or the latest message
    last_seq: int = 0
    preview: str = ""
    preview_sender_id: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    chat_id: str
    user_id: str
    last_read_seq: int
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class ChatView:
    """One row of "my chats": the chat and my membership in it."""

    chat: Chat
    me: Member

    @property
    def unread(self) -> int:
        return max(0, self.chat.last_seq - self.me.last_read_seq)


@dataclass(frozen=True, slots=True)
class NewMessage:
    chat_id: str
    sender_id: str
    kind: MessageKind
    text: str = ""
    image: Image | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    chat_id: str
    seq: int
    sender_id: str
    kind: MessageKind
    text: str
    image: Image | None
    client_id: str | None
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    # When every other member had read it (their read cursors all passed its seq).
    seen_at: datetime | None = None


def direct_key(user_a: str, user_b: str) -> str:
    """The same key for a pair of users whichever side asks."""
    first, second = sorted((user_a, user_b))
    return f"{first}:{second}"


def preview_of(message: NewMessage | Message) -> str:
    """The chat list's one-line preview of a message."""
    if message.kind == "image":
        return IMAGE_PREVIEW
    text = " ".join(message.text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
