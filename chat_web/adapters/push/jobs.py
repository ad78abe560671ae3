"""The `send-push` payload: one push of one message to one subscription, version 1."""

from __future__ import annotations

import json
from dataclasses import asdict

from chat_web.domain.push import PermanentPushError, PushJob

PAYLOAD_VERSION = 1
_TEXT_FIELDS = ("message_id", "subscription_id", "user_id", "endpoint", "p256dh", "auth")


def encode(job: PushJob) -> bytes:
    return json.dumps({"v": PAYLOAD_VERSION, **asdict(job)}).encode()


def parse(data: bytes | str) -> PushJob:
    """A job from the queue; PermanentPushError when it is not one (it is dead-lettered)."""
    try:
        fields = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentPushError(f"not JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise PermanentPushError("payload is not a JSON object")
    for name in _TEXT_FIELDS:
        if not isinstance(fields.get(name), str) or not fields[name]:
            raise PermanentPushError(f"field {name!r} is missing or not text")
    if not isinstance(fields.get("payload"), dict):
        raise PermanentPushError("field 'payload' is not an object")
    return PushJob(**{name: fields[name] for name in (*_TEXT_FIELDS, "payload")})
