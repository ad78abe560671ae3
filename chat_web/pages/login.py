import reflex as rx

from chat_web.components.layout import auth_card
from chat_web.state.auth import AuthState


def login_page() -> rx.Component:
    return auth_card(
        rx.heading("Sign in", size="6"),
        rx.cond(
            AuthState.session_ended_elsewhere,
            rx.callout(
                "You were signed out: this session ended in another tab or on another device.",
                icon="log-out",
                id="ended-notice",
                width="100%",
            ),
        ),
        rx.text("We will email you a 6-digit code. No password needed.", color_scheme="gray"),
        rx.form(
            rx.vstack(
                rx.input(
                    name="email",
                    id="email",
                    type="email",
                    placeholder="you@example.com",
                    auto_complete="email",
                    auto_focus=True,
                    required=True,
                    size="3",
                    width="100%",
                ),
                rx.button(
                    "Email me a code",
                    type="submit",
                    id="send-code",
                    loading=AuthState.sending,
                    size="3",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=AuthState.request_code,
            width="100%",
        ),
    )
