"""The Cloudinary store with the real SDK, against a local server standing in for Cloudinary's
upload API (tests/support/cloudinary_stub.py), chosen by CLOUDINARY_URL alone."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from chat_web import container
from chat_web.adapters.media.cloudinary import FOLDER, CloudinaryMediaStore
from chat_web.config import Settings
from chat_web.domain import ServiceUnavailable
from tests.integration.conftest import new_session, running_api
from tests.support import images
from tests.support.cloudinary_stub import running_stub, signature
from tests.support.processes import free_port

KEY, SECRET, CLOUD = "123456789012345", "s3cr3t-Api_secret", "demo-cloud"


@pytest.fixture
def stub():
    with running_stub() as stub:
        yield stub


def cloudinary_url(prefix: str) -> str:
    return f"cloudinary://{KEY}:{SECRET}@{CLOUD}?upload_prefix={prefix}"


async def test_an_image_sent_through_the_api_is_uploaded_signed_and_its_url_stored(stub, tmp_path):
    settings = Settings(
        _env_file=None, data_dir=tmp_path, REFLEX_ENV_MODE="dev", cloudinary_url=cloudinary_url(stub.url)
    )
    async with running_api(settings) as client:
        assert container.current().backends["media"] == "cloudinary"
        ann = await new_session(client, settings, "ann")
        bob = await new_session(client, settings, "bob")
        chat_id = (
            await client.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=ann["headers"])
        ).json()["chatId"]
        sent = await client.post(
            "/message",
            data={"chatId": chat_id, "text": "from the phone", "clientId": "c-1"},
            files={"image": ("p.jpg", images.jpeg_with_gps(size=(2000, 1000), orientation=1), "image/jpeg")},
            headers=ann["headers"],
        )
        assert sent.status_code == 201, sent.text

        (upload,) = stub.calls
        assert upload.path == f"/v1_1/{CLOUD}/image/upload"
        fields = upload.fields
        assert fields["api_key"] == KEY
        assert fields["signature"] == signature(fields, SECRET)
        assert abs(int(fields["timestamp"]) - time.time()) < 300
        assert fields["folder"] == FOLDER
        assert len(fields["public_id"]) == 32 and fields["overwrite"] in ("0", "false", "False")
        # What leaves for Cloudinary is already checked, resized and stripped.
        with Image.open(io.BytesIO(upload.file)) as uploaded:
            assert uploaded.format == "JPEG" and uploaded.size == (1600, 800)
            assert not uploaded.getexif()

        image = sent.json()["image"]
        public_id = f"{FOLDER}/{fields['public_id']}"
        assert image["publicId"] == public_id
        assert image["url"] == f"https://res.cloudinary.com/{CLOUD}/image/upload/v1/{public_id}.jpg"
        assert image["thumbUrl"] == (
            f"https://res.cloudinary.com/{CLOUD}/image/upload/c_limit,w_320,h_320/v1/{public_id}.jpg"
        )
        assert (image["width"], image["height"]) == (1600, 800)
        stored = (await client.get(f"/message/{chat_id}", headers=bob["headers"])).json()["messages"]
        assert stored[0]["image"] == image  # the URL came back from storage as Cloudinary gave it

        # The app serves nothing of Cloudinary's images itself.
        assert (await client.get(f"/media/{fields['public_id']}", headers=ann["headers"])).status_code == 404

        # A retry stores nothing new, and uploads nothing: its client id is found first.
        again = await client.post(
            "/message",
            data={"chatId": chat_id, "text": "from the phone", "clientId": "c-1"},
            files={"image": ("p.jpg", images.encoded("JPEG"), "image/jpeg")},
            headers=ann["headers"],
        )
        assert again.status_code == 200 and again.json()["id"] == sent.json()["id"]
        assert stub.calls[1:] == []


async def test_a_bad_file_never_reaches_cloudinary(stub, tmp_path):
    settings = Settings(
        _env_file=None, data_dir=tmp_path, REFLEX_ENV_MODE="dev", cloudinary_url=cloudinary_url(stub.url)
    )
    async with running_api(settings) as client:
        ann = await new_session(client, settings, "ann")
        bob = await new_session(client, settings, "bob")
        chat_id = (
            await client.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=ann["headers"])
        ).json()["chatId"]
        refused = await client.post(
            "/message",
            data={"chatId": chat_id},
            files={"image": ("a.jpg", images.html_jpeg_polyglot(), "image/jpeg")},
            headers=ann["headers"],
        )
        assert refused.status_code == 422
        assert stub.calls == []


async def test_cloudinary_out_of_reach_is_a_503_naming_it():
    store = CloudinaryMediaStore(cloudinary_url(f"http://127.0.0.1:{free_port()}"))
    processed = container_free_image()
    with pytest.raises(ServiceUnavailable, match="Image storage cannot be reached"):
        await store.save("chat-1", processed)


def container_free_image():
    from chat_web.services.images import process_image

    return process_image(images.encoded("PNG"))
