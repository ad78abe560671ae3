"""The JSON shape of a message, shared by the REST API, the fan-out events and the page.

One serializer, so a message reads the same whichever way it reached a client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chat_web.domain.models import Attachment, Image, Message, thumbnail_url


def iso(at: datetime | None) -> str | None:
    """UTC with a `Z`, as pydantic writes it in the REST answers."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


def image_json(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "url": image.url,
        "thumbUrl": thumbnail_url(image),
        "publicId": image.public_id,
        "width": image.width,
        "height": image.height,
    }


def attachment_json(attachment: Attachment | None) -> dict[str, Any] | None:
    if attachment is None:
        return None
    return {
        "url": attachment.url,
        "publicId": attachment.public_id,
        "name": attachment.name,
        "size": attachment.size,
        "contentType": attachment.content_type,
        "durationMs": attachment.duration_ms,
    }


def message_json(message: Message, seen: bool = False) -> dict[str, Any]:
    """`seen`: every member other than the sender has read it (then `seenAt` says when)."""
    return {
        "id": message.id,
        "chatId": message.chat_id,
        "seq": message.seq,
        "senderId": message.sender_id,
        "kind": message.kind,
        "text": message.text,
        "image": image_json(message.image),
        "file": attachment_json(message.attachment) if message.kind == "file" else None,
        "voice": attachment_json(message.attachment) if message.kind == "voice" else None,
        "clientId": message.client_id,
        "createdAt": iso(message.created_at),
        "editedAt": iso(message.edited_at),
        "deleted": message.deleted,
        "seen": seen,
        "seenAt": iso(message.seen_at) if seen else None,
        "mentions": list(message.mention_ids),
        "change": message.change,
        "reactions": [{"emoji": emoji, "userIds": list(who)} for emoji, who in message.reactions],
        "replyTo": quote_json(message),
    }


def quote_json(message: Message) -> dict[str, Any] | None:
    if not message.reply_to:
        return None
    quote = message.quote
    if quote is None:
        return {"seq": message.reply_to, "senderId": None, "text": "", "kind": "text", "deleted": False}
    return {
        "seq": quote.seq,
        "senderId": quote.sender_id,
        "text": quote.text,
        "kind": quote.kind,
        "deleted": quote.deleted,
    }
