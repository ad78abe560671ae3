"""Who a group message mentions: `@` followed by a member's whole name.

Names may hold spaces ("@Ada Lovelace"), so the text is searched for each member's name
rather than split into words (`chat_web.domain.rich_text.find_mentions`, which the page
also uses to mark them; a name inside a link is no mention): the longest names go first
and what they matched is masked, so "@Ada Lovelace" does not also mention a member
called "Ada".
"""

from __future__ import annotations

from collections.abc import Iterable

from chat_web.domain.rich_text import find_links, find_mentions


def mentioned_ids(text: str, members: Iterable[tuple[str, str]], sender_id: str) -> tuple[str, ...]:
    """The ids among `members` ((id, name) pairs) that the text names with `@`, the sender
    left out, in the order of the members given."""
    if "@" not in text:
        return ()
    people = [(user_id, name) for user_id, name in members if user_id != sender_id]
    links = [(link.start, link.end) for link in find_links(text)]  # "x.com/@bob" names nobody
    named = {mention.user_id for mention in find_mentions(text, people, links)}
    return tuple(user_id for user_id, _ in people if user_id in named)
