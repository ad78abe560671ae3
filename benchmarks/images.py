"""Image uploads on the local store: upload-to-thumbnail latency, and the server's memory.

    python -m benchmarks.images                  # 30 sequential uploads, then 10 at once
    python -m benchmarks.images --uploads 60 --concurrent 10

The API runs as its own server process (granian, one worker, SQLite, embedded defaults, the
default IMAGE_WORKERS=2) on 127.0.0.1. The file is a 4 MB JPEG of 12 megapixels (4000x3000,
a gradient under noise, like a phone photo's detail). Latency: from the start of
POST /api/v1/message (multipart) until GET of the returned thumbUrl has answered 200, one
upload at a time. Memory: the peak resident set of the server's processes (VmHWM, reset
through /proc/<pid>/clear_refs before the burst) while `--concurrent` uploads run at once,
less its resident set before the burst, per upload in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from PIL import Image

from benchmarks.common import percentile, table
from tests.support import api_server
from tests.support.limits import lifted_limits_env
from tests.support.processes import HOST, serve
from tests.support.sign_in import outbox_codes, sign_in

MB = 1024 * 1024


def photo_jpeg(target: int = 4 * MB, size=(4000, 3000)) -> bytes:
    """A JPEG of `size` close to `target` bytes: the quality is searched for."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    photo = Image.merge("RGB", (gradient, noise, Image.blend(gradient, noise, 0.5)))
    best = b""
    low, high = 30, 98
    while low <= high:
        quality = (low + high) // 2
        out = io.BytesIO()
        photo.save(out, "JPEG", quality=quality)
        data = out.getvalue()
        if len(data) <= target:
            best, low = data, quality + 1
        else:
            high = quality - 1
    return best


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                queue += [int(c) for c in (task / "children").read_text().split()]
    return found


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def rss(pids: list[int]) -> int:
    return sum(_status(p, "VmRSS") for p in pids)


def reset_peaks(pids: list[int]) -> None:
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak RSS to the current RSS


def peak(pids: list[int]) -> int:
    return sum(_status(p, "VmHWM") for p in pids)


async def upload(client: httpx.AsyncClient, headers: dict, chat_id: str, data: bytes) -> float:
    """Seconds from the start of the upload until the thumbnail can be fetched."""
    started = time.perf_counter()
    sent = await client.post(
        "/api/v1/message",
        data={"chatId": chat_id, "clientId": uuid.uuid4().hex},
        files={"image": ("photo.jpg", data, "image/jpeg")},
        headers=headers,
    )
    sent.raise_for_status()
    thumb = await client.get(sent.json()["image"]["thumbUrl"], headers=headers)
    thumb.raise_for_status()
    return time.perf_counter() - started


async def measure(base: str, pids: list[int], data_dir: Path, uploads: int, concurrent: int) -> None:
    with httpx.Client(base_url=f"{base}/api/v1", timeout=60) as api:
        codes = outbox_codes(data_dir / "outbox.jsonl")
        ann = sign_in(api, codes, f"ann-{uuid.uuid4().hex[:8]}@example.com")
        bob = sign_in(api, codes, f"bob-{uuid.uuid4().hex[:8]}@example.com")
        headers = {"Authorization": f"Bearer {ann['token']}"}
        chat_id = api.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=headers).json()[
            "chatId"
        ]
    data = photo_jpeg()
    with Image.open(io.BytesIO(data)) as image:
        described = f"{len(data) / MB:.2f} MB JPEG, {image.width}x{image.height}"
    limits = httpx.Limits(max_connections=concurrent + 2)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        await upload(client, headers, chat_id, data)  # warm-up: Pillow's codecs loaded, caches filled
        latencies = [await upload(client, headers, chat_id, data) for _ in range(uploads)]

        before = rss(pids)
        reset_peaks(pids)
        started = time.perf_counter()
        burst = await asyncio.gather(*(upload(client, headers, chat_id, data) for _ in range(concurrent)))
        burst_seconds = time.perf_counter() - started
        highest = peak(pids)

    per_upload = (highest - before) / concurrent
    print(f"\nImage uploads on the local store ({described}); {os.cpu_count()} cores\n")
    print(
        table(
            ["measure", "value"],
            [
                [
                    f"upload-to-thumbnail p50 ({uploads} in a row)",
                    f"{percentile(latencies, 50) * 1000:.0f} ms",
                ],
                [
                    f"upload-to-thumbnail p99 ({uploads} in a row)",
                    f"{percentile(latencies, 99) * 1000:.0f} ms",
                ],
                [f"{concurrent} at once: all done in", f"{burst_seconds:.2f} s (slowest {max(burst):.2f} s)"],
                ["server resident memory before the burst", f"{before / MB:.0f} MB"],
                [f"server peak while {concurrent} uploads run", f"{highest / MB:.0f} MB"],
                [
                    "peak growth per upload in flight",
                    f"{per_upload / MB:.1f} MB ({per_upload / len(data):.1f}x the file)",
                ],
            ],
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=30, help="sequential uploads for the latency")
    parser.add_argument("--concurrent", type=int, default=10, help="uploads at once for the memory peak")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-images-") as folder:
        data_dir = Path(folder)
        env = {
            **os.environ,
            **lifted_limits_env(),
            "DATA_DIR": str(data_dir),
            "REFLEX_ENV_MODE": "dev",
            **dict.fromkeys(
                ("DATABASE_URL", "REDIS_URL", "RABBITMQ_URL", "MONGODB_URI", "SMTP_HOST", "CLOUDINARY_URL"),
                "",
            ),
        }
        with serve(api_server.COMMAND, "/api/v1/health", data_dir / "server.log", env) as served:
            pids = _descendants(served.process.pid)
            asyncio.run(
                measure(f"http://{HOST}:{served.port}", pids, data_dir, args.uploads, args.concurrent)
            )


if __name__ == "__main__":
    main()
