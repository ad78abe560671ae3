"""The opaque cursor of the chat list: where the previous page ended, as (updated_at, chat id).

Clients pass it back as they got it; its insides may change without notice.
"""

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


def encode_cursor(updated_at: datetime, chat_id: str) -> str:
    raw = json.dumps([updated_at.isoformat(), chat_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: object) -> ChatKey | None:
    if cursor is None or cursor == "":
        return None
    if not isinstance(cursor, str) or len(cursor) > CURSOR_MAX:
        raise BadInput(_INVALID)
    try:
        at, chat_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        updated_at = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadInput(_INVALID) from None
    if updated_at.tzinfo is None or not isinstance(chat_id, str) or len(chat_id) > ID_MAX:
        raise BadInput(_INVALID)
    return updated_at.astimezone(UTC), chat_id
