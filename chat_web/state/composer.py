"""The composer: sending, editing one of my messages, the reply banner, the delete dialog and
typing signals.

A substate of ChatState (Reflex makes a subclass a substate): what the composer holds is
saved and diffed apart from the chat list and the window, so a keystroke's typing signal or
a reply banner touches only this, and a delivered message never touches it. The messages it
acts on are the conversation's: it reads and changes them through its parent, the ChatState.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, RateLimited
from chat_web.domain.models import FILE_EMOJI, VOICE_EMOJI, Quote, quote_label, quote_line
from chat_web.services.live import message_echo
from chat_web.services.validation import clean_text
from chat_web.state.chat import ChatState
from chat_web.state.rows import MsgRow
from chat_web.state.session import error_toast

log = logging.getLogger(__name__)
TYPING_EVERY = 1.5  # the browser asks at most every 2 s; the server drops anything faster
REASON_MAX = 200


class ComposerState(ChatState):
    editing_seq: int = 0  # my message being edited in the composer (0: none)
    editing_text: str = ""  # its text, which the page script puts in the composer
    editing_nonce: str = ""  # a new value asks the page script to (re)fill the composer
    deleting_seq: int = 0  # my message the "delete for everyone?" dialog asks about
    replying_seq: int = 0  # the message my next send answers (0: none)
    replying_sender: str = ""
    replying_text: str = ""

    _typing_sent: float = 0.0

    @property
    def _chat(self) -> ChatState:
        return self.parent_state  # type: ignore[return-value]

    def _row(self, seq: object) -> MsgRow | None:
        return self._chat._held_row(seq) if isinstance(seq, int) and not isinstance(seq, bool) else None

    def _clear(self) -> None:
        """Another chat opened (or none): nothing of the last one's composer stays."""
        self.editing_seq = self.deleting_seq = self.replying_seq = 0
        self.editing_text = self.replying_sender = self.replying_text = ""

    def _message_gone(self, seq: int) -> None:
        """A message of the open chat was deleted: stop editing it or replying to it."""
        if self.editing_seq == seq:
            self.editing_seq, self.editing_text = 0, ""
        if self.replying_seq == seq:
            self.cancel_reply()

    # ============================================================================ sending

    @rx.event
    async def send_from_page(self, item: dict):
        """A new message from the page script (assets/sends.js) while the socket is up.

        Stored by its clientId as the API stores it, shown in this tab at once (its echo from
        the fan-out is then not worth waking the tab for), and answered to the script in the
        API's terms (status, detail, Retry-After), so one code path settles both ways of
        sending. Over the socket a send costs one event, where the API cost an HTTP request and
        a delivery of the echo to this tab."""
        chat = self._chat
        item = item if isinstance(item, dict) else {}
        client_id, chat_id = item.get("clientId"), item.get("chatId")
        answer = {"id": client_id if isinstance(client_id, str) else "", "detail": "", "after": 0}
        try:
            me = await chat._require()
            if isinstance(client_id, str) and isinstance(chat_id, str):
                container.current().live.expect_echo(chat._tab, message_echo(chat_id, me.id, client_id))
            message, created = await container.current().chats.send_text(
                me, chat_id, item.get("text"), client_id, item.get("replyTo")
            )
        except RateLimited as exc:
            answer.update(status=exc.status_code, detail=exc.message, after=exc.retry_after)
        except ChatError as exc:
            answer.update(status=exc.status_code, detail=exc.message)
        else:
            answer["status"] = 201 if created else 200
            # A retry of a stored message may be old news: shown only if nothing newer is.
            if created or message.seq >= chat._lasts.get(message.chat_id, 0):
                await chat._take_message(me, message)
            self._typing_sent = 0.0
        return rx.call_script(f"window.chatSends && window.chatSends.answered({json.dumps(answer)})")

    @rx.event
    def not_sent(self, reason: str):
        """A send the page script made through the API (an image, assets/chat.js; a message,
        assets/sends.js) was refused: say why.

        The reason is the API's own `detail`, shown as text; nothing else happens here."""
        if isinstance(reason, str) and reason.strip():
            return rx.toast.error(reason.strip()[:REASON_MAX], duration=6000)
        return None

    # ============================================================================ editing

    @rx.event
    async def save_edit(self, form_data: dict):
        """The composer's form, while it edits one of my messages. A new message does not come
        here: the page script sends it (assets/sends.js: `send_from_page` while the socket is
        up, else the API), so it is shown and kept in the browser whatever the connection does,
        and stored once by its clientId."""
        chat = self._chat
        raw = form_data.get("text", "") if isinstance(form_data, dict) else ""
        if not chat.open_id or not self.editing_seq or not isinstance(raw, str) or not raw.strip():
            return None
        try:
            me = await chat._require()  # the session first: nothing is kept for a signed-out tab
            text = clean_text(raw)  # over-long or unstorable: refused here, never kept
        except ChatError as exc:
            return error_toast(exc)
        row = self._row(self.editing_seq)
        if row is None:
            self.cancel_edit()
            return None
        try:
            message = await container.current().chats.edit_message(me, chat.open_id, row.id, text)
        except ChatError as exc:
            # Still editing, with what was typed back in the box: nothing is lost.
            self.editing_text, self.editing_nonce = text, uuid.uuid4().hex[:8]
            return error_toast(exc)
        self.editing_seq, self.editing_text = 0, ""
        chat._apply_change(message)
        return None

    @rx.event
    def start_edit(self, seq: int):
        row = self._row(seq)
        if row is None or not row.mine or row.deleted or not row.id:
            return
        self.editing_seq, self.editing_text = seq, row.text
        self.editing_nonce = uuid.uuid4().hex[:8]

    @rx.event
    def edit_last(self):
        """Up in an empty composer: edit my latest message still on screen (stored, not deleted)."""
        for row in reversed(self._chat._window()):
            if row.mine and row.id and not row.deleted:
                self.start_edit(row.seq)
                return

    @rx.event
    def cancel_edit(self):
        self.editing_seq, self.editing_text = 0, ""

    # ============================================================================ replying

    @rx.event
    def start_reply(self, seq: int):
        row = self._row(seq)
        if row is None or row.deleted or not row.id:
            return
        sender = "You" if row.mine else (row.sender or self._chat.open_title)
        self.cancel_edit()
        self.replying_seq, self.replying_sender = seq, sender
        # The same line the reply will show once stored, to everyone (a caption keeps its 📷).
        if row.file_url:
            self.replying_text = f"{FILE_EMOJI} {row.file_name}"
            return
        if row.voice_url:
            self.replying_text = f"{VOICE_EMOJI} Voice message ({row.voice_length})"
            return
        kind = "image" if row.image else "text"
        self.replying_text = quote_label(Quote(seq, "", quote_line(row.text), kind, False))

    @rx.event
    def cancel_reply(self):
        self.replying_seq, self.replying_sender, self.replying_text = 0, "", ""

    # ============================================================================ deleting

    @rx.event
    def ask_delete(self, seq: int):
        row = self._row(seq)
        if row is not None and row.mine and not row.deleted and row.id:
            self.deleting_seq = seq

    @rx.event
    def cancel_delete(self):
        self.deleting_seq = 0

    @rx.event
    async def confirm_delete(self):
        row = self._row(self.deleting_seq)
        self.deleting_seq = 0
        if row is None:
            return None
        try:
            me = await self._chat._require()
            message = await container.current().chats.delete_message(me, self._chat.open_id, row.id)
        except ChatError as exc:
            return error_toast(exc)
        self._chat._apply_change(message)
        return None

    # ============================================================================ typing

    @rx.event
    async def notify_typing(self, value: str):
        chat = self._chat
        if not chat.open_id or not isinstance(value, str) or not value.strip():
            return
        now = time.monotonic()
        if now - self._typing_sent < TYPING_EVERY:
            return
        self._typing_sent = now
        try:
            await container.current().chats.typing(await chat._require(), chat.open_id)
        except ChatError as exc:
            log.info("typing not sent: %s", exc.message)
