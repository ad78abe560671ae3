"""The development outbox page's data (the page exists only in development mode).

It shows every sign-in code, so even in development only a browser on this machine gets
them: a dev server reachable from the network must not hand out codes to anyone.
"""

from __future__ import annotations

import ipaddress

import reflex as rx

from chat_web.adapters.mail.outbox import latest
from chat_web.config import get_settings


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class OutboxState(rx.State):
    mails: list[dict[str, str]] = []
    refused: bool = False

    @rx.event
    def load(self):
        if not get_settings().is_dev or not is_loopback(self.router.session.client_ip):
            self.mails, self.refused = [], True
            return
        self.refused = False
        self.mails = [
            {k: str(mail.get(k, "")) for k in ("to", "subject", "body", "at")}
            for mail in latest(get_settings().outbox_file, 20)
        ]
