"""Float PCM: convert from and to 16-bit, resample, trim silent edges, fade, pad."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

FADE_SECONDS = 0.005


def trim(samples: np.ndarray, rate: int, threshold_db: float = -45.0, keep: float = 0.02) -> np.ndarray:
    """Cut leading and trailing silence (quieter than ``threshold_db`` below the peak), keeping ``keep`` s."""
    lo, hi = trim_bounds(samples, rate, threshold_db, keep)
    return samples[lo:hi]


def trim_bounds(
    samples: np.ndarray, rate: int, threshold_db: float = -45.0, keep: float = 0.02
) -> tuple[int, int]:
    """Where `trim` cuts: [start, end) of the samples it keeps (an empty range for silence)."""
    if samples.size == 0:
        return 0, 0
    level = np.abs(samples)
    loud = np.flatnonzero(level > level.max() * 10 ** (threshold_db / 20))
    if loud.size == 0:
        return 0, 0
    margin = int(keep * rate)
    return max(0, int(loud[0]) - margin), min(samples.size, int(loud[-1]) + 1 + margin)


def fade(samples: np.ndarray, rate: int) -> np.ndarray:
    """Short linear fades at both ends, so joined pieces never click."""
    n = min(int(FADE_SECONDS * rate), samples.size // 2)
    if n == 0:
        return samples
    out = samples.astype(np.float32, copy=True)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), dtype=np.float32)


def to_int16(samples: np.ndarray, gain: float = 1.0) -> bytes:
    """Little-endian signed 16-bit PCM, clipped."""
    return (np.clip(samples * gain, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def from_int16(data: bytes) -> np.ndarray:
    """Float32 samples in [-1, 1] from little-endian signed 16-bit PCM."""
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited polyphase resampling (22,050 -> 24,000 Hz is up 160, down 147)."""
    if from_rate == to_rate:
        return samples
    common = math.gcd(from_rate, to_rate)
    return signal.resample_poly(samples, to_rate // common, from_rate // common).astype(np.float32)
