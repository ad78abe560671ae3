"""A multipart form whose files are counted as they arrive, each against its field's own limit.

Starlette's parser takes a file part whole (spooled to disk past 1 MB) before the route sees
it; the body limit at the edge (chat_web/api/limits.py) can only hold the largest upload's
limit, since it cannot tell an image from a file. Here each file part is counted while it is
parsed: an image stops at its 5th MB with "Images up to 5 MB" and a file at its 25th with
"Files up to 25 MB", before a byte more is written; a file field that is not an upload field
(or a second file) is refused at its first byte.
"""

from __future__ import annotations

from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartParser
from starlette.requests import Request

from chat_web.domain import BadInput, TooLarge

UPLOAD_ONLY_ONE = "Send one of image, file or voice."


class CountedMultiPart(MultiPartParser):
    """MultiPartParser that counts each file part against `limits[field] = (bytes, sentence)`."""

    def __init__(self, headers: Headers, stream, limits: dict[str, tuple[int, str]], **options):
        super().__init__(headers, stream, **options)
        self._limits = limits
        self._counted = 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._counted = 0

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        part = self._current_part
        if part.file is not None and part.field_name not in self._limits:
            raise BadInput(f"Unknown file field: {part.field_name!r}; {UPLOAD_ONLY_ONE}")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current_part
        if part.file is not None:
            self._counted += end - start
            max_bytes, detail = self._limits[part.field_name]
            if self._counted > max_bytes:
                raise TooLarge(detail)
        super().on_part_data(data, start, end)


async def counted_form(request: Request, limits: dict[str, tuple[int, str]], max_fields: int = 8) -> FormData:
    """The request's multipart form, its files counted (at most one file). Close it after use."""
    parser = CountedMultiPart(request.headers, request.stream(), limits, max_files=1, max_fields=max_fields)
    return await parser.parse()
