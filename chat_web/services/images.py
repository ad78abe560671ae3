"""Image uploads: check what the bytes really are, then re-encode them clean and small.

Pure and synchronous (Pillow is a library doing arithmetic on bytes, not a driver): the
media service runs it in a worker thread so it never blocks the event loop. Each refusal
is a ChatError with the sentence the user sees; nothing here stores anything.
"""

from __future__ import annotations

import io
import logging
import re
import warnings

from PIL import Image, ImageCms, ImageOps, ImageSequence, UnidentifiedImageError

from chat_web.domain import BadInput, ChatError, ProcessedImage, TooLarge
from chat_web.domain.models import THUMB_EDGE

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_ANIMATION_PIXELS = 200_000_000  # width x height x frames, before decoding any of them
FIT_EDGE = 1600  # the stored image fits FIT_EDGE x FIT_EDGE
JPEG_QUALITY = 85

NOT_AN_IMAGE = "That file is not an image"
TOO_MANY_PIXELS = "Image too large (max 40 megapixels)"
TOO_MANY_FRAMES = "Animation too large (max 200 megapixels over all its frames)"


def too_many_bytes(max_bytes: int = MAX_IMAGE_BYTES) -> str:
    return f"Images up to {max_bytes / (1024 * 1024):g} MB"


# Pillow format -> (Content-Type, extension): the only formats accepted.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# Markup anywhere in the bytes: an HTML/SVG polyglot that a browser could be talked into
# reading as a page. Image data matching this by chance is vanishingly unlikely.
_MARKUP = re.compile(rb"<(?:html|head|body|script|iframe|svg|object|embed|!doctype)[\s>/]", re.IGNORECASE)
_SRGB = ImageCms.createProfile("sRGB")


def process_image(raw: bytes, max_bytes: int = MAX_IMAGE_BYTES) -> ProcessedImage:
    """The image in `raw`, checked and re-encoded: fit FIT_EDGE, a THUMB_EDGE thumbnail, no metadata.

    Refused: more than `max_bytes`; anything Pillow does not read as JPEG, PNG, GIF or WebP
    (whatever its name said); markup inside; a truncated or corrupt file; more than
    MAX_PIXELS (read from the header, before any pixel is decoded).
    """
    if len(raw) > max_bytes:
        raise TooLarge(too_many_bytes(max_bytes))
    if not raw or _MARKUP.search(raw):
        raise BadInput(NOT_AN_IMAGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _process(raw)
    except ChatError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(TOO_MANY_PIXELS) from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a (whole) image"
        log.info("image refused: %s: %s", type(exc).__name__, exc)
        raise BadInput(NOT_AN_IMAGE) from None


def _process(raw: bytes) -> ProcessedImage:
    try:
        source = Image.open(io.BytesIO(raw), formats=list(FORMATS))  # reads the header only
    except UnidentifiedImageError:
        raise BadInput(NOT_AN_IMAGE) from None
    with source:
        content_type, extension = FORMATS[source.format]
        width, height = source.size
        if width * height > MAX_PIXELS:
            raise TooLarge(TOO_MANY_PIXELS)
        frames = getattr(source, "n_frames", 1)
        if frames > 1 and width * height * frames > MAX_ANIMATION_PIXELS:
            raise TooLarge(TOO_MANY_FRAMES)
        if frames > 1:
            full, thumb = _animated(source)
        else:
            full, thumb = _still(source)
        data = _encode(full, source.format, source.info)
        thumb_data = _encode(thumb, source.format, source.info)
        first = full[0]
        return ProcessedImage(
            data=data,
            content_type=content_type,
            extension=extension,
            width=first.width,
            height=first.height,
            thumb=thumb_data,
            thumb_width=thumb[0].width,
            thumb_height=thumb[0].height,
            frames=len(full),
        )


def _still(source: Image.Image) -> tuple[list[Image.Image], list[Image.Image]]:
    if source.format == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers the fitted size:
        # a 12-megapixel photo then never exists in memory at full size. (Asked for the box
        # itself, it would keep 4000x3000 whole: 3000 // 1600 is 1.)
        source.draft("RGB", _fitted(source.size, FIT_EDGE))
    source.load()  # a truncated or corrupt file fails here
    # Orientation applied before the EXIF goes (a turned copy, or the decoded image itself).
    image = ImageOps.exif_transpose(source) if _turned(source) else source
    image = _to_srgb(image, source.info.get("icc_profile"))
    image.thumbnail((FIT_EDGE, FIT_EDGE), Image.Resampling.LANCZOS)
    small = image.copy()
    small.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    return [image], [small]


def _fitted(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """`size` scaled down to fit edge x edge (never up)."""
    width, height = size
    scale = min(1.0, edge / max(width, height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _turned(image: Image.Image) -> bool:
    return image.getexif().get(0x0112, 1) not in (1, None)  # 0x0112: Orientation


def _animated(source: Image.Image) -> tuple[list[Image.Image], list[Image.Image]]:
    """Every frame kept, each resized; durations travel in each frame's info."""
    full, small = [], []
    for frame in ImageSequence.Iterator(source):
        frame.load()
        rgba = frame.convert("RGBA")
        rgba.info = {"duration": frame.info.get("duration", 100)}
        rgba.thumbnail((FIT_EDGE, FIT_EDGE), Image.Resampling.LANCZOS)
        thumb = rgba.copy()
        thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
        thumb.info = dict(rgba.info)
        full.append(rgba)
        small.append(thumb)
    return full, small


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels in sRGB with no colour profile attached (the profile is metadata too)."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    if icc:
        try:
            mode = "RGBA" if "A" in image.mode else "RGB"
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=mode) or image
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            log.info("colour profile ignored: %s", exc)
    return image


def _encode(frames: list[Image.Image], fmt: str, source_info: dict) -> bytes:
    """Encode afresh; nothing of the source's metadata (EXIF, XMP, comments, profile) is passed on."""
    durations = [f.info.get("duration", 100) for f in frames]
    for frame in frames:
        frame.info = {}
    out = io.BytesIO()
    first, rest = frames[0], frames[1:]
    animation = {}
    if rest:
        animation = {"save_all": True, "append_images": rest, "duration": durations}
        animation["loop"] = source_info.get("loop", 0)
    if fmt == "JPEG":
        if first.mode not in ("RGB", "L"):
            first = first.convert("RGB")
        first.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif fmt == "PNG":
        first.save(out, "PNG")
    elif fmt == "WEBP":
        first.save(out, "WEBP", quality=JPEG_QUALITY, **animation)
    else:  # GIF
        first.save(out, "GIF", **({**animation, "disposal": 2} if rest else {}))
    return out.getvalue()
