"""Domain records. Ids are strings so every storage backend fits (SQL keys, Mongo ObjectIds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ChatKind = Literal["direct", "group"]
MessageKind = Literal["text", "image", "file", "voice"]

PREVIEW_CHARS = 120
IMAGE_EMOJI = "📷"
IMAGE_PREVIEW = f"{IMAGE_EMOJI} Image"
FILE_EMOJI = "📎"
VOICE_EMOJI = "🎤"
DELETED_PREVIEW = "Message deleted"
REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")  # the fixed set a message can get


# How a person whose account was deleted is shown: their opaque id stays on what they left.
DELETED_ACCOUNT = "Deleted account"


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


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file or a voice recording on a message. Both live in the app's own store and are
    served by it to the chat's members (README "Files and voice messages")."""

    url: str  # an app path: /api/v1/media/<id>
    public_id: str
    name: str  # the sanitised original name (domain/files.py); a voice message's is "voice.webm"
    size: int  # bytes
    content_type: str  # as served: never an executable or markup type (domain/files.py)
    duration_ms: int = 0  # a voice message's length; 0 for a file


def duration_label(duration_ms: int) -> str:
    """m:ss, as a voice message shows its length."""
    seconds = round(duration_ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def attachment_label(kind: str, attachment: Attachment | None) -> str:
    """ "📎 name" or "🎤 Voice message (0:12)": what the chat list and a quote show of it."""
    if kind == "voice":
        length = f" ({duration_label(attachment.duration_ms)})" if attachment else ""
        return f"{VOICE_EMOJI} Voice message{length}"
    return f"{FILE_EMOJI} {attachment.name if attachment else 'File'}"


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
    # Counts edits and deletions in the chat: a message edited or deleted carries the count
    # of its latest change, so a reader catches up on changes after the one it saw.
    last_change: int = 0


@dataclass(frozen=True, slots=True)
class Member:
    chat_id: str
    user_id: str
    last_read_seq: int
    joined_at: datetime
    muted: bool = False  # no notifications, and not in my unread total
    mention_seq: int = 0  # the latest message that mentioned me (unread while above last_read_seq)


@dataclass(frozen=True, slots=True)
class ChatView:
    """One row of "my chats": the chat and my membership in it."""

    chat: Chat
    me: Member

    @property
    def unread(self) -> int:
        return max(0, self.chat.last_seq - self.me.last_read_seq)

    @property
    def mentioned(self) -> bool:
        """An unread message mentions me."""
        return self.me.mention_seq > self.me.last_read_seq


@dataclass(frozen=True, slots=True)
class NewMessage:
    chat_id: str
    sender_id: str
    kind: MessageKind
    text: str = ""
    image: Image | None = None
    client_id: str | None = None
    mention_ids: tuple[str, ...] = ()  # members named with @ in the text
    reply_to: int = 0  # the seq of the message this one answers (0: none)
    attachment: Attachment | None = None  # a file's or a voice message's


@dataclass(frozen=True, slots=True)
class Quote:
    """What a reply shows of the message it answers."""

    seq: int
    sender_id: str
    # its first line (an image's: its caption's), shortened; a file's: "📎 name", a voice
    # message's: "🎤 Voice message (0:12)"; "" for a deleted message
    text: str
    kind: MessageKind
    deleted: bool


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
    mention_ids: tuple[str, ...] = ()
    change: int = 0  # the chat's change count at this message's latest edit, deletion or reaction
    # emoji -> who reacted with it, in the order they did (kept on the message, so a page of
    # history needs no second query however many reactions a chat has)
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    reply_to: int = 0  # the seq of the message this one answers (0: none)
    quote: Quote | None = None  # what it shows of that message, attached when read
    attachment: Attachment | None = None  # a file's or a voice message's


QUOTE_CHARS = 100


def quote_of(message: Message) -> Quote:
    text = quote_line(message.text, message.deleted)
    if message.kind in ("file", "voice") and not message.deleted:
        text = attachment_label(message.kind, message.attachment)
    return Quote(message.seq, message.sender_id, text, message.kind, message.deleted)


def quote_line(text: str, deleted: bool = False) -> str:
    """What a quote keeps of a message's text (an image's caption): its first line, shortened."""
    line = "" if deleted else text.strip().split("\n", 1)[0]
    return line if len(line) <= QUOTE_CHARS else line[: QUOTE_CHARS - 1] + "…"


def quote_label(quote: Quote) -> str:
    """The line a reply shows of the message it answers, the same for every reader and
    whether it was just sent or read back from storage: its first line, "📷 <caption>" or
    "📷 Image" for an image, or "Message deleted"."""
    if quote.deleted:
        return DELETED_PREVIEW
    if quote.kind == "image":
        return f"{IMAGE_EMOJI} {quote.text}" if quote.text else IMAGE_PREVIEW
    return quote.text  # a file's and a voice message's text is their label already


def toggled(reactions: tuple[tuple[str, tuple[str, ...]], ...], emoji: str, user_id: str):
    """The reactions after `user_id` toggles `emoji`: added if absent, removed if present."""
    table = {e: list(who) for e, who in reactions}
    who = table.setdefault(emoji, [])
    if user_id in who:
        who.remove(user_id)
    else:
        who.append(user_id)
    return tuple((e, tuple(w)) for e in REACTIONS if (w := table.get(e)))


def direct_key(user_a: str, user_b: str) -> str:
    """The same key for a pair of users whichever side asks."""
    first, second = sorted((user_a, user_b))
    return f"{first}:{second}"


def preview_of(message: NewMessage | Message) -> str:
    """The chat list's one-line preview of a message."""
    if getattr(message, "deleted", False):
        return DELETED_PREVIEW
    if message.kind == "image":
        return IMAGE_PREVIEW
    if message.kind in ("file", "voice"):
        return attachment_label(message.kind, message.attachment)
    text = " ".join(message.text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
