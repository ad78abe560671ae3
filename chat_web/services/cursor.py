"""Opaque tokens (base64url JSON), and the chat list's cursor: where the previous page
ended, as (updated_at, chat id). Clients pass them back as they got them; their insides may
change without notice."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from chat_web.domain import BadInput
from chat_web.ports import ChatKey
from chat_web.services.validation import ID_MAX

CURSOR_MAX = 200  # characters; ours are about 90
_INVALID = "cursor is not valid; pass nextCursor back as it was given."


def pack(value: object) -> str:
    """An opaque token for a JSON value: clients pass it back as they got it."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unpack(token: object, max_length: int, invalid: str) -> object:
    """The JSON value of a token made by `pack`; BadInput(`invalid`) for anything else."""
    if not isinstance(token, str) or len(token) > max_length:
        raise BadInput(invalid)
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadInput(invalid) from None


def encode_cursor(updated_at: datetime, chat_id: str) -> str:
    return pack([updated_at.isoformat(), chat_id])


def decode_cursor(cursor: object) -> ChatKey | None:
    if cursor is None or cursor == "":
        return None
    try:
        at, chat_id = unpack(cursor, CURSOR_MAX, _INVALID)
        updated_at = datetime.fromisoformat(at)
    except (ValueError, TypeError):
        raise BadInput(_INVALID) from None
    if updated_at.tzinfo is None or not isinstance(chat_id, str) or len(chat_id) > ID_MAX:
        raise BadInput(_INVALID)
    return updated_at.astimezone(UTC), chat_id


SEARCH_CURSOR_MAX = 200
_SEARCH_INVALID = "cursor is not valid; pass nextCursor back as it was given."


def encode_search_cursor(key: str) -> str:
    """Message search: the storage backend's position of the last hit shown."""
    return pack(["s", key])


def decode_search_cursor(cursor: object) -> str | None:
    if cursor is None or cursor == "":
        return None
    value = unpack(cursor, SEARCH_CURSOR_MAX, _SEARCH_INVALID)
    if not (isinstance(value, list) and len(value) == 2 and value[0] == "s" and isinstance(value[1], str)):
        raise BadInput(_SEARCH_INVALID)
    return value[1]
