"""Who is signed in, from the session cookie's JWT, checked on the server for every page."""

from __future__ import annotations

import reflex as rx

from chat_web import container
from chat_web.config import get_settings
from chat_web.domain import ChatError, Unauthorized, User

SESSION_COOKIE = "chat_session"


def error_toast(exc: ChatError):
    return rx.toast.error(exc.message, duration=6000)


class SessionState(rx.State):
    token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        max_age=int(get_settings().jwt_lifetime.total_seconds()),
        same_site="strict",
    )
    # The signed-in user's own profile: shown on every page.
    user_id: str = ""
    user_name: str = ""
    user_email: str = ""

    def _show(self, user: User) -> None:
        # Assign only what changed: every assignment is re-sent to the browser.
        if (self.user_id, self.user_name, self.user_email) != (user.id, user.name, user.email):
            self.user_id, self.user_name, self.user_email = user.id, user.name, user.email

    def _forget(self) -> None:
        self.token = ""
        self.user_id = self.user_name = self.user_email = ""

    async def _clear_tab(self) -> None:
        """Signed out: this tab's states on the server forget everything (chats, messages,
        queries), so the next hydrate of the tab, with or without a cookie, shows none of it."""
        for cls in _tab_states():
            state = await self.get_state(cls)
            state.reset()
        session = await self.get_state(SessionState)
        session._forget()

    async def _signed_in_user(self) -> User | None:
        """The user of the session cookie; raises ChatError if a service is missing."""
        if not self.token:
            return None
        try:
            user = await container.current().auth.user_for_token(self.token)
        except Unauthorized:
            await self._clear_tab()
            return None
        self._show(user)
        return user

    async def _require(self) -> User:
        """The signed-in user of a browser action; Unauthorized if the session is gone."""
        me = await self._signed_in_user()
        if me is None:
            raise Unauthorized("Your session has ended; sign in again.")
        return me

    async def _to_login_unless_signed_in(self):
        """What the on_load of a private page answers: the signed-out go to /login."""
        try:
            if await self._signed_in_user() is None:
                return rx.redirect("/login", replace=True)
        except ChatError as exc:
            return error_toast(exc)

    @rx.event
    async def route_home(self):
        try:
            target = "/chat" if await self._signed_in_user() else "/login"
        except ChatError as exc:
            return error_toast(exc)
        return rx.redirect(target, replace=True)

    @rx.event
    async def sign_out(self):
        """Sign out of this browser: its other open tabs (same session) sign out too."""
        if self.token and self.user_id:
            try:
                await container.current().auth.sign_out(self.user_id, self.token)
            except ChatError:
                pass  # the cookie goes anyway; other tabs notice on their next action
        await self._clear_tab()
        return rx.redirect("/login", replace=True)


def _tab_states() -> list[type[SessionState]]:
    """SessionState's subclasses (every page's state), each before its own subclasses."""
    found, pending = [], sorted(SessionState.get_substates(), key=lambda c: c.get_full_name())
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(sorted(cls.get_substates(), key=lambda c: c.get_full_name()))
    return found
