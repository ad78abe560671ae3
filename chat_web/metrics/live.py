"""What live delivery records: events applied to tabs, and how long a message took to arrive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chat_web.domain.events import MESSAGE_NEW
from chat_web.metrics import DELIVERY_SECONDS, EVENTS_DELIVERED


def record_delivered(events: list[dict[str, Any]], now: datetime | None = None) -> None:
    """Count each event; a new message also gives its send -> delivery latency (since createdAt)."""
    now = now or datetime.now(UTC)
    for event in events:
        kind = event.get("type")
        EVENTS_DELIVERED.labels(kind if isinstance(kind, str) else "unknown").inc()
        if kind == MESSAGE_NEW:
            created = _created_at(event)
            if created is not None:
                DELIVERY_SECONDS.observe(max(0.0, (now - created).total_seconds()))


def _created_at(event: dict[str, Any]) -> datetime | None:
    try:
        created = datetime.fromisoformat(event["message"]["createdAt"])
    except (KeyError, TypeError, ValueError):
        return None
    return created if created.tzinfo else created.replace(tzinfo=UTC)
