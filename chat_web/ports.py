"""What the services need from the outside world; adapters implement these."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from chat_web.domain import (
    Attachment,
    Chat,
    ChatView,
    Image,
    MailMessage,
    MediaRecord,
    Member,
    Message,
    NewMessage,
    OtpRecord,
    ProcessedImage,
    User,
)
from chat_web.domain.exports import ExportJob
from chat_web.domain.push import PushJob, PushSubscription
from chat_web.domain.search import SearchHit, SearchQuery
from chat_web.domain.sending import ChatListing, MentionFinder, ReadMove, Sent, Window

ChatKey = tuple[datetime, str]  # (updated_at, chat id): where a page of my chats ends


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class UserRepo(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        """The users that exist among these ids, in no particular order."""

    async def get_by_email(self, email: str) -> User | None: ...

    async def get_or_create(self, email: str, name: str) -> User:
        """The user with this email, created with `name` if new (safe under concurrency)."""

    async def update_name(self, user_id: str, name: str) -> User | None: ...

    async def bump_token_version(self, user_id: str) -> User | None:
        """Move the user's token version on by one, atomically; None if there is no such user."""

    async def search(
        self, query: str, limit: int, offset: int = 0, exclude_id: str | None = None
    ) -> list[User]:
        """Users whose name has a word starting with each word of `query`, or whose email is
        exactly `query` when it holds an `@` (case-insensitive; never an email prefix), by name.
        An empty query finds no one (domain/people.py). `exclude_id` (the one searching) is
        left out, and so is everyone who blocked them."""

    async def block(self, blocker_id: str, blocked_id: str, at: datetime) -> bool:
        """`blocker_id` blocks `blocked_id`; False if that block was there already."""

    async def unblock(self, blocker_id: str, blocked_id: str) -> bool:
        """Lift a block; False if there was none."""

    async def blocked(self, blocker_id: str) -> list[User]:
        """The people `blocker_id` blocked (that still exist), latest block first."""

    async def blockers_among(self, user_ids: Sequence[str], blocked_id: str) -> set[str]:
        """Which of `user_ids` blocked `blocked_id`."""

    async def delete(self, user_id: str) -> None:
        """The user's row, and their blocks either way (blocking them, blocked by them)."""


class ChatRepo(Protocol):
    async def get(self, chat_id: str) -> Chat | None: ...

    async def find_direct(self, user_a: str, user_b: str) -> Chat | None:
        """The direct chat of this pair if there is one (whichever side asks)."""

    async def get_or_create_direct(self, user_a: str, user_b: str) -> Chat:
        """The one direct chat of this pair, whichever side asks, even when asked concurrently."""

    async def create_group(self, creator_id: str, title: str, member_ids: Sequence[str]) -> Chat: ...

    async def add_members(self, chat_id: str, user_ids: Sequence[str]) -> Chat | None: ...

    async def remove_member(self, chat_id: str, user_id: str) -> Chat | None:
        """Take a member out; if they created the group, it passes to the longest-standing
        member left (created_by moves, in the same transaction where the backend has them)."""

    async def rename_group(self, chat_id: str, title: str) -> Chat | None:
        """Give a group a new title (already checked); the chat as it is now, or None if there
        is no such group (a direct chat has no title to change). Its activity order stays."""

    async def member(self, chat_id: str, user_id: str) -> Member | None:
        """The membership, or None: the access check of every chat operation."""

    async def members(self, chat_id: str) -> list[Member]: ...

    async def membership(self, chat_id: str, user_id: str) -> tuple[Chat, list[Member]] | None:
        """The chat and all its memberships if `user_id` is one of them, else None: the access
        check of every chat operation, in as few round trips as the backend allows."""

    async def list_for_user(
        self, user_id: str, limit: int = 50, older_than: ChatKey | None = None
    ) -> list[ChatView]:
        """My chats, latest activity first: by (updated_at, id) descending, so chats that share
        an updated_at keep one order; `older_than` starts after that key (keyset paging)."""

    async def listing(self, user_id: str, limit: int, older_than: ChatKey | None = None) -> ChatListing:
        """list_for_user and the users of every member of those chats, in one storage call."""

    async def mark_read(self, chat_id: str, user_id: str, seq: int) -> Member | None:
        """Move my read cursor forward to `seq` (never back, never past the chat's last seq)."""

    async def read_up_to(self, chat_id: str, user_id: str, seq: int, at: datetime) -> ReadMove | None:
        """The read use case, in one transaction: move my cursor forward to `seq` (never back,
        never past the chat's last seq) and stamp seen_at on what every member has now read
        (domain.sending.seen_range). None if I am not a member."""

    async def presence_contacts(
        self, user_id: str, among: Sequence[str] | None = None, limit: int = 1000
    ) -> set[str]:
        """Whom `user_id` shares presence with, in one storage query: the members of their
        groups, and the other member of each direct chat in which both have sent a message;
        never two people one of whom blocked the other. Only those in `among` when given; at
        most `limit`, the people of the most recently active chats first."""

    async def set_muted(self, chat_id: str, user_id: str, muted: bool) -> Member | None:
        """Mute or unmute a chat for one member; None if they are not a member."""

    async def unread_total(self, user_id: str, excluding: Sequence[str] = ()) -> int:
        """Unread messages over all my chats that are not muted, leaving out `excluding`."""


