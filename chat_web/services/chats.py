"""Conversations: direct chats and groups, sending, history, read state.

Every operation first checks (`_check_*`), then changes storage, then publishes the
event on the fan-out port: events only ever describe writes that are stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from chat_web.domain import (
    BadInput,
    Chat,
    ChatView,
    Conflict,
    Forbidden,
    Member,
    Message,
    NewMessage,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    User,
)
from chat_web.domain.events import (
    chat_changed,
    chat_read,
    contacts_changed,
    message_deleted,
    message_edited,
    message_reacted,
    presence,
    user_typing,
)
from chat_web.domain.models import DELETED_ACCOUNT, REACTIONS
from chat_web.domain.reading import read_floor, readers
from chat_web.domain.search import highlight_ranges, search_query
from chat_web.domain.sending import NOT_A_MEMBER, Sent
from chat_web.ports import ChatRepo, Clock, FanOut, MessageRepo, RateLimiter, UserRepo
from chat_web.services.announcer import Announcer, publish_to
from chat_web.services.cursor import (
    decode_cursor,
    decode_search_cursor,
    encode_cursor,
    encode_search_cursor,
)
from chat_web.services.limits import AbuseLimits, Check, LimitGate
from chat_web.services.media import ImageUpload, MediaService
from chat_web.services.mentions import mentioned_ids
from chat_web.services.quotes import quoted
from chat_web.services.validation import (
    GROUP_MAX,
    GROUP_MIN,
    OFFSET_MAX,
    PAGE_MAX,
    clean_caption,
    clean_client_id,
    clean_id,
    clean_limit,
    clean_query,
    clean_search_query,
    clean_seq,
    clean_text,
    clean_title,
)

log = logging.getLogger(__name__)
EDIT_WINDOW = timedelta(minutes=15)  # how long after sending a message can still be edited

_SENDING_TOO_FAST = "You are sending messages too fast; wait {seconds} s."
_SENDING_TOO_MUCH = "You have sent a great many messages lately; wait {seconds} s."
_SEARCHING_TOO_MUCH = "Too many searches; wait {seconds} s."
_TYPING_TOO_MUCH = "Too many typing signals; wait {seconds} s."
_STARTING_TOO_MUCH = "You have started many conversations lately; wait {seconds} s."
_BLOCKED_YOU = "Someone you named does not accept conversations with you."


@dataclass(frozen=True, slots=True)
class ChatSummary:
    chat: Chat
    unread: int
    others: list[User]  # the other members, as they are now
    muted: bool = False  # I muted it: no notifications, not in my unread total
    mentioned: bool = False  # an unread message mentions me


@dataclass(frozen=True, slots=True)
class ChatPage:
    items: list[ChatSummary]
    next_cursor: str | None  # None: this was the last page


@dataclass(frozen=True, slots=True)
class MessageView:
    message: Message
    seen: bool  # every member other than the sender has read it


@dataclass(frozen=True, slots=True)
class HistoryPage:
    chat: Chat
    messages: list[MessageView]
    has_more: bool
    others: list[User]
    read_cursors: dict[str, int]  # every member's last_read_seq, for live "seen" ticks
    muted: bool = False  # I muted this chat
    # Asked with changed_after: the messages edited or deleted since (in change order).
    changes: list[MessageView] = field(default_factory=list)
    # Pass back as changed_after next time: the chat's change count, or where a long list
    # of changes was cut (then more follow).
    last_change: int = 0
    # Who else the page shows (senders, quoted senders, reactors no longer members), by name:
    # DELETED_ACCOUNT for an account that is gone.
    authors: dict[str, str] = field(default_factory=dict)

    @property
    def plain_messages(self) -> list[Message]:
        return [view.message for view in self.messages]


@dataclass(frozen=True, slots=True)
class Reader:
    user: User
    last_read_seq: int  # their read cursor


@dataclass(frozen=True, slots=True)
class SeenUpTo:
    """Who of the other members has read a chat up to `seq` (their cursor reached it), and who
    has not yet, each by name."""

    chat_id: str
    seq: int
    read: list[Reader]
    unread: list[Reader]


@dataclass(frozen=True, slots=True)
class SearchResult:
    message: Message
    chat_id: str
    chat_title: str  # a group's title, or the other member's name
    highlights: list[tuple[int, int]]  # [start, end) character offsets of the matched words
    seen: bool  # as in history: every member other than the sender has read it


@dataclass(frozen=True, slots=True)
class SearchPage:
    results: list[SearchResult]  # newest first
    next_cursor: str | None  # None: this was the last page


def chat_title(chat: Chat, others: Sequence[User]) -> str:
    """What my chat list calls a chat: its title, or the other member's name."""
    if chat.kind == "group":
        return chat.title or "Group"
    return others[0].name if others else DELETED_ACCOUNT


