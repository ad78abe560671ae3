"""The app's own connection notice, instead of Reflex's technical toast.

Reflex shows "Cannot connect to server: ws://…/_event" over the page (and over the
composer's send button). This says what it means for the user, and stays out of the
way; the page scripts also read it (#offline-banner): a message sent meanwhile waits, as
a bubble with its clock, and goes when the connection is back (assets/sends.js).
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors


def offline_banner() -> rx.Component:
    return rx.cond(
        has_connection_errors,
        rx.box(
            rx.icon("wifi-off", size=16),
            rx.text("Offline, reconnecting… What you send goes when you are back.", size="2"),
            id="offline-banner",
            class_name="offline-banner",
            role="status",
        ),
    )
