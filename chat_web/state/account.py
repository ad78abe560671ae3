"""Deleting my account from the profile page: a mailed code confirms it (services/accounts.py)."""

from __future__ import annotations

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, InvalidOtp
from chat_web.state.session import SessionState, error_toast


class DeleteAccountState(SessionState):
    dialog_open: bool = False
    code_sent: bool = False  # the second step: the code from the mail
    busy: bool = False
    problem: str = ""  # why the code was refused, under its box

    @rx.event
    def set_dialog_open(self, value: bool):
        """Opening or closing the dialog starts over (a code already mailed still works)."""
        self.dialog_open = bool(value)
        self.code_sent = self.busy = False
        self.problem = ""

    @rx.event
    async def mail_code(self):
        self.busy = True
        yield
        try:
            await container.current().accounts.request_deletion_code(await self._require())
        except ChatError as exc:
            yield error_toast(exc)
            return
        finally:
            self.busy = False
        self.code_sent = True
        self.problem = ""

    @rx.event
    async def delete_account(self, form_data: dict):
        self.busy = True
        self.problem = ""
        yield
        try:
            me = await self._require()
            await container.current().accounts.delete_account(me, form_data.get("code", ""))
        except InvalidOtp as exc:
            self.problem = exc.message  # a wrong code: try again from the same mail
            return
        except ChatError as exc:
            yield error_toast(exc)
            return
        finally:
            self.busy = False
        await self._clear_tab()
        yield rx.redirect("/login", replace=True)
        yield rx.toast.success("Your account is deleted. Goodbye!", duration=8000)
