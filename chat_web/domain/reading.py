"""Who has read a chat up to a message, from the members' read cursors (one per member,
never a mark per message): the rule behind a group's "Seen by", on the page and in the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chat_web.domain.models import Member


def readers(
    seq: int, me: str, cursors: Mapping[str, int], names: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """The ids of the other members whose cursor reached `seq`, and of those it has not yet,
    each list by name (then id). A member with no name (a deleted account) is left out: they
    will read nothing more."""
    read, unread = [], []
    for user_id, cursor in cursors.items():
        if user_id == me or user_id not in names:
            continue
        (read if cursor >= seq else unread).append(user_id)

    def by_name(ids: list[str]) -> list[str]:
        return sorted(ids, key=lambda user_id: (names[user_id].casefold(), user_id))

    return by_name(read), by_name(unread)


def read_floor(members: Sequence[Member]) -> int:
    """Every member has read up to here. A sender's cursor is always past their own
    messages, so a message at or below this seq is read by all the others ("seen")."""
    return min((m.last_read_seq for m in members), default=0)
