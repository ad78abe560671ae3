"""Images: turning an upload into a stored, cleaned image, and who may fetch one back.

The decoding and resizing (services/images.py) runs in worker threads, at most `workers`
at a time: uploads beyond that wait their turn instead of each holding a decoded image in
memory at once, and the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chat_web.domain import ChatError, Image, MediaRecord, NotFound, ProcessedImage, TooLarge, User
from chat_web.ports import ChatRepo, MediaStore
from chat_web.services.images import MAX_IMAGE_BYTES, process_image, too_many_bytes

log = logging.getLogger(__name__)

NO_SUCH_IMAGE = "No such image."


@dataclass(frozen=True, slots=True)
class ImageUpload:
    """An uploaded file that need not be in memory yet (the API's spools to disk): its size if
    known, and how to read up to n bytes of it. It is read only when its turn to be decoded
    comes, so uploads waiting for a worker hold no copy of their file."""

    size: int | None
    read: Callable[[int], Awaitable[bytes]]

    @classmethod
    def of(cls, data: bytes) -> ImageUpload:
        async def read(limit: int) -> bytes:
            return data[:limit]

        return cls(len(data), read)


class MediaService:
    def __init__(
        self, store: MediaStore, chats: ChatRepo, *, max_bytes: int = MAX_IMAGE_BYTES, workers: int = 2
    ):
        self.store = store
        self._chats = chats
        self.max_bytes = max_bytes
        self._slots = asyncio.Semaphore(workers)

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise TooLarge(too_many_bytes(self.max_bytes))

    async def prepare(self, upload: ImageUpload | bytes) -> ProcessedImage:
        """Check and re-encode an upload off the event loop; ChatError with the reason if refused."""
        if isinstance(upload, bytes):
            upload = ImageUpload.of(upload)
        if upload.size is not None:
            self.check_size(upload.size)
        async with self._slots:
            raw = await upload.read(self.max_bytes + 1)  # one byte more tells a file over the limit
            self.check_size(len(raw))
            return await asyncio.to_thread(process_image, raw, self.max_bytes)

    async def save(self, chat_id: str, image: ProcessedImage) -> Image:
        return await self.store.save(chat_id, image)

    async def discard(self, image: Image) -> None:
        """Delete an image no message will show (a retried send, a failed one, a deleted
        message); never raises."""
        try:
            await self.store.delete(image.public_id)
        except ChatError as exc:
            log.warning("image %s not deleted: %s", image.public_id, exc.message)
        except Exception:  # noqa: BLE001 - the send's own outcome matters more than this cleanup
            log.exception("image %s not deleted", image.public_id)

    async def open_for(self, me: User, public_id: object, thumb: bool = False) -> MediaRecord:
        """The file of an image in one of my chats. Unknown, or another chat's: the same NotFound,
        so an outsider cannot even tell that the image exists."""
        if not isinstance(public_id, str):
            raise NotFound(NO_SUCH_IMAGE)
        record = await self.store.record(public_id, thumb)
        if record is None or await self._chats.member(record.chat_id, me.id) is None:
            raise NotFound(NO_SUCH_IMAGE)
        return record
