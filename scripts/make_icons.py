"""Draw the installable app's icons into assets/icons (committed: they are source, not build output).

    python scripts/make_icons.py        # rewrites assets/icons/*.png

A white speech bubble on the app's accent (Radix indigo-9, #3e63dd, the accent of
rxconfig.py's theme). "any" icons are a rounded square with transparent corners;
the maskable one fills the whole square and keeps the bubble inside the central circle
of 80 % that every mask shape leaves visible. Drawn at four times the size and scaled
down, so the edges are smooth; saved as small palette PNGs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "assets" / "icons"
ACCENT = (0x3E, 0x63, 0xDD, 255)  # --indigo-9, light and dark
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 4


def _bubble(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """The bubble, centred, `scale` of the canvas wide, with its tail at the lower left."""
    width = size * scale
    height = width * 0.72
    left = (size - width) / 2
    top = (size - height) / 2 - size * 0.04
    right, bottom = left + width, top + height
    draw.rounded_rectangle((left, top, right, bottom), radius=height * 0.32, fill=WHITE)
    tail = [
        (left + width * 0.18, bottom - height * 0.05),
        (left + width * 0.10, bottom + height * 0.30),
        (left + width * 0.44, bottom - height * 0.05),
    ]
    draw.polygon(tail, fill=WHITE)
    # Three dots: a conversation, not an empty sign.
    dot = height * 0.085
    for i in (-1, 0, 1):
        cx, cy = size / 2 + i * width * 0.24, (top + bottom) / 2
        draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=ACCENT)


def icon(size: int, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=ACCENT)
        _bubble(draw, big, 0.50)  # well inside the 80 % safe circle
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=ACCENT)
        _bubble(draw, big, 0.62)
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


def save(image: Image.Image, path: Path) -> None:
    # A 64-colour palette keeps the antialiased edges and makes the files a few KB.
    image.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


ICON_FILES = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),  # iOS rounds the corners itself: a full square
}


def main() -> int:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, (size, maskable) in ICON_FILES.items():
        save(icon(size, maskable), ICONS / name)
        print(f"{ICONS / name}: {(ICONS / name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
