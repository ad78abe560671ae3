"""A mail queue that only records: the test double of the mail port."""

from __future__ import annotations


class RecordingMailQueue:
    """Keeps what was published; a test double for the mail port."""

    def __init__(self):
        self.sent = []
        self.fail_with: Exception | None = None

    async def publish(self, message) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