class MessageRepo(Protocol):
    async def send(self, message: NewMessage, mentions: MentionFinder | None = None) -> Sent:
        """The send use case, in one transaction (one connection):

        1. a stored message of this sender with this client_id is returned as it is
           (created=False), before any other check;
        2. the sender must be a member (Forbidden otherwise), and in a direct chat not
           blocked by the other member (Forbidden, domain.sending.BLOCKED);
        3. a reply's original must exist (NotFound) and not be deleted (Conflict);
        4. in a group, `mentions` picks the members the text names;
        5. the chat's next seq, the insert (announced=False), the preview, the sender's
           read cursor with their has_sent mark (one statement), seen_at on what that read
           completes, the mention marks.
        """

    async def window(
        self,
        chat_id: str,
        user_id: str,
        *,
        limit: int,
        before_seq: int | None = None,
        after_seq: int | None = None,
        read_latest: bool = False,
        changed_after: int | None = None,
        changes_max: int = 0,
        at: datetime | None = None,
    ) -> Window | None:
        """The history use case, on one connection: None if `user_id` is not a member.
        A page of up to `limit` messages after `after_seq` (oldest first), or before
        `before_seq` (None: the latest); with `read_latest` (the latest page), first my
        cursor moves to the chat's last seq and seen_at is stamped as read_up_to does, so
        the page carries it. Replies get their quotes; with `changed_after`, up to
        `changes_max` messages changed since that count."""

    async def find_sent(self, chat_id: str, sender_id: str, client_id: str) -> Sent | None:
        """A stored message by its client id (the retry of a send), or None."""

    async def mark_announced(self, message_ids: Sequence[str]) -> list[str]:
        """These messages' message.new events were published. The ids not marked now (rows
        a write held at that moment, or gone) come back; marking them again is harmless."""

    async def unannounced(self, stored_before: datetime, limit: int) -> list[Sent]:
        """Messages stored before `stored_before` whose message.new is not known to be
        published (their sender's process died or its publish failed), oldest first."""

    async def append(self, message: NewMessage) -> tuple[Message, bool]:
        """Store with the chat's next seq and update its preview; (message, created).

        A repeated client_id from the same sender in the same chat returns the stored
        message and created=False. The sender's read cursor moves to the new seq.
        """

    async def page_before(self, chat_id: str, before_seq: int | None, limit: int) -> list[Message]:
        """Up to `limit` messages below `before_seq` (None: the latest), oldest first."""

    async def by_seqs(self, chat_id: str, seqs: Sequence[int]) -> list[Message]:
        """The chat's messages with these seqs (those that exist), in seq order."""

    async def page_after(self, chat_id: str, after_seq: int, limit: int) -> list[Message]:
        """Up to `limit` messages above `after_seq`, oldest first (catch-up)."""

    async def mark_seen(self, chat_id: str, after_seq: int, up_to_seq: int, at: datetime) -> None:
        """Stamp seen_at on the messages after_seq < seq <= up_to_seq that have none yet."""

    async def get(self, chat_id: str, message_id: str) -> Message | None:
        """One message of a chat (None if there is none by that id in that chat)."""

    async def edit(self, chat_id: str, message_id: str, text: str, at: datetime) -> Message | None:
        """Replace a message's text and stamp edited_at with the chat's next change count; the
        chat's preview follows if it is the latest message. None if missing or deleted."""

    async def delete(self, chat_id: str, message_id: str, at: datetime) -> Message | None:
        """Leave a tombstone: no text, no image, deleted, the chat's next change count (the
        preview follows if it is the latest). Deleting twice changes nothing more."""

    async def react(self, chat_id: str, message_id: str, user_id: str, emoji: str) -> Message | None:
        """Toggle one user's reaction on a message (with the chat's next change count), atomically
        against other reactions to it; None if the message is missing or deleted."""

    async def erase_sender(self, chat_id: str, sender_id: str) -> list[Image | Attachment]:
        """Every message of `sender_id` in the chat becomes a tombstone (as `delete` makes one),
        in one write: each takes the chat's next change count in seq order, and the chat's
        preview follows if the latest message was theirs. The images, then the files and voice
        recordings they carried (for the media stores to delete)."""

    async def purge_search_index(self) -> None:
        """Rewrite the search index so that no deleted text stays in it (SQLite's FTS5 keeps a
        deleted message's words in older segments until they merge); elsewhere the index is
        part of the message and already changed with it."""

    async def changed_after(self, chat_id: str, change: int, limit: int) -> list[Message]:
        """Up to `limit` messages edited or deleted after change count `change`, in change order."""

    async def search(
        self, user_id: str, query: SearchQuery, limit: int, before: str | None = None
    ) -> list[SearchHit]:
        """Up to `limit` messages of the chats `user_id` is a member of (never another chat's)
        whose text holds every one of `query.words` as a whole word and, if `query.prefix` is
        set, a word starting with it, in any case (see domain.search); deleted ones never.
        Newest first, in the backend's own index order; `before` is the `key` of the last hit
        of the previous page: continue after it, with no gaps or repeats. A `before` this
        backend did not make raises BadInput."""


