"""'Seen by Ada, Bob' under my latest message in a group, from the read cursors a tab holds.

Read state is one cursor per member (`ChatState._cursors`), never a mark per message: a
member has read a message when their cursor reached its seq. So who has seen my latest
message is worked out here from the cursors and names the tab already has, again each time a
cursor moves (a `chat.read` event) or the window changes; nothing is stored or asked for.
Pure functions and a small mixin of ChatState (`_refresh_seen`), so the rule is tested apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from chat_web.domain.reading import readers
from chat_web.state.rows import WINDOW_PARTS, MsgRow

NAMES_SHOWN = 3  # "Seen by Ada, Bob, Cy"; one more reader: "Seen by Ada, Bob and 2 others"


@dataclasses.dataclass(slots=True)
class SeenLine:
    """What the page shows under my latest message: the line, and the list it opens."""

    seq: int = 0  # the message carrying the line (0: none)
    label: str = ""  # "Seen by Ada, Bob"; "" while no one else has read it
    read: list[str] = dataclasses.field(default_factory=list)  # who has, by name
    unread: list[str] = dataclasses.field(default_factory=list)  # who has not yet


def label_of(read: list[str], others: int) -> str:
    """The line for these readers (names, in the order shown) out of `others` members."""
    if not read:
        return ""
    if len(read) == others and others > 1:
        return "Seen by everyone"
    if len(read) <= NAMES_SHOWN:
        return "Seen by " + ", ".join(read)
    shown = NAMES_SHOWN - 1
    return f"Seen by {', '.join(read[:shown])} and {len(read) - shown} others"


def line_for(seq: int, me: str, cursors: Mapping[str, int], names: Mapping[str, str]) -> SeenLine:
    """Who of the other members has read up to `seq` (their cursor reached it), and who not.

    A member with no name here (a deleted account) is left out: they will read nothing more."""
    read_ids, unread_ids = readers(seq, me, cursors, names)
    read, unread = [names[i] for i in read_ids], [names[i] for i in unread_ids]
    return SeenLine(seq, label_of(read, len(read) + len(unread)), read, unread)


def latest_mine(parts_newest_first: Iterable[list[MsgRow]]) -> int:
    """The seq of my newest stored message still there (not deleted), or 0; the window's
    parts come newest first, and the walk stops at the first of mine."""
    for rows in parts_newest_first:
        for row in reversed(rows):
            if row.mine and row.seq and not row.deleted:
                return row.seq
    return 0


class SeenBy:
    """ChatState's side: keep `seen` up to date (called where the window or a cursor changes)."""

    def _refresh_seen(self) -> None:
        line = SeenLine()
        # Only in a group (a direct chat has its ticks), and only while the window reaches the
        # live end: opened far up the history, my latest message on screen is not my latest.
        if self.get_value("_group") and not self.get_value("newer_waiting"):
            seq = latest_mine(self.get_value(part) for part in reversed(WINDOW_PARTS))
            if seq:
                line = line_for(seq, self.user_id, self.get_value("_cursors"), self.get_value("_names"))
        if line != self.get_value("seen"):
            self.seen = line
