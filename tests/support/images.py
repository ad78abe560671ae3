"""Image files for the tests and the benchmark: good ones of each type, and the bad ones."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import ExifTags, Image

GPS_LATITUDE = (48.0, 51.0, 24.0)


def picture(size=(640, 480), mode="RGB") -> Image.Image:
    """A picture with some detail (a gradient and stripes), so encoders have work to do."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert(mode)
    stripes = Image.new(mode, (max(1, width // 16), height), "white" if mode != "P" else 255)
    for x in range(0, width, width // 8 or 1):
        image.paste(stripes, (x, 0))
    return image


def encoded(fmt: str, size=(640, 480), **options) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    picture(size, mode).save(out, fmt, **options)
    return out.getvalue()


def animated_gif(frames: int = 4, size=(200, 150)) -> bytes:
    images = [Image.new("RGB", size, (60 * i % 256, 80, 160)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=90, loop=0)
    return out.getvalue()


def jpeg_with_gps(size=(400, 200), orientation: int = 6) -> bytes:
    """A photo as phones write them: GPS position and an orientation (6: turn 90° to show)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 21.0, 0.0),
    }
    out = io.BytesIO()
    picture(size).save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def noise_jpeg(target_bytes: int) -> bytes:
    """A JPEG of random pixels, about `target_bytes` long (noise hardly compresses)."""
    side = int((target_bytes / 1.1) ** 0.5)
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        data = out.getvalue()
        if len(data) >= target_bytes * 0.97:
            return data
        side = int(side * 1.05)


def text_as_png() -> bytes:
    return b"Dear Ada,\nthis is only text in a file called photo.png.\n" * 20


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'


def html_jpeg_polyglot() -> bytes:
    """A real JPEG that also carries a page: HTML in a comment segment right after the start."""
    jpeg = encoded("JPEG", (64, 64))
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    comment = b"\xff\xfe" + struct.pack(">H", len(html) + 2) + html
    return jpeg[:2] + comment + jpeg[2:]


def truncated_jpeg() -> bytes:
    whole = noise_jpeg(200_000)
    return whole[: len(whole) // 2]


def png_bomb(side: int = 20_000) -> bytes:
    """A valid PNG of side x side black pixels (1 bit each): tiny on disk, 400 megapixels decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compressed) + chunk(b"IEND", b"")
