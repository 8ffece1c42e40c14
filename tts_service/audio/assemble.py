"""Join cached chunk MP3s into one article MP3, frames copied as-is, with silence between and ID3 tags on top.

Timing is counted in samples from the frames, so it is exact for any decoder that plays every frame (the
output carries no Xing/LAME tag, so decoders have nothing to trim). The chunks come from LAME (lameenc),
which writes no gapless tag; its sound starts ``LAME_DELAY`` samples into the first frame and ends at least
``LAME_MIN_PADDING`` samples before the last frame ends. Spans use those two constants, so they mark the
sound, not the frame boundaries, and the pauses are shortened by the same amount to sound as asked.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import lameenc

from tts_service.audio.frames import Frame, audio_bytes, frames, main_data_begin

# LAME's encoder delay (576) plus the MDCT decoder delay (529): where the input's first sample is decoded.
LAME_DELAY = 1105
# LAME flushes until delay + input + at least 47 samples fill whole granules: ceil(n / 576) + 2 granules.
LAME_MIN_PADDING = 47


@dataclass(frozen=True, slots=True)
class Piece:
    """One chunk's MP3 in reading order, with the index of the paragraph it belongs to."""

    audio: bytes
    paragraph: int


@dataclass(frozen=True, slots=True)
class Span:
    """Where one piece sounds in the assembled file, in seconds from its start."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Tags:
    """ID3 text for the whole-article file; ``date`` is ISO 8601 (e.g. 2024-05-01)."""

    title: str
    artist: str
    date: str
    album: str | None = None


@dataclass(frozen=True, slots=True)
class _Format:
    version: float
    sample_rate: int
    channels: int
    bitrate_kbps: int

    @classmethod
    def of(cls, frame: Frame) -> _Format:
        return cls(frame.version, frame.sample_rate, frame.channels, frame.bitrate_kbps)

    def __str__(self) -> str:
        version = f"{self.version:g}"
        return (
            f"MPEG-{version} Layer III, {self.sample_rate} Hz, {self.channels} ch, {self.bitrate_kbps} kbps"
        )


@dataclass(frozen=True, slots=True)
class _Silence:
    audio: bytes
    samples: int


def silence_mp3(seconds: float, sample_rate: int = 24000, bitrate_kbps: int = 48, channels: int = 1) -> bytes:
    """Encoded digital silence of ``seconds`` rounded to whole frames (24 ms each at 24 kHz), cached."""
    per_frame = 1152 if sample_rate >= 32000 else 576
    return _silence(round(seconds * sample_rate / per_frame), sample_rate, bitrate_kbps, channels).audio


@functools.cache
def _silence(count: int, sample_rate: int, bitrate_kbps: int, channels: int) -> _Silence:
    """The first ``count`` frames of a LAME encoding of zeros: every one of them decodes to zeros."""
    if count <= 0:
        return _Silence(b"", 0)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)  # else LAME may resample at low bitrates
    encoder.set_channels(channels)
    encoder.set_quality(2)
    per_frame = 1152 if sample_rate >= 32000 else 576
    zeros = bytes(2 * channels * count * per_frame)
    data = bytes(encoder.encode(zeros) + encoder.flush())
    # LAME emits count + 2 frames; cutting the tail is safe, as frames only borrow bytes from earlier ones.
    found = frames(data)[:count]
    return _Silence(audio_bytes(data, found), count * found[0].samples)


def _parse(name: str, data: bytes, want: _Format | None) -> list[Frame]:
    """The audio frames of ``data``, after checking each matches ``want`` (the first piece's format)."""
    try:
        found = frames(data)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    want = want or _Format.of(found[0])
    # One rate, channel count and bitrate throughout keeps the file CBR: browsers seek and time it from
    # its byte size alone, and decoders never meet a format change mid-stream.
    key = (want.version, want.sample_rate, want.channels, want.bitrate_kbps)
    if {(f.version, f.sample_rate, f.channels, f.bitrate_kbps) for f in found} != {key}:
        number, got = next((i, _Format.of(f)) for i, f in enumerate(found) if _Format.of(f) != want)
        raise ValueError(f"{name}, frame {number}: {got} differs from the first piece's {want}")
    if main_data_begin(data, found[0]):
        raise ValueError(f"{name}: its first frame borrows bytes from earlier data (a cut MP3?)")
    return found


def _pause(seconds: float, fmt: _Format, per_frame: int) -> _Silence:
    """Silence that, with the codec's own lead-in and tail, leaves ``seconds`` between two pieces' sound."""
    if seconds < 0:
        raise ValueError(f"pause must not be negative, got {seconds}")
    inherent = LAME_DELAY + LAME_MIN_PADDING  # 48 ms at 24 kHz: the shortest pause possible
    count = max(0, round((seconds * fmt.sample_rate - inherent) / per_frame))
    silence = _silence(count, fmt.sample_rate, fmt.bitrate_kbps, fmt.channels)
    if silence.audio:
        _parse("silence", silence.audio, fmt)  # LAME must give back exactly the pieces' format
    return silence


def assemble(
    pieces: Sequence[Piece],
    *,
    sentence_pause: float = 0.25,
    paragraph_pause: float = 0.6,
    tags: Tags | None = None,
) -> tuple[bytes, list[Span], float]:
    """One MP3 of all pieces with pauses between them: (file, each piece's span, total seconds)."""
    if not pieces:
        raise ValueError("nothing to assemble")
    parsed = [_parse("piece 0", pieces[0].audio, None)]
    fmt = _Format.of(parsed[0][0])
    parsed += [_parse(f"piece {i}", piece.audio, fmt) for i, piece in enumerate(pieces[1:], start=1)]
    rate, per_frame = fmt.sample_rate, parsed[0][0].samples
    sentence, paragraph = _pause(sentence_pause, fmt, per_frame), _pause(paragraph_pause, fmt, per_frame)
    parts: list[bytes] = []
    spans: list[Span] = []
    at = 0  # samples so far
    for i, (piece, found) in enumerate(zip(pieces, parsed, strict=True)):
        if i:
            gap = sentence if piece.paragraph == pieces[i - 1].paragraph else paragraph
            parts.append(gap.audio)
            at += gap.samples
        parts.append(audio_bytes(piece.audio, found))
        length = len(found) * per_frame
        start = at + min(LAME_DELAY, length)
        spans.append(Span(start / rate, max(start, at + length - LAME_MIN_PADDING) / rate))
        at += length
    total = at / rate
    if tags is not None:
        parts.insert(0, id3v2(tags, length_ms=round(total * 1000)))
    return b"".join(parts), spans, total


def id3v2(tags: Tags, *, length_ms: int | None = None) -> bytes:
    """An ID3v2.4 tag of UTF-8 text frames (title, artist, recording date, album, length)."""
    fields = [("TIT2", tags.title), ("TPE1", tags.artist), ("TDRC", tags.date), ("TALB", tags.album)]
    if length_ms is not None:
        fields.append(("TLEN", str(length_ms)))
    body = b"".join(_text_frame(name, text) for name, text in fields if text)
    # No unsynchronisation needed: UTF-8 never contains 0xFF and the sizes are synchsafe, so no byte
    # pair in the tag can look like an MPEG sync word.
    return b"ID3\x04\x00\x00" + _synchsafe(len(body)) + body


def _text_frame(name: str, text: str) -> bytes:
    payload = b"\x03" + text.encode("utf-8")  # encoding byte 3 = UTF-8
    return name.encode("ascii") + _synchsafe(len(payload)) + b"\x00\x00" + payload


def _synchsafe(size: int) -> bytes:
    """Size as four 7-bit bytes, as ID3v2.4 writes tag and frame sizes."""
    if not 0 <= size < 1 << 28:
        raise ValueError(f"ID3 size out of range: {size}")
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def pause_audio(seconds: float, like: bytes) -> bytes:
    """Pre-encoded silence in the format of ``like``, sized exactly as ``assemble`` sizes its pauses."""
    first = _parse("piece", like, None)[0]
    return _pause(seconds, _Format.of(first), first.samples).audio
