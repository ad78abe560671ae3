"""Deleting my account: confirmed by a mailed code of its own, then nothing of me is kept.

What goes, in this order (so a failure part way leaves an account that can ask again):
1. every session, at once (sign-out everywhere: open tabs leave);
2. my messages become tombstones ("Deleted account" where the sender's name was): no text,
   image, mentions or reactions, and the chat list's preview of them goes too; my images
   leave the media store;
3. I leave my groups (a direct chat keeps my place, shown as "Deleted account");
4. my exports, my browsers' push subscriptions, my user row (email, name) and my blocks,
   either way; then my direct chats are
   erased once more, and the search index is rewritten without the erased words;
5. what the fan-out kept to replay to my contacts' tabs (it holds my messages' text): those
   tabs catch up from storage instead (a resync), and so see the tombstones at once.

Opaque ids remain where other people's data refers to me (a direct chat's member, a reaction,
a mention, a read cursor); they show as "Deleted account".
"""

from __future__ import annotations

import logging
from datetime import timedelta
from html import escape

from chat_web.domain import Attachment, ChatError, MailMessage, User
from chat_web.domain.events import resync, user_topic
from chat_web.ports import FanOut, Store
from chat_web.services.auth import AuthService
from chat_web.services.exports import ExportService
from chat_web.services.limits import Check, Limit, LimitGate
from chat_web.services.media import MediaService
from chat_web.services.my_chats import every_chat_of

log = logging.getLogger(__name__)

DELETION_SUBJECT = "Your code to delete your account"
_ASKED_TOO_OFTEN = "A code was sent moments ago; ask again in {seconds} s."
_TOO_MANY_TODAY = "Too many codes to delete this account today; try again in {seconds} s."
CODES_A_DAY = Limit(10, timedelta(days=1))


def deletion_mail(email: str, code: str, ttl: timedelta) -> MailMessage:
    minutes = max(1, round(ttl.total_seconds() / 60))
    text = (
        f"Your code to delete your account is {code}. It expires in {minutes} minutes.\n"
        "If you did not ask to delete your account, ignore this mail: nothing happens without the code."
    )
    html = (
        "<p>Your code to <b>delete your account</b> is</p>"
        f'<p style="font-size:28px;letter-spacing:6px"><b>{escape(code)}</b></p>'
        f"<p>It expires in {minutes} minutes. If you did not ask to delete your account, ignore "
        "this mail: nothing happens without the code.</p>"
    )
    return MailMessage(to=email, subject=DELETION_SUBJECT, body=text, html=html)


class AccountService:
    def __init__(
        self,
        auth: AuthService,
        store: Store,
        events: FanOut,
        gate: LimitGate,
        media: MediaService | None = None,
        exports: ExportService | None = None,
        resend_after: timedelta = timedelta(seconds=60),
    ):
        self._auth = auth
        self._users, self._chats, self._messages = store.users, store.chats, store.messages
        self._push = store.push
        self._events = events
        self._gate = gate
        self._media = media
        self._exports = exports
        self._resend = Limit(1, resend_after)

    def _code_key(self, user: User) -> str:
        # Its own namespace: a sign-in code (kept by address and challenge) is never touched.
        return f"delete-account:{user.id}"

    async def request_deletion_code(self, me: User) -> None:
        """Mail me a code that confirms deleting my account (and nothing else)."""
        taken = await self._gate.check_all(
            Check(f"delete-code:{me.id}", self._resend, _ASKED_TOO_OFTEN),
            # 5 tries a code and a code a minute would let a stolen session guess on all day.
            Check(f"delete-codes-day:{me.id}", CODES_A_DAY, _TOO_MANY_TODAY),
        )
        try:
            await self._auth.mail_code(self._code_key(me), me.email, deletion_mail)
        except ChatError:
            await self._gate.give_back(taken)
            raise

    async def delete_account(self, me: User, code: object) -> None:
        """Check the code, then delete everything of mine (see the module's docstring)."""
        await self._auth.spend_code(self._code_key(me), me.email, code)
        await self._auth.sign_out_everywhere(me)
        contacts: set[str] = set()
        direct: list[str] = []
        async for view in every_chat_of(self._chats, me.id):
            chat = view.chat
            contacts.update(chat.member_ids)
            await self._erase_messages(chat.id, me.id)
            if chat.kind == "group":
                await self._chats.remove_member(chat.id, me.id)
            else:
                direct.append(chat.id)
        if self._exports is not None:
            await self._exports.forget_user(me.id)  # a download of my data has my email in it
        await self._push.forget_user(me.id)  # my browsers' push subscriptions
        await self._users.delete(me.id)
        await self._auth.user_changed(me.id)  # a session check racing the deletion cached the row
        # A send of mine already past its session check when this began can have landed in a
        # direct chat (I am still a member there) after it was erased: once more, now that no
        # session of mine passes. One read each when there is nothing.
        for chat_id in direct:
            await self._erase_messages(chat_id, me.id)
        await self._messages.purge_search_index()
        contacts.discard(me.id)
        await self._tell_contacts(me, sorted(contacts))

    async def _erase_messages(self, chat_id: str, user_id: str) -> None:
        """My messages in the chat become tombstones (one write); their images, files and voice
        recordings go after."""
        stored = await self._messages.erase_sender(chat_id, user_id)
        if self._media is not None:
            for item in stored:
                if isinstance(item, Attachment):
                    await self._media.discard_file(item)
                else:
                    await self._media.discard(item)

    async def _tell_contacts(self, me: User, contacts: list[str]) -> None:
        """Drop what the fan-out kept to replay (it has my messages' text), then have every open
        tab of my contacts catch up from storage. A failure here is logged: the account is gone,
        and the replay logs expire on their own (EVENT_REPLAY_SECONDS)."""
        topics = [user_topic(user_id) for user_id in [me.id, *contacts]]
        try:
            await self._events.forget(topics)
        except ChatError as exc:
            log.warning("replay logs of a deleted account's contacts not dropped: %s", exc.message)
        failures = await self._events.publish_many(topics[1:], resync())
        if failures:
            log.warning("%d contacts of a deleted account not told to catch up", len(failures))