class PushRepo(Protocol):
    """Browsers' Web Push subscriptions, and which pushes went out (so none goes twice)."""

    async def save(self, subscription: PushSubscription, keep: int) -> None:
        """Store it under its endpoint's id (a browser that registers again, even for another
        user, replaces its row); the user keeps at most `keep`, their newest."""

    async def remove(self, user_id: str, endpoint: str) -> bool:
        """The user turned notifications off in that browser; False if it was not theirs."""

    async def drop(self, subscription_id: str) -> None:
        """The push service says the subscription is gone (404/410): forget it."""

    async def forget_user(self, user_id: str) -> int:
        """Every subscription of a user (their account is deleted); how many."""

    async def for_users(self, user_ids: Sequence[str]) -> list[PushSubscription]:
        """Every subscription of these users."""

    async def claim(self, message_id: str, subscription_id: str, at: datetime) -> bool:
        """Take the right to push this message to this subscription: True once, atomically,
        for whoever asks first (another worker, a republished job, a restart: False)."""

    async def release(self, message_id: str, subscription_id: str) -> None:
        """Give a claim back (the push failed and will be tried again)."""

    async def forget_claims(self, before: datetime) -> int:
        """Drop claims older than `before` (no job that old comes back); how many."""


class Store(Protocol):
    """One storage backend: its repositories, and how to let go of it."""

    backend: str
    users: UserRepo
    chats: ChatRepo
    messages: MessageRepo
    push: PushRepo

    async def close(self) -> None: ...


class OtpStore(Protocol):
    async def save(self, email: str, record: OtpRecord, ttl: timedelta) -> None:
        """Replace any code of this email; the store forgets it after `ttl`."""

    async def take_attempt(self, email: str) -> OtpRecord | None:
        """Count one more try atomically and return the record with the new count."""

    async def delete(self, email: str) -> bool:
        """Forget the code; True only for the caller that actually removed it."""


class RateLimiter(Protocol):
    async def acquire(self, key: str, limit: int, window: timedelta) -> float:
        """Count a hit; 0 when allowed, else the seconds until the window ends."""

    async def release(self, key: str) -> None:
        """Give back the last hit (the action it guarded did not happen)."""


class MailQueue(Protocol):
    async def publish(self, message: MailMessage) -> None:
        """Hand a mail over for delivery; raises ServiceUnavailable if it cannot."""


class PresenceStore(Protocol):
    """Which users have a live tab (or stream), with a lease per tab, and when each was last seen."""

    async def touch(self, leases: Sequence[tuple[str, str]], until: datetime, now: datetime) -> list[str]:
        """Keep each (user_id, tab_id) alive until `until`; the users who had no live tab before."""

    async def settle(self, user_id: str, now: datetime, left_at: datetime) -> bool:
        """If the user has no live tab at `now`, record `left_at` as last seen and say True."""

    async def online(self, user_ids: Sequence[str], now: datetime) -> set[str]: ...

    async def last_seen(self, user_ids: Sequence[str]) -> dict[str, datetime]: ...


