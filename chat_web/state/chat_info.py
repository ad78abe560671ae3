"""The conversation's info panel: a group's members (add, remove, leave, rename) or a direct
chat's other person.

A small substate of its own, so the conversation's state does not grow: it holds the panel's chat
id, its members as shown (a group has at most GROUP_MAX) and the people found to add,
loaded when the panel opens and again when the chat changes (ChatState's live events call
`_chat_changed`). Presence is what the chat list shows: the online dot from
ChatListState.online_ids, live (the members join the tab's watched people while the panel is
open), and "last seen ..." as read when the panel loads. Every action goes through
ChatService, as the REST API does; the live events it publishes update the header and the
chat list.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, Forbidden, User
from chat_web.domain.models import DELETED_ACCOUNT
from chat_web.services.validation import clean_query
from chat_web.state import rows as R
from chat_web.state.people import found_people
from chat_web.state.rows import Person
from chat_web.state.session import SessionState

FOUND_MAX = 8


@dataclasses.dataclass
class InfoMember:
    id: str
    name: str
    initial: str
    # Shown while they are not online (ChatListState.online_ids, live): "last seen today at
    # 14:05" as the panel loaded it, or "offline"; "" for me.
    seen: str = ""
    me: bool = False
    creator: bool = False


class ChatInfoState(SessionState):
    open: bool = False
    chat_id: str = ""
    group: bool = False
    title: str = ""
    members: list[InfoMember] = []
    creator_name: str = ""
    manage: bool = False  # I created the group: I add and remove members
    renaming: bool = False
    query: str = ""
    found: list[Person] = []
    confirm_leave: bool = False
    busy: bool = False
    error: str = ""  # the last refusal, shown in the panel until the next action

    async def _chat_state(self):
        """The chat list's state: the open chat's id, the presence the tab shows (the open
        conversation's window is not loaded for the panel)."""
        from chat_web.state.chat_list import ChatListState  # its live events call back into this module

        return await self.get_state(ChatListState)

    def _reset_panel(self) -> None:
        self.open = self.group = self.manage = self.renaming = self.confirm_leave = self.busy = False
        self.chat_id = self.title = self.creator_name = self.query = self.error = ""
        self.members, self.found = [], []

    async def _close(self) -> None:
        """Forget the panel, and stop following its members' presence."""
        self._reset_panel()
        chat = await self._chat_state()
        if chat._panel_peers:
            chat._panel_peers = []
            chat._track_peers()
            shown = [u for u in chat.online_ids if u in chat._peers]
            if shown != chat.online_ids:
                chat.online_ids = shown

    async def _load(self, me: User, chat_id: str) -> None:
        """The chat, its members and their presence as I may see it: the online dot follows
        ChatListState.online_ids live (the panel's members join the people the tab watches while
        it is open); "last seen" is read here."""
        services = container.current()
        summary = await services.chats.summary_of(me, chat_id)
        chat = summary.chat
        ids = [u.id for u in summary.others]
        status = await services.presence.status(me.id, ids)
        page = await self._chat_state()
        page._panel_peers = ids
        page._track_peers()
        online = sorted((set(page.online_ids) - set(ids)) | status.online)
        if online != page.online_ids:
            page.online_ids = online
        zone, now = R.zone(page.tz), datetime.now(UTC)
        others = sorted(summary.others, key=lambda u: u.name.casefold())
        people = [me, *others] if chat.kind == "group" else others  # a direct chat: the other person
        self.members = [
            InfoMember(
                id=user.id,
                name=user.name,
                initial=R.initial_of(user.name),
                seen="" if user.id == me.id else R.last_seen_label(status.last_seen.get(user.id), now, zone),
                me=user.id == me.id,
                creator=chat.kind == "group" and user.id == chat.created_by,
            )
            for user in people
        ]
        self.chat_id = chat.id
        self.group = chat.kind == "group"
        other = summary.others[0].name if summary.others else DELETED_ACCOUNT
        self.title = (chat.title or "Group") if self.group else other
        self.manage = self.group and chat.created_by == me.id
        self.creator_name = next((m.name for m in self.members if m.creator), "")
        if not self.manage:
            self.query, self.found = "", []

    # --- opening and closing ---------------------------------------------------------------

    @rx.event
    async def set_open(self, is_open: bool):
        """The dialog's trigger (the conversation header) opens it and loads the members;
        Escape, the close button or a click outside closes it and forgets them."""
        await self._close()
        chat = await self._chat_state()
        if not is_open or not chat.open_id:
            return
        self.open = True
        try:
            await self._load(await self._require(), chat.open_id)
        except ChatError as exc:
            self.error = exc.message

    async def _chat_changed(self, me: User, chat_id: str) -> None:
        """A live chat.changed for the open chat: show the panel as storage holds it now."""
        if not self.open or chat_id != self.chat_id:
            return
        try:
            await self._load(me, chat_id)
        except Forbidden:
            await self._close()  # no longer a member: ChatState closes the chat and says so
        except ChatError as exc:
            self.error = exc.message

    async def _run(self, action) -> bool:
        """Run a change; a refusal shows in the panel (what was typed stays)."""
        try:
            me = await self._require()
            await action(me)
            await self._load(me, self.chat_id)
        except ChatError as exc:
            self.error = exc.message
            return False
        finally:
            self.busy = False
        return True

    def _start(self) -> bool:
        """A change begins (its buttons show it); False while another one runs."""
        if self.busy or not self.chat_id:
            return False
        self.busy, self.error = True, ""
        return True

    # --- rename ------------------------------------------------------------------------------

    @rx.event
    def start_rename(self):
        if self.group:
            self.renaming, self.error = True, ""

    @rx.event
    def cancel_rename(self):
        self.renaming = False

    @rx.event
    async def save_title(self, form: dict):
        """The inline title form: its box keeps what was typed until the rename is stored, so
        a refused title (empty, too long) can be corrected, not typed again."""
        title = form.get("title") if isinstance(form, dict) else None
        if not self._start():
            return
        yield

        async def rename(me: User) -> None:
            await container.current().chats.rename_group(me, self.chat_id, title)

        if await self._run(rename):
            self.renaming = False

    # --- members -----------------------------------------------------------------------------

    @rx.event
    async def search(self, value: str):
        try:
            me = await self._require()
            query = clean_query(value)
        except ChatError as exc:
            self.error = exc.message
            return
        self.query = query
        if not query or not self.manage:
            self.found = []
            return
        try:
            people = await found_people(me, query, FOUND_MAX)
        except ChatError as exc:
            self.error = exc.message
            return
        members = {m.id for m in self.members}
        self.found = [p for p in people if p.id not in members]

    @rx.event
    async def add(self, user_id: str):
        if not self._start():
            return
        yield

        async def add(me: User) -> None:
            await container.current().chats.add_members(me, self.chat_id, [user_id])

        if await self._run(add):
            self.found = [p for p in self.found if p.id != user_id]

    @rx.event
    async def remove(self, user_id: str):
        if not self._start():
            return
        yield

        async def remove(me: User) -> None:
            await container.current().chats.remove_member(me, self.chat_id, user_id)

        await self._run(remove)

    @rx.event
    def ask_leave(self, asking: bool):
        self.confirm_leave, self.error = bool(asking), ""

    @rx.event
    async def leave(self):
        if not self._start():
            return
        yield
        try:
            await container.current().chats.leave_group(await self._require(), self.chat_id)
        except ChatError as exc:
            self.error, self.busy = exc.message, False
            return
        await self._close()
        yield rx.redirect("/chat")
