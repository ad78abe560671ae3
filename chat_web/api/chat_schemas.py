"""Request and response models of the chat routes (camelCase JSON, like the original)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from chat_web.api.schemas import ApiModel
from chat_web.domain import Chat, Message, User
from chat_web.domain.models import REACTIONS
from chat_web.domain.wire import iso, message_json
from chat_web.services.chats import ChatPage, ChatSummary, HistoryPage, MessageView, SearchPage, SeenUpTo
from chat_web.services.validation import (
    CLIENT_ID_MAX,
    GROUP_MAX,
    GROUP_MIN,
    ID_MAX,
    ID_PATTERN,
    SEQ_MAX,
    TEXT_MAX,
    TITLE_MAX,
)

# Ids and sequence numbers as the API takes them: bounded, so nothing reaches storage
# that it cannot hold. Free text is left to the services, which trim before they count.
ChatId = Annotated[str, Field(pattern=ID_PATTERN, max_length=ID_MAX)]
UserId = Annotated[str, Field(pattern=ID_PATTERN, max_length=ID_MAX)]
Seq = Annotated[int, Field(ge=0, le=SEQ_MAX, strict=True)]  # strict: `true` is not a seq


class UserBrief(ApiModel):
    id: str
    name: str

    @classmethod
    def of(cls, user: User) -> UserBrief:
        return cls(id=user.id, name=user.name)

    @staticmethod
    def wire(user: User) -> dict:
        return {"id": user.id, "name": user.name}


class NewChatIn(ApiModel):
    other_user_id: UserId


class ChatIdOut(ApiModel):
    chat_id: str


class LatestMessage(ApiModel):
    text: str = Field(
        description="A preview: the text, `📷 Image` for an image, `📎 name` for a file, "
        "`🎤 Voice message (0:12)` for a voice message."
    )
    sender_id: str | None


class ChatOut(ApiModel):
    id: str
    chat_id: str = Field(description="The same as id (the original API's name).")
    kind: str
    title: str | None
    members: list[UserBrief] = Field(description="The other members.")
    created_by: str
    latest_message: LatestMessage | None
    last_seq: int
    unread: int
    muted: bool = Field(description="I muted this chat: no notifications, not in my unread total.")
    mentioned: bool = Field(description="An unread message in this chat mentions me.")
    updated_at: datetime

    @classmethod
    def of(
        cls, chat: Chat, others: list[User], unread: int = 0, muted: bool = False, mentioned: bool = False
    ) -> ChatOut:
        latest = LatestMessage(text=chat.preview, sender_id=chat.preview_sender_id) if chat.last_seq else None
        return cls(
            id=chat.id,
            chat_id=chat.id,
            kind=chat.kind,
            title=chat.title,
            members=[UserBrief.of(u) for u in others],
            created_by=chat.created_by,
            latest_message=latest,
            last_seq=chat.last_seq,
            unread=unread,
            muted=muted,
            mentioned=mentioned,
            updated_at=chat.updated_at,
        )

    @classmethod
    def of_summary(cls, summary: ChatSummary) -> ChatOut:
        return cls.of(summary.chat, summary.others, summary.unread, summary.muted, summary.mentioned)

    @staticmethod
    def wire(summary: ChatSummary) -> dict:
        """This model's JSON, built directly (chat_web/api/encoded.py)."""
        chat = summary.chat
        latest = {"text": chat.preview, "senderId": chat.preview_sender_id} if chat.last_seq else None
        return {
            "id": chat.id,
            "chatId": chat.id,
            "kind": chat.kind,
            "title": chat.title,
            "members": [UserBrief.wire(u) for u in summary.others],
            "createdBy": chat.created_by,
            "latestMessage": latest,
            "lastSeq": chat.last_seq,
            "unread": summary.unread,
            "muted": summary.muted,
            "mentioned": summary.mentioned,
            "updatedAt": iso(chat.updated_at),
        }


