"""The busiest routes write their JSON straight from `wire` dicts (chat_web/api/encoded.py): it
must be exactly what their documented response models would have written."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chat_web.api.chat_schemas import ChatListOut, HistoryOut, MessageOut
from chat_web.api.encoded import encoded
from chat_web.domain import Chat, Image, Message, User
from chat_web.domain.models import Quote
from chat_web.services.chats import ChatPage, ChatSummary, HistoryPage, MessageView

AT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
ANN = User(id="u1", email="ann@example.com", name="Ann Ö", created_at=AT)
BOB = User(id="u2", email="bob@example.com", name="Bob", created_at=AT)


def _chat(kind: str = "direct", last_seq: int = 7) -> Chat:
    return Chat(
        id="c1", kind=kind, title="Team 🍕" if kind == "group" else None, member_ids=("u1", "u2"),
        created_by="u1", created_at=AT, updated_at=AT.replace(microsecond=0), last_seq=last_seq,
        preview="hi", preview_sender_id="u2" if last_seq else None, last_change=3,
    )  # fmt: skip


def _messages() -> list[Message]:
    plain = Message(id="m1", chat_id="c1", seq=6, sender_id="u2", kind="text", text="héllo 👋", image=None,
                    client_id=None, created_at=AT)  # fmt: skip
    rich = Message(
        id="m2", chat_id="c1", seq=7, sender_id="u1", kind="image", text="caption",
        image=Image(url="/api/v1/media/x", public_id="x", width=640, height=480), client_id="cid",
        created_at=AT, edited_at=AT, seen_at=AT, mention_ids=("u2",), change=3,
        reactions=(("👍", ("u1", "u2")),), reply_to=6, quote=Quote(6, "u2", "héllo 👋", "text", False),
    )  # fmt: skip
    unquoted = Message(id="m3", chat_id="c1", seq=8, sender_id="u1", kind="text", text="", image=None,
                       client_id="c3", created_at=AT, deleted=True, reply_to=2)  # fmt: skip
    return [plain, rich, unquoted]


def written(payload: dict) -> dict:
    return json.loads(encoded(payload).body)


def as_model_wrote(model) -> dict:
    return json.loads(model.model_dump_json(by_alias=True))


def test_a_message_is_written_as_its_model_would():
    for message in _messages():
        for seen in (False, True):
            assert written(MessageOut.wire(message, seen)) == as_model_wrote(MessageOut.of(message, seen))


def test_a_page_of_history_is_written_as_its_model_would():
    views = [MessageView(m, seen=i % 2 == 0) for i, m in enumerate(_messages())]
    for kind in ("direct", "group"):
        page = HistoryPage(chat=_chat(kind), messages=views, has_more=True, others=[BOB], read_cursors={},
                           changes=views[1:], last_change=3)  # fmt: skip
        assert written(HistoryOut.wire(page)) == as_model_wrote(HistoryOut.of(page))


def test_a_page_of_chats_is_written_as_its_model_would():
    page = ChatPage(
        items=[
            ChatSummary(chat=_chat(), unread=2, others=[BOB], mentioned=True),
            ChatSummary(chat=_chat("group", last_seq=0), unread=0, others=[ANN, BOB], muted=True),
        ],
        next_cursor="WyJ4Il0",
    )
    assert written(ChatListOut.wire(page)) == as_model_wrote(ChatListOut.of(page))
    assert written(ChatListOut.wire(ChatPage(items=[], next_cursor=None))) == {
        "chats": [],
        "nextCursor": None,
    }


def test_the_answer_is_utf8_json_with_its_status():
    answer = encoded({"text": "héllo 👋"}, 201)
    assert answer.status_code == 201 and answer.media_type == "application/json"
    assert answer.body == '{"text":"héllo 👋"}'.encode()
