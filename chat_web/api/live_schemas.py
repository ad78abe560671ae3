"""Response models of the live routes."""

from __future__ import annotations

from pydantic import Field

from chat_web.api.chat_schemas import ChatOut, MessageOut
from chat_web.api.schemas import ApiModel
from chat_web.services.sync import ChatDelta, SyncPage


class ChatSyncOut(ApiModel):
    chat: ChatOut
    messages: list[MessageOut] = Field(description="New since the token, oldest first.")
    has_more: bool = Field(description="More new messages than these: page back with before_seq.")
    read_cursors: dict[str, int] = Field(description="Each member's last read seq.")

    @classmethod
    def of(cls, delta: ChatDelta) -> ChatSyncOut:
        floor = min(delta.read_cursors.values(), default=0)
        return cls(
            chat=ChatOut.of_summary(delta.summary),
            messages=[MessageOut.of(m, m.seq <= floor) for m in delta.messages],
            has_more=delta.has_more,
            read_cursors=delta.read_cursors,
        )


class SyncOut(ApiModel):
    chats: list[ChatSyncOut]
    next_cursor: str | None = Field(
        description="More chats changed: call again with the same since and this."
    )
    next: str = Field(description="The since of the next sync (once nextCursor is null).")

    @classmethod
    def of(cls, page: SyncPage) -> SyncOut:
        return cls(
            chats=[ChatSyncOut.of(d) for d in page.chats], next_cursor=page.next_cursor, next=page.next
        )
