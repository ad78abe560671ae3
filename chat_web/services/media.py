"""Media: turning an upload into a stored, cleaned image, a stored file or a checked voice
recording, and who may fetch one back.

The decoding and resizing (services/images.py) runs in worker threads, at most `workers`
at a time: uploads beyond that wait their turn instead of each holding a decoded image in
memory at once, and the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chat_web.domain import (
    Attachment,
    BadInput,
    ChatError,
    Image,
    MediaRecord,
    NotFound,
    ProcessedImage,
    TooLarge,
    User,
)
from chat_web.domain.files import (
    EMPTY_FILE,
    MAX_FILE_BYTES,
    MAX_VOICE_BYTES,
    VOICE_NAME,
    VOICE_TYPE,
    clean_file_name,
    served_type,
    too_large,
)
from chat_web.ports import ChatRepo, FileStore, MediaStore
from chat_web.services.images import MAX_IMAGE_BYTES, process_image, too_many_bytes
from chat_web.services.voice import EMPTY_RECORDING, check_voice

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
        taken = 0

        async def read(limit: int) -> bytes:  # like a file's read: the next bytes, b"" at the end
            nonlocal taken
            chunk = data[taken : taken + limit]
            taken += len(chunk)
            return chunk

        return cls(len(data), read)


Upload = ImageUpload  # a file or a voice recording arrives the same way


def counted(read: Callable[[int], Awaitable[bytes]], max_bytes: int, detail: str):
    """`read`, refusing (TooLarge) as soon as more than `max_bytes` came through it: a file is
    never taken whole before its size is known to be right."""
    total = 0

    async def read_counted(limit: int) -> bytes:
        nonlocal total
        chunk = await read(limit)
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(detail)
        return chunk

    return read_counted


class MediaService:
    def __init__(
        self,
        store: MediaStore,
        chats: ChatRepo,
        *,
        max_bytes: int = MAX_IMAGE_BYTES,
        workers: int = 2,
        files: FileStore | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_voice_bytes: int = MAX_VOICE_BYTES,
    ):
        self.store = store
        # Files and voice recordings: the local store, even when images go to Cloudinary.
        self.files = files if files is not None else store
        self._chats = chats
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes
        self.max_voice_bytes = max_voice_bytes
        self._slots = asyncio.Semaphore(workers)

    @property
    def upload_limits(self) -> dict[str, tuple[int, str]]:
        """Each upload field's limit and the sentence that refuses it (413)."""
        return {
            "image": (self.max_bytes, too_many_bytes(self.max_bytes)),
            "file": (self.max_file_bytes, too_large("Files", self.max_file_bytes)),
            "voice": (self.max_voice_bytes, too_large("Voice messages", self.max_voice_bytes)),
        }

    def check_upload_size(self, field: str, size: int | None) -> None:
        """An upload whose size is known is refused before anything is read: empty or too large."""
        if size is None:
            return
        if size == 0 and field != "image":  # an empty image is "not an image" (services/images.py)
            raise BadInput(EMPTY_FILE if field == "file" else EMPTY_RECORDING)
        max_bytes, detail = self.upload_limits[field]
        if size > max_bytes:
            raise TooLarge(detail)

    async def save_file(
        self, chat_id: str, upload: Upload, name: object, declared_type: object
    ) -> Attachment:
        """Store a file as it comes, counting (refused past the limit, nothing kept): any type,
        served later as an attachment under its cleaned name."""
        self.check_upload_size("file", upload.size)
        clean_name = clean_file_name(name)
        content_type = served_type(declared_type, clean_name)
        max_bytes, detail = self.upload_limits["file"]
        public_id, url, size = await self.files.save_file(
            chat_id, "file", counted(upload.read, max_bytes, detail), content_type, clean_name
        )
        if size == 0:
            await self.files.delete(public_id)
            raise BadInput(EMPTY_FILE)
        return Attachment(url, public_id, clean_name, size, content_type)

    async def save_voice(self, chat_id: str, upload: Upload) -> Attachment:
        """Check that a recording is Opus or Vorbis in WebM and measure it, then store it."""
        self.check_upload_size("voice", upload.size)
        max_bytes, detail = self.upload_limits["voice"]
        data = await upload.read(max_bytes + 1)  # one byte more tells a file over the limit
        if len(data) > max_bytes:
            raise TooLarge(detail)
        info = await asyncio.to_thread(check_voice, data)
        sent = False

        async def read(limit: int) -> bytes:
            nonlocal sent
            if sent:
                return b""
            sent = True
            return data

        public_id, url, size = await self.files.save_file(chat_id, "voice", read, VOICE_TYPE, VOICE_NAME)
        return Attachment(url, public_id, VOICE_NAME, size, VOICE_TYPE, info.duration_ms)

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

    async def discard_file(self, attachment: Attachment) -> None:
        """Delete a file or voice recording no message will show; never raises."""
        try:
            await self.files.delete(attachment.public_id)
        except Exception:  # noqa: BLE001 - the send's own outcome matters more than this cleanup
            log.exception("file %s not deleted", attachment.public_id)

    async def open_for(self, me: User, public_id: object, thumb: bool = False) -> MediaRecord:
        """The file of an image, a file or a voice recording in one of my chats. Unknown, or
        another chat's: the same NotFound, so an outsider cannot even tell that it exists."""
        if not isinstance(public_id, str):
            raise NotFound(NO_SUCH_IMAGE)
        record = await self.store.record(public_id, thumb)
        if record is None and self.files is not self.store:
            record = await self.files.record(public_id, thumb)
        if record is None or await self._chats.member(record.chat_id, me.id) is None:
            raise NotFound(NO_SUCH_IMAGE)
        return record
