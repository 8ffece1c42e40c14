"""Every engine's last step: float samples to the one chunk format (24 kHz MP3, -16 LUFS, -1 dBTP decoded)."""

from __future__ import annotations

import logging
import math

import numpy as np

from tts_service.audio import loudness, mp3, pcm

log = logging.getLogger(__name__)

# MP3 encoding moves true peaks: LAME takes 0.45 dB off the level, but its low-pass and quantisation noise
# push single peaks back up. On the corpus (benchmarks/bench_peak.py), decoded peaks came out up to 0.64 dB
# above the PCM's for the local voice and 0.92 dB for espeak: limited to -1 dBTP, the whole file decoded
# at -0.36 and -0.08 dBTP. So the PCM is limited 1 dB under the ceiling, and the MP3 is then decoded and
# checked, because some sounds rise more (one of espeak's 33 corpus chunks by 1.1 dB; a burst of digital
# noise by 1.5 to 3.5 dB): a chunk still over is limited again, lower by what it overshot and a margin.
# The check, a decode and a true-peak measurement, costs about 2.5 ms per second of audio.
HEADROOM_DB = 1.0
# What encoding adds to a peak changes with the level (by up to 1.5 dB on such noise), so a retry leaves
# half a dB more than the overshoot: 120 noise bursts all met the ceiling within 4 encodings, most in 2.
MARGIN_DB = 0.5
ATTEMPTS = 4


def encode(samples: np.ndarray, rate: int, *, volume: int = 0) -> bytes:
    """Resample to 24 kHz, normalise loudness and encode as MP3 that decodes under -1 dBTP (blocking).

    ``volume`` is the prosody volume in percent: normalising would otherwise undo it, so it moves the
    loudness target instead (+50 % is about +3.5 LU, -50 % about -6 LU).
    """
    samples = pcm.resample(samples, rate, mp3.SAMPLE_RATE)
    target = loudness.TARGET_LUFS + 20 * math.log10((100 + volume) / 100)
    # Aim the PCM's loudness above the target by what the encoder takes off, so that the MP3 meets it.
    target -= mp3.ENCODER_GAIN_DB
    ceiling = loudness.CEILING_DBTP - HEADROOM_DB
    for _ in range(ATTEMPTS):
        level = loudness.normalize(samples, mp3.SAMPLE_RATE, target_lufs=target, ceiling_dbtp=ceiling)
        audio = mp3.encode(pcm.to_int16(level), mp3.SAMPLE_RATE)
        over = decoded_peak(audio) - loudness.CEILING_DBTP
        if over <= 0:
            return audio
        ceiling -= over + MARGIN_DB
    log.warning(
        "a chunk still peaks %.2f dB over %s dBTP after %d encodings", over, loudness.CEILING_DBTP, ATTEMPTS
    )
    return audio


def decoded_peak(audio: bytes) -> float:
    """True peak in dBTP of the MP3 as players decode it."""
    return loudness.true_peak_dbtp(pcm.from_int16(mp3.decode(audio)), mp3.SAMPLE_RATE)
