"""Events published on the fan-out port after a write commits: plain JSON-safe dicts."""

from __future__ import annotations

from typing import Any

from chat_web.domain.models import Message
from chat_web.domain.wire import message_json

MESSAGE_NEW = "message.new"
MESSAGE_EDITED = "message.edited"
MESSAGE_DELETED = "message.deleted"
MESSAGE_REACTED = "message.reacted"
CHAT_READ = "chat.read"
CHAT_CHANGED = "chat.changed"


def user_topic(user_id: str) -> str:
    """Every event for a user goes to their own topic, whichever chat it is about."""
    return f"user:{user_id}"


def message_new(message: Message) -> dict[str, Any]:
    return {"type": MESSAGE_NEW, "chatId": message.chat_id, "message": message_json(message)}


def message_edited(message: Message) -> dict[str, Any]:
    """A message's new text (`editedAt` set); `change` orders it among the chat's changes."""
    return {"type": MESSAGE_EDITED, "chatId": message.chat_id, "message": message_json(message)}


def message_deleted(message: Message) -> dict[str, Any]:
    """A message became a tombstone (`deleted`, no text, no image)."""
    return {"type": MESSAGE_DELETED, "chatId": message.chat_id, "message": message_json(message)}


def message_reacted(message: Message) -> dict[str, Any]:
    """A message's reactions changed (`reactions`: each emoji with who reacted with it)."""
    return {"type": MESSAGE_REACTED, "chatId": message.chat_id, "message": message_json(message)}


def chat_read(chat_id: str, user_id: str, seq: int) -> dict[str, Any]:
    return {"type": CHAT_READ, "chatId": chat_id, "userId": user_id, "seq": seq}


def chat_changed(chat_id: str) -> dict[str, Any]:
    """Members or title changed: clients reload the chat list."""
    return {"type": CHAT_CHANGED, "chatId": chat_id}


TYPING = "typing"
PRESENCE = "presence"
RESYNC = "resync"
CONTACTS_CHANGED = "contacts.changed"
SESSION_ENDED = "session.ended"


def user_typing(chat_id: str, user_id: str, name: str) -> dict[str, Any]:
    """Someone is typing in a chat; readers show it for a few seconds unless it is repeated."""
    return {"type": TYPING, "chatId": chat_id, "userId": user_id, "name": name}


def presence(user_id: str, online: bool, last_seen: str | None) -> dict[str, Any]:
    """A user came online or went offline (`lastSeen`: ISO time they left)."""
    return {"type": PRESENCE, "userId": user_id, "online": online, "lastSeen": last_seen}


def contacts_changed(chat_id: str) -> dict[str, Any]:
    """Whose presence the reader may see changed (an exchange began in this chat): ask again."""
    return {"type": CONTACTS_CHANGED, "chatId": chat_id}


def resync() -> dict[str, Any]:
    """Events may have been lost on the way: the reader catches up from storage."""
    return {"type": RESYNC}


def session_ended(version: int | None = None, token_id: str | None = None) -> dict[str, Any]:
    """Sessions ended: every token issued before `version` (signed out everywhere), or the
    one token with this id (signed out there). Open tabs holding one of them sign out."""
    return {"type": SESSION_ENDED, "version": version, "tokenId": token_id}
