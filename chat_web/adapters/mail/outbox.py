"""The development outbox: mail kept in a JSON-lines file instead of being sent."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from chat_web.adapters.mail.contract import TransientMailError
from chat_web.domain import MailMessage

log = logging.getLogger("mailer.outbox")
KEEP = 200  # the file is trimmed back to this many mails
_lock = threading.Lock()


class OutboxSender:
    def __init__(self, path: Path):
        self.path = path

    def send(self, message: MailMessage) -> None:
        entry = {
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "html": message.html,
            "at": datetime.now(UTC).isoformat(),
        }
        try:
            with _lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry) + "\n")
                self._trim()
        except OSError as exc:
            # A full disk or a wrong path: retried like a mail server that is down, then dead-lettered.
            raise TransientMailError(f"the outbox {self.path} cannot be written: {exc}") from exc
        # The body carries the code, so the log names only where the mail went.
        log.info("mail to %s (%s) kept in the dev outbox %s", message.to, message.subject, self.path)

    def _trim(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines()
        if len(lines) > 2 * KEEP:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("\n".join(lines[-KEEP:]) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)


def latest(path: Path, count: int = 20) -> list[dict]:
    """The newest mails first; lines that are not valid JSON are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    mails = []
    for line in reversed(lines):
        try:
            mails.append(json.loads(line))
        except ValueError:
            continue
        if len(mails) >= count:
            break
    return mails
