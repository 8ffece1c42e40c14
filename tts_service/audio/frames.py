"""MPEG audio Layer III frame parsing: find the audio frames in an MP3, without decoding them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

# Layer III bitrates (kbps) by index; index 0 is "free format" and 15 is forbidden, both refused here.
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0),
}
_RATES = {1.0: (44100, 48000, 32000), 2.0: (22050, 24000, 16000), 2.5: (11025, 12000, 8000)}
_VERSIONS = {0b00: 2.5, 0b10: 2.0, 0b11: 1.0}  # 0b01 is reserved
_LAYER_III = 0b01
_TAG_MARKERS = (b"Xing", b"Info")


@dataclass(slots=True)
class Frame:
    """One MPEG audio frame: where it sits in the file and what it holds."""

    offset: int
    length: int
    samples: int
    sample_rate: int
    bitrate_kbps: int
    version: float  # 1.0, 2.0 or 2.5
    layer: int
    channels: int


@dataclass(frozen=True, slots=True)
class _Header:
    length: int
    samples: int
    sample_rate: int
    bitrate_kbps: int
    version: float
    channels: int
    crc: int  # bytes of CRC after the header: 0 or 2
    side_info: int  # bytes of side info
    side_info_end: int  # offset of the first byte after the side info, from the frame start


@functools.lru_cache(maxsize=512)
def _header(word: int) -> _Header | None:
    """Decode a 32-bit frame header, or None if it is not a valid Layer III header."""
    # Cached: a CBR stream repeats one or two distinct headers thousands of times.
    if word & 0xFFE00000 != 0xFFE00000 or (word >> 17) & 0b11 != _LAYER_III:
        return None
    version = _VERSIONS.get((word >> 19) & 0b11)
    bitrate_index, rate_index = (word >> 12) & 0xF, (word >> 10) & 0b11
    if version is None or rate_index == 3:
        return None
    kbps = _BITRATES[1 if version == 1.0 else 2][bitrate_index]
    if kbps == 0:
        return None
    rate = _RATES[version][rate_index]
    padding = (word >> 9) & 1
    mono = (word >> 6) & 0b11 == 0b11
    crc = 2 if (word >> 16) & 1 == 0 else 0
    if version == 1.0:
        length, samples, side = 144_000 * kbps // rate + padding, 1152, 17 if mono else 32
    else:
        length, samples, side = 72_000 * kbps // rate + padding, 576, 9 if mono else 17
    return _Header(length, samples, rate, kbps, version, 1 if mono else 2, crc, side, 4 + crc + side)


def id3v2_end(data: bytes) -> int:
    """Offset just past any ID3v2 tags at the start of ``data`` (0 if there are none)."""
    pos = 0
    while data[pos : pos + 3] == b"ID3" and len(data) >= pos + 10:
        size = 0
        for byte in data[pos + 6 : pos + 10]:  # synchsafe: 7 bits per byte
            size = (size << 7) | (byte & 0x7F)
        footer = 10 if data[pos + 5] & 0x10 else 0
        pos += 10 + size + footer
    return pos


def _is_tag_frame(data: bytes, pos: int, head: _Header) -> bool:
    """True for a Xing/Info or VBRI header frame: a marker after zeroed side info, so no audio."""
    at = pos + head.side_info_end
    # Xing/Info follows the side info; Fraunhofer's VBRI sits 32 bytes after the header whatever the mode.
    if data[at : at + 4] not in _TAG_MARKERS and data[pos + 36 : pos + 40] != b"VBRI":
        return False
    return not any(data[at - head.side_info : at])


def _maybe_tag(data: bytes, pos: int, head: _Header) -> bool:
    """Cheap pre-check: a tag frame's side info starts with zero bytes, most audio frames' does not."""
    return data[pos + 4 + head.crc] == 0 and _is_tag_frame(data, pos, head)


def frames(data: bytes) -> list[Frame]:
    """The audio frames of an MP3, after any ID3v2 tag, stopping at ID3v1, garbage or a cut-off frame.

    Xing/Info/VBRI (LAME) header frames are left out: they carry no audio, decoders play one met mid-stream
    as a frame of silence, and their gapless numbers describe a whole file, never a piece inside another.
    """
    found: list[Frame] = []
    pos, end = id3v2_end(data), len(data)
    while pos + 4 <= end:
        head = _header(int.from_bytes(data[pos : pos + 4], "big"))
        if head is None or pos + head.length > end:
            break  # "TAG" (ID3v1), APE tags, junk, or a truncated last frame
        if not _maybe_tag(data, pos, head):
            found.append(
                Frame(
                    pos,
                    head.length,
                    head.samples,
                    head.sample_rate,
                    head.bitrate_kbps,
                    head.version,
                    3,
                    head.channels,
                )
            )
        pos += head.length
    if not found:
        raise ValueError("no MPEG Layer III audio frames found")
    return found


def main_data_begin(data: bytes, frame: Frame) -> int:
    """How many bytes of this frame's audio lie in earlier frames (the bit reservoir); 0 = self-contained."""
    start = frame.offset + 4 + (2 if data[frame.offset + 1] & 1 == 0 else 0)
    if frame.version == 1.0:
        return (data[start] << 1) | (data[start + 1] >> 7)  # 9 bits
    return data[start]  # 8 bits


def audio_bytes(data: bytes, found: list[Frame] | None = None) -> bytes:
    """Only the audio frames of ``data``, concatenated (``found``: its frames, if already parsed)."""
    found = frames(data) if found is None else found
    runs: list[tuple[int, int]] = []
    for frame in found:
        if runs and runs[-1][1] == frame.offset:
            runs[-1] = (runs[-1][0], frame.offset + frame.length)
        else:
            runs.append((frame.offset, frame.offset + frame.length))
    if runs == [(0, len(data))]:
        return data  # the common case, a bare encoder output: no copy
    view = memoryview(data)
    return b"".join(view[start:stop] for start, stop in runs)


def duration(found: list[Frame]) -> float:
    """Seconds of audio in ``found``, as a decoder that honours no gapless tag plays it."""
    if not found:
        return 0.0
    return sum(frame.samples for frame in found) / found[0].sample_rate
