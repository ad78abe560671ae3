"""Who a group message mentions: `@` followed by a member's whole name.

Names may hold spaces ("@Ada Lovelace"), so the text is searched for each member's name
rather than split into words; the longest names go first and what they matched is
masked, so "@Ada Lovelace" does not also mention a member called "Ada".
"""

from __future__ import annotations

from collections.abc import Iterable


def mentioned_ids(text: str, members: Iterable[tuple[str, str]], sender_id: str) -> tuple[str, ...]:
    """The ids among `members` ((id, name) pairs) that the text names with `@`, the sender
    left out, in the order of the members given."""
    if "@" not in text:
        return ()
    folded = text.casefold()
    named: set[str] = set()
    people = [(user_id, name.strip().casefold()) for user_id, name in members]
    for user_id, name in sorted(people, key=lambda p: len(p[1]), reverse=True):
        if user_id == sender_id or not name:
            continue
        token = "@" + name
        start = folded.find(token)
        while start != -1:
            end = start + len(token)
            starts_word = start == 0 or not folded[start - 1].isalnum()
            ends_word = end == len(folded) or not folded[end].isalnum()
            if starts_word and ends_word:
                named.add(user_id)
                folded = folded[:start] + " " * len(token) + folded[end:]
                break
            start = folded.find(token, start + 1)
    return tuple(user_id for user_id, _ in people if user_id in named)
