"""Event ids of the fan-out ("<milliseconds>-<n>", as Redis streams write them) and the
in-process replay log. Ids order the events of a topic; a reader resumes after one."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
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
    clock: Callable[[], float] = time.time  # seconds; ids are made of its milliseconds

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def idle(self) -> bool:
        """Every event it kept is past the window: nothing left to replay (it may be dropped)."""
        return self.last[0] < self._now_ms() - self.keep_seconds * 1000

    def append(self, event: dict[str, Any]) -> str:
        now = self._now_ms()
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
        self._trim(self._now_ms())
        parts = parse_id(event_id)
        if parts is None or parts > self.last:
            return None
        if parts == self.last:
            return []
        if not self.entries or parts < self.entries[0][0]:
            return None  # what came right after it is no longer kept
        return [event for entry_id, event in self.entries if entry_id > parts]


class ReplayLogs:
    """The TopicLog of every topic published to within the window, and no other: a topic idle
    for longer loses its log (memory follows the active topics, not every topic ever seen), and
    a reader resuming on it is told to resync, as for any event no longer kept."""

    def __init__(self, keep_seconds: float, keep_count: int, clock: Callable[[], float] = time.time):
        self._keep = (keep_seconds, keep_count)
        self._clock = clock
        self._logs: dict[str, TopicLog] = {}  # least recently appended first

    def __len__(self) -> int:
        return len(self._logs)

    def append(self, topic: str, event: dict[str, Any]) -> str:
        log = self._logs.pop(topic, None) or TopicLog(*self._keep, clock=self._clock)
        self._logs[topic] = log  # now the most recently appended
        event_id = log.append(event)
        self._drop_idle()
        return event_id

    def after(self, topic: str, event_id: str) -> list[dict[str, Any]] | None:
        self._drop_idle()
        log = self._logs.get(topic)
        if log is None:
            # Nothing kept: never published here, or idle past the window and dropped.
            return None
        return log.after(event_id)

    def drop(self, topic: str) -> None:
        self._logs.pop(topic, None)

    def _drop_idle(self) -> None:
        # The logs are in order of their last append: the idle ones are all at the front.
        while self._logs:
            topic, oldest = next(iter(self._logs.items()))
            if not oldest.idle():
                return
            del self._logs[topic]
