"""Prometheus metrics, recorded at the edges (API, live delivery, port wrappers), never in services.

With several worker processes (scripts/serve.sh sets PROMETHEUS_MULTIPROC_DIR), each writes
its figures to that folder and /metrics adds them up, whichever worker answers the scrape.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MESSAGES_STORED = Counter("chat_messages_stored", "Messages stored (a retried send is not counted again).")
EVENTS_DELIVERED = Counter(
    "chat_live_events_delivered", "Live events applied to a connected browser tab, by type.", ["type"]
)
DELIVERY_SECONDS = Histogram(
    "chat_message_delivery_seconds",
    "From a message's createdAt (stored) to its arrival in a recipient's tab.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CONNECTED_TABS = Gauge(
    "chat_connected_tabs", "Browser tabs following live events on this app.", multiprocess_mode="livesum"
)
CODES_ISSUED = Counter("chat_sign_in_codes_issued", "Sign-in codes handed over to be mailed.")
MAILS_FAILED = Counter(
    "chat_mails_failed",
    "Mails not delivered: `handover` (the app could not queue or send it), `retry` and `dead` "
    "(the mail worker's SMTP attempts).",
    ["stage"],
)
MAILS_SENT = Counter("chat_mails_sent", "Mails the SMTP server accepted (mail worker).")
PUSHES = Counter(
    "chat_pushes",
    "Web Push attempts by outcome: `sent`, `duplicate` (claimed already), `gone` (404/410, the "
    "subscription dropped), `retry`, `dead` (given up).",
    ["outcome"],
)
HTTP_REQUESTS = Counter(
    "chat_http_requests", "HTTP requests by route template, method and status.", ["route", "method", "status"]
)


def exposition(multiprocess_dir: object) -> tuple[bytes, str]:
    """The text format of every metric: this process's, or every worker's added up."""
    registry = REGISTRY
    if multiprocess_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
