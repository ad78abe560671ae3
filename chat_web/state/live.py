"""The Reflex side of live delivery: apply events to a tab's ChatState and push the delta."""

from __future__ import annotations

from typing import Any

import reflex as rx

from chat_web.state.chat import ChatState


class ReflexTabs:
    """The TabGateway of chat_web.services.live, over a running Reflex app."""

    def __init__(self, app: rx.App):
        self._app = app

    async def deliver(self, tab: str, user_id: str, events: list[dict[str, Any]]) -> bool:
        # modify_state takes the tab's state lock (in Redis when configured), lets us
        # change it, and sends the browser only the vars that changed.
        async with self._app.modify_state(rx.BaseStateToken(ident=tab, cls=ChatState)) as state:
            chat = state if isinstance(state, ChatState) else await state.get_state(ChatState)
            if chat.user_id != user_id:
                return False  # signed out, or another account in this tab now
            await chat._apply_events(events)
            return True

    def connected(self, tab: str) -> bool:
        namespace = self._app.event_namespace
        if namespace is None:
            return False
        manager = namespace._token_manager  # Reflex 0.10 has no public "is this tab here" check
        record = manager.token_to_socket.get(tab)
        return record is not None and record.instance_id == manager.instance_id
