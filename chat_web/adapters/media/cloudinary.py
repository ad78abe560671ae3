"""CloudinaryMediaStore: images uploaded to Cloudinary (CLOUDINARY_URL), folder `chat-images`.

The SDK is synchronous (urllib3): every call runs in a worker thread, never on the event
loop. Its options are passed per call rather than through its global config, so nothing
else in the process is changed. What is uploaded is our re-encoded image (checked and
stripped before it leaves); the thumbnail is a Cloudinary transformation of it
(chat_web.domain.thumbnail_url), so only one file is stored per image. Cloudinary serves
the files itself: `record` is None, and the app's media route has nothing to serve.

CLOUDINARY_URL is cloudinary://<api key>:<api secret>@<cloud name>; query parameters are
SDK options, e.g. ?upload_prefix=http://127.0.0.1:9000 to point it at a stand-in server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary
import cloudinary.exceptions
import cloudinary.uploader
import httpx

from chat_web.adapters.media.local import new_media_id
from chat_web.domain import Image, MediaRecord, ProcessedImage, ServiceUnavailable

log = logging.getLogger(__name__)

FOLDER = "chat-images"
TIMEOUT_SECONDS = 60
UNAVAILABLE = "Image storage cannot be reached; try again shortly."


def cloudinary_options(url: str) -> dict[str, str]:
    """The SDK's per-call options from a CLOUDINARY_URL."""
    parts = urlsplit(url)
    options = {
        "cloud_name": parts.hostname or "",
        "api_key": unquote(parts.username or ""),
        "api_secret": unquote(parts.password or ""),
    }
    options.update(parse_qsl(parts.query))
    return options


class CloudinaryMediaStore:
    backend = "cloudinary"

    def __init__(self, url: str):
        self._options = cloudinary_options(url)
        self.upload_prefix = self._options.get("upload_prefix", "")

    async def save(self, chat_id: str, image: ProcessedImage) -> Image:
        result = await self._call(
            cloudinary.uploader.upload,
            (f"image.{image.extension}", image.data),
            folder=FOLDER,
            public_id=new_media_id(),
            resource_type="image",
            overwrite=False,
            unique_filename=False,
            tags=[f"chat-{chat_id}"],
        )
        try:
            return Image(
                str(result["secure_url"]),
                str(result["public_id"]),
                int(result.get("width") or image.width),
                int(result.get("height") or image.height),
            )
        except (KeyError, TypeError, ValueError):
            log.warning("Cloudinary answered an upload without secure_url/public_id: %r", result)
            raise ServiceUnavailable(UNAVAILABLE) from None

    async def delete(self, public_id: str) -> None:
        await self._call(cloudinary.uploader.destroy, public_id, resource_type="image", invalidate=True)

    async def chunks(self, image: Image) -> AsyncIterator[bytes]:
        """From Cloudinary's delivery URL (the image is public there, under its unguessable id)."""
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
                async with http.stream("GET", image.url) as got:
                    got.raise_for_status()
                    async for chunk in got.aiter_bytes(256 * 1024):
                        yield chunk
        except httpx.HTTPError as exc:
            log.warning("Cloudinary image %s not read: %s", image.public_id, exc)
            raise ServiceUnavailable(UNAVAILABLE) from exc

    async def record(self, public_id: str, thumb: bool = False) -> MediaRecord | None:
        return None  # served by Cloudinary

    async def _call(self, function, *args, **kwargs) -> dict:
        try:
            return await asyncio.to_thread(
                function, *args, timeout=TIMEOUT_SECONDS, **kwargs, **self._options
            )
        except (cloudinary.exceptions.Error, OSError) as exc:
            # The SDK's words go to the log; the user reads that the service is missing.
            log.warning("Cloudinary call %s failed: %s", function.__name__, exc)
            raise ServiceUnavailable(UNAVAILABLE) from exc
