"""Edits and deletions on the chat page (the ChatState's side): applying a changed message
to the rows a tab holds, whether this tab changed it, another tab did, or a catch-up found it.

Rows are matched by seq. A change count (`chat.last_change`) orders a chat's changes: the tab
keeps the count it has applied, so a catch-up asks for what changed after it.
"""

from __future__ import annotations

import dataclasses

from chat_web.domain import Message, preview_of, quote_of
from chat_web.domain.models import quote_label
from chat_web.state.rows import WINDOW_PARTS, MsgRow, chips, quoted_sender, sender_label, text_pieces

DELETED_TEXT = "Message deleted"


def changed_row(row: MsgRow, message: Message, me: str, names: dict[str, str], group: bool = False) -> MsgRow:
    """The row of a stored message after its edit, deletion or a reaction."""
    # The sender may have left, or deleted the account, since the row was made.
    row = dataclasses.replace(row, sender=sender_label(message.sender_id, me, names, group, row.sender))
    if message.deleted:
        return dataclasses.replace(
            row,
            text="",
            deleted=True,
            edited=False,
            mentions_me=False,
            reactions=[],
            image="",
            thumb="",
            thumb_w=0,
            thumb_h=0,
            pieces=[],
            file_url="",
            file_name="",
            file_meta="",
            voice_url="",
            voice_length="",
            reply_seq=0,
            reply_sender="",
            reply_text="",
        )
    return dataclasses.replace(
        row,
        text=message.text,
        pieces=text_pieces(message.text, me, names if group else {}, message.sender_id),
        edited=message.edited_at is not None,
        reactions=chips(message, me, names),
    )


class MessageChanges:
    def _apply_change(self, message: Message) -> None:
        """Show an edited or deleted message wherever this tab shows it."""
        if message.chat_id == self.open_id:
            for name in WINDOW_PARTS:
                rows = getattr(self, name)
                if any(row.seq == message.seq for row in rows):
                    setattr(
                        self,
                        name,
                        [
                            changed_row(r, message, self.user_id, self._names, self._group)
                            if r.seq == message.seq
                            else r
                            for r in rows
                        ],
                    )
            self._change_seen = max(self._change_seen, message.change)
            self._requote(message)
            if message.deleted:
                self._composer()._message_gone(message.seq)
                self._refresh_seen()  # my latest message may be gone: the line moves back
        if message.seq == self._lasts.get(message.chat_id):
            self._set_rows(
                [
                    dataclasses.replace(r, preview=preview_of(message)) if r.id == message.chat_id else r
                    for r in self._all_rows()
                ]
            )

    def _requote(self, message: Message) -> None:
        """Replies to a changed message show its new first line, or that it was deleted."""
        text = quote_label(quote_of(message))
        for name in WINDOW_PARTS:
            rows = getattr(self, name)
            new = [self._requoted(r, message, text) if r.reply_seq == message.seq else r for r in rows]
            if any(a is not b for a, b in zip(new, rows, strict=True)):
                setattr(self, name, new)

    def _requoted(self, row: MsgRow, message: Message, text: str) -> MsgRow:
        # The quoted sender may have deleted the account since: their name goes too.
        sender = quoted_sender(message.sender_id, self.user_id, self._names, row.reply_sender)
        if row.reply_text == text and row.reply_sender == sender:
            return row
        return dataclasses.replace(row, reply_text=text, reply_sender=sender)

    def _held_row(self, seq: int) -> MsgRow | None:
        for row in self._window():
            if row.seq == seq:
                return row
        return None
