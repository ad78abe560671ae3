"""The page of an address that is not one of ours (Reflex's "404" route)."""

import reflex as rx

from chat_web.components.layout import auth_card


def not_found_page() -> rx.Component:
    # The sign-in pages' card: it reads the same signed in or not. /chat sends a signed-out
    # visitor on to /login.
    return auth_card(
        rx.icon("map-pin-off", size=32, color="var(--gray-10)"),
        rx.heading("Page not found", size="6", id="not-found"),
        rx.text(
            "There is nothing at this address. The link may be mistyped, or the page may have moved.",
            color_scheme="gray",
        ),
        # A link drawn as a button (one element: no button inside a link).
        rx.button(
            rx.el.a(rx.icon("arrow-left", size=16), "Back to your chats", href="/chat", id="back-to-chats"),
            as_child=True,
            size="3",
            width="100%",
        ),
    )
