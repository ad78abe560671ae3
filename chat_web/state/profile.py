"""The profile page: rename, and sign out on every device."""

from __future__ import annotations

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError
from chat_web.state.session import SessionState, error_toast


class ProfileState(SessionState):
    saving: bool = False
    welcome: bool = False  # a first sign-in: the page asks for a name, and may be skipped

    @rx.event
    async def open_profile(self):
        """on_load of /profile: the signed-out go to /login; `?welcome=1` greets a newcomer."""
        self.welcome = self.router.url.query_parameters.get("welcome") == "1"
        return await self._to_login_unless_signed_in()

    @rx.event
    async def save_name(self, form_data: dict):
        try:
            user = await self._signed_in_user()
        except ChatError as exc:
            yield error_toast(exc)
            return
        if user is None:
            yield rx.redirect("/login", replace=True)
            return
        self.saving = True
        yield
        try:
            updated = await container.current().auth.rename(user, form_data.get("name", ""))
        except ChatError as exc:
            yield error_toast(exc)
            return
        finally:
            self.saving = False
        self._show(updated)
        yield rx.toast.success("Your name is saved.")
        if self.welcome:
            self.welcome = False
            yield rx.redirect("/chat", replace=True)

    @rx.event
    async def sign_out_everywhere(self):
        """End every session of this user, this one included, on every device."""
        try:
            user = await self._signed_in_user()
            if user is not None:
                await container.current().auth.sign_out_everywhere(user)
        except ChatError as exc:
            yield error_toast(exc)
            return
        await self._clear_tab()
        yield rx.redirect("/login", replace=True)
        yield rx.toast.success("You are signed out on every device.")
