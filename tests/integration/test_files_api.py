"""Files and voice messages through the HTTP API, on the local store and with images on
Cloudinary (its stand-in, tests/support/cloudinary_stub.py): files and recordings stay in the
app's own store either way and are served by it to the chat's members only, a file as a
download under its cleaned name, a recording inline; what is refused stores nothing."""

from __future__ import annotations

import contextlib
from urllib.parse import quote

import pytest

from chat_web import container
from chat_web.domain.files import NOT_AUDIO, OCTET_STREAM
from chat_web.services.voice import TOO_LONG
from tests.integration.conftest import new_session, running_api, settings_for
from tests.integration.test_image_api import fetch, stored_files
from tests.support import webm
from tests.support.cloudinary_stub import running_stub

MAX_FILE = 256 * 1024  # MAX_FILE_BYTES of these apps: "Files up to 0.25 MB"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


@contextlib.asynccontextmanager
async def _app(request, tmp_path, storage: str, media: str):
    with contextlib.ExitStack() as stack:
        extra = {"max_file_bytes": MAX_FILE}
        stub = None
        if media == "cloudinary":
            stub = stack.enter_context(running_stub())
            extra["cloudinary_url"] = f"cloudinary://123456789012345:s3cr3t@demo?upload_prefix={stub.url}"
        settings = settings_for(request, storage, tmp_path, **extra)
        async with running_api(settings) as client:
            ann = await new_session(client, settings, "ann")
            bob = await new_session(client, settings, "bob")
            chat_id = (
                await client.post(
                    "/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=ann["headers"]
                )
            ).json()["chatId"]
            yield client, settings, stub, (ann, bob, chat_id)


@pytest.fixture(params=[("sqlite", "local"), ("postgresql", "local"), ("sqlite", "cloudinary")], ids="-".join)
async def app(request, tmp_path):
    async with _app(request, tmp_path, *request.param) as running:
        yield running


async def send(client, who, chat_id, field: str, name: str, data: bytes, kind: str, **fields):
    return await client.post(
        "/message",
        data={"chatId": chat_id, **fields},
        files={field: (name, data, kind)},
        headers=who["headers"],
    )


