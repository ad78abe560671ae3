"""Download my data: the time to build one person's zip, and the memory it takes.

    python -m benchmarks.export                       # 10,000 messages, 100 images, SQLite
    python -m benchmarks.export --messages 20000 --images 200 --database-url postgresql://...

A person with `--messages` messages in 10 chats (half theirs) and `--images` photos they sent
(each a 1600x1200 JPEG as the app stores it, ~0.5 MB) is exported by the app's own service,
in process, on the embedded setup (SQLite under a temporary DATA_DIR, images on the local
disk store). Reported, twice over:

* the export: wall time from start to a ready zip, the zip's size, and the peak of memory
  allocated by Python while it ran (tracemalloc), and the growth of the resident set;
* the floor, in the same run: reading the same messages page by page (`page_after`, the
  export's own reads) and the same image files, with nothing written.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.common import table
from benchmarks.images import photo_jpeg
from chat_web import container
from chat_web.config import Settings
from chat_web.domain import NewMessage
from chat_web.services.exports import PAGE
from chat_web.services.images import process_image

CHATS = 10
MB = 1024 * 1024


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def seed(app, messages: int, images: int):
    store = app.store
    me = await store.users.get_or_create("exporter@example.com", "Exporter")
    others = [await store.users.get_or_create(f"friend{i}@example.com", f"Friend {i}") for i in range(CHATS)]
    chats = [await store.chats.get_or_create_direct(me.id, other.id) for other in others]
    photo = await asyncio.to_thread(process_image, photo_jpeg(2 * MB, (3200, 2400)), 5 * MB)
    for i in range(images):
        stored = await app.media.save(chats[i % CHATS].id, photo)
        await store.messages.send(NewMessage(chats[i % CHATS].id, me.id, "image", f"photo {i}", stored))
    for i in range(messages - images):
        chat = chats[i % CHATS]
        sender = me.id if i % 2 else chat.member_ids[1] if chat.member_ids[0] == me.id else chat.member_ids[0]
        text = f"message {i}: " + "a few words of an ordinary chat message " * (1 + i % 3)
        await store.messages.send(NewMessage(chat.id, sender, "text", text))
    return me, chats


async def floor(app, me, chats) -> float:
    """The export's reads alone: every page of every chat, and every image file of mine."""
    started = time.perf_counter()
    mine = []
    for chat in chats:
        after = 0
        while page := await app.store.messages.page_after(chat.id, after, PAGE):
            mine += [m.image for m in page if m.sender_id == me.id and m.image is not None]
            after = page[-1].seq
    for image in mine:
        async for _ in app.media.store.chunks(image):
            pass
    return time.perf_counter() - started


async def export_once(app, me, trace: bool) -> tuple[float, int, int, int]:
    """(seconds, zip bytes, peak bytes allocated, RSS growth); tracemalloc slows Python down,
    so the timed run and the traced run are separate exports."""
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    before = rss()
    started = time.perf_counter()
    job = await app.exports.start(me)
    while (job := await app.exports.status(me, job.id)).status == "running":
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert job.status == "ready", job
    return elapsed, job.size, peak, rss() - before


async def main(args) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(_env_file=None, data_dir=Path(data), database_url=args.database_url or "")
        async with container.running(settings):
            app = container.current()
            started = time.perf_counter()
            me, chats = await seed(app, args.messages, args.images)
            seeded = time.perf_counter() - started
            print(f"seeded {args.messages:,} messages and {args.images} images in {seeded:.1f} s")
            rows = []
            for round_ in (1, 2):
                floor_s = await floor(app, me, chats)
                elapsed, size, _, grown = await export_once(app, me, trace=False)
                peak = (await export_once(app, me, trace=True))[2]
                rows.append(
                    [
                        str(round_),
                        f"{elapsed:.2f} s",
                        f"{floor_s:.2f} s",
                        f"{size / MB:.1f} MB",
                        f"{peak / MB:.1f} MB",
                        f"{grown / MB:+.1f} MB",
                    ]
                )
    headers = ["round", "export", "floor (reads only)", "zip", "peak allocated", "RSS growth"]
    print(f"uptime: {os.getloadavg()[0]:.2f} (1-min load)")
    print(table(headers, rows))


if __name__ == "__main__":
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
