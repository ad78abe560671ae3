"""How live events change a tab's chat page (the page states' side of the live hub).

Two mixins: ListEvents, of ChatListState, applies what changes only the chat list
(someone typing, presence, contacts, a session that ended); LiveEvents, of ChatState, the
rest (messages, their changes, reads, a changed chat, a resync), which change the list and
the open conversation. The hub loads the state a batch needs (`needs_conversation`): a batch of list
events never loads the conversation's window. `_apply_events` runs inside the tab's state
lock; what it changes is pushed to the browser as a delta.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from chat_web import container
from chat_web.domain import Attachment, ChatError, Forbidden, Image, Message, User, preview_of
from chat_web.domain.events import (
    CHAT_CHANGED,
    CHAT_READ,
    CONTACTS_CHANGED,
    MESSAGE_DELETED,
    MESSAGE_EDITED,
    MESSAGE_NEW,
    MESSAGE_REACTED,
    PRESENCE,
    RESYNC,
    SESSION_ENDED,
    TYPING,
)
from chat_web.domain.models import Quote
from chat_web.domain.push import notice_text
from chat_web.services.tokens import token_id
from chat_web.state.chat_info import ChatInfoState

log = logging.getLogger(__name__)
TYPING_SECONDS = 5.0  # the browser hides "typing…" after this; the server forgets it lazily


# What ListEvents applies on its own: a batch of only these loads the chat list alone.
LIST_EVENTS = frozenset({TYPING, PRESENCE, CONTACTS_CHANGED, SESSION_ENDED})


def needs_conversation(events: list[dict]) -> bool:
    """Whether applying these events takes the open conversation (ChatState), not only the list."""
    return any(event.get("type") not in LIST_EVENTS for event in events)


class ListEvents:
    async def _apply_events(self, events: list[dict]) -> bool:
        """Apply fan-out events (called by the live hub inside this tab's state lock).

        An event that fails (storage unavailable, a malformed event, a bug) does not stop the
        rest of the batch, and the tab then reloads its list and open chat from storage: a
        handler that failed half way may have left the page inconsistent. False if even that
        reload failed: the page may be stale and the hub must resync this tab later."""
        me = self._me()
        self._forget_stale_typing()
        failed = False
        for event in events:
            kind = event.get("type")
            try:
                if kind == SESSION_ENDED:
                    self._on_session_ended(event)
                    if self.session_ended:
                        return True  # signed out: nothing else is shown
                else:
                    await self._apply_event(me, kind, event)
            except ChatError as exc:
                log.info("live event %s not applied: %s", kind, exc.message)
                failed = True
            except Exception:  # noqa: BLE001 - one bad event must not cost the tab the others
                log.exception("live event %s not applied", kind)
                failed = True
        if not failed:
            return True
        try:
            await self._resync(me)
        except Exception as exc:  # noqa: BLE001 - the hub retries the resync later
            log.warning("a tab not brought up to date after a failed live event: %r", exc)
            return False
        return True

    async def _apply_event(self, me: User, kind: object, event: dict) -> None:
        if kind == TYPING:
            self._on_typing(event)
        elif kind == PRESENCE:
            self._on_presence(event)
        elif kind == CONTACTS_CHANGED:
            await self._refresh_presence()  # an exchange began: presence may be shown now
        else:
            raise ValueError(f"a {kind} event needs the open conversation: ChatState applies it")

    async def _resync(self, me: User) -> None:
        """Show what storage holds: the chat list, and whatever the open chat missed."""
        from chat_web.state.chat import ChatState  # the substate: its module imports this one

        await (await self.get_state(ChatState))._resync(me)

    def _on_typing(self, event: dict) -> None:
        chat_id, user_id = event.get("chatId", ""), event.get("userId")
        if not chat_id or user_id == self.user_id:
            return
        group = chat_id == self.open_id and self._group
        name = str(event.get("name") or "Someone")
        label = f"{name} is typing…" if group or self._is_group_row(chat_id) else "typing…"
        self._typing_at[chat_id] = time.time()
        self.typing_label = {**self.typing_label, chat_id: label}
        self.typing_key = {**self.typing_key, chat_id: uuid.uuid4().hex[:8]}

    def _is_group_row(self, chat_id: str) -> bool:
        return any(r.id == chat_id and not r.peer for r in self._listed())

    def _on_presence(self, event: dict) -> None:
        user_id = event.get("userId")
        if user_id not in self._peers:
            return
        online = set(self.online_ids)
        if event.get("online"):
            online.add(user_id)
        else:
            online.discard(user_id)
            if user_id == self.open_peer:
                seen = event.get("lastSeen")
                self._refresh_last_seen(datetime.fromisoformat(seen) if seen else None)
        if online != set(self.online_ids):
            self.online_ids = sorted(online)

    def _on_session_ended(self, event: dict) -> None:
        """Signed out here (same token) or everywhere (an older token version): this tab too."""
        mine = self.token and event.get("tokenId") == token_id(self.token)
        version = event.get("version")
        if not mine and isinstance(version, int):
            try:
                mine = container.current().auth.token_version(self.token) < version
            except ChatError:
                mine = True  # a token we cannot read is no session either
        if mine:
            self._forget()
            self.session_ended = True

    def _forget_stale_typing(self) -> None:
        cutoff = time.time() - TYPING_SECONDS
        stale = [c for c, at in self._typing_at.items() if at < cutoff]
        if stale:
            for chat_id in stale:
                self._typing_at.pop(chat_id, None)
            self.typing_label = {c: v for c, v in self.typing_label.items() if c not in stale}
            self.typing_key = {c: v for c, v in self.typing_key.items() if c not in stale}

    def _stop_typing(self, chat_id: str) -> None:
        if chat_id in self.typing_label:
            self._typing_at.pop(chat_id, None)
            self.typing_label = {c: v for c, v in self.typing_label.items() if c != chat_id}
            self.typing_key = {c: v for c, v in self.typing_key.items() if c != chat_id}


class LiveEvents:
    """ChatState's side: events that change the open conversation (and the list)."""

    async def _apply_event(self, me: User, kind: object, event: dict) -> None:
        if kind == MESSAGE_NEW:
            await self._on_message(me, event)
        elif kind in (MESSAGE_EDITED, MESSAGE_DELETED, MESSAGE_REACTED):
            await self._on_message_changed(me, event)
        elif kind == CHAT_READ:
            await self._on_read(me, event)
        elif kind == CHAT_CHANGED:
            await self._on_changed(me, event)
        elif kind == RESYNC:
            await self._resync(me)
        else:
            await super()._apply_event(me, kind, event)

    async def _resync(self, me: User) -> None:
        """Show what storage holds: the chat list, and whatever the open chat missed."""
        await self._load_chats(me)
        try:
            await self._catch_up(me)
        except Forbidden:
            self._close_chat()
            self.notice = "You are no longer a member of that conversation."
            return
        if self.open_id:  # its members may have changed (an account deleted): header and panel
            await self._refresh_presence()
            panel = await self.get_state(ChatInfoState)
            await panel._chat_changed(me, self.open_id)

    async def _on_message(self, me: User, event: dict) -> None:
        await self._take_message(me, _message_from(event.get("message") or {}))

    async def _take_message(self, me: User, message: Message) -> None:
        """Show a stored message: someone's from the fan-out, or mine, sent from this tab."""
        self._stop_typing(message.chat_id)
        self._lasts[message.chat_id] = max(self._lasts.get(message.chat_id, 0), message.seq)
        if self.user_id in message.mention_ids:
            self._mentions[message.chat_id] = max(self._mentions.get(message.chat_id, 0), message.seq)
        if message.sender_id == self.user_id:
            self._mark_row_read(message.chat_id, message.seq)
        if message.chat_id == self.open_id:
            if message.seq > self._contiguous_end() + 1 and not self.newer_waiting:
                await self._catch_up(me)  # a hole before this one (even in an empty chat): storage has it
            else:
                self._append([message])
                self._read_soon()
            # Sending reads what came before: the sender's cursor moved (ticks may double).
            self._move_cursor(message.sender_id, message.seq)
        if not self._bump_row(message):
            # A chat not on my first page (or new to me): fetch how my list shows it.
            summary = await container.current().chats.summary_of(me, message.chat_id)
            self._set_rows([self._row_of(summary)] + [r for r in self._all_rows() if r.id != message.chat_id])
            self._track_peers()
            await self._count_unread_elsewhere(me)
            await self._refresh_presence()
        self._set_badge(message.chat_id)
        await self._notify(message)

    async def _notify(self, message: Message) -> None:
        """Offer the browser a notification for someone else's message in a chat I did not
        mute; the page script shows it only while the tab is hidden."""
        if message.sender_id == self.user_id:
            return
        if message.chat_id == self.open_id and self._attentive:
            return  # in front of the reader, shown read on arrival (`_read_soon`): not re-sent
        row = next((r for r in self._listed() if r.id == message.chat_id), None)
        if row is None or row.muted:
            return
        body = preview_of(message)
        sender = self._names.get(message.sender_id) if message.chat_id == self.open_id else None
        mentioned = self.user_id in message.mention_ids
        if mentioned and sender is None:  # rare enough to ask storage for the name
            sender = (await container.current().chats.get_user(message.sender_id)).name
        # The same words as a Web Push of this message (a group says who wrote).
        title, body = notice_text(row.title, not row.peer, sender, mentioned, body)
        self.notify = {"key": message.id, "chat": message.chat_id, "title": title, "body": body}

    async def _on_message_changed(self, me: User, event: dict) -> None:
        message = _message_from(event.get("message") or {})
        if message.chat_id == self.open_id and message.change > self._change_seen + 1:
            await self._catch_up(me)  # a change before this one never reached us: storage has it
        self._apply_change(message)

    def _move_cursor(self, user_id: str, seq: int) -> None:
        if user_id in self._cursors and seq > self._cursors[user_id]:
            self._cursors[user_id] = seq
            floor = self._seen_floor()
            if floor != self.seen_upto:
                self.seen_upto = floor
            self._refresh_seen()

    async def _on_read(self, me: User, event: dict) -> None:
        chat_id, user_id, seq = event.get("chatId"), event.get("userId"), int(event.get("seq") or 0)
        if user_id == self.user_id:
            self._mark_row_read(chat_id, seq)  # read in another tab of mine
            if not any(row.id == chat_id for row in self._listed()):
                await self._count_unread_elsewhere(me)
        if chat_id == self.open_id:
            self._move_cursor(user_id, seq)

    async def _on_changed(self, me: User, event: dict) -> None:
        await self._load_chats(me)
        if event.get("chatId") == self.open_id:
            # The info panel (its own substate), when open on this chat, shows the change too.
            panel = await self.get_state(ChatInfoState)
            await panel._chat_changed(me, self.open_id)
            try:
                page = await container.current().chats.history(me, self.open_id, after_seq=self._last_held())
            except Forbidden:
                self._close_chat()
                self.notice = "You are no longer a member of that conversation."
                return
            self._take_members(page)  # the header's "N members" too
            self._append(page.plain_messages)


def _quote_from(data: dict | None) -> Quote | None:
    if not data or not data.get("senderId"):
        return None
    return Quote(
        seq=int(data.get("seq") or 0),
        sender_id=str(data["senderId"]),
        text=str(data.get("text", "")),
        kind=data.get("kind", "text"),
        deleted=bool(data.get("deleted")),
    )


def _message_from(data: dict) -> Message:
    """A message back from its wire JSON (chat_web.domain.wire.message_json)."""
    return Message(
        reply_to=int((data.get("replyTo") or {}).get("seq") or 0),
        quote=_quote_from(data.get("replyTo")),
        id=str(data.get("id", "")),
        chat_id=str(data.get("chatId", "")),
        seq=int(data.get("seq") or 0),
        sender_id=str(data.get("senderId", "")),
        kind=data.get("kind", "text"),
        text=str(data.get("text", "")),
        image=_image_from(data.get("image")),
        attachment=_attachment_from(data.get("file") or data.get("voice")),
        client_id=data.get("clientId"),
        mention_ids=tuple(str(i) for i in data.get("mentions") or ()),
        edited_at=datetime.fromisoformat(data["editedAt"]) if data.get("editedAt") else None,
        deleted=bool(data.get("deleted")),
        change=int(data.get("change") or 0),
        reactions=tuple(
            (str(r.get("emoji", "")), tuple(str(u) for u in r.get("userIds") or ()))
            for r in data.get("reactions") or ()
        ),
        created_at=datetime.fromisoformat(data["createdAt"]) if data.get("createdAt") else datetime.now(UTC),
    )


def _attachment_from(data: object) -> Attachment | None:
    if not isinstance(data, dict) or not data.get("url"):
        return None
    return Attachment(
        url=str(data["url"]),
        public_id=str(data.get("publicId", "")),
        name=str(data.get("name", "")),
        size=int(data.get("size") or 0),
        content_type=str(data.get("contentType", "")),
        duration_ms=int(data.get("durationMs") or 0),
    )


def _image_from(data: object) -> Image | None:
    if not isinstance(data, dict) or not data.get("url"):
        return None
    return Image(
        url=str(data["url"]),
        public_id=str(data.get("publicId", "")),
        width=int(data.get("width") or 0),
        height=int(data.get("height") or 0),
    )
