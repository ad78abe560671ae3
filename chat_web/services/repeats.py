"""Which message events a stream already delivered, so a repeated one is not sent twice.

A stored message may be published more than once (a retried send, a relay republishing
it). A message event is the same event when it names the same chat, seq and kind of
change: `message.new` is (chat, seq); an edit, deletion or reaction is (chat, seq, change),
the chat's change count at that change. Memory is bounded: per chat, the newest number
seen and a bitmap of the `WINDOW` numbers below it (events may arrive a little out of
order); at most `CHATS` chats, least recently active forgotten first. What falls outside
is delivered again, never dropped: a page that merges by seq shrugs at a repeat, while a
lost event would be a hole.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from chat_web.domain.events import MESSAGE_DELETED, MESSAGE_EDITED, MESSAGE_NEW, MESSAGE_REACTED

WINDOW = 256
CHATS = 512
_CHANGES = {MESSAGE_EDITED, MESSAGE_DELETED, MESSAGE_REACTED}


class _Seen:
    """Numbers seen: the newest, and a bitmap of the WINDOW below it (bit i: newest - i)."""

    __slots__ = ("newest", "bits")

    def __init__(self, number: int):
        self.newest, self.bits = number, 1

    def add(self, number: int) -> bool:
        """False if `number` was seen already."""
        if number > self.newest:
            shift = number - self.newest
            self.bits = ((self.bits << shift) | 1) & ((1 << WINDOW) - 1) if shift < WINDOW else 1
            self.newest = number
            return True
        back = self.newest - number
        if back >= WINDOW:
            return True  # too old to remember: deliver (a repeat costs less than a hole)
        if self.bits >> back & 1:
            return False
        self.bits |= 1 << back
        return True


class RepeatFilter:
    """One per stream: `first_time(event)` is False for a message event it already passed."""

    def __init__(self) -> None:
        self._chats: OrderedDict[tuple[str, str], _Seen] = OrderedDict()

    def first_time(self, event: dict[str, Any]) -> bool:
        key = _key(event)
        if key is None:
            return True  # not a message event (typing, presence, ...): nothing to compare
        chat_key, number = key
        seen = self._chats.get(chat_key)
        if seen is None:
            self._chats[chat_key] = _Seen(number)
            if len(self._chats) > CHATS:
                self._chats.popitem(last=False)
            return True
        self._chats.move_to_end(chat_key)
        return seen.add(number)


def _key(event: dict[str, Any]) -> tuple[tuple[str, str], int] | None:
    """((chat, kind), number): seq for a new message, the change count for a change."""
    kind = event.get("type")
    message = event.get("message")
    chat_id = event.get("chatId")
    if kind not in _CHANGES and kind != MESSAGE_NEW or not isinstance(message, dict) or not chat_id:
        return None
    number = message.get("seq") if kind == MESSAGE_NEW else message.get("change")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return None  # nothing reliable to compare: deliver
    return (str(chat_id), "new" if kind == MESSAGE_NEW else "change"), number
