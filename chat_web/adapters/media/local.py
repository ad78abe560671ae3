"""LocalMediaStore: images, files and voice recordings under MEDIA_DIR, served by the app itself
(chat_web/api/media.py). Files and voice recordings are kept here even when images go to
Cloudinary (README "Files and voice messages").

Each image gets a random 32-character id (192 bits): its folder, and the only part of its
URL. Next to the two files sits our record of them (the chat they belong to, their type),
so nothing the uploader chose (a name, a declared type) is ever read back, and serving
needs no database column. Writes go to a scratch folder first and are renamed into place:
a reader never sees half an image.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from chat_web.domain import Attachment, Image, MediaRecord, ProcessedImage

ID_PATTERN = r"^[A-Za-z0-9_-]{32}$"
_ID_RE = re.compile(ID_PATTERN)
_RECORD = "record.json"
_FILE = "file.bin"  # a file's or a voice recording's bytes, whatever its name was
CHUNK = 1024 * 1024  # a file upload copied into the store a piece at a time
CHUNK_BYTES = 256 * 1024


def new_media_id() -> str:
    return secrets.token_urlsafe(24)  # 24 random bytes: 32 URL-safe characters


class LocalMediaStore:
    backend = "local"

    def __init__(self, root: Path, url_prefix: str):
        self.root = root
        self.url_prefix = url_prefix.rstrip("/")  # e.g. /api/v1/media

    def _folder(self, public_id: str) -> Path | None:
        # The id's own shape is the traversal guard: no dots, no slashes, nothing but the alphabet.
        if not isinstance(public_id, str) or not _ID_RE.match(public_id):
            return None
        return self.root / public_id[:2] / public_id

    async def save(self, chat_id: str, image: ProcessedImage) -> Image:
        public_id = new_media_id()
        await asyncio.to_thread(self._write, public_id, chat_id, image)
        return Image(f"{self.url_prefix}/{public_id}", public_id, image.width, image.height)

    def _write(self, public_id: str, chat_id: str, image: ProcessedImage) -> None:
        folder = self._folder(public_id)
        scratch = self.root / ".incoming" / public_id
        scratch.mkdir(parents=True)
        try:
            (scratch / f"image.{image.extension}").write_bytes(image.data)
            (scratch / f"thumb.{image.extension}").write_bytes(image.thumb)
            record = {"chatId": chat_id, "contentType": image.content_type, "extension": image.extension}
            (scratch / _RECORD).write_text(json.dumps(record))
            folder.parent.mkdir(parents=True, exist_ok=True)
            scratch.rename(folder)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise

    async def save_file(
        self, chat_id: str, kind: str, read: Callable[[int], Awaitable[bytes]], content_type: str, name: str
    ) -> tuple[str, str, int]:
        """Store a file or a voice recording, read in chunks until b"": (id, url, size)."""
        public_id = new_media_id()
        scratch = self.root / ".incoming" / public_id
        await asyncio.to_thread(scratch.mkdir, parents=True)
        try:
            size = 0
            with open(scratch / _FILE, "wb") as out:  # noqa: ASYNC230 - each write runs in a thread
                while chunk := await read(CHUNK):
                    size += len(chunk)
                    await asyncio.to_thread(out.write, chunk)
            record = {"chatId": chat_id, "contentType": content_type, "kind": kind, "name": name}
            await asyncio.to_thread(self._place, scratch, public_id, record)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
            raise
        return public_id, f"{self.url_prefix}/{public_id}", size

    def _place(self, scratch: Path, public_id: str, record: dict) -> None:
        (scratch / _RECORD).write_text(json.dumps(record))
        folder = self._folder(public_id)
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch.rename(folder)

    async def delete(self, public_id: str) -> None:
        folder = self._folder(public_id)
        if folder is not None:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    async def chunks(self, image: Image | Attachment) -> AsyncIterator[bytes]:
        """The stored file, a piece at a time: an image's full size, a file, a recording."""
        record = await self.record(image.public_id)
        if record is None:
            return
        with open(record.path, "rb") as handle:  # noqa: ASYNC230 - each read below is in a thread
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk

    async def record(self, public_id: str, thumb: bool = False) -> MediaRecord | None:
        folder = self._folder(public_id)
        if folder is None:
            return None
        return await asyncio.to_thread(self._read, public_id, folder, thumb)

    @staticmethod
    def _read(public_id: str, folder: Path, thumb: bool) -> MediaRecord | None:
        try:
            record = json.loads((folder / _RECORD).read_text())
            kind = record.get("kind", "image")
            if kind != "image" and thumb:
                return None  # only images have thumbnails
            name = _FILE if kind != "image" else f"{'thumb' if thumb else 'image'}.{record['extension']}"
            path = folder / name
            size = path.stat().st_size
        except (OSError, ValueError, KeyError):
            return None
        return MediaRecord(
            public_id, record["chatId"], record["contentType"], str(path), size, kind, record.get("name", "")
        )
