"""Reply quotes for messages read without them (an edit's or a reaction's result, the export's
pages): storage's own rule (domain/sending.with_quotes), the answered messages not in hand read
in one go."""

from __future__ import annotations

from chat_web.domain import Message
from chat_web.domain.sending import with_quotes
from chat_web.ports import MessageRepo


async def quoted(messages: MessageRepo, chat_id: str, page: list[Message]) -> list[Message]:
    """Each reply in `page` with its quote; one read, for the answered messages not in `page`
    (a reply that already carries its quote keeps it)."""
    in_hand = {m.seq for m in page}
    missing = sorted({m.reply_to for m in page if m.reply_to and m.quote is None} - in_hand)
    earlier = await messages.by_seqs(chat_id, missing) if missing else []
    return with_quotes(page, lambda _: earlier)
