import reflex as rx

from chat_web.components.layout import app_frame
from chat_web.state.session import SessionState


def chat_page() -> rx.Component:
    # The conversation list and live chat arrive with the chat issue; the page is already guarded.
    return app_frame(
        rx.vstack(
            rx.heading("Conversations", size="6"),
            rx.text(
                "Welcome, ", rx.text.strong(SessionState.user_name), ". Your conversations will appear here."
            ),
            spacing="3",
        )
    )
