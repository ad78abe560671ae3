"""Every chat of a person, a page at a time (exports and account deletion walk them all)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chat_web.domain import ChatView
from chat_web.ports import ChatRepo

PAGE = 100


async def every_chat_of(chats: ChatRepo, user_id: str) -> AsyncIterator[ChatView]:
    older = None
    while True:
        views = await chats.list_for_user(user_id, limit=PAGE, older_than=older)
        for view in views:
            yield view
        if len(views) < PAGE:
            return
        older = (views[-1].chat.updated_at, views[-1].chat.id)
