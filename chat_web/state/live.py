"""The Reflex side of live delivery: apply events to a tab's ChatState and push the delta."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, User
from chat_web.metrics.live import record_delivered
from chat_web.state.chat import ChatState

log = logging.getLogger(__name__)
READ_DELAY = 0.3  # seconds: reads of messages arriving together are stored once


class ReflexTabs:
    """The TabGateway of chat_web.services.live, over a running Reflex app."""

    def __init__(self, app: rx.App):
        self._app = app
        self._reads: dict[str, tuple[User, str, int]] = {}  # tab -> the latest read to store
        self._tasks: set[asyncio.Task] = set()

    async def deliver(self, tab: str, user_id: str, events: list[dict[str, Any]]) -> bool:
        # modify_state takes the tab's state lock (in Redis when configured), lets us
        # change it, and sends the browser only the vars that changed.
        async with self._app.modify_state(rx.BaseStateToken(ident=tab, cls=ChatState)) as state:
            chat = state if isinstance(state, ChatState) else await state.get_state(ChatState)
            if chat.user_id != user_id:
                return False  # signed out, or another account in this tab now
            await chat._apply_events(events)
            due, me = chat._take_read_due(), chat._me()
        record_delivered(events)  # the delta is on its way to the browser
        if due is not None:
            self._store_read_soon(tab, me, *due)
        return True

    def _store_read_soon(self, tab: str, me: User, chat_id: str, seq: int) -> None:
        pending = tab in self._reads
        self._reads[tab] = (me, chat_id, seq)
        if not pending:
            asyncio.get_running_loop().call_later(
                READ_DELAY, lambda: asyncio.ensure_future(self._store_read(tab))
            )

    async def _store_read(self, tab: str) -> None:
        me, chat_id, seq = self._reads.pop(tab)
        try:
            await container.current().chats.mark_read(me, chat_id, seq)
        except ChatError as exc:
            log.info("read of %s up to %d not stored: %s", chat_id, seq, exc.message)

    def connected(self, tab: str) -> bool:
        namespace = self._app.event_namespace
        if namespace is None:
            return False
        manager = namespace._token_manager  # Reflex 0.10 has no public "is this tab here" check
        record = manager.token_to_socket.get(tab)
        return record is not None and record.instance_id == manager.instance_id
