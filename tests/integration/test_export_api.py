"""Download my data over the HTTP API, on SQLite, PostgreSQL and the MongoDB wire test server with
the local media store: the zip holds my profile, my chats with every message (seen and reply
quotes as the API gives them, media pointing into the zip), and the images, files and voice
messages I sent (not the ones sent to me); only I can see or fetch it, and not after it expires."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from dataclasses import replace
from datetime import timedelta

import pytest

from chat_web import container
from chat_web.services import exports as export_service
from tests.integration.conftest import settings_for
from tests.integration.test_image_api import send_image
from tests.support import images, webm


@pytest.fixture(params=["sqlite", "postgresql", "congodb"])
async def settings(request, tmp_path):
    return settings_for(request, request.param, tmp_path)


async def say(client, who, chat_id, words: str, reply_to: int | None = None) -> dict:
    body = {"chatId": chat_id, "text": words, "clientId": uuid.uuid4().hex, "replyTo": reply_to}
    sent = await client.post("/message", json=body, headers=who["headers"])
    assert sent.status_code == 201, sent.text
    return sent.json()


async def finished(client, who, export_id: str) -> dict:
    """Poll the export until it is no longer running (bounded: 20 s)."""
    for _ in range(400):
        job = (await client.get(f"/me/export/{export_id}", headers=who["headers"])).json()
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"the export still runs: {job}")


async def send_upload(client, who, chat_id, field, upload):
    return await client.post(
        "/message", data={"chatId": chat_id}, files={field: upload}, headers=who["headers"]
    )


async def test_my_data_as_a_zip_for_me_alone(client, settings, pair, monkeypatch):
    # Pages of 3 messages: the replies below answer messages on earlier pages.
    monkeypatch.setattr(export_service, "PAGE", 3)
    ann, bob, chat_id = pair
    texts = [await say(client, who, chat_id, f"line {i}") for i, who in enumerate((ann, bob, ann))]
    mine = await send_image(client, ann, chat_id, images.encoded("PNG", (40, 30)), clientId="img-a")
    theirs = await send_image(client, bob, chat_id, images.encoded("JPEG", (40, 30)), clientId="img-b")
    assert mine.status_code == theirs.status_code == 201
    my_file = await send_upload(client, ann, chat_id, "file", ("Plan B.txt", b"the plan", "text/plain"))
    my_voice = await send_upload(client, ann, chat_id, "voice", ("v.webm", webm.RECORDED, "audio/webm"))
    their_file = await send_upload(client, bob, chat_id, "file", ("bob.txt", b"not hers", "text/plain"))
    assert my_file.status_code == my_voice.status_code == their_file.status_code == 201
    # Seq 9 answers Ann's image (seq 4), 10 Bob's line (seq 2); Bob reads Ann's reply, and Ann
    # says something Bob has not read.
    their_reply = await say(client, bob, chat_id, "nice photo", reply_to=4)
    my_reply = await say(client, ann, chat_id, "yes, that line", reply_to=2)
    read = await client.post(f"/chat/{chat_id}/read", json={"seq": 10}, headers=bob["headers"])
    assert read.status_code == 200, read.text
    await say(client, ann, chat_id, "not read by Bob yet")

    started = await client.post("/me/export", headers=ann["headers"])
    assert started.status_code == 202, started.text
    export_id = started.json()["id"]
    assert started.json()["status"] == "running" and started.json()["downloadUrl"] is None
    # Nobody else sees it or fetches it: the same 404 as an export that does not exist.
    assert (await client.get(f"/me/export/{export_id}", headers=bob["headers"])).status_code == 404
    job = await finished(client, ann, export_id)
    assert job["status"] == "ready" and job["progress"] == 1 and job["size"] > 0, job
    assert (await client.get(f"/me/export/{export_id}/download", headers=bob["headers"])).status_code == 404
    assert (await client.get(f"/me/export/{export_id}/download")).status_code == 401

    download = await client.get(job["downloadUrl"].removeprefix("/api/v1"), headers=ann["headers"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert json.loads(archive.read("profile.json"))["email"] == ann["user"]["email"]
    (chat,) = json.loads(archive.read("chats.json"))
    assert chat["id"] == chat_id
    assert {m["id"] for m in chat["members"]} == {ann["user"]["id"], bob["user"]["id"]}
    lines = archive.read(chat["file"]).decode().splitlines()
    messages = [json.loads(line) for line in lines]
    assert [m["seq"] for m in messages] == list(range(1, 12))
    assert [m["text"] for m in messages[:3]] == [t["text"] for t in texts]
    # Seen as the API says it: Bob read up to 10 (the last by his read), not 11.
    assert [m["seen"] for m in messages] == [True] * 10 + [False]
    assert messages[0]["seenAt"] is not None and messages[10]["seenAt"] is None
    # A reply carries the quote of the message it answers (on an earlier page of the export).
    assert messages[8]["id"] == their_reply["id"]
    assert messages[8]["replyTo"]["senderId"] == ann["user"]["id"]
    assert messages[8]["replyTo"]["kind"] == "image"
    assert messages[9]["id"] == my_reply["id"]
    assert messages[9]["replyTo"] == {
        "seq": 2,
        "senderId": bob["user"]["id"],
        "text": "line 1",
        "kind": "text",
        "deleted": False,
    }
    # The same seen and quotes as the API's own history (which reads without marking read).
    history = await client.get(f"/message/{chat_id}", params={"after_seq": 0}, headers=ann["headers"])
    assert history.status_code == 200, history.text
    api = history.json()["messages"]
    assert [(m["seen"], m["seenAt"], m["replyTo"]) for m in messages] == [
        (m["seen"], m["seenAt"], m["replyTo"]) for m in api
    ]
    # Each image, file or voice message says where it is in the zip: mine are in it, Bob's
    # are not (path null); the address in the app is kept as originalUrl.
    names = set(archive.namelist())
    sent = {m["id"]: m for m in api}
    for message in messages:
        for key in ("image", "file", "voice"):
            media = message[key]
            if media is None:
                continue
            assert media["originalUrl"] == sent[message["id"]][key]["url"]
            assert "url" not in media
            if message["senderId"] == ann["user"]["id"]:
                assert media["path"] in names, media
                served = media["originalUrl"].removeprefix("/api/v1")
                original = await client.get(served, headers=ann["headers"])
                assert archive.read(media["path"]) == original.content
            else:
                assert media["path"] is None
    with_media = [m for m in messages if m["image"] or m["file"] or m["voice"]]
    assert [m["senderId"] == ann["user"]["id"] for m in with_media] == [True, False, True, True, False]
    assert "README.txt" in names and "messages.jsonl" in archive.read("README.txt").decode()
    pictures = [name for name in archive.namelist() if name.startswith("images/")]
    assert pictures == [f"images/{mine.json()['image']['publicId']}.png"]  # not the one Bob sent
    original = await client.get(mine.json()["image"]["url"].removeprefix("/api/v1"), headers=ann["headers"])
    assert archive.read(pictures[0]) == original.content
    # The files and voice messages I sent, under their names (not Bob's).
    files = sorted(name for name in archive.namelist() if name.startswith("files/"))
    assert files == sorted(
        [
            f"files/{my_file.json()['file']['publicId']}/Plan B.txt",
            f"files/{my_voice.json()['voice']['publicId']}/voice.webm",
        ]
    )
    assert archive.read(f"files/{my_file.json()['file']['publicId']}/Plan B.txt") == b"the plan"
    assert archive.read(f"files/{my_voice.json()['voice']['publicId']}/voice.webm") == webm.RECORDED


async def test_an_expired_download_is_gone(client, settings, pair):
    ann, _, chat_id = pair
    await say(client, ann, chat_id, "hello")
    export_id = (await client.post("/me/export", headers=ann["headers"])).json()["id"]
    job = await finished(client, ann, export_id)
    assert job["status"] == "ready"
    exports = container.current().exports
    stored = await exports._archives.job(export_id)
    await exports._archives.save_job(replace(stored, expires_at=stored.created_at - timedelta(seconds=1)))
    gone = await client.get(f"/me/export/{export_id}/download", headers=ann["headers"])
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    assert not any(settings.exports_folder.iterdir())  # the zip and its record are deleted


async def test_a_new_export_replaces_mine_and_five_an_hour_is_the_most(client, settings, pair):
    ann, _, chat_id = pair
    await say(client, ann, chat_id, "hello")
    first = (await client.post("/me/export", headers=ann["headers"])).json()["id"]
    await finished(client, ann, first)
    ids = [first]
    for _ in range(4):
        started = await client.post("/me/export", headers=ann["headers"])
        assert started.status_code == 202
        ids.append(started.json()["id"])
        await finished(client, ann, ids[-1])
    # One zip of hers on disk: each new export replaced the one before.
    assert (await client.get(f"/me/export/{first}", headers=ann["headers"])).status_code == 404
    assert sorted(p.name for p in settings.exports_folder.iterdir()) == sorted(
        [f"{ids[-1]}.json", f"{ids[-1]}.zip"]
    )
    sixth = await client.post("/me/export", headers=ann["headers"])
    assert sixth.status_code == 429 and int(sixth.headers["retry-after"]) > 0
    assert (await client.get(f"/me/export/{ids[-1]}", headers=ann["headers"])).json()["status"] == "ready"


async def test_a_download_asked_for_while_it_is_built_is_409(client, settings, pair, monkeypatch):
    ann, _, chat_id = pair
    await say(client, ann, chat_id, "hello")
    held = asyncio.Event()
    exports = container.current().exports
    write = exports._archives.write

    async def held_write(job_id, entries):
        await held.wait()  # the zip is still being built
        return await write(job_id, entries)

    monkeypatch.setattr(exports._archives, "write", held_write)
    export_id = (await client.post("/me/export", headers=ann["headers"])).json()["id"]
    early = await client.get(f"/me/export/{export_id}/download", headers=ann["headers"])
    assert early.status_code == 409 and "not ready" in early.json()["detail"]
    held.set()
    assert (await finished(client, ann, export_id))["status"] == "ready"
    assert (await client.get(f"/me/export/{export_id}/download", headers=ann["headers"])).status_code == 200
