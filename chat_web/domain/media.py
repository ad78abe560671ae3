"""What the media port stores: an image already checked, cleaned and resized, a file or a voice
recording, and the record the app serves them by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """A validated image, re-encoded without metadata: the full size and its thumbnail."""

    data: bytes
    content_type: str  # image/jpeg, image/png, image/gif or image/webp: from the bytes, never the name
    extension: str  # jpg, png, gif, webp
    width: int
    height: int
    thumb: bytes
    thumb_width: int
    thumb_height: int
    frames: int = 1


@dataclass(frozen=True, slots=True)
class MediaRecord:
    """What the app itself serves for one stored image (the local store): whose chat it is in and
    what it is, from our own record, never from the file's name or bytes."""

    public_id: str
    chat_id: str
    content_type: str
    path: str  # the file on disk: the full size or the thumbnail
    size: int
    kind: str = "image"  # image, file or voice: how it is served (chat_web/api/media.py)
    name: str = ""  # a file's cleaned name (domain/files.py), offered when it is downloaded
