"""Files and voice messages: the rules for names, types and sizes, and the stored record.

Pure: the name an uploader gave is cleaned once, before it is stored; the type a file is
served as is decided here; nothing here reads a file.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from chat_web.domain.models import Attachment

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_VOICE_BYTES = 8 * 1024 * 1024  # 5 minutes of Opus at 128 kbit/s is under 5 MB
MAX_VOICE_MS = 5 * 60 * 1000
NAME_MAX = 120  # characters of a stored file name
VOICE_NAME = "voice.webm"
VOICE_TYPE = "audio/webm"
OCTET_STREAM = "application/octet-stream"

EMPTY_FILE = "That file is empty."
NOT_AUDIO = "That recording is not a voice message (Opus or Vorbis audio in WebM)."


def too_large(noun: str, max_bytes: int) -> str:
    """The 413 sentence: `Files up to 25 MB`."""
    return f"{noun} up to {max_bytes / (1024 * 1024):g} MB"


def size_label(size: int) -> str:
    """A size as a person reads it: 812 B, 14 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


# --- names --------------------------------------------------------------------------------

_UNSAFE = re.compile(r'["\\/]')  # quotes and both path separators


def clean_file_name(raw: object) -> str:
    """The name a file is stored and offered under: the last part of whatever path the
    client sent, without control or format characters (a right-to-left override could
    disguise `exe.txt`), quotes or separators, trimmed, at most NAME_MAX characters with the
    extension kept; "file" when nothing is left."""
    name = raw if isinstance(raw, str) else ""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ")
    name = _UNSAFE.sub("", unicodedata.normalize("NFC", name))
    name = " ".join(name.split()).strip(" .")  # no hidden dot-files, no trailing dots (Windows)
    if not name:
        return "file"
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: NAME_MAX - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:NAME_MAX]
    return name


def ascii_name(name: str) -> str:
    """The plain `filename=` fallback for clients that do not read `filename*` (RFC 6266 4.3):
    accents dropped, anything else outside a small safe set replaced."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", plain).strip(" .")
    return plain or "file"


def attachment_disposition(name: str) -> str:
    """`Content-Disposition` offering the file for download under its (already clean) name."""
    encoded = quote(name, safe="")
    return f"attachment; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{encoded}"


# --- types --------------------------------------------------------------------------------

_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
# Types a browser would run, render as a document, or a system would execute: never served as
# themselves, even as an attachment.
_ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/xsl",
    "application/xslt+xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "text/ecmascript",
    "application/wasm",
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/x-ms-installer",
    "application/x-msi",
    "application/x-executable",
    "application/x-elf",
    "application/x-mach-binary",
    "application/x-sh",
    "application/x-shellscript",
    "application/x-csh",
    "application/java-archive",
    "application/vnd.microsoft.portable-executable",
    "application/hta",
    "text/vbscript",
    "application/x-httpd-php",
    "application/pdf+html",
    "multipart/x-mixed-replace",
}
_ACTIVE_EXTENSIONS = {
    "html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "xslt", "js", "mjs", "cjs",
    "wasm", "exe", "com", "bat", "cmd", "msi", "dll", "scr", "pif", "cpl", "hta", "jar", "sh",
    "ps1", "vbs", "vbe", "jse", "wsf", "lnk", "app", "apk", "php", "elf", "bin", "run",
}  # fmt: skip


def served_type(declared: object, name: str) -> str:
    """The type a file is stored and served as: the one the client declared when it is a well
    formed type that cannot run or render as a page, else application/octet-stream (also
    whenever the name's extension is such a type, whatever was declared)."""
    kind = declared.split(";")[0].strip().lower() if isinstance(declared, str) else ""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if not _TYPE.match(kind) or kind in _ACTIVE_TYPES or extension in _ACTIVE_EXTENSIONS:
        return OCTET_STREAM
    if kind.endswith(("+xml", "/x-sh", "script")):
        return OCTET_STREAM
    return kind


# --- the stored record ----------------------------------------------------------------------


def attachment_record(attachment: Attachment | None) -> dict[str, Any] | None:
    """What storage keeps of an attachment (a JSON column in SQL, a subdocument in MongoDB)."""
    if attachment is None:
        return None
    return {
        "url": attachment.url,
        "publicId": attachment.public_id,
        "name": attachment.name,
        "size": attachment.size,
        "contentType": attachment.content_type,
        "durationMs": attachment.duration_ms,
    }


def attachment_of(record: dict[str, Any] | None) -> Attachment | None:
    if not record:
        return None
    return Attachment(
        url=str(record["url"]),
        public_id=str(record["publicId"]),
        name=str(record.get("name", "")),
        size=int(record.get("size", 0)),
        content_type=str(record.get("contentType", OCTET_STREAM)),
        duration_ms=int(record.get("durationMs", 0)),
    )
