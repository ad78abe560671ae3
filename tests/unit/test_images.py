"""Image checks and re-encoding (services/images.py) and sending images (ChatService.send_image)
over in-memory adapters."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.media.memory import InMemoryMediaStore
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import BadInput, Forbidden, ServiceUnavailable, TooLarge, thumbnail_url
from chat_web.domain.models import Image as ImageRef
from chat_web.services import images as checks
from chat_web.services.chats import ChatService
from chat_web.services.images import NOT_AN_IMAGE, TOO_MANY_FRAMES, TOO_MANY_PIXELS, process_image
from chat_web.services.media import MediaService
from tests.support import images


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_a_small_image_keeps_its_size_and_format(fmt):
    processed = process_image(images.encoded(fmt, (300, 200)))
    assert (processed.width, processed.height) == (300, 200)  # never enlarged
    assert opened(processed.data).format == fmt
    assert processed.content_type == checks.FORMATS[fmt][0]
    assert (processed.thumb_width, processed.thumb_height) == (300, 200)


def test_a_tall_image_fits_the_box_on_its_long_side():
    processed = process_image(images.encoded("PNG", (1000, 4000)))
    assert (processed.width, processed.height) == (400, 1600)
    assert (processed.thumb_width, processed.thumb_height) == (80, 320)
    assert opened(processed.thumb).size == (80, 320)


def test_transparency_survives():
    source = Image.new("RGBA", (50, 50), (255, 0, 0, 0))
    out = io.BytesIO()
    source.save(out, "PNG")
    back = opened(process_image(out.getvalue()).data)
    assert back.mode == "RGBA" and back.getpixel((0, 0))[3] == 0


def test_a_cmyk_jpeg_becomes_rgb():
    out = io.BytesIO()
    Image.new("CMYK", (40, 40), (0, 255, 255, 0)).save(out, "JPEG")
    assert opened(process_image(out.getvalue()).data).mode == "RGB"


def test_animations_keep_their_frames_in_gif_and_webp():
    gif = process_image(images.animated_gif(frames=6, size=(2000, 1000)))
    assert gif.frames == 6 and (gif.width, gif.height) == (1600, 800)
    assert opened(gif.data).n_frames == 6 and opened(gif.thumb).n_frames == 6
    frames = [Image.new("RGB", (100, 100), (i * 50, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    webp = process_image(out.getvalue())
    assert webp.frames == 3 and opened(webp.data).n_frames == 3


def test_an_animation_too_large_over_its_frames_is_refused(monkeypatch):
    monkeypatch.setattr(checks, "MAX_ANIMATION_PIXELS", 100 * 100 * 5)
    with pytest.raises(TooLarge) as refused:
        process_image(images.animated_gif(frames=6, size=(100, 100)))
    assert refused.value.message == TOO_MANY_FRAMES


def test_megapixels_are_read_from_the_header_before_decoding(monkeypatch):
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self))
    with pytest.raises(TooLarge) as refused:
        process_image(images.png_bomb(7000))  # 49 megapixels: over 40, under Pillow's own guard
    assert refused.value.message == TOO_MANY_PIXELS
    assert decoded == []


def test_the_byte_limit_and_its_message_follow_the_setting():
    with pytest.raises(TooLarge, match=r"^Images up to 0.5 MB$"):
        process_image(images.noise_jpeg(600_000), max_bytes=512 * 1024)


@pytest.mark.parametrize(
    "raw",
    [b"", b"GIF89a", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"RIFF\x00\x00\x00\x00WEBPVP8 ", images.SVG],
)
def test_fragments_and_lookalikes_are_not_images(raw):
    with pytest.raises(BadInput, match=f"^{NOT_AN_IMAGE}$"):
        process_image(raw)


def test_other_formats_pillow_reads_are_refused():
    for fmt in ("BMP", "TIFF", "ICO"):
        out = io.BytesIO()
        Image.new("RGB", (16, 16)).save(out, fmt)
        with pytest.raises(BadInput, match=NOT_AN_IMAGE):
            process_image(out.getvalue())


def test_thumbnail_urls_are_derived_from_the_image_url():
    local = ImageRef("/api/v1/media/abc", "abc", 10, 10)
    assert thumbnail_url(local) == "/api/v1/media/abc/thumb"
    hosted = ImageRef("https://res.cloudinary.com/c/image/upload/v1/chat-images/x.jpg", "chat-images/x", 1, 1)
    assert (
        thumbnail_url(hosted)
        == "https://res.cloudinary.com/c/image/upload/c_limit,w_320,h_320/v1/chat-images/x.jpg"
    )


# --- sending -------------------------------------------------------------------------------------


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
        media=MediaService(media, store.chats),
    )
    return service, store, media


async def test_an_outsider_is_refused_before_the_image_is_even_decoded(world, monkeypatch):
    chats, store, media = world
    ann, bob, eve = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob", "eve")]
    chat = await chats.open_direct(ann, bob.id)
    decoded = []
    monkeypatch.setattr("chat_web.services.media.process_image", lambda *a: decoded.append(a))
    with pytest.raises(Forbidden):
        await chats.send_image(eve, chat.id, images.encoded("PNG"))
    with pytest.raises(BadInput):  # a caption over the limit: refused first too
        await chats.send_image(ann, chat.id, images.encoded("PNG"), caption="x" * 4001)
    assert decoded == [] and media.files == {}


async def test_deleting_an_image_message_removes_its_image_from_the_store(world):
    chats, store, media = world
    ann, bob = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob")]
    chat = await chats.open_direct(ann, bob.id)
    sent, _ = await chats.send_image(ann, chat.id, images.encoded("PNG"), caption="look")
    assert list(media.files) == [sent.image.public_id]
    gone = await chats.delete_message(ann, chat.id, sent.id)
    assert gone.deleted and gone.image is None and media.files == {}
    history = await chats.history(bob, chat.id)
    assert [(v.message.kind, v.message.image, v.message.text) for v in history.messages] == [
        ("image", None, "")
    ]


async def test_a_send_that_fails_after_storing_deletes_its_image(world, monkeypatch):
    chats, store, media = world
    ann, bob = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob")]
    chat = await chats.open_direct(ann, bob.id)

    async def broken(_message):
        raise ServiceUnavailable("The database cannot be reached.")

    monkeypatch.setattr(store.messages, "append", broken)
    with pytest.raises(ServiceUnavailable):
        await chats.send_image(ann, chat.id, images.encoded("JPEG"))
    assert media.files == {}


async def test_only_so_many_images_are_decoded_at_once(clock, monkeypatch):
    store = InMemoryStore(clock)
    service = MediaService(InMemoryMediaStore(), store.chats, workers=2)
    running, peak = 0, 0
    real = checks.process_image

    def counting(raw, max_bytes):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            return real(raw, max_bytes)
        finally:
            running -= 1

    monkeypatch.setattr("chat_web.services.media.process_image", counting)
    data = images.encoded("JPEG", (1200, 900))
    results = await asyncio.gather(*(service.prepare(data) for _ in range(6)))
    assert len(results) == 6 and peak <= 2


async def test_without_a_media_store_images_are_a_clear_503(clock):
    store = InMemoryStore(clock)
    chats = ChatService(store.users, store.chats, store.messages, InProcessFanOut(), clock)
    ann = await store.users.get_or_create("ann@example.com", "ann")
    with pytest.raises(ServiceUnavailable, match="Images are not set up"):
        await chats.send_image(ann, "chat", b"x")
