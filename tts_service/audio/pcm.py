"""Float PCM clean-up before encoding: trim silent edges, fade, pad, convert to 16-bit."""

from __future__ import annotations

import numpy as np

FADE_SECONDS = 0.005


def trim(samples: np.ndarray, rate: int, threshold_db: float = -45.0, keep: float = 0.02) -> np.ndarray:
    """Cut leading and trailing silence (quieter than ``threshold_db`` below the peak), keeping ``keep`` s."""
    if samples.size == 0:
        return samples
    level = np.abs(samples)
    loud = np.flatnonzero(level > level.max() * 10 ** (threshold_db / 20))
    if loud.size == 0:
        return samples[:0]
    margin = int(keep * rate)
    return samples[max(0, loud[0] - margin) : loud[-1] + 1 + margin]


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
