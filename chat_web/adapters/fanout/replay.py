"""Event ids of the fan-out ("<milliseconds>-<n>", as Redis streams write them) and the
in-process replay log. Ids order the events of a topic; a reader resumes after one."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


def parse_id(event_id: object) -> tuple[int, int] | None:
    if not isinstance(event_id, str):
        return None
    ms, _, n = event_id.partition("-")
    if not (ms.isdigit() and n.isdigit()) or len(ms) > 15 or len(n) > 15:
        return None
    return int(ms), int(n)


def format_id(parts: tuple[int, int]) -> str:
    return f"{parts[0]}-{parts[1]}"


@dataclass
class TopicLog:
    """The replayable events of one topic, within a time window and a count."""

    keep_seconds: float
    keep_count: int
    entries: deque = field(default_factory=deque)  # (id parts, event)
    last: tuple[int, int] = (0, 0)

    def append(self, event: dict[str, Any]) -> str:
        now = int(time.time() * 1000)
        parts = (now, 0) if now > self.last[0] else (self.last[0], self.last[1] + 1)
        self.last = parts
        event_id = format_id(parts)
        self.entries.append((parts, {"id": event_id, **event}))
        self._trim(now)
        return event_id

    def _trim(self, now_ms: int) -> None:
        horizon = now_ms - self.keep_seconds * 1000
        while self.entries and (len(self.entries) > self.keep_count or self.entries[0][0][0] < horizon):
            self.entries.popleft()

    def after(self, event_id: str) -> list[dict[str, Any]] | None:
        """Events after `event_id`; None if some were dropped (or the id is not ours)."""
        self._trim(int(time.time() * 1000))
        parts = parse_id(event_id)
        if parts is None or parts > self.last:
            return None
        if parts == self.last:
            return []
        if not self.entries or parts < self.entries[0][0]:
            return None  # what came right after it is no longer kept
        return [event for entry_id, event in self.entries if entry_id > parts]
