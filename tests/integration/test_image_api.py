"""Images over the HTTP API on SQLite and PostgreSQL, stored on the local disk store:
each accepted type round-trips, each bad file is refused with nothing stored, metadata is
gone, and only the chat's members can fetch an image."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from chat_web import container
from chat_web.domain.events import user_topic
from chat_web.domain.models import IMAGE_PREVIEW
from tests.integration.conftest import new_session
from tests.support import images


async def send_image(client, who, chat_id, data: bytes, name="photo.jpg", kind="image/jpeg", **fields):
    form = {"chatId": chat_id, **fields}
    return await client.post(
        "/message", data=form, files={"image": (name, data, kind)}, headers=who["headers"]
    )


def stored_files(settings) -> list:
    folder = settings.media_folder
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def fetch(client, path: str, who=None, headers=None):
    """GET a media path (/api/v1/media/...) through the API client (whose base is /api/v1)."""
    return await client.get(path.removeprefix("/api/v1"), headers=headers or (who["headers"] if who else {}))


@pytest.mark.parametrize(
    ("fmt", "kind", "frames"),
    [("JPEG", "image/jpeg", 1), ("PNG", "image/png", 1), ("GIF", "image/gif", 1), ("WEBP", "image/webp", 1)],
)
async def test_each_accepted_type_round_trips(client, settings, pair, fmt, kind, frames):
    ann, bob, chat_id = pair
    sent = await send_image(
        client, ann, chat_id, images.encoded(fmt, (2400, 1200)), name="x.bin", kind="application/octet-stream"
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["kind"] == "image"
    image = message["image"]
    assert (image["width"], image["height"]) == (1600, 800)  # fitted to 1600x1600, aspect kept
    assert image["url"] == f"/api/v1/media/{image['publicId']}"
    assert image["thumbUrl"] == image["url"] + "/thumb"

    full = await fetch(client, image["url"], bob)
    assert full.status_code == 200
    assert full.headers["content-type"] == kind  # from our record, not the name or the declared type
    assert full.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(full.content)) as back:
        assert back.format == fmt and back.size == (1600, 800)
    thumb = await fetch(client, image["thumbUrl"], bob)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == kind
    with Image.open(io.BytesIO(thumb.content)) as small:
        assert small.size == (320, 160)

    listing = (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]
    assert next(c for c in listing if c["id"] == chat_id)["latestMessage"]["text"] == IMAGE_PREVIEW


async def test_an_animated_gif_keeps_its_frames(client, pair):
    ann, bob, chat_id = pair
    sent = await send_image(client, ann, chat_id, images.animated_gif(frames=4), kind="image/gif")
    assert sent.status_code == 201, sent.text
    full = await fetch(client, sent.json()["image"]["url"], bob)
    with Image.open(io.BytesIO(full.content)) as back:
        assert back.format == "GIF" and back.n_frames == 4


async def test_a_caption_and_a_retry(client, settings, pair):
    ann, bob, chat_id = pair
    data = images.encoded("JPEG")
    first = await send_image(client, ann, chat_id, data, text="  Our cat  ", clientId="img-1")
    assert first.status_code == 201 and first.json()["text"] == "Our cat"
    files = stored_files(settings)
    again = await send_image(client, ann, chat_id, data, text="Our cat", clientId="img-1")
    assert again.status_code == 200  # the stored message, not a second one
    assert again.json()["id"] == first.json()["id"]
    assert stored_files(settings) == files  # the retry's copy was deleted again
    page = (await client.get(f"/message/{chat_id}", headers=bob["headers"])).json()["messages"]
    assert [(m["kind"], m["text"]) for m in page] == [("image", "Our cat")]


async def test_the_members_are_told_live(client, pair):
    ann, bob, chat_id = pair
    async with container.current().fanout.subscribe(user_topic(bob["user"]["id"])) as events:
        sent = await send_image(client, ann, chat_id, images.encoded("PNG"), text="look")
        event = await anext(events)
    assert event["type"] == "message.new"
    assert event["message"]["image"] == sent.json()["image"]


BAD_FILES = {
    "text renamed .png": (images.text_as_png, "notes.png", "image/png", 422, "That file is not an image"),
    "svg": (lambda: images.SVG, "logo.svg", "image/svg+xml", 422, "That file is not an image"),
    "html/jpeg polyglot": (
        images.html_jpeg_polyglot,
        "a.jpg",
        "image/jpeg",
        422,
        "That file is not an image",
    ),
    "truncated jpeg": (images.truncated_jpeg, "cut.jpg", "image/jpeg", 422, "That file is not an image"),
    "6 MB file": (
        lambda: images.noise_jpeg(6 * 1024 * 1024),
        "big.jpg",
        "image/jpeg",
        413,
        "Images up to 5 MB",
    ),
    "20,000 x 20,000 png bomb": (
        images.png_bomb,
        "bomb.png",
        "image/png",
        413,
        "Image too large (max 40 megapixels)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
async def test_a_bad_file_is_refused_and_nothing_is_stored(client, settings, pair, case):
    make, name, kind, status, detail = BAD_FILES[case]
    ann, bob, chat_id = pair
    refused = await send_image(client, ann, chat_id, make(), name=name, kind=kind, text="see this")
    assert refused.status_code == status, refused.text
    assert refused.json() == {"detail": detail}
    assert stored_files(settings) == []
    page = (await client.get(f"/message/{chat_id}", headers=bob["headers"])).json()["messages"]
    assert page == []


async def test_a_photo_loses_its_gps_and_keeps_its_orientation(client, pair):
    ann, bob, chat_id = pair
    original = images.jpeg_with_gps(size=(400, 200), orientation=6)
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(0x8825)  # the test file does carry a position
    sent = await send_image(client, ann, chat_id, original)
    assert sent.status_code == 201, sent.text
    assert (sent.json()["image"]["width"], sent.json()["image"]["height"]) == (200, 400)  # turned upright
    for url in (sent.json()["image"]["url"], sent.json()["image"]["thumbUrl"]):
        stored = (await fetch(client, url, bob)).content
        with Image.open(io.BytesIO(stored)) as after:
            assert not after.getexif()  # no EXIF at all: no GPS, no maker, no orientation left to apply
            assert "icc_profile" not in after.info and "xmp" not in after.info
        assert b"Exif" not in stored and b"PhoneMaker" not in stored


async def test_a_non_member_cannot_fetch_another_chats_image(client, settings, pair):
    ann, bob, chat_id = pair
    eve = await new_session(client, settings, "eve")
    sent = await send_image(client, ann, chat_id, images.encoded("JPEG"))
    image = sent.json()["image"]
    for url in (image["url"], image["thumbUrl"]):
        assert (await fetch(client, url, ann)).status_code == 200
        assert (await fetch(client, url, bob)).status_code == 200
        refused = await fetch(client, url, eve)
        assert refused.status_code == 404 and refused.json() == {"detail": "No such image."}
        assert (await fetch(client, url)).status_code == 401  # nobody signed in
    # The page's <img> sends the session cookie instead of a Bearer header: the same rule.
    as_page = await fetch(client, image["url"], headers={"Cookie": f"chat_session={bob['token']}"})
    assert as_page.status_code == 200
    eve_cookie = await fetch(client, image["url"], headers={"Cookie": f"chat_session={eve['token']}"})
    assert eve_cookie.status_code == 404
    # An outsider cannot send into the chat either, and nothing of theirs is stored.
    before = stored_files(settings)
    sneaked = await send_image(client, eve, chat_id, images.encoded("PNG"))
    assert sneaked.status_code == 403
    assert stored_files(settings) == before


@pytest.mark.parametrize(
    "path",
    [
        "/media/..%2F..%2Fchat.db",
        "/media/../chat.db",
        "/media/",
        "/media/abc",
        "/media/" + "A" * 31 + ".",
        "/media/" + "A" * 32,  # well formed, unknown
    ],
)
async def test_no_listing_and_no_traversal(client, pair, path):
    ann, _, _ = pair
    answer = await client.get(path, headers=ann["headers"])
    assert answer.status_code in (404, 422)
    assert answer.headers["content-type"] == "application/json"


async def test_a_form_without_a_file_or_with_another_content_type(client, pair):
    ann, _, chat_id = pair
    # multipart, but `image` is a text field, not a file
    no_file = await client.post(
        "/message", files={"chatId": (None, chat_id), "image": (None, "x")}, headers=ann["headers"]
    )
    assert no_file.status_code == 422
    assert "image" in no_file.json()["detail"]
    # A field the form does not have (the documented schema forbids others): 422, nothing stored.
    extra = await send_image(client, ann, chat_id, images.encoded("PNG"), note="hi")
    assert extra.status_code == 422 and "note" in extra.json()["detail"]
    twice = await send_image(client, ann, chat_id, images.encoded("PNG"), text=["one", "two"])
    assert twice.status_code == 422 and twice.json()["detail"] == "Send each form field once."
    other = await client.post(
        "/message", content=b"hello", headers={**ann["headers"], "Content-Type": "text/plain"}
    )
    assert other.status_code == 415
    # JSON text messages work as before, with the same validation answers.
    bad_json = await client.post(
        "/message",
        content=json.dumps({"chatId": chat_id}),
        headers={**ann["headers"], "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422 and bad_json.json()["detail"].startswith("text:")
