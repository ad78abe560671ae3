"""In-process adapters: the embedded defaults of a single app process, and unit-test doubles."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chat_web.domain import OtpRecord
from chat_web.ports import Clock


class _Expiring:
    """A dict whose entries vanish after their deadline, swept as it is written."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._items: dict[str, tuple[datetime, object]] = {}
        self._writes = 0

    def get(self, key: str):
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock.now():
            del self._items[key]
            return None
        return item

    def put(self, key: str, value: object, deadline: datetime) -> None:
        self._writes += 1
        if self._writes % 1024 == 0:
            now = self._clock.now()
            for stale in [k for k, (d, _) in self._items.items() if d <= now]:
                del self._items[stale]
        self._items[key] = (deadline, value)

    def pop(self, key: str) -> bool:
        return self._items.pop(key, None) is not None


class InMemoryOtpStore:
    def __init__(self, clock: Clock):
        self._clock = clock
        self._codes = _Expiring(clock)

    async def save(self, email: str, record: OtpRecord, ttl: timedelta) -> None:
        self._codes.put(email, record, self._clock.now() + ttl)

    async def take_attempt(self, email: str) -> OtpRecord | None:
        item = self._codes.get(email)
        if item is None:
            return None
        deadline, record = item
        counted = replace(record, attempts=record.attempts + 1)
        self._codes.put(email, counted, deadline)
        return counted

    async def delete(self, email: str) -> bool:
        return self._codes.get(email) is not None and self._codes.pop(email)


class InMemoryRateLimiter:
    """Fixed-window counters."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._windows = _Expiring(clock)

    async def acquire(self, key: str, limit: int, window: timedelta) -> float:
        now = self._clock.now()
        item = self._windows.get(key)
        deadline, count = item if item else (now + window, 0)
        count += 1
        self._windows.put(key, count, deadline)
        if count > limit:
            return max((deadline - now).total_seconds(), 0.001)
        return 0.0

    async def release(self, key: str) -> None:
        item = self._windows.get(key)
        if item is None:
            return
        deadline, count = item
        if count <= 1:
            self._windows.pop(key)
        else:
            self._windows.put(key, count - 1, deadline)
