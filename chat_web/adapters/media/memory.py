"""InMemoryMediaStore: images in a dict, for unit tests of the services (served like the local store)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chat_web.adapters.media.local import new_media_id
from chat_web.domain import Image, MediaRecord, ProcessedImage


class InMemoryMediaStore:
    backend = "memory"

    def __init__(self, url_prefix: str = "/api/v1/media"):
        self.url_prefix = url_prefix
        self.files: dict[str, tuple[str, ProcessedImage]] = {}  # id -> (chat id, image)

    async def save(self, chat_id: str, image: ProcessedImage) -> Image:
        public_id = new_media_id()
        self.files[public_id] = (chat_id, image)
        return Image(f"{self.url_prefix}/{public_id}", public_id, image.width, image.height)

    async def delete(self, public_id: str) -> None:
        self.files.pop(public_id, None)

    async def chunks(self, image: Image) -> AsyncIterator[bytes]:
        if found := self.files.get(image.public_id):
            yield found[1].data

    async def record(self, public_id: str, thumb: bool = False) -> MediaRecord | None:
        found = self.files.get(public_id)
        if found is None:
            return None
        chat_id, image = found
        size = len(image.thumb if thumb else image.data)
        return MediaRecord(public_id, chat_id, image.content_type, f"memory:{public_id}", size)
