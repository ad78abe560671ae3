"""The Reflex side of live delivery: apply events to a tab's chat page and push the delta.

A batch loads only the states it changes: the chat list alone for someone typing or coming
online, the list and the open conversation (ChatState, a substate of the list) for the rest.
Neither loads the composer, the info panel or the search."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx
from reflex.event import Event
from reflex.state import StateUpdate

from chat_web import container
from chat_web.domain import ChatError, ServiceUnavailable, User
from chat_web.metrics.live import record_delivered
from chat_web.state.chat import ChatState
from chat_web.state.chat_list import ChatListState
from chat_web.state.chat_live import needs_conversation

log = logging.getLogger(__name__)
READ_DELAY = 0.3  # seconds: reads of messages arriving together are stored once
READ_RETRIES = (0.5, 1.0, 2.0)  # pauses before trying a read again while storage is unavailable


class StaleTab(Exception):
    """The tab could not be brought up to date from storage: the hub resyncs it later."""


class ReflexTabs:
    """The TabGateway of chat_web.services.live, over a running Reflex app."""

    def __init__(self, app: rx.App, pause: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._app = app
        self._pause = pause
        self._reads: dict[str, tuple[User, str, int]] = {}  # tab -> the latest read to store
        self._tasks: set[asyncio.Task] = set()  # held: the loop keeps only weak references

    async def deliver(self, tab: str, user_id: str, events: list[dict[str, Any]]) -> bool:
        # modify_state takes the tab's state lock (in Redis when configured), lets us
        # change it, and sends the browser only the vars that changed.
        cls = ChatState if needs_conversation(events) else ChatListState
        async with self._app.modify_state(rx.BaseStateToken(ident=tab, cls=cls)) as state:
            page = state if isinstance(state, cls) else await state.get_state(cls)
            if page.user_id != user_id:
                return False  # signed out, or another account in this tab now
            up_to_date = await page._apply_events(events)
            due = page._take_read_due() if isinstance(page, ChatState) else None
            me = page._me()
        record_delivered(events)  # the delta is on its way to the browser
        if due is not None:
            self._store_read_soon(tab, me, *due)
        if not up_to_date:
            # Raised after the block: what did apply still reached the browser.
            raise StaleTab(f"events for {user_id} left a tab behind storage")
        return True

    def _store_read_soon(self, tab: str, me: User, chat_id: str, seq: int) -> None:
        pending = tab in self._reads
        self._reads[tab] = (me, chat_id, seq)
        if not pending:
            task = asyncio.create_task(self._store_read(tab), name=f"read:{chat_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _store_read(self, tab: str) -> None:
        """Store the tab's latest read, trying again while storage is unavailable; if it never
        is, the page stops showing it read and says so."""
        await self._pause(READ_DELAY)
        me, chat_id, seq = self._reads.pop(tab)
        error = await self._mark_read(me, chat_id, seq)
        if error is None:
            return
        log.warning("read of %s up to %d not stored: %s", chat_id, seq, error.message)
        try:
            async with self._app.modify_state(rx.BaseStateToken(ident=tab, cls=ChatListState)) as state:
                chat = state if isinstance(state, ChatListState) else await state.get_state(ChatListState)
                if chat.user_id == me.id:
                    chat._read_not_stored(chat_id, seq)
            await self._toast(tab, f"This conversation could not be marked as read: {error.message}")
        except Exception:  # noqa: BLE001 - the tab may have gone meanwhile
            log.exception("a tab not told that its read was not stored")

    async def _mark_read(self, me: User, chat_id: str, seq: int) -> ChatError | None:
        """None once stored; else why not."""
        for pause in (*READ_RETRIES, None):
            try:
                await container.current().chats.mark_read(me, chat_id, seq)
                return None
            except ServiceUnavailable as exc:
                if pause is None:
                    return exc
                await self._pause(pause)
            except ChatError as exc:
                return exc  # refused (no longer a member, say): trying again changes nothing
        return None

    async def _toast(self, tab: str, message: str) -> None:
        """An error toast in this tab, outside any of its events (the UI framework's own
        update message, as an event handler's returned toast would travel)."""
        namespace = self._app.event_namespace
        if namespace is None:
            return
        events = Event.from_event_type([rx.toast.error(message, duration=6000)])
        await namespace.emit_update(StateUpdate(events=events), token=tab)

    def connected(self, tab: str) -> bool:
        namespace = self._app.event_namespace
        if namespace is None:
            return False
        manager = namespace._token_manager  # Reflex 0.10 has no public "is this tab here" check
        record = manager.token_to_socket.get(tab)
        return record is not None and record.instance_id == manager.instance_id
