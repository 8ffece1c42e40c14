"""Encode PCM to MP3 (lameenc, no ffmpeg needed) and measure MP3 duration by decoding (miniaudio)."""

from __future__ import annotations

import lameenc
import miniaudio

from tts_service.errors import SynthesisError


def encode(pcm: bytes, sample_rate: int, *, bitrate: int = 48) -> bytes:
    """Encode mono signed 16-bit little-endian PCM as CBR MP3."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(2)
    return bytes(encoder.encode(pcm) + encoder.flush())


def duration(mp3: bytes) -> float:
    """Duration in seconds, by decoding the frames (exact, unlike header estimates)."""
    try:
        info = miniaudio.mp3_get_info(mp3)
    except miniaudio.DecodeError as exc:
        raise SynthesisError("engine returned audio that does not decode as MP3") from exc
    if info.num_frames == 0:
        raise SynthesisError("engine returned empty audio")
    return info.num_frames / info.sample_rate
