"""Small WebM (EBML) files built in code, to try the voice check on what a browser never sends:
a video track, another codec, another DocType, a cut file. `RECORDED` is a real one: 1.4 s of
Chromium's fake microphone, recorded once with MediaRecorder (audio/webm;codecs=opus, in one
piece: it has a Duration and Cues); `webm(streamed=True)` is shaped like a recording taken in
pieces (Segment and Cluster of unknown size, no Duration)."""

from __future__ import annotations

import struct
from pathlib import Path

RECORDED = (Path(__file__).parent.parent / "fixtures" / "voice-opus.webm").read_bytes()
UNKNOWN = b"\x01\xff\xff\xff\xff\xff\xff\xff"  # an 8-byte size with every value bit set


def size(n: int) -> bytes:
    return (n | (1 << 56)).to_bytes(8, "big")  # always the 8-byte form: simple and valid


def element(element_id: int, payload: bytes) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + size(len(payload)) + payload


def uint(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def track(number: int, kind: int, codec: str) -> bytes:
    return element(0xAE, uint(0xD7, number) + uint(0x83, kind) + element(0x86, codec.encode()))


def block(track_number: int, time: int) -> bytes:
    return element(0xA3, bytes([0x80 | track_number]) + struct.pack(">h", time) + b"\x80" + b"\xfc\xff\xfe")


def webm(
    tracks=((1, 2, "A_OPUS"),),
    blocks=((1, 0), (1, 20), (1, 2000)),
    doc_type: str = "webm",
    streamed: bool = True,
    duration_ms: float | None = None,
) -> bytes:
    """A WebM file. `streamed`: Segment and Cluster of unknown size, as MediaRecorder writes them."""
    header = element(0x1A45DFA3, uint(0x4286, 1) + element(0x4282, doc_type.encode()))
    info = uint(0x2AD7B1, 1_000_000)
    if duration_ms is not None:
        info += element(0x4489, struct.pack(">d", duration_ms))
    body = element(0x1549A966, info) + element(0x1654AE6B, b"".join(track(*t) for t in tracks))
    cluster = uint(0xE7, 0) + b"".join(block(*b) for b in blocks)
    if streamed:
        body += b"\x1f\x43\xb6\x75" + UNKNOWN + cluster
        return header + b"\x18\x53\x80\x67" + UNKNOWN + body
    body += element(0x1F43B675, cluster)
    return header + element(0x18538067, body)
