"""The local store's images, files and voice recordings, served to the members of their chat only.

GET /api/v1/media/<id> and /api/v1/media/<id>/thumb (images only). The id is 32 random URL-safe characters
and nothing else is accepted (no dots, no slashes: no traversal); there is no listing. The
Content-Type comes from our own record of the file, with `nosniff`, a sandboxing CSP and
`Content-Disposition: inline`, so no browser reads the bytes as anything but that image.
Images on Cloudinary are served by Cloudinary: here they are 404.

A file is always a download (`Content-Disposition: attachment` with its cleaned name, RFC 6266
`filename*` and an ASCII `filename`), as application/octet-stream when its type is one a
browser could run or render; a voice recording is inline, as its audio type.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse

from chat_web import container
from chat_web.adapters.media.local import ID_PATTERN
from chat_web.api import PREFIX
from chat_web.api.deps import CurrentViewer
from chat_web.api.schemas import ErrorOut
from chat_web.domain import MediaRecord, User
from chat_web.domain.files import attachment_disposition, served_type
from chat_web.services.media import MediaService

router = APIRouter(prefix=PREFIX, tags=["media"])

MediaId = Annotated[str, Path(pattern=ID_PATTERN, min_length=32, max_length=32)]
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_responses = {
    200: {
        "description": "The image, the file (a download) or the voice recording.",
        "content": {kind: {} for kind in (*_IMAGE_TYPES, "audio/webm", "application/octet-stream", "*/*")},
    },
    **{code: {"model": ErrorOut} for code in (401, 404, 422, 503)},
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": "inline",
    # The file at an id never changes; `private`: only the member's own browser keeps it.
    "Cache-Control": "private, max-age=31536000, immutable",
    "Cross-Origin-Resource-Policy": "same-site",
}


async def media_service() -> MediaService:  # a coroutine: no thread-pool hop (chat_web/api/deps.py)
    return container.current().media


Media = Annotated[MediaService, Depends(media_service)]


async def _serve(media: MediaService, me: User, public_id: str, thumb: bool) -> FileResponse:
    record: MediaRecord = await media.open_for(me, public_id, thumb)
    if record.kind == "file":
        # Checked again here, not only when stored: what a browser could run is never served as such.
        headers = {**HEADERS, "Content-Disposition": attachment_disposition(record.name)}
        return FileResponse(
            record.path, media_type=served_type(record.content_type, record.name), headers=headers
        )
    return FileResponse(record.path, media_type=record.content_type, headers=HEADERS)


@router.get("/media/{media_id}", response_class=FileResponse, responses=_responses)
async def image(media_id: MediaId, me: CurrentViewer, media: Media) -> FileResponse:
    """An image of one of my chats, full size, a file (as a download) or a voice recording. Send the
    Bearer token; a browser's <img>, <audio> or link sends the page's session cookie instead.
    Another chat's is 404, like one that does not exist."""
    return await _serve(media, me, media_id, thumb=False)


@router.get("/media/{media_id}/thumb", response_class=FileResponse, responses=_responses)
async def thumbnail(media_id: MediaId, me: CurrentViewer, media: Media) -> FileResponse:
    """The same image's thumbnail (at most 320x320)."""
    return await _serve(media, me, media_id, thumb=True)
