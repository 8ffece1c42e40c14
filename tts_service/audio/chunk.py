"""Every engine's last step: float samples to the one chunk format (24 kHz MP3, -16 LUFS)."""

from __future__ import annotations

import math

import numpy as np

from tts_service.audio import loudness, mp3, pcm


def encode(samples: np.ndarray, rate: int, *, volume: int = 0) -> bytes:
    """Resample to 24 kHz, normalise loudness and encode as MP3 (blocking: run it on a thread).

    ``volume`` is the prosody volume in percent: normalising would otherwise undo it, so it moves the
    loudness target instead (+50 % is about +3.5 LU, -50 % about -6 LU).
    """
    samples = pcm.resample(samples, rate, mp3.SAMPLE_RATE)
    target = loudness.TARGET_LUFS + 20 * math.log10((100 + volume) / 100)
    # Aim the PCM's loudness above the target by what the encoder takes off, so that the MP3 meets it.
    # The peak ceiling stays put: that 0.45 dB then absorbs the encoder's overshoot on peaks.
    level = loudness.normalize(samples, mp3.SAMPLE_RATE, target_lufs=target - mp3.ENCODER_GAIN_DB)
    return mp3.encode(pcm.to_int16(level), mp3.SAMPLE_RATE)
