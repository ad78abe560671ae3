"""Voice messages: is this upload really audio in WebM, and how long is it?

A small reader of EBML (the container format under WebM) of our own, enough to answer:
the EBML header names the DocType `webm`; the Tracks element has an audio track (TrackType
2) whose CodecID is A_OPUS or A_VORBIS, and no other kind of track (a video, subtitles); every
block belongs to a declared track. The length is the Info element's Duration when the file
has one (Chromium writes it, with Cues, when a recording made in one piece ends), else the
last block's timestamp, to within one frame: a recording streamed in pieces (MediaRecorder
with a timeslice) has no Duration, and a Segment and Clusters of unknown size.

So the reader walks the file as a flat sequence of elements, entering the containers it
knows instead of skipping them by their size, which may be unknown. Pure and synchronous:
no driver, no decoder.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from chat_web.domain import BadInput, TooLarge
from chat_web.domain.files import MAX_VOICE_MS, NOT_AUDIO

TOO_LONG = f"Voice messages up to {MAX_VOICE_MS // 60_000} minutes."
EMPTY_RECORDING = "That recording is empty."
_SLACK_MS = 1000  # a recorder stopped at 5:00 may hand over a last frame or two past it

EBML = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
CODEC_ID = 0x86
CLUSTER = 0x1F43B675
TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
# Containers walked into rather than skipped (the rest are leaves or skipped whole).
_ENTERED = {EBML, SEGMENT, INFO, TRACKS, TRACK_ENTRY, CLUSTER, BLOCK_GROUP}
AUDIO_TRACK = 2
AUDIO_CODECS = {"A_OPUS", "A_VORBIS"}


class NotWebmAudio(Exception):
    """Why a file is not accepted as a voice message (for the log; the user reads NOT_AUDIO)."""


@dataclass(slots=True)
class _Track:
    number: int = 0
    kind: int = 0
    codec: str = ""


@dataclass(slots=True)
class _Reading:
    doc_type: str = ""
    scale_ns: int = 1_000_000
    duration: float | None = None
    tracks: list[_Track] = field(default_factory=list)
    cluster_time: int | None = None
    last_block: int | None = None
    blocks: int = 0
    block_tracks: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    codec: str  # A_OPUS or A_VORBIS
    duration_ms: int  # as shown: the written Duration, else the last block's time
    longest_ms: int = 0  # the larger of the two, which the 5-minute limit applies to


def _vint(data: bytes, at: int, keep_marker: bool) -> tuple[int, int, bool]:
    """An EBML variable-length integer at `at`: (value, its length, all value bits set)."""
    if at >= len(data):
        raise NotWebmAudio("truncated")
    first = data[at]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or at + length > len(data):
        raise NotWebmAudio("bad variable-length integer")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[at + 1 : at + length]:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _uint(payload: bytes) -> int:
    return int.from_bytes(payload, "big") if payload else 0


def _float(payload: bytes) -> float:
    if len(payload) == 4:
        return struct.unpack(">f", payload)[0]
    if len(payload) == 8:
        return struct.unpack(">d", payload)[0]
    raise NotWebmAudio("bad float")


def read_webm(data: bytes) -> VoiceInfo:
    """The audio in a WebM file, or NotWebmAudio saying why not."""
    if not data.startswith(b"\x1a\x45\xdf\xa3"):
        raise NotWebmAudio("no EBML header")
    seen = _Reading()
    at = 0
    while at < len(data):
        element, id_length, _ = _vint(data, at, keep_marker=True)
        size, size_length, unknown = _vint(data, at + id_length, keep_marker=False)
        start = at + id_length + size_length
        if element in _ENTERED:
            if element == TRACK_ENTRY:
                seen.tracks.append(_Track())
            elif element == CLUSTER:
                seen.cluster_time = None
            at = start
            continue
        if unknown or start + size > len(data):
            raise NotWebmAudio(f"element {element:#x} runs past the end")
        _leaf(seen, element, data[start : start + size])
        at = start + size
    return _verdict(seen)


def _leaf(seen: _Reading, element: int, payload: bytes) -> None:
    if element == DOC_TYPE:
        seen.doc_type = payload.rstrip(b"\0").decode("ascii", "replace")
    elif element == TIMECODE_SCALE:
        seen.scale_ns = _uint(payload) or 1_000_000
    elif element == DURATION:
        seen.duration = _float(payload)
    elif element in (TRACK_NUMBER, TRACK_TYPE, CODEC_ID):
        if not seen.tracks:
            raise NotWebmAudio("track field outside a track")
        track = seen.tracks[-1]
        if element == TRACK_NUMBER:
            track.number = _uint(payload)
        elif element == TRACK_TYPE:
            track.kind = _uint(payload)
        else:
            track.codec = payload.rstrip(b"\0").decode("ascii", "replace")
    elif element == TIMECODE:
        seen.cluster_time = _uint(payload)
    elif element in (SIMPLE_BLOCK, BLOCK):
        number, length, _ = _vint(payload, 0, keep_marker=False)
        if seen.cluster_time is None or len(payload) < length + 2:
            raise NotWebmAudio("block outside a timed cluster")
        relative = struct.unpack(">h", payload[length : length + 2])[0]
        time = seen.cluster_time + relative
        seen.last_block = time if seen.last_block is None else max(seen.last_block, time)
        seen.blocks += 1
        seen.block_tracks.add(number)


def _verdict(seen: _Reading) -> VoiceInfo:
    if seen.doc_type != "webm":
        raise NotWebmAudio(f"DocType {seen.doc_type!r}")
    if not seen.tracks:
        raise NotWebmAudio("no tracks")
    if any(t.kind != AUDIO_TRACK for t in seen.tracks):
        raise NotWebmAudio("a track that is not audio")
    codecs = {t.codec for t in seen.tracks}
    if not codecs <= AUDIO_CODECS:
        raise NotWebmAudio(f"codec {sorted(codecs - AUDIO_CODECS)}")
    if not seen.block_tracks <= {t.number for t in seen.tracks}:
        raise NotWebmAudio("a block of an undeclared track")
    if seen.duration is not None and not math.isfinite(seen.duration):
        raise NotWebmAudio("a Duration that is not a number")
    blocks_ms = round((seen.last_block or 0) * seen.scale_ns / 1_000_000)
    written_ms = round(seen.duration * seen.scale_ns / 1_000_000) if seen.duration else 0
    # The written Duration is shown; the blocks still count: a file that says 1 s over ten
    # minutes of blocks is as long as its blocks.
    return VoiceInfo(seen.tracks[0].codec, max(0, written_ms or blocks_ms), max(0, written_ms, blocks_ms))


def check_voice(data: bytes) -> VoiceInfo:
    """A voice message's audio, checked: BadInput when it is not Opus or Vorbis in WebM (or holds
    no sound at all), TooLarge past five minutes."""
    if not data:
        raise BadInput(EMPTY_RECORDING)
    try:
        info = read_webm(data)
    except NotWebmAudio:
        raise BadInput(NOT_AUDIO) from None
    except (IndexError, ValueError, struct.error):
        raise BadInput(NOT_AUDIO) from None
    if info.duration_ms <= 0:
        raise BadInput(EMPTY_RECORDING)
    if max(info.duration_ms, info.longest_ms) > MAX_VOICE_MS + _SLACK_MS:
        raise TooLarge(TOO_LONG)
    return VoiceInfo(info.codec, min(info.duration_ms, MAX_VOICE_MS), info.longest_ms)
