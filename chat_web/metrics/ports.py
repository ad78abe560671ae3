"""Port wrappers that count what passes through them: the services stay free of metrics."""

from __future__ import annotations

from typing import Any

from chat_web.domain import ChatError, MailMessage, Message, NewMessage
from chat_web.domain.sending import MentionFinder, Sent
from chat_web.metrics import CODES_ISSUED, MAILS_FAILED, MESSAGES_STORED
from chat_web.ports import MailQueue, MessageRepo


class CountedMessages:
    """A MessageRepo that counts the messages it stored."""

    def __init__(self, inner: MessageRepo):
        self._inner = inner

    async def append(self, message: NewMessage) -> tuple[Message, bool]:
        stored, created = await self._inner.append(message)
        if created:
            MESSAGES_STORED.inc()
        return stored, created

    async def send(self, message: NewMessage, mentions: MentionFinder | None = None) -> Sent:
        sent = await self._inner.send(message, mentions)
        if sent.created:
            MESSAGES_STORED.inc()
        return sent

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CountedMail:
    """A MailQueue that counts the sign-in codes handed over, and the hand-overs that failed."""

    def __init__(self, inner: MailQueue):
        self._inner = inner

    async def publish(self, message: MailMessage) -> None:
        try:
            await self._inner.publish(message)
        except ChatError:
            MAILS_FAILED.labels("handover").inc()
            raise
        CODES_ISSUED.inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
