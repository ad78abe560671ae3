"""The sign-in flow of the web pages: ask for a code, type it, get a session cookie."""

from __future__ import annotations

import math
import time

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, RateLimited
from chat_web.services.validation import OTP_LENGTH, default_name, normalize_email
from chat_web.state.session import SessionState, error_toast

# The "We sent a code" toast, by id: signing in takes it away, so it does not follow to /chat.
CODE_TOAST = "code-sent"


class AuthState(SessionState):
    pending_email: str = ""
    sending: bool = False
    verifying: bool = False
    # When another code may be asked for (epoch ms). The countdown itself runs in the
    # browser: a server timer would cost a state write per second (a Redis round trip).
    resend_at_ms: int = 0
    # This tab came to /login because its session ended in another tab or on another device.
    session_ended_elsewhere: bool = False
    # The challenge of the code this tab asked for (server-side only): the code works only with it.
    _challenge: str = ""

    @rx.event
    async def skip_if_signed_in(self):
        """on_load of /login: a signed-in user goes straight to the chat. A tab sent here
        because its session ended elsewhere (`?ended=1`) says so."""
        self.session_ended_elsewhere = self.router.url.query_parameters.get("ended") == "1"
        try:
            if await self._signed_in_user() is not None:
                return rx.redirect("/chat", replace=True)
        except ChatError as exc:
            return error_toast(exc)

    @rx.event
    async def open_verify(self):
        """on_load of /verify: it needs an email that a code was sent to."""
        try:
            if await self._signed_in_user() is not None:
                return rx.redirect("/chat", replace=True)
        except ChatError as exc:
            return error_toast(exc)
        if not self.pending_email:
            return rx.redirect("/login", replace=True)

    async def _send_code(self, email: object):
        """Ask for a code; returns (whether a code is waiting in the inbox, a toast)."""
        try:
            auth = container.current().auth
            sent = await auth.request_code(email, client=self.router.session.client_ip)
        except RateLimited as exc:
            if self._challenge and self.pending_email == normalize_email(email):
                # This tab's code went out moments ago: it is still good to type in.
                self._start_cooldown(exc.retry_after)
                return True, rx.toast.info(exc.message, id=CODE_TOAST)
            return False, error_toast(exc)
        except ChatError as exc:
            return False, error_toast(exc)
        self.pending_email, self._challenge = sent.email, sent.challenge
        self._start_cooldown(auth.policy.resend_after.total_seconds())
        return True, rx.toast.success(f"We sent a 6-digit code to {self.pending_email}.", id=CODE_TOAST)

    def _start_cooldown(self, seconds: float) -> None:
        self.resend_at_ms = math.ceil((time.time() + seconds) * 1000)

    @rx.event
    async def request_code(self, form_data: dict):
        self.sending = True
        yield
        try:
            code_waiting, toast = await self._send_code(form_data.get("email", ""))
        finally:
            self.sending = False
        yield toast
        if code_waiting:
            yield rx.redirect("/verify")

    @rx.event
    async def resend(self):
        if time.time() * 1000 < self.resend_at_ms or not self.pending_email:
            return
        self.sending = True
        yield
        try:
            _, toast = await self._send_code(self.pending_email)
        finally:
            self.sending = False
        yield toast

    @rx.event
    async def verify(self, form_data: dict):
        if self.verifying:
            return
        code = "".join(str(form_data.get(f"d{i}", "")).strip() for i in range(OTP_LENGTH))
        self.verifying = True
        yield
        try:
            session = await container.current().auth.verify(
                self.pending_email, code, self._challenge, client=self.router.session.client_ip
            )
        except ChatError as exc:
            self.verifying = False
            yield error_toast(exc)
            yield rx.call_script("window.otpBoxes && window.otpBoxes.clear()")
            return
        self.verifying = False
        self.token = session.token
        self._show(session.user)
        # Still named after the email's local part (a first sign-in, or never renamed): the
        # profile asks for a name first, and can be skipped.
        named = session.user.name != default_name(session.user.email)
        self.pending_email = self._challenge = ""
        next_page = "/chat" if named else "/profile?welcome=1"
        yield [rx.toast.dismiss(CODE_TOAST), rx.redirect(next_page, replace=True)]

    @rx.event
    def use_another_email(self):
        self.pending_email = self._challenge = ""
        return rx.redirect("/login")
