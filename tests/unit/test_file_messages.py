"""File and voice messages in the services, over the in-memory stores (and the local store on
a temporary folder): what is kept, what a retry, a refusal or a deletion leaves behind, and
the row the page draws."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.media.local import LocalMediaStore
from chat_web.adapters.media.memory import InMemoryMediaStore
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import BadInput, Forbidden, ServiceUnavailable, TooLarge
from chat_web.domain.files import NOT_AUDIO
from chat_web.services.chats import ChatService
from chat_web.services.media import ImageUpload, MediaService
from chat_web.state.rows import message_row
from tests.support import webm


@pytest.fixture
def world(clock):
    store = InMemoryStore(clock)
    media = InMemoryMediaStore()
    service = ChatService(
        store.users,
        store.chats,
        store.messages,
        InProcessFanOut(),
        clock,
        media=MediaService(media, store.chats, max_file_bytes=64 * 1024),
    )
    return service, store, media


async def people(store, chats):
    ann, bob, eve = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob", "eve")]
    return ann, bob, eve, await chats.open_direct(ann, bob.id)


async def test_a_file_is_kept_with_its_clean_name_and_a_retry_keeps_no_second_copy(world):
    chats, store, media = world
    ann, bob, _, chat = await people(store, chats)
    sent, created = await chats.send_file(
        ann, chat.id, b"%PDF-1.4 x", "C:\\tmp\\plan.pdf", "application/pdf", "v2", "f1"
    )
    assert created and sent.kind == "file" and sent.text == "v2"
    assert (sent.attachment.name, sent.attachment.size, sent.attachment.content_type) == (
        "plan.pdf",
        10,
        "application/pdf",
    )
    assert list(media.blobs) == [sent.attachment.public_id]
    again, created = await chats.send_file(
        ann, chat.id, b"%PDF-1.4 x", "plan.pdf", "application/pdf", "v2", "f1"
    )
    assert not created and again.id == sent.id and list(media.blobs) == [sent.attachment.public_id]
    record = await chats.media.open_for(bob, sent.attachment.public_id)
    assert (record.kind, record.name, record.content_type) == ("file", "plan.pdf", "application/pdf")


async def test_refusals_keep_nothing(world):
    chats, store, media = world
    ann, _, eve, chat = await people(store, chats)
    with pytest.raises(Forbidden):
        await chats.send_file(eve, chat.id, b"data", "a.txt", "text/plain")
    with pytest.raises(BadInput, match="That file is empty"):
        await chats.send_file(ann, chat.id, b"", "a.txt", "text/plain")
    with pytest.raises(TooLarge, match="Files up to 0.0625 MB"):
        await chats.send_file(ann, chat.id, b"x" * (64 * 1024 + 1), "a.bin", None)
    # A size that is not known before (a stream): counted as it is stored, refused past it.
    unknown = ImageUpload(None, ImageUpload.of(b"x" * (200 * 1024)).read)
    with pytest.raises(TooLarge):
        await chats.send_file(ann, chat.id, unknown, "a.bin", None)
    with pytest.raises(BadInput, match=re.escape(NOT_AUDIO)):
        await chats.send_voice(ann, chat.id, webm.webm(tracks=((1, 1, "V_VP8"),)))
    assert media.blobs == {}
    assert (await chats.history(ann, chat.id)).messages == []


async def test_a_voice_message_is_measured_here_and_deleting_it_deletes_the_recording(world):
    chats, store, media = world
    ann, bob, _, chat = await people(store, chats)
    sent, _ = await chats.send_voice(ann, chat.id, webm.webm(blocks=((1, 0), (1, 12_400))))
    assert sent.kind == "voice" and sent.attachment.duration_ms == 12_400
    assert sent.attachment.content_type == "audio/webm"
    gone = await chats.delete_message(ann, chat.id, sent.id)
    assert gone.deleted and gone.attachment is None and media.blobs == {}


async def test_a_send_that_fails_after_storing_deletes_its_file(world, monkeypatch):
    chats, store, media = world
    ann, _, _, chat = await people(store, chats)

    async def broken(_message):
        raise ServiceUnavailable("The database cannot be reached.")

    monkeypatch.setattr(store.messages, "append", broken)
    with pytest.raises(ServiceUnavailable):
        await chats.send_file(ann, chat.id, b"data", "a.txt", "text/plain")
    assert media.blobs == {}


async def test_the_local_store_stops_writing_at_the_limit_and_leaves_nothing(clock, tmp_path):
    store = InMemoryStore(clock)
    local = LocalMediaStore(tmp_path, "/api/v1/media")
    service = MediaService(local, store.chats, max_file_bytes=64 * 1024)
    taken = []
    source = ImageUpload.of(b"y" * (10 * 1024 * 1024))

    async def read(n):
        taken.append(n)
        return await source.read(n)

    with pytest.raises(TooLarge):
        await service.save_file("chat", ImageUpload(None, read), "big.bin", None)
    assert len(taken) == 1  # one chunk (1 MB) read, refused: the 10 MB were never taken
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    kept = await service.save_file("chat", ImageUpload.of(b"z" * 5000), "ok.txt", "text/plain")
    record = await local.record(kept.public_id)
    assert record.size == 5000 and record.name == "ok.txt" and record.kind == "file"
    assert await local.record(kept.public_id, thumb=True) is None  # files have no thumbnail


async def test_the_page_row_of_a_file_and_of_a_voice_message(world):
    chats, store, _ = world
    ann, bob, _, chat = await people(store, chats)
    file, _ = await chats.send_file(ann, chat.id, b"x" * 49_000, "Q3.pdf", "application/pdf")
    voice, _ = await chats.send_voice(ann, chat.id, webm.webm(duration_ms=72_000.0))
    now, utc = datetime.now(UTC), ZoneInfo("UTC")
    row = message_row(file, bob.id, {}, utc, now, False)
    assert (row.file_name, row.file_meta, row.file_url) == ("Q3.pdf", "48 KB · PDF", file.attachment.url)
    row = message_row(voice, bob.id, {}, utc, now, False)
    assert (row.voice_url, row.voice_length, row.file_url) == (voice.attachment.url, "1:12", "")


async def test_the_wire_carries_the_attachment_and_the_page_reads_it_back(world):
    from chat_web.api.chat_schemas import MessageOut
    from chat_web.domain.wire import message_json
    from chat_web.state.chat_live import _message_from

    chats, store, _ = world
    ann, _, _, chat = await people(store, chats)
    file, _ = await chats.send_file(ann, chat.id, b"x" * 2048, "notes.txt", "text/plain", "see")
    voice, _ = await chats.send_voice(ann, chat.id, webm.webm(blocks=((1, 0), (1, 12_400))))
    wire = message_json(file)
    assert wire["file"] == {
        "url": file.attachment.url,
        "publicId": file.attachment.public_id,
        "name": "notes.txt",
        "size": 2048,
        "contentType": "text/plain",
        "durationMs": 0,
    }
    assert wire["voice"] is None and message_json(voice)["file"] is None
    assert message_json(voice)["voice"]["durationMs"] == 12_400
    for message in (file, voice):
        assert MessageOut.of(message, seen=False).model_dump(by_alias=True, mode="json") == message_json(
            message
        )
        back = _message_from(message_json(message))  # a live event, as the page's state takes it
        assert (back.kind, back.attachment) == (message.kind, message.attachment)
