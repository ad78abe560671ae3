"""Files: the name a file is kept and offered under, the type it is served as, and the counting
that refuses an upload past its limit while it arrives (chat_web/domain/files.py,
chat_web/services/media.py, chat_web/api/uploads.py)."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from chat_web.api.uploads import CountedMultiPart
from chat_web.domain import BadInput, TooLarge
from chat_web.domain.files import (
    NAME_MAX,
    OCTET_STREAM,
    ascii_name,
    attachment_disposition,
    clean_file_name,
    served_type,
    size_label,
)
from chat_web.services.media import ImageUpload, counted


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\Desktop\\plan.docx", "plan.docx"),
        ('say "hi".txt', "say hi.txt"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ("evil\u202etxt.exe", "eviltxt.exe"),  # no right-to-left override to disguise the extension
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("  spaced   out  .md ", "spaced out .md"),
        (".htaccess", "htaccess"),
        ("trailing dots...", "trailing dots"),
        ("Größe – Ünïcode ✓.txt", "Größe – Ünïcode ✓.txt"),
        ("", "file"),
        ("../", "file"),
        (None, "file"),
        ("\x00\x01", "file"),
    ],
)
def test_a_name_keeps_its_last_part_without_control_characters_quotes_or_separators(raw, kept):
    assert clean_file_name(raw) == kept


def test_a_long_name_is_shortened_keeping_its_extension():
    name = clean_file_name("a" * 300 + ".tar.gz")
    assert len(name) == NAME_MAX and name.endswith("a.gz")
    assert len(clean_file_name("b" * 300)) == NAME_MAX


def test_the_disposition_offers_the_name_encoded_and_an_ascii_fallback():
    header = attachment_disposition("Größe; name=evil.txt")
    assert header == (
        "attachment; filename=\"Groe_ name_evil.txt\"; filename*=UTF-8''Gr%C3%B6%C3%9Fe%3B%20name%3Devil.txt"
    )
    assert all(32 <= ord(c) < 127 for c in header)  # a header of plain ASCII, nothing to split it
    assert ascii_name("Ünïcode.txt") == "Unicode.txt" and ascii_name("✓✓") == "file"


@pytest.mark.parametrize(
    ("declared", "name", "served"),
    [
        ("application/pdf", "a.pdf", "application/pdf"),
        ("text/plain; charset=utf-8", "notes.txt", "text/plain"),
        ("audio/mpeg", "song.mp3", "audio/mpeg"),
        ("text/html", "page.html", OCTET_STREAM),
        ("text/plain", "page.html", OCTET_STREAM),  # the extension alone is enough
        ("image/svg+xml", "logo.svg", OCTET_STREAM),
        ("application/xml", "feed.xml", OCTET_STREAM),
        ("application/atom+xml", "feed", OCTET_STREAM),
        ("application/javascript", "a.js", OCTET_STREAM),
        ("text/javascript", "a.txt", OCTET_STREAM),
        ("application/x-msdownload", "setup.exe", OCTET_STREAM),
        ("application/octet-stream", "run.sh", OCTET_STREAM),
        ("application/pdf", "invoice.pdf.exe", OCTET_STREAM),
        ("", "a.pdf", OCTET_STREAM),
        ("nonsense", "a.pdf", OCTET_STREAM),
        ("text/plain\r\nX-Evil: 1", "a.txt", OCTET_STREAM),
        (None, "a.txt", OCTET_STREAM),
    ],
)
def test_a_type_that_could_run_or_render_is_served_as_octet_stream(declared, name, served):
    assert served_type(declared, name) == served


def test_sizes_read_as_people_read_them():
    assert [size_label(n) for n in (812, 14_000, 3_565_158)] == ["812 B", "14 KB", "3.4 MB"]


async def test_counting_refuses_at_the_first_chunk_past_the_limit():
    upload = ImageUpload.of(b"x" * 2500)
    seen = []

    async def read(n):
        chunk = await upload.read(n)
        seen.append(len(chunk))
        return chunk

    read_counted = counted(read, 2000, "Files up to 2000 bytes")
    assert await read_counted(1000) == b"x" * 1000
    assert await read_counted(1000) == b"x" * 1000
    with pytest.raises(TooLarge, match="Files up to 2000 bytes"):
        await read_counted(1000)
    assert seen == [1000, 1000, 500]  # nothing read after the refusal


def _form(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> tuple[Headers, bytes]:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return Headers({"content-type": f"multipart/form-data; boundary={boundary}"}), body


async def _chunks(body: bytes, size: int, taken: list[int]):
    for at in range(0, len(body), size):
        taken.append(at)
        yield body[at : at + size]


LIMITS = {"image": (1000, "Images up to 1000 bytes"), "file": (5000, "Files up to 5000 bytes")}


async def test_the_form_counts_each_file_against_its_own_fields_limit_while_it_arrives():
    headers, body = _form([("chatId", None, b"C"), ("file", "big.bin", b"y" * 20_000)])
    taken: list[int] = []
    with pytest.raises(TooLarge, match="Files up to 5000 bytes"):
        await CountedMultiPart(headers, _chunks(body, 1000, taken), LIMITS, max_files=1).parse()
    assert len(taken) <= 7  # stopped within a chunk of the limit, not after 20 KB

    headers, body = _form([("image", "a.jpg", b"z" * 1500)])
    with pytest.raises(TooLarge, match="Images up to 1000 bytes"):
        await CountedMultiPart(headers, _chunks(body, 500, []), LIMITS, max_files=1).parse()

    headers, body = _form([("chatId", None, b"C"), ("file", "ok.bin", b"y" * 5000)])
    form = await CountedMultiPart(headers, _chunks(body, 1000, []), LIMITS, max_files=1).parse()
    assert await form["file"].read() == b"y" * 5000 and form["chatId"] == "C"
    await form.close()


async def test_a_file_in_a_field_that_takes_none_is_refused():
    headers, body = _form([("avatar", "a.png", b"x")])
    with pytest.raises(BadInput, match="Unknown file field: 'avatar'"):
        await CountedMultiPart(headers, _chunks(body, 100, []), LIMITS, max_files=1).parse()
