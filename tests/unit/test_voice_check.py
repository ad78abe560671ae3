"""The voice check (chat_web/services/voice.py): only Opus or Vorbis audio in WebM passes, with
its length from the recording itself."""

from __future__ import annotations

import pytest

from chat_web.domain import BadInput, TooLarge
from chat_web.domain.files import NOT_AUDIO
from chat_web.services.voice import EMPTY_RECORDING, TOO_LONG, NotWebmAudio, check_voice, read_webm
from tests.support import webm


def test_a_recording_of_chromium_passes_with_its_length():
    info = check_voice(webm.RECORDED)
    assert info.codec == "A_OPUS"
    assert 1000 <= info.duration_ms <= 1600  # recorded for 1.5 s; the first frames come late


@pytest.mark.parametrize("streamed", [True, False])
def test_sized_and_streamed_files_read_the_same(streamed):
    assert check_voice(webm.webm(streamed=streamed)).duration_ms == 2000  # the last block's time


def test_vorbis_passes_and_a_written_duration_wins():
    info = check_voice(webm.webm(tracks=((1, 2, "A_VORBIS"),), duration_ms=2500.0))
    assert (info.codec, info.duration_ms) == ("A_VORBIS", 2500)


REFUSED = {
    "a video track beside the audio": webm.webm(tracks=((1, 2, "A_OPUS"), (2, 1, "V_VP8"))),
    "only a video track": webm.webm(tracks=((1, 1, "V_VP9"),)),
    "another audio codec": webm.webm(tracks=((1, 2, "A_AAC"),)),
    "Matroska, not WebM": webm.webm(doc_type="matroska"),
    "a block of an undeclared track": webm.webm(blocks=((1, 0), (2, 500))),
    "no tracks": webm.webm(tracks=()),
    "a text file renamed .webm": b"Hello, this is not audio at all.\n" * 20,
    "cut in the middle of a block": webm.RECORDED[:-7],
    "an HTML page": b"<!doctype html><script>alert(1)</script>",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_is_not_webm_audio_is_refused(case):
    with pytest.raises(BadInput) as refused:
        check_voice(REFUSED[case])
    assert refused.value.message == NOT_AUDIO


def test_the_reason_is_kept_for_the_log():
    with pytest.raises(NotWebmAudio, match="not audio"):
        read_webm(REFUSED["a video track beside the audio"])


@pytest.mark.parametrize("data", [b"", webm.webm(blocks=()), webm.webm(blocks=((1, 0),))])
def test_an_empty_recording_is_refused(data):
    with pytest.raises(BadInput, match=EMPTY_RECORDING):
        check_voice(data)


def test_a_written_duration_that_lies_does_not_get_a_long_recording_through():
    liar = webm.webm(blocks=((1, 0), (1, 30_000)), duration_ms=1000.0)
    info = check_voice(liar)
    assert (info.duration_ms, info.longest_ms) == (1000, 30_000)
    with pytest.raises(TooLarge, match=TOO_LONG):  # blocks over 5 minutes, in clusters of 30 s
        check_voice(_clusters(12, 30_000, duration_ms=1000.0))  # the last at 5:30
    for nonsense in (float("inf"), float("nan")):
        with pytest.raises(BadInput):
            check_voice(webm.webm(duration_ms=nonsense))


def _clusters(count: int, each_ms: int, duration_ms: float) -> bytes:
    """A sized WebM whose blocks run over `count` clusters of `each_ms`."""
    one = webm.webm(streamed=False, duration_ms=duration_ms, blocks=((1, 0),))
    more = b"".join(
        webm.element(0x1F43B675, webm.uint(0xE7, i * each_ms) + webm.block(1, 0)) for i in range(1, count)
    )
    # The Segment's size covers the first cluster only: grow it to take the others in.
    head, body = one[: one.index(b"\x18\x53\x80\x67")], one[one.index(b"\x18\x53\x80\x67") + 12 :]
    return head + webm.element(0x18538067, body + more)


def test_five_minutes_pass_and_longer_is_refused():
    assert check_voice(webm.webm(blocks=((1, 0), (1, 30_000)))).duration_ms == 30_000
    assert check_voice(webm.webm(duration_ms=300_000.0)).duration_ms == 300_000
    with pytest.raises(TooLarge, match=TOO_LONG):
        check_voice(webm.webm(duration_ms=310_000.0))
