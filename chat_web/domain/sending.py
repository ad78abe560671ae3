"""The message path as use cases: what one send or one read stores, and whom it concerns.

Each is one storage call (one transaction where the backend has them); the service
publishes what it returns after the write committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from chat_web.domain.models import Chat, ChatView, Member, Message, User, quote_of

NOT_A_MEMBER = "You are not a member of this conversation."
REPLY_MISSING = "The message you reply to is not in this conversation."
REPLY_DELETED = "The message you reply to was deleted."
# The other member of a direct chat blocked the sender (README "Blocking and presence").
BLOCKED = "This person does not accept messages from you."
# The other member of a direct chat deleted the account: nobody would read it.
ACCOUNT_GONE = "This account was deleted: messages can no longer be sent here."

# Given the chat's members as (user id, name): the ids a message names with @.
MentionFinder = Callable[[Sequence[tuple[str, str]]], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Sent:
    """What a send stored, or found already stored under its client id (created=False)."""

    message: Message  # with its quote attached when it answers another message
    created: bool
    member_ids: tuple[str, ...]  # whom to tell
    # Its message.new is known to have been published. A retry of a stored message that
    # is not announced yet publishes it again (readers merge by seq).
    announced: bool
    # The sender's first message in a direct chat where the other had written already: the
    # two now see each other's presence (README "Blocking and presence").
    opened_exchange: bool = False


@dataclass(frozen=True, slots=True)
class ReadMove:
    """A member's read cursor after a read (it only moves forward)."""

    before: int
    after: int
    member: Member
    member_ids: tuple[str, ...]

    @property
    def moved(self) -> bool:
        return self.after > self.before


@dataclass(frozen=True, slots=True)
class Window:
    """What a reader sees of a chat in one storage call: the chat, its members with their
    users, a page of messages (quotes attached) and, when asked, the changes since a count."""

    chat: Chat
    members: list[Member]  # after this call's read, if it read
    people: dict[str, User]  # the members' users (a deleted account is missing)
    messages: list[Message]  # oldest first, up to the limit asked (+1 tells "more")
    changes: list[Message]  # edited, deleted or reacted after `changed_after`, in change order
    read: ReadMove | None  # opening the latest page read the chat


@dataclass(frozen=True, slots=True)
class ChatListing:
    """A page of my chats with the users of everyone in them (one storage call)."""

    views: list[ChatView]
    people: dict[str, User]


def seen_range(cursors: Mapping[str, int], reader: str, before: int, after: int) -> tuple[int, int] | None:
    """`reader`'s cursor moves from `before` to `after` (`cursors` holds the other members'):
    the messages old_floor < seq <= new_floor are now read by every member and get seen_at.

    A sender's cursor is always past their own messages, so the floor of all cursors is
    where "read by all the others" ends. None when the floor does not move.
    """
    others = [seq for user, seq in cursors.items() if user != reader]
    old_floor, new_floor = min([*others, before]), min([*others, after])
    return (old_floor, new_floor) if new_floor > old_floor else None


def with_quotes(messages: list[Message], answered: Callable[[list[int]], Iterable[Message]]) -> list[Message]:
    """Each reply's quote; `answered(seqs)` reads, in one go, the answered messages not in hand."""
    wanted = {m.reply_to for m in messages if m.reply_to}
    if not wanted:
        return messages
    known = {m.seq: m for m in messages if m.seq in wanted}
    missing = sorted(wanted - set(known))
    if missing:
        known.update((m.seq, m) for m in answered(missing))
    return [replace(m, quote=quote_of(known[m.reply_to])) if m.reply_to in known else m for m in messages]
