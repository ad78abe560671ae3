"""Page frames shared by every page."""

from __future__ import annotations

import reflex as rx

from chat_web.state.session import SessionState


def auth_card(*children: rx.Component) -> rx.Component:
    """The narrow centred card of the sign-in pages, as the page's main landmark."""
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(*children, spacing="4", width="100%"),
                size="3",
                width="100%",
                max_width="440px",
            ),
            min_height="100vh",
            padding="16px",
            background="var(--gray-2)",
        )
    )


def top_bar() -> rx.Component:
    return rx.hstack(
        rx.link(rx.heading("Chat", size="5"), href="/chat", underline="none"),
        rx.spacer(),
        rx.text(SessionState.user_name, id="signed-in-name", weight="medium", class_name="me-name"),
        rx.link("Profile", href="/profile", id="profile-link"),
        rx.button("Sign out", on_click=SessionState.sign_out, variant="soft", id="sign-out"),
        align="center",
        spacing="4",
        padding="12px 20px",
        border_bottom="1px solid var(--gray-5)",
        width="100%",
        class_name="me-bar",
    )


def app_frame(*children: rx.Component) -> rx.Component:
    """A signed-in page: the top bar (a banner landmark) above its content (the main one)."""
    return rx.vstack(
        rx.el.header(top_bar(), width="100%"),
        rx.el.main(*children, padding="20px", width="100%", max_width="760px", margin="0 auto"),
        spacing="0",
        min_height="100vh",
        width="100%",
    )