class FanOut(Protocol):
    async def publish(self, topic: str, event: dict[str, Any], replayable: bool = False) -> None:
        """Deliver to whoever is subscribed now. A replayable event also gets an `id`, increasing
        per topic, and is kept a while for `replay` (stored writes: messages, reads, changes);
        the others (typing, presence) are for now only."""

    async def publish_many(
        self, topics: Sequence[str], event: dict[str, Any], replayable: bool = False
    ) -> list[BaseException]:
        """`publish` to each topic; what failed (the others went out)."""

    async def replay(self, topic: str, after: str) -> list[dict[str, Any]] | None:
        """The replayable events of `topic` after the one with id `after`, oldest first; None
        when some of them are no longer kept (or `after` is not an id): the reader must resync."""

    async def forget(self, topics: Sequence[str]) -> None:
        """Drop what is kept to replay on these topics (a deleted account's messages are in it):
        a reader resuming on one is told to resync, as for events no longer kept."""

    def subscribe(
        self, *topics: str, buffer: int | None = None
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        """`async with fanout.subscribe("user:1") as events: async for event in events: ...`
        A reader that falls `buffer` events behind gets `resync` instead of the backlog."""


class TabGateway(Protocol):
    """How the live hub reaches the browser tabs connected to this process (the UI framework's side)."""

    async def deliver(self, tab: str, user_id: str, events: list[dict[str, Any]]) -> bool:
        """Apply these events to the tab's page state and push the change to the browser;
        False if the tab no longer belongs to that user (the hub stops following it)."""

    def connected(self, tab: str) -> bool:
        """Whether the tab's socket is connected to this process now."""


ArchiveEntries = AsyncIterator[tuple[str, AsyncIterator[bytes]]]  # (name in the zip, its bytes)


class ExportArchives(Protocol):
    """Where the "download my data" zips and their jobs are kept until they expire."""

    async def write(self, job_id: str, entries: ArchiveEntries) -> int:
        """Stream the entries into the job's zip (never whole in memory); its size in bytes.
        Nothing is left behind if it fails."""

    async def save_job(self, job: ExportJob) -> None: ...

    async def job(self, job_id: str) -> ExportJob | None: ...

    async def jobs_of(self, user_id: str) -> list[ExportJob]: ...

    async def file(self, job_id: str) -> str | None:
        """The finished zip's path, for serving."""

    async def delete(self, job_id: str) -> None:
        """The job and its zip (nothing happens for an unknown id)."""


class MediaStore(Protocol):
    """Where image files live. Images reach it already checked and cleaned (services/images.py)."""

    backend: str

    async def save(self, chat_id: str, image: ProcessedImage) -> Image:
        """Store the image and its thumbnail under a new unguessable id; the Image to put on the message."""

    async def delete(self, public_id: str) -> None:
        """Forget the image and its thumbnail, or the file (nothing happens for an unknown id)."""

    def chunks(self, image: Image) -> AsyncIterator[bytes]:
        """The full-size image's bytes, a piece at a time (for a person's data export)."""

    async def record(self, public_id: str, thumb: bool = False) -> MediaRecord | None:
        """What the app serves for this id (whose chat, which file, its type); None when the
        id is unknown, or when this store's images are served by someone else (Cloudinary)."""


class FileStore(Protocol):
    """Where files and voice recordings live (the local store, also when images go to
    Cloudinary). They reach it already checked (services/media.py); the app serves them."""

    backend: str

    async def save_file(
        self, chat_id: str, kind: str, read: Callable[[int], Awaitable[bytes]], content_type: str, name: str
    ) -> tuple[str, str, int]:
        """Store what `read(n)` hands over until it returns b"", under a new unguessable id, with
        our record of it (chat, kind, type, name): (id, url, size in bytes)."""

    async def delete(self, public_id: str) -> None:
        """Forget the file (nothing happens for an unknown id)."""

    async def record(self, public_id: str, thumb: bool = False) -> MediaRecord | None:
        """What the app serves for this id; None when unknown."""

    def chunks(self, image: Image | Attachment) -> AsyncIterator[bytes]:
        """A stored file's bytes, a piece at a time (nothing for an unknown id)."""


class PushQueue(Protocol):
    """Hands pushes to whoever sends them (a worker on RabbitMQ, or this process)."""

    async def publish(self, jobs: Sequence[PushJob]) -> None:
        """Queue these pushes; raises ServiceUnavailable if they cannot be queued."""


class PushSender(Protocol):
    """Encrypts one push for its subscription and hands it to the browser's push service."""

    async def send(self, job: PushJob) -> int:
        """The push service's HTTP status (201: accepted); raises OSError-like
        ConnectionError when it cannot be reached."""