async def test_a_file_round_trips_to_the_members_only_as_a_download(app):
    client, settings, stub, (ann, bob, chat_id) = app
    eve = await new_session(client, settings, "eve")
    sent = await send(
        client, ann, chat_id, "file", "../../Q3 report\u202e.pdf", PDF, "application/pdf", text="numbers"
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert (message["kind"], message["text"], message["image"], message["voice"]) == (
        "file",
        "numbers",
        None,
        None,
    )
    file = message["file"]
    assert (file["name"], file["size"], file["contentType"]) == ("Q3 report.pdf", len(PDF), "application/pdf")
    assert file["url"] == f"/api/v1/media/{file['publicId']}"

    back = await fetch(client, file["url"], bob)
    assert back.status_code == 200 and back.content == PDF
    assert back.headers["content-type"] == "application/pdf"
    assert back.headers["content-disposition"] == (
        "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''" + quote("Q3 report.pdf", safe="")
    )
    assert back.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in back.headers["content-security-policy"]
    refused = await fetch(client, file["url"], eve)
    assert refused.status_code == 404
    assert (await fetch(client, file["url"])).status_code == 401
    as_page = await fetch(client, file["url"], headers={"Cookie": f"chat_session={bob['token']}"})
    assert as_page.status_code == 200 and as_page.content == PDF

    listing = (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]
    assert next(c for c in listing if c["id"] == chat_id)["latestMessage"]["text"] == "📎 Q3 report.pdf"
    reply = await client.post(
        "/message",
        json={"chatId": chat_id, "text": "thanks", "replyTo": message["seq"]},
        headers=bob["headers"],
    )
    assert reply.json()["replyTo"]["text"] == "📎 Q3 report.pdf" and reply.json()["replyTo"]["kind"] == "file"
    if stub is not None:  # images go to Cloudinary; files stay in the app's own store
        assert container.current().backends["media"] == "cloudinary"
        assert stub.calls == []
    assert any(p.name == "file.bin" for p in stored_files(settings))


async def test_an_html_file_is_accepted_and_served_as_an_octet_stream_download(app):
    client, _, _, (ann, bob, chat_id) = app
    page = b"<!doctype html><script>alert(document.cookie)</script>"
    sent = await send(client, ann, chat_id, "file", "invite.html", page, "text/html")
    assert sent.status_code == 201, sent.text
    assert sent.json()["file"]["contentType"] == OCTET_STREAM
    back = await fetch(client, sent.json()["file"]["url"], bob)
    assert back.headers["content-type"] == OCTET_STREAM
    assert back.headers["content-disposition"].startswith('attachment; filename="invite.html"')
    assert back.content == page


async def test_a_voice_message_round_trips_inline_with_its_length(app):
    client, settings, stub, (ann, bob, chat_id) = app
    sent = await send(
        client, ann, chat_id, "voice", "blob", webm.RECORDED, "audio/webm;codecs=opus", clientId="v1"
    )
    assert sent.status_code == 201, sent.text
    voice = sent.json()["voice"]
    assert sent.json()["kind"] == "voice" and sent.json()["file"] is None
    assert voice["contentType"] == "audio/webm" and voice["size"] == len(webm.RECORDED)
    assert 1000 <= voice["durationMs"] <= 1600  # measured from the recording (1.4 s)
    back = await fetch(client, voice["url"], bob)
    assert back.status_code == 200 and back.content == webm.RECORDED
    assert back.headers["content-type"] == "audio/webm"
    assert back.headers["content-disposition"] == "inline"
    assert back.headers["x-content-type-options"] == "nosniff"
    files = stored_files(settings)
    again = await send(client, ann, chat_id, "voice", "blob", webm.RECORDED, "audio/webm", clientId="v1")
    assert again.status_code == 200 and again.json()["id"] == sent.json()["id"]
    assert stored_files(settings) == files  # the retry stored nothing
    listing = (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]
    assert (
        next(c for c in listing if c["id"] == chat_id)["latestMessage"]["text"] == "🎤 Voice message (0:01)"
    )
    if stub is not None:
        assert stub.calls == []

    # Deleting the message deletes the recording.
    gone = await client.delete(f"/message/{chat_id}/{sent.json()['id']}", headers=ann["headers"])
    assert gone.status_code == 200 and gone.json()["voice"] is None
    assert (await fetch(client, voice["url"], bob)).status_code == 404


AUDIO = "audio/webm"
VIDEO_TOO = webm.webm(tracks=((1, 2, "A_OPUS"), (2, 1, "V_VP8")))
OVER = b"x" * (MAX_FILE + 1)
REFUSED = {
    "a file over the limit": ("file", "big.bin", OVER, OCTET_STREAM, 413, "Files up to 0.25 MB"),
    "an empty file": ("file", "empty.txt", b"", "text/plain", 422, "That file is empty."),
    "a voice with a video track": ("voice", "v.webm", VIDEO_TOO, AUDIO, 422, NOT_AUDIO),
    "a text file as a voice": ("voice", "v.webm", b"hello " * 100, AUDIO, 422, NOT_AUDIO),
    "a voice over five minutes": ("voice", "v.webm", webm.webm(duration_ms=400_000.0), AUDIO, 413, TOO_LONG),
    "an empty voice": ("voice", "v.webm", b"", AUDIO, 422, "That recording is empty."),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_bad_upload_is_refused_with_its_reason_and_nothing_is_stored(request, tmp_path, case):
    field, name, data, kind, status, detail = REFUSED[case]
    async with _app(request, tmp_path, "sqlite", "local") as (client, settings, _, (ann, bob, chat_id)):
        refused = await send(client, ann, chat_id, field, name, data, kind)
        assert refused.status_code == status, refused.text
        assert refused.json() == {"detail": detail}
        assert stored_files(settings) == []
        assert (await client.get(f"/message/{chat_id}", headers=bob["headers"])).json()["messages"] == []


async def test_a_large_file_is_refused_while_it_arrives(request, tmp_path):
    async with _app(request, tmp_path, "sqlite", "local") as (client, settings, _, (ann, _bob, chat_id)):
        body_read = []

        async def body():
            for at in range(0, 4 * 1024 * 1024, 64 * 1024):
                body_read.append(at)
                yield b"y" * 64 * 1024

        boundary = "xYz"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="chatId"\r\n\r\n{chat_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
        ).encode()

        async def stream():
            yield head
            async for chunk in body():
                yield chunk

        refused = await client.post(
            "/message",
            content=stream(),
            headers={**ann["headers"], "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert refused.status_code == 413 and refused.json() == {"detail": "Files up to 0.25 MB"}
        assert len(body_read) * 64 * 1024 <= MAX_FILE + 256 * 1024  # stopped near the limit, not at 4 MB
        assert stored_files(settings) == []


async def test_one_upload_per_form(app):
    client, _, _, (ann, _, chat_id) = app
    both = await client.post(
        "/message",
        data={"chatId": chat_id},
        files=[("file", ("a.txt", b"a", "text/plain")), ("voice", ("v.webm", webm.RECORDED, "audio/webm"))],
        headers=ann["headers"],
    )
    assert both.status_code == 422
    captioned = await send(client, ann, chat_id, "voice", "v.webm", webm.RECORDED, "audio/webm", text="hi")
    assert captioned.status_code == 422 and captioned.json()["detail"] == "A voice message has no caption."
