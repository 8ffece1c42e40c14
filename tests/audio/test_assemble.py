"""Whole-article MP3 assembly: timing checked against miniaudio's decoding of the result."""

from __future__ import annotations

from itertools import pairwise

import miniaudio
import numpy as np
import pytest
from helpers import lame_encode
from test_frames import tag_frame

from tts_service.audio.assemble import (
    LAME_DELAY,
    LAME_MIN_PADDING,
    Piece,
    Span,
    Tags,
    assemble,
    id3v2,
    silence_mp3,
)
from tts_service.audio.frames import audio_bytes, duration, frames, main_data_begin

RATE = 24000
WINDOW = 120  # 5 ms at 24 kHz
LENGTHS = (0.7, 1.3, 2.05, 0.9)
PARAGRAPHS = (0, 0, 1, 1)


def tone(seconds: float, freq: float = 440.0, rate: int = RATE) -> np.ndarray:
    """A tone with 5 ms fades at both ends, as the pipeline's PCM clean-up leaves a chunk."""
    n = round(seconds * rate)
    wave = 0.5 * np.sin(2 * np.pi * freq * np.arange(n) / rate)
    ramp = np.linspace(0.0, 1.0, rate // 200)
    wave[: ramp.size] *= ramp
    wave[-ramp.size :] *= ramp[::-1]
    return wave


def encode(samples: np.ndarray, rate: int = RATE, bitrate: int = 48, channels: int = 1) -> bytes:
    """Encode like ``mp3.encode(pcm, 24000)``: lameenc, CBR, quality 2."""
    return lame_encode(samples, rate, bitrate, channels)


def decode(data: bytes) -> np.ndarray:
    """Mono float32 samples at 24 kHz, as miniaudio decodes them."""
    sound = miniaudio.decode(
        data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=RATE
    )
    return np.frombuffer(sound.samples, dtype="<i2").astype(np.float32) / 32768


def sounding(samples: np.ndarray, threshold: float = 0.05) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch whose RMS over 5 ms windows exceeds ``threshold``."""
    count = samples.size // WINDOW
    rms = np.sqrt(np.mean(np.square(samples[: count * WINDOW].reshape(count, WINDOW)), axis=1))
    edges = np.diff((rms > threshold).astype(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(a * WINDOW / RATE, b * WINDOW / RATE) for a, b in zip(starts, ends, strict=True)]


@pytest.fixture(scope="module")
def chunks() -> list[bytes]:
    return [encode(tone(seconds)) for seconds in LENGTHS]


@pytest.fixture(scope="module")
def article(chunks: list[bytes]) -> tuple[bytes, list[Span], float]:
    pieces = [Piece(audio, paragraph) for audio, paragraph in zip(chunks, PARAGRAPHS, strict=True)]
    return assemble(pieces, tags=Tags("测试文章", "语音播报", "2024-05-01", "政务公开"))


def test_total_is_exactly_what_the_decoder_plays(article: tuple[bytes, list[Span], float]) -> None:
    data, _, total = article
    assert decode(data).size == round(total * RATE)
    assert miniaudio.mp3_get_info(data).num_frames / RATE == total
    assert duration(frames(data)) == total


def test_spans_start_where_the_sound_starts(article: tuple[bytes, list[Span], float]) -> None:
    data, spans, _ = article
    heard = sounding(decode(data))
    assert len(heard) == len(spans)
    for (start, end), span, seconds in zip(heard, spans, LENGTHS, strict=True):
        assert abs(start - span.start) <= 0.010  # measured: within one 5 ms window
        # The end is LAME's latest possible end: up to one granule (24 ms) after the real one.
        assert -0.006 <= span.end - end <= 0.030
        assert end - start == pytest.approx(seconds, abs=0.010)


def test_pauses_sound_as_long_as_asked(article: tuple[bytes, list[Span], float]) -> None:
    data, spans, total = article
    heard = sounding(decode(data))
    wanted = [0.25, 0.6, 0.25]  # sentence, paragraph, sentence
    gaps = [nxt[0] - prev[1] for prev, nxt in pairwise(heard)]
    assert gaps == pytest.approx(wanted, abs=0.030)
    span_gaps = [nxt.start - prev.end for prev, nxt in pairwise(spans)]
    assert span_gaps == pytest.approx(wanted, abs=0.012)  # whole frames: within half a frame
    # No pause before the first piece or after the last: only the codec's own lead-in and tail.
    assert spans[0].start == LAME_DELAY / RATE
    assert total - spans[-1].end == pytest.approx(LAME_MIN_PADDING / RATE, abs=1e-9)


def test_every_frame_is_copied_byte_for_byte_in_order(
    chunks: list[bytes], article: tuple[bytes, list[Span], float]
) -> None:
    data, spans, _ = article
    out = [data[f.offset : f.offset + f.length] for f in frames(data)]
    for chunk, span in zip(chunks, spans, strict=True):
        first = round(span.start * RATE - LAME_DELAY) // 576
        mine = [chunk[f.offset : f.offset + f.length] for f in frames(chunk)]
        assert out[first : first + len(mine)] == mine


def test_tags_round_trip(article: tuple[bytes, list[Span], float]) -> None:
    data, _, total = article
    assert read_id3v24(data) == {
        "TIT2": "测试文章",
        "TPE1": "语音播报",
        "TDRC": "2024-05-01",
        "TALB": "政务公开",
        "TLEN": str(round(total * 1000)),
    }
    assert read_id3v24(id3v2(Tags("题", "人", "2024"))) == {"TIT2": "题", "TPE1": "人", "TDRC": "2024"}


def read_id3v24(data: bytes) -> dict[str, str]:
    """A second, independent reader: the text frames of a leading ID3v2.4 tag."""
    assert data[:5] == b"ID3\x04\x00" and data[5] == 0
    assert all(b < 0x80 for b in data[6:10])
    size = sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    body, texts = data[10 : 10 + size], {}
    while body and body[0]:
        name, length = body[:4].decode("ascii"), sum(b << (7 * (3 - i)) for i, b in enumerate(body[4:8]))
        assert body[8:10] == b"\x00\x00" and body[10] == 3  # no flags; UTF-8
        texts[name] = body[11 : 10 + length].decode("utf-8")
        body = body[10 + length :]
    return texts


def test_no_tags_means_bare_frames(chunks: list[bytes]) -> None:
    data, _, _ = assemble([Piece(chunks[0], 0)])
    assert data == chunks[0]


@pytest.mark.parametrize(
    ("odd", "problem"),
    [
        ({"rate": 22050}, "22050 Hz"),
        ({"bitrate": 64}, "64 kbps"),
        ({"channels": 2}, "2 ch"),
        ({"rate": 44100, "bitrate": 48}, "MPEG-1"),
    ],
)
def test_format_mismatch_names_the_piece(chunks: list[bytes], odd: dict[str, int], problem: str) -> None:
    rate = odd.get("rate", RATE)
    stranger = encode(tone(1.0, rate=rate), rate, odd.get("bitrate", 48), odd.get("channels", 1))
    pieces = [Piece(chunks[0], 0), Piece(chunks[1], 0), Piece(stranger, 1)]
    with pytest.raises(ValueError, match=f"piece 2, frame 0: .*{problem}"):
        assemble(pieces)


def test_garbage_piece_is_named(chunks: list[bytes]) -> None:
    with pytest.raises(ValueError, match="piece 1: no MPEG"):
        assemble([Piece(chunks[0], 0), Piece(b"<html>503</html>", 0)])


def test_cut_piece_is_refused(chunks: list[bytes]) -> None:
    found = frames(chunks[2])
    debtor = next(f for f in found if main_data_begin(chunks[2], f))
    with pytest.raises(ValueError, match="piece 1: .*borrows"):
        assemble([Piece(chunks[0], 0), Piece(chunks[2][debtor.offset :], 0)])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="nothing"):
        assemble([])
    with pytest.raises(ValueError, match="negative"):
        assemble([Piece(encode(tone(0.2)), 0)], sentence_pause=-0.1)


def test_tagged_pieces_lose_their_tags(chunks: list[bytes]) -> None:
    """ID3 and Xing/LAME frames inside pieces are dropped; a mid-file Info frame would play as silence."""
    count = len(frames(chunks[0]))
    info = tag_frame(chunks[0], b"Info", delay=576, padding=count * 576 - 576 - 16800, count=count)
    tagged = id3v2(Tags("旧", "旧", "2020")) + info + chunks[0]
    data, spans, total = assemble([Piece(tagged, 0), Piece(tagged, 1)])
    assert data.count(b"Info") == 0 and data.count(b"ID3") == 0
    assert decode(data).size == round(total * RATE)
    assert audio_bytes(tagged) == chunks[0]


def test_shortest_pause_is_the_codec_lead_in(chunks: list[bytes]) -> None:
    _, spans, _ = assemble([Piece(chunks[0], 0), Piece(chunks[1], 0)], sentence_pause=0)
    assert spans[1].start - spans[0].end == pytest.approx((LAME_DELAY + LAME_MIN_PADDING) / RATE)


def test_lame_delay_and_padding() -> None:
    """The two constants the spans rest on, measured on lameenc: where input starts, how much pads the end."""
    noise = np.random.default_rng(3).uniform(-0.3, 0.3, RATE)
    decoded = decode(encode(noise))
    half = RATE // 2
    lag = max(range(900, 1300), key=lambda lag: float(np.dot(decoded[lag : lag + half], noise[:half])))
    assert lag == LAME_DELAY == 1105
    for n in range(1, 3000, 37):
        total = len(frames(encode(np.zeros(n)))) * 576
        assert LAME_MIN_PADDING <= total - LAME_DELAY - n < LAME_MIN_PADDING + 576


def test_silence_is_whole_frames_of_zeros() -> None:
    quarter = silence_mp3(0.25)
    assert silence_mp3(0.25) is quarter  # cached
    found = frames(quarter)
    assert len(found) == 10 and duration(found) == pytest.approx(0.24)
    assert not decode(quarter).any()
    assert silence_mp3(0.0) == b""
    assert duration(frames(silence_mp3(0.6))) == pytest.approx(0.6)


@pytest.fixture(scope="module")
def ten_minutes() -> tuple[bytes, list[Span], float]:
    """150 pieces of 4 s in 15 paragraphs: one encoded tone, its bytes reused."""
    chunk = encode(tone(4.0))
    return assemble([Piece(chunk, i // 10) for i in range(150)])


def test_ten_minute_article_does_not_drift(ten_minutes: tuple[bytes, list[Span], float]) -> None:
    data, spans, total = ten_minutes
    samples = decode(data)
    assert samples.size == round(total * RATE)
    heard = sounding(samples)
    assert len(heard) == 150
    assert max(abs(start - span.start) for (start, _), span in zip(heard, spans, strict=True)) <= 0.010
    last = np.flatnonzero(np.abs(samples) > 0.01)[-1] / RATE
    assert abs(spans[-1].end - total) <= 0.050
    assert abs(spans[-1].end - last) <= 0.050
    assert 600 < total < 660
