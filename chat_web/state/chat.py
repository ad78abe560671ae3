"""The chat page's open conversation: its header, its window of messages, and the page's
events that change it (and the chat list with it).

A substate of the chat list (state/chat_list.py: SessionState → ChatListState → ChatState →
ComposerState), so its handlers read and change the list's vars as their own, and an event
that changes only the list never loads what this one holds. A delivered message changes the
list and this window and nothing else; the composer (sending, editing, the reply banner, the
delete dialog, typing signals) is a substate of this one, which a delivered message never
touches.

What each tab holds is bounded, so a live update costs the same however long the history: a
window of recent messages (older pages only when the reader scrolls up for them); my sends
still on their way are the page script's (assets/sends.js). Read ticks are one number
(`seen_upto`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from typing import TYPE_CHECKING

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, Forbidden, Message, RateLimited, User
from chat_web.domain.models import DELETED_ACCOUNT
from chat_web.services.chats import HistoryPage
from chat_web.state import rows as R
from chat_web.state.chat_edits import MessageChanges
from chat_web.state.chat_list import ChatListState
from chat_web.state.chat_live import LiveEvents
from chat_web.state.rows import TAIL_BLOCK, TAILS, WINDOW_PARTS, MsgRow
from chat_web.state.seen import SeenBy, SeenLine
from chat_web.state.session import error_toast

if TYPE_CHECKING:
    from chat_web.state.composer import ComposerState

log = logging.getLogger(__name__)

MESSAGE_PAGE = 30
WINDOW_KEEP = 30  # at the bottom, the live window is trimmed back to this many messages
WINDOW_MAX = WINDOW_KEEP + TAIL_BLOCK * len(TAILS)  # ... once its tail blocks are full
JUMP_PAGES = 40  # a quote's click pages back at most this many pages to its message
WINDOW_HARD = 150  # scrolled up: past this, newer messages wait behind "jump to latest"
AROUND = 15  # opened at a message (a search result): this many on each side of it


def _chat_id_from(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) >= 2 and parts[0] == "chat" else ""


class ChatState(LiveEvents, MessageChanges, SeenBy, ChatListState):
    open_title: str = ""
    open_initial: str = ""
    older: list[MsgRow] = []  # pages the reader scrolled up for
    # The live window's newest messages, in blocks (TAIL_BLOCK): Reflex sends a changed list
    # whole, so a new message re-sends its short block, not the window (see _show_window).
    tail0: list[MsgRow] = []
    tail1: list[MsgRow] = []
    tail2: list[MsgRow] = []
    tail3: list[MsgRow] = []
    tail4: list[MsgRow] = []
    tail5: list[MsgRow] = []
    tail6: list[MsgRow] = []
    tail7: list[MsgRow] = []
    has_older: bool = False
    newer_waiting: bool = False  # more messages below than the window holds
    focus: str = ""  # "seq:nonce" of a message to scroll to and flash (a search result, a quote)
    loading_newer: bool = False
    seen_upto: int = 0  # every other member has read up to here: two ticks
    seen: SeenLine = SeenLine()  # a group's "Seen by Ada, Bob" under my latest message (state/seen.py)
    loading_older: bool = False
    notice: str = ""
    open_muted: bool = False
    mention_names: str = "[]"  # the open group's other members, as JSON, for @ completion
    open_gone: bool = False  # a direct chat whose other person deleted the account: no composer

    # --- backend only ---------------------------------------------------------------------------
    _names: dict[str, str] = {}  # the open chat's members, and the _authors
    _authors: dict[str, str] = {}  # the others its shown messages name (left, or deleted)
    _cursors: dict[str, int] = {}  # the open chat's members' read cursors
    _attentive: bool = True  # visible and scrolled to the bottom
    _read_due: tuple[str, int] | None = None  # (chat, seq) shown read, to be stored by the hub
    _change_seen: int = 0  # the open chat's change count this tab has applied

    # ============================================================================ helpers

    def _composer(self) -> ComposerState:
        from chat_web.state.composer import ComposerState  # a substate: its module imports this one

        return self.substates[ComposerState.get_name()]  # type: ignore[return-value]

    def _held_seqs(self) -> list[int]:
        """Seqs on screen: older pages and the live window."""
        return [row.seq for row in self._window()]

    def _window(self) -> list[MsgRow]:
        """The stored messages on screen, in order (`older` then the tail blocks), unproxied."""
        return [row for part in WINDOW_PARTS for row in self.get_value(part)]

    def _show_window(self, window: list[MsgRow]) -> None:
        """Show these rows (relabelled, in order). Reflex sends a changed list whole, so a new
        message must not change a long one: while `older` still leads the window unchanged it
        stays as it is, and the rows after it go in blocks of TAIL_BLOCK, of which only the
        last changes with a new message. Past the last block, all folds into `older`: one
        larger update every TAIL_BLOCK * len(TAILS) messages, when the reader is not at the
        bottom (there, the window is trimmed back before that)."""
        older = self.get_value("older")
        if older and not _leads(older, window):
            self._lay_out(window, [])
        else:
            self._lay_out(older, window[len(older) :])

    def _lay_out(self, older: list[MsgRow], rest: list[MsgRow]) -> None:
        """Set `older`, and `rest` after it in the tail blocks (all in `older` when they would
        not fit), each var only if it changed (a change is re-sent)."""
        blocks = [rest[i : i + TAIL_BLOCK] for i in range(0, len(rest), TAIL_BLOCK)]
        if len(blocks) > len(TAILS):
            older, blocks = older + rest, []
        for name, rows in zip(
            WINDOW_PARTS, [older, *blocks, *[[]] * (len(TAILS) - len(blocks))], strict=True
        ):
            held = self.get_value(name)
            if len(held) != len(rows) or not _leads(held, rows):
                setattr(self, name, rows)
        self._refresh_seen()

    def _last_held(self) -> int:
        held = self._held_seqs()
        return held[-1] if held else 0

    def _contiguous_end(self) -> int:
        """The last seq up to which nothing is missing on screen (a hole means a lost event)."""
        held = self._held_seqs()
        end = held[0] if held else 0
        for seq in held[1:]:
            if seq != end + 1:
                break
            end = seq
        return end

    def _last_loaded(self) -> int:
        """The newest message of the window."""
        window = self._window()
        return window[-1].seq if window else 0

    def _first_held(self) -> int:
        window = self._window()
        return window[0].seq if window else 0

    def _seen_floor(self) -> int:
        others = [seq for user, seq in self._cursors.items() if user != self.user_id]
        return min(others, default=0)

    # ============================================================================ page load

    @rx.event
    async def open_page(self):
        """on_load of /chat and /chat/<id>; also runs again after every websocket reconnect."""
        try:
            me = await self._signed_in_user()
            if me is None:
                return rx.redirect("/login", replace=True)
            live = container.current().live
            # Follow first, then read storage: no event can fall between the two.
            fresh = await live.attach(self._tab, me.id)
            if fresh or not self.get_value("rows"):
                await self._load_chats(me)
            wanted = _chat_id_from(self.router.url.path)
            if wanted != self.open_id:
                await self._open(me, wanted)
            elif wanted and fresh:
                await self._catch_up(me)
            await self._refresh_presence()  # a reload shows who is online now
        except Forbidden as exc:
            self._close_chat()
            return [error_toast(exc), rx.redirect("/chat", replace=True)]
        except ChatError as exc:
            return error_toast(exc)
        if not self.tz:
            return rx.call_script(
                "Intl.DateTimeFormat().resolvedOptions().timeZone", callback=ChatState.set_timezone
            )

    @rx.event
    async def set_timezone(self, name: str):
        if not isinstance(name, str) or R.zone(name).key != name or name == self.tz:
            return
        try:
            me = await self._require()  # the session first: a signed-out tab keeps nothing
        except ChatError as exc:
            return error_toast(exc)
        self.tz = name
        # Show the times in local time: a first visit reads its page once more.
        try:
            await self._load_chats(me)
            await self._open(me, self.open_id)
        except ChatError as exc:
            return error_toast(exc)

    # ============================================================================ conversation

    def _close_chat(self) -> None:
        self.open_id = self.open_title = self.open_initial = self.open_peer = self.open_subtitle = ""
        self._lay_out([], [])
        self.has_older = self.newer_waiting = self.loading_newer = self.open_muted = False
        self.open_gone = False
        self.focus = ""
        self.seen_upto = self._change_seen = 0
        self._names, self._authors, self._cursors, self._group = {}, {}, {}, False
        self._composer()._clear()

    async def _open(self, me: User, chat_id: str) -> None:
        self._close_chat()
        self.notice = ""
        if not chat_id:
            return
        page = await container.current().chats.history(me, chat_id, limit=MESSAGE_PAGE)
        self.open_id = chat_id
        self._take_members(page)
        self._lay_out(R.relabel(self._message_rows(page.plain_messages)), [])
        self.has_older = page.has_more
        self.open_muted = page.muted
        self._change_seen = page.last_change
        self._mark_row_read(chat_id, page.chat.last_seq)
        if not any(row.id == chat_id for row in self._listed()):
            await self._count_unread_elsewhere(me)  # opening it read a chat counted there
        await self._refresh_presence()

    async def _open_at(self, me: User, chat_id: str, seq: int) -> None:
        """Open a chat at one message: a page around it, the rest paged in as the reader
        scrolls (older above; newer below, until the live end). Nothing is marked read."""
        self._close_chat()
        self.notice = ""
        chats = container.current().chats
        before = await chats.history(me, chat_id, before_seq=seq + 1, limit=AROUND + 1)
        after = await chats.history(me, chat_id, after_seq=seq, limit=AROUND)
        self.open_id = chat_id
        self._learn_authors(before)
        self._take_members(after)
        self._lay_out(R.relabel(self._message_rows(before.plain_messages + after.plain_messages)), [])
        self.has_older = before.has_more
        self.newer_waiting = after.has_more
        self.focus = f"{seq}:{uuid.uuid4().hex[:8]}"
        await self._refresh_presence()

    @rx.event
    async def open_at(self, chat_id: str, seq: int):
        """A search result was picked: show its chat scrolled to that message."""
        if not isinstance(chat_id, str) or not isinstance(seq, int) or isinstance(seq, bool):
            return
        try:
            me = await self._paging()
            await self._open_at(me, chat_id, seq)
        except Forbidden as exc:
            self._close_chat()
            return [error_toast(exc), rx.redirect("/chat")]
        except ChatError as exc:
            return error_toast(exc)
        return rx.redirect(f"/chat/{chat_id}")

    @rx.event
    async def load_newer(self):
        """Scrolled to the bottom of a window that stops short of the live end: the next page.
        The window stays bounded: past WINDOW_HARD, what is furthest up is let go (and
        scrolling up pages it back)."""
        if not self.open_id or not self.newer_waiting or self.loading_newer:
            return
        try:
            me = await self._paging()
        except RateLimited:
            return None  # scrolled to the bottom again too soon: the next scroll asks again
        except ChatError as exc:
            return error_toast(exc)
        self.loading_newer = True
        try:
            page = await container.current().chats.history(
                me, self.open_id, after_seq=self._last_loaded(), limit=MESSAGE_PAGE
            )
        except ChatError as exc:
            self.loading_newer = False
            return error_toast(exc)
        self._learn_authors(page)
        window = self._window() + self._message_rows(page.plain_messages)
        if len(window) > WINDOW_HARD:
            window = window[-WINDOW_HARD:]
            self.has_older = True
        self._lay_out(R.relabel(window), [])
        self.newer_waiting = page.has_more
        self.loading_newer = False

    def _take_members(self, page: HistoryPage) -> None:
        chat = page.chat
        self._group = chat.kind == "group"
        members = {u.id: u.name for u in page.others}
        # Someone who left keeps their name on what they wrote; the page says who is deleted.
        gone = {i: name for i, name in self._names.items() if i not in members and i != self.user_id}
        self._authors = {**self._authors, **gone, **page.authors}
        self._names = {**self._authors, **members}
        self.mention_names = json.dumps(sorted(u.name for u in page.others)) if self._group else "[]"
        self._names[self.user_id] = self.user_name
        self._cursors = dict(page.read_cursors)
        self.seen_upto = self._seen_floor()
        self._refresh_seen()
        if self._group:
            self.open_title, self.open_peer = chat.title or "Group", ""
            self.open_subtitle = f"{len(self._cursors)} members"
        else:
            other = page.others[0] if page.others else None
            self.open_title = other.name if other else DELETED_ACCOUNT
            self.open_peer = other.id if other else ""
            self.open_gone = other is None
        self.open_initial = R.initial_of(self.open_title)
        self._track_peers()

    def _learn_authors(self, page: HistoryPage) -> None:
        """A page of older or newer messages may name people no longer members: their names."""
        if page.authors:
            self._authors = {**self._authors, **page.authors}
            self._names = {**page.authors, **self._names}

    def _message_rows(self, messages: list[Message]) -> list[MsgRow]:
        zone, now = self._zone(), self._now()
        return [R.message_row(m, self.user_id, self._names, zone, now, self._group) for m in messages]

    def _append(self, messages: list[Message]) -> None:
        """Merge stored messages into the live window by seq: each once, in order, late ones
        in their place (my own sends too: the page script shows them until they come back)."""
        held = set(self._held_seqs())
        window = self._window()
        start = window[0].seq if window else 0
        fresh = {m.seq: m for m in messages if m.seq not in held and m.seq > start}
        if not fresh:
            return
        if self.newer_waiting or (len(window) + len(fresh) > WINDOW_HARD and not self._attentive):
            # The reader is far up the history: newer messages wait behind "jump to latest".
            self.newer_waiting = True
            return
        rows = window + self._message_rows(list(fresh.values()))
        rows.sort(key=lambda row: row.seq)
        self._show_trimmed(rows)

    def _show_trimmed(self, rows: list[MsgRow]) -> None:
        """Show the window, dropping what scrolled away while reading at the bottom
        (scrolling up pages it back)."""
        if len(rows) > WINDOW_MAX and self._attentive:
            rows = rows[-WINDOW_KEEP:]
            self.has_older = True
        self._show_window(R.relabel(rows))

    async def _catch_up(self, me: User) -> None:
        """After a reconnect or a lost event: fetch whatever came after what is held."""
        if not self.open_id:
            return
        chats = container.current().chats
        for _ in range(5):  # bounded: past that, "jump to latest" takes over
            page = await chats.history(
                me, self.open_id, after_seq=self._contiguous_end(), limit=100, changed_after=self._change_seen
            )
            self._take_members(page)
            self._append(page.plain_messages)
            for view in page.changes:
                self._apply_change(view.message)
            self._change_seen = max(self._change_seen, page.last_change)
            if not page.has_more or self.newer_waiting:
                break
        self.seen_upto = self._seen_floor()
        await self._read_if_attentive(me)

    @rx.event
    async def load_older(self):
        if not self.open_id or not self.has_older or self.loading_older:
            return
        try:
            await self._paging()
        except RateLimited:
            return None  # scrolled up again too soon: the next scroll asks again
        except ChatError as exc:
            return error_toast(exc)
        return await self._load_older_page()

    async def _load_older_page(self):
        """One page above what is held; a toast if it could not be read."""
        try:
            me = await self._require()
            page = await container.current().chats.history(
                me, self.open_id, before_seq=self._first_held(), limit=MESSAGE_PAGE
            )
        except ChatError as exc:
            return error_toast(exc)
        self._learn_authors(page)
        rows = self._message_rows(page.plain_messages)
        # Above the window: `older` grows; the tail blocks keep their rows (the same objects,
        # unless the first of them is labelled anew), so they are not re-sent.
        above = len(rows) + len(self.get_value("older"))
        joined = R.relabel(rows + self._window())
        self._lay_out(joined[:above], joined[above:])
        self.has_older = page.has_more

    @rx.event
    async def jump_to_latest(self):
        if not self.open_id:
            return
        try:
            me = await self._paging()
            await self._open(me, self.open_id)
        except ChatError as exc:
            return error_toast(exc)

    @rx.event
    async def set_attentive(self, attentive: bool):
        """The browser says whether the reader sees the bottom of the conversation."""
        self._attentive = bool(attentive)
        if self._attentive and self.open_id:
            try:
                await self._read_if_attentive(await self._require())
            except ChatError as exc:
                return error_toast(exc)

    def _read_soon(self) -> None:
        """A live message is on screen: show it read now, and let the hub store the read
        after the update has gone out (off the delivery path, a few messages at a time)."""
        last = self._last_held()
        if self._attentive and self.open_id and self._reads.get(self.open_id, 0) < last:
            self._mark_row_read(self.open_id, last)
            self._read_due = (self.open_id, last)

    def _take_read_due(self) -> tuple[str, int] | None:
        due, self._read_due = self._read_due, None
        return due

    async def _read_if_attentive(self, me: User) -> None:
        last = self._last_held()
        if not self._attentive or not self.open_id or self._reads.get(self.open_id, 0) >= last:
            return
        await container.current().chats.mark_read(me, self.open_id, last)
        self._mark_row_read(self.open_id, last)

    @rx.event
    async def toggle_mute(self):
        """Mute or unmute the open chat (for me). My other tabs hear of it as chat.changed."""
        if not self.open_id:
            return
        try:
            me = await self._require()
            member = await container.current().chats.set_muted(me, self.open_id, not self.open_muted)
        except ChatError as exc:
            return error_toast(exc)
        self.open_muted = member.muted
        self._set_rows(
            [
                dataclasses.replace(r, muted=member.muted) if r.id == self.open_id else r
                for r in self._all_rows()
            ]
        )
        self._recount_unread()

    # ============================================================================ messages

    @rx.event
    async def react(self, seq: int, emoji: str):
        """Toggle my reaction on a message this tab shows."""
        row = self._held_row(seq)
        if row is None or row.deleted or not row.id:
            return
        try:
            me = await self._require()
            message = await container.current().chats.react(me, self.open_id, row.id, emoji)
        except ChatError as exc:
            return error_toast(exc)
        self._apply_change(message)

    @rx.event
    async def jump_to(self, seq: int):
        """A quote was clicked: bring the message it quotes into view, paging back to it."""
        if not self.open_id or not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            return
        if seq > self._last_held():
            return  # not a message of this chat yet: nothing to page back for
        try:
            await self._paging()  # one jump, however many pages it reads (at most JUMP_PAGES)
        except ChatError as exc:
            yield error_toast(exc)
            return
        for _ in range(JUMP_PAGES):
            if self._held_row(seq) is not None or not self.has_older:
                break
            failed = await self._load_older_page()
            if failed is not None:
                yield failed
                return
            yield  # show each page as it comes
        if self._held_row(seq) is None:
            yield rx.toast.info("That message is further back than this view goes; scroll up to it.")
            return
        self.focus = f"{seq}:{uuid.uuid4().hex[:8]}"  # the page script scrolls to it and flashes it


def _leads(rows: list[MsgRow], window: list[MsgRow]) -> bool:
    """Whether these very rows (the same objects) start the window."""
    return len(window) >= len(rows) and all(a is b for a, b in zip(rows, window, strict=False))
