"""Which web pages may open the app's websocket: the CORS_ORIGINS setting, else the app's own.

Reflex hands its origin list to the Socket.IO server, which reads an empty list as "check
nothing" (any site's page could open a socket to us). Production's default is closed, so
an empty list becomes the server's same-origin check: the page's Origin must be the host
it asked (X-Forwarded-Proto and -Host from the reverse proxy count).
"""

from __future__ import annotations

import reflex as rx

from chat_web.config import Settings


def same_origin_sockets(app: rx.App, settings: Settings) -> None:
    if settings.allowed_origins or app.sio is None:
        return
    app.sio.eio.cors_allowed_origins = None  # engineio: None means "same origin only"
