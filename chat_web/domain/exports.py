"""A person's own data as a download: the job that builds it and where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chat_web.domain.models import Attachment, Image, Message
from chat_web.domain.wire import message_json

ExportStatus = Literal["running", "ready", "failed"]


@dataclass(frozen=True, slots=True)
class ExportJob:
    id: str  # 32 random URL-safe characters: also the only part of the download's path
    user_id: str
    status: ExportStatus
    progress: float  # 0 to 1
    created_at: datetime
    expires_at: datetime  # the download is refused after this, and its file deleted
    size: int = 0  # bytes of the finished zip
    problem: str = ""  # why it failed, in words for the person


# Where an image's bytes go in the zip gets its extension from the stored type (the local
# store's URLs have none), or else from a Cloudinary URL's own.
IMAGE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


def image_extension_of(content_type: str | None, url: str) -> str:
    if content_type in IMAGE_EXTENSIONS:
        return IMAGE_EXTENSIONS[content_type]
    suffix = "." + url.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    suffix = ".jpg" if suffix == ".jpeg" else suffix
    return suffix if suffix in IMAGE_EXTENSIONS.values() else ""


def image_entry(image: Image, extension: str) -> str:
    """The image's path in the zip."""
    return f"images/{image.public_id.replace('/', '_')}{extension}"


def file_entry(attachment: Attachment) -> str:
    """A file's or a voice recording's path in the zip (its name was cleaned when stored: no
    path, no control characters)."""
    return f"files/{attachment.public_id}/{attachment.name}"


def exported_message(message: Message, seen: bool, media_path: str | None) -> dict[str, Any]:
    """A message as the API gives it (seen state, reply quote and all), except that its image,
    file or voice recording says where it is in the zip: `path`, or None when it is not there
    (someone else sent it). The address it has in the app (it works for a member signed in,
    while the message lasts) is kept as `originalUrl` (and an image's `originalThumbUrl`)."""
    out = message_json(message, seen)
    for key in ("image", "file", "voice"):
        media = out[key]
        if media is None:
            continue
        moved = {"path": media_path, "originalUrl": media.pop("url")}
        if "thumbUrl" in media:
            moved["originalThumbUrl"] = media.pop("thumbUrl")
        out[key] = {**moved, **media}
    return out
