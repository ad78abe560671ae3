"""The chat page's list: my chats with their unread counts, who of my contacts is online, who
is typing where, and which chat is open.

The first of the page's substates (SessionState → ChatListState → ChatState → ComposerState).
An event that changes only what this one holds (someone typing, someone coming online, the
next page of chats, the info panel's presence) loads, diffs and saves only this and its
parent, never the open conversation's window (state/chat.py, a substate of this one); a
delivered message changes this and the window, and nothing else. Reflex loads a substate with
its parents, so what both need (the open chat's id and its other person) lives here.

A page of chats is held, not the whole list: a live update costs the same however many chats
I have. Presence is a list of online ids; typing a small map whose expiry runs in the browser
(CSS), never in a server timer.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, RateLimited, Unauthorized, User, preview_of
from chat_web.domain.models import DELETED_ACCOUNT, Message
from chat_web.services.chats import ChatSummary
from chat_web.state import rows as R
from chat_web.state.chat_live import ListEvents
from chat_web.state.rows import ChatRow
from chat_web.state.session import SessionState, error_toast

CHAT_PAGE = 20
# My chats as the page holds them: in blocks, each its own var (Reflex re-sends a changed list
# whole). A message moves its chat to the top, which shifts the rows above it: only the
# blocks down to where it was are re-sent, nearly always the first. The last holds the rest.
LIST_BLOCK = 5
LIST_PARTS = ("rows", "rows1", "rows2", "rows3")
RECHECK_SECONDS = 60.0  # how long a tab's checked session is trusted before storage is asked again


class ChatListState(ListEvents, SessionState):
    # The browser's time zone (IANA name), set by the page's script: times are local.
    tz: str = rx.Cookie("", name="chat_tz", max_age=365 * 24 * 3600, same_site="strict")

    # My chats, top first, in blocks (LIST_PARTS). The top one's changing part (preview, time,
    # badge, mention) is held apart, in the top_* vars: Reflex re-sends a changed list whole,
    # and a conversation's messages change only its own row, nearly always the top one
    # (profiled: the list was a third of the bytes of a delivered message). `_all_rows()`
    # reads them whole.
    rows: list[ChatRow] = []
    rows1: list[ChatRow] = []
    rows2: list[ChatRow] = []
    rows3: list[ChatRow] = []
    top_preview: str = ""
    top_when: str = ""
    top_badge: str = ""
    top_mentioned: bool = False
    chats_cursor: str = ""  # the next page of chats; "" when there is none
    # The list came from storage: until then an empty list is not "no conversations" (a page
    # opened offline from the app's cached shell, or before its state has loaded).
    chats_loaded: bool = False
    unread_total: int = 0  # over all my chats not muted: the page title shows it
    # The latest message worth a browser notification ({key, chat, title, body}); the page
    # script shows it only while the tab is hidden and the reader allowed notifications.
    notify: dict[str, str] = {}
    session_ended: bool = False  # signed out in another tab or everywhere: the page leaves

    online_ids: list[str] = []
    typing_label: dict[str, str] = {}  # chat id -> "typing…" / "Ada is typing…"
    typing_key: dict[str, str] = {}  # chat id -> a new key per typing event (restarts the CSS timer)

    # The open chat, as the list and presence need it (the rest of it is ChatState's).
    open_id: str = ""
    open_peer: str = ""  # a direct chat's other user
    open_subtitle: str = ""  # "3 members" / "last seen today at 14:05"
    _group: bool = False  # the open chat is a group

    # --- backend only ---------------------------------------------------------------------------
    _reads: dict[str, int] = {}  # listed chat -> my read cursor
    _lasts: dict[str, int] = {}  # listed chat -> its last seq
    _mentions: dict[str, int] = {}  # listed chat -> the latest seq that mentions me
    _unread_elsewhere: int = 0  # unread (not muted) in my chats this tab does not list
    _peers: list[str] = []  # users whose presence this tab shows
    _panel_peers: list[str] = []  # the open info panel's members (state/chat_info.py): shown too
    _typing_at: dict[str, float] = {}
    _checked_token: str = ""
    _checked_at: float = 0.0

    # ============================================================================ helpers

    @property
    def _tab(self) -> str:
        return self.router.session.client_token

    def _zone(self):
        return R.zone(self.tz)

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _me(self) -> User:
        """The tab's user, known from its checked session (live events carry no cookie)."""
        return User(id=self.user_id, email=self.user_email, name=self.user_name, created_at=self._now())

    async def _require(self) -> User:
        """The checked user of a browser action; Unauthorized if the session is gone.

        The session is checked against storage at most every RECHECK_SECONDS per tab:
        a message, a typing signal or a scroll does not each cost a database read.
        """
        now = time.time()
        if self.token and self.token == self._checked_token and now - self._checked_at < RECHECK_SECONDS:
            return self._me()
        me = await self._signed_in_user()
        if me is None:
            raise Unauthorized("Your session has ended; sign in again.")
        self._checked_token, self._checked_at = self.token, now
        return me

    async def _paging(self) -> User:
        """The checked user of a page or a jump through history, counted against the user's
        paging limit (LIMIT_PAGES_PER_SECOND): RateLimited past it."""
        me = await self._require()
        limits = container.current().tab_limits
        if limits is not None:
            await limits.page(me.id)
        return me

    # ============================================================================ the list

    async def _load_chats(self, me: User) -> None:
        page = await container.current().chats.list_chats(me, CHAT_PAGE)
        self._set_rows([])
        self._reads, self._lasts, self._mentions = {}, {}, {}
        self._add_rows(page.items)
        self.chats_cursor = page.next_cursor or ""
        self.chats_loaded = True
        await self._count_unread_elsewhere(me)
        await self._refresh_presence()

    async def _count_unread_elsewhere(self, me: User) -> None:
        """Ask storage for the unread of the chats not listed here; the listed ones this tab
        counts itself as events come (so a message is never counted twice)."""
        listed = [row.id for row in self._listed()]
        self._unread_elsewhere = await container.current().chats.unread_total(me, listed)
        self._recount_unread()

    def _listed(self) -> list[ChatRow]:
        """My chats as held, in order (the top one without its changing part). Read without
        Reflex's change-tracking proxy: walking the list through it wrapped every row and
        field (profiled)."""
        return [row for name in LIST_PARTS for row in self.get_value(name)]

    def _all_rows(self) -> list[ChatRow]:
        """My chats as shown, the top one whole again."""
        rows = self._listed()
        if not rows:
            return rows
        top = dataclasses.replace(
            rows[0],
            preview=self.top_preview,
            when=self.top_when,
            badge=self.top_badge,
            mentioned=self.top_mentioned,
        )
        return [top, *rows[1:]]

    def _set_rows(self, rows: list[ChatRow]) -> None:
        """Show these chats: a block changes (and is re-sent) only when more than the top
        one's changing part did in it."""
        if rows:
            top = rows[0]
            for name, value in (
                ("top_preview", top.preview),
                ("top_when", top.when),
                ("top_badge", top.badge),
                ("top_mentioned", top.mentioned),
            ):
                if self.get_value(name) != value:
                    setattr(self, name, value)
            rows = [dataclasses.replace(top, preview="", when="", badge="", mentioned=False), *rows[1:]]
        last = len(LIST_PARTS) - 1  # the last block takes the rest
        blocks = [rows[i * LIST_BLOCK : (i + 1) * LIST_BLOCK] for i in range(last)]
        blocks.append(rows[last * LIST_BLOCK :])
        for name, block in zip(LIST_PARTS, blocks, strict=True):
            if block != self.get_value(name):
                setattr(self, name, block)

    def _recount_unread(self) -> None:
        # The dicts read once, unproxied: through `self` each lookup wrapped them anew (profiled).
        lasts, reads = self.get_value("_lasts"), self.get_value("_reads")
        listed = sum(
            max(0, lasts.get(row.id, 0) - reads.get(row.id, 0)) for row in self._all_rows() if not row.muted
        )
        total = self._unread_elsewhere + listed
        if total != self.unread_total:
            self.unread_total = total

    def _row_of(self, summary: ChatSummary) -> ChatRow:
        chat, others = summary.chat, summary.others
        if chat.kind == "group":
            title, peer = chat.title or "Group", ""
        else:
            title = others[0].name if others else DELETED_ACCOUNT
            peer = others[0].id if others else ""
        self._reads[chat.id] = chat.last_seq - summary.unread
        self._lasts[chat.id] = chat.last_seq
        if summary.mentioned:
            self._mentions[chat.id] = chat.last_seq
        return ChatRow(
            id=chat.id,
            title=title,
            initial=R.initial_of(title),
            peer=peer,
            preview=chat.preview if chat.last_seq else ("New group" if chat.kind == "group" else "Say hello"),
            when=R.list_time(chat.updated_at, self._now(), self._zone()),
            badge=R.badge(summary.unread),
            muted=summary.muted,
            mentioned=summary.mentioned,
        )

    def _add_rows(self, summaries: list[ChatSummary]) -> None:
        rows = self._all_rows()
        known = {row.id for row in rows}
        self._set_rows(rows + [self._row_of(s) for s in summaries if s.chat.id not in known])
        self._track_peers()

    def _track_peers(self) -> None:
        """The users whose presence this tab shows: direct chats listed, the open one, and the
        members listed by the info panel while it is open."""
        listed = [r.peer for r in self._listed() if r.peer] + [self.open_peer] + self._panel_peers
        self._peers = list(dict.fromkeys(listed))
        container.current().live.watch(self._tab, self._peers)

    @rx.event
    async def load_more_chats(self):
        if not self.chats_cursor:
            return
        try:
            me = await self._paging()
            page = await container.current().chats.list_chats(me, CHAT_PAGE, self.chats_cursor)
        except RateLimited:
            return None  # the list scrolled again too soon: the next scroll asks again
        except ChatError as exc:
            return error_toast(exc)
        self._add_rows(page.items)
        self.chats_cursor = page.next_cursor or ""
        try:
            await self._count_unread_elsewhere(me)
        except ChatError as exc:
            return error_toast(exc)
        await self._refresh_presence()

    def _mark_row_read(self, chat_id: str, seq: int) -> None:
        self._reads[chat_id] = max(self._reads.get(chat_id, 0), seq)
        self._set_badge(chat_id)

    def _set_badge(self, chat_id: str) -> None:
        lasts, reads, mentions = (
            self.get_value("_lasts"),
            self.get_value("_reads"),
            self.get_value("_mentions"),
        )
        unread = lasts.get(chat_id, 0) - reads.get(chat_id, 0)
        mentioned = mentions.get(chat_id, 0) > reads.get(chat_id, 0)
        rows = self._all_rows()
        for i, row in enumerate(rows):
            if row.id == chat_id and (row.badge, row.mentioned) != (R.badge(unread), mentioned):
                self._set_rows(
                    [
                        *rows[:i],
                        dataclasses.replace(row, badge=R.badge(unread), mentioned=mentioned),
                        *rows[i + 1 :],
                    ]
                )
        self._recount_unread()

    def _bump_row(self, message: Message) -> bool:
        """Move the chat to the top with this message as its preview; False if it is not listed."""
        rows = self._all_rows()
        index = next((i for i, r in enumerate(rows) if r.id == message.chat_id), None)
        if index is None:
            return False
        row = rows[index]
        updated = dataclasses.replace(
            row,
            preview=preview_of(message),
            when=R.list_time(message.created_at, self._now(), self._zone()),
            badge=R.badge(self._lasts.get(row.id, 0) - self._reads.get(row.id, 0)),
        )
        if index != 0 or updated != row:
            self._set_rows([updated] + rows[:index] + rows[index + 1 :])
        return True

    def _read_not_stored(self, chat_id: str, seq: int) -> None:
        """The read up to `seq` shown here never reached storage: stop showing it, unless a
        later read was shown since (that one is on its way). The next read tries again."""
        if self._reads.get(chat_id, 0) == seq:
            self._reads[chat_id] = seq - 1
            self._set_badge(chat_id)

    # ============================================================================ presence

    async def _refresh_presence(self) -> None:
        status = await container.current().presence.status(self.user_id, self._peers)
        online = sorted(status.online)
        if online != self.online_ids:
            self.online_ids = online
        self._refresh_last_seen(status.last_seen.get(self.open_peer))

    def _refresh_last_seen(self, last_seen: datetime | None) -> None:
        """A direct chat's header: when its other person was last online (a group's says how
        many members it has, from ChatState)."""
        if not self.open_id:
            self.open_subtitle = ""
        elif not self._group:
            self.open_subtitle = R.last_seen_label(last_seen, self._now(), self._zone())
