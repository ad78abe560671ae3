"""A real SMTP server in the test process (aiosmtpd) that keeps what it accepts."""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    to: list[str]
    message: Message
    at: float

    def text(self) -> str:
        for part in self.message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode()
        return ""

    def html(self) -> str:
        for part in self.message.walk():
            if part.get_content_type() == "text/html":
                return part.get_payload(decode=True).decode()
        return ""


@dataclass
class _Handler:
    mails: list[Received] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)
    receiving: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.arrived = threading.Condition(self.lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()  # a client is inside the exchange now, waiting for our answer
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        with self.arrived:
            self.mails.append(
                Received(
                    list(envelope.rcpt_tos), email.message_from_bytes(envelope.content), time.monotonic()
                )
            )
            self.arrived.notify_all()
        return "250 Message accepted"


class SmtpSink:
    """Start/stop on a fixed port, so a worker configured for it sees an outage and a return."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = _Handler()
        self._controller: Controller | None = None

    @property
    def mails(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.mails)

    def start(self) -> SmtpSink:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        return [m for m in self.mails if address in m.to]

    def code_for(self, address: str, timeout: float = 20.0) -> str:
        """The sign-in code of the newest mail to `address` (waiting for one to arrive)."""
        mails = self.wait_for(1, timeout, address)
        if not mails:
            raise AssertionError(f"no mail reached {address} within {timeout} s")
        return re.search(r"\b(\d{6})\b", mails[-1].text()).group(1)

    def wait_for(self, count: int, timeout: float = 20.0, address: str | None = None) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while True:
                found = [m for m in self.handler.mails if address is None or address in m.to]
                if len(found) >= count or time.monotonic() >= deadline:
                    return found
                self.handler.arrived.wait(max(0.0, min(0.2, deadline - time.monotonic())))