class ChatListOut(ApiModel):
    chats: list[ChatOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")

    @classmethod
    def of(cls, page: ChatPage) -> ChatListOut:
        return cls(chats=[ChatOut.of_summary(s) for s in page.items], next_cursor=page.next_cursor)

    @staticmethod
    def wire(page: ChatPage) -> dict:
        return {"chats": [ChatOut.wire(s) for s in page.items], "nextCursor": page.next_cursor}


class GroupIn(ApiModel):
    title: str = Field(description=f"1-{TITLE_MAX} characters after trimming.")
    member_ids: list[UserId] = Field(
        max_length=GROUP_MAX,
        description=f"The other members: a group has {GROUP_MIN}-{GROUP_MAX} members, you included.",
    )


class RenameIn(ApiModel):
    title: str = Field(description=f"The group's new title: 1-{TITLE_MAX} characters after trimming.")


class MembersIn(ApiModel):
    user_ids: list[UserId] = Field(max_length=GROUP_MAX)


class ReadIn(ApiModel):
    seq: Seq


class ReadOut(ApiModel):
    chat_id: str
    last_read_seq: int


class ReaderOut(ApiModel):
    id: str
    name: str
    last_read_seq: int = Field(description="Their read cursor: they have read every message up to it.")


class SeenOut(ApiModel):
    chat_id: str
    seq: int
    read_by: list[ReaderOut] = Field(
        description="The other members whose read cursor reached `seq`, by name (the sender of the "
        "message is among them: sending reads what came before)."
    )
    not_yet: list[ReaderOut] = Field(description="The other members who have not read up to `seq` yet.")

    @classmethod
    def of(cls, seen: SeenUpTo) -> SeenOut:
        def out(readers):
            return [ReaderOut(id=r.user.id, name=r.user.name, last_read_seq=r.last_read_seq) for r in readers]

        return cls(chat_id=seen.chat_id, seq=seen.seq, read_by=out(seen.read), not_yet=out(seen.unread))


class MuteIn(ApiModel):
    muted: bool = Field(strict=True)


class MuteOut(ApiModel):
    chat_id: str
    muted: bool


class UnreadOut(ApiModel):
    total: int = Field(description="Unread messages over all my chats that are not muted.")


class SendIn(ApiModel):
    chat_id: ChatId
    text: str = Field(description=f"1-{TEXT_MAX:,} characters after trimming.")
    client_id: str | None = Field(
        default=None,
        max_length=CLIENT_ID_MAX,
        description="Your id for this send: a retry with it returns the first result.",
    )
    reply_to: Seq | None = Field(default=None, description="The seq of the message this one answers.")


# POST /message as multipart/form-data: documented by hand (FastAPI takes one body per route).
# One of `image`, `file` or `voice`; the route refuses a form with none or more than one.
_UPLOADS = {
    "image": "A JPEG, PNG, GIF or WebP (told from its bytes, not its name) of at most 5 MB "
    "(MAX_IMAGE_BYTES) and 40 megapixels.",
    "file": "Any file of at most 25 MB (MAX_FILE_BYTES), counted as it arrives; its name is kept, "
    "cleaned. Served to the members as a download, never inline.",
    "voice": "A voice recording: Opus or Vorbis audio in WebM (no video track), at most 5 minutes and "
    "8 MB; its length is measured from the recording.",
}
IMAGE_FORM_SCHEMA = {
    "type": "object",
    "required": ["chatId"],
    "additionalProperties": False,  # the route refuses any other field (422)
    "properties": {
        "chatId": {"type": "string", "pattern": ID_PATTERN, "maxLength": ID_MAX},
        **{
            name: {"type": "string", "format": "binary", "description": description}
            for name, description in _UPLOADS.items()
        },
        # No `type` on the two optional texts: a form field is text whatever it holds, so a
        # "wrong type" (a number, null) cannot be sent as such; declaring one would have fuzzers
        # expect a refusal of "5" or "" that the form cannot tell from a real caption.
        "text": {
            "description": f"An optional caption (text) of an image or a file: up to {TEXT_MAX:,} "
            "characters after trimming."
        },
        "clientId": {
            "maxLength": CLIENT_ID_MAX,
            "description": "Your id for this send (text): a retry with it returns the first result.",
        },
    },
    "oneOf": [{"required": [name]} for name in _UPLOADS],
}
IMAGE_FORM_ENCODING = {
    "image": {"contentType": "image/jpeg, image/png, image/gif, image/webp"},
    "file": {"contentType": "*/*"},
    "voice": {"contentType": "audio/webm"},
}


class ImageOut(ApiModel):
    url: str = Field(
        description="The full-size image (at most 1600x1600): an absolute URL (Cloudinary) or a path of "
        "this API (/api/v1/media/<id>), fetched with the same Bearer token."
    )
    thumb_url: str = Field(description="Its thumbnail, at most 320x320: the same kind of address.")
    public_id: str
    width: int
    height: int


class AttachmentOut(ApiModel):
    url: str = Field(
        description="A path of this API (/api/v1/media/<id>), fetched with the same Bearer token by the "
        "chat's members: a file as a download (`Content-Disposition: attachment`), a voice message "
        "inline as its audio type."
    )
    public_id: str
    name: str = Field(description="The file's name, cleaned (no path, control characters or quotes).")
    size: int = Field(description="Bytes.")
    content_type: str = Field(
        description="As served: the type the sender declared, or application/octet-stream for anything "
        "a browser could run or render as a page (HTML, SVG, XML, scripts, executables)."
    )
    duration_ms: int = Field(description="A voice message's length, measured by the server; 0 for a file.")


class MessageOut(ApiModel):
    """The one message shape (chat_web.domain.wire.message_json), documented."""

    id: str
    chat_id: str
    seq: int
    sender_id: str
    kind: str
    text: str
    image: ImageOut | None
    file: AttachmentOut | None = Field(description="A file message's file (kind `file`).")
    voice: AttachmentOut | None = Field(description="A voice message's recording (kind `voice`).")
    client_id: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    seen: bool = Field(description="Every member other than the sender has read it.")
    seen_at: datetime | None
    mentions: list[str] = Field(description="The members named with @ in the text (groups only).")
    reply_to: QuoteOut | None = Field(description="A reply: what it shows of the message it answers.")
    reactions: list[ReactionOut] = Field(description="Each emoji given to the message, in a fixed order.")
    change: int = Field(
        description="The chat's change count at this message's latest edit or deletion (0: none)."
    )

    @classmethod
    def of(cls, message: Message, seen: bool) -> MessageOut:
        return cls.model_validate(message_json(message, seen))

    @classmethod
    def of_view(cls, view: MessageView) -> MessageOut:
        return cls.of(view.message, view.seen)

    @staticmethod
    def wire(message: Message, seen: bool) -> dict:
        return message_json(message, seen)


class HistoryOut(ApiModel):
    messages: list[MessageOut] = Field(description="Oldest first within the page.")
    has_more: bool = Field(description="More messages lie beyond this page in the direction asked.")
    user: UserBrief | None = Field(description="In a direct chat: the other user.")
    members: list[UserBrief] = Field(description="The other members.")
    changed: list[MessageOut] = Field(
        description="With changed_after: the messages edited or deleted since, in change order."
    )
    last_change: int = Field(description="Pass back as changed_after to catch up on edits and deletions.")

    @classmethod
    def of(cls, page: HistoryPage) -> HistoryOut:
        others = [UserBrief.of(u) for u in page.others]
        return cls(
            messages=[MessageOut.of_view(v) for v in page.messages],
            has_more=page.has_more,
            user=others[0] if page.chat.kind == "direct" and others else None,
            members=others,
            changed=[MessageOut.of_view(v) for v in page.changes],
            last_change=page.last_change,
        )

    @staticmethod
    def wire(page: HistoryPage) -> dict:
        others = [UserBrief.wire(u) for u in page.others]
        return {
            "messages": [message_json(v.message, v.seen) for v in page.messages],
            "hasMore": page.has_more,
            "user": others[0] if page.chat.kind == "direct" and others else None,
            "members": others,
            "changed": [message_json(v.message, v.seen) for v in page.changes],
            "lastChange": page.last_change,
        }


class QuoteOut(ApiModel):
    seq: int
    sender_id: str | None
    text: str = Field(
        description="Its first line (an image's: its caption's), shortened; a file's `📎 name`, a voice "
        "message's `🎤 Voice message (0:12)`; empty for a deleted message or an image without a caption."
    )
    kind: str
    deleted: bool


class ReactionOut(ApiModel):
    emoji: str
    user_ids: list[str] = Field(description="Who reacted with it, in the order they did.")


class ReactIn(ApiModel):
    emoji: str = Field(
        max_length=8, description="One of " + " ".join(REACTIONS) + "; the same again takes it back."
    )


class EditIn(ApiModel):
    text: str = Field(description=f"The new text: 1-{TEXT_MAX} characters after trimming.")


class UsersOut(ApiModel):
    users: list[UserBrief]
    next_offset: int | None = Field(description="Pass as offset for the next page; null at the end.")


class SearchResultOut(ApiModel):
    message: MessageOut
    chat_id: str
    chat_title: str = Field(description="The group's title, or in a direct chat the other member's name.")
    highlights: list[tuple[int, int]] = Field(
        description="The matched words of message.text as [start, end) offsets in Unicode code "
        "points (not UTF-16 units), in order."
    )


class SearchOut(ApiModel):
    results: list[SearchResultOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")

    @classmethod
    def of(cls, page: SearchPage) -> SearchOut:
        return cls(
            results=[
                SearchResultOut(
                    message=MessageOut.of(r.message, r.seen),
                    chat_id=r.chat_id,
                    chat_title=r.chat_title,
                    highlights=r.highlights,
                )
                for r in page.results
            ],
            next_cursor=page.next_cursor,
        )
