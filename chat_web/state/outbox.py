"""The development outbox page's data (the page exists only in development mode)."""

from __future__ import annotations

import reflex as rx

from chat_web.adapters.mail.outbox import latest
from chat_web.config import get_settings


class OutboxState(rx.State):
    mails: list[dict[str, str]] = []

    @rx.event
    def load(self):
        if not get_settings().is_dev:
            self.mails = []
            return
        self.mails = [
            {k: str(mail.get(k, "")) for k in ("to", "subject", "body", "at")}
            for mail in latest(get_settings().outbox_file, 20)
        ]
