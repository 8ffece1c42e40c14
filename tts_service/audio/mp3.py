"""The chunk MP3 format: encode PCM (lameenc, no ffmpeg needed), decode it and measure it (miniaudio)."""

from __future__ import annotations

import array
import sys

import lameenc
import miniaudio

from tts_service.errors import SynthesisError

# Every chunk, whatever its engine, is MPEG-2 Layer III, mono, 24 kHz, CBR 48 kbps: exactly what edge-tts
# delivers, so that chunks from any engine can be joined frame by frame without re-encoding.
SAMPLE_RATE = 24_000
BITRATE = 48
# Where a LAME-encoded stream's audio starts once decoded: LAME's 576-sample encoder delay plus the
# decoder's 529 (measured with lameenc and miniaudio).
CODEC_DELAY = 1105
LEAD_SECONDS = CODEC_DELAY / SAMPLE_RATE  # so a chunk file's first input sample plays this far in
# LAME scales its input by 0.95: the decoded MP3 plays 0.45 dB quieter than the PCM that went in
# (measured with lameenc on sines and speech; miniaudio and mpg123 decode the same level).
ENCODER_GAIN_DB = -0.45


def encode(pcm: bytes, sample_rate: int = SAMPLE_RATE, *, bitrate: int = BITRATE) -> bytes:
    """Encode mono signed 16-bit little-endian PCM as CBR MP3."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(2)
    return bytes(encoder.encode(pcm) + encoder.flush())


def decode(mp3: bytes) -> bytes:
    """Mono signed 16-bit little-endian PCM at ``SAMPLE_RATE``, whatever the stream's own format."""
    try:
        sound = miniaudio.decode(
            mp3, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=SAMPLE_RATE
        )
    except miniaudio.DecodeError as exc:
        raise SynthesisError("engine returned audio that does not decode as MP3") from exc
    samples: array.array[int] = sound.samples
    if len(samples) == 0:
        raise SynthesisError("engine returned empty audio")
    if sys.byteorder == "big":  # miniaudio hands back native-endian samples
        samples.byteswap()
    return samples.tobytes()


def duration(mp3: bytes) -> float:
    """Duration in seconds, by decoding the frames (exact, unlike header estimates)."""
    try:
        info = miniaudio.mp3_get_info(mp3)
    except miniaudio.DecodeError as exc:
        raise SynthesisError("engine returned audio that does not decode as MP3") from exc
    frames: int = info.num_frames
    rate: int = info.sample_rate
    if frames == 0:
        raise SynthesisError("engine returned empty audio")
    return frames / rate
