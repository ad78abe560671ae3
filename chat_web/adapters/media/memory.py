"""InMemoryMediaStore: images, files and voice recordings in dicts, for unit tests of the
services (served like the local store)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chat_web.adapters.media.local import new_media_id
from chat_web.domain import Attachment, Image, MediaRecord, ProcessedImage


class InMemoryMediaStore:
    backend = "memory"

    def __init__(self, url_prefix: str = "/api/v1/media"):
        self.url_prefix = url_prefix
        self.files: dict[str, tuple[str, ProcessedImage]] = {}  # id -> (chat id, image)
        # id -> (chat id, kind, content type, name, bytes): files and voice recordings
        self.blobs: dict[str, tuple[str, str, str, str, bytes]] = {}

    async def save(self, chat_id: str, image: ProcessedImage) -> Image:
        public_id = new_media_id()
        self.files[public_id] = (chat_id, image)
        return Image(f"{self.url_prefix}/{public_id}", public_id, image.width, image.height)

    async def save_file(self, chat_id, kind, read, content_type, name) -> tuple[str, str, int]:
        data = b""
        while chunk := await read(1024 * 1024):
            data += chunk
        public_id = new_media_id()
        self.blobs[public_id] = (chat_id, kind, content_type, name, data)
        return public_id, f"{self.url_prefix}/{public_id}", len(data)

    async def delete(self, public_id: str) -> None:
        self.files.pop(public_id, None)
        self.blobs.pop(public_id, None)

    async def chunks(self, image: Image | Attachment) -> AsyncIterator[bytes]:
        if found := self.files.get(image.public_id):
            yield found[1].data
        elif found := self.blobs.get(image.public_id):
            yield found[4]

    async def record(self, public_id: str, thumb: bool = False) -> MediaRecord | None:
        if public_id in self.blobs and not thumb:
            chat_id, kind, content_type, name, data = self.blobs[public_id]
            return MediaRecord(public_id, chat_id, content_type, f"memory:{public_id}", len(data), kind, name)
        found = self.files.get(public_id)
        if found is None:
            return None
        chat_id, image = found
        size = len(image.thumb if thumb else image.data)
        return MediaRecord(public_id, chat_id, image.content_type, f"memory:{public_id}", size)
