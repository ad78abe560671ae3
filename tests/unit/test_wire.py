"""One message shape: the REST API and the fan-out event carry the same JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from chat_web.api.chat_schemas import MessageOut
from chat_web.domain import Image, Message
from chat_web.domain.events import message_new


def _message(**changes) -> Message:
    base = dict(
        id="m1",
        chat_id="c1",
        seq=7,
        sender_id="u1",
        kind="image",
        text="caption",
        image=Image(url="https://x/y.png", public_id="y", width=640, height=480),
        client_id="cid-1",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        edited_at=None,
        deleted=False,
        seen_at=datetime(2026, 1, 2, 3, 5, tzinfo=UTC),
    )
    base.update(changes)
    return Message(**base)


def test_rest_and_event_carry_the_same_message_json():
    message = _message()
    rest = MessageOut.of(message, seen=False).model_dump(mode="json", by_alias=True)
    event = message_new(message)["message"]
    assert rest == event
    assert set(event) >= {"seq", "clientId", "seen", "seenAt", "editedAt", "deleted", "image"}


def test_seen_at_shows_only_when_seen():
    message = _message()
    assert MessageOut.of(message, seen=False).seen_at is None
    seen = MessageOut.of(message, seen=True).model_dump(mode="json", by_alias=True)
    assert seen["seen"] is True
    assert seen["seenAt"] == "2026-01-02T03:05:00Z"
