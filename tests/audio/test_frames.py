"""MP3 frame parsing, checked against real lameenc output and miniaudio's decoder."""

from __future__ import annotations

import math
import random

import miniaudio
import numpy as np
import pytest
from helpers import lame_encode

from tts_service.audio.frames import audio_bytes, duration, frames, id3v2_end, main_data_begin

RATE = 24000


def encode(seconds: float, rate: int = RATE, bitrate: int = 48, channels: int = 1) -> bytes:
    """A 440 Hz tone encoded the way the service encodes chunks (lameenc, CBR, quality 2)."""
    n = round(seconds * rate)
    return lame_encode(0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / rate), rate, bitrate, channels)


def tag_frame(first: bytes, marker: bytes, *, delay: int, padding: int, count: int) -> bytes:
    """A LAME-style Xing/Info (or VBRI) header frame for a 24 kHz mono 48 kbps stream."""
    frame = bytearray(144)
    frame[:4] = first[:4]
    at = 36 if marker == b"VBRI" else 4 + 9  # after the MPEG-2 mono side info, which stays zeroed
    frame[at : at + 4] = marker
    frame[at + 4 : at + 8] = (3).to_bytes(4, "big")  # flags: frame count and byte count present
    frame[at + 8 : at + 12] = count.to_bytes(4, "big")
    frame[at + 12 : at + 16] = (144 * (count + 1)).to_bytes(4, "big")
    frame[at + 16 : at + 25] = b"LAME3.100"
    frame[at + 37 : at + 40] = ((delay << 12) | padding).to_bytes(3, "big")
    return bytes(frame)


def id3_header(size: int, flags: int = 0) -> bytes:
    synchsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00" + bytes([flags]) + synchsafe


@pytest.mark.parametrize(
    ("rate", "bitrate", "channels", "version", "per_frame"),
    [
        (24000, 48, 1, 2.0, 576),  # the service's format
        (22050, 32, 1, 2.0, 576),  # MPEG-2 with padded frames
        (44100, 64, 1, 1.0, 1152),  # MPEG-1 with padded frames
        (44100, 128, 2, 1.0, 1152),
        (8000, 16, 1, 2.5, 576),
    ],
)
def test_frames_tile_lameenc_output_and_agree_with_the_decoder(
    rate: int, bitrate: int, channels: int, version: float, per_frame: int
) -> None:
    data = encode(1.3, rate, bitrate, channels)
    found = frames(data)
    assert sum(frame.length for frame in found) == len(data)  # no tag frame, no trailing bytes
    assert [frame.offset for frame in found[1:]] == [f.offset + f.length for f in found[:-1]]
    assert {(f.sample_rate, f.channels, f.version, f.layer, f.samples, f.bitrate_kbps) for f in found} == {
        (rate, channels, version, 3, per_frame, bitrate)
    }
    decoded = miniaudio.mp3_get_info(data)
    assert sum(frame.samples for frame in found) == decoded.num_frames
    assert duration(found) == decoded.num_frames / decoded.sample_rate


def test_service_format_is_144_byte_frames_of_24_ms() -> None:
    data = encode(0.7)
    found = frames(data)
    assert {frame.length for frame in found} == {144}
    # LAME writes no Xing/LAME tag here; it emits ceil(n / 576) + 2 frames for n samples.
    assert b"Xing" not in data and b"Info" not in data
    assert len(found) == math.ceil(0.7 * RATE / 576) + 2
    assert duration(found) == pytest.approx(len(found) * 0.024, abs=1e-12)


def test_skips_id3v2_tags_with_synchsafe_sizes() -> None:
    data = encode(0.5)
    tag = id3_header(300) + bytes(300)  # 300 > 127: a plain big-endian reading would be wrong
    footed = id3_header(20, flags=0x10) + bytes(20) + b"3DI" + bytes(7)
    for prefix in (tag, footed, tag + footed):
        found = frames(prefix + data)
        assert id3v2_end(prefix + data) == len(prefix)
        assert found[0].offset == len(prefix)
        assert len(found) == len(frames(data))
        assert audio_bytes(prefix + data) == data


def test_stops_at_id3v1_and_at_a_truncated_frame() -> None:
    data = encode(0.5)
    count = len(frames(data))
    v1 = b"TAG" + "标题".encode().ljust(125, b"\x00")
    assert len(frames(data + v1)) == count
    assert audio_bytes(data + v1) == data
    assert len(frames(data[:-10])) == count - 1
    assert audio_bytes(data[:-10]) == data[:-144]


@pytest.mark.parametrize(
    "garbage",
    [b"", b"ID3\x04\x00\x00\x00\x00\x00\x00", b"not an mp3 at all" * 50, b"\xff\xfb" + bytes(500)],
    ids=["empty", "tag only", "text", "bad header"],
)
def test_rejects_data_without_frames(garbage: bytes) -> None:
    with pytest.raises(ValueError, match="no MPEG Layer III audio frames"):
        frames(garbage)


def test_rejects_random_bytes() -> None:
    noise = b"\x00" + random.Random(7).randbytes(4000)
    with pytest.raises(ValueError):
        frames(noise)


def test_rejects_other_layers() -> None:
    layer_two = bytes([0xFF, 0xFD, 0x94, 0x00]) + bytes(400)  # MPEG-1 Layer II, 128 kbps
    with pytest.raises(ValueError):
        frames(layer_two)


@pytest.mark.parametrize("marker", [b"Xing", b"Info", b"VBRI"])
def test_leaves_out_a_xing_info_or_vbri_frame(marker: bytes) -> None:
    data = encode(1.0)
    count = len(frames(data))
    tagged = tag_frame(data, marker, delay=576, padding=count * 576 - 576 - RATE, count=count) + data
    found = frames(tagged)
    assert len(found) == count
    assert found[0].offset == 144
    assert audio_bytes(tagged) == data
    assert duration(found) == duration(frames(data))


def test_crafted_lame_tag_is_real_to_the_decoder() -> None:
    """miniaudio trims delay and padding from a file-initial LAME tag: the fixture means what it says."""
    data = encode(1.0)
    count = len(frames(data))
    padding = count * 576 - 576 - RATE
    tagged = tag_frame(data, b"Info", delay=576, padding=padding, count=count) + data
    assert miniaudio.mp3_get_info(data).num_frames == count * 576
    assert miniaudio.mp3_get_info(tagged).num_frames == RATE  # exactly the input, as LAME's tag intends


def test_main_data_begin() -> None:
    data = encode(2.0)
    found = frames(data)
    assert main_data_begin(data, found[0]) == 0  # a stream never starts in debt
    # Later frames borrow from earlier ones (LAME's bit reservoir), so a stream cannot be cut anywhere.
    assert any(main_data_begin(data, frame) for frame in found[1:])


def test_duration_of_nothing() -> None:
    assert duration([]) == 0.0
