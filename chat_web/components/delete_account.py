"""The profile page's "Delete my account": what it does, then a code from the mail confirms it."""

from __future__ import annotations

import reflex as rx

from chat_web.state.account import DeleteAccountState

WHAT_GOES = (
    "Your name and email are deleted, your messages become \u201cDeleted account\u201d with no "
    "text, the photos, files and voice messages you sent are removed, you leave your groups, "
    "and you are signed out everywhere. This cannot be undone."
)


def delete_account_section() -> rx.Component:
    return rx.vstack(
        rx.text("Delete my account", weight="medium"),
        rx.text(WHAT_GOES, size="2", color_scheme="gray"),
        rx.dialog.root(
            rx.dialog.trigger(
                rx.button("Delete my account…", id="delete-account", color_scheme="red", variant="outline"),
            ),
            rx.dialog.content(
                rx.dialog.title("Delete your account?"),
                rx.dialog.description(WHAT_GOES, size="2"),
                rx.cond(DeleteAccountState.code_sent, _code_step(), _mail_step()),
                max_width="440px",
            ),
            open=DeleteAccountState.dialog_open,
            on_open_change=DeleteAccountState.set_dialog_open,
        ),
        spacing="2",
        max_width="420px",
    )


def _buttons(*actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        *actions,
        spacing="3",
        justify="end",
        margin_top="1em",
    )


def _mail_step() -> rx.Component:
    return rx.vstack(
        rx.text(
            "To confirm, we mail a code to ", rx.text.strong(DeleteAccountState.user_email), ".", size="2"
        ),
        _buttons(
            rx.button(
                "Mail me a code",
                on_click=DeleteAccountState.mail_code,
                loading=DeleteAccountState.busy,
                id="mail-deletion-code",
                color_scheme="red",
            )
        ),
        margin_top="1em",
        width="100%",
    )


def _code_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(
                rx.text("The code from the mail", as_="span", weight="medium", size="2"),
                html_for="deletion-code",
            ),
            rx.input(
                name="code",
                id="deletion-code",
                input_mode="numeric",
                auto_complete="one-time-code",
                pattern=r"\s*\d{6}\s*",
                max_length=12,
                required=True,
                auto_focus=True,
                width="100%",
            ),
            rx.cond(
                DeleteAccountState.problem != "",
                rx.text(DeleteAccountState.problem, color_scheme="red", size="2", id="deletion-problem"),
            ),
            _buttons(
                rx.button(
                    "Delete my account",
                    type="submit",
                    loading=DeleteAccountState.busy,
                    id="confirm-delete-account",
                    color_scheme="red",
                )
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=DeleteAccountState.delete_account,
        margin_top="1em",
    )
