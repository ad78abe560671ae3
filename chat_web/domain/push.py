"""Web Push: a browser's subscription, one push to it, and what a notification says.

The wording is shared with the page's in-tab notifications (chat_web/state/chat_live.py),
so a push and a notification from an open tab read the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chat_web.domain.models import IMAGE_PREVIEW, PREVIEW_CHARS, Message

ENDPOINT_MAX = 2000  # push services' endpoints are a few hundred characters
KEY_MAX = 200  # p256dh is 87 base64url characters, auth 22


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """One browser's push subscription (PushSubscription.toJSON() in the page)."""

    id: str  # derived from the endpoint: one row per browser subscription, whoever registers it
    user_id: str
    endpoint: str
    p256dh: str  # the browser's ECDH public key (base64url)
    auth: str  # the browser's auth secret (base64url)
    created_at: datetime


def subscription_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class PushJob:
    """One push of one message to one subscription: the unit a worker takes off the queue,
    and the key (message_id, subscription_id) that makes it go out at most once."""

    message_id: str
    subscription_id: str
    user_id: str
    endpoint: str
    p256dh: str
    auth: str
    payload: dict[str, Any]  # what the service worker shows (notice_payload)


def notice_text(
    chat_title: str, is_group: bool, sender: str | None, mentioned: bool, line: str
) -> tuple[str, str]:
    """(title, body) of a notification: the chat's name; who wrote in a group, and
    "<who> mentioned you: " when the message names the reader."""
    if mentioned and sender:
        return chat_title, f"{sender} mentioned you: {line}"
    if is_group and sender:
        return chat_title, f"{sender}: {line}"
    return chat_title, line


def first_line(message: Message) -> str:
    """The message's first non-empty line, cut to a preview's length."""
    if message.kind == "image":
        return IMAGE_PREVIEW
    line = next((part.strip() for part in message.text.splitlines() if part.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def notice_payload(message: Message, title: str, body: str) -> dict[str, Any]:
    """The push's JSON: the service worker shows title/body and opens `url` on a click."""
    return {
        "title": title,
        "body": body,
        "chatId": message.chat_id,
        "messageId": message.id,
        "tag": f"chat-{message.chat_id}",  # one notification per chat, as in the page
        "url": f"/chat/{message.chat_id}",
    }


class PushServiceDown(Exception):
    """The browser's push service could not be reached (a sender raises it)."""


class TransientPushError(Exception):
    """Worth trying again later (the push service is down, busy or asks to slow down)."""


class PermanentPushError(Exception):
    """Trying again cannot help (a malformed job, a push refused for good): dead-letter it."""
