"""Who has read a chat up to a message, from the members' read cursors (one per member,
never a mark per message): the rule behind a group's "Seen by", on the page and in the API."""

from __future__ import annotations

from collections.abc import Mapping


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