class ChatService:
    def __init__(
        self,
        users: UserRepo,
        chats: ChatRepo,
        messages: MessageRepo,
        fanout: FanOut,
        clock: Clock,
        *,
        limiter: RateLimiter | None = None,
        limits: AbuseLimits | None = None,
        media: MediaService | None = None,
        announcer: Announcer | None = None,
    ):
        self._users = users
        self._chats = chats
        self._messages = messages
        self._fanout = fanout
        self._clock = clock
        # Without limits (unit tests of other rules) nothing is limited.
        self._gate = LimitGate(limiter) if limiter is not None and limits is not None else None
        self.limits = limits
        self.media = media
        # Publishes new messages after commit; the container starts its relay loop.
        self.announcer = announcer or Announcer(messages, fanout, clock)

    # --- checks ---------------------------------------------------------------------------------

    async def _check_member(self, chat_id: object, me: User) -> tuple[Chat, Member]:
        """The chat and my membership; an outsider learns nothing, not even that it exists."""
        chat, me_member, _ = await self._check_membership(chat_id, me)
        return chat, me_member

    async def _check_membership(self, chat_id: object, me: User) -> tuple[Chat, Member, list[Member]]:
        """The chat, my membership and every member's (read cursors included)."""
        found = await self._chats.membership(clean_id(chat_id, "chatId"), me.id)
        if found is None:
            raise Forbidden(NOT_A_MEMBER)
        chat, members = found
        return chat, next(m for m in members if m.user_id == me.id), members

    async def _check_users_exist(self, user_ids: Sequence[str]) -> list[User]:
        found = await self._users.get_many(user_ids)
        missing = set(user_ids) - {u.id for u in found}
        if missing:
            raise NotFound(f"No such user: {', '.join(sorted(missing))}.")
        return found

    async def _check_sending_rate(self, me: User) -> list[str]:
        """Count a message (or a reaction) against my limits; the keys taken, to give back."""
        if self._gate is None:
            return []
        return await self._gate.check_all(
            Check(f"messages-burst:{me.id}", self.limits.messages_burst, _SENDING_TOO_FAST),
            Check(f"messages-sustained:{me.id}", self.limits.messages_sustained, _SENDING_TOO_MUCH),
        )

    async def _check_starting_rate(self, me: User) -> None:
        """A new group or direct chat names people who did not ask for it: counted per user."""
        if self._gate is not None:
            await self._gate.check_all(
                Check(f"chats-created:{me.id}", self.limits.chats_created, _STARTING_TOO_MUCH)
            )

    async def _check_search_rate(self, me: User) -> None:
        if self._gate is not None:
            await self._gate.check_all(Check(f"searches:{me.id}", self.limits.searches, _SEARCHING_TOO_MUCH))

    async def _check_not_blocked_by(self, user_ids: Sequence[str], me: User) -> None:
        """No one can be put in a chat by someone they blocked."""
        if user_ids and await self._users.blockers_among(user_ids, me.id):
            raise Forbidden(_BLOCKED_YOU)

    @staticmethod
    def _check_ids(raw: object, name: str) -> list[str]:
        if not isinstance(raw, list):
            raise BadInput(f"{name} must be a list of user ids.")
        return list(dict.fromkeys(clean_id(x, name) for x in raw))

    @staticmethod
    def _check_group(chat: Chat) -> None:
        if chat.kind != "group":
            raise BadInput("Only a group has members to add or remove.")

    @staticmethod
    def _check_creator(chat: Chat, me: User) -> None:
        if chat.created_by != me.id:
            raise Forbidden("Only the group's creator can change its members.")

    # --- events ---------------------------------------------------------------------------------

    async def _publish(self, user_ids: Sequence[str], event: dict, replayable: bool = True) -> None:
        # The write is already stored: a lost event costs a live update, not data, since
        # readers catch up by seq and change count. So a fan-out failure is logged, never
        # raised. Events of stored writes are replayable (an API stream resumes after them).
        await publish_to(self._fanout, user_ids, event, replayable)

    # --- chats ----------------------------------------------------------------------------------

    async def open_direct(self, me: User, other_id: object) -> Chat:
        other_id = clean_id(other_id, "otherUserId")
        if other_id == me.id:
            raise BadInput("You cannot start a conversation with yourself.")
        # Reopening our chat is free; only a new one counts against my limit.
        if (existing := await self._chats.find_direct(me.id, other_id)) is not None:
            return existing
        if await self._users.get(other_id) is None:
            raise NotFound("No such user.")
        await self._check_not_blocked_by([other_id], me)
        await self._check_starting_rate(me)
        return await self._chats.get_or_create_direct(me.id, other_id)

    async def create_group(self, me: User, title: object, member_ids: object) -> Chat:
        clean = clean_title(title)
        ids = [i for i in self._check_ids(member_ids, "memberIds") if i != me.id]
        if not GROUP_MIN <= len(ids) + 1 <= GROUP_MAX:
            raise BadInput(f"A group has {GROUP_MIN} to {GROUP_MAX} members, you included.")
        await self._check_users_exist(ids)
        await self._check_not_blocked_by(ids, me)
        await self._check_starting_rate(me)
        chat = await self._chats.create_group(me.id, clean, ids)
        await self._publish(chat.member_ids, chat_changed(chat.id))
        return chat

    async def add_members(self, me: User, chat_id: object, user_ids: object) -> Chat:
        chat, _ = await self._check_member(chat_id, me)
        self._check_group(chat)
        self._check_creator(chat, me)
        ids = [i for i in self._check_ids(user_ids, "userIds") if i not in chat.member_ids]
        if len(chat.member_ids) + len(ids) > GROUP_MAX:
            raise BadInput(f"A group has at most {GROUP_MAX} members.")
        await self._check_users_exist(ids)
        await self._check_not_blocked_by(ids, me)
        updated = await self._chats.add_members(chat.id, ids) if ids else chat
        await self._publish(updated.member_ids, chat_changed(chat.id))
        return updated

    async def rename_group(self, me: User, chat_id: object, title: object) -> Chat:
        """Give a group a new title (1-TITLE_MAX characters after trimming, as at creation).
        Any member may rename it, not only its creator: the title is the group's shared label,
        like its messages. A direct chat has no title of its own (it shows the other person's
        name). Every member hears chat.changed, so lists and open headers update live."""
        clean = clean_title(title)
        chat, _ = await self._check_member(chat_id, me)
        if chat.kind != "group":
            raise BadInput("Only a group can be renamed; a direct chat shows the other person's name.")
        if clean == chat.title:
            return chat
        renamed = await self._chats.rename_group(chat.id, clean)
        if renamed is None:  # deleted meanwhile
            raise Forbidden(NOT_A_MEMBER)
        await self._publish(renamed.member_ids, chat_changed(chat.id))
        return renamed

    async def leave_group(self, me: User, chat_id: object) -> Chat:
        """Leave a group. If I created it, it passes to the longest-standing member."""
        return await self.remove_member(me, chat_id, me.id)

    async def remove_member(self, me: User, chat_id: object, user_id: object) -> Chat:
        """Remove a member (the creator only), or leave with my own id; every member as it
        was, the one leaving included, hears chat.changed."""
        chat, _ = await self._check_member(chat_id, me)
        self._check_group(chat)
        if user_id != me.id:  # anyone may leave (the creator too); only the creator removes others
            self._check_creator(chat, me)
        if not isinstance(user_id, str) or user_id not in chat.member_ids:
            raise NotFound("That user is not a member of this group.")
        updated = await self._chats.remove_member(chat.id, user_id)
        await self._publish(chat.member_ids, chat_changed(chat.id))
        return updated

    async def list_chats(self, me: User, limit: object = None, cursor: str | None = None) -> ChatPage:
        """A page of my chats, latest activity first; pass `next_cursor` back for the next page."""
        size = clean_limit(limit)
        listing = await self._chats.listing(me.id, size + 1, decode_cursor(cursor))
        more, views, people = len(listing.views) > size, listing.views[:size], listing.people
        items = [
            ChatSummary(
                chat=v.chat,
                unread=v.unread,
                others=[people[i] for i in v.chat.member_ids if i != me.id and i in people],
                muted=v.me.muted,
                mentioned=v.mentioned,
            )
            for v in views
        ]
        last = views[-1].chat if more else None
        return ChatPage(items=items, next_cursor=encode_cursor(last.updated_at, last.id) if last else None)

    async def summary_of(self, me: User, chat_id: object) -> ChatSummary:
        """One chat of mine as my chat list shows it (an outsider gets Forbidden)."""
        chat, _ = await self._check_member(chat_id, me)
        return await self.summary(me, chat)

    async def summary(self, me: User, chat: Chat) -> ChatSummary:
        """One chat as my chat list shows it."""
        member = await self._chats.member(chat.id, me.id)
        others = [u for u in await self._users.get_many(chat.member_ids) if u.id != me.id]
        return ChatSummary(
            chat=chat,
            unread=ChatView(chat, member).unread if member else 0,
            others=others,
            muted=member.muted if member else False,
            mentioned=ChatView(chat, member).mentioned if member else False,
        )

    async def set_muted(self, me: User, chat_id: object, muted: object) -> Member:
        """Mute or unmute one of my chats (for me only); my other tabs and clients are told."""
        if not isinstance(muted, bool):
            raise BadInput("muted must be true or false.")
        chat, before = await self._check_member(chat_id, me)
        after = await self._chats.set_muted(chat.id, me.id, muted)
        if after is None:
            raise Forbidden(NOT_A_MEMBER)
        if after.muted != before.muted:
            await self._publish([me.id], chat_changed(chat.id))
        return after

    async def unread_total(self, me: User, excluding: Sequence[str] = ()) -> int:
        """Unread messages over all my chats that I have not muted (the page title's count);
        a tab that counts its listed chats itself leaves them out."""
        return await self._chats.unread_total(me.id, excluding)

    # --- messages -------------------------------------------------------------------------------

    async def send_text(
        self, me: User, chat_id: object, text: object, client_id: object = None, reply_to: object = None
    ) -> tuple[Message, bool]:
        """Store a text message and announce it; a retry (same client id) gets the stored one.

        The client id comes first: a retry costs no limit, passes whatever changed since
        (say the answered message was deleted), and publishes again if the first publish
        may not have happened. The send itself is one storage call.
        """
        body = clean_text(text)
        cid = clean_client_id(client_id)
        answered = clean_seq(reply_to, "replyTo") or 0
        chat = clean_id(chat_id, "chatId")
        taken = await self._take_sending_rate(me, chat, cid)
        if isinstance(taken, Sent):
            return await self._after_send(taken)
        finder = (lambda people: mentioned_ids(body, people, me.id)) if "@" in body else None
        new = NewMessage(chat, me.id, "text", text=body, client_id=cid, reply_to=answered)
        try:
            sent = await self._messages.send(new, finder)
        except BaseException:
            await self._give_back(taken)
            raise
        if not sent.created:
            await self._give_back(taken)
        return await self._after_send(sent)

    async def _take_sending_rate(self, me: User, chat_id: str, client_id: str | None) -> list[str] | Sent:
        """Count this send against my limits; a refused retry of a stored message is no refusal."""
        try:
            return await self._check_sending_rate(me)
        except RateLimited:
            if client_id and (stored := await self._messages.find_sent(chat_id, me.id, client_id)):
                return stored
            raise

    async def _give_back(self, taken: list[str] | Sent) -> None:
        if self._gate is not None and isinstance(taken, list) and taken:
            await self._gate.give_back(taken)

    async def _after_send(self, sent: Sent) -> tuple[Message, bool]:
        # Publish after commit. A failure here is no failure of the send: the message is
        # stored, the announcer's sweep publishes it later, readers catch up by seq.
        if sent.created or not self.announcer.announced(sent):
            await self.announcer.announce(sent)
        if sent.opened_exchange:
            await self._publish(sent.member_ids, contacts_changed(sent.message.chat_id), replayable=False)
        return sent.message, sent.created

    async def _my_message(self, chat: Chat, me: User, message_id: object) -> Message:
        message = await self._messages.get(chat.id, clean_id(message_id, "message id"))
        if message is None:
            raise NotFound("No such message in this conversation.")
        if message.sender_id != me.id:
            raise Forbidden("Only its sender can change a message.")
        return message

    async def edit_message(self, me: User, chat_id: object, message_id: object, text: object) -> Message:
        """Change the text of my own message within EDIT_WINDOW of sending it; every member
        sees it live (`message.edited`), and a catch-up brings it by change count."""
        body = clean_text(text)
        chat, _ = await self._check_member(chat_id, me)
        message = await self._my_message(chat, me, message_id)
        if message.deleted:
            raise Conflict("That message was deleted.")
        now = self._clock.now()
        if now - message.created_at > EDIT_WINDOW:
            raise Forbidden(f"Messages can be edited for {EDIT_WINDOW.seconds // 60} minutes after sending.")
        if body == message.text:
            return message
        edited = await self._messages.edit(chat.id, message.id, body, now)
        if edited is None:
            raise Conflict("That message was deleted.")
        (edited,) = await quoted(self._messages, chat.id, [edited])
        await self._publish(chat.member_ids, message_edited(edited))
        return edited

    async def delete_message(self, me: User, chat_id: object, message_id: object) -> Message:
        """Delete my own message for everyone: a tombstone stays in its place (seq order
        holds) without its text or image (the image leaves the media store too), and every
        member sees it live."""
        chat, _ = await self._check_member(chat_id, me)
        message = await self._my_message(chat, me, message_id)
        if message.deleted:
            return message
        gone = await self._messages.delete(chat.id, message.id, self._clock.now())
        if gone is None:
            raise NotFound("No such message in this conversation.")
        await self._discard(message)  # the tombstone first: no message shows it now
        await self._publish(chat.member_ids, message_deleted(gone))
        return gone

    async def react(self, me: User, chat_id: object, message_id: object, emoji: object) -> Message:
        """Toggle my reaction with `emoji` (one of REACTIONS) on any message of my chat."""
        if emoji not in REACTIONS:
            raise BadInput("Reactions are one of " + " ".join(REACTIONS) + ".")
        await self._check_sending_rate(me)
        chat, _ = await self._check_member(chat_id, me)
        reacted = await self._messages.react(chat.id, clean_id(message_id, "message id"), me.id, str(emoji))
        if reacted is None:
            raise NotFound("No such message in this conversation (or it was deleted).")
        (reacted,) = await quoted(self._messages, chat.id, [reacted])
        await self._publish(chat.member_ids, message_reacted(reacted))
        return reacted

    async def send_image(
        self,
        me: User,
        chat_id: object,
        upload: ImageUpload | bytes,
        caption: object = None,
        client_id: object = None,
    ) -> tuple[Message, bool]:
        """Check, clean and store an image, then send it with an optional caption.

        Every check (caption, rate, membership, the image itself) comes before anything is
        stored, and a retry (same client id) gets the stored message before any of them.
        The image of a send that fails after storing it is deleted again.
        """
        media = self._media()
        if isinstance(upload, bytes):
            upload = ImageUpload.of(upload)

        async def store(chat: str) -> NewMessage:
            image = await media.save(chat, await media.prepare(upload))
            return NewMessage(chat, me.id, "image", image=image)

        return await self._send_upload(me, chat_id, "image", upload, caption, client_id, store)

    async def send_file(
        self,
        me: User,
        chat_id: object,
        upload: ImageUpload | bytes,
        name: object,
        content_type: object = None,
        caption: object = None,
        client_id: object = None,
    ) -> tuple[Message, bool]:
        """Send any file (up to MAX_FILE_BYTES, counted as it is stored) with an optional caption;
        it is served to the members as a download under its cleaned name."""
        media = self._media()
        if isinstance(upload, bytes):
            upload = ImageUpload.of(upload)

        async def store(chat: str) -> NewMessage:
            attachment = await media.save_file(chat, upload, name, content_type)
            return NewMessage(chat, me.id, "file", attachment=attachment)

        return await self._send_upload(me, chat_id, "file", upload, caption, client_id, store)

    async def send_voice(
        self, me: User, chat_id: object, upload: ImageUpload | bytes, client_id: object = None
    ) -> tuple[Message, bool]:
        """Send a voice recording: Opus or Vorbis in WebM, at most five minutes, its length
        measured here from the recording itself."""
        media = self._media()
        if isinstance(upload, bytes):
            upload = ImageUpload.of(upload)

        async def store(chat: str) -> NewMessage:
            attachment = await media.save_voice(chat, upload)
            return NewMessage(chat, me.id, "voice", attachment=attachment)

        return await self._send_upload(me, chat_id, "voice", upload, None, client_id, store)

    def _media(self) -> MediaService:
        if self.media is None:
            raise ServiceUnavailable("Images are not set up on this server (nor files and voice messages).")
        return self.media

    async def _send_upload(
        self, me, chat_id, field, upload, caption, client_id, store
    ) -> tuple[Message, bool]:
        """The send of anything uploaded: the caption, a retry (before any other check), the
        upload's declared size, the rate, membership; then `store(chat)` keeps the upload and
        says what message it makes, and the message is sent. What was kept for a send that
        fails, or that a concurrent retry beat, is deleted again."""
        media = self._media()
        text = clean_caption(caption)
        cid = clean_client_id(client_id)
        chat = clean_id(chat_id, "chatId")
        if cid and (stored := await self._messages.find_sent(chat, me.id, cid)):
            return await self._after_send(stored)
        media.check_upload_size(field, upload.size)
        taken = await self._take_sending_rate(me, chat, cid)
        if isinstance(taken, Sent):
            return await self._after_send(taken)
        try:
            await self._check_member(chat, me)  # before the work of checking and storing
            new = replace(await store(chat), text=text, client_id=cid)
        except BaseException:
            await self._give_back(taken)
            raise
        try:
            sent = await self._messages.send(new)
        except BaseException:
            await self._give_back(taken)
            await self._discard(new)
            raise
        if not sent.created:  # a concurrent retry stored first: our copy is not needed
            await self._give_back(taken)
            await self._discard(new)
        return await self._after_send(sent)

    async def _discard(self, message: NewMessage | Message) -> None:
        """Delete the stored image or file of a message nobody will see (never raises)."""
        if self.media is None:
            return
        if message.image is not None:
            await self.media.discard(message.image)
        if message.attachment is not None:
            await self.media.discard_file(message.attachment)

    async def history(
        self,
        me: User,
        chat_id: object,
        before_seq: object = None,
        after_seq: object = None,
        limit: object = None,
        changed_after: object = None,
    ) -> HistoryPage:
        """A page of messages; with `changed_after` (the chat's change count a reader last saw,
        `chat.last_change`), also the messages edited or deleted since, for a catch-up."""
        before, after, size = (
            clean_seq(before_seq, "before_seq"),
            clean_seq(after_seq, "after_seq"),
            clean_limit(limit),
        )
        since_change = clean_seq(changed_after, "changed_after")
        if before is not None and after is not None:
            raise BadInput("Ask with before_seq or after_seq, not both.")
        window = await self._messages.window(
            clean_id(chat_id, "chatId"),
            me.id,
            # One row more than asked tells whether there is more, whatever is sent meanwhile.
            limit=size + 1,
            before_seq=before,
            after_seq=after,
            # Opening the latest page reads the chat, first, so the page carries the seen_at
            # this read may stamp.
            read_latest=before is None and after is None,
            changed_after=since_change,
            changes_max=PAGE_MAX,
            at=self._clock.now(),
        )
        if window is None:
            raise Forbidden(NOT_A_MEMBER)
        chat, members, page = window.chat, window.members, window.messages
        member = next(m for m in members if m.user_id == me.id)
        if window.read is not None and window.read.moved:
            await self._publish(chat.member_ids, chat_read(chat.id, me.id, window.read.after))
        if after is not None:
            has_more, page = len(page) > size, page[:size]
        else:
            has_more, page = len(page) > size, page[-size:]
        changes, last_change = window.changes, chat.last_change
        if len(changes) == PAGE_MAX:
            last_change = changes[-1].change
        floor = read_floor(members)
        people = window.people
        others = [people[m.user_id] for m in members if m.user_id != me.id and m.user_id in people]
        known = {m.user_id for m in members if m.user_id in people} | {me.id}
        return HistoryPage(
            chat=chat,
            messages=[MessageView(m, m.seq <= floor) for m in page],
            has_more=has_more,
            others=others,
            read_cursors={m.user_id: m.last_read_seq for m in members},
            muted=member.muted,
            changes=[MessageView(m, m.seq <= floor) for m in changes],
            last_change=last_change,
            authors=await self._authors([*page, *changes], known),
        )

    async def _authors(self, messages: Sequence[Message], known: set[str]) -> dict[str, str]:
        """The names of the people these messages show who are not among `known` (a former
        member, a deleted account): one read, and only when there is one."""
        wanted = {m.sender_id for m in messages}
        wanted.update(m.quote.sender_id for m in messages if m.quote is not None)
        wanted.update(user_id for m in messages for _, who in m.reactions for user_id in who)
        missing = sorted(wanted - known)
        if not missing:
            return {}
        found = {user.id: user.name for user in await self._users.get_many(missing)}
        return {user_id: found.get(user_id, DELETED_ACCOUNT) for user_id in missing}

    async def mark_read(self, me: User, chat_id: object, seq: object) -> Member:
        target = clean_seq(seq, "seq")
        if target is None:
            raise BadInput("seq is required.")
        chat = clean_id(chat_id, "chatId")
        # My cursor and the seen stamp in one storage call; then the members are told.
        move = await self._chats.read_up_to(chat, me.id, target, self._clock.now())
        if move is None:
            raise Forbidden(NOT_A_MEMBER)
        if move.moved:
            await self._publish(move.member_ids, chat_read(chat, me.id, move.after))
        return move.member

    async def seen_by(self, me: User, chat_id: object, seq: object) -> SeenUpTo:
        """Who of the other members has read up to `seq` (1 up to the chat's last seq; NotFound
        past it) and who has not yet, from the read cursors: nothing is stored per message.

        One storage call: the history use case's page below `seq` (one message, unused) comes
        with the chat, every member's cursor and their users. A deleted account is left out."""
        up_to = clean_seq(seq, "seq")
        if up_to is None or up_to < 1:
            raise BadInput("seq is required: the seq of a message (1 or more).")
        window = await self._messages.window(clean_id(chat_id, "chatId"), me.id, limit=1, before_seq=up_to)
        if window is None:
            raise Forbidden(NOT_A_MEMBER)
        if up_to > window.chat.last_seq:
            raise NotFound("No such message in this conversation.")
        cursors = {member.user_id: member.last_read_seq for member in window.members}
        names = {user_id: user.name for user_id, user in window.people.items()}
        read, unread = readers(up_to, me.id, cursors, names)

        def of(ids: list[str]) -> list[Reader]:
            return [Reader(window.people[user_id], cursors[user_id]) for user_id in ids]

        return SeenUpTo(window.chat.id, up_to, of(read), of(unread))

    async def typing(self, me: User, chat_id: object) -> None:
        """Tell the other members that I am typing; nothing is stored."""
        if self._gate is not None:
            await self._gate.check_all(Check(f"typing:{me.id}", self.limits.typing, _TYPING_TOO_MUCH))
        chat, _ = await self._check_member(chat_id, me)
        others = [m for m in chat.member_ids if m != me.id]
        await self._publish(others, user_typing(chat.id, me.id, me.name), replayable=False)

    async def search_messages(
        self, me: User, query: object, limit: object = None, cursor: object = None
    ) -> SearchPage:
        """Messages of my chats holding every word of `query` in any case, the last one as the
        start of a word (domain/search.py), newest first; pass `next_cursor` back for the next
        page."""
        text = clean_search_query(query)
        size = clean_limit(limit)
        before = decode_search_cursor(cursor)
        await self._check_search_rate(me)
        wanted = search_query(text)
        # Only punctuation (say `"*"`): no word to look for, so nothing matches.
        hits = [] if wanted.empty else await self._messages.search(me.id, wanted, size + 1, before)
        more, hits = len(hits) > size, hits[:size]
        people = {u.id: u for u in await self._users.get_many([i for h in hits for i in h.chat.member_ids])}
        results = [
            SearchResult(
                message=h.message,
                chat_id=h.chat.id,
                chat_title=chat_title(
                    h.chat, [people[i] for i in h.chat.member_ids if i != me.id and i in people]
                ),
                highlights=highlight_ranges(h.message.text, wanted),
                # seen_at is stamped once every other member's read cursor passed it.
                seen=h.message.seen_at is not None,
            )
            for h in hits
        ]
        return SearchPage(results, encode_search_cursor(hits[-1].key) if more else None)

    # --- people ---------------------------------------------------------------------------------

    async def search_users(
        self, me: User, query: object, limit: object = None, offset: object = 0
    ) -> list[User]:
        """People by the start of any word of their name, or by their whole email address (never
        by part of one: see domain/people.py). An empty query finds no one."""
        text = clean_query(query)
        start = clean_seq(offset, "offset", OFFSET_MAX)
        if start is None:
            raise BadInput(f"offset must be a whole number from 0 to {OFFSET_MAX}.")
        if not text:
            return []
        await self._check_search_rate(me)
        return await self._users.search(text, clean_limit(limit), start, exclude_id=me.id)

    async def block(self, me: User, user_id: object) -> User:
        """Block someone: they can no longer message me in our direct chat, add me to a group,
        see my presence (nor I theirs) or find me. Shared groups stay as they are."""
        other = await self._check_other(me, user_id)
        if await self._users.block(me.id, other.id, self._clock.now()):
            # Whatever presence either tab shows of the other is no longer theirs to know.
            await self._publish([other.id], presence(me.id, False, None), replayable=False)
            await self._publish([me.id], presence(other.id, False, None), replayable=False)
        return other

    async def unblock(self, me: User, user_id: object) -> User:
        other = await self._check_other(me, user_id)
        await self._users.unblock(me.id, other.id)
        return other

    async def blocked(self, me: User) -> list[User]:
        """The people I blocked, latest first."""
        return await self._users.blocked(me.id)

    async def _check_other(self, me: User, user_id: object) -> User:
        other = await self.get_user(user_id)
        if other.id == me.id:
            raise BadInput("You cannot block yourself.")
        return other

    async def get_user(self, user_id: object) -> User:
        user = await self._users.get(clean_id(user_id, "user id"))
        if user is None:
            raise NotFound("No such user.")
        return user
